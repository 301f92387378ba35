import { createApiClient, type ApiClientDeps } from '../client';
import { ApiError, parseErrorResponse, parseRetryAfter } from '../errors';

function response(status: number, body?: unknown, headers: Record<string, string> = {}): Response {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: { get: (name: string) => headers[name] ?? headers[name.toLowerCase()] ?? null },
    text: async () => text,
  } as unknown as Response;
}

function client(responses: Response[], overrides: Partial<ApiClientDeps> = {}) {
  const fetchImpl = jest.fn(async (_url: string, _init?: RequestInit) => {
    const next = responses.shift();
    if (!next) throw new TypeError('Network request failed');
    return next;
  });
  const deps: ApiClientDeps = {
    baseUrl: () => 'http://api.test',
    getAccessToken: () => 'old',
    refreshAccessToken: jest.fn(async () => 'new'),
    onSessionExpired: jest.fn(),
    web: false,
    fetchImpl: fetchImpl as unknown as typeof fetch,
    ...overrides,
  };
  return { api: createApiClient(deps), fetchImpl, deps };
}

describe('API error parsing', () => {
  it('reads the documented error shape with field errors', async () => {
    const error = await parseErrorResponse(
      response(400, { error: { code: 'invalid', message: 'Some fields are invalid.', fields: { email: ['Enter a valid email address.'] } } }),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: 'invalid', message: 'Some fields are invalid.' });
    expect(error.fieldError('email')).toBe('Enter a valid email address.');
  });

  it('takes the wait of a rate limit from Retry-After, else from the body', async () => {
    const fromHeader = await parseErrorResponse(
      response(429, { error: { code: 'rate_limited', message: 'Slow down.', retry_after: 9 } }, { 'Retry-After': '30' }),
    );
    expect(fromHeader.isRateLimited).toBe(true);
    expect(fromHeader.retryAfter).toBe(30);
    const fromBody = await parseErrorResponse(response(429, { error: { code: 'too_many_attempts', message: 'Wait.', retry_after: 12.2 } }));
    expect(fromBody.retryAfter).toBe(13);
  });

  it('reads which limit refused a message and its value', async () => {
    const error = await parseErrorResponse(
      response(400, {
        error: { code: 'message_too_long', message: 'A message can have at most 8000 characters.', fields: { content: ['At most 8000.'] }, limit: 'max_message_chars', limit_value: 8000 },
      }),
    );
    expect(error.limit).toEqual({ name: 'max_message_chars', value: 8000 });
    expect(error.fieldError('content')).toBe('At most 8000.');
  });

  it('recognises a busy server', async () => {
    const error = await parseErrorResponse(response(503, { error: { code: 'server_busy', message: 'All workers are busy.' } }, { 'Retry-After': '5' }));
    expect(error.isServerBusy).toBe(true);
    expect(error.message).toBe('All workers are busy.');
    expect(error.retryAfter).toBe(5);
  });

  it('survives a body that is not JSON', async () => {
    const error = await parseErrorResponse(response(502, '<html>Bad gateway</html>'));
    expect(error).toMatchObject({ status: 502, code: 'bad_gateway' });
    expect(error.message).toMatch(/502/);
  });

  it('parses Retry-After as an HTTP date', () => {
    const now = Date.parse('2026-11-28T12:00:00Z');
    expect(parseRetryAfter('Sat, 28 Nov 2026 12:00:20 GMT', now)).toBe(20);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('API client', () => {
  it('sends the bearer token and parses JSON', async () => {
    const { api, fetchImpl } = client([response(200, { id: 'u1' })]);
    await expect(api.get('/api/v1/me')).resolves.toEqual({ id: 'u1' });
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('http://api.test/api/v1/me');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer old');
  });

  it('says it is the web client and sends cookies on the web', async () => {
    const { api, fetchImpl } = client([response(204)], { web: true });
    await api.post('/api/v1/auth/refresh', {}, { auth: false });
    const [, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect((init.headers as Record<string, string>)['X-Whale-Client']).toBe('web');
    expect(init.credentials).toBe('include');
    expect((init.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it('refreshes once on 401 and retries with the new token', async () => {
    const { api, fetchImpl, deps } = client([response(401, { error: { code: 'token_expired', message: 'Expired' } }), response(200, { ok: true })]);
    await expect(api.get('/api/v1/conversations')).resolves.toEqual({ ok: true });
    expect(deps.refreshAccessToken).toHaveBeenCalledTimes(1);
    const [, retry] = fetchImpl.mock.calls[1] as unknown as [string, RequestInit];
    expect((retry.headers as Record<string, string>).Authorization).toBe('Bearer new');
  });

  it('ends the session when the refresh fails', async () => {
    const { api, deps } = client([response(401, { error: { code: 'token_expired', message: 'Expired' } })], {
      refreshAccessToken: jest.fn(async () => null),
    });
    await expect(api.get('/api/v1/me')).rejects.toMatchObject({ status: 401 });
    expect(deps.onSessionExpired).toHaveBeenCalled();
  });

  it('turns a failed fetch into a network error', async () => {
    const { api } = client([]);
    await expect(api.get('/api/v1/me')).rejects.toMatchObject({ code: 'network_error', isNetwork: true });
  });

  it('builds query strings and skips empty values', async () => {
    const { api, fetchImpl } = client([response(200, { results: [] })]);
    await api.get('/api/v1/conversations', { query: { q: 'sky blue', cursor: null, archived: false } });
    expect(fetchImpl.mock.calls[0]?.[0]).toBe('http://api.test/api/v1/conversations?q=sky%20blue&archived=false');
  });
});
