// The two ways to read a stream's events: WebSocket frames (primary) and SSE (fallback), for a
// turn's answer and for the user's event stream alike. SSE is read with a streaming fetch
// (`expo/fetch` on phones, the browser's on the web) and parsed by eventsource-parser, so the
// driver sees the HTTP status (204: nothing more; 400: a bad cursor) and the end of the response.
import { fetch as expoFetch } from 'expo/fetch';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

import { buildUrl } from '@/api/client';
import type { CloseReason, Connection, Transport, TransportHandlers } from './driver';
import type { TurnEvent } from './machine';

/** Close codes the backend uses (4000 + the HTTP status), and 1000 for "nothing more". */
export function closeReason(code: number): CloseReason {
  if (code === 1000) return 'finished';
  if (code === 4401 || code === 4001 || code === 4003) return 'auth';
  if (code === 4403) return 'forbidden';
  if (code === 4404) return 'not_found';
  if (code === 4400) return 'bad_cursor';
  return 'lost';
}

/** The same for an SSE request's HTTP status. */
export function httpReason(status: number): CloseReason {
  if (status === 204) return 'finished';
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 400) return 'bad_cursor';
  return 'lost';
}

/** A turn's WebSocket frame: `{"id", "type", "data"}`. */
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

/** A user event, on either transport: the payload is the event itself, `{type, ...}`. */
export function parseUserEvent(raw: unknown): TurnEvent | null {
  if (typeof raw !== 'string') return null;
  try {
    const event = JSON.parse(raw) as Record<string, unknown>;
    return event && typeof event.type === 'string' ? { id: null, type: event.type, data: event } : null;
  } catch {
    return null;
  }
}

interface WebSocketOptions {
  path?: (stream: string) => string;
  parse?: (raw: unknown) => TurnEvent | null;
}

export function websocketTransport(wsBaseUrl: () => string, options: WebSocketOptions = {}): Transport {
  const path = options.path ?? ((turnId: string) => `/ws/turns/${turnId}/`);
  const parse = options.parse ?? parseFrame;
  return {
    name: 'websocket',
    open({ stream, after, token }, handlers: TransportHandlers): Connection {
      const url = buildUrl(wsBaseUrl(), path(stream), { token, after });
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
        const event = parse(message.data);
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

interface SseOptions {
  path?: (stream: string) => string;
  /** Turn each SSE message into an event, or null to skip it. */
  parse?: (message: EventSourceMessage) => TurnEvent | null;
  fetchImpl?: typeof fetch;
}

/** A turn's SSE message: `id:` is the cursor, `event:` the type, `data:` the JSON payload. */
function parseTurnMessage(message: EventSourceMessage): TurnEvent | null {
  if (!message.event) return null;
  let data: Record<string, unknown> = {};
  try {
    data = message.data ? (JSON.parse(message.data) as Record<string, unknown>) : {};
  } catch {
    data = {};
  }
  return { id: message.id ?? null, type: message.event, data };
}

/** A user event's SSE message: the data is the event (`ready` has only its SSE event name). */
export function parseUserMessage(message: EventSourceMessage): TurnEvent | null {
  const event = parseUserEvent(message.data);
  if (event || !message.event) return event;
  return { id: null, type: message.event, data: {} };
}

export function sseTransport(apiBaseUrl: () => string, web: boolean, options: SseOptions = {}): Transport {
  const path = options.path ?? ((turnId: string) => `/api/v1/turns/${turnId}/events`);
  const parse = options.parse ?? parseTurnMessage;
  return {
    name: 'sse',
    open({ stream, after, token }, handlers: TransportHandlers): Connection {
      const url = buildUrl(apiBaseUrl(), path(stream), { after });
      const headers: Record<string, string> = { Accept: 'text/event-stream', 'Cache-Control': 'no-cache' };
      if (token) headers.Authorization = `Bearer ${token}`;
      if (after) headers['Last-Event-ID'] = after;
      if (web) headers['X-Whale-Client'] = 'web';
      const controller = new AbortController();
      let closed = false;
      const finish = (reason: CloseReason, detail?: string) => {
        if (closed) return;
        closed = true;
        controller.abort();
        handlers.onClose(reason, detail);
      };
      const doFetch = options.fetchImpl ?? (expoFetch as unknown as typeof fetch);

      void (async () => {
        let response: Response;
        try {
          response = await doFetch(url, {
            headers,
            credentials: web ? 'include' : 'omit',
            signal: controller.signal,
          });
        } catch {
          finish('lost');
          return;
        }
        if (closed) return;
        if (response.status === 204 || !response.ok) {
          finish(httpReason(response.status));
          return;
        }
        const reader = response.body?.getReader();
        if (!reader) {
          finish('lost', 'This browser cannot read a stream.');
          return;
        }
        handlers.onOpen();
        const parser = createParser({
          onEvent: (message) => {
            if (closed) return;
            const event = parse(message);
            if (event) handlers.onEvent(event);
          },
        });
        const decoder = new TextDecoder();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done || closed) break;
            parser.feed(decoder.decode(value, { stream: true }));
          }
        } catch {
          finish('lost');
          return;
        }
        // The response ended without the terminal event: reconnect from the cursor (the server then
        // sends the rest, or 204 when there is none).
        finish('lost', 'The stream ended.');
      })();

      return {
        close() {
          closed = true;
          controller.abort();
        },
      };
    },
  };
}
