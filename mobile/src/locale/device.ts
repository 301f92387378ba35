// The device's language, mapped onto the languages the app has strings for.
import { getLocales } from 'expo-localization';

export type Language = 'en' | 'zh';

export function deviceLanguage(): Language {
  try {
    const code = getLocales()[0]?.languageCode ?? 'en';
    return code.startsWith('zh') ? 'zh' : 'en';
  } catch {
    return 'en';
  }
}
