// R1's visible reasoning: "Thinking…" while it streams, "Thought for N seconds" after. It stays
// as the user left it when the answer finishes (never folds by itself), and the last choice is
// remembered for the next answers.
import Ionicons from '@expo/vector-icons/Ionicons';
import { useState } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';

import { useT } from '@/locale';
import { usePreferences } from '@/state/preferences';
import { useTheme } from '@/theme/ThemeProvider';

interface ReasoningBlockProps {
  reasoning: string;
  /** Reasoning is still arriving. */
  thinking: boolean;
  seconds: number | null;
}

export function ReasoningBlock({ reasoning, thinking, seconds }: ReasoningBlockProps) {
  const t = useT();
  const { colors, fontSize } = useTheme();
  const preferOpen = usePreferences((s) => s.reasoningOpen);
  const setPreferOpen = usePreferences((s) => s.setReasoningOpen);
  const [open, setOpen] = useState(preferOpen);

  const toggle = () => {
    setOpen(!open);
    setPreferOpen(!open);
  };

  const title = thinking
    ? t('chat.thinking')
    : seconds === 1
      ? t('chat.thoughtForOne')
      : seconds !== null
        ? t('chat.thoughtFor', { seconds })
        : t('chat.thought');

  return (
    <View style={styles.wrap}>
      <Pressable
        accessibilityRole="button"
        accessibilityLabel={title}
        accessibilityState={{ expanded: open }}
        aria-expanded={open}
        onPress={toggle}
        style={[styles.header, { backgroundColor: colors.surface }]}
      >
        <Ionicons name="aperture-outline" size={14} color={colors.textMuted} />
        <Text style={[styles.title, { color: colors.textMuted, fontSize: fontSize.sm }]}>{title}</Text>
        <Ionicons name={open ? 'chevron-up' : 'chevron-down'} size={14} color={colors.textMuted} />
      </Pressable>
      {open ? (
        <View style={[styles.body, { borderLeftColor: colors.border }]}>
          <Text selectable testID="reasoning-text" style={[styles.text, { color: colors.textMuted, fontSize: fontSize.sm }]}>
            {reasoning}
          </Text>
        </View>
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  wrap: { gap: 8, marginBottom: 8 },
  header: { alignSelf: 'flex-start', flexDirection: 'row', alignItems: 'center', gap: 6, paddingHorizontal: 10, paddingVertical: 6, borderRadius: 10 },
  title: { fontWeight: '500' },
  body: { borderLeftWidth: 2, paddingLeft: 12, marginLeft: 4 },
  text: { lineHeight: 21 },
});
