// Runs a live stream: opens a transport, feeds its events to the stream's reducer, reconnects with
// backoff from the cursor, falls back to the next transport when one never opens, closes the
// connection while the app is in the background and resumes from the cursor when it is back.
// StreamDriver is the machinery every stream shares; TurnStreamDriver reads one turn's answer.
import { isTerminal, type ConnectionState } from './connection';
import {
  initialStreamState,
  streamReducer,
  type DriverAction,
  type StreamAction,
  type TurnEvent,
  type TurnStreamState,
} from './machine';

export type CloseReason =
  /** The network or server dropped us; reconnect. */
  | 'lost'
  /** The token was refused (WebSocket 4401, HTTP 401); reconnect with a renewed one. */
  | 'auth'
  /** Refused for good (WebSocket 4403, HTTP 403): a suspended account on the user event stream. */
  | 'forbidden'
  /** The turn does not exist (or is not ours). */
  | 'not_found'
  /** The cursor was refused (WebSocket 4400, HTTP 400): retrying it can never work. */
  | 'bad_cursor'
  /** Nothing comes after the cursor (WebSocket 1000 before a terminal event, HTTP 204). */
  | 'finished';

export interface TransportHandlers {
  onOpen(): void;
  onEvent(event: TurnEvent): void;
  onClose(reason: CloseReason, detail?: string): void;
}

export interface Connection {
  close(): void;
}

export interface OpenParams {
  /** What to read: a turn id (the user event stream has only one, and ignores it). */
  stream: string;
  after: string | null;
  token: string | null;
}

export interface Transport {
  name: string;
  open(params: OpenParams, handlers: TransportHandlers): Connection;
}

interface Timing {
  /** How many connections in a row may fail before opening, before trying the next transport. */
  fallbackAfter?: number;
  random?: () => number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** `A`: actions of the stream's own, beyond the driver's (a turn's cancel). */
export interface StreamDriverOptions<S extends ConnectionState, A = never> extends Timing {
  stream: string;
  /** In order of preference: the first is primary, later ones are fallbacks. */
  transports: Transport[];
  /** The access token for the next connection; `renew` after the server refused one. */
  getToken: (renew: boolean) => Promise<string | null>;
  reducer: (state: S, action: DriverAction | A) => S;
  initial: S;
  /** Where to resume from (none for a stream without a cursor). */
  cursor?: (state: S) => string | null;
  onChange?: (state: S) => void;
  /** Sees every event after the reducer has (the user event stream acts on them). */
  onEvent?: (event: TurnEvent) => void;
  /** A refused cursor made the stream start over: what was built from it is gone. */
  onRestart?: () => void;
  /** Refused for good: the driver stops. Without it a 4403 counts as a refused token. */
  onForbidden?: () => void;
}

export class StreamDriver<S extends ConnectionState, A = never> {
  protected state: S;
  private connection: Connection | null = null;
  private timer: unknown = null;
  private generation = 0;
  private transportIndex = 0;
  private failuresBeforeOpen = 0;
  private renewToken = false;
  private stopped = false;
  private readonly opts: Required<Timing> & StreamDriverOptions<S, A>;

  constructor(options: StreamDriverOptions<S, A>) {
    this.opts = {
      fallbackAfter: 2,
      random: Math.random,
      now: Date.now,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      ...options,
    };
    this.state = options.initial;
  }

  getState(): S {
    return this.state;
  }

  get transportName(): string {
    return this.opts.transports[this.transportIndex]?.name ?? 'none';
  }

  start(): void {
    this.stopped = false;
    this.dispatch({ type: 'connect' });
    if (this.state.status === 'connecting') void this.connect();
  }

  /** Reconnect by hand after the driver gave up (the "retry" button). */
  retry(): void {
    if (this.state.status !== 'error' || !this.state.error?.retryable) return;
    this.start();
  }

  /** The app went to the background: close the connection, keep the cursor, schedule nothing. */
  background(): void {
    if (this.stopped) return;
    this.dispatch({ type: 'background' });
    if (this.state.status === 'background') this.teardown();
  }

  /** The app is back (or the network is): connect now from the cursor, without a tap. */
  resume(): void {
    if (this.stopped) return;
    this.dispatch({ type: 'resume' });
    if (this.state.status !== 'resuming') return;
    this.teardown();
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.teardown();
  }

  protected teardown(): void {
    this.generation += 1;
    if (this.timer !== null) this.opts.clearTimer(this.timer);
    this.timer = null;
    const connection = this.connection;
    this.connection = null;
    connection?.close();
  }

  protected dispatch(action: DriverAction | A): void {
    const next = this.opts.reducer(this.state, action);
    if (next === this.state) return;
    this.state = next;
    this.opts.onChange?.(next);
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    const renew = this.renewToken;
    this.renewToken = false;
    let token: string | null;
    try {
      token = await this.opts.getToken(renew);
    } catch {
      token = null;
    }
    // No token could be had (offline, say): ask again next time.
    if (renew && !token) this.renewToken = true;
    if (this.stopped || generation !== this.generation) return;

    const transport = this.opts.transports[this.transportIndex];
    if (!transport) {
      this.dispatch({ type: 'fail', code: 'no_transport', message: 'No way to stream this answer.' });
      return;
    }
    let opened = false;
    const after = this.opts.cursor?.(this.state) ?? null;
    const current = () => !this.stopped && generation === this.generation;
    this.connection = transport.open(
      { stream: this.opts.stream, after, token },
      {
        onOpen: () => {
          if (!current()) return;
          opened = true;
          this.failuresBeforeOpen = 0;
          this.dispatch({ type: 'open' });
        },
        onEvent: (event) => {
          if (!current()) return;
          opened = true;
          this.failuresBeforeOpen = 0;
          this.dispatch({ type: 'event', event, at: this.opts.now() });
          if (isTerminal(this.state)) this.teardown();
          this.opts.onEvent?.(event);
        },
        onClose: (reason, detail) => {
          if (!current()) return;
          this.connection = null;
          this.generation += 1;
          this.handleClose(reason, opened, after, detail);
        },
      },
    );
  }

  private handleClose(reason: CloseReason, opened: boolean, after: string | null, detail?: string): void {
    if (isTerminal(this.state)) return;
    switch (reason) {
      case 'not_found':
        this.dispatch({ type: 'fail', code: 'not_found', message: detail ?? 'This answer no longer exists.' });
        return;
      case 'finished':
        this.dispatch({ type: 'ended' });
        if (isTerminal(this.state)) return;
        break; // a stream that never ends (the user's events): the server went away, reconnect
      case 'bad_cursor':
        if (after !== null) {
          // Never again with the same cursor: start over from the first event.
          this.dispatch({ type: 'restart' });
          this.opts.onRestart?.();
          if (this.state.status === 'connecting') {
            void this.connect();
            return;
          }
        }
        break;
      case 'forbidden':
        if (this.opts.onForbidden) {
          this.stop();
          this.opts.onForbidden();
          return;
        }
        this.renewToken = true;
        break;
      case 'auth':
        this.renewToken = true;
        break;
      case 'lost':
        break;
    }
    if (!opened) {
      this.failuresBeforeOpen += 1;
      const hasFallback = this.transportIndex < this.opts.transports.length - 1;
      if (this.failuresBeforeOpen >= this.opts.fallbackAfter && hasFallback) {
        this.transportIndex += 1;
        this.failuresBeforeOpen = 0;
      }
    }
    this.dispatch({ type: 'connection_lost', random: this.opts.random(), reason: detail });
    if (this.state.status !== 'reconnecting') return;
    this.timer = this.opts.setTimer(() => {
      this.timer = null;
      if (this.stopped) return;
      this.dispatch({ type: 'connect' });
      if (this.state.status === 'connecting') void this.connect();
    }, this.state.retryInMs ?? 0);
  }
}

export interface DriverOptions extends Timing {
  turnId: string;
  /** In order of preference: the first is primary, later ones are fallbacks. */
  transports: Transport[];
  /** The access token for the next connection; `renew` after the server refused one. */
  getToken: (renew: boolean) => Promise<string | null>;
  onChange?: (state: TurnStreamState) => void;
  /** The stream started over after its cursor was refused: refetch the saved message. */
  onRestart?: () => void;
  initial?: TurnStreamState;
}

/** Reads one turn's answer, resuming from the last event id it applied. */
export class TurnStreamDriver extends StreamDriver<TurnStreamState, StreamAction> {
  constructor({ turnId, initial, ...options }: DriverOptions) {
    super({
      ...options,
      stream: turnId,
      initial: initial ?? initialStreamState(turnId),
      cursor: (state) => state.lastEventId,
      reducer: streamReducer,
    });
  }

  /** Marks that the user asked to stop; the turn ends when the server sends `done: cancelled`. */
  cancelRequested(): void {
    this.dispatch({ type: 'cancel_requested' });
  }

  /** The stop call was refused: the answer goes on. */
  cancelFailed(): void {
    this.dispatch({ type: 'cancel_failed' });
  }

  /** Marks the stream failed without a server event (e.g. the cancel call found no turn). */
  fail(code: string, message: string): void {
    this.dispatch({ type: 'fail', code, message });
    this.teardown();
  }
}
