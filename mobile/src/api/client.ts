// A small fetch wrapper: JSON in and out, one error type, bearer auth with one refresh-and-retry.
import { ApiError, networkError, parseErrorResponse } from './errors';
export type { ApiError };

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  /** Send the access token (default true). */
  auth?: boolean;
  /** Extra headers, e.g. `X-Whale-Client`. */
  headers?: Record<string, string>;
  /** Return the raw Response instead of parsed JSON (downloads). */
  raw?: boolean;
  signal?: AbortSignal;
}

export interface ApiClientDeps {
  baseUrl: () => string;
  getAccessToken: () => string | null;
  /** Gets a fresh access token, or null when the session cannot be renewed. */
  refreshAccessToken: () => Promise<string | null>;
  /** Called when a request stays unauthorised after a refresh. */
  onSessionExpired: () => void;
  /** Sees every error response, e.g. to end the session of a suspended account. */
  onError?: (error: ApiError) => void;
  /** Web clients send cookies with every request and say who they are. */
  web: boolean;
  fetchImpl?: typeof fetch;
}

export interface ApiClient {
  request<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
  get<T>(path: string, options?: RequestOptions): Promise<T>;
  post<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  patch<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  delete<T = void>(path: string, options?: RequestOptions): Promise<T>;
  url(path: string, query?: Query): string;
}

export function buildUrl(base: string, path: string, query?: Query): string {
  const url = /^https?:\/\//.test(path) ? path : `${base}${path.startsWith('/') ? '' : '/'}${path}`;
  if (!query) return url;
  const params = Object.entries(query)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  if (params.length === 0) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${params.join('&')}`;
}

export function createApiClient(deps: ApiClientDeps): ApiClient {
  const doFetch = deps.fetchImpl ?? ((input, init) => fetch(input, init));

  async function send(method: string, path: string, options: RequestOptions, token: string | null) {
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.auth !== false && token) headers.Authorization = `Bearer ${token}`;
    if (deps.web) headers['X-Whale-Client'] = 'web';
    try {
      return await doFetch(buildUrl(deps.baseUrl(), path, options.query), {
        method,
        headers,
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
        credentials: deps.web ? 'include' : 'omit',
        signal: options.signal,
      });
    } catch (cause) {
      throw networkError(cause);
    }
  }

  async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const wantsAuth = options.auth !== false;
    let response = await send(method, path, options, wantsAuth ? deps.getAccessToken() : null);

    if (response.status === 401 && wantsAuth) {
      const fresh = await deps.refreshAccessToken();
      if (!fresh) {
        deps.onSessionExpired();
        throw await parseErrorResponse(response);
      }
      response = await send(method, path, options, fresh);
      if (response.status === 401) {
        deps.onSessionExpired();
        throw await parseErrorResponse(response);
      }
    }

    if (!response.ok) {
      const error = await parseErrorResponse(response);
      deps.onError?.(error);
      throw error;
    }
    if (options.raw) return response as unknown as T;
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError({ status: response.status, code: 'invalid_json', message: 'The server sent an unreadable answer.' });
    }
  }

  return {
    request,
    get: (path, options) => request('GET', path, options),
    post: (path, body, options) => request('POST', path, { ...options, body }),
    patch: (path, body, options) => request('PATCH', path, { ...options, body }),
    delete: (path, options) => request('DELETE', path, options),
    url: (path, query) => buildUrl(deps.baseUrl(), path, query),
  };
}
