// The history drawer: new chat, search, conversations grouped by date, and per-chat actions.
import Ionicons from '@expo/vector-icons/Ionicons';
import * as Clipboard from 'expo-clipboard';
import { Link } from 'expo-router';
import { useEffect, useMemo, useState } from 'react';
import { ActivityIndicator, FlatList, Platform, Pressable, StyleSheet, Text, TextInput, View } from 'react-native';

import { apiBaseUrl } from '@/api/config';
import { conversationsApi } from '@/api/endpoints';
import type { Conversation, ShareLink } from '@/api/types';
import { useT } from '@/locale';
import { useConversationActions, useConversationList } from '@/state/conversations';
import { useSession } from '@/state/session';
import { useTheme } from '@/theme/ThemeProvider';
import { focusRing } from '@/theme/tokens';
import { DATE_GROUP_LABEL, groupByDate, type DateGroup } from '@/utils/dateGroups';
import { saveResponse } from '@/utils/files';
import { describeError } from './Banners';
import { Button, IconButton } from './Button';
import { Dialog } from './Dialog';
import { TextField } from './TextField';

type Row = { kind: 'header'; key: string; group: DateGroup } | { kind: 'item'; key: string; conversation: Conversation };

interface HistoryPanelProps {
  activeId?: string;
  /** Called as a conversation's link is followed (e.g. to close the drawer). */
  onOpen: (id: string) => void;
  onNewChat: () => void;
  onOpenSettings: () => void;
  /** Called after the open conversation was deleted or archived. */
  onActiveGone: () => void;
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return debounced;
}

function appOrigin(): string {
  return Platform.OS === 'web' && typeof window !== 'undefined' && window.location?.origin ? window.location.origin : apiBaseUrl();
}

/** The link to copy: the server's absolute `url`; a relative one (an older server) is made absolute here. */
export function shareUrl(link: ShareLink, origin: string = appOrigin()): string {
  const url = link.url || `/share/${link.token}`;
  if (/^https?:\/\//.test(url)) return url;
  return `${origin.replace(/\/+$/, '')}${url.startsWith('/') ? '' : '/'}${url}`;
}

export function HistoryPanel({ activeId, onOpen, onNewChat, onOpenSettings, onActiveGone }: HistoryPanelProps) {
  const t = useT();
  const { colors, fontSize, radius } = useTheme();
  const user = useSession((s) => s.user);
  const [search, setSearch] = useState('');
  const [searchFocused, setSearchFocused] = useState(false);
  const q = useDebounced(search.trim(), 300);
  const list = useConversationList(q);
  const actions = useConversationActions();

  const [menuFor, setMenuFor] = useState<Conversation | null>(null);
  const [renaming, setRenaming] = useState<Conversation | null>(null);
  const [renameText, setRenameText] = useState('');
  const [deleting, setDeleting] = useState<Conversation | null>(null);
  const [sharing, setSharing] = useState<Conversation | null>(null);
  const [shareLink, setShareLink] = useState<ShareLink | null>(null);
  const [shareRevoked, setShareRevoked] = useState(false);
  const [copied, setCopied] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);

  const rows = useMemo<Row[]>(() => {
    const conversations = list.data?.pages.flatMap((page) => page.results) ?? [];
    return groupByDate(conversations).flatMap(({ group, items }) => [
      { kind: 'header' as const, key: `h-${group}`, group },
      ...items.map((conversation) => ({ kind: 'item' as const, key: conversation.id, conversation })),
    ]);
  }, [list.data]);

  const titleOf = (c: Conversation) => c.title || t('history.untitled');

  const renderRow = ({ item }: { item: Row }) => {
    if (item.kind === 'header') {
      return (
        <Text role="heading" aria-level={2} style={[styles.groupHeader, { color: colors.textSubtle, fontSize: fontSize.xs }]}>
          {t(DATE_GROUP_LABEL[item.group])}
        </Text>
      );
    }
    const c = item.conversation;
    const active = c.id === activeId;
    return (
      <View style={[styles.row, { backgroundColor: active ? colors.accentSoft : 'transparent', borderRadius: radius.md }]}>
        {/* A real link (an <a href> on the web): Back, Forward and "open in new tab" work. */}
        <Link
          href={`/c/${c.id}`}
          push
          asChild
          onPress={(event) => {
            // The open one is not pushed again; the drawer still closes.
            if (active) event.preventDefault();
            onOpen(c.id);
          }}
        >
        <Pressable
          accessibilityLabel={titleOf(c)}
          aria-current={active ? 'page' : undefined}
          onLongPress={() => setMenuFor(c)}
          style={styles.rowMain}
        >
          {c.pinned ? <Ionicons name="pin" size={12} color={colors.textMuted} /> : null}
          <Text numberOfLines={1} style={[styles.rowTitle, { color: active ? colors.accentText : colors.text, fontSize: fontSize.md }]}>
            {titleOf(c)}
          </Text>
          {c.is_generating ? (
            <View accessibilityLabel={t('history.generating')} style={styles.generating}>
              <ActivityIndicator size="small" color={colors.accent} />
            </View>
          ) : null}
        </Pressable>
        </Link>
        <IconButton icon="ellipsis-horizontal" size={16} label={t('history.actions', { title: titleOf(c) })} onPress={() => setMenuFor(c)} />
      </View>
    );
  };

  const runAction = async (fn: () => Promise<unknown>) => {
    try {
      setActionError(null);
      await fn();
    } catch (error) {
      setActionError(error);
    }
  };

  const saveRename = () => {
    const target = renaming;
    if (!target || !renameText.trim()) return;
    setRenaming(null);
    void runAction(() => actions.update.mutateAsync({ id: target.id, patch: { title: renameText.trim() } }));
  };

  const menuItems = menuFor
    ? [
        { key: 'rename', icon: 'create-outline' as const, label: t('history.rename'), run: () => { setRenameText(menuFor.title); setRenaming(menuFor); } },
        {
          key: 'pin',
          icon: (menuFor.pinned ? 'pin' : 'pin-outline') as 'pin',
          label: menuFor.pinned ? t('history.unpin') : t('history.pin'),
          run: () => runAction(() => actions.update.mutateAsync({ id: menuFor.id, patch: { pinned: !menuFor.pinned } })),
        },
        {
          key: 'archive',
          icon: 'archive-outline' as const,
          label: t('history.archive'),
          run: () =>
            runAction(async () => {
              await actions.update.mutateAsync({ id: menuFor.id, patch: { archived: true } });
              if (menuFor.id === activeId) onActiveGone();
            }),
        },
        { key: 'share', icon: 'link-outline' as const, label: t('history.share'), run: () => { setShareLink(null); setShareRevoked(false); setSharing(menuFor); } },
        {
          key: 'export',
          icon: 'download-outline' as const,
          label: t('history.export'),
          run: () => runAction(async () => saveResponse(await conversationsApi.exportFile(menuFor.id, 'markdown'), `${titleOf(menuFor)}.md`)),
        },
        { key: 'delete', icon: 'trash-outline' as const, label: t('history.delete'), danger: true, run: () => setDeleting(menuFor) },
      ]
    : [];

  return (
    <View role="navigation" aria-label={t('history.title')} style={[styles.panel, { backgroundColor: colors.sidebar, borderRightColor: colors.border }]}>
      <View style={styles.top}>
        <View style={styles.brand}>
          <View style={[styles.logo, { backgroundColor: colors.accentStrong }]}>
            <Text style={{ color: colors.onAccent, fontWeight: '800' }}>W</Text>
          </View>
          <Text style={{ color: colors.text, fontSize: fontSize.lg, fontWeight: '700' }}>{t('app.name')}</Text>
        </View>
        <Pressable
          accessibilityRole="button"
          accessibilityLabel={t('chat.newChat')}
          onPress={onNewChat}
          style={[styles.newChat, { backgroundColor: colors.accentSoft, borderRadius: radius.md }]}
        >
          <Ionicons name="add-circle-outline" size={18} color={colors.accentText} />
          <Text style={{ color: colors.accentText, fontWeight: '600', fontSize: fontSize.md }}>{t('chat.newChat')}</Text>
        </Pressable>
        <View
          style={[
            styles.search,
            // The focus ring of the search box (the bare input draws none).
            { backgroundColor: colors.surface, borderRadius: radius.md, borderColor: searchFocused ? colors.accent : colors.border },
            searchFocused ? focusRing(colors.accent) : null,
          ]}
        >
          <Ionicons name="search" size={16} color={colors.textSubtle} />
          <TextInput
            accessibilityLabel={t('history.search')}
            accessibilityRole="search"
            placeholder={t('history.search')}
            placeholderTextColor={colors.textSubtle}
            value={search}
            onChangeText={setSearch}
            onFocus={() => setSearchFocused(true)}
            onBlur={() => setSearchFocused(false)}
            style={[styles.searchInput, { color: colors.text, fontSize: fontSize.sm }]}
          />
        </View>
      </View>

      {actionError ? (
        <Text accessibilityRole="alert" style={{ color: colors.danger, fontSize: fontSize.sm, paddingHorizontal: 12 }}>
          {describeError(actionError, t)}
        </Text>
      ) : null}

      <FlatList
        data={rows}
        keyExtractor={(row) => row.key}
        renderItem={renderRow}
        style={styles.list}
        contentContainerStyle={{ paddingHorizontal: 8, paddingBottom: 12 }}
        onEndReached={() => list.hasNextPage && !list.isFetchingNextPage && list.fetchNextPage()}
        onEndReachedThreshold={0.5}
        initialNumToRender={20}
        windowSize={10}
        ListEmptyComponent={
          list.isLoading ? (
            <ActivityIndicator style={{ marginTop: 20 }} color={colors.accent} />
          ) : list.isError ? (
            <Text style={[styles.empty, { color: colors.danger }]}>{describeError(list.error, t)}</Text>
          ) : (
            <Text style={[styles.empty, { color: colors.textMuted }]}>{q ? t('history.noResults') : t('history.empty')}</Text>
          )
        }
        ListFooterComponent={list.isFetchingNextPage ? <ActivityIndicator color={colors.accent} /> : null}
      />

      <Pressable
        accessibilityRole="button"
        accessibilityLabel={`${user?.display_name || user?.email || ''}, ${t('history.settings')}`}
        onPress={onOpenSettings}
        style={[styles.footer, { borderTopColor: colors.border }]}
      >
        <View style={[styles.userAvatar, { backgroundColor: colors.surfaceAlt }]}>
          <Ionicons name="person" size={16} color={colors.textMuted} />
        </View>
        <Text numberOfLines={1} style={{ color: colors.text, flex: 1, fontSize: fontSize.sm }}>
          {user?.display_name || user?.email}
        </Text>
        <Ionicons name="settings-outline" size={18} color={colors.textMuted} />
      </Pressable>

      <Dialog visible={!!menuFor} title={menuFor ? titleOf(menuFor) : ''} onClose={() => setMenuFor(null)}>
        {menuItems.map((item) => (
          <Pressable
            key={item.key}
            accessibilityRole="button"
            onPress={() => {
              setMenuFor(null);
              void item.run();
            }}
            style={({ pressed }) => [styles.menuItem, { backgroundColor: pressed ? colors.surface : 'transparent', borderRadius: radius.sm }]}
          >
            <Ionicons name={item.icon} size={18} color={item.danger ? colors.danger : colors.textMuted} />
            <Text style={{ color: item.danger ? colors.danger : colors.text, fontSize: fontSize.md }}>{item.label}</Text>
          </Pressable>
        ))}
      </Dialog>

      <Dialog
        visible={!!renaming}
        title={t('history.renameTitle')}
        onClose={() => setRenaming(null)}
        actions={
          <>
            <Button label={t('common.cancel')} variant="secondary" onPress={() => setRenaming(null)} />
            <Button label={t('common.save')} disabled={!renameText.trim()} onPress={saveRename} />
          </>
        }
      >
        <TextField
          label={t('history.renameTitle')}
          value={renameText}
          onChangeText={setRenameText}
          autoFocus
          maxLength={200}
          returnKeyType="done"
          onSubmitEditing={saveRename}
        />
      </Dialog>

      <Dialog
        visible={!!deleting}
        title={t('history.deleteTitle')}
        onClose={() => setDeleting(null)}
        actions={
          <>
            <Button label={t('common.cancel')} variant="secondary" onPress={() => setDeleting(null)} />
            <Button
              label={t('common.delete')}
              variant="danger"
              onPress={() => {
                const target = deleting;
                setDeleting(null);
                if (!target) return;
                void runAction(async () => {
                  await actions.remove.mutateAsync(target.id);
                  if (target.id === activeId) onActiveGone();
                });
              }}
            />
          </>
        }
      >
        <Text style={{ color: colors.textMuted, fontSize: fontSize.md }}>{t('history.deleteBody', { title: deleting ? titleOf(deleting) : '' })}</Text>
      </Dialog>

      <Dialog
        visible={!!sharing}
        title={t('share.title')}
        onClose={() => setSharing(null)}
        actions={
          shareLink && !shareRevoked ? (
            <>
              <Button
                label={t('share.revoke')}
                variant="secondary"
                onPress={() => runAction(async () => { await actions.revokeShare.mutateAsync(shareLink.id); setShareRevoked(true); })}
              />
              <Button
                label={copied ? t('common.copied') : t('share.copy')}
                icon="copy-outline"
                onPress={async () => {
                  await Clipboard.setStringAsync(shareUrl(shareLink));
                  setCopied(true);
                  setTimeout(() => setCopied(false), 1500);
                }}
              />
            </>
          ) : (
            <>
              <Button label={t('common.close')} variant="secondary" onPress={() => setSharing(null)} />
              {!shareRevoked ? (
                <Button
                  label={t('share.create')}
                  busy={actions.share.isPending}
                  onPress={() => sharing && runAction(async () => setShareLink(await actions.share.mutateAsync(sharing.id)))}
                />
              ) : null}
            </>
          )
        }
      >
        <Text style={{ color: colors.textMuted, fontSize: fontSize.md }}>{shareRevoked ? t('share.revoked') : t('share.body')}</Text>
        {shareLink && !shareRevoked ? (
          <Text selectable style={[styles.link, { color: colors.accentText, backgroundColor: colors.surface, borderRadius: radius.sm }]}>
            {shareUrl(shareLink)}
          </Text>
        ) : null}
      </Dialog>
    </View>
  );
}

const styles = StyleSheet.create({
  panel: { flex: 1, borderRightWidth: StyleSheet.hairlineWidth },
  top: { padding: 12, gap: 10 },
  brand: { flexDirection: 'row', alignItems: 'center', gap: 8, paddingHorizontal: 4, paddingVertical: 4 },
  logo: { width: 28, height: 28, borderRadius: 14, alignItems: 'center', justifyContent: 'center' },
  newChat: { flexDirection: 'row', alignItems: 'center', gap: 8, paddingHorizontal: 12, paddingVertical: 10 },
  search: { flexDirection: 'row', alignItems: 'center', gap: 6, paddingHorizontal: 10, borderWidth: 1 },
  searchInput: { flex: 1, paddingVertical: 8, outlineStyle: 'none' } as never,
  list: { flex: 1 },
  groupHeader: { fontWeight: '600', paddingHorizontal: 10, paddingTop: 14, paddingBottom: 6 },
  row: { flexDirection: 'row', alignItems: 'center', paddingRight: 2 },
  rowMain: { flex: 1, flexDirection: 'row', alignItems: 'center', gap: 6, paddingHorizontal: 10, paddingVertical: 10, minHeight: 40 },
  rowTitle: { flex: 1 },
  generating: { transform: [{ scale: 0.7 }] },
  empty: { textAlign: 'center', marginTop: 24, paddingHorizontal: 12 },
  footer: { flexDirection: 'row', alignItems: 'center', gap: 10, padding: 14, borderTopWidth: StyleSheet.hairlineWidth },
  userAvatar: { width: 28, height: 28, borderRadius: 14, alignItems: 'center', justifyContent: 'center' },
  menuItem: { flexDirection: 'row', alignItems: 'center', gap: 12, paddingHorizontal: 8, paddingVertical: 10 },
  link: { padding: 10, fontSize: 13 },
});
