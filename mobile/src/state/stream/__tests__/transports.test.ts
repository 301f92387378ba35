// What the server's close codes and HTTP statuses mean to the driver, and SSE read from a fetch stream.
import type { CloseReason, TransportHandlers } from '../driver';
import type { TurnEvent } from '../machine';
import { closeReason, httpReason, parseUserMessage, sseTransport, websocketTransport } from '../transports';

/** A response whose body arrives in the given chunks (cut anywhere, as a network cuts them). */
function streamed(status: number, chunks: string[] = []) {
  const encoder = new TextEncoder();
  let index = 0;
  return {
    status,
    ok: status >= 200 && status < 300,
    body: {
      getReader: () => ({
        read: async () => (index < chunks.length ? { done: false, value: encoder.encode(chunks[index++]) } : { done: true, value: undefined }),
      }),
    },
  };
}

function listen() {
  const events: TurnEvent[] = [];
  const closes: CloseReason[] = [];
  const opens: number[] = [];
  const handlers: TransportHandlers = {
    onOpen: () => opens.push(1),
    onEvent: (event) => events.push(event),
    onClose: (reason) => closes.push(reason),
  };
  return { handlers, events, closes, opens };
}

const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('close codes', () => {
  it('reads a bad cursor, the end, a refused token, a suspension and an unknown turn apart', () => {
    expect(closeReason(4400)).toBe('bad_cursor');
    expect(closeReason(1000)).toBe('finished');
    expect(closeReason(4401)).toBe('auth');
    expect(closeReason(4403)).toBe('forbidden');
    expect(closeReason(4404)).toBe('not_found');
    expect(closeReason(1006)).toBe('lost');
    expect(closeReason(1012)).toBe('lost');
  });

  it('does the same for an SSE request’s status', () => {
    expect(httpReason(204)).toBe('finished');
    expect(httpReason(400)).toBe('bad_cursor');
    expect(httpReason(401)).toBe('auth');
    expect(httpReason(503)).toBe('lost');
  });
});

describe('the SSE transport', () => {
  it('resumes with the cursor and the token, and parses events cut across chunks', async () => {
    const fetchImpl = jest.fn(async () =>
      streamed(200, ['retry: 2000\n\nid: 1-0.0.3\nevent: content\nda', 'ta: {"delta":"Hel"}\n\n: keep-alive\n\nid: 1-1.0.5\nevent: done\ndata: {"status":"done"}\n\n']),
    );
    const sse = sseTransport(() => 'http://api.test', false, { fetchImpl: fetchImpl as unknown as typeof fetch });
    const seen = listen();
    sse.open({ stream: 't1', after: '0-9.0.0', token: 'tok' }, seen.handlers);
    await flush();

    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('http://api.test/api/v1/turns/t1/events?after=0-9.0.0');
    expect(init.headers).toMatchObject({ Authorization: 'Bearer tok', 'Last-Event-ID': '0-9.0.0' });
    expect(seen.opens).toHaveLength(1);
    expect(seen.events).toEqual([
      { id: '1-0.0.3', type: 'content', data: { delta: 'Hel' } },
      { id: '1-1.0.5', type: 'done', data: { status: 'done' } },
    ]);
  });

  it('takes 204 as "finished" and 400 as a bad cursor, before opening', async () => {
    for (const [status, reason] of [[204, 'finished'], [400, 'bad_cursor'], [401, 'auth'], [404, 'not_found']] as const) {
      const sse = sseTransport(() => 'http://api.test', false, { fetchImpl: (async () => streamed(status)) as unknown as typeof fetch });
      const seen = listen();
      sse.open({ stream: 't1', after: 'x', token: null }, seen.handlers);
      await flush();
      expect(seen.closes).toEqual([reason]);
      expect(seen.opens).toHaveLength(0);
    }
  });

  it('reports a response that ends before the turn did as lost, so the driver resumes from its cursor', async () => {
    const sse = sseTransport(() => 'http://api.test', false, {
      fetchImpl: (async () => streamed(200, ['id: 1\nevent: content\ndata: {"delta":"a"}\n\n'])) as unknown as typeof fetch,
    });
    const seen = listen();
    sse.open({ stream: 't1', after: null, token: null }, seen.handlers);
    await flush();
    expect(seen.events).toHaveLength(1);
    expect(seen.closes).toEqual(['lost']);
  });

  it('reports nothing after the driver closed it', async () => {
    const sse = sseTransport(() => 'http://api.test', false, { fetchImpl: (async () => streamed(204)) as unknown as typeof fetch });
    const seen = listen();
    sse.open({ stream: 't1', after: null, token: null }, seen.handlers).close();
    await flush();
    expect(seen.closes).toEqual([]);
  });

  it('reads the user event stream, whose data is the event', async () => {
    const sse = sseTransport(() => 'http://api.test', true, {
      path: () => '/api/v1/events',
      parse: parseUserMessage,
      fetchImpl: (async () =>
        streamed(200, ['event: ready\ndata: {}\n\nevent: turn.finished\ndata: {"type":"turn.finished","conversation_id":"c1"}\n\n'])) as unknown as typeof fetch,
    });
    const seen = listen();
    sse.open({ stream: 'events', after: null, token: 't' }, seen.handlers);
    await flush();
    expect(seen.events).toEqual([
      { id: null, type: 'ready', data: {} },
      { id: null, type: 'turn.finished', data: { type: 'turn.finished', conversation_id: 'c1' } },
    ]);
  });
});

describe('the WebSocket transport', () => {
  const realSocket = globalThis.WebSocket;
  class FakeSocket {
    static last: FakeSocket;
    onopen: (() => void) | null = null;
    onmessage: ((message: { data: string }) => void) | null = null;
    onclose: ((event: { code: number; reason?: string }) => void) | null = null;
    onerror: (() => void) | null = null;
    constructor(public url: string) {
      FakeSocket.last = this;
    }
    close() {}
  }
  beforeEach(() => ((globalThis as { WebSocket: unknown }).WebSocket = FakeSocket));
  afterEach(() => ((globalThis as { WebSocket: unknown }).WebSocket = realSocket));

  it('sends the cursor and reports a 1000 close as the end', () => {
    const seen = listen();
    websocketTransport(() => 'ws://api.test').open({ stream: 't1', after: '3-0.1.2', token: 'tok' }, seen.handlers);
    expect(FakeSocket.last.url).toBe('ws://api.test/ws/turns/t1/?token=tok&after=3-0.1.2');
    FakeSocket.last.onclose?.({ code: 1000 });
    expect(seen.closes).toEqual(['finished']);
  });
});
