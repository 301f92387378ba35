// One error type for every failed request, parsed from the API's single error shape.
export type ApiErrorKind = 'http' | 'network' | 'offline';

export interface ApiErrorInit {
  status: number;
  code: string;
  message: string;
  fields?: Record<string, string[]>;
  retryAfter?: number;
  limit?: ErrorLimit;
  kind?: ApiErrorKind;
}

/** Which limit refused a request and its value on the user's plan (`max_message_chars`, 8000). */
export interface ErrorLimit {
  name: string;
  value?: number;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields?: Record<string, string[]>;
  /** Seconds to wait before retrying, from `Retry-After` or `error.retry_after`. */
  readonly retryAfter?: number;
  readonly limit?: ErrorLimit;
  readonly kind: ApiErrorKind;

  constructor(init: ApiErrorInit) {
    super(init.message);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.fields = init.fields;
    this.retryAfter = init.retryAfter;
    this.limit = init.limit;
    this.kind = init.kind ?? 'http';
  }

  get isRateLimited(): boolean {
    return this.status === 429;
  }

  get isServerBusy(): boolean {
    return this.status === 503 || this.code === 'server_busy';
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }

  get isNetwork(): boolean {
    return this.kind !== 'http';
  }

  /** The first message for one field, for showing under an input. */
  fieldError(name: string): string | undefined {
    return this.fields?.[name]?.[0];
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

/** Parses `Retry-After` as seconds or as an HTTP date. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed));
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'not_authenticated',
  403: 'permission_denied',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  429: 'rate_limited',
  500: 'server_error',
  502: 'bad_gateway',
  503: 'server_busy',
  504: 'gateway_timeout',
};

interface ErrorBody {
  error?: {
    code?: unknown;
    message?: unknown;
    fields?: unknown;
    retry_after?: unknown;
    limit?: unknown;
    limit_value?: unknown;
  };
  detail?: unknown;
}

/** Builds an ApiError from any failed response, whether or not its body is the documented shape. */
export async function parseErrorResponse(response: Response): Promise<ApiError> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    text = '';
  }
  return parseErrorBody(response.status, text, response.headers.get('Retry-After'));
}

/** The same from a status and a body read some other way (an upload's XMLHttpRequest). */
export function parseErrorBody(status: number, text: string, retryAfter: string | null = null): ApiError {
  let body: ErrorBody | undefined;
  try {
    body = text ? (JSON.parse(text) as ErrorBody) : undefined;
  } catch {
    body = undefined;
  }
  const error = body?.error;
  const headerRetry = parseRetryAfter(retryAfter);
  const bodyRetry = typeof error?.retry_after === 'number' ? Math.ceil(error.retry_after) : undefined;
  const fields = isFieldMap(error?.fields) ? error.fields : undefined;
  return new ApiError({
    status,
    code: typeof error?.code === 'string' ? error.code : (STATUS_CODES[status] ?? 'error'),
    message:
      typeof error?.message === 'string'
        ? error.message
        : typeof body?.detail === 'string'
          ? body.detail
          : `Request failed with status ${status}`,
    fields,
    retryAfter: headerRetry ?? bodyRetry,
    limit: parseLimit(error?.limit, error?.limit_value),
  });
}

/** `error.limit` names the limit and `error.limit_value` gives its value (docs/api.md). */
function parseLimit(value: unknown, limitValue: unknown): ErrorLimit | undefined {
  if (typeof value === 'string') return { name: value, value: typeof limitValue === 'number' ? limitValue : undefined };
  if (!value || typeof value !== 'object') return undefined;
  const { name, value: limit } = value as { name?: unknown; value?: unknown };
  if (typeof name !== 'string') return undefined;
  return { name, value: typeof limit === 'number' ? limit : undefined };
}

function isFieldMap(value: unknown): value is Record<string, string[]> {
  if (!value || typeof value !== 'object') return false;
  return Object.values(value).every((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'));
}

export function networkError(cause: unknown): ApiError {
  const message = cause instanceof Error ? cause.message : 'Network request failed';
  return new ApiError({ status: 0, code: 'network_error', message, kind: 'network' });
}
