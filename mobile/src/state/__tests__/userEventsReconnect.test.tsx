// The user event stream runs on the turn streams' machine: it reconnects with backoff and never
// gives up, renews an expired token (4401) before reconnecting, falls back to SSE, refetches what
// it may have missed, and its `turn.finished` replaces the timed second read of a finished answer.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, renderHook } from '@testing-library/react-native';
import type { ReactNode } from 'react';

import { refreshAccessToken } from '@/api';
import { queryKeys } from '@/api/queryKeys';
import { BACKOFF } from '../stream/connection';
import type { TransportHandlers } from '../stream/driver';
import { attachTurn, detachAllTurns } from '../stream/turnStreams';
import { useSession } from '../session';
import { SAVED_ANSWER_GRACE_MS, useUserEvents, useUserEventsStatus } from '../userEvents';

jest.mock('@/api', () => ({ currentAccessToken: jest.fn(async () => 'old-token'), refreshAccessToken: jest.fn(async () => 'fresh-token') }));
jest.mock('@/api/endpoints', () => ({ authApi: { logout: jest.fn() } }));
const mockFetch = jest.fn();
jest.mock('expo/fetch', () => ({ fetch: (...args: unknown[]) => mockFetch(...args) }));

class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  close() {}
  static get last(): FakeSocket {
    const socket = FakeSocket.all[FakeSocket.all.length - 1];
    if (!socket) throw new Error('no socket');
    return socket;
  }
}

const settle = (ms = 0) => act(() => jest.advanceTimersByTimeAsync(ms));
const say = (socket: FakeSocket, event: object) => act(() => socket.onmessage?.({ data: JSON.stringify(event) }));

async function setup() {
  const queryClient = new QueryClient();
  const invalidated = jest.spyOn(queryClient, 'invalidateQueries');
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
  const hook = renderHook(() => useUserEvents(), { wrapper });
  await settle();
  const calls = (key: readonly unknown[]) => invalidated.mock.calls.filter(([filters]) => JSON.stringify(filters?.queryKey) === JSON.stringify(key)).length;
  return { ...hook, queryClient, invalidated, calls };
}

const realSocket = globalThis.WebSocket;
beforeEach(() => {
  jest.useFakeTimers();
  jest.clearAllMocks();
  FakeSocket.all = [];
  (globalThis as { WebSocket: unknown }).WebSocket = FakeSocket;
  useSession.getState().signIn({ id: 'u', email: 'ada@example.com', display_name: '', email_verified: true }, 'old-token');
});
afterEach(() => {
  detachAllTurns();
  (globalThis as { WebSocket: unknown }).WebSocket = realSocket;
  jest.useRealTimers();
});

it('renews an expired token before it reconnects (4401)', async () => {
  const { unmount } = await setup();
  expect(FakeSocket.last.url).toContain('/ws/events/?token=old-token');
  act(() => FakeSocket.last.onopen?.());
  act(() => FakeSocket.last.onclose?.({ code: 4401 }));
  expect(useUserEventsStatus.getState().status).toBe('reconnecting');

  await settle(BACKOFF.baseMs);
  expect(refreshAccessToken).toHaveBeenCalledTimes(1);
  expect(FakeSocket.all).toHaveLength(2);
  expect(FakeSocket.last.url).toContain('token=fresh-token');
  unmount();
});

it('keeps reconnecting, with longer waits, and never gives up while signed in', async () => {
  const { unmount } = await setup();
  const waits: number[] = [];
  for (let i = 0; i < BACKOFF.maxAttempts + 4; i += 1) {
    act(() => FakeSocket.last.onopen?.());
    act(() => FakeSocket.last.onclose?.({ code: 1006 }));
    waits.push(useUserEventsStatus.getState().status === 'reconnecting' ? 1 : 0);
    await settle(BACKOFF.maxMs);
  }
  expect(waits.every((reconnecting) => reconnecting === 1)).toBe(true);
  expect(FakeSocket.all).toHaveLength(BACKOFF.maxAttempts + 5);
  unmount();
});

it('falls back to SSE when the WebSocket cannot connect', async () => {
  mockFetch.mockImplementation(async () => ({ status: 200, ok: true, body: { getReader: () => ({ read: () => new Promise(() => {}) }) } }));
  const { unmount } = await setup();
  act(() => FakeSocket.last.onclose?.({ code: 1006 })); // never opened (1)
  await settle(BACKOFF.maxMs);
  act(() => FakeSocket.last.onclose?.({ code: 1006 })); // never opened (2): next transport
  await settle(BACKOFF.maxMs);

  expect(FakeSocket.all).toHaveLength(2);
  expect(mockFetch).toHaveBeenCalledTimes(1);
  const [url, init] = mockFetch.mock.calls[0] as [string, RequestInit];
  expect(url).toMatch(/\/api\/v1\/events$/);
  expect(init.headers).toMatchObject({ Authorization: 'Bearer old-token' });
  expect(useUserEventsStatus.getState().status).toBe('streaming');
  unmount();
});

it('reads the history again after a reconnect, since events sent meanwhile were missed', async () => {
  const { calls, unmount } = await setup();
  act(() => FakeSocket.last.onopen?.());
  await say(FakeSocket.last, { type: 'ready' });
  expect(calls(queryKeys.conversations.all())).toBe(0);
  act(() => FakeSocket.last.onclose?.({ code: 1006 }));
  await settle(BACKOFF.maxMs);
  act(() => FakeSocket.last.onopen?.());
  await say(FakeSocket.last, { type: 'ready' });
  expect(calls(queryKeys.conversations.all())).toBe(1);
  unmount();
});

it('reads a conversation again on turn.finished, and what is left today', async () => {
  const { calls, unmount } = await setup();
  act(() => FakeSocket.last.onopen?.());
  await say(FakeSocket.last, { type: 'turn.finished', conversation_id: 'c1', turn_id: 't1', status: 'done' });
  expect(calls(queryKeys.conversations.detail('c1'))).toBe(1);
  expect(calls(queryKeys.usage())).toBe(1);
  unmount();
});

describe('a settled turn', () => {
  async function settleATurn() {
    const hand: TransportHandlers[] = [];
    attachTurn('t1', [{ name: 'hand', open: (_params, handlers) => (hand.push(handlers), { close() {} }) }]);
    await settle();
    act(() => hand[0]!.onEvent({ id: '1', type: 'done', data: { status: 'done' } }));
  }

  it('is read once when turn.finished can reach us (no second read on a timer)', async () => {
    const { calls, unmount } = await setup();
    act(() => FakeSocket.last.onopen?.());
    await say(FakeSocket.last, { type: 'ready' });
    await settleATurn();
    await settle(SAVED_ANSWER_GRACE_MS * 2);
    expect(calls(queryKeys.conversations.all())).toBe(1);
    unmount();
  });

  it('is read once more after a moment when the user event stream is down', async () => {
    const { calls, unmount } = await setup();
    act(() => FakeSocket.last.onclose?.({ code: 1006 }));
    await settleATurn();
    expect(calls(queryKeys.conversations.all())).toBe(1);
    await settle(SAVED_ANSWER_GRACE_MS);
    expect(calls(queryKeys.conversations.all())).toBe(2);
    unmount();
  });
});
