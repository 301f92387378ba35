// Session lifecycle: restore on launch, log in, sign up, verify, log out.
import type { QueryClient } from '@tanstack/react-query';

import { refreshAccessToken } from '@/api';
import { authApi, meApi } from '@/api/endpoints';
import type { AuthResponse, User } from '@/api/types';
import { useSession } from './session';
import { readRefreshToken, writeRefreshToken } from './storage';
import { detachAllTurns } from './stream/turnStreams';

/** On launch: renew the access token from the stored (phone) or cookie (web) refresh token. */
export async function restoreSession(): Promise<void> {
  const access = await refreshAccessToken();
  if (!access) {
    useSession.getState().signOut();
    return;
  }
  try {
    const user = await meApi.get();
    useSession.getState().signIn(user, useSession.getState().accessToken ?? access);
  } catch {
    useSession.getState().signOut();
  }
}

async function accept(response: AuthResponse): Promise<User> {
  await writeRefreshToken(response.refresh);
  useSession.getState().signIn(response.user, response.access);
  return response.user;
}

export async function logIn(email: string, password: string): Promise<User> {
  return accept(await authApi.login({ email: email.trim(), password }));
}

export async function signUp(email: string, password: string, displayName?: string): Promise<User> {
  return accept(
    await authApi.register({ email: email.trim(), password, display_name: displayName?.trim() || undefined }),
  );
}

export async function verifyEmail(code: string): Promise<User> {
  const { user } = await authApi.verifyEmail(code.trim());
  useSession.getState().setUser(user);
  return user;
}

export async function logOut(queryClient?: QueryClient): Promise<void> {
  const refresh = await readRefreshToken();
  try {
    await authApi.logout(refresh);
  } catch {
    // Logging out locally matters more than telling the server.
  }
  await forgetSession(queryClient);
}

/** Drops everything this device knows about the session (after logout or account deletion). */
export async function forgetSession(queryClient?: QueryClient): Promise<void> {
  await writeRefreshToken(null);
  detachAllTurns();
  queryClient?.clear();
  useSession.getState().signOut();
}
