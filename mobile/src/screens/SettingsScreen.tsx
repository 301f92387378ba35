// Settings: account, appearance, language, usage and limits, API keys, about.
import * as Clipboard from 'expo-clipboard';
import Constants from 'expo-constants';
import { useRouter } from 'expo-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { ActivityIndicator, Pressable, ScrollView, StyleSheet, Text, View } from 'react-native';
import { SafeAreaView } from 'react-native-safe-area-context';

import { apiBaseUrl } from '@/api/config';
import { keysApi, meApi, modelsApi, resultsOf } from '@/api/endpoints';
import { isApiError } from '@/api/errors';
import { queryKeys } from '@/api/queryKeys';
import type { ApiKey, UsageInfo } from '@/api/types';
import { ApiKeyUsage } from '@/components/ApiKeyUsage';
import { describeError, useCountdown } from '@/components/Banners';
import { Button, IconButton } from '@/components/Button';
import { Dialog } from '@/components/Dialog';
import { FormError } from '@/components/FormError';
import { TextField } from '@/components/TextField';
import { LANGUAGES, useT } from '@/locale';
import type { MessageKey } from '@/locale/en';
import { forgetSession, logOut } from '@/state/auth';
import { usePreferences, type ThemePreference } from '@/state/preferences';
import { useSession } from '@/state/session';
import { useUsage } from '@/state/usage';
import { useTheme } from '@/theme/ThemeProvider';
import { formatWait } from '@/utils/errorText';
import { saveResponse } from '@/utils/files';

function Section({ title, children }: { title: string; children: ReactNode }) {
  const { colors, fontSize, radius } = useTheme();
  return (
    <View style={styles.section}>
      <Text accessibilityRole="header" style={[styles.sectionTitle, { color: colors.textMuted, fontSize: fontSize.sm }]}>
        {title}
      </Text>
      <View style={[styles.card, { backgroundColor: colors.surface, borderRadius: radius.lg, borderColor: colors.border }]}>{children}</View>
    </View>
  );
}

function Choice<T extends string>({ options, value, onChange }: { options: { value: T; label: string }[]; value: T; onChange: (v: T) => void }) {
  const { colors, radius, fontSize } = useTheme();
  return (
    <View accessibilityRole="radiogroup" style={[styles.segment, { backgroundColor: colors.surfaceAlt, borderRadius: radius.md }]}>
      {options.map((option) => {
        const selected = option.value === value;
        return (
          <Pressable
            key={option.value}
            accessibilityRole="radio"
            accessibilityState={{ checked: selected }}
            aria-checked={selected}
            accessibilityLabel={option.label}
            onPress={() => onChange(option.value)}
            style={[styles.segmentItem, { borderRadius: radius.sm, backgroundColor: selected ? colors.background : 'transparent' }]}
          >
            <Text style={{ color: selected ? colors.text : colors.textMuted, fontWeight: selected ? '600' : '400', fontSize: fontSize.sm }}>{option.label}</Text>
          </Pressable>
        );
      })}
    </View>
  );
}

/** A 404 means the server does not offer this feature: say so instead of showing an error. */
function Unavailable({ error }: { error: unknown }) {
  const t = useT();
  const { colors, fontSize } = useTheme();
  const missing = isApiError(error) && (error.status === 404 || error.status === 405 || error.status === 501);
  return <Text style={{ color: missing ? colors.textMuted : colors.danger, fontSize: fontSize.sm }}>{missing ? t('common.unavailable') : describeError(error, t)}</Text>;
}

/** Keys that still work: revoked and expired ones stay on the server for the usage history only. */
function liveKeys(data: Parameters<typeof resultsOf<ApiKey>>[0]): ApiKey[] {
  return resultsOf(data).filter((key) => !key.status || key.status === 'active');
}

type Counter = 'turns_today' | 'reasoning_turns_today' | 'tokens_today' | 'requests_this_minute' | 'in_flight';
type LimitName = 'turns_per_day' | 'reasoning_turns_per_day' | 'tokens_per_day' | 'requests_per_minute' | 'concurrent_turns';

const USAGE_ROWS: { counter: Counter; limit: LimitName; label: MessageKey }[] = [
  { counter: 'turns_today', limit: 'turns_per_day', label: 'usage.turns' },
  { counter: 'reasoning_turns_today', limit: 'reasoning_turns_per_day', label: 'usage.deepthink' },
  { counter: 'tokens_today', limit: 'tokens_per_day', label: 'usage.tokens' },
  { counter: 'requests_this_minute', limit: 'requests_per_minute', label: 'usage.minute' },
  { counter: 'in_flight', limit: 'concurrent_turns', label: 'usage.inFlight' },
];

const TIER_LABEL: Record<string, MessageKey> = { free: 'usage.tier.free', pro: 'usage.tier.pro', partner: 'usage.tier.partner', staff: 'usage.tier.staff' };

/** Today's usage against each limit: one row per limit with a bar, in the user's language. */
export function UsagePanel({ usage }: { usage: UsageInfo }) {
  const t = useT();
  const language = usePreferences((s) => s.language);
  const { colors, fontSize, radius } = useTheme();
  const number = (n: number) => n.toLocaleString(language === 'zh' ? 'zh-CN' : 'en-US');
  const resetsAt = Date.parse(usage.resets_at);
  const resetsIn = useCountdown(Number.isNaN(resetsAt) ? null : resetsAt);
  const tier = TIER_LABEL[usage.tier];
  return (
    <View style={{ gap: 12 }}>
      <View style={styles.kv}>
        <Text style={{ color: colors.text, fontSize: fontSize.sm, fontWeight: '600' }}>
          {t('usage.plan', { tier: tier ? t(tier) : usage.tier })}
        </Text>
        {resetsIn <= 0 ? null : (
          <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{t('usage.resetsIn', { wait: formatWait(resetsIn, t) })}</Text>
        )}
      </View>
      {USAGE_ROWS.map(({ counter, limit, label }) => {
        const used = usage.usage[counter] ?? 0;
        const max = usage.limits[limit];
        const share = max ? Math.min(1, used / max) : 0;
        const amount = max === null ? t('usage.ofUnlimited', { used: number(used) }) : t('usage.of', { used: number(used), limit: number(max) });
        return (
          <View key={counter} style={{ gap: 4 }}>
            <View style={styles.kv}>
              <Text style={{ color: colors.text, fontSize: fontSize.sm }}>{t(label)}</Text>
              <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{amount}</Text>
            </View>
            {max !== null ? (
              <View
                role="progressbar"
                aria-label={`${t(label)}: ${amount}`}
                aria-valuemin={0}
                aria-valuemax={max}
                aria-valuenow={Math.min(used, max)}
                style={[styles.bar, { backgroundColor: colors.surfaceAlt, borderRadius: radius.pill }]}
              >
                <View
                  style={{
                    width: `${Math.round(share * 100)}%`,
                    height: '100%',
                    borderRadius: radius.pill,
                    backgroundColor: share >= 1 ? colors.danger : share >= 0.8 ? colors.warningText : colors.accent,
                  }}
                />
              </View>
            ) : null}
          </View>
        );
      })}
      <View style={{ gap: 2 }}>
        {usage.limits.max_message_chars !== null ? (
          <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{t('usage.messageChars', { limit: number(usage.limits.max_message_chars) })}</Text>
        ) : null}
        {usage.limits.max_context_tokens !== null ? (
          <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{t('usage.context', { limit: number(usage.limits.max_context_tokens) })}</Text>
        ) : null}
        {usage.deepthink_fallback ? <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{t('usage.fallback')}</Text> : null}
      </View>
    </View>
  );
}

export function SettingsScreen() {
  const t = useT();
  const router = useRouter();
  const queryClient = useQueryClient();
  const { colors, fontSize } = useTheme();
  const user = useSession((s) => s.user);
  const theme = usePreferences((s) => s.theme);
  const setTheme = usePreferences((s) => s.setTheme);
  const language = usePreferences((s) => s.language);
  const setLanguage = usePreferences((s) => s.setLanguage);

  const usage = useUsage();
  const keys = useQuery({ queryKey: queryKeys.apiKeys(), queryFn: keysApi.list, retry: false });
  const models = useQuery({ queryKey: queryKeys.models(), queryFn: modelsApi.list, retry: false });

  const [keyName, setKeyName] = useState('');
  const [newKey, setNewKey] = useState<ApiKey | null>(null);
  const createKey = useMutation({
    mutationFn: (name: string) => keysApi.create(name),
    onSuccess: (key) => {
      setNewKey(key);
      setKeyName('');
      void queryClient.invalidateQueries({ queryKey: queryKeys.apiKeys() });
    },
  });
  const revokeKey = useMutation({
    mutationFn: (id: string) => keysApi.revoke(id),
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.apiKeys() }),
  });

  const [deleteOpen, setDeleteOpen] = useState(false);
  const [password, setPassword] = useState('');
  const deleteAccount = useMutation({
    mutationFn: (pw: string) => meApi.delete(pw),
    onSuccess: async () => {
      setDeleteOpen(false);
      await forgetSession(queryClient);
      router.replace('/login');
    },
  });
  // A wrong password is said on the field, not as "Some fields are invalid".
  const passwordError = isApiError(deleteAccount.error) ? deleteAccount.error.fieldError('password') : undefined;
  const [exportError, setExportError] = useState<unknown>(null);

  return (
    <SafeAreaView style={[styles.root, { backgroundColor: colors.background }]}>
      <View role="main" style={styles.root}>
      <View style={[styles.header, { borderBottomColor: colors.border }]}>
        <IconButton icon="arrow-back" size={22} label={t('common.back')} onPress={() => (router.canGoBack() ? router.back() : router.replace('/'))} />
        <Text accessibilityRole="header" style={{ color: colors.text, fontSize: fontSize.lg, fontWeight: '700' }}>{t('settings.title')}</Text>
      </View>
      <ScrollView contentContainerStyle={styles.scroll}>
        <Section title={t('settings.account')}>
          <Text style={{ color: colors.text, fontSize: fontSize.md, fontWeight: '600' }}>{user?.display_name || user?.email}</Text>
          {user?.display_name ? <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{user.email}</Text> : null}
          {exportError ? <FormError error={exportError} retryAt={null} /> : null}
          <View style={styles.buttons}>
            <Button
              label={t('settings.exportData')}
              variant="secondary"
              icon="download-outline"
              onPress={async () => {
                try {
                  setExportError(null);
                  await saveResponse(await meApi.exportData(), 'whale-export.json');
                } catch (error) {
                  setExportError(error);
                }
              }}
            />
            <Button
              label={t('settings.logout')}
              variant="secondary"
              icon="log-out-outline"
              onPress={async () => {
                await logOut(queryClient);
                router.replace('/login');
              }}
            />
            <Button
              label={t('settings.deleteAccount')}
              variant="danger"
              icon="trash-outline"
              onPress={() => {
                deleteAccount.reset();
                setPassword('');
                setDeleteOpen(true);
              }}
            />
          </View>
        </Section>

        <Section title={t('settings.appearance')}>
          <Choice<ThemePreference>
            value={theme}
            onChange={setTheme}
            options={[
              { value: 'system', label: t('settings.theme.system') },
              { value: 'light', label: t('settings.theme.light') },
              { value: 'dark', label: t('settings.theme.dark') },
            ]}
          />
        </Section>

        <Section title={t('settings.language')}>
          <Choice value={language} onChange={setLanguage} options={LANGUAGES.map((l) => ({ value: l.code, label: l.label }))} />
        </Section>

        <Section title={t('settings.usage')}>
          {usage.isLoading ? <ActivityIndicator color={colors.accent} /> : usage.isError ? <Unavailable error={usage.error} /> : usage.data ? <UsagePanel usage={usage.data} /> : null}
        </Section>

        <Section title={t('settings.apiKeys')}>
          {keys.isLoading ? (
            <ActivityIndicator color={colors.accent} />
          ) : keys.isError ? (
            <Unavailable error={keys.error} />
          ) : (
            <View style={{ gap: 10 }}>
              {liveKeys(keys.data).length === 0 ? <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{t('settings.apiKeys.empty')}</Text> : null}
              {liveKeys(keys.data).map((key) => (
                <View key={key.id} style={{ gap: 2 }}>
                  <View style={styles.kv}>
                    <Text style={{ color: colors.text, fontSize: fontSize.sm, flex: 1 }}>
                      {key.name} {key.prefix ? <Text style={{ color: colors.textMuted }}>{key.prefix}…</Text> : null}
                    </Text>
                    <IconButton icon="trash-outline" size={16} label={t('settings.apiKeys.revoke', { name: key.name })} onPress={() => revokeKey.mutate(key.id)} />
                  </View>
                  <ApiKeyUsage apiKey={key} />
                </View>
              ))}
              <TextField label={t('settings.apiKeys.name')} value={keyName} onChangeText={setKeyName} />
              {createKey.error ? <FormError error={createKey.error} retryAt={null} /> : null}
              <Button label={t('settings.apiKeys.create')} variant="secondary" disabled={!keyName.trim()} busy={createKey.isPending} onPress={() => createKey.mutate(keyName.trim())} />
            </View>
          )}
        </Section>

        <Section title={t('settings.about')}>
          <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>
            {t('settings.aboutBody', { version: Constants.expoConfig?.version ?? '0.1.0', server: apiBaseUrl() })}
          </Text>
          {models.data ? (
            <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>
              {t('settings.models')}: {resultsOf(models.data).map((m) => m.name ?? m.id).join(', ')}
            </Text>
          ) : null}
        </Section>
      </ScrollView>
      </View>

      <Dialog
        visible={!!newKey}
        title={t('settings.apiKeys')}
        onClose={() => setNewKey(null)}
        actions={
          <>
            <Button label={t('common.close')} variant="secondary" onPress={() => setNewKey(null)} />
            <Button label={t('common.copy')} icon="copy-outline" onPress={() => void Clipboard.setStringAsync(newKey?.key ?? newKey?.secret ?? '')} />
          </>
        }
      >
        <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{t('settings.apiKeys.secret')}</Text>
        <Text selectable style={{ color: colors.text, fontSize: fontSize.sm, backgroundColor: colors.surface, padding: 8 }}>
          {newKey?.key ?? newKey?.secret ?? ''}
        </Text>
      </Dialog>

      <Dialog
        visible={deleteOpen}
        title={t('settings.deleteAccount')}
        onClose={() => setDeleteOpen(false)}
        actions={
          <>
            <Button label={t('common.cancel')} variant="secondary" onPress={() => setDeleteOpen(false)} />
            <Button label={t('common.delete')} variant="danger" disabled={!password} busy={deleteAccount.isPending} onPress={() => deleteAccount.mutate(password)} />
          </>
        }
      >
        <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{t('settings.deleteAccountBody')}</Text>
        {deleteAccount.error && !passwordError ? <FormError error={deleteAccount.error} retryAt={null} /> : null}
        <TextField
          label={t('auth.password')}
          value={password}
          onChangeText={(value) => {
            setPassword(value);
            deleteAccount.reset();
          }}
          secureTextEntry
          autoComplete="current-password"
          error={passwordError}
          onSubmitEditing={() => password && deleteAccount.mutate(password)}
        />
      </Dialog>
    </SafeAreaView>
  );
}

const styles = StyleSheet.create({
  root: { flex: 1 },
  header: { flexDirection: 'row', alignItems: 'center', gap: 8, paddingHorizontal: 8, paddingVertical: 8, borderBottomWidth: StyleSheet.hairlineWidth },
  scroll: { padding: 16, gap: 18, width: '100%', maxWidth: 720, alignSelf: 'center' },
  section: { gap: 8 },
  sectionTitle: { fontWeight: '600', paddingHorizontal: 4 },
  card: { padding: 14, gap: 10, borderWidth: StyleSheet.hairlineWidth },
  buttons: { flexDirection: 'row', flexWrap: 'wrap', gap: 8 },
  segment: { flexDirection: 'row', padding: 3, gap: 3 },
  segmentItem: { flex: 1, alignItems: 'center', paddingVertical: 8 },
  bar: { height: 6, overflow: 'hidden' },
  kv: { flexDirection: 'row', justifyContent: 'space-between', alignItems: 'center', gap: 12 },
});
