// Device storage: the refresh token in the keychain/keystore on phones (never on the web),
// small preferences in the keychain on phones and localStorage on the web.
import * as SecureStore from 'expo-secure-store';
import { Platform } from 'react-native';
import type { StateStorage } from 'zustand/middleware';

const REFRESH_KEY = 'whale.refresh';
const isWeb = Platform.OS === 'web';

export async function readRefreshToken(): Promise<string | null> {
  if (isWeb) return null; // the web keeps it in an HttpOnly cookie the page cannot read
  try {
    return await SecureStore.getItemAsync(REFRESH_KEY);
  } catch {
    return null;
  }
}

export async function writeRefreshToken(token: string | null | undefined): Promise<void> {
  if (isWeb) return;
  try {
    if (token) await SecureStore.setItemAsync(REFRESH_KEY, token);
    else await SecureStore.deleteItemAsync(REFRESH_KEY);
  } catch {
    // A device without a keychain still works; the user logs in again next launch.
  }
}

function webStorage(): Storage | undefined {
  try {
    return typeof window !== 'undefined' ? window.localStorage : undefined;
  } catch {
    return undefined;
  }
}

/** Storage for non-secret preferences (theme, language, DeepThink default). */
export const preferenceStorage: StateStorage = {
  getItem: async (name) => {
    if (isWeb) return webStorage()?.getItem(name) ?? null;
    try {
      return await SecureStore.getItemAsync(name);
    } catch {
      return null;
    }
  },
  setItem: async (name, value) => {
    if (isWeb) {
      webStorage()?.setItem(name, value);
      return;
    }
    try {
      await SecureStore.setItemAsync(name, value);
    } catch {
      // Preferences are a convenience; losing them is not an error.
    }
  },
  removeItem: async (name) => {
    if (isWeb) {
      webStorage()?.removeItem(name);
      return;
    }
    try {
      await SecureStore.deleteItemAsync(name);
    } catch {
      // ignore
    }
  },
};
