// One turn of the chat as the user sees it: their question (editable) and Whale's answer.
import * as Clipboard from 'expo-clipboard';
import { useState } from 'react';
import { ActivityIndicator, StyleSheet, Text, TextInput, View } from 'react-native';

import type { Feedback, Message } from '@/api/types';
import { useT } from '@/locale';
import type { AnswerView } from '@/state/stream/view';
import { useTheme } from '@/theme/ThemeProvider';
import { BranchSwitcher } from './BranchSwitcher';
import { Button, IconButton } from './Button';
import { FileCards } from './FileCards';
import { LazyMarkdown as Markdown } from './LazyMarkdown';
import { ReasoningBlock } from './ReasoningBlock';
import { citationsAsText } from './rich/citations';
import { AnswerNotices, SearchSources } from './SearchSources';

interface UserMessageProps {
  message: Message;
  /** Any question can be edited, but not while an answer runs. */
  editable: boolean;
  /** Resolves to false when the server refused the edit: the editor opens again with the text. */
  onEdit?: (message: Message, text: string) => Promise<boolean> | void;
  onSwitchBranch?: (siblingId: string) => void;
  busy?: boolean;
  /** The shared page: the files show by name, their text stays the owner's. */
  readOnly?: boolean;
}

export function UserMessage({ message, editable, onEdit, onSwitchBranch, busy, readOnly }: UserMessageProps) {
  const t = useT();
  const { colors, radius, fontSize } = useTheme();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);

  if (editing) {
    return (
      <View style={[styles.userWrap, { width: '100%' }]}>
        <View style={[styles.editBox, { backgroundColor: colors.surface, borderColor: colors.accent, borderRadius: radius.lg }]}>
          <TextInput
            accessibilityLabel={t('chat.edit')}
            value={draft}
            onChangeText={setDraft}
            multiline
            autoFocus
            style={{ color: colors.text, fontSize: fontSize.md, minHeight: 60 }}
          />
          <View style={styles.editActions}>
            <Button label={t('common.cancel')} variant="secondary" onPress={() => { setEditing(false); setDraft(message.content); }} />
            <Button
              label={t('chat.editSave')}
              disabled={!draft.trim() || draft.trim() === message.content.trim()}
              onPress={async () => {
                setEditing(false);
                if ((await onEdit?.(message, draft.trim())) === false) setEditing(true);
              }}
            />
          </View>
        </View>
      </View>
    );
  }

  return (
    <View style={styles.userWrap}>
      <FileCards files={message.files} openable={!readOnly} />
      <View style={[styles.userBubble, { backgroundColor: colors.userBubble, borderRadius: radius.lg }]}>
        <Text selectable style={{ color: colors.text, fontSize: fontSize.md, lineHeight: 23 }}>
          {message.content}
        </Text>
      </View>
      <View style={styles.userActions}>
        {onSwitchBranch ? <BranchSwitcher message={message} onSwitch={onSwitchBranch} disabled={busy} /> : null}
        {editable && onEdit ? <IconButton icon="create-outline" size={16} label={t('chat.edit')} disabled={busy} onPress={() => setEditing(true)} /> : null}
      </View>
    </View>
  );
}

interface AssistantMessageProps {
  message: Message;
  view: AnswerView;
  /** Read-only (shared page): no actions. */
  readOnly?: boolean;
  onRegenerate?: (message: Message) => void;
  onFeedback?: (message: Message, feedback: Feedback) => void;
  onSwitchBranch?: (siblingId: string) => void;
  onRetryStream?: () => void;
  busy?: boolean;
}

export function AssistantMessage({ message, view, readOnly, onRegenerate, onFeedback, onSwitchBranch, onRetryStream, busy }: AssistantMessageProps) {
  const t = useT();
  const { colors, fontSize, radius } = useTheme();
  const [copied, setCopied] = useState(false);
  const feedback = message.feedback ?? 'none';
  const waiting = view.generating && !view.content && !view.reasoning && !view.searching;
  // The model ended without a word of answer: say so rather than show nothing.
  const empty = view.status === 'done' && !view.generating && !view.content.trim();

  return (
    <View style={styles.assistant} testID="assistant-message">
      <View style={[styles.avatar, { backgroundColor: colors.accentSoft }]} accessible={false}>
        <Text style={{ color: colors.accentText, fontWeight: '800', fontSize: fontSize.sm }}>W</Text>
      </View>
      <View style={styles.assistantBody}>
        {view.fallback ? (
          <View style={[styles.notice, { backgroundColor: colors.warningSoft, borderRadius: radius.md }]}>
            <Text style={{ color: colors.warningText, fontSize: fontSize.sm }}>{t('chat.fallbackAnswer')}</Text>
          </View>
        ) : null}
        <AnswerNotices notices={view.notices} />
        <SearchSources searching={view.searching} sources={view.sources} />
        {view.reasoning ? <ReasoningBlock reasoning={view.reasoning} thinking={view.thinking} seconds={view.thoughtSeconds} /> : null}
        {waiting ? (
          <View style={styles.statusRow} accessibilityLiveRegion="polite">
            <ActivityIndicator size="small" color={colors.accent} />
            <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>
              {view.queuePosition ? t('chat.queued', { position: view.queuePosition }) : view.streamStatus === 'reconnecting' ? t('chat.reconnecting') : t('chat.queuedShort')}
            </Text>
          </View>
        ) : null}
        {view.content ? (
          <View testID="answer-content">
            <Markdown text={view.content} sources={view.sources} streaming={view.generating} />
          </View>
        ) : null}
        {empty ? <Text style={{ color: colors.textMuted, fontSize: fontSize.sm, fontStyle: 'italic' }}>{t('chat.emptyAnswer')}</Text> : null}
        {view.generating && view.streamStatus === 'reconnecting' && !waiting ? (
          <Text accessibilityLiveRegion="polite" style={{ color: colors.warningText, fontSize: fontSize.sm }}>{t('chat.reconnecting')}</Text>
        ) : null}
        {view.status === 'cancelled' ? <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{t('chat.stopped')}</Text> : null}
        {view.status === 'failed' || (view.streamStatus === 'error' && view.errorMessage) ? (
          <View style={[styles.failed, { backgroundColor: colors.dangerSoft, borderRadius: radius.md }]} accessibilityRole="alert">
            <Text style={{ color: colors.danger, fontSize: fontSize.sm, flex: 1 }}>
              {t('chat.failed', { message: view.errorMessage ?? t('error.generic') })}
            </Text>
            {view.status !== 'failed' && onRetryStream ? <Button label={t('common.retry')} variant="secondary" onPress={onRetryStream} /> : null}
          </View>
        ) : null}
        {!readOnly && !view.generating ? (
          <View style={styles.actions}>
            <IconButton
              icon={copied ? 'checkmark' : 'copy-outline'}
              size={17}
              label={t('chat.copy')}
              onPress={async () => {
                await Clipboard.setStringAsync(citationsAsText(view.content));
                setCopied(true);
                setTimeout(() => setCopied(false), 1500);
              }}
            />
            <IconButton icon="refresh" size={17} label={t('chat.regenerate')} disabled={busy} onPress={() => onRegenerate?.(message)} />
            <IconButton
              icon={feedback === 'up' ? 'thumbs-up' : 'thumbs-up-outline'}
              size={17}
              label={t('chat.thumbsUp')}
              selected={feedback === 'up'}
              onPress={() => onFeedback?.(message, feedback === 'up' ? 'none' : 'up')}
            />
            <IconButton
              icon={feedback === 'down' ? 'thumbs-down' : 'thumbs-down-outline'}
              size={17}
              label={t('chat.thumbsDown')}
              selected={feedback === 'down'}
              onPress={() => onFeedback?.(message, feedback === 'down' ? 'none' : 'down')}
            />
            {onSwitchBranch ? <BranchSwitcher message={message} onSwitch={onSwitchBranch} disabled={busy} /> : null}
          </View>
        ) : null}
      </View>
    </View>
  );
}

const styles = StyleSheet.create({
  userWrap: { alignItems: 'flex-end', gap: 4, marginVertical: 8 },
  userBubble: { maxWidth: '85%', paddingHorizontal: 16, paddingVertical: 10 },
  userActions: { flexDirection: 'row', alignItems: 'center', gap: 4 },
  editBox: { width: '100%', padding: 12, gap: 10, borderWidth: 1 },
  editActions: { flexDirection: 'row', justifyContent: 'flex-end', gap: 8 },
  assistant: { flexDirection: 'row', gap: 12, marginVertical: 8 },
  avatar: { width: 30, height: 30, borderRadius: 15, alignItems: 'center', justifyContent: 'center', marginTop: 2 },
  assistantBody: { flex: 1, minWidth: 0 },
  statusRow: { flexDirection: 'row', alignItems: 'center', gap: 8, paddingVertical: 6 },
  notice: { paddingHorizontal: 10, paddingVertical: 6, marginBottom: 8, alignSelf: 'flex-start' },
  failed: { flexDirection: 'row', alignItems: 'center', gap: 8, padding: 10, marginTop: 6 },
  actions: { flexDirection: 'row', alignItems: 'center', gap: 2, marginTop: 2, marginLeft: -6, flexWrap: 'wrap' },
});
