// The turn stream as an explicit state machine: a pure reducer over connection and turn events.
// The connection half (connecting, backoff, background and resume) is connection.ts; this adds the
// turn's text, its cursor and its outcome.
//
//   idle → connecting → streaming → done | error
//              ↑    ↘        ↓
//              └── reconnecting (backoff with jitter, resumes from lastEventId)
//   any live state → background (app hidden) → resuming (app back, from lastEventId) → streaming
//   a refused cursor (4400) → restart: the text built from it is dropped and read again from the start
import type { Notice, Source, TurnFallback, Usage } from '@/api/types';
import {
  connectionReducer,
  isTerminal,
  type ConnectionAction,
  type ConnectionStatus,
  type StreamError,
} from './connection';

export { BACKOFF, backoffDelay, isTerminal } from './connection';
export type { StreamError } from './connection';

export type StreamStatus = ConnectionStatus;

/** One event of a stream: a turn's as both the WebSocket frames and the SSE stream carry it, or a user event. */
export interface TurnEvent {
  id: string | null;
  type: string;
  data: Record<string, unknown>;
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
  /** The research step, before the first token: null when the turn has none (or not yet). */
  search: SearchProgress | null;
  /** `notice` events: search unavailable, a file only partly read. */
  notices: Notice[];
}

export interface SearchProgress {
  phase: 'searching' | 'read';
  queries: string[];
  sources: Source[];
}

/** What the driver tells every stream's machine (the user event stream's too). */
export type DriverAction =
  | ConnectionAction
  | { type: 'event'; event: TurnEvent; at: number }
  /** The server refused the cursor (WebSocket 4400, SSE 400 invalid_cursor): it will never work. */
  | { type: 'restart' }
  /** The server has nothing after the cursor (SSE 204, WebSocket 1000 before a terminal event). */
  | { type: 'ended' };

export type StreamAction =
  | DriverAction
  | { type: 'cancel_requested' }
  /** The stop call was refused: the turn goes on, and so does its Stop button. */
  | { type: 'cancel_failed' };

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
    search: null,
    notices: [],
  };
}

export function streamReducer(state: TurnStreamState, action: StreamAction): TurnStreamState {
  switch (action.type) {
    case 'event':
      return applyEvent(state, action.event, action.at);

    case 'cancel_requested':
      return isTerminal(state) ? state : { ...state, cancelRequested: true };

    case 'cancel_failed':
      return isTerminal(state) || !state.cancelRequested ? state : { ...state, cancelRequested: false };

    case 'restart':
      // Read the turn again from its first event: the server rebuilds every word, so nothing is doubled.
      if (isTerminal(state)) return state;
      return {
        ...initialStreamState(state.turnId),
        status: 'connecting',
        fallback: state.fallback,
        cancelRequested: state.cancelRequested,
      };

    case 'ended':
      // Finished without us seeing its last event: the saved message (refetched) tells the rest.
      if (isTerminal(state)) return state;
      return { ...state, status: 'done', retryInMs: null, queuePosition: null };

    default:
      return connectionReducer(state, action);
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

    case 'search':
      return { ...base, search: searchProgress(data, base.search) };

    case 'notice': {
      const notice = data.notice as Notice | undefined;
      if (!notice || typeof notice.message !== 'string') return base;
      return { ...base, notices: [...base.notices, { ...notice, code: typeof notice.code === 'string' ? notice.code : 'notice' }] };
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

function searchProgress(data: Record<string, unknown>, previous: SearchProgress | null): SearchProgress {
  const queries = Array.isArray(data.queries) ? data.queries.filter((q): q is string => typeof q === 'string') : (previous?.queries ?? []);
  if (data.phase !== 'read') return { phase: 'searching', queries, sources: [] };
  return { phase: 'read', queries, sources: sourcesOf(data.sources) };
}

/** Keeps the well-formed sources, whatever else a server sends. */
export function sourcesOf(value: unknown): Source[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (s): s is Source => !!s && typeof s === 'object' && typeof (s as Source).n === 'number' && typeof (s as Source).url === 'string',
  );
}

function isFallback(value: unknown): value is TurnFallback {
  return !!value && typeof value === 'object' && typeof (value as TurnFallback).to === 'string';
}

/** Whole seconds spent reasoning, as measured on this client; null when unknown. */
export function thoughtSeconds(state: TurnStreamState): number | null {
  if (state.reasoningStartedAt === null || state.reasoningEndedAt === null) return null;
  return Math.max(1, Math.round((state.reasoningEndedAt - state.reasoningStartedAt) / 1000));
}
