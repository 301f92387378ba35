// The chat: history (sidebar on wide screens, drawer on phones), the message list and the composer.
import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'expo-router';
import { useCallback, useLayoutEffect, useMemo, useRef, useState } from 'react';
import {
  ActivityIndicator,
  FlatList,
  KeyboardAvoidingView,
  Modal,
  Platform,
  Pressable,
  StyleSheet,
  Text,
  View,
  useWindowDimensions,
  type NativeScrollEvent,
  type NativeSyntheticEvent,
} from 'react-native';
import { SafeAreaView } from 'react-native-safe-area-context';

import { capabilitiesOf, modelsApi, resultsOf } from '@/api/endpoints';
import { queryKeys } from '@/api/queryKeys';
import type { Message } from '@/api/types';
import { ErrorBanner, OfflineBanner, describeError } from '@/components/Banners';
import { Button, IconButton } from '@/components/Button';
import { Composer } from '@/components/Composer';
import { EmptyState } from '@/components/EmptyState';
import { HistoryPanel } from '@/components/HistoryPanel';
import { useT } from '@/locale';
import { useAttachments } from '@/state/attachments';
import { useChat } from '@/state/chat';
import { useFallbacks } from '@/state/fallbacks';
import { usePreferences } from '@/state/preferences';
import { deepthinkSpent, hoursUntilReset, useUsage } from '@/state/usage';
import { retryTurnStream, useTurnStreams } from '@/state/stream/turnStreams';
import { useTheme } from '@/theme/ThemeProvider';
import { CONTENT_MAX_WIDTH, WIDE_BREAKPOINT } from '@/theme/tokens';
import { AssistantRow, UserRow, type ChatRowActions } from './ChatRows';

export function ChatScreen({ conversationId }: { conversationId?: string }) {
  const t = useT();
  const router = useRouter();
  const { colors, fontSize } = useTheme();
  const { width } = useWindowDimensions();
  const wide = width >= WIDE_BREAKPOINT;
  const [drawerOpen, setDrawerOpen] = useState(false);
  const deepthink = usePreferences((s) => s.deepthink);
  const setDeepthink = usePreferences((s) => s.setDeepthink);
  const searchPreferred = usePreferences((s) => s.search);
  const setSearch = usePreferences((s) => s.setSearch);
  // No stream state up here: each answer row reads its own turn's (ChatRows), so tokens re-render one row.
  const fallbacks = useFallbacks((s) => s.byTurn);
  const usage = useUsage();
  const models = useQuery({ queryKey: queryKeys.models(), queryFn: modelsApi.list, retry: false, staleTime: 5 * 60_000 });
  const demo = resultsOf(models.data).some((m) => m.demo);
  const capabilities = capabilitiesOf(models.data);
  // Remembered as the user left it, but only ever sent to a server that can search.
  const search = capabilities.search && searchPreferred;
  const attachments = useAttachments(capabilities.files.max_per_message);
  const listRef = useRef<FlatList<Message>>(null);
  const atBottom = useRef(true);

  // The new chat's address becomes the conversation's (replace: it is the same page, now saved).
  const onCreated = useCallback((id: string) => router.replace(`/c/${id}`), [router]);
  const chat = useChat(conversationId, onCreated);

  const lastAssistantId = chat.messages[chat.messages.length - 1]?.role === 'assistant' ? chat.messages[chat.messages.length - 1]?.id : undefined;
  const activeTurnId = chat.activeTurn?.id;
  const stopping = useTurnStreams((s) => (activeTurnId ? !!s.streams[activeTurnId]?.cancelRequested : false));
  const streamFallback = useTurnStreams((s) => chat.messages.some((m) => m.role === 'assistant' && !!s.streams[m.id]?.fallback));

  // The rows' actions call the latest chat and DeepThink setting, through one object that never changes.
  const latest = useRef({ chat, deepthink, search });
  useLayoutEffect(() => {
    latest.current = { chat, deepthink, search };
  });
  const actions = useMemo<ChatRowActions>(
    () => ({
      edit: (message, text) => latest.current.chat.editQuestion(message, text, latest.current.deepthink, latest.current.search),
      regenerate: (message) => void latest.current.chat.regenerate(message, latest.current.deepthink, latest.current.search),
      feedback: (message, feedback) => void latest.current.chat.setFeedback(message, feedback),
      switchBranch: (id) => void latest.current.chat.switchBranch(id),
      retryStream: retryTurnStream,
    }),
    [],
  );

  // Where the user goes is history (push), so the browser's Back and Forward walk it. A sidebar
  // conversation is a link that navigates by itself (a modified click opens a new tab instead).
  const conversationOpened = () => setDrawerOpen(false);
  const newChat = () => {
    setDrawerOpen(false);
    if (conversationId) router.push('/');
  };
  const activeGone = () => {
    setDrawerOpen(false);
    router.replace('/');
  };
  const openSettings = () => {
    setDrawerOpen(false);
    router.push('/settings');
  };

  const history = (
    <HistoryPanel activeId={conversationId} onOpen={conversationOpened} onNewChat={newChat} onOpenSettings={openSettings} onActiveGone={activeGone} />
  );

  const busy = chat.busy;
  const generating = chat.generating;
  const renderMessage = useCallback(
    ({ item }: { item: Message }) => {
      const Row = item.role === 'user' ? UserRow : AssistantRow;
      return <Row message={item} actions={actions} busy={busy} generating={generating} last={item.id === lastAssistantId} />;
    },
    [actions, busy, generating, lastAssistantId],
  );

  const onScroll = (event: NativeSyntheticEvent<NativeScrollEvent>) => {
    const { contentOffset, contentSize, layoutMeasurement } = event.nativeEvent;
    atBottom.current = contentSize.height - contentOffset.y - layoutMeasurement.height < 80;
  };

  const limits = usage.data?.limits;
  const lastError = chat.chatError?.error as { limit?: { name: string; value?: number } } | undefined;
  const maxChars = limits?.max_message_chars ?? (lastError?.limit?.name === 'max_message_chars' ? lastError.limit.value : null);
  const latestFallback = streamFallback || chat.messages.some((m) => m.role === 'assistant' && !!fallbacks[m.id]);
  const hours = hoursUntilReset(usage.data);
  const deepthinkNotice =
    deepthinkSpent(usage.data) || latestFallback ? (hours ? t('chat.fallbackNotice', { hours }) : t('chat.fallbackNoticeNoTime')) : null;

  /** Sends with Search as set and the attached files; the chips go once the server has the question. */
  const send = async (text: string, think: boolean) => {
    // A suggestion tapped while a file is still being read waits like the send button does.
    if (!attachments.allReady) return false;
    const accepted = await chat.send(text, think, { search, files: attachments.readyFiles });
    if (accepted) attachments.clear();
    return accepted;
  };

  const notFound = chat.loadError && (chat.loadError as { status?: number }).status === 404;
  const title = chat.conversation?.title || t('chat.newChat');

  const main = (
    <View role="main" style={[styles.main, { backgroundColor: colors.background }]}>
      {!wide ? (
        <View style={[styles.header, { borderBottomColor: colors.border }]}>
          <IconButton icon="menu" size={22} label={t('chat.openHistory')} onPress={() => setDrawerOpen(true)} />
          <Text numberOfLines={1} accessibilityRole="header" style={[styles.headerTitle, { color: colors.text, fontSize: fontSize.md }]}>
            {title}
          </Text>
          <IconButton icon="add-circle-outline" size={22} label={t('chat.newChat')} onPress={newChat} />
        </View>
      ) : null}
      <OfflineBanner />
      {demo ? (
        <View role="note" style={[styles.demo, { backgroundColor: colors.warningSoft }]}>
          <Text style={{ color: colors.warningText, fontSize: fontSize.sm, textAlign: 'center' }}>{t('chat.demoBanner')}</Text>
        </View>
      ) : null}
      {chat.loading ? (
        <ActivityIndicator style={styles.center} color={colors.accent} />
      ) : notFound ? (
        <View style={styles.center}>
          <Text style={{ color: colors.textMuted, fontSize: fontSize.md, textAlign: 'center' }}>{t('chat.notFound')}</Text>
          <Button label={t('chat.newChat')} onPress={newChat} style={{ marginTop: 12 }} />
        </View>
      ) : chat.loadError ? (
        <View style={styles.center}>
          <Text style={{ color: colors.danger, fontSize: fontSize.md }}>{describeError(chat.loadError, t)}</Text>
        </View>
      ) : chat.messages.length === 0 ? (
        <EmptyState onPick={(text) => void send(text, deepthink)} />
      ) : (
        <FlatList
          ref={listRef}
          data={chat.messages}
          keyExtractor={(m) => m.id}
          renderItem={renderMessage}
          onScroll={onScroll}
          scrollEventThrottle={100}
          onContentSizeChange={() => atBottom.current && listRef.current?.scrollToEnd({ animated: false })}
          contentContainerStyle={styles.listContent}
          style={styles.list}
          initialNumToRender={12}
          windowSize={11}
          removeClippedSubviews={Platform.OS === 'android'}
        />
      )}
      <View style={styles.bottom}>
        {chat.chatError ? (
          <ErrorBanner
            error={chat.chatError.error}
            retryAt={chat.chatError.retryAt}
            onRetry={chat.chatError.retry}
            onDismiss={chat.clearError}
          />
        ) : null}
        <Composer
          onSend={send}
          onStop={() => void chat.stop()}
          deepthink={deepthink}
          onToggleDeepthink={setDeepthink}
          generating={chat.generating}
          stopping={stopping}
          sendDisabled={chat.busy || !!notFound}
          maxChars={maxChars}
          deepthinkNotice={deepthinkNotice}
          searchAvailable={capabilities.search}
          search={search}
          onToggleSearch={setSearch}
          attachments={attachments}
        />
        <Text style={[styles.disclaimer, { color: colors.textSubtle, fontSize: fontSize.xs }]}>{t('chat.disclaimer')}</Text>
      </View>
    </View>
  );

  return (
    <SafeAreaView style={[styles.root, { backgroundColor: colors.background }]} edges={['top', 'bottom', 'left', 'right']}>
      <KeyboardAvoidingView style={styles.row} behavior={Platform.OS === 'ios' ? 'padding' : undefined}>
        {wide ? <View style={styles.sidebar}>{history}</View> : null}
        {main}
      </KeyboardAvoidingView>
      {!wide ? (
        <Modal visible={drawerOpen} transparent animationType="fade" onRequestClose={() => setDrawerOpen(false)}>
          <View style={styles.drawerRow}>
            <SafeAreaView style={[styles.drawer, { backgroundColor: colors.sidebar }]} edges={['top', 'bottom', 'left']}>
              {history}
            </SafeAreaView>
            <Pressable
              accessibilityRole="button"
              accessibilityLabel={t('common.close')}
              style={[styles.scrim, { backgroundColor: colors.overlay }]}
              onPress={() => setDrawerOpen(false)}
            />
          </View>
        </Modal>
      ) : null}
    </SafeAreaView>
  );
}

const styles = StyleSheet.create({
  root: { flex: 1 },
  row: { flex: 1, flexDirection: 'row' },
  sidebar: { width: 280 },
  main: { flex: 1 },
  header: { flexDirection: 'row', alignItems: 'center', paddingHorizontal: 8, paddingVertical: 6, borderBottomWidth: StyleSheet.hairlineWidth, gap: 4 },
  headerTitle: { flex: 1, textAlign: 'center', fontWeight: '600' },
  center: { flex: 1, alignItems: 'center', justifyContent: 'center', padding: 24 },
  list: { flex: 1 },
  listContent: { width: '100%', maxWidth: CONTENT_MAX_WIDTH, alignSelf: 'center', paddingHorizontal: 16, paddingTop: 12, paddingBottom: 24 },
  bottom: { width: '100%', maxWidth: CONTENT_MAX_WIDTH, alignSelf: 'center', paddingHorizontal: 12, paddingBottom: 6 },
  demo: { paddingHorizontal: 12, paddingVertical: 6 },
  disclaimer: { textAlign: 'center', marginTop: 6 },
  drawerRow: { flex: 1, flexDirection: 'row' },
  drawer: { width: '82%', maxWidth: 320 },
  scrim: { flex: 1 },
});
