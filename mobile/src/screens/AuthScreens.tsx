// The signed-out screens: log in, sign up, verify the emailed code, reset a forgotten password.
import { useRouter } from 'expo-router';
import { useState } from 'react';
import { StyleSheet, Text, View } from 'react-native';

import { authApi } from '@/api/endpoints';
import { isApiError } from '@/api/errors';
import { AuthCard } from '@/components/AuthCard';
import { Button } from '@/components/Button';
import { FormError } from '@/components/FormError';
import { TextField } from '@/components/TextField';
import { useT } from '@/locale';
import { logIn, logOut, signUp, verifyEmail } from '@/state/auth';
import { useSession } from '@/state/session';
import { useTheme } from '@/theme/ThemeProvider';
import { validateCode, validateEmail, validatePassword } from '@/utils/validation';
import { LoginForm } from './LoginForm';

function retryAtOf(error: unknown): number | null {
  return isApiError(error) && error.retryAfter ? Date.now() + error.retryAfter * 1000 : null;
}

export function LoginScreen() {
  const t = useT();
  const router = useRouter();
  const { colors, fontSize } = useTheme();
  const notice = useSession((s) => s.notice);
  return (
    <AuthCard title={t('auth.login.title')} subtitle={t('auth.login.subtitle')}>
      {notice ? (
        <Text accessibilityRole="alert" style={{ color: notice === 'suspended' ? colors.danger : colors.warningText, fontSize: fontSize.sm, textAlign: 'center' }}>
          {notice === 'suspended' ? t('error.suspended') : t('error.sessionExpired')}
        </Text>
      ) : null}
      <LoginForm
        mode="login"
        onSubmit={async ({ email, password }) => {
          const user = await logIn(email, password);
          router.replace(user.email_verified ? '/' : '/verify');
        }}
      />
      <Button label={t('auth.login.forgot')} variant="ghost" onPress={() => router.push('/forgot-password')} />
      <Button label={t('auth.login.toSignup')} variant="ghost" onPress={() => router.replace('/signup')} />
    </AuthCard>
  );
}

export function SignupScreen() {
  const t = useT();
  const router = useRouter();
  return (
    <AuthCard title={t('auth.signup.title')} subtitle={t('auth.login.subtitle')}>
      <LoginForm
        mode="signup"
        onSubmit={async ({ email, password, displayName }) => {
          await signUp(email, password, displayName);
          router.replace('/verify');
        }}
      />
      <Button label={t('auth.signup.toLogin')} variant="ghost" onPress={() => router.replace('/login')} />
    </AuthCard>
  );
}

export function VerifyScreen() {
  const t = useT();
  const router = useRouter();
  const { colors, fontSize } = useTheme();
  const user = useSession((s) => s.user);
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [resent, setResent] = useState(false);

  const submit = async () => {
    const invalid = validateCode(code);
    setCodeError(invalid ? t(invalid) : null);
    if (invalid) return;
    setBusy(true);
    setError(null);
    try {
      await verifyEmail(code);
      router.replace('/');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthCard title={t('auth.verify.title')} subtitle={t('auth.verify.subtitle', { email: user?.email ?? '' })}>
      <FormError error={error} retryAt={retryAtOf(error)} />
      <TextField
        label={t('auth.verify.code')}
        value={code}
        onChangeText={(value) => setCode(value.replace(/\D/g, '').slice(0, 6))}
        keyboardType="number-pad"
        inputMode="numeric"
        autoComplete="one-time-code"
        textContentType="oneTimeCode"
        maxLength={6}
        onSubmitEditing={submit}
        error={codeError}
        style={styles.code}
      />
      <Button label={t('auth.verify.submit')} onPress={submit} busy={busy} />
      {resent ? <Text style={{ color: colors.textMuted, fontSize: fontSize.sm, textAlign: 'center' }}>{t('auth.verify.resent')}</Text> : null}
      <Button
        label={t('auth.verify.resend')}
        variant="ghost"
        onPress={async () => {
          try {
            await authApi.resendVerification();
            setResent(true);
          } catch (e) {
            setError(e);
          }
        }}
      />
      <Button label={t('settings.logout')} variant="ghost" onPress={async () => { await logOut(); router.replace('/login'); }} />
    </AuthCard>
  );
}

export function ForgotPasswordScreen() {
  const t = useT();
  const router = useRouter();
  const { colors, fontSize } = useTheme();
  const [step, setStep] = useState<'email' | 'code' | 'done'>('email');
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string | null>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const sendCode = () => {
    const invalid = validateEmail(email);
    setFieldErrors({ email: invalid ? t(invalid) : null });
    if (invalid) return;
    void run(async () => {
      await authApi.requestPasswordReset(email.trim());
      setStep('code');
    });
  };

  const confirm = () => {
    const codeInvalid = validateCode(code);
    const passwordInvalid = validatePassword(password, { forNewAccount: true });
    setFieldErrors({ code: codeInvalid ? t(codeInvalid) : null, new_password: passwordInvalid ? t(passwordInvalid) : null });
    if (codeInvalid || passwordInvalid) return;
    void run(async () => {
      await authApi.confirmPasswordReset({ email: email.trim(), code: code.trim(), new_password: password });
      setStep('done');
    });
  };

  const serverField = (name: string) => fieldErrors[name] ?? (isApiError(error) ? error.fieldError(name) : undefined);
  // A refusal that names its fields is shown on them, once; anything else above the form.
  const shownOnFields = isApiError(error) && ['email', 'code', 'new_password'].some((name) => !!error.fieldError(name));

  return (
    <AuthCard title={t('auth.reset.title')} subtitle={step === 'email' ? t('auth.reset.subtitle') : undefined}>
      {shownOnFields ? null : <FormError error={error} retryAt={retryAtOf(error)} />}
      {step === 'email' ? (
        <>
          <TextField label={t('auth.email')} value={email} onChangeText={setEmail} autoCapitalize="none" keyboardType="email-address" inputMode="email" error={serverField('email')} onSubmitEditing={sendCode} />
          <Button label={t('auth.reset.send')} onPress={sendCode} busy={busy} />
        </>
      ) : step === 'code' ? (
        <>
          <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{t('auth.reset.sent', { email: email.trim() })}</Text>
          <TextField label={t('auth.reset.code')} value={code} onChangeText={(v) => setCode(v.replace(/\D/g, '').slice(0, 6))} keyboardType="number-pad" inputMode="numeric" maxLength={6} error={serverField('code')} />
          <TextField label={t('auth.reset.newPassword')} value={password} onChangeText={setPassword} secureTextEntry autoComplete="new-password" error={serverField('new_password')} onSubmitEditing={confirm} />
          <Button label={t('auth.reset.submit')} onPress={confirm} busy={busy} />
        </>
      ) : (
        <View style={{ gap: 14 }}>
          <Text accessibilityRole="alert" style={{ color: colors.text, fontSize: fontSize.md, textAlign: 'center' }}>{t('auth.reset.done')}</Text>
          <Button label={t('auth.login.submit')} onPress={() => router.replace('/login')} />
        </View>
      )}
      {step !== 'done' ? <Button label={t('common.back')} variant="ghost" onPress={() => router.replace('/login')} /> : null}
    </AuthCard>
  );
}

const styles = StyleSheet.create({
  code: { fontSize: 22, letterSpacing: 8, textAlign: 'center' },
});
