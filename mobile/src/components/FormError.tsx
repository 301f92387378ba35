// A request's failure above a form, with the Retry-After countdown when the server gave one.
import { StyleSheet, Text, View } from 'react-native';

import { useT } from '@/locale';
import { useTheme } from '@/theme/ThemeProvider';
import { describeError, formatWait, useCountdown } from './Banners';

export function FormError({ error, retryAt }: { error: unknown; retryAt: number | null }) {
  const t = useT();
  const { colors, radius, fontSize } = useTheme();
  const seconds = useCountdown(retryAt);
  if (!error) return null;
  const text = describeError(error, t);
  return (
    <View accessibilityRole="alert" style={[styles.box, { backgroundColor: colors.dangerSoft, borderRadius: radius.md }]}>
      <Text style={{ color: colors.danger, fontSize: fontSize.sm }}>{text}</Text>
      {seconds > 0 ? <Text style={{ color: colors.danger, fontSize: fontSize.sm }}>{t('error.retryIn', { wait: formatWait(seconds, t) })}</Text> : null}
    </View>
  );
}

const styles = StyleSheet.create({ box: { padding: 10, gap: 2 } });
