// Honest errors: rate limits and "server busy" with a countdown, plain failures, and offline.
import { useNetInfo } from '@react-native-community/netinfo';
import { useEffect, useState } from 'react';
import { StyleSheet, Text, View } from 'react-native';

import { isApiError } from '@/api/errors';
import { useT } from '@/locale';
import { describeError, formatWait } from '@/utils/errorText';
import { useTheme } from '@/theme/ThemeProvider';
import { Button, IconButton } from './Button';

/** Seconds left until `until` (epoch ms), ticking once a second; 0 when passed or unset. */
export function useCountdown(until: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!until || until <= Date.now()) return;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [until]);
  return until ? Math.max(0, Math.ceil((until - now) / 1000)) : 0;
}

export { canRetry, describeError, formatWait } from '@/utils/errorText';

interface ErrorBannerProps {
  error: unknown;
  /** When the error's Retry-After runs out (epoch ms). */
  retryAt: number | null;
  /** Only for errors where retrying can succeed (see canRetry). */
  onRetry?: () => void;
  onDismiss: () => void;
}

export function ErrorBanner({ error, retryAt, onRetry, onDismiss }: ErrorBannerProps) {
  const t = useT();
  const { colors, radius, fontSize } = useTheme();
  const seconds = useCountdown(retryAt);
  const busy = isApiError(error) && (error.isRateLimited || error.isServerBusy);
  return (
    <View
      accessibilityRole="alert"
      accessibilityLiveRegion="polite"
      style={[styles.banner, { backgroundColor: busy ? colors.warningSoft : colors.dangerSoft, borderRadius: radius.md }]}
    >
      <View style={{ flex: 1, gap: 2 }}>
        <Text style={{ color: busy ? colors.warningText : colors.danger, fontSize: fontSize.sm, fontWeight: '600' }}>
          {describeError(error, t)}
        </Text>
        {seconds > 0 && onRetry ? (
          <Text style={{ color: busy ? colors.warningText : colors.danger, fontSize: fontSize.sm }}>{t('error.retryIn', { wait: formatWait(seconds, t) })}</Text>
        ) : null}
      </View>
      {onRetry ? <Button label={t('common.retry')} variant="secondary" disabled={seconds > 0} onPress={onRetry} /> : null}
      <IconButton icon="close" label={t('common.close')} onPress={onDismiss} />
    </View>
  );
}

export function OfflineBanner() {
  const t = useT();
  const { colors, fontSize } = useTheme();
  const net = useNetInfo();
  if (net.isConnected !== false) return null;
  return (
    <View accessibilityRole="alert" style={[styles.offline, { backgroundColor: colors.warningSoft }]}>
      <Text style={{ color: colors.warningText, fontSize: fontSize.sm, fontWeight: '600' }}>{t('error.offline')}</Text>
    </View>
  );
}

const styles = StyleSheet.create({
  banner: { flexDirection: 'row', alignItems: 'center', gap: 8, paddingHorizontal: 12, paddingVertical: 8, marginBottom: 8 },
  offline: { paddingVertical: 6, alignItems: 'center' },
});
