import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, renderHook } from '@testing-library/react-native';
import type { ReactNode } from 'react';

import { conversationsApi, turnsApi } from '@/api/endpoints';
import { ApiError } from '@/api/errors';
import { queryKeys } from '@/api/queryKeys';
import type { Conversation, Message, StartResponse } from '@/api/types';
import { useChat } from '../chat';
import { useFallbacks } from '../fallbacks';

jest.mock('@/api/endpoints', () => ({
  conversationsApi: { get: jest.fn(), update: jest.fn() },
  turnsApi: { start: jest.fn(), send: jest.fn(), regenerate: jest.fn(), cancel: jest.fn(), feedback: jest.fn() },
}));
jest.mock('../stream/turnStreams', () => ({
  attachTurn: jest.fn(),
  markCancelRequested: jest.fn(),
  useTurnStreams: (select: (s: { streams: object }) => unknown) => select({ streams: {} }),
}));

const message = (id: string, role: Message['role'], extra: Partial<Message> = {}): Message => ({
  id,
  parent_id: null,
  role,
  content: role === 'user' ? 'Hi' : '',
  reasoning_content: '',
  status: role === 'user' ? 'done' : 'queued',
  created_at: '2026-12-01T10:00:00Z',
  ...extra,
});

const conversation: Conversation = {
  id: 'c1',
  title: '',
  pinned: false,
  archived: false,
  created_at: '2026-12-01T10:00:00Z',
  updated_at: '2026-12-01T10:00:00Z',
  current_message_id: null,
  is_generating: true,
};

const clients: QueryClient[] = [];
afterEach(() => clients.splice(0).forEach((client) => client.clear()));

function setup(conversationId?: string) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity } } });
  clients.push(queryClient);
  const onCreated = jest.fn();
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
  const hook = renderHook(() => useChat(conversationId, onCreated), { wrapper });
  return { ...hook, queryClient, onCreated };
}

beforeEach(() => jest.clearAllMocks());

describe('useChat', () => {
  it('creates a new chat together with its first accepted message, through POST /messages', async () => {
    const started: StartResponse = {
      conversation,
      user_message: message('u1', 'user'),
      assistant_message: message('a1', 'assistant'),
      fallback: { from: 'whale-r1', to: 'whale-chat', reason: 'reasoning_turns_per_day_exceeded' },
      stream: { events_url: '', websocket_url: '' },
    };
    (turnsApi.start as jest.Mock).mockResolvedValue(started);
    const { result, onCreated, queryClient } = setup();
    let accepted = false;
    await act(async () => {
      accepted = await result.current.send('Hi', true);
    });
    expect(accepted).toBe(true);
    expect(turnsApi.start).toHaveBeenCalledWith({ content: 'Hi', deepthink: true });
    expect(onCreated).toHaveBeenCalledWith('c1');
    expect(queryClient.getQueryData<Conversation>(queryKeys.conversations.detail('c1'))?.messages?.map((m) => m.id)).toEqual(['u1', 'a1']);
    expect(useFallbacks.getState().byTurn.a1).toMatchObject({ to: 'whale-chat' });
  });

  it('leaves nothing behind when the first message is refused, and offers no useless retry', async () => {
    (turnsApi.start as jest.Mock).mockRejectedValue(
      new ApiError({ status: 400, code: 'message_too_long', message: 'Too long', limit: { name: 'max_message_chars', value: 8000 } }),
    );
    const { result, onCreated } = setup();
    let accepted = true;
    await act(async () => {
      accepted = await result.current.send('x'.repeat(8001), false);
    });
    expect(accepted).toBe(false);
    expect(onCreated).not.toHaveBeenCalled();
    expect(turnsApi.send).not.toHaveBeenCalled();
    expect(result.current.chatError?.retry).toBeUndefined();
  });

  it('offers Retry after a busy server, which can succeed', async () => {
    (conversationsApi.get as jest.Mock).mockResolvedValue({ ...conversation, messages: [] });
    (turnsApi.send as jest.Mock).mockRejectedValue(new ApiError({ status: 503, code: 'server_busy', message: 'Busy', retryAfter: 3 }));
    const { result } = setup('c1');
    await act(async () => {
      await result.current.send('Hi', false);
    });
    expect(turnsApi.send).toHaveBeenCalledWith('c1', { content: 'Hi', deepthink: false });
    expect(result.current.chatError?.retry).toEqual(expect.any(Function));
    expect(result.current.chatError?.retryAt).toBeGreaterThan(Date.now());
  });

  it('edits any question as a sibling of it (same parent)', async () => {
    const first = message('u1', 'user');
    const second = message('u2', 'user', { parent_id: 'a1' });
    (conversationsApi.get as jest.Mock).mockResolvedValue({
      ...conversation,
      messages: [first, message('a1', 'assistant', { status: 'done' }), second, message('a2', 'assistant', { status: 'done' })],
    });
    (turnsApi.send as jest.Mock).mockResolvedValue({
      user_message: message('u3', 'user'),
      assistant_message: message('a3', 'assistant'),
      stream: { events_url: '', websocket_url: '' },
    });
    const { result, queryClient } = setup('c1');
    await act(async () => {
      await queryClient.fetchQuery({ queryKey: queryKeys.conversations.detail('c1'), queryFn: () => conversationsApi.get('c1') });
    });
    await act(async () => {
      await result.current.editQuestion(first, 'Hello', false);
    });
    expect(turnsApi.send).toHaveBeenCalledWith('c1', { content: 'Hello', deepthink: false, parent_id: null });
    expect(queryClient.getQueryData<Conversation>(queryKeys.conversations.detail('c1'))?.messages?.map((m) => m.id)).toEqual(['u3', 'a3']);
  });
});
