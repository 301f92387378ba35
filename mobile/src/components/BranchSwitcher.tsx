// "‹ 2 / 3 ›": moves between sibling versions of a message (edits or regenerations).
import { StyleSheet, Text, View } from 'react-native';

import type { Message } from '@/api/types';
import { useT } from '@/locale';
import { useTheme } from '@/theme/ThemeProvider';
import { IconButton } from './Button';

interface BranchSwitcherProps {
  message: Pick<Message, 'sibling_count' | 'sibling_index' | 'sibling_ids'>;
  onSwitch: (siblingId: string) => void;
  disabled?: boolean;
}

export function BranchSwitcher({ message, onSwitch, disabled }: BranchSwitcherProps) {
  const t = useT();
  const { colors, fontSize } = useTheme();
  const count = message.sibling_count ?? 1;
  const index = message.sibling_index ?? 0;
  const ids = message.sibling_ids ?? [];
  if (count < 2 || ids.length < 2) return null;
  const previous = ids[index - 1];
  const next = ids[index + 1];
  return (
    <View style={styles.row} accessibilityLabel={t('chat.branch', { index: index + 1, count })}>
      <IconButton icon="chevron-back" size={16} label={t('chat.previousBranch')} disabled={disabled || !previous} onPress={() => previous && onSwitch(previous)} />
      <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>
        {index + 1} / {count}
      </Text>
      <IconButton icon="chevron-forward" size={16} label={t('chat.nextBranch')} disabled={disabled || !next} onPress={() => next && onSwitch(next)} />
    </View>
  );
}

const styles = StyleSheet.create({
  row: { flexDirection: 'row', alignItems: 'center', gap: 2 },
});
