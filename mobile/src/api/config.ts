// Where the API lives: the page's own origin on the web, app config on phones.
import Constants from 'expo-constants';
import { Platform } from 'react-native';

const DEFAULT_API_URL = 'http://127.0.0.1:8000';

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export function apiBaseUrl(): string {
  if (Platform.OS === 'web') {
    // The backend serves this build, so the API is same-origin. The override is only for
    // `expo start --web` during development, where Metro serves the page on another port.
    const devOverride = process.env.EXPO_PUBLIC_WEB_API_URL;
    if (devOverride) return stripSlash(devOverride);
    if (typeof window !== 'undefined' && window.location?.origin) return window.location.origin;
    return DEFAULT_API_URL;
  }
  const fromEnv = process.env.EXPO_PUBLIC_API_URL;
  const fromConfig = (Constants.expoConfig?.extra as { apiUrl?: string } | undefined)?.apiUrl;
  return stripSlash(fromEnv || fromConfig || DEFAULT_API_URL);
}

export function websocketBaseUrl(base: string = apiBaseUrl()): string {
  return base.replace(/^http/, 'ws');
}

export const isWeb = Platform.OS === 'web';
