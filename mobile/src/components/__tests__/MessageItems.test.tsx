import { render, screen } from '@testing-library/react-native';

import type { Message } from '@/api/types';
import { answerView } from '@/state/stream/view';
import { shareUrl } from '../HistoryPanel';
import { AssistantMessage } from '../MessageItems';

jest.mock('../Markdown', () => {
  const { Text } = jest.requireActual<typeof import('react-native')>('react-native');
  const Markdown = ({ text }: { text: string }) => <Text>{text}</Text>;
  return { __esModule: true, Markdown, default: Markdown };
});

const answer = (extra: Partial<Message>): Message => ({
  id: 'a1',
  parent_id: 'u1',
  role: 'assistant',
  content: '',
  reasoning_content: '',
  status: 'done',
  created_at: '2026-12-01T10:00:00Z',
  ...extra,
});

describe('AssistantMessage', () => {
  it('says so when the model gave an empty answer', () => {
    const message = answer({ content: '' });
    render(<AssistantMessage message={message} view={answerView(message, undefined)} readOnly />);
    expect(screen.getByText('The model gave an empty answer. Try Regenerate.')).toBeTruthy();
  });

  it('marks an answer the chat model gave instead of DeepThink', async () => {
    const message = answer({ content: 'Blue light scatters.' });
    const view = answerView(message, undefined, { from: 'whale-r1', to: 'whale-chat', reason: 'reasoning_turns_per_day_exceeded' });
    render(<AssistantMessage message={message} view={view} readOnly />);
    await screen.findByText('Blue light scatters.');
    expect(screen.getByText('Answered by the chat model: the DeepThink limit for today is reached.')).toBeTruthy();
    expect(screen.queryByText('The model gave an empty answer. Try Regenerate.')).toBeNull();
  });

  it('shows "Thought for N seconds" from saved timings (the shared page)', async () => {
    const message = answer({
      content: 'Answer',
      reasoning_content: 'Reasoning',
      first_token_at: '2026-12-01T10:00:00Z',
      finished_at: '2026-12-01T10:00:05Z',
      usage: { prompt_tokens: 10, completion_tokens: 100, reasoning_tokens: 80 },
    });
    render(<AssistantMessage message={message} view={answerView(message, undefined)} readOnly />);
    await screen.findByText('Answer');
    expect(screen.getByRole('button', { name: 'Thought for 4 seconds' })).toBeTruthy();
  });
});

describe('shareUrl', () => {
  it('copies the server’s absolute URL as it is', () => {
    expect(shareUrl({ id: 's', token: 'tok', url: 'https://chat.example.com/share/tok' }, 'http://127.0.0.1:8000')).toBe('https://chat.example.com/share/tok');
  });

  it('makes a relative URL absolute', () => {
    expect(shareUrl({ id: 's', token: 'tok', url: '/share/tok' }, 'http://127.0.0.1:8000/')).toBe('http://127.0.0.1:8000/share/tok');
    expect(shareUrl({ id: 's', token: 'tok' }, 'http://127.0.0.1:8000')).toBe('http://127.0.0.1:8000/share/tok');
  });
});
