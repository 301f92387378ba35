// Listens to the user's event stream so the history (titles, "generating" markers) stays live
// across tabs and devices.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';

import { currentAccessToken } from '@/api';
import { buildUrl } from '@/api/client';
import { apiBaseUrl, websocketBaseUrl } from '@/api/config';
import { queryKeys } from '@/api/queryKeys';
import { forgetSession } from './auth';
import { backoffDelay } from './stream/machine';
import { useSession } from './session';
import { onTurnSettled } from './stream/turnStreams';

interface UserEvent {
  type?: string;
  conversation_id?: string;
  data?: { conversation_id?: string };
}

/** The user event socket closes with this code when the account is suspended (docs/api.md). */
export const SUSPENDED_CLOSE_CODE = 4403;

export function useUserEvents(): void {
  const queryClient = useQueryClient();
  const signedIn = useSession((s) => s.status === 'signedIn');

  useEffect(() => {
    // A finished turn is saved by a backend worker shortly after `done`; read it twice to catch it.
    return onTurnSettled(() => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.conversations.all() });
      setTimeout(() => void queryClient.invalidateQueries({ queryKey: queryKeys.conversations.all() }), 1500);
    });
  }, [queryClient]);

  useEffect(() => {
    if (!signedIn || typeof WebSocket === 'undefined') return;
    let socket: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let attempt = 0;
    let stopped = false;
    // Staff suspended the account: this tab learns it at once, not at its next send.
    const suspended = () => {
      stopped = true;
      socket?.close();
      void forgetSession(queryClient).then(() => useSession.getState().signOut('suspended'));
    };

    const handle = (raw: unknown) => {
      if (typeof raw !== 'string') return;
      let event: UserEvent;
      try {
        event = JSON.parse(raw) as UserEvent;
      } catch {
        return;
      }
      if (event.type === 'account.suspended') {
        suspended();
        return;
      }
      const conversationId = event.conversation_id ?? event.data?.conversation_id;
      void queryClient.invalidateQueries({ queryKey: queryKeys.conversations.lists() });
      if (conversationId && event.type !== 'conversation.deleted') {
        void queryClient.invalidateQueries({ queryKey: queryKeys.conversations.detail(conversationId) });
      }
    };

    const connect = async () => {
      const token = await currentAccessToken();
      if (stopped || !token) return;
      socket = new WebSocket(buildUrl(websocketBaseUrl(apiBaseUrl()), '/ws/events/', { token }));
      socket.onopen = () => {
        attempt = 0;
      };
      socket.onmessage = (message) => handle(message.data);
      socket.onclose = (event) => {
        if (stopped) return;
        if (event?.code === SUSPENDED_CLOSE_CODE) {
          suspended();
          return;
        }
        attempt += 1;
        timer = setTimeout(() => void connect(), backoffDelay(Math.min(attempt, 6), Math.random()));
      };
    };
    void connect();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      socket?.close();
    };
  }, [signedIn, queryClient]);
}
