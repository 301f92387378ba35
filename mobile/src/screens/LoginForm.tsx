// The email and password form for logging in and signing up, with client-side checks.
import { useState } from 'react';
import { View } from 'react-native';

import { isApiError } from '@/api/errors';
import { Button } from '@/components/Button';
import { FormError } from '@/components/FormError';
import { TextField } from '@/components/TextField';
import { useT } from '@/locale';
import type { MessageKey } from '@/locale/en';
import { validateEmail, validatePassword } from '@/utils/validation';

interface LoginFormProps {
  mode: 'login' | 'signup';
  onSubmit: (values: { email: string; password: string; displayName: string }) => Promise<void>;
}

export function LoginForm({ mode, onSubmit }: LoginFormProps) {
  const t = useT();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [errors, setErrors] = useState<{ email?: MessageKey | null; password?: MessageKey | null }>({});
  const [serverError, setServerError] = useState<unknown>(null);
  const [retryAt, setRetryAt] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    const next = { email: validateEmail(email), password: validatePassword(password, { forNewAccount: mode === 'signup' }) };
    setErrors(next);
    if (next.email || next.password) return;
    setBusy(true);
    setServerError(null);
    try {
      await onSubmit({ email, password, displayName });
    } catch (error) {
      setServerError(error);
      setRetryAt(isApiError(error) && error.retryAfter ? Date.now() + error.retryAfter * 1000 : null);
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (name: 'email' | 'password') => {
    const local = errors[name];
    if (local) return t(local);
    return isApiError(serverError) ? serverError.fieldError(name) : undefined;
  };
  const hasFieldErrors = isApiError(serverError) && !!serverError.fields;

  return (
    <View style={{ gap: 14 }}>
      {serverError && !hasFieldErrors ? <FormError error={serverError} retryAt={retryAt} /> : null}
      <TextField
        label={t('auth.email')}
        value={email}
        onChangeText={setEmail}
        autoCapitalize="none"
        autoComplete="email"
        keyboardType="email-address"
        inputMode="email"
        error={fieldError('email')}
      />
      {mode === 'signup' ? <TextField label={t('auth.displayName')} value={displayName} onChangeText={setDisplayName} autoComplete="name" /> : null}
      <TextField
        label={t('auth.password')}
        value={password}
        onChangeText={setPassword}
        secureTextEntry
        autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
        onSubmitEditing={submit}
        error={fieldError('password')}
      />
      <Button label={mode === 'login' ? t('auth.login.submit') : t('auth.signup.submit')} onPress={submit} busy={busy} />
    </View>
  );
}
