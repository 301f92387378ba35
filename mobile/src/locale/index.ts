// A tiny typed i18n: every string the app shows goes through `t`, keyed by the English file.
import { usePreferences } from '@/state/preferences';
import { en, type MessageKey, type Messages } from './en';
import { zh } from './zh';

import type { Language } from './device';

export { deviceLanguage, type Language } from './device';
export const LANGUAGES: { code: Language; label: string }[] = [
  { code: 'en', label: 'English' },
  { code: 'zh', label: '简体中文' },
];

const dictionaries: Record<Language, Messages> = { en, zh };

export type TranslateParams = Record<string, string | number>;
export type Translate = (key: MessageKey, params?: TranslateParams) => string;

export function translate(language: Language, key: MessageKey, params?: TranslateParams): string {
  const template = dictionaries[language][key] ?? en[key] ?? key;
  if (!params) return template;
  return template.replace(/\{\{(\w+)\}\}/g, (match, name: string) =>
    name in params ? String(params[name]) : match,
  );
}

/** The translate function for the user's current language. */
export function useT(): Translate {
  const language = usePreferences((s) => s.language);
  return (key, params) => translate(language, key, params);
}

export type { MessageKey };
