// The rounded message box: text, the DeepThink (R1) pill, and a send button that becomes stop.
// The text stays until the server accepts it, and a counter shows the length limit as it nears.
import Ionicons from '@expo/vector-icons/Ionicons';
import { useState } from 'react';
import { Platform, Pressable, StyleSheet, Text, TextInput, View, type NativeSyntheticEvent, type TextInputKeyPressEventData } from 'react-native';

import { useT } from '@/locale';
import { useTheme } from '@/theme/ThemeProvider';
import { focusRing } from '@/theme/tokens';

interface ComposerProps {
  /** Resolves to false when the server refused the message: the text comes back into the box. */
  onSend: (text: string, deepthink: boolean) => Promise<boolean> | boolean | void;
  onStop: () => void;
  deepthink: boolean;
  onToggleDeepthink: (on: boolean) => void;
  /** An answer is being generated: the send button is a stop button. */
  generating: boolean;
  /** Sending is blocked for now (offline, rate limited). */
  sendDisabled?: boolean;
  stopping?: boolean;
  /** The user's message length limit, when known. */
  maxChars?: number | null;
  /** Said on the DeepThink pill, e.g. that the day's allowance is spent. */
  deepthinkNotice?: string | null;
}

/** The counter appears from this share of the limit on. */
const COUNTER_FROM = 0.8;

export function Composer({ onSend, onStop, deepthink, onToggleDeepthink, generating, sendDisabled, stopping, maxChars, deepthinkNotice }: ComposerProps) {
  const t = useT();
  const { colors, radius, fontSize } = useTheme();
  const [text, setText] = useState('');
  const [focused, setFocused] = useState(false);
  const length = text.trim().length;
  const tooLong = !!maxChars && length > maxChars;
  const canSend = length > 0 && !sendDisabled && !tooLong;

  const send = async () => {
    if (!canSend || generating) return;
    const sent = text.trim();
    setText('');
    const accepted = await onSend(sent, deepthink);
    // Refused: give the question back, unless the user already started typing another one.
    if (accepted === false) setText((current) => (current ? current : sent));
  };

  const onKeyPress = (event: NativeSyntheticEvent<TextInputKeyPressEventData>) => {
    // On the web, Enter sends and Shift+Enter starts a new line, as in every chat app.
    const native = event.nativeEvent as TextInputKeyPressEventData & { shiftKey?: boolean; isComposing?: boolean };
    if (Platform.OS === 'web' && native.key === 'Enter' && !native.shiftKey && !native.isComposing) {
      event.preventDefault();
      void send();
    }
  };

  const showCounter = !!maxChars && length >= maxChars * COUNTER_FROM;
  const counterLabel = maxChars
    ? tooLong
      ? t('chat.counterOver', { over: (length - maxChars).toLocaleString('en-US'), limit: maxChars.toLocaleString('en-US') })
      : t('chat.counter', { count: length.toLocaleString('en-US'), limit: maxChars.toLocaleString('en-US') })
    : '';

  return (
    <View
      style={[
        styles.box,
        {
          backgroundColor: colors.surface,
          borderColor: focused ? colors.accent : colors.border,
          borderRadius: radius.xl,
        },
        // The focus ring: the bare input draws no outline, so the box shows it.
        focused ? focusRing(colors.accent) : null,
      ]}
    >
      <View style={styles.inner}>
        <TextInput
          accessibilityLabel={t('chat.placeholder')}
          placeholder={t('chat.placeholder')}
          placeholderTextColor={colors.textSubtle}
          value={text}
          onChangeText={setText}
          onKeyPress={onKeyPress}
          onFocus={() => setFocused(true)}
          onBlur={() => setFocused(false)}
          multiline
          style={[styles.input, { color: colors.text, fontSize: fontSize.md }]}
        />
        {showCounter ? (
          <Text
            accessibilityLabel={counterLabel}
            accessibilityLiveRegion={tooLong ? 'polite' : 'none'}
            style={[styles.counter, { color: tooLong ? colors.danger : colors.textMuted, fontSize: fontSize.xs }]}
          >
            {tooLong ? counterLabel : `${length.toLocaleString('en-US')} / ${maxChars?.toLocaleString('en-US')}`}
          </Text>
        ) : null}
        <View style={styles.row}>
          <Pressable
            accessibilityRole="switch"
            accessibilityLabel={t('chat.deepthink')}
            accessibilityHint={deepthinkNotice ?? undefined}
            accessibilityState={{ checked: deepthink }}
            aria-checked={deepthink}
            onPress={() => onToggleDeepthink(!deepthink)}
            style={[
              styles.pill,
              {
                borderRadius: radius.pill,
                backgroundColor: deepthink ? (deepthinkNotice ? colors.warningSoft : colors.accentSoft) : 'transparent',
                borderColor: deepthink ? (deepthinkNotice ? colors.warningText : colors.accent) : colors.border,
              },
            ]}
          >
            <Ionicons
              name={deepthink && deepthinkNotice ? 'alert-circle-outline' : 'aperture-outline'}
              size={16}
              color={deepthink ? (deepthinkNotice ? colors.warningText : colors.accentText) : colors.textMuted}
            />
            <Text style={[styles.pillText, { color: deepthink ? (deepthinkNotice ? colors.warningText : colors.accentText) : colors.textMuted, fontSize: fontSize.sm }]}>
              {t('chat.deepthink')}
            </Text>
          </Pressable>
          {deepthink && deepthinkNotice ? (
            <Text style={[styles.notice, { color: colors.warningText, fontSize: fontSize.xs }]}>{deepthinkNotice}</Text>
          ) : (
            <View style={styles.spacer} />
          )}
          {generating ? (
            <Pressable
              accessibilityRole="button"
              accessibilityLabel={t('chat.stop')}
              accessibilityState={{ busy: !!stopping }}
              aria-busy={!!stopping}
              onPress={onStop}
              style={[styles.send, { backgroundColor: colors.accentStrong }]}
            >
              <View style={[styles.stopSquare, { backgroundColor: colors.onAccent }]} />
            </Pressable>
          ) : (
            <Pressable
              accessibilityRole="button"
              accessibilityLabel={t('chat.send')}
              accessibilityState={{ disabled: !canSend }}
              disabled={!canSend}
              onPress={() => void send()}
              style={[styles.send, { backgroundColor: canSend ? colors.accentStrong : colors.disabled }]}
            >
              <Ionicons name="arrow-up" size={20} color={colors.onAccent} />
            </Pressable>
          )}
        </View>
      </View>
    </View>
  );
}

const styles = StyleSheet.create({
  box: { borderWidth: 1 },
  inner: { paddingHorizontal: 14, paddingTop: 12, paddingBottom: 10, gap: 8 },
  input: { minHeight: 44, maxHeight: 200, paddingVertical: 4, textAlignVertical: 'top', outlineStyle: 'none' } as never,
  counter: { alignSelf: 'flex-end' },
  row: { flexDirection: 'row', alignItems: 'center', gap: 8 },
  spacer: { flex: 1 },
  notice: { flex: 1 },
  pill: { flexDirection: 'row', alignItems: 'center', gap: 6, paddingHorizontal: 12, paddingVertical: 6, borderWidth: 1 },
  pillText: { fontWeight: '600' },
  send: { width: 36, height: 36, borderRadius: 18, alignItems: 'center', justifyContent: 'center' },
  stopSquare: { width: 12, height: 12, borderRadius: 2 },
});
