// Every failed request in words: what went wrong, what to do, and whether retrying can help.
import { isApiError } from '@/api/errors';
import type { Translate } from '@/locale';

/** "28 s", "4 min", "5 h": how long until something can be tried again. */
export function formatWait(seconds: number, t: Translate): string {
  if (seconds < 120) return t('time.seconds', { n: Math.max(1, Math.ceil(seconds)) });
  if (seconds < 2 * 3600) return t('time.minutes', { n: Math.ceil(seconds / 60) });
  return t('time.hours', { n: Math.round(seconds / 3600) });
}

const DAILY_LIMITS = ['turns_per_day_exceeded', 'reasoning_turns_per_day_exceeded', 'tokens_per_day_exceeded'];

/** What went wrong and what to do about it, in the user's language. */
export function describeError(error: unknown, t: Translate): string {
  if (!isApiError(error)) return t('error.generic');
  if (error.isNetwork) return t('error.network');
  if (error.code === 'account_suspended') return t('error.suspended');
  if (error.code === 'message_too_long') {
    const limit = error.limit?.value;
    return limit ? t('error.messageTooLong', { limit: limit.toLocaleString('en-US') }) : t('error.messageTooLongUnknown');
  }
  if (error.code === 'context_length_exceeded') return t('error.contextTooLong');
  if (DAILY_LIMITS.includes(error.code)) {
    return error.retryAfter ? t('error.dailyLimit', { wait: formatWait(error.retryAfter, t) }) : t('error.dailyLimitNoTime');
  }
  if (error.isRateLimited) return t('error.rateLimited');
  if (error.isServerBusy) return t('error.serverBusy');
  return error.message || t('error.generic');
}

/**
 * Whether sending the same thing again can succeed: after a lost connection, a busy server or a
 * short rate limit (once its wait is over), not after a refusal such as a too-long message, a
 * daily limit or a suspended account.
 */
export function canRetry(error: unknown): boolean {
  if (!isApiError(error)) return true;
  if (error.isNetwork || error.status >= 500) return true;
  if (error.isRateLimited) return !DAILY_LIMITS.includes(error.code) && (error.retryAfter ?? 0) <= 300;
  return false;
}
