// Background and resume, a refused cursor, and a turn that finished while we were away, on the
// real timers' clock (jest's fake timers): minutes pass in a call.
import { AppState } from 'react-native';

import { BACKOFF, connectionReducer, type ConnectionState } from '../connection';
import { TurnStreamDriver, type CloseReason, type Transport, type TransportHandlers } from '../driver';
import { initialStreamState, streamReducer, type TurnEvent } from '../machine';
import { attachTurn, detachAllTurns, onTurnRestarted, onTurnSettled, useTurnStreams } from '../turnStreams';

jest.mock('@/api', () => ({ currentAccessToken: async () => 'token', refreshAccessToken: async () => 'fresh' }));

interface Opened {
  after: string | null;
  token: string | null;
  handlers: TransportHandlers;
  closed: boolean;
}

function handTransport() {
  const opened: Opened[] = [];
  const transport: Transport = {
    name: 'hand',
    open({ after, token }, handlers) {
      const connection: Opened = { after, token, handlers, closed: false };
      opened.push(connection);
      return { close: () => void (connection.closed = true) };
    },
  };
  const last = () => opened[opened.length - 1]!;
  return {
    transport,
    opened,
    open: () => last().handlers.onOpen(),
    send: (...events: TurnEvent[]) => events.forEach((event) => last().handlers.onEvent(event)),
    drop: (reason: CloseReason = 'lost') => last().handlers.onClose(reason),
  };
}

const content = (id: string, delta: string): TurnEvent => ({ id, type: 'content', data: { delta } });
const MINUTES = 60_000;
/** Lets the driver's token lookup (a promise) finish, and any timers due by then run. */
const settle = (ms = 0) => jest.advanceTimersByTimeAsync(ms);

beforeEach(() => jest.useFakeTimers());
afterEach(() => {
  detachAllTurns();
  jest.useRealTimers();
});

describe('the connection machine', () => {
  const live = (status: ConnectionState['status'], extra: Partial<ConnectionState> = {}): ConnectionState => ({
    status,
    attempt: 0,
    retryInMs: null,
    error: null,
    ...extra,
  });

  it('goes to the background from every live state, and not from an ended one', () => {
    for (const status of ['connecting', 'streaming', 'reconnecting', 'resuming'] as const) {
      expect(connectionReducer(live(status, { retryInMs: 900 }), { type: 'background' })).toMatchObject({ status: 'background', retryInMs: null });
    }
    const done = live('done');
    expect(connectionReducer(done, { type: 'background' })).toBe(done);
  });

  it('counts no failures while in the background', () => {
    const away = live('background', { attempt: 3 });
    expect(connectionReducer(away, { type: 'connection_lost', random: 0.5 })).toBe(away);
  });

  it('resumes with a fresh backoff, also after it had given up', () => {
    expect(connectionReducer(live('background', { attempt: 5 }), { type: 'resume' })).toMatchObject({ status: 'resuming', attempt: 0 });
    expect(connectionReducer(live('reconnecting', { attempt: 4, retryInMs: 8000 }), { type: 'resume' })).toMatchObject({ status: 'resuming', attempt: 0, retryInMs: null });
    const gaveUp = live('error', { attempt: BACKOFF.maxAttempts + 1, error: { code: 'connection_lost', message: 'Lost', retryable: true } });
    expect(connectionReducer(gaveUp, { type: 'resume' })).toMatchObject({ status: 'resuming', error: null, attempt: 0 });
    const failed = live('error', { error: { code: 'deadline_exceeded', message: 'Too slow', retryable: false } });
    expect(connectionReducer(failed, { type: 'resume' })).toBe(failed);
    expect(connectionReducer(live('resuming'), { type: 'open' }).status).toBe('streaming');
  });

  it('drops the text built on a refused cursor, keeping the stop the user asked for', () => {
    let state = streamReducer(initialStreamState('t'), { type: 'connect' });
    state = streamReducer(state, { type: 'event', event: content('1', 'Hel'), at: 0 });
    state = streamReducer(state, { type: 'cancel_requested' });
    const restarted = streamReducer(state, { type: 'restart' });
    expect(restarted).toMatchObject({ status: 'connecting', content: '', lastEventId: null, cancelRequested: true });
    expect(restarted.seenIds.size).toBe(0);
  });

  it('ends a turn the server says is over, with what it has', () => {
    let state = streamReducer(initialStreamState('t'), { type: 'connect' });
    state = streamReducer(state, { type: 'event', event: content('1', 'Partial'), at: 0 });
    expect(streamReducer(state, { type: 'ended' })).toMatchObject({ status: 'done', outcome: null, content: 'Partial' });
  });
});

describe('the driver in the background', () => {
  function makeDriver(onRestart?: () => void) {
    const hand = handTransport();
    const driver = new TurnStreamDriver({ turnId: 't1', transports: [hand.transport], getToken: async () => 'token', random: () => 0.5, onRestart });
    return { hand, driver };
  }

  it('closes the connection, waits out the minutes with no reconnects, and resumes from its cursor', async () => {
    const { hand, driver } = makeDriver();
    driver.start();
    await settle();
    hand.open();
    hand.send(content('1', 'Blue '), content('2', 'light'));

    driver.background();
    expect(driver.getState().status).toBe('background');
    expect(hand.opened[0]?.closed).toBe(true);
    // The phone stays locked; a socket the OS killed reports nothing we listen to any more.
    hand.drop();
    await settle(10 * MINUTES);
    expect(hand.opened).toHaveLength(1);
    expect(driver.getState()).toMatchObject({ status: 'background', attempt: 0 });

    driver.resume();
    expect(driver.getState().status).toBe('resuming');
    await settle();
    expect(hand.opened).toHaveLength(2);
    expect(hand.opened[1]?.after).toBe('2');
    hand.open();
    hand.send(content('2', 'light'), content('3', ' scatters.'), { id: '4', type: 'done', data: { status: 'done' } });
    expect(driver.getState()).toMatchObject({ status: 'done', content: 'Blue light scatters.' });
  });

  it('cuts a long backoff short when the app comes back', async () => {
    const { hand, driver } = makeDriver();
    driver.start();
    await settle();
    for (let i = 0; i < 5; i += 1) {
      hand.drop();
      await settle(driver.getState().retryInMs ?? 0);
    }
    hand.drop();
    expect(driver.getState().retryInMs).toBeGreaterThan(5000);
    driver.background();
    await settle(10 * MINUTES);
    const before = hand.opened.length;

    driver.resume();
    await settle();
    expect(hand.opened).toHaveLength(before + 1);
  });

  it('tries again by itself when the app returns after it had given up', async () => {
    const { hand, driver } = makeDriver();
    driver.start();
    await settle();
    for (let i = 0; i <= BACKOFF.maxAttempts; i += 1) {
      hand.drop();
      await settle(BACKOFF.maxMs);
    }
    expect(driver.getState().error).toMatchObject({ retryable: true });
    const before = hand.opened.length;

    driver.resume();
    await settle();
    expect(hand.opened).toHaveLength(before + 1);
  });
});

describe('a refused cursor (4400)', () => {
  it('is never sent again: the turn is read from its start, at once, and nothing is doubled', async () => {
    const onRestart = jest.fn();
    const hand = handTransport();
    const driver = new TurnStreamDriver({ turnId: 't1', transports: [hand.transport], getToken: async () => 'token', onRestart });
    driver.start();
    await settle();
    hand.open();
    hand.send(content('1', 'Blue '), content('2', 'light'));
    hand.drop();
    await settle(BACKOFF.maxMs);
    expect(hand.opened[1]?.after).toBe('2');

    hand.drop('bad_cursor'); // the server cannot take '2'
    expect(onRestart).toHaveBeenCalledTimes(1);
    expect(driver.getState()).toMatchObject({ status: 'connecting', content: '', lastEventId: null });
    await settle();
    expect(hand.opened).toHaveLength(3);
    expect(hand.opened[2]?.after).toBeNull();
    hand.open();
    hand.send(content('1', 'Blue '), content('2', 'light'), content('3', '.'));
    expect(driver.getState().content).toBe('Blue light.');
  });

  it('without a cursor counts as a lost connection, not a loop of restarts', async () => {
    const onRestart = jest.fn();
    const hand = handTransport();
    const driver = new TurnStreamDriver({ turnId: 't1', transports: [hand.transport], getToken: async () => 'token', onRestart });
    driver.start();
    await settle();
    hand.drop('bad_cursor');
    expect(onRestart).not.toHaveBeenCalled();
    expect(driver.getState().status).toBe('reconnecting');
  });
});

describe('the app going away and coming back (AppState)', () => {
  function appStateListener(): (state: string) => void {
    const calls = (AppState.addEventListener as jest.Mock).mock.calls;
    const listener = calls[calls.length - 1]?.[1];
    if (!listener) throw new Error('no AppState listener');
    return listener;
  }

  it('closes every stream when the phone locks and resumes them from their cursors when it is back, without a tap', async () => {
    const hand = handTransport();
    attachTurn('t1', [hand.transport]);
    await settle();
    hand.open();
    hand.send(content('1', 'Blue'));
    const changed = appStateListener();

    changed('inactive'); // the app switcher: a glance away
    expect(hand.opened[0]?.closed).toBe(false);
    changed('background');
    expect(hand.opened[0]?.closed).toBe(true);
    expect(useTurnStreams.getState().streams.t1?.status).toBe('background');
    await settle(5 * MINUTES);
    expect(hand.opened).toHaveLength(1);

    changed('active');
    await settle();
    expect(hand.opened).toHaveLength(2);
    expect(hand.opened[1]?.after).toBe('1');
    hand.open();
    expect(useTurnStreams.getState().streams.t1?.status).toBe('streaming');
  });

  it('ends a turn that finished while the app was away (204 / close 1000) and says so, for a refetch', async () => {
    const settled = jest.fn();
    const off = onTurnSettled(settled);
    const hand = handTransport();
    attachTurn('t1', [hand.transport]);
    await settle();
    hand.open();
    hand.send(content('1', 'Blue'));
    const changed = appStateListener();
    changed('background');
    changed('active');
    await settle();

    hand.drop('finished');
    expect(useTurnStreams.getState().streams.t1).toMatchObject({ status: 'done', content: 'Blue' });
    expect(settled).toHaveBeenCalledWith('t1', expect.objectContaining({ status: 'done' }));
    await settle(BACKOFF.maxMs);
    expect(hand.opened).toHaveLength(2);
    off();
  });

  it('tells the app to read the saved answer when a stream starts over', async () => {
    const restarted = jest.fn();
    const off = onTurnRestarted(restarted);
    const hand = handTransport();
    attachTurn('t1', [hand.transport]);
    await settle();
    hand.open();
    hand.send(content('1', 'Blue'));
    hand.drop();
    await settle(BACKOFF.maxMs);
    hand.drop('bad_cursor');
    expect(restarted).toHaveBeenCalledWith('t1', expect.objectContaining({ content: '' }));
    off();
  });
});
