// A batch of tokens (the worker writes one every 50 ms) re-renders the answer it belongs to, and
// nothing else: not the other answers, not the questions, not the screen around them.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, fireEvent, render, screen } from '@testing-library/react-native';
import type { ReactNode } from 'react';

import type { Conversation, Message } from '@/api/types';
import type { TransportHandlers } from '@/state/stream/driver';
import { attachTurn, detachAllTurns } from '@/state/stream/turnStreams';
import { usePreferences } from '@/state/preferences';
import { ChatScreen } from '../ChatScreen';

const mockRenders: string[] = [];

jest.mock('expo-router', () => ({ useRouter: () => ({ push: jest.fn(), replace: jest.fn() }) }));
jest.mock('@/components/HistoryPanel', () => ({ HistoryPanel: () => null }));
jest.mock('@/components/Markdown', () => {
  const { Text } = jest.requireActual<typeof import('react-native')>('react-native');
  const Markdown = ({ text }: { text: string }) => <Text>{text}</Text>;
  return { __esModule: true, Markdown, default: Markdown };
});
jest.mock('@/components/MessageItems', () => {
  const actual = jest.requireActual<typeof import('@/components/MessageItems')>('@/components/MessageItems');
  return {
    ...actual,
    AssistantMessage: (props: Parameters<typeof actual.AssistantMessage>[0]) => {
      mockRenders.push(props.message.id);
      return <actual.AssistantMessage {...props} />;
    },
    UserMessage: (props: Parameters<typeof actual.UserMessage>[0]) => {
      mockRenders.push(props.message.id);
      return <actual.UserMessage {...props} />;
    },
  };
});
jest.mock('@/components/Composer', () => {
  const actual = jest.requireActual<typeof import('@/components/Composer')>('@/components/Composer');
  return {
    Composer: (props: Parameters<typeof actual.Composer>[0]) => {
      mockRenders.push('composer');
      return <actual.Composer {...props} />;
    },
  };
});
jest.mock('@/api/endpoints', () => ({
  ...jest.requireActual('@/api/endpoints'),
  conversationsApi: { get: jest.fn() },
  modelsApi: { list: jest.fn(async () => []) },
  meApi: { usage: jest.fn(async () => undefined) },
}));

const message = (id: string, role: Message['role'], extra: Partial<Message> = {}): Message => ({
  id,
  parent_id: null,
  role,
  content: role === 'user' ? `Question ${id}` : `Answer ${id}`,
  reasoning_content: '',
  status: 'done',
  created_at: '2026-12-01T10:00:00Z',
  ...extra,
});

const conversation: Conversation = {
  id: 'c1',
  title: 'Sky',
  pinned: false,
  archived: false,
  created_at: '2026-12-01T10:00:00Z',
  updated_at: '2026-12-01T10:00:00Z',
  current_message_id: 'a2',
  is_generating: true,
  messages: [message('u1', 'user'), message('a1', 'assistant'), message('u2', 'user'), message('a2', 'assistant', { content: '', status: 'streaming' })],
};

/** A transport the test feeds by hand, standing in for the turn's WebSocket. */
function handTransport() {
  const connections: TransportHandlers[] = [];
  return {
    connections,
    transport: { name: 'hand', open: (_params: unknown, handlers: TransportHandlers) => (connections.push(handlers), { close() {} }) },
  };
}

const count = (id: string) => mockRenders.filter((rendered) => rendered === id).length;

afterEach(() => detachAllTurns());

it('re-renders only the streaming answer on each batch of tokens', async () => {
  const { conversationsApi } = jest.requireMock<{ conversationsApi: { get: jest.Mock } }>('@/api/endpoints');
  conversationsApi.get.mockResolvedValue(conversation);
  const hand = handTransport();
  attachTurn('a2', [hand.transport]);
  await act(async () => {});
  const socket = hand.connections[0]!;
  act(() => socket.onOpen());

  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
  render(<ChatScreen conversationId="c1" />, { wrapper });
  await screen.findByText('Answer a1');
  // Let the first renders (queries settling, fonts, layout) finish before counting.
  await act(async () => {});
  mockRenders.length = 0;

  const words = ['Blue', ' light', ' scatters', ' most.'];
  for (const [i, word] of words.entries()) {
    // One flush of the worker: a reasoning and a content delta arrive together.
    act(() => {
      socket.onEvent({ id: `${2 * i + 1}`, type: 'reasoning', data: { delta: '.' } });
      socket.onEvent({ id: `${2 * i + 2}`, type: 'content', data: { delta: word } });
    });
  }

  expect(screen.getByText('Blue light scatters most.')).toBeTruthy();
  expect(count('a2')).toBe(words.length);
  expect(mockRenders.filter((rendered) => rendered !== 'a2')).toEqual([]);
  queryClient.clear();
});

describe('Search in the composer', () => {
  const settled: Conversation = { ...conversation, is_generating: false, current_message_id: 'a1', messages: [message('u1', 'user'), message('a1', 'assistant')] };

  async function renderChat(capabilities: object | undefined) {
    const endpoints = jest.requireMock<{ conversationsApi: { get: jest.Mock }; modelsApi: { list: jest.Mock }; turnsApi: { send: (...args: unknown[]) => Promise<unknown> } }>('@/api/endpoints');
    endpoints.conversationsApi.get.mockResolvedValue(settled);
    endpoints.modelsApi.list.mockResolvedValue({ object: 'list', data: [], ...(capabilities ? { capabilities } : {}) });
    const send = jest.spyOn(endpoints.turnsApi, 'send').mockRejectedValue(new Error('refused'));
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
    render(<ChatScreen conversationId="c1" />, { wrapper });
    await screen.findByText('Answer a1');
    await act(async () => {});
    return { send, queryClient };
  }

  afterEach(() => {
    usePreferences.setState({ search: false });
    jest.restoreAllMocks();
  });

  it('shows the toggle when the server can search, and sends search: true when it is on', async () => {
    usePreferences.setState({ search: false, deepthink: false });
    const { send, queryClient } = await renderChat({ search: true, search_provider: 'searxng' });
    fireEvent.press(screen.getByRole('switch', { name: 'Search' }));
    expect(usePreferences.getState().search).toBe(true);
    fireEvent.changeText(screen.getByLabelText('Message Whale'), 'News about whales');
    await act(async () => fireEvent.press(screen.getByRole('button', { name: 'Send message' })));
    expect(send).toHaveBeenCalledWith('c1', { content: 'News about whales', deepthink: false, search: true });
    queryClient.clear();
  });

  it('hides it and never sends search to a server that cannot search, whatever was remembered', async () => {
    usePreferences.setState({ search: true, deepthink: false });
    const { send, queryClient } = await renderChat(undefined);
    expect(screen.queryByRole('switch', { name: 'Search' })).toBeNull();
    fireEvent.changeText(screen.getByLabelText('Message Whale'), 'Hello');
    await act(async () => fireEvent.press(screen.getByRole('button', { name: 'Send message' })));
    expect(send).toHaveBeenCalledWith('c1', { content: 'Hello', deepthink: false });
    queryClient.clear();
  });
});
