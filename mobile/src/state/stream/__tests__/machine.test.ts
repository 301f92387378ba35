import {
  BACKOFF,
  backoffDelay,
  initialStreamState,
  streamReducer,
  thoughtSeconds,
  type StreamAction,
  type TurnEvent,
  type TurnStreamState,
} from '../machine';

const ev = (id: string, type: string, data: Record<string, unknown> = {}): TurnEvent => ({ id, type, data });
const run = (actions: StreamAction[], state: TurnStreamState = initialStreamState('t1')) => actions.reduce(streamReducer, state);
const event = (e: TurnEvent, at = 0): StreamAction => ({ type: 'event', event: e, at });

describe('the turn stream reducer', () => {
  it('goes from idle to connecting to streaming', () => {
    const connecting = run([{ type: 'connect' }]);
    expect(connecting.status).toBe('connecting');
    expect(streamReducer(connecting, { type: 'open' }).status).toBe('streaming');
  });

  it('accumulates reasoning and content deltas and moves the cursor', () => {
    const state = run([
      { type: 'connect' },
      { type: 'open' },
      event(ev('1', 'queued', { position: 3 })),
      event(ev('2', 'started', { model: 'whale-r1' })),
      event(ev('3', 'reasoning', { delta: 'The user ' }), 1000),
      event(ev('4', 'reasoning', { delta: 'asks.' }), 2000),
      event(ev('5', 'content', { delta: 'Blue ' }), 4200),
      event(ev('6', 'content', { delta: 'light.' }), 4300),
    ]);
    expect(state.reasoning).toBe('The user asks.');
    expect(state.content).toBe('Blue light.');
    expect(state.lastEventId).toBe('6');
    expect(state.model).toBe('whale-r1');
    expect(state.queuePosition).toBeNull();
    expect(thoughtSeconds(state)).toBe(3);
  });

  it('keeps the queue position until the turn starts', () => {
    const state = run([{ type: 'connect' }, event(ev('1', 'queued', { position: 2 }))]);
    expect(state.queuePosition).toBe(2);
    expect(state.started).toBe(false);
  });

  it('never applies the same event id twice', () => {
    const once = run([{ type: 'connect' }, event(ev('a', 'content', { delta: 'Hello' }))]);
    const twice = streamReducer(once, event(ev('a', 'content', { delta: 'Hello' })));
    expect(twice).toBe(once);
    expect(twice.content).toBe('Hello');
  });

  it('reconnects with backoff after a lost connection and resumes without doubling text', () => {
    let state = run([{ type: 'connect' }, { type: 'open' }, event(ev('1', 'content', { delta: 'Hel' })), event(ev('2', 'content', { delta: 'lo' }))]);
    state = streamReducer(state, { type: 'connection_lost', random: 0.5 });
    expect(state.status).toBe('reconnecting');
    expect(state.attempt).toBe(1);
    expect(state.retryInMs).toBe(backoffDelay(1, 0.5));
    expect(state.lastEventId).toBe('2');

    state = run([{ type: 'connect' }, { type: 'open' }, event(ev('2', 'content', { delta: 'lo' })), event(ev('3', 'content', { delta: ', world' }))], state);
    expect(state.content).toBe('Hello, world');
    expect(state.status).toBe('streaming');
    expect(state.attempt).toBe(0);
  });

  it('grows the backoff exponentially with jitter, capped', () => {
    expect(backoffDelay(1, 0)).toBe(BACKOFF.baseMs / 2);
    expect(backoffDelay(1, 1)).toBe(BACKOFF.baseMs);
    expect(backoffDelay(3, 1)).toBe(BACKOFF.baseMs * 4);
    expect(backoffDelay(20, 1)).toBe(BACKOFF.maxMs);
    const jittered = backoffDelay(4, 0.3);
    expect(jittered).toBeGreaterThanOrEqual((BACKOFF.baseMs * 8) / 2);
    expect(jittered).toBeLessThanOrEqual(BACKOFF.baseMs * 8);
  });

  it('gives up with a retryable error after too many failures in a row', () => {
    let state = run([{ type: 'connect' }]);
    for (let i = 0; i < BACKOFF.maxAttempts; i += 1) {
      state = run([{ type: 'connection_lost', random: 0 }, { type: 'connect' }], state);
    }
    state = streamReducer(state, { type: 'connection_lost', random: 0 });
    expect(state.status).toBe('error');
    expect(state.error).toMatchObject({ code: 'connection_lost', retryable: true });
    // The retry button starts over, keeping the cursor.
    expect(streamReducer(state, { type: 'connect' })).toMatchObject({ status: 'connecting', attempt: 0, error: null });
  });

  it('ends with done, keeping usage, and ignores anything after', () => {
    const done = run([
      { type: 'connect' },
      event(ev('1', 'reasoning', { delta: 'hmm' }), 0),
      event(ev('2', 'done', { status: 'done', finish_reason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 2, reasoning_tokens: 1 } }), 2000),
    ]);
    expect(done.status).toBe('done');
    expect(done.outcome).toBe('done');
    expect(done.finishReason).toBe('stop');
    expect(done.usage?.completion_tokens).toBe(2);
    expect(thoughtSeconds(done)).toBe(2);
    expect(streamReducer(done, event(ev('3', 'content', { delta: 'late' })))).toBe(done);
    expect(streamReducer(done, { type: 'connection_lost', random: 0 })).toBe(done);
  });

  it('records a cancel request and ends cancelled when the server says so', () => {
    let state = run([{ type: 'connect' }, event(ev('1', 'content', { delta: 'partial' }))]);
    state = streamReducer(state, { type: 'cancel_requested' });
    expect(state.cancelRequested).toBe(true);
    expect(state.status).toBe('streaming');
    state = streamReducer(state, event(ev('2', 'done', { status: 'cancelled', finish_reason: 'cancelled' })));
    expect(state).toMatchObject({ status: 'done', outcome: 'cancelled', content: 'partial' });
  });

  it('ends with a non-retryable error when the turn fails', () => {
    const state = run([{ type: 'connect' }, event(ev('1', 'error', { code: 'worker_lost', message: 'The worker stopped.' }))]);
    expect(state.status).toBe('error');
    expect(state.error).toEqual({ code: 'worker_lost', message: 'The worker stopped.', retryable: false });
    expect(streamReducer(state, { type: 'connect' })).toBe(state);
  });

  it('moves the cursor on unknown event types without changing the text', () => {
    const state = run([{ type: 'connect' }, event(ev('9', 'heartbeat'))]);
    expect(state.lastEventId).toBe('9');
    expect(state.content).toBe('');
  });
});

describe('search and notices in the turn stream', () => {
  const sources = [{ n: 1, title: 'Rayleigh scattering', url: 'https://en.wikipedia.org/wiki/Rayleigh_scattering', site: 'Wikipedia', snippet: '…' }];

  it('follows the research step from searching to read, before the first token', () => {
    const searching = run([{ type: 'connect' }, event(ev('1', 'search', { phase: 'searching', queries: ['sky blue'] }))]);
    expect(searching.search).toEqual({ phase: 'searching', queries: ['sky blue'], sources: [] });
    const read = run([event(ev('2', 'search', { phase: 'read', queries: ['sky blue'], sources: [...sources, { n: 'x' }] }))], searching);
    expect(read.search).toEqual({ phase: 'read', queries: ['sky blue'], sources });
    expect(read.lastEventId).toBe('2');
  });

  it('collects notices once each, also when a reconnect replays them', () => {
    const notice = ev('1', 'notice', { notice: { code: 'search_unavailable', message: 'Search was unavailable; answering from the model alone' } });
    const state = run([{ type: 'connect' }, event(notice), event(notice), event(ev('2', 'notice', {}))]);
    expect(state.notices).toEqual([{ code: 'search_unavailable', message: 'Search was unavailable; answering from the model alone' }]);
  });

  it('forgets them on a restart, as the stream is read again from its first event', () => {
    const state = run([{ type: 'connect' }, event(ev('1', 'search', { phase: 'read', sources })), { type: 'restart' }]);
    expect(state.search).toBeNull();
    expect(state.notices).toEqual([]);
  });
});
