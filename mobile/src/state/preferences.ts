// The user's preferences, kept on the device: theme, language and the DeepThink default.
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';

import { deviceLanguage, type Language } from '@/locale/device';
import { preferenceStorage } from './storage';

export type ThemePreference = 'system' | 'light' | 'dark';

interface PreferencesState {
  theme: ThemePreference;
  language: Language;
  deepthink: boolean;
  setTheme: (theme: ThemePreference) => void;
  setLanguage: (language: Language) => void;
  setDeepthink: (on: boolean) => void;
}

export const usePreferences = create<PreferencesState>()(
  persist(
    (set) => ({
      theme: 'system',
      language: deviceLanguage(),
      deepthink: true,
      setTheme: (theme) => set({ theme }),
      setLanguage: (language) => set({ language }),
      setDeepthink: (deepthink) => set({ deepthink }),
    }),
    {
      name: 'whale.preferences',
      storage: createJSONStorage(() => preferenceStorage),
      partialize: ({ theme, language, deepthink }) => ({ theme, language, deepthink }),
    },
  ),
);
