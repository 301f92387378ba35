// What to show for one assistant message: the saved message, or its live stream while it runs.
import type { Message, MessageStatus, Notice, Source, TurnFallback } from '@/api/types';
import { estimateThoughtSeconds } from '@/utils/thought';
import { sourcesOf, thoughtSeconds, type StreamStatus, type TurnStreamState } from './machine';

export interface AnswerView {
  content: string;
  reasoning: string;
  /** Reasoning is still arriving (no answer text yet). */
  thinking: boolean;
  /** The answer is still being produced or awaited. */
  generating: boolean;
  status: MessageStatus;
  streamStatus: StreamStatus | null;
  queuePosition: number | null;
  thoughtSeconds: number | null;
  errorMessage: string | null;
  cancelRequested: boolean;
  /** The chat model answered instead of DeepThink. */
  fallback: TurnFallback | null;
  /** "Searching the web…": the research step runs and nothing is read yet. */
  searching: boolean;
  /** The pages read, numbered as the answer's citations. */
  sources: Source[];
  notices: Notice[];
}

const UNSETTLED: MessageStatus[] = ['queued', 'streaming'];

export function isUnsettled(message: Pick<Message, 'role' | 'status'>): boolean {
  return message.role === 'assistant' && UNSETTLED.includes(message.status);
}

export function answerView(message: Message, stream: TurnStreamState | undefined, noted: TurnFallback | null = null): AnswerView {
  const fallback = stream?.fallback ?? noted;
  // The saved message wins once the server has settled it; until then the stream is the truth.
  if (stream && isUnsettled(message)) {
    const streamDone = stream.status === 'done';
    const failed = stream.status === 'error' && !stream.error?.retryable;
    const status: MessageStatus = streamDone
      ? stream.outcome === 'cancelled'
        ? 'cancelled'
        : 'done'
      : failed
        ? 'failed'
        : stream.started
          ? 'streaming'
          : 'queued';
    const generating = !streamDone && !failed;
    return {
      content: stream.content,
      reasoning: stream.reasoning,
      thinking: generating && stream.reasoning.length > 0 && stream.content.length === 0,
      generating,
      status,
      streamStatus: stream.status,
      queuePosition: stream.queuePosition,
      thoughtSeconds: thoughtSeconds(stream) ?? liveSeconds(stream),
      errorMessage: stream.error?.message ?? null,
      cancelRequested: stream.cancelRequested,
      fallback,
      searching: generating && stream.search?.phase === 'searching',
      sources: stream.search ? stream.search.sources : sourcesOf(message.sources),
      notices: stream.notices.length ? stream.notices : noticesOf(message),
    };
  }
  return {
    content: message.content,
    reasoning: message.reasoning_content ?? '',
    thinking: false,
    generating: isUnsettled(message),
    status: message.status,
    streamStatus: stream?.status ?? null,
    queuePosition: null,
    thoughtSeconds: stream ? thoughtSeconds(stream) ?? estimateThoughtSeconds(message) : estimateThoughtSeconds(message),
    errorMessage: message.status === 'failed' ? message.error || null : null,
    cancelRequested: false,
    fallback,
    searching: false,
    sources: sourcesOf(message.sources),
    notices: noticesOf(message),
  };
}

function noticesOf(message: Message): Notice[] {
  return Array.isArray(message.notices) ? message.notices.filter((n) => !!n && typeof n.message === 'string') : [];
}

function liveSeconds(stream: TurnStreamState): number | null {
  if (stream.reasoningStartedAt === null) return null;
  return Math.max(1, Math.round((Date.now() - stream.reasoningStartedAt) / 1000));
}
