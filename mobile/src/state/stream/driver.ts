// Runs one turn's stream: opens a transport, feeds its events to the reducer, reconnects with
// backoff from the last event id, and falls back to the next transport when one never opens.
import {
  initialStreamState,
  isTerminal,
  streamReducer,
  type StreamAction,
  type TurnEvent,
  type TurnStreamState,
} from './machine';

export type CloseReason =
  /** The network or server dropped us; reconnect. */
  | 'lost'
  /** The token was refused; reconnect with a renewed one. */
  | 'auth'
  /** The turn does not exist (or is not ours). */
  | 'not_found';

export interface TransportHandlers {
  onOpen(): void;
  onEvent(event: TurnEvent): void;
  onClose(reason: CloseReason, detail?: string): void;
}

export interface Connection {
  close(): void;
}

export interface Transport {
  name: string;
  open(params: { turnId: string; after: string | null; token: string | null }, handlers: TransportHandlers): Connection;
}

export interface DriverOptions {
  turnId: string;
  /** In order of preference: the first is primary, later ones are fallbacks. */
  transports: Transport[];
  /** The access token for the next connection; `renew` after the server refused one. */
  getToken: (renew: boolean) => Promise<string | null>;
  onChange?: (state: TurnStreamState) => void;
  initial?: TurnStreamState;
  /** How many connections in a row may fail before opening, before trying the next transport. */
  fallbackAfter?: number;
  random?: () => number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class TurnStreamDriver {
  private state: TurnStreamState;
  private connection: Connection | null = null;
  private timer: unknown = null;
  private generation = 0;
  private transportIndex = 0;
  private failuresBeforeOpen = 0;
  private renewToken = false;
  private stopped = false;
  private readonly opts: Required<
    Pick<DriverOptions, 'fallbackAfter' | 'random' | 'now' | 'setTimer' | 'clearTimer'>
  > &
    DriverOptions;

  constructor(options: DriverOptions) {
    this.opts = {
      fallbackAfter: 2,
      random: Math.random,
      now: Date.now,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      ...options,
    };
    this.state = options.initial ?? initialStreamState(options.turnId);
  }

  getState(): TurnStreamState {
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

  /** Marks that the user asked to stop; the turn ends when the server sends `done: cancelled`. */
  cancelRequested(): void {
    this.dispatch({ type: 'cancel_requested' });
  }

  /** Marks the stream failed without a server event (e.g. the cancel call found no turn). */
  fail(code: string, message: string): void {
    this.dispatch({ type: 'fail', code, message });
    this.teardown();
  }

  stop(): void {
    this.stopped = true;
    this.teardown();
  }

  private teardown(): void {
    this.generation += 1;
    if (this.timer !== null) this.opts.clearTimer(this.timer);
    this.timer = null;
    const connection = this.connection;
    this.connection = null;
    connection?.close();
  }

  private dispatch(action: StreamAction): void {
    const next = streamReducer(this.state, action);
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
    if (this.stopped || generation !== this.generation) return;

    const transport = this.opts.transports[this.transportIndex];
    if (!transport) {
      this.dispatch({ type: 'fail', code: 'no_transport', message: 'No way to stream this answer.' });
      return;
    }
    let opened = false;
    const current = () => !this.stopped && generation === this.generation;
    this.connection = transport.open(
      { turnId: this.opts.turnId, after: this.state.lastEventId, token },
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
        },
        onClose: (reason, detail) => {
          if (!current()) return;
          this.connection = null;
          this.generation += 1;
          this.handleClose(reason, opened, detail);
        },
      },
    );
  }

  private handleClose(reason: CloseReason, opened: boolean, detail?: string): void {
    if (isTerminal(this.state)) return;
    if (reason === 'not_found') {
      this.dispatch({ type: 'fail', code: 'not_found', message: detail ?? 'This answer no longer exists.' });
      return;
    }
    if (reason === 'auth') this.renewToken = true;
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
