// The new-chat screen: a greeting and a few suggestions to start from.
import { Pressable, StyleSheet, Text, View } from 'react-native';

import type { MessageKey } from '@/locale/en';
import { useT } from '@/locale';
import { useTheme } from '@/theme/ThemeProvider';

const SUGGESTIONS: MessageKey[] = ['chat.suggestion.explain', 'chat.suggestion.code', 'chat.suggestion.plan', 'chat.suggestion.math'];

export function EmptyState({ onPick }: { onPick: (text: string) => void }) {
  const t = useT();
  const { colors, fontSize, radius } = useTheme();
  return (
    <View style={styles.wrap}>
      <View style={[styles.logo, { backgroundColor: colors.accent }]}>
        <Text style={{ color: colors.onAccent, fontSize: 26, fontWeight: '800' }}>W</Text>
      </View>
      <Text accessibilityRole="header" style={[styles.greeting, { color: colors.text, fontSize: fontSize.xl }]}>
        {t('chat.greeting')}
      </Text>
      <Text style={{ color: colors.textMuted, fontSize: fontSize.md, textAlign: 'center' }}>{t('chat.greetingSub')}</Text>
      <View style={styles.chips}>
        {SUGGESTIONS.map((key) => (
          <Pressable
            key={key}
            accessibilityRole="button"
            onPress={() => onPick(t(key))}
            style={({ pressed }) => [
              styles.chip,
              { borderColor: colors.border, borderRadius: radius.pill, backgroundColor: pressed ? colors.surfaceAlt : colors.background },
            ]}
          >
            <Text style={{ color: colors.text, fontSize: fontSize.sm }}>{t(key)}</Text>
          </Pressable>
        ))}
      </View>
    </View>
  );
}

const styles = StyleSheet.create({
  wrap: { flex: 1, alignItems: 'center', justifyContent: 'center', gap: 10, paddingHorizontal: 20, paddingVertical: 32 },
  logo: { width: 56, height: 56, borderRadius: 28, alignItems: 'center', justifyContent: 'center', marginBottom: 6 },
  greeting: { fontWeight: '700', textAlign: 'center' },
  chips: { flexDirection: 'row', flexWrap: 'wrap', justifyContent: 'center', gap: 8, marginTop: 16, maxWidth: 640 },
  chip: { borderWidth: 1, paddingHorizontal: 14, paddingVertical: 8 },
});
