// A request's failure above a form, with the Retry-After countdown when the server gave one.
import { StyleSheet, Text, View } from 'react-native';

import { isApiError } from '@/api/errors';
import { useT } from '@/locale';
import { useTheme } from '@/theme/ThemeProvider';
import { describeError, useCountdown } from './Banners';

export function FormError({ error, retryAt }: { error: unknown; retryAt: number | null }) {
  const t = useT();
  const { colors, radius, fontSize } = useTheme();
  const seconds = useCountdown(retryAt);
  if (!error) return null;
  const text = isApiError(error) && !error.isNetwork && !error.isRateLimited && !error.isServerBusy ? error.message : describeError(error, t);
  return (
    <View accessibilityRole="alert" style={[styles.box, { backgroundColor: colors.dangerSoft, borderRadius: radius.md }]}>
      <Text style={{ color: colors.danger, fontSize: fontSize.sm }}>{text}</Text>
      {seconds > 0 ? <Text style={{ color: colors.danger, fontSize: fontSize.sm }}>{t('error.retryIn', { seconds })}</Text> : null}
    </View>
  );
}

const styles = StyleSheet.create({ box: { padding: 10, gap: 2 } });
