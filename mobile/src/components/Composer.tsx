// The rounded message box: text, the DeepThink (R1) and Search pills, attached files, and a send
// button that becomes stop. The text stays until the server accepts it, a counter shows the length
// limit as it nears, and sending waits until every attached file has been read.
import Ionicons from '@expo/vector-icons/Ionicons';
import { useRef, useState } from 'react';
import { Platform, Pressable, StyleSheet, Text, TextInput, View, type NativeSyntheticEvent, type TextInputKeyPressEventData } from 'react-native';

import { useT } from '@/locale';
import type { Attachments } from '@/state/attachments';
import { useTheme } from '@/theme/ThemeProvider';
import { focusRing } from '@/theme/tokens';
import { AttachButton } from './attach/AttachButton';
import { AttachmentChips } from './attach/AttachmentChips';
import { useFileDrop } from './attach/fileDrop';
import type { IconName } from './Button';

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
  /** Search the web: the pill shows only when the server has a search provider. */
  searchAvailable?: boolean;
  search?: boolean;
  onToggleSearch?: (on: boolean) => void;
  /** The files attached to this question; without it there is no attach button. */
  attachments?: Attachments;
}

/** The counter appears from this share of the limit on. */
const COUNTER_FROM = 0.8;

export function Composer({
  onSend,
  onStop,
  deepthink,
  onToggleDeepthink,
  generating,
  sendDisabled,
  stopping,
  maxChars,
  deepthinkNotice,
  searchAvailable,
  search = false,
  onToggleSearch,
  attachments,
}: ComposerProps) {
  const t = useT();
  const { colors, radius, fontSize } = useTheme();
  const [text, setText] = useState('');
  const [focused, setFocused] = useState(false);
  const box = useRef<View>(null);
  const dragging = useFileDrop(box, attachments && !attachments.full ? attachments.add : undefined);
  const length = text.trim().length;
  const tooLong = !!maxChars && length > maxChars;
  const filesReady = attachments?.allReady ?? true;
  const filesFailed = !!attachments?.items.some((item) => item.status === 'failed');
  const filesHint = filesReady ? null : filesFailed ? t('chat.removeFailedFiles') : t('chat.waitFiles');
  const canSend = length > 0 && !sendDisabled && !tooLong && filesReady;

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
      ref={box}
      style={[
        styles.box,
        {
          backgroundColor: dragging ? colors.accentSoft : colors.surface,
          borderColor: focused || dragging ? colors.accent : colors.border,
          borderRadius: radius.xl,
        },
        // The focus ring: the bare input draws no outline, so the box shows it.
        focused ? focusRing(colors.accent) : null,
      ]}
    >
      <View style={styles.inner}>
        {dragging ? <Text style={{ color: colors.accentText, fontSize: fontSize.sm, textAlign: 'center' }}>{t('chat.dropFiles')}</Text> : null}
        {attachments ? <AttachmentChips items={attachments.items} onRemove={attachments.remove} /> : null}
        {attachments?.overflow ? (
          <Text accessibilityRole="alert" style={{ color: colors.warningText, fontSize: fontSize.xs }}>
            {t('chat.attachLimit', { max: attachments.overflow })}
          </Text>
        ) : null}
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
          <TogglePill
            label={t('chat.deepthink')}
            icon={deepthink && deepthinkNotice ? 'alert-circle-outline' : 'aperture-outline'}
            on={deepthink}
            warning={!!deepthinkNotice}
            hint={deepthinkNotice ?? undefined}
            onToggle={onToggleDeepthink}
          />
          {searchAvailable && onToggleSearch ? (
            <TogglePill label={t('chat.search')} icon="globe-outline" on={search} onToggle={onToggleSearch} />
          ) : null}
          {deepthink && deepthinkNotice ? (
            <Text style={[styles.notice, { color: colors.warningText, fontSize: fontSize.xs }]}>{deepthinkNotice}</Text>
          ) : (
            <View style={styles.spacer} />
          )}
          {attachments ? (
            <AttachButton onPicked={attachments.add} room={attachments.max - attachments.items.length} disabled={attachments.full} />
          ) : null}
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
              accessibilityHint={filesHint ?? undefined}
              accessibilityState={{ disabled: !canSend }}
              disabled={!canSend}
              onPress={() => void send()}
              style={[styles.send, { backgroundColor: canSend ? colors.accentStrong : colors.disabled }]}
            >
              <Ionicons name="arrow-up" size={20} color={colors.onAccent} />
            </Pressable>
          )}
        </View>
        {filesHint && length > 0 ? (
          <Text accessibilityLiveRegion="polite" style={{ color: colors.textMuted, fontSize: fontSize.xs, alignSelf: 'flex-end' }}>
            {filesHint}
          </Text>
        ) : null}
      </View>
    </View>
  );
}

interface TogglePillProps {
  label: string;
  icon: IconName;
  on: boolean;
  onToggle: (on: boolean) => void;
  /** On, but not as asked (DeepThink's allowance is spent): drawn in the warning colours. */
  warning?: boolean;
  hint?: string;
}

function TogglePill({ label, icon, on, onToggle, warning, hint }: TogglePillProps) {
  const { colors, radius, fontSize } = useTheme();
  const foreground = on ? (warning ? colors.warningText : colors.accentText) : colors.textMuted;
  return (
    <Pressable
      accessibilityRole="switch"
      accessibilityLabel={label}
      accessibilityHint={hint}
      accessibilityState={{ checked: on }}
      aria-checked={on}
      onPress={() => onToggle(!on)}
      style={[
        styles.pill,
        {
          borderRadius: radius.pill,
          backgroundColor: on ? (warning ? colors.warningSoft : colors.accentSoft) : 'transparent',
          borderColor: on ? (warning ? colors.warningText : colors.accent) : colors.border,
        },
      ]}
    >
      <Ionicons name={icon} size={16} color={foreground} />
      <Text style={[styles.pillText, { color: foreground, fontSize: fontSize.sm }]}>{label}</Text>
    </Pressable>
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
