// The rounded message box: text, the DeepThink (R1) pill, and a send button that becomes stop.
import Ionicons from '@expo/vector-icons/Ionicons';
import { useState } from 'react';
import { Platform, Pressable, StyleSheet, Text, TextInput, View, type NativeSyntheticEvent, type TextInputKeyPressEventData } from 'react-native';

import { useT } from '@/locale';
import { useTheme } from '@/theme/ThemeProvider';

interface ComposerProps {
  onSend: (text: string, deepthink: boolean) => void;
  onStop: () => void;
  deepthink: boolean;
  onToggleDeepthink: (on: boolean) => void;
  /** An answer is being generated: the send button is a stop button. */
  generating: boolean;
  /** Sending is blocked for now (offline, rate limited). */
  sendDisabled?: boolean;
  stopping?: boolean;
}

export function Composer({ onSend, onStop, deepthink, onToggleDeepthink, generating, sendDisabled, stopping }: ComposerProps) {
  const t = useT();
  const { colors, radius, fontSize } = useTheme();
  const [text, setText] = useState('');
  const canSend = text.trim().length > 0 && !sendDisabled;

  const send = () => {
    if (!canSend || generating) return;
    onSend(text.trim(), deepthink);
    setText('');
  };

  const onKeyPress = (event: NativeSyntheticEvent<TextInputKeyPressEventData>) => {
    // On the web, Enter sends and Shift+Enter starts a new line, as in every chat app.
    const native = event.nativeEvent as TextInputKeyPressEventData & { shiftKey?: boolean; isComposing?: boolean };
    if (Platform.OS === 'web' && native.key === 'Enter' && !native.shiftKey && !native.isComposing) {
      event.preventDefault();
      send();
    }
  };

  return (
    <View style={[styles.box, { backgroundColor: colors.surface, borderColor: colors.border, borderRadius: radius.xl }]}>
      <TextInput
        accessibilityLabel={t('chat.placeholder')}
        placeholder={t('chat.placeholder')}
        placeholderTextColor={colors.textSubtle}
        value={text}
        onChangeText={setText}
        onKeyPress={onKeyPress}
        multiline
        style={[styles.input, { color: colors.text, fontSize: fontSize.md }]}
      />
      <View style={styles.row}>
        <Pressable
          accessibilityRole="switch"
          accessibilityLabel={t('chat.deepthink')}
          accessibilityState={{ checked: deepthink }}
          aria-checked={deepthink}
          onPress={() => onToggleDeepthink(!deepthink)}
          style={[
            styles.pill,
            {
              borderRadius: radius.pill,
              backgroundColor: deepthink ? colors.accentSoft : 'transparent',
              borderColor: deepthink ? colors.accent : colors.border,
            },
          ]}
        >
          <Ionicons name="aperture-outline" size={16} color={deepthink ? colors.accentText : colors.textMuted} />
          <Text style={[styles.pillText, { color: deepthink ? colors.accentText : colors.textMuted, fontSize: fontSize.sm }]}>
            {t('chat.deepthink')}
          </Text>
        </Pressable>
        {generating ? (
          <Pressable
            accessibilityRole="button"
            accessibilityLabel={t('chat.stop')}
            accessibilityState={{ busy: !!stopping }}
            aria-busy={!!stopping}
            onPress={onStop}
            style={[styles.send, { backgroundColor: colors.accent }]}
          >
            <View style={[styles.stopSquare, { backgroundColor: colors.onAccent }]} />
          </Pressable>
        ) : (
          <Pressable
            accessibilityRole="button"
            accessibilityLabel={t('chat.send')}
            accessibilityState={{ disabled: !canSend }}
            disabled={!canSend}
            onPress={send}
            style={[styles.send, { backgroundColor: canSend ? colors.accent : colors.disabled }]}
          >
            <Ionicons name="arrow-up" size={20} color={colors.onAccent} />
          </Pressable>
        )}
      </View>
    </View>
  );
}

const styles = StyleSheet.create({
  box: { borderWidth: 1, paddingHorizontal: 14, paddingTop: 12, paddingBottom: 10, gap: 8 },
  input: { minHeight: 44, maxHeight: 200, paddingVertical: 4, textAlignVertical: 'top', outlineStyle: 'none' } as never,
  row: { flexDirection: 'row', alignItems: 'center', justifyContent: 'space-between' },
  pill: { flexDirection: 'row', alignItems: 'center', gap: 6, paddingHorizontal: 12, paddingVertical: 6, borderWidth: 1 },
  pillText: { fontWeight: '600' },
  send: { width: 36, height: 36, borderRadius: 18, alignItems: 'center', justifyContent: 'center' },
  stopSquare: { width: 12, height: 12, borderRadius: 2 },
});
