// A centred modal card used for confirms, renames, share links and passwords (Alert does not work on the web).
import type { ReactNode } from 'react';
import { Modal, Platform, Pressable, StyleSheet, Text, View } from 'react-native';

import { useT } from '@/locale';
import { useTheme } from '@/theme/ThemeProvider';

const WEB = Platform.OS === 'web';

interface DialogProps {
  visible: boolean;
  title: string;
  onClose: () => void;
  children?: ReactNode;
  actions?: ReactNode;
}

export function Dialog({ visible, title, onClose, children, actions }: DialogProps) {
  const t = useT();
  const { colors, radius, fontSize } = useTheme();
  return (
    // On the web the Modal is itself the role="dialog" element (react-native-web): it carries the title as its
    // name there, and the card is a plain box inside it; on a phone the card is the dialog.
    <Modal visible={visible} transparent animationType="fade" onRequestClose={onClose} aria-label={WEB ? title : undefined}>
      <View style={styles.backdrop}>
        {/* The scrim is a sibling of the card, not its parent: a button must not contain the dialog's own controls. */}
        <Pressable
          accessibilityRole="button"
          accessibilityLabel={t('common.close')}
          style={[StyleSheet.absoluteFill, { backgroundColor: colors.overlay }]}
          onPress={onClose}
        />
        <View
          role={WEB ? undefined : 'dialog'}
          aria-modal={WEB ? undefined : true}
          aria-label={WEB ? undefined : title}
          accessibilityViewIsModal
          style={[styles.card, { backgroundColor: colors.background, borderRadius: radius.lg, borderColor: colors.border }]}
        >
          <Text accessibilityRole="header" style={[styles.title, { color: colors.text, fontSize: fontSize.lg }]}>
            {title}
          </Text>
          <View style={styles.body}>{children}</View>
          {actions ? <View style={styles.actions}>{actions}</View> : null}
        </View>
      </View>
    </Modal>
  );
}

const styles = StyleSheet.create({
  backdrop: { flex: 1, alignItems: 'center', justifyContent: 'center', padding: 24 },
  card: { width: '100%', maxWidth: 420, padding: 20, gap: 14, borderWidth: StyleSheet.hairlineWidth },
  title: { fontWeight: '700' },
  body: { gap: 10 },
  actions: { flexDirection: 'row', justifyContent: 'flex-end', gap: 10, flexWrap: 'wrap' },
});
