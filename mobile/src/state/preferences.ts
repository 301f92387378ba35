// The user's preferences, kept on the device: theme, language, the DeepThink and Search defaults and whether
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
  /** Search the web (shown only when the server has a provider). */
  search: boolean;
  /** Reasoning blocks start open (the default, as DeepSeek's) or folded: the user's last choice. */
  reasoningOpen: boolean;
  setTheme: (theme: ThemePreference) => void;
  setLanguage: (language: Language) => void;
  setDeepthink: (on: boolean) => void;
  setSearch: (on: boolean) => void;
  setReasoningOpen: (open: boolean) => void;
}

export const usePreferences = create<PreferencesState>()(
  persist(
    (set) => ({
      theme: 'system',
      language: deviceLanguage(),
      deepthink: true,
      search: false,
      reasoningOpen: true,
      setTheme: (theme) => set({ theme }),
      setLanguage: (language) => set({ language }),
      setDeepthink: (deepthink) => set({ deepthink }),
      setSearch: (search) => set({ search }),
      setReasoningOpen: (reasoningOpen) => set({ reasoningOpen }),
    }),
    {
      name: 'whale.preferences',
      storage: createJSONStorage(() => preferenceStorage),
      partialize: ({ theme, language, deepthink, search, reasoningOpen }) => ({ theme, language, deepthink, search, reasoningOpen }),
    },
  ),
);
