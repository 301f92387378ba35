// One API key's usage by UTC day, shown under the key in Settings: folded until asked for, then fetched.
import Ionicons from '@expo/vector-icons/Ionicons';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ActivityIndicator, Pressable, StyleSheet, Text, View } from 'react-native';

import { keysApi } from '@/api/endpoints';
import { queryKeys } from '@/api/queryKeys';
import type { ApiKey, ApiKeyUsageDay } from '@/api/types';
import { useT } from '@/locale';
import { usePreferences } from '@/state/preferences';
import { useTheme } from '@/theme/ThemeProvider';
import { describeError } from '@/utils/errorText';

export const KEY_USAGE_DAYS = 30;

/** The days a key was used, newest first: requests and errors, then prompt (cached) and completion (reasoning) tokens. */
export function ApiKeyUsageDays({ days, window = KEY_USAGE_DAYS }: { days: ApiKeyUsageDay[]; window?: number }) {
  const t = useT();
  const language = usePreferences((s) => s.language);
  const { colors, fontSize } = useTheme();
  const number = (n: number) => n.toLocaleString(language === 'zh' ? 'zh-CN' : 'en-US');
  const used = days.filter((day) => day.requests > 0);
  const muted = { color: colors.textMuted, fontSize: fontSize.sm };
  if (used.length === 0) return <Text style={muted}>{t('keyUsage.none', { days: window })}</Text>;
  return (
    <View style={{ gap: 8 }}>
      <Text style={muted}>{t('keyUsage.title', { days: window })}</Text>
      {used.map((day) => (
        <View key={day.date} style={{ gap: 2 }}>
          <View style={styles.kv}>
            <Text style={{ color: colors.text, fontSize: fontSize.sm, fontWeight: '600' }}>{day.date}</Text>
            <Text style={{ color: colors.text, fontSize: fontSize.sm }}>
              {t('keyUsage.requests', { count: number(day.requests) })}
              {day.errors > 0 ? <Text style={{ color: colors.danger }}>{` · ${t('keyUsage.errors', { count: number(day.errors) })}`}</Text> : null}
            </Text>
          </View>
          <Text style={muted}>{t('keyUsage.prompt', { tokens: number(day.prompt_tokens), cached: number(day.cached_tokens) })}</Text>
          <Text style={muted}>{t('keyUsage.completion', { tokens: number(day.completion_tokens), reasoning: number(day.reasoning_tokens) })}</Text>
        </View>
      ))}
    </View>
  );
}

/** A fold under one key: its usage is fetched only once the user opens it. */
export function ApiKeyUsage({ apiKey }: { apiKey: ApiKey }) {
  const t = useT();
  const { colors, fontSize } = useTheme();
  const [open, setOpen] = useState(false);
  const usage = useQuery({
    queryKey: queryKeys.apiKeyUsage(apiKey.id, KEY_USAGE_DAYS),
    queryFn: () => keysApi.usage(apiKey.id, KEY_USAGE_DAYS),
    enabled: open,
    retry: false,
  });
  return (
    <View style={{ gap: 6 }}>
      <Pressable
        accessibilityRole="button"
        accessibilityState={{ expanded: open }}
        aria-expanded={open}
        onPress={() => setOpen((value) => !value)}
        style={styles.toggle}
      >
        <Ionicons name={open ? 'chevron-down' : 'chevron-forward'} size={14} color={colors.textMuted} />
        <Text style={{ color: colors.accent, fontSize: fontSize.sm }}>{t('keyUsage.show', { name: apiKey.name })}</Text>
      </Pressable>
      {!open ? null : usage.isLoading ? (
        <ActivityIndicator color={colors.accent} />
      ) : usage.isError ? (
        <Text style={{ color: colors.danger, fontSize: fontSize.sm }}>{describeError(usage.error, t)}</Text>
      ) : usage.data ? (
        <ApiKeyUsageDays days={usage.data.data} />
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  kv: { flexDirection: 'row', justifyContent: 'space-between', alignItems: 'center', gap: 12 },
  toggle: { flexDirection: 'row', alignItems: 'center', gap: 4, alignSelf: 'flex-start', paddingVertical: 2 },
});
