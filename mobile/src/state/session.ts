// Who is signed in: the user and the short-lived access token, held in memory only.
import { create } from 'zustand';

import type { User } from '@/api/types';

export type SessionStatus = 'booting' | 'signedOut' | 'signedIn';
export type SessionNotice = 'sessionExpired' | 'suspended';

interface SessionState {
  status: SessionStatus;
  user: User | null;
  accessToken: string | null;
  /** Why the last session ended, shown once on the login screen. */
  notice: SessionNotice | null;
  signIn: (user: User, accessToken: string) => void;
  setAccessToken: (accessToken: string) => void;
  setUser: (user: User) => void;
  signOut: (notice?: SessionNotice) => void;
  clearNotice: () => void;
}

export const useSession = create<SessionState>()((set) => ({
  status: 'booting',
  user: null,
  accessToken: null,
  notice: null,
  signIn: (user, accessToken) => set({ status: 'signedIn', user, accessToken, notice: null }),
  setAccessToken: (accessToken) => set({ accessToken }),
  setUser: (user) => set({ user }),
  signOut: (notice) => set({ status: 'signedOut', user: null, accessToken: null, notice: notice ?? null }),
  clearNotice: () => set({ notice: null }),
}));
