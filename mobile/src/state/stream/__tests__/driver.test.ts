import { TurnStreamDriver, type CloseReason, type Transport, type TransportHandlers } from '../driver';
import type { TurnEvent } from '../machine';

/** A transport whose connections the test drives by hand. */
function fakeTransport(name: string) {
  const opened: { after: string | null; token: string | null; handlers: TransportHandlers; closed: boolean }[] = [];
  const transport: Transport = {
    name,
    open({ after, token }, handlers) {
      const connection = { after, token, handlers, closed: false };
      opened.push(connection);
      return { close: () => void (connection.closed = true) };
    },
  };
  const last = () => {
    const connection = opened[opened.length - 1];
    if (!connection) throw new Error(`no ${name} connection`);
    return connection;
  };
  return {
    transport,
    opened,
    open: () => last().handlers.onOpen(),
    send: (...events: TurnEvent[]) => events.forEach((e) => last().handlers.onEvent(e)),
    drop: (reason: CloseReason = 'lost') => last().handlers.onClose(reason),
  };
}

const content = (id: string, delta: string): TurnEvent => ({ id, type: 'content', data: { delta } });
const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function makeDriver(transports: Transport[], extra: Partial<ConstructorParameters<typeof TurnStreamDriver>[0]> = {}) {
  const timers: { fn: () => void; ms: number }[] = [];
  const getToken = jest.fn(async (renew: boolean) => (renew ? 'fresh-token' : 'token'));
  const driver = new TurnStreamDriver({
    turnId: 'turn-1',
    transports,
    getToken,
    random: () => 0.5,
    now: () => 0,
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    clearTimer: () => {},
    ...extra,
  });
  const fireTimer = async () => {
    const timer = timers.shift();
    if (!timer) throw new Error('no timer scheduled');
    timer.fn();
    await flush();
    return timer.ms;
  };
  return { driver, getToken, timers, fireTimer };
}

describe('the turn stream driver', () => {
  it('streams, then reconnects from the last event id after a drop, without doubled text', async () => {
    const ws = fakeTransport('websocket');
    const { driver, fireTimer } = makeDriver([ws.transport]);
    driver.start();
    await flush();
    expect(ws.opened[0]).toMatchObject({ after: null, token: 'token' });
    ws.open();
    ws.send(content('1', 'Hel'), content('2', 'lo'));
    ws.drop();
    expect(driver.getState().status).toBe('reconnecting');

    const waited = await fireTimer();
    expect(waited).toBeGreaterThan(0);
    expect(ws.opened[1]?.after).toBe('2');
    ws.open();
    // A server that replays the last event must not double it.
    ws.send(content('2', 'lo'), content('3', ' there'), { id: '4', type: 'done', data: { status: 'done' } });
    expect(driver.getState()).toMatchObject({ status: 'done', content: 'Hello there' });
    expect(ws.opened[1]?.closed).toBe(true);
  });

  it('backs off longer after each failure in a row', async () => {
    const ws = fakeTransport('websocket');
    const { driver, fireTimer } = makeDriver([ws.transport], { fallbackAfter: 99 });
    driver.start();
    await flush();
    const delays: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      ws.drop();
      delays.push(await fireTimer());
    }
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
    expect(delays[3]).toBeGreaterThan(delays[0] ?? 0);
  });

  it('falls back to SSE when the WebSocket never opens, keeping the cursor', async () => {
    const ws = fakeTransport('websocket');
    const sse = fakeTransport('sse');
    const { driver, fireTimer } = makeDriver([ws.transport, sse.transport], { fallbackAfter: 2 });
    driver.start();
    await flush();
    ws.open();
    ws.send(content('1', 'A'));
    ws.drop();
    await fireTimer();
    ws.drop(); // failed before opening (1)
    await fireTimer();
    ws.drop(); // failed before opening (2): switch
    await fireTimer();
    expect(driver.transportName).toBe('sse');
    expect(sse.opened[0]?.after).toBe('1');
    sse.send(content('2', 'B'));
    expect(driver.getState().content).toBe('AB');
  });

  it('renews the token after the server refuses it', async () => {
    const ws = fakeTransport('websocket');
    const { driver, fireTimer, getToken } = makeDriver([ws.transport]);
    driver.start();
    await flush();
    ws.drop('auth');
    await fireTimer();
    expect(getToken).toHaveBeenLastCalledWith(true);
    expect(ws.opened[1]?.token).toBe('fresh-token');
  });

  it('fails at once for a turn that does not exist', async () => {
    const ws = fakeTransport('websocket');
    const { driver, timers } = makeDriver([ws.transport]);
    driver.start();
    await flush();
    ws.drop('not_found');
    expect(driver.getState().status).toBe('error');
    expect(timers).toHaveLength(0);
  });

  it('marks a cancel and ends cancelled with the partial text', async () => {
    const ws = fakeTransport('websocket');
    const { driver } = makeDriver([ws.transport]);
    driver.start();
    await flush();
    ws.open();
    ws.send(content('1', 'Partial'));
    driver.cancelRequested();
    expect(driver.getState().cancelRequested).toBe(true);
    ws.send({ id: '2', type: 'done', data: { status: 'cancelled' } });
    expect(driver.getState()).toMatchObject({ status: 'done', outcome: 'cancelled', content: 'Partial' });
  });

  it('reports a failed turn from the server as an error and stops reading', async () => {
    const ws = fakeTransport('websocket');
    const { driver, timers } = makeDriver([ws.transport]);
    driver.start();
    await flush();
    ws.send({ id: '1', type: 'error', data: { code: 'deadline_exceeded', message: 'Too slow' } });
    expect(driver.getState().error).toMatchObject({ code: 'deadline_exceeded', retryable: false });
    expect(ws.opened[0]?.closed).toBe(true);
    ws.drop();
    expect(timers).toHaveLength(0);
  });

  it('ignores events from a connection it already left behind', async () => {
    const ws = fakeTransport('websocket');
    const { driver } = makeDriver([ws.transport]);
    driver.start();
    await flush();
    const stale = ws.opened[0]!.handlers;
    driver.stop();
    stale.onEvent(content('1', 'ghost'));
    expect(driver.getState().content).toBe('');
  });

  it('tells its listener about every change', async () => {
    const ws = fakeTransport('websocket');
    const onChange = jest.fn();
    const { driver } = makeDriver([ws.transport], { onChange });
    driver.start();
    await flush();
    ws.open();
    ws.send(content('1', 'x'));
    expect(onChange.mock.calls.map(([s]) => s.status)).toEqual(['connecting', 'streaming', 'streaming']);
  });
});
