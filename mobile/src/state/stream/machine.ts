// The turn stream as an explicit state machine: a pure reducer over connection and turn events.
//
//   idle → connecting → streaming → done | error
//              ↑    ↘        ↓
//              └── reconnecting (backoff with jitter, resumes from lastEventId)
import type { TurnFallback, Usage } from '@/api/types';

export type StreamStatus = 'idle' | 'connecting' | 'streaming' | 'reconnecting' | 'done' | 'error';

/** One event of a turn, as both the WebSocket frames and the SSE stream carry it. */
export interface TurnEvent {
  id: string | null;
  type: string;
  data: Record<string, unknown>;
}

export interface StreamError {
  code: string;
  message: string;
  /** Whether reconnecting could help (a lost connection), as opposed to a failed turn. */
  retryable: boolean;
}

export interface TurnTimings {
  queued_at?: string | null;
  started_at?: string | null;
  first_token_at?: string | null;
  finished_at?: string | null;
}

export interface TurnStreamState {
  turnId: string;
  status: StreamStatus;
  reasoning: string;
  content: string;
  /** The resume cursor: the id of the last event applied. */
  lastEventId: string | null;
  seenIds: ReadonlySet<string>;
  queuePosition: number | null;
  /** Set when the DeepThink allowance was spent and the chat model answers instead (`queued`). */
  fallback: TurnFallback | null;
  started: boolean;
  model: string | null;
  /** Consecutive connection failures since the last event; drives the backoff. */
  attempt: number;
  /** Delay before the next reconnect, while reconnecting. */
  retryInMs: number | null;
  cancelRequested: boolean;
  outcome: 'done' | 'cancelled' | null;
  finishReason: string | null;
  usage: Usage | null;
  timings: TurnTimings | null;
  error: StreamError | null;
  /** Client clock (ms) when reasoning began and ended, for "Thought for N seconds". */
  reasoningStartedAt: number | null;
  reasoningEndedAt: number | null;
}

export type StreamAction =
  | { type: 'connect' }
  | { type: 'open' }
  | { type: 'event'; event: TurnEvent; at: number }
  | { type: 'connection_lost'; random: number; reason?: string }
  | { type: 'cancel_requested' }
  | { type: 'fail'; code: string; message: string; retryable?: boolean };

export const BACKOFF = {
  baseMs: 500,
  maxMs: 15_000,
  /** After this many failures in a row without an event, give up and show an error. */
  maxAttempts: 8,
} as const;

/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelay(attempt: number, random: number): number {
  const exp = Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * Math.min(1, Math.max(0, random)));
}

export function initialStreamState(turnId: string): TurnStreamState {
  return {
    turnId,
    status: 'idle',
    reasoning: '',
    content: '',
    lastEventId: null,
    seenIds: new Set(),
    queuePosition: null,
    fallback: null,
    started: false,
    model: null,
    attempt: 0,
    retryInMs: null,
    cancelRequested: false,
    outcome: null,
    finishReason: null,
    usage: null,
    timings: null,
    error: null,
    reasoningStartedAt: null,
    reasoningEndedAt: null,
  };
}

export function isTerminal(state: Pick<TurnStreamState, 'status'>): boolean {
  return state.status === 'done' || state.status === 'error';
}

export function streamReducer(state: TurnStreamState, action: StreamAction): TurnStreamState {
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
      return state.status === 'connecting' ? { ...state, status: 'streaming' } : state;

    case 'event':
      return applyEvent(state, action.event, action.at);

    case 'connection_lost': {
      if (isTerminal(state) || state.status === 'idle') return state;
      const attempt = state.attempt + 1;
      if (attempt > BACKOFF.maxAttempts) {
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

    case 'cancel_requested':
      return isTerminal(state) ? state : { ...state, cancelRequested: true };

    case 'fail':
      if (isTerminal(state)) return state;
      return {
        ...state,
        status: 'error',
        retryInMs: null,
        error: { code: action.code, message: action.message, retryable: action.retryable ?? false },
      };
  }
}

function applyEvent(state: TurnStreamState, event: TurnEvent, at: number): TurnStreamState {
  if (isTerminal(state)) return state;
  // Reconnects replay from the cursor; an id we have applied already must never add text twice.
  if (event.id !== null && state.seenIds.has(event.id)) return state;

  const seenIds = event.id !== null ? new Set(state.seenIds).add(event.id) : state.seenIds;
  const base: TurnStreamState = {
    ...state,
    seenIds,
    lastEventId: event.id ?? state.lastEventId,
    status: 'streaming',
    attempt: 0,
    retryInMs: null,
  };
  const data = event.data ?? {};

  switch (event.type) {
    case 'queued':
      return {
        ...base,
        queuePosition: typeof data.position === 'number' ? data.position : base.queuePosition,
        fallback: isFallback(data.fallback) ? data.fallback : base.fallback,
      };

    case 'started':
      return {
        ...base,
        started: true,
        queuePosition: null,
        model: typeof data.model === 'string' ? data.model : base.model,
      };

    case 'reasoning': {
      const delta = typeof data.delta === 'string' ? data.delta : '';
      return {
        ...base,
        started: true,
        queuePosition: null,
        reasoning: base.reasoning + delta,
        reasoningStartedAt: base.reasoningStartedAt ?? at,
      };
    }

    case 'content': {
      const delta = typeof data.delta === 'string' ? data.delta : '';
      return {
        ...base,
        started: true,
        queuePosition: null,
        content: base.content + delta,
        reasoningEndedAt:
          base.reasoningStartedAt !== null && base.reasoningEndedAt === null ? at : base.reasoningEndedAt,
      };
    }

    case 'done':
      return {
        ...base,
        status: 'done',
        outcome: data.status === 'cancelled' ? 'cancelled' : 'done',
        finishReason: typeof data.finish_reason === 'string' ? data.finish_reason : null,
        usage: (data.usage as Usage | undefined) ?? null,
        timings: (data.timings as TurnTimings | undefined) ?? null,
        queuePosition: null,
        reasoningEndedAt:
          base.reasoningStartedAt !== null && base.reasoningEndedAt === null ? at : base.reasoningEndedAt,
      };

    case 'error':
      return {
        ...base,
        status: 'error',
        queuePosition: null,
        error: {
          code: typeof data.code === 'string' ? data.code : 'failed',
          message: typeof data.message === 'string' ? data.message : 'The answer failed.',
          retryable: false,
        },
        reasoningEndedAt:
          base.reasoningStartedAt !== null && base.reasoningEndedAt === null ? at : base.reasoningEndedAt,
      };

    default:
      // Unknown event types (a newer server) still move the cursor, and change nothing else.
      return base;
  }
}

function isFallback(value: unknown): value is TurnFallback {
  return !!value && typeof value === 'object' && typeof (value as TurnFallback).to === 'string';
}

/** Whole seconds spent reasoning, as measured on this client; null when unknown. */
export function thoughtSeconds(state: TurnStreamState): number | null {
  if (state.reasoningStartedAt === null || state.reasoningEndedAt === null) return null;
  return Math.max(1, Math.round((state.reasoningEndedAt - state.reasoningStartedAt) / 1000));
}
