// R1's visible reasoning: open while it streams ("Thinking…"), folded to "Thought for N seconds"
// once the answer begins, and reopenable.
import Ionicons from '@expo/vector-icons/Ionicons';
import { useEffect, useRef, useState } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';

import { useT } from '@/locale';
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
  const [open, setOpen] = useState(thinking);
  const wasThinking = useRef(thinking);

  useEffect(() => {
    // Fold exactly once, when thinking ends; after that the user decides.
    if (wasThinking.current && !thinking) setOpen(false);
    if (!wasThinking.current && thinking) setOpen(true);
    wasThinking.current = thinking;
  }, [thinking]);

  const title = thinking
    ? t('chat.thinking')
    : seconds === 1
      ? t('chat.thoughtForOne')
      : seconds !== null
        ? t('chat.thoughtFor', { seconds })
        : t('chat.thoughtFor', { seconds: '–' });

  return (
    <View style={styles.wrap}>
      <Pressable
        accessibilityRole="button"
        accessibilityLabel={title}
        accessibilityState={{ expanded: open }}
        aria-expanded={open}
        onPress={() => setOpen((value) => !value)}
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
