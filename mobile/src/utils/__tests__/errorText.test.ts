import { ApiError } from '@/api/errors';
import { translate } from '@/locale';
import { canRetry, describeError, formatWait } from '../errorText';

const t = (key: Parameters<typeof translate>[1], params?: Record<string, string | number>) => translate('en', key, params);

describe('describeError and canRetry', () => {
  it('says how long a message may be, and offers no retry that cannot succeed', () => {
    const error = new ApiError({ status: 400, code: 'message_too_long', message: 'Some fields are invalid.', limit: { name: 'max_message_chars', value: 8000 } });
    expect(describeError(error, t)).toBe('This message is too long: at most 8,000 characters on your plan. Shorten it and send again.');
    expect(canRetry(error)).toBe(false);
  });

  it('says a suspended account is suspended', () => {
    const error = new ApiError({ status: 403, code: 'account_suspended', message: 'Forbidden' });
    expect(describeError(error, t)).toBe('This account is suspended. Contact support if you think this is a mistake.');
    expect(canRetry(error)).toBe(false);
  });

  it('lets a short rate limit be retried after its wait, not a daily one', () => {
    const minute = new ApiError({ status: 429, code: 'requests_per_minute_exceeded', message: '', retryAfter: 28 });
    expect(canRetry(minute)).toBe(true);
    const day = new ApiError({ status: 429, code: 'turns_per_day_exceeded', message: '', retryAfter: 5 * 3600 });
    expect(canRetry(day)).toBe(false);
    expect(describeError(day, t)).toBe("You have reached today's limit. It resets in 5 h.");
  });

  it('retries what a retry can fix: a busy server, a lost connection, a server error', () => {
    expect(canRetry(new ApiError({ status: 503, code: 'server_busy', message: '', retryAfter: 4 }))).toBe(true);
    expect(canRetry(new ApiError({ status: 0, code: 'network_error', message: '', kind: 'network' }))).toBe(true);
    expect(canRetry(new ApiError({ status: 500, code: 'server_error', message: '' }))).toBe(true);
    expect(canRetry(new ApiError({ status: 400, code: 'context_length_exceeded', message: '' }))).toBe(false);
  });

  it('formats waits in seconds, minutes and hours', () => {
    expect(formatWait(28, t)).toBe('28 s');
    expect(formatWait(600, t)).toBe('10 min');
    expect(formatWait(5 * 3600 - 20, t)).toBe('5 h');
    expect(translate('zh', 'error.retryIn', { wait: formatWait(28, (k, p) => translate('zh', k, p)) })).toBe('28 秒后重试。');
  });
});
