// A suspension reaches the open tab over the user event socket: the session ends with the reason.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, renderHook, waitFor } from '@testing-library/react-native';
import type { ReactNode } from 'react';

import { useFileUpdates } from '../files';
import { useSession } from '../session';
import { SUSPENDED_CLOSE_CODE, useUserEvents } from '../userEvents';

jest.mock('@/api', () => ({ currentAccessToken: async () => 'token', refreshAccessToken: async () => 'token' }));
jest.mock('@/api/endpoints', () => ({ authApi: { logout: jest.fn() } }));

class FakeSocket {
  static last: FakeSocket | null = null;
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  constructor(public url: string) {
    FakeSocket.last = this;
  }
  close() {}
}

function setup() {
  const queryClient = new QueryClient();
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
  renderHook(() => useUserEvents(), { wrapper });
}

describe('useUserEvents', () => {
  const realSocket = globalThis.WebSocket;
  beforeEach(() => {
    FakeSocket.last = null;
    (globalThis as { WebSocket: unknown }).WebSocket = FakeSocket;
    act(() => useSession.getState().signIn({ id: 'u', email: 'ada@example.com', display_name: '', email_verified: true }, 'token'));
  });
  afterEach(() => {
    (globalThis as { WebSocket: unknown }).WebSocket = realSocket;
  });

  it('ends the session as suspended on account.suspended', async () => {
    setup();
    await waitFor(() => expect(FakeSocket.last).not.toBeNull());
    await act(async () => FakeSocket.last?.onmessage?.({ data: JSON.stringify({ type: 'account.suspended' }) }));
    await waitFor(() => expect(useSession.getState()).toMatchObject({ status: 'signedOut', notice: 'suspended' }));
  });

  it('ends it too when the socket closes with the suspension code', async () => {
    setup();
    await waitFor(() => expect(FakeSocket.last).not.toBeNull());
    await act(async () => FakeSocket.last?.onclose?.({ code: SUSPENDED_CLOSE_CODE }));
    await waitFor(() => expect(useSession.getState()).toMatchObject({ status: 'signedOut', notice: 'suspended' }));
  });

  it('keeps the latest word on each file being read (file.updated)', async () => {
    setup();
    await waitFor(() => expect(FakeSocket.last).not.toBeNull());
    const file = { id: 'f1', name: 'report.pdf', size: 10, mime: 'application/pdf', kind: 'pdf', status: 'ready' };
    await act(async () => FakeSocket.last?.onmessage?.({ data: JSON.stringify({ type: 'file.updated', file }) }));
    expect(useFileUpdates.getState().byId.f1).toEqual(file);
    await act(async () => FakeSocket.last?.onmessage?.({ data: JSON.stringify({ type: 'file.deleted', file_id: 'f1' }) }));
    expect(useFileUpdates.getState().deleted.f1).toBe(true);
  });
});
