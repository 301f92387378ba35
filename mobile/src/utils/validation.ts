// Client-side checks that save a round trip; the server stays the authority.
import type { MessageKey } from '@/locale/en';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function validateEmail(email: string): MessageKey | null {
  if (!email.trim()) return 'auth.validation.emailRequired';
  if (!EMAIL.test(email.trim())) return 'auth.validation.emailInvalid';
  return null;
}

export function validatePassword(password: string, { forNewAccount }: { forNewAccount: boolean }): MessageKey | null {
  if (!password) return 'auth.validation.passwordRequired';
  if (forNewAccount && password.length < 8) return 'auth.validation.passwordShort';
  return null;
}

export function validateCode(code: string): MessageKey | null {
  return /^\d{6}$/.test(code.trim()) ? null : 'auth.validation.codeInvalid';
}
