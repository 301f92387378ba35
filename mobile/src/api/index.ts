// The app's API client, wired to the session: bearer tokens, one shared refresh, sign-out on expiry.
import { useSession } from '@/state/session';
import { readRefreshToken, writeRefreshToken } from '@/state/storage';
import { createApiClient } from './client';
import { apiBaseUrl, isWeb } from './config';
import type { TokenPair } from './types';

let refreshInFlight: Promise<string | null> | null = null;

/**
 * Renews the access token. Concurrent callers share one request, because the server rotates
 * the refresh token on every use and a second request with the old one would be refused.
 */
export function refreshAccessToken(): Promise<string | null> {
  if (!refreshInFlight) {
    refreshInFlight = doRefresh().finally(() => {
      refreshInFlight = null;
    });
  }
  return refreshInFlight;
}

async function doRefresh(): Promise<string | null> {
  const stored = await readRefreshToken();
  if (!isWeb && !stored) return null;
  try {
    const pair = await bareClient.post<TokenPair>('/api/v1/auth/refresh', isWeb ? {} : { refresh: stored }, {
      auth: false,
    });
    if (!pair?.access) return null;
    if (!isWeb) await writeRefreshToken(pair.refresh);
    useSession.getState().setAccessToken(pair.access);
    return pair.access;
  } catch {
    return null;
  }
}

/** A client without session handling, for the refresh call itself. */
const bareClient = createApiClient({
  baseUrl: apiBaseUrl,
  getAccessToken: () => null,
  refreshAccessToken: async () => null,
  onSessionExpired: () => {},
  web: isWeb,
});

export const api = createApiClient({
  baseUrl: apiBaseUrl,
  getAccessToken: () => useSession.getState().accessToken,
  refreshAccessToken,
  onSessionExpired: () => {
    void writeRefreshToken(null);
    if (useSession.getState().status === 'signedIn') useSession.getState().signOut('sessionExpired');
  },
  onError: (error) => {
    // Staff suspended the account: every request is refused from now on, so end the session and say why.
    if (error.code === 'account_suspended' && useSession.getState().status === 'signedIn') {
      void writeRefreshToken(null);
      useSession.getState().signOut('suspended');
    }
  },
  web: isWeb,
});

/** A valid access token for opening a stream, renewing it first when there is none. */
export async function currentAccessToken(): Promise<string | null> {
  return useSession.getState().accessToken ?? (await refreshAccessToken());
}

export { ApiError, isApiError } from './errors';
