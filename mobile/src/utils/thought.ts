// "Thought for N seconds" for answers that were not streamed on this device.
import type { Message } from '@/api/types';

/**
 * Estimates reasoning time from the saved timings and token counts: the share of the generation
 * time spent on reasoning tokens. Streams measured on this device use their own clock instead.
 */
export function estimateThoughtSeconds(message: Message): number | null {
  if (!message.reasoning_content) return null;
  const first = message.first_token_at ? Date.parse(message.first_token_at) : NaN;
  const finished = message.finished_at ? Date.parse(message.finished_at) : NaN;
  if (Number.isNaN(first) || Number.isNaN(finished) || finished < first) return null;
  const total = (finished - first) / 1000;
  const reasoningTokens = message.usage?.reasoning_tokens ?? 0;
  const completionTokens = message.usage?.completion_tokens ?? 0;
  let share = 1;
  if (reasoningTokens > 0 && completionTokens > 0) {
    // completion_tokens normally includes reasoning tokens (OpenAI's convention); if it is
    // smaller, the server counted them apart.
    share = reasoningTokens / (completionTokens >= reasoningTokens ? completionTokens : reasoningTokens + completionTokens);
  } else if (message.content) {
    share = 0.8;
  }
  return Math.max(1, Math.round(total * share));
}
