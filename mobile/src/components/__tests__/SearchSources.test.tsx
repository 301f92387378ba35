// Search in an answer, from the live stream and from the saved message: "Searching the web…",
// "Read N pages" with its sources, and the notices.
import { fireEvent, render, screen } from '@testing-library/react-native';
import { Linking } from 'react-native';

import type { Message } from '@/api/types';
import { initialStreamState, streamReducer, type TurnStreamState } from '@/state/stream/machine';
import { answerView } from '@/state/stream/view';
import { usePreferences } from '@/state/preferences';
import { AssistantMessage } from '../MessageItems';
import { AnswerNotices } from '../SearchSources';

jest.mock('../Markdown', () => {
  const { Text } = jest.requireActual<typeof import('react-native')>('react-native');
  const Markdown = ({ text }: { text: string }) => <Text>{text}</Text>;
  return { __esModule: true, Markdown, default: Markdown };
});

const sources = [
  { n: 1, title: 'Rayleigh scattering', url: 'https://en.wikipedia.org/wiki/Rayleigh_scattering', site: 'Wikipedia', snippet: '…' },
  { n: 2, title: 'Sky colour', url: 'https://www.example.org/sky', snippet: '…' },
];

const answer = (extra: Partial<Message>): Message => ({
  id: 'a1',
  parent_id: 'u1',
  role: 'assistant',
  content: '',
  reasoning_content: '',
  status: 'streaming',
  created_at: '2026-12-01T10:00:00Z',
  ...extra,
});

function streamOf(...events: { type: string; data: Record<string, unknown> }[]): TurnStreamState {
  return events.reduce(
    (state, event, index) => streamReducer(state, { type: 'event', event: { id: `${index + 1}-0`, ...event }, at: 1000 }),
    initialStreamState('a1'),
  );
}

describe('Search in an answer', () => {
  afterEach(() => usePreferences.setState({ language: 'en' }));

  it('says "Searching the web…" while the research step runs, instead of the queue', () => {
    const message = answer({});
    const stream = streamOf({ type: 'search', data: { phase: 'searching', queries: ['why is the sky blue'] } });
    render(<AssistantMessage message={message} view={answerView(message, stream)} />);
    expect(screen.getByText('Searching the web…')).toBeTruthy();
    expect(screen.getByLabelText('Searching the web…')).toBeTruthy(); // the spinner has a name
    expect(screen.queryByText('Waiting in queue…')).toBeNull();
  });

  it('then says how many pages it read, and lists them numbered with their sites', () => {
    const message = answer({});
    const stream = streamOf(
      { type: 'search', data: { phase: 'searching', queries: ['q'] } },
      { type: 'search', data: { phase: 'read', queries: ['q'], sources } },
      { type: 'content', data: { delta: 'Blue light scatters.' } },
    );
    render(<AssistantMessage message={message} view={answerView(message, stream)} />);
    expect(screen.queryByText('Searching the web…')).toBeNull();
    const summary = screen.getByRole('button', { name: 'Read 2 pages' });
    expect(screen.queryByRole('link')).toBeNull();
    fireEvent.press(summary);
    expect(screen.getByRole('button', { name: 'Read 2 pages' }).props.accessibilityState).toMatchObject({ expanded: true });
    expect(screen.getByRole('link', { name: '1. Rayleigh scattering (Wikipedia)' })).toBeTruthy();
    // No site name from the server: the host stands in, and its initial stands in for a favicon.
    expect(screen.getByRole('link', { name: '2. Sky colour (example.org)' })).toBeTruthy();
    expect(screen.getByText('E')).toBeTruthy();
    const open = jest.spyOn(Linking, 'openURL').mockResolvedValue(true);
    fireEvent.press(screen.getByRole('link', { name: '1. Rayleigh scattering (Wikipedia)' }));
    expect(open).toHaveBeenCalledWith('https://en.wikipedia.org/wiki/Rayleigh_scattering');
  });

  it('shows the saved sources and notices after a reload, with no stream', () => {
    const message = answer({
      status: 'done',
      content: 'Blue light scatters[citation:1].',
      search: true,
      sources: [sources[0]!],
      notices: [{ code: 'file_truncated', file_id: 'f1', name: 'report.pdf', percent: 62, message: 'Read the first 62% of report.pdf' }],
    });
    render(<AssistantMessage message={message} view={answerView(message, undefined)} readOnly />);
    expect(screen.getByRole('button', { name: 'Read 1 page' })).toBeTruthy();
    expect(screen.getByText('Read the first 62% of report.pdf')).toBeTruthy();
  });

  it('shows a notice event live, and an older server’s answer shows no search at all', () => {
    const message = answer({});
    const stream = streamOf({ type: 'notice', data: { notice: { code: 'search_unavailable', message: 'Search was unavailable; answering from the model alone' } } });
    const { rerender } = render(<AssistantMessage message={message} view={answerView(message, stream)} />);
    expect(screen.getByText('Search was unavailable; answering from the model alone')).toBeTruthy();

    const old = answer({ status: 'done', content: 'Plain answer' });
    rerender(<AssistantMessage message={old} view={answerView(old, undefined)} readOnly />);
    expect(screen.queryByText(/Read \d+ page/)).toBeNull();
    expect(screen.queryByRole('note')).toBeNull();
  });

  it('says known notices in the user’s language, and unknown ones in the server’s words', () => {
    usePreferences.setState({ language: 'zh' });
    render(
      <AnswerNotices
        notices={[
          { code: 'search_unavailable', message: 'Search was unavailable; answering from the model alone' },
          { code: 'file_truncated', name: 'report.pdf', percent: 62, message: 'Read the first 62% of report.pdf' },
          { code: 'something_new', message: 'A newer server said this' },
        ]}
      />,
    );
    expect(screen.getByText('搜索暂不可用，仅由模型作答')).toBeTruthy();
    expect(screen.getByText('仅阅读了 report.pdf 的前 62%')).toBeTruthy();
    expect(screen.getByText('A newer server said this')).toBeTruthy();
  });
});
