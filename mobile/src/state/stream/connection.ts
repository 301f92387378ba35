// The connection half of every live stream's state machine (a turn's answer, the user's events):
// a pure reducer over connecting, losing, backing off, going to the background and resuming.
//
//   idle → connecting → streaming → done | error
//              ↑    ↘        ↓
//              └── reconnecting (backoff with jitter)
//   connecting | streaming | reconnecting | resuming → background (app hidden: connection closed)
//   background | reconnecting | error (retryable) → resuming (app back: connect now, from the cursor)

export type ConnectionStatus =
  | 'idle'
  | 'connecting'
  | 'streaming'
  | 'reconnecting'
  | 'background'
  | 'resuming'
  | 'done'
  | 'error';

export interface StreamError {
  code: string;
  message: string;
  /** Whether reconnecting could help (a lost connection), as opposed to a failed turn. */
  retryable: boolean;
}

export interface ConnectionState {
  status: ConnectionStatus;
  /** Consecutive connection failures since the last event; drives the backoff. */
  attempt: number;
  /** Delay before the next reconnect, while reconnecting. */
  retryInMs: number | null;
  error: StreamError | null;
}

export type ConnectionAction =
  | { type: 'connect' }
  | { type: 'open' }
  | { type: 'connection_lost'; random: number; reason?: string }
  | { type: 'fail'; code: string; message: string; retryable?: boolean }
  /** The app went to the background (phone locked, tab hidden): the driver closes the connection. */
  | { type: 'background' }
  /** The app is back: connect at once from the cursor, without waiting out a backoff. */
  | { type: 'resume' };

export const BACKOFF = {
  baseMs: 500,
  maxMs: 15_000,
  /** After this many failures in a row without an event, give up and show an error. */
  maxAttempts: 8,
} as const;

export interface BackoffLimits {
  maxAttempts: number;
}

/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelay(attempt: number, random: number): number {
  const exp = Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * Math.min(1, Math.max(0, random)));
}

export function isTerminal(state: Pick<ConnectionState, 'status'>): boolean {
  return state.status === 'done' || state.status === 'error';
}

/** States in which a connection is open or on its way (what going to the background interrupts). */
const LIVE: ConnectionStatus[] = ['connecting', 'streaming', 'reconnecting', 'resuming'];

export function connectionReducer<S extends ConnectionState>(
  state: S,
  action: ConnectionAction,
  limits: BackoffLimits = BACKOFF,
): S {
  switch (action.type) {
    case 'connect':
      if (state.status === 'idle' || state.status === 'reconnecting') {
        return { ...state, status: 'connecting', retryInMs: null };
      }
      if (state.status === 'error' && state.error?.retryable) {
        return { ...state, status: 'connecting', retryInMs: null, error: null, attempt: 0 };
      }
      return state;

    case 'open':
      return state.status === 'connecting' || state.status === 'resuming' ? { ...state, status: 'streaming' } : state;

    case 'connection_lost': {
      if (isTerminal(state) || state.status === 'idle' || state.status === 'background') return state;
      const attempt = state.attempt + 1;
      if (attempt > limits.maxAttempts) {
        return {
          ...state,
          status: 'error',
          attempt,
          retryInMs: null,
          error: { code: 'connection_lost', message: action.reason ?? 'Connection lost', retryable: true },
        };
      }
      return { ...state, status: 'reconnecting', attempt, retryInMs: backoffDelay(attempt, action.random) };
    }

    case 'fail':
      if (isTerminal(state)) return state;
      return {
        ...state,
        status: 'error',
        retryInMs: null,
        error: { code: action.code, message: action.message, retryable: action.retryable ?? false },
      };

    case 'background':
      return LIVE.includes(state.status) ? { ...state, status: 'background', retryInMs: null } : state;

    case 'resume':
      if (state.status === 'background' || state.status === 'reconnecting') {
        // Time away is no failure of the connection: start the backoff afresh.
        return { ...state, status: 'resuming', retryInMs: null, attempt: 0 };
      }
      if (state.status === 'error' && state.error?.retryable) {
        return { ...state, status: 'resuming', retryInMs: null, error: null, attempt: 0 };
      }
      return state;
  }
}
