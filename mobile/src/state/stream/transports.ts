// The two ways to read a turn's events: WebSocket frames (primary) and SSE (fallback).
import EventSource from 'react-native-sse';

import { buildUrl } from '@/api/client';
import type { CloseReason, Connection, Transport, TransportHandlers } from './driver';
import type { TurnEvent } from './machine';

const TURN_EVENT_TYPES = ['queued', 'started', 'reasoning', 'content', 'done', 'error'] as const;

/** Close codes the backend uses for a refused token and an unknown turn (4000 + HTTP status). */
function closeReason(code: number): CloseReason {
  if (code === 4401 || code === 4403 || code === 4001 || code === 4003) return 'auth';
  if (code === 4404) return 'not_found';
  return 'lost';
}

export function parseFrame(raw: unknown): TurnEvent | null {
  if (typeof raw !== 'string') return null;
  try {
    const frame = JSON.parse(raw) as { id?: unknown; type?: unknown; data?: unknown };
    if (typeof frame.type !== 'string') return null;
    return {
      id: typeof frame.id === 'string' || typeof frame.id === 'number' ? String(frame.id) : null,
      type: frame.type,
      data: frame.data && typeof frame.data === 'object' ? (frame.data as Record<string, unknown>) : {},
    };
  } catch {
    return null;
  }
}

export function websocketTransport(wsBaseUrl: () => string): Transport {
  return {
    name: 'websocket',
    open({ turnId, after, token }, handlers: TransportHandlers): Connection {
      const url = buildUrl(wsBaseUrl(), `/ws/turns/${turnId}/`, { token, after });
      let closed = false;
      let socket: WebSocket;
      try {
        socket = new WebSocket(url);
      } catch {
        setTimeout(() => handlers.onClose('lost', 'WebSocket unavailable'), 0);
        return { close() {} };
      }
      socket.onopen = () => handlers.onOpen();
      socket.onmessage = (message) => {
        const event = parseFrame(message.data);
        if (event) handlers.onEvent(event);
      };
      socket.onclose = (event) => {
        if (closed) return;
        closed = true;
        handlers.onClose(closeReason(event.code), event.reason || undefined);
      };
      // Browsers follow every error with a close; the close carries the reason.
      socket.onerror = () => {};
      return {
        close() {
          closed = true;
          try {
            socket.close();
          } catch {
            // already closed
          }
        },
      };
    },
  };
}

export function sseTransport(apiBaseUrl: () => string, web: boolean): Transport {
  return {
    name: 'sse',
    open({ turnId, after, token }, handlers: TransportHandlers): Connection {
      const url = buildUrl(apiBaseUrl(), `/api/v1/turns/${turnId}/events`, { after });
      const headers: Record<string, string> = { Accept: 'text/event-stream' };
      if (token) headers.Authorization = `Bearer ${token}`;
      if (after) headers['Last-Event-ID'] = after;
      if (web) headers['X-Whale-Client'] = 'web';
      // Reconnecting is the driver's job (it knows the cursor), so the library's own polling is off.
      const source = new EventSource<(typeof TURN_EVENT_TYPES)[number]>(url, {
        headers,
        pollingInterval: 0,
        withCredentials: web,
      });
      let closed = false;
      const finish = (reason: CloseReason, detail?: string) => {
        if (closed) return;
        closed = true;
        source.removeAllEventListeners();
        source.close();
        handlers.onClose(reason, detail);
      };
      source.addEventListener('open', () => handlers.onOpen());
      for (const type of TURN_EVENT_TYPES) {
        source.addEventListener(type, (event) => {
          // The library reports its own transport errors as `error` too; those carry no data.
          const payload = (event as { data?: string | null }).data;
          if (type === 'error' && (payload === undefined || payload === null)) {
            const status = (event as { xhrStatus?: number }).xhrStatus ?? 0;
            finish(status === 401 || status === 403 ? 'auth' : status === 404 ? 'not_found' : 'lost');
            return;
          }
          let data: Record<string, unknown> = {};
          try {
            data = payload ? (JSON.parse(payload) as Record<string, unknown>) : {};
          } catch {
            data = {};
          }
          handlers.onEvent({ id: (event as { lastEventId?: string | null }).lastEventId ?? null, type, data });
        });
      }
      source.addEventListener('close', () => finish('lost'));
      return {
        close() {
          closed = true;
          source.removeAllEventListeners();
          source.close();
        },
      };
    },
  };
}
