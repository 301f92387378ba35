// The user's preferences, kept on the device: theme, language, the DeepThink default and whether
// reasoning shows open.
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';

import { deviceLanguage, type Language } from '@/locale/device';
import { preferenceStorage } from './storage';

export type ThemePreference = 'system' | 'light' | 'dark';

interface PreferencesState {
  theme: ThemePreference;
  language: Language;
  deepthink: boolean;
  /** Reasoning blocks start open (the default, as DeepSeek's) or folded: the user's last choice. */
  reasoningOpen: boolean;
  setTheme: (theme: ThemePreference) => void;
  setLanguage: (language: Language) => void;
  setDeepthink: (on: boolean) => void;
  setReasoningOpen: (open: boolean) => void;
}

export const usePreferences = create<PreferencesState>()(
  persist(
    (set) => ({
      theme: 'system',
      language: deviceLanguage(),
      deepthink: true,
      reasoningOpen: true,
      setTheme: (theme) => set({ theme }),
      setLanguage: (language) => set({ language }),
      setDeepthink: (deepthink) => set({ deepthink }),
      setReasoningOpen: (reasoningOpen) => set({ reasoningOpen }),
    }),
    {
      name: 'whale.preferences',
      storage: createJSONStorage(() => preferenceStorage),
      partialize: ({ theme, language, deepthink, reasoningOpen }) => ({ theme, language, deepthink, reasoningOpen }),
    },
  ),
);
