// Listens to the user's event stream so the history (titles, "generating" markers) stays live
// across tabs and devices, and a finished turn is read back once its answer is saved
// (`turn.finished`), and an uploaded file's reading is followed (`file.updated`). The connection runs on the same machine as a turn's stream: WebSocket with
// SSE fallback, backoff with jitter, a renewed token after a 4401, closed while the app is in the
// background and reopened when it is back; it never gives up while the user is signed in.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { create } from 'zustand';

import { currentAccessToken, refreshAccessToken } from '@/api';
import { apiBaseUrl, isWeb, websocketBaseUrl } from '@/api/config';
import { queryKeys } from '@/api/queryKeys';
import { onAppActivity } from './appActivity';
import { forgetSession } from './auth';
import { noteFileDeleted, noteFileUpdate } from './files';
import { useSession } from './session';
import { connectionReducer, isTerminal, type ConnectionState, type ConnectionStatus } from './stream/connection';
import { StreamDriver, type Transport } from './stream/driver';
import type { DriverAction, TurnEvent } from './stream/machine';
import { onTurnRestarted, onTurnSettled } from './stream/turnStreams';
import { parseUserEvent, parseUserMessage, sseTransport, websocketTransport } from './stream/transports';

/** The user event socket closes with this code when the account is suspended (docs/api.md). */
export const SUSPENDED_CLOSE_CODE = 4403;

/**
 * Without a live user event stream there is no `turn.finished` to say the answer is saved, so a
 * settled turn is read once more after this long (a backend worker saves it shortly after `done`).
 */
export const SAVED_ANSWER_GRACE_MS = 1500;

export type UserEventsState = ConnectionState;

export function initialUserEventsState(): UserEventsState {
  return { status: 'idle', attempt: 0, retryInMs: null, error: null };
}

/** The connection's machine; an event (the server's `ready` first) proves the connection works. */
export function userEventsReducer(state: UserEventsState, action: DriverAction): UserEventsState {
  switch (action.type) {
    case 'event':
      if (isTerminal(state) || (state.status === 'streaming' && state.attempt === 0)) return state;
      return { ...state, status: 'streaming', attempt: 0, retryInMs: null };
    case 'restart':
    case 'ended':
      return state; // no cursor, and no end: the driver reconnects
    default:
      return connectionReducer(state, action, { maxAttempts: Infinity });
  }
}

export const useUserEventsStatus = create<{ status: ConnectionStatus }>()(() => ({ status: 'idle' }));

/** Whether `turn.finished` can reach us now. */
export function userEventsLive(): boolean {
  return useUserEventsStatus.getState().status === 'streaming';
}

export function userEventTransports(): Transport[] {
  return [
    websocketTransport(() => websocketBaseUrl(apiBaseUrl()), { path: () => '/ws/events/', parse: parseUserEvent }),
    sseTransport(apiBaseUrl, isWeb, { path: () => '/api/v1/events', parse: parseUserMessage }),
  ];
}

export function useUserEvents(transports?: () => Transport[]): void {
  const queryClient = useQueryClient();
  const signedIn = useSession((s) => s.status === 'signedIn');

  useEffect(() => {
    const refetch = () => void queryClient.invalidateQueries({ queryKey: queryKeys.conversations.all() });
    const offSettled = onTurnSettled(() => {
      refetch();
      if (!userEventsLive()) setTimeout(refetch, SAVED_ANSWER_GRACE_MS);
    });
    // A stream that started over may have shown text the saved message corrects.
    const offRestarted = onTurnRestarted(refetch);
    return () => {
      offSettled();
      offRestarted();
    };
  }, [queryClient]);

  useEffect(() => {
    if (!signedIn) return;
    // Staff suspended the account: this tab learns it at once, not at its next send.
    const suspended = () => {
      driver.stop();
      void forgetSession(queryClient).then(() => useSession.getState().signOut('suspended'));
    };
    let readyBefore = false;

    const handle = ({ type, data }: TurnEvent) => {
      if (type === 'account.suspended') {
        suspended();
        return;
      }
      if (type === 'ready') {
        // Connected again: whatever happened while we were away was not sent to us.
        if (readyBefore) void queryClient.invalidateQueries({ queryKey: queryKeys.conversations.all() });
        readyBefore = true;
        return;
      }
      // A file being read moved on (composer chips follow it), or was deleted.
      if (type === 'file.updated') {
        noteFileUpdate(data.file);
        return;
      }
      if (type === 'file.deleted') {
        noteFileDeleted(data.file_id);
        return;
      }
      const nested = data.data as { conversation_id?: unknown } | undefined;
      const conversationId = data.conversation_id ?? nested?.conversation_id;
      if (typeof conversationId !== 'string') return;
      void queryClient.invalidateQueries({ queryKey: queryKeys.conversations.lists() });
      if (type !== 'conversation.deleted') {
        void queryClient.invalidateQueries({ queryKey: queryKeys.conversations.detail(conversationId) });
      }
      // The answer is saved: what is left today changed too.
      if (type === 'turn.finished') void queryClient.invalidateQueries({ queryKey: queryKeys.usage() });
    };

    const driver = new StreamDriver<UserEventsState>({
      stream: 'events',
      transports: transports ? transports() : userEventTransports(),
      getToken: (renew) => (renew ? refreshAccessToken() : currentAccessToken()),
      reducer: userEventsReducer,
      initial: initialUserEventsState(),
      onChange: (state) => useUserEventsStatus.setState({ status: state.status }),
      onEvent: handle,
      onForbidden: suspended,
    });
    driver.start();
    const offActivity = onAppActivity((active) => (active ? driver.resume() : driver.background()));
    return () => {
      offActivity();
      driver.stop();
      useUserEventsStatus.setState({ status: 'idle' });
    };
  }, [signedIn, queryClient, transports]);
}
