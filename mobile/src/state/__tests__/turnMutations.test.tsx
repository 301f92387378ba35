// Each chat write shows its result before the server answers, and takes it back when the server refuses.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, renderHook, waitFor } from '@testing-library/react-native';
import type { ReactNode } from 'react';

import { conversationsApi, turnsApi } from '@/api/endpoints';
import { ApiError } from '@/api/errors';
import { queryKeys } from '@/api/queryKeys';
import type { Conversation, Message, TurnResponse } from '@/api/types';
import { useChat } from '../chat';
import type { TransportHandlers } from '../stream/driver';
import { detachAllTurns, useTurnStreams } from '../stream/turnStreams';
import { isOptimistic } from '../turnMutations';

jest.mock('@/api/endpoints', () => ({
  conversationsApi: { get: jest.fn(), update: jest.fn() },
  turnsApi: { start: jest.fn(), send: jest.fn(), regenerate: jest.fn(), cancel: jest.fn(), feedback: jest.fn() },
}));
// New answers would open real sockets; the stop test attaches its turn by hand instead.
jest.mock('../stream/turnStreams', () => ({
  ...jest.requireActual('../stream/turnStreams'),
  attachTurn: jest.fn(),
}));
const { attachTurn: realAttachTurn } = jest.requireActual<typeof import('../stream/turnStreams')>('../stream/turnStreams');

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

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

const conversation = (messages: Message[]): Conversation => ({
  id: 'c1',
  title: 'Sky',
  pinned: false,
  archived: false,
  created_at: '2026-12-01T10:00:00Z',
  updated_at: '2026-12-01T10:00:00Z',
  current_message_id: messages[messages.length - 1]?.id ?? null,
  is_generating: false,
  messages,
});

const turn = (user: Message, assistant: Message): TurnResponse => ({
  user_message: user,
  assistant_message: assistant,
  stream: { events_url: '', websocket_url: '' },
});

const refused = () => new ApiError({ status: 429, code: 'rate_limited', message: 'Slow down', retryAfter: 5 });

const clients: QueryClient[] = [];
beforeEach(() => jest.clearAllMocks());
afterEach(() => {
  clients.splice(0).forEach((client) => client.clear());
  detachAllTurns();
});

async function setup(conversationId: string | undefined, messages: Message[] = []) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity, staleTime: Infinity } } });
  clients.push(queryClient);
  if (conversationId) queryClient.setQueryData(queryKeys.conversations.detail(conversationId), conversation(messages));
  (conversationsApi.get as jest.Mock).mockResolvedValue(conversation(messages));
  const onCreated = jest.fn();
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
  const hook = renderHook(() => useChat(conversationId, onCreated), { wrapper });
  await act(async () => {});
  const cached = () => queryClient.getQueryData<Conversation>(queryKeys.conversations.detail('c1'));
  const ids = () => hook.result.current.messages.map((m) => (isOptimistic(m) ? `~${m.role}` : m.id));
  return { ...hook, queryClient, onCreated, cached, ids };
}

describe('send', () => {
  it('shows the question and a waiting answer at once, then the server’s turn in their place', async () => {
    const answer = deferred<TurnResponse>();
    (turnsApi.send as jest.Mock).mockReturnValue(answer.promise);
    const { result, ids } = await setup('c1', [message('u1', 'user'), message('a1', 'assistant')]);

    let sent: Promise<boolean> = Promise.resolve(false);
    act(() => {
      sent = result.current.send('Why blue?', false);
    });
    await waitFor(() => expect(ids()).toEqual(['u1', 'a1', '~user', '~assistant']));
    expect(result.current.messages[2]).toMatchObject({ content: 'Why blue?', parent_id: 'a1' });
    expect(result.current.messages[3]).toMatchObject({ status: 'queued' });
    expect(result.current.busy).toBe(true);
    expect(result.current.activeTurn).toBeUndefined(); // no Stop for an answer the server has not made

    await act(async () => {
      answer.resolve(turn(message('u2', 'user', { content: 'Why blue?' }), message('a2', 'assistant', { status: 'queued' })));
      expect(await sent).toBe(true);
    });
    await waitFor(() => expect(ids()).toEqual(['u1', 'a1', 'u2', 'a2']));
    expect(jest.requireMock('../stream/turnStreams').attachTurn).toHaveBeenCalledWith('a2');
  });

  it('takes the question back when the server refuses it, and gives the composer its text', async () => {
    const answer = deferred<TurnResponse>();
    (turnsApi.send as jest.Mock).mockReturnValue(answer.promise);
    const { result, ids } = await setup('c1', [message('u1', 'user'), message('a1', 'assistant')]);

    let sent: Promise<boolean> = Promise.resolve(true);
    act(() => {
      sent = result.current.send('Why blue?', false);
    });
    await waitFor(() => expect(ids()).toHaveLength(4));
    await act(async () => {
      answer.reject(refused());
      expect(await sent).toBe(false);
    });
    await waitFor(() => expect(ids()).toEqual(['u1', 'a1']));
    expect(result.current.chatError?.retry).toEqual(expect.any(Function));
    expect(result.current.busy).toBe(false);
  });

  it('shows a new chat’s first question while it is on its way, and nothing once refused', async () => {
    const answer = deferred<never>();
    (turnsApi.start as jest.Mock).mockReturnValue(answer.promise);
    const { result, ids, onCreated, queryClient } = await setup(undefined);

    let sent: Promise<boolean> = Promise.resolve(true);
    act(() => {
      sent = result.current.send('Hello', true);
    });
    await waitFor(() => expect(ids()).toEqual(['~user', '~assistant']));
    expect(result.current.messages[0]?.content).toBe('Hello');

    await act(async () => {
      answer.reject(new ApiError({ status: 400, code: 'message_too_long', message: 'Too long', limit: { name: 'max_message_chars', value: 4 } }));
      expect(await sent).toBe(false);
    });
    await waitFor(() => expect(ids()).toEqual([]));
    expect(onCreated).not.toHaveBeenCalled();
    const details = queryClient.getQueryCache().findAll({ queryKey: queryKeys.conversations.details() });
    expect(details.filter((query) => query.state.data !== undefined)).toEqual([]);
  });
});

describe('edit', () => {
  it('replaces the branch from the edited question at once, and puts it back when refused', async () => {
    const answer = deferred<TurnResponse>();
    (turnsApi.send as jest.Mock).mockReturnValue(answer.promise);
    const first = message('u1', 'user');
    const { result, ids } = await setup('c1', [first, message('a1', 'assistant'), message('u2', 'user', { parent_id: 'a1' }), message('a2', 'assistant')]);

    let edited: Promise<boolean> = Promise.resolve(true);
    act(() => {
      edited = result.current.editQuestion(first, 'Hello again', false);
    });
    await waitFor(() => expect(ids()).toEqual(['~user', '~assistant']));
    expect(result.current.messages[0]).toMatchObject({ content: 'Hello again', parent_id: null, sibling_count: 2, sibling_index: 1 });

    await act(async () => {
      answer.reject(refused());
      expect(await edited).toBe(false);
    });
    await waitFor(() => expect(ids()).toEqual(['u1', 'a1', 'u2', 'a2']));
  });
});

describe('regenerate', () => {
  it('swaps the answer for a waiting one at once, and brings the old one back when refused', async () => {
    const answer = deferred<TurnResponse>();
    (turnsApi.regenerate as jest.Mock).mockReturnValue(answer.promise);
    const old = message('a1', 'assistant', { deepthink: true });
    const { result, ids } = await setup('c1', [message('u1', 'user'), old]);

    let done: Promise<void> = Promise.resolve();
    act(() => {
      done = result.current.regenerate(old, false);
    });
    await waitFor(() => expect(ids()).toEqual(['u1', '~assistant']));
    expect(result.current.messages[1]).toMatchObject({ status: 'queued', deepthink: true, sibling_count: 2, sibling_index: 1 });
    expect(turnsApi.regenerate).toHaveBeenCalledWith('a1', true);

    await act(async () => {
      answer.reject(refused());
      await done;
    });
    await waitFor(() => expect(ids()).toEqual(['u1', 'a1']));
    expect(result.current.messages[1]?.content).toBe('Answer a1');
  });

  it('puts the server’s new answer where the waiting one was', async () => {
    (turnsApi.regenerate as jest.Mock).mockResolvedValue(turn(message('u1', 'user'), message('a1b', 'assistant', { status: 'queued' })));
    const old = message('a1', 'assistant');
    const { result, ids } = await setup('c1', [message('u1', 'user'), old]);
    await act(async () => {
      await result.current.regenerate(old, false);
    });
    await waitFor(() => expect(ids()).toEqual(['u1', 'a1b']));
  });
});

describe('stop', () => {
  it('says "stopping" at once, and offers Stop again when the server refuses', async () => {
    const answer = deferred<void>();
    (turnsApi.cancel as jest.Mock).mockReturnValue(answer.promise);
    const hand: TransportHandlers[] = [];
    realAttachTurn('a1', [{ name: 'hand', open: (_params, handlers) => (hand.push(handlers), { close() {} }) }]);
    const { result } = await setup('c1', [message('u1', 'user'), message('a1', 'assistant', { status: 'streaming', content: '' })]);
    expect(result.current.activeTurn?.id).toBe('a1');

    let stopped: Promise<void> = Promise.resolve();
    act(() => {
      stopped = result.current.stop();
    });
    await waitFor(() => expect(useTurnStreams.getState().streams.a1?.cancelRequested).toBe(true));
    expect(turnsApi.cancel).toHaveBeenCalledWith('a1');

    await act(async () => {
      answer.reject(new ApiError({ status: 503, code: 'server_busy', message: 'Busy' }));
      await stopped;
    });
    expect(useTurnStreams.getState().streams.a1?.cancelRequested).toBe(false);
    expect(result.current.chatError).not.toBeNull();
    expect(result.current.generating).toBe(true);
  });
});

describe('switch branch', () => {
  const versions = () => [
    message('u1', 'user'),
    message('a1', 'assistant', { sibling_count: 2, sibling_index: 1, sibling_ids: ['a0', 'a1'] }),
  ];

  it('moves the counter at once and rolls it back when refused', async () => {
    const answer = deferred<Conversation>();
    (conversationsApi.update as jest.Mock).mockReturnValue(answer.promise);
    const { result, cached } = await setup('c1', versions());

    let switched: Promise<void> = Promise.resolve();
    act(() => {
      switched = result.current.switchBranch('a0');
    });
    await waitFor(() => expect(cached()?.current_message_id).toBe('a0'));
    expect(result.current.messages[1]?.sibling_index).toBe(0);
    expect(result.current.busy).toBe(true);

    await act(async () => {
      answer.reject(new ApiError({ status: 0, code: 'network_error', message: 'Offline' }));
      await switched;
    });
    expect(cached()?.current_message_id).toBe('a1');
    await waitFor(() => expect(result.current.messages[1]?.sibling_index).toBe(1));
  });

  it('shows the branch the server answers with, without reading the conversation again', async () => {
    const other = conversation([message('u1', 'user'), message('a0', 'assistant', { sibling_count: 2, sibling_index: 0, sibling_ids: ['a0', 'a1'] })]);
    (conversationsApi.update as jest.Mock).mockResolvedValue(other);
    const { result, ids, cached } = await setup('c1', versions());
    (conversationsApi.get as jest.Mock).mockClear();
    await act(async () => {
      await result.current.switchBranch('a0');
    });
    expect(conversationsApi.update).toHaveBeenCalledWith('c1', { current_message_id: 'a0' });
    await waitFor(() => expect(ids()).toEqual(['u1', 'a0']));
    expect(cached()?.current_message_id).toBe('a0');
    expect(conversationsApi.get).not.toHaveBeenCalled();
  });
});

describe('feedback', () => {
  it('lights the thumb at once and turns it off again when refused', async () => {
    const answer = deferred<Message>();
    (turnsApi.feedback as jest.Mock).mockReturnValue(answer.promise);
    const rated = message('a1', 'assistant', { feedback: 'none' });
    const { result } = await setup('c1', [message('u1', 'user'), rated]);

    let saved: Promise<void> = Promise.resolve();
    act(() => {
      saved = result.current.setFeedback(rated, 'up');
    });
    await waitFor(() => expect(result.current.messages[1]?.feedback).toBe('up'));

    await act(async () => {
      answer.reject(refused());
      await saved;
    });
    await waitFor(() => expect(result.current.messages[1]?.feedback).toBe('none'));
    expect(result.current.chatError).not.toBeNull();
  });
});

describe('Search and files in a turn', () => {
  const report = { id: 'f1', name: 'report.pdf', size: 2048, mime: 'application/pdf', kind: 'pdf', status: 'ready' as const };

  it('sends search and the ready files’ ids, and the waiting question shows its files', async () => {
    const answer = deferred<TurnResponse>();
    (turnsApi.send as jest.Mock).mockReturnValue(answer.promise);
    const { result } = await setup('c1', [message('u1', 'user'), message('a1', 'assistant')]);
    let sent: Promise<boolean>;
    act(() => {
      sent = result.current.send('Summarise it', false, { search: true, files: [report] });
    });
    await waitFor(() => expect(result.current.messages).toHaveLength(4));
    expect(turnsApi.send).toHaveBeenCalledWith('c1', { content: 'Summarise it', deepthink: false, search: true, file_ids: ['f1'] });
    expect(result.current.messages[2]).toMatchObject({ role: 'user', files: [report] });
    expect(result.current.messages[3]).toMatchObject({ role: 'assistant', search: true });
    await act(async () => {
      answer.resolve(turn(message('u2', 'user', { files: [report] }), message('a2', 'assistant', { status: 'queued', search: true })));
      await sent;
    });
  });

  it('sends neither field when Search is off and nothing is attached', async () => {
    (turnsApi.start as jest.Mock).mockRejectedValue(refused());
    const { result } = await setup(undefined);
    await act(async () => void (await result.current.send('Hi', true, { search: false, files: [] })));
    expect(turnsApi.start).toHaveBeenCalledWith({ content: 'Hi', deepthink: true });
  });

  it('an edited question keeps its files', async () => {
    (turnsApi.send as jest.Mock).mockRejectedValue(refused());
    const question = message('u1', 'user', { files: [report] });
    const { result } = await setup('c1', [question, message('a1', 'assistant')]);
    await act(async () => void (await result.current.editQuestion(question, 'Summarise it shorter', false)));
    expect(turnsApi.send).toHaveBeenCalledWith('c1', { content: 'Summarise it shorter', deepthink: false, parent_id: null, file_ids: ['f1'] });
  });

  it('a new version of a searched answer searches again', async () => {
    (turnsApi.regenerate as jest.Mock).mockRejectedValue(refused());
    const searched = message('a1', 'assistant', { parent_id: 'u1', deepthink: false, search: true });
    const { result } = await setup('c1', [message('u1', 'user'), searched]);
    await act(async () => void (await result.current.regenerate(searched, true)));
    expect(turnsApi.regenerate).toHaveBeenCalledWith('a1', false, true);
  });
});
