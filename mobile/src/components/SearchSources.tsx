// Search in an answer: "Searching the web…" while the research step runs, then "Read N pages",
// which opens the numbered list of sources (the numbers of the answer's citation chips).
import Ionicons from '@expo/vector-icons/Ionicons';
import { useState } from 'react';
import { ActivityIndicator, Linking, Platform, Pressable, StyleSheet, Text, View } from 'react-native';

import type { Notice, Source } from '@/api/types';
import { useT, type Translate } from '@/locale';
import { useTheme } from '@/theme/ThemeProvider';
import { safeUrl, siteOf } from './rich/Citation';

export function SearchSources({ searching, sources }: { searching: boolean; sources: Source[] }) {
  const t = useT();
  const { colors, fontSize, radius } = useTheme();
  const [open, setOpen] = useState(false);

  if (searching) {
    return (
      <View style={styles.row} accessibilityLiveRegion="polite">
        <ActivityIndicator size="small" color={colors.accent} accessibilityLabel={t('chat.searching')} />
        <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{t('chat.searching')}</Text>
      </View>
    );
  }
  if (sources.length === 0) return null;
  const summary = sources.length === 1 ? t('chat.readOnePage') : t('chat.readPages', { count: sources.length });
  return (
    <View style={styles.wrap}>
      <Pressable
        accessibilityRole="button"
        accessibilityLabel={summary}
        accessibilityState={{ expanded: open }}
        aria-expanded={open}
        onPress={() => setOpen(!open)}
        style={[styles.summary, { backgroundColor: colors.surface, borderRadius: radius.pill }]}
      >
        <Ionicons name="globe-outline" size={15} color={colors.textMuted} />
        <Text style={{ color: colors.textMuted, fontSize: fontSize.sm, fontWeight: '600' }}>{summary}</Text>
        <Ionicons name={open ? 'chevron-up' : 'chevron-down'} size={14} color={colors.textMuted} />
      </Pressable>
      {open ? (
        <View role="list" style={[styles.list, { borderColor: colors.border, borderRadius: radius.md }]}>
          {sources.map((source) => (
            <SourceRow key={source.n} source={source} />
          ))}
        </View>
      ) : null}
    </View>
  );
}

function SourceRow({ source }: { source: Source }) {
  const t = useT();
  const { colors, fontSize } = useTheme();
  const site = siteOf(source);
  const url = safeUrl(source.url);
  const label = t('chat.source', { n: source.n, title: source.title || site, site });
  // No favicons: fetching them would tell every site what the user read. An initial stands in.
  const initial = (site.replace(/^www\./, '')[0] ?? '?').toUpperCase();
  const link =
    Platform.OS === 'web' && url
      ? ({ href: url, hrefAttrs: { target: '_blank', rel: 'noopener noreferrer' } } as object)
      : { onPress: url ? () => void Linking.openURL(url) : undefined };
  return (
    <View role="listitem" style={styles.source}>
      <Text style={{ color: colors.textMuted, fontSize: fontSize.xs, width: 18 }}>{source.n}</Text>
      <View style={[styles.initial, { backgroundColor: colors.accentSoft }]}>
        <Text style={{ color: colors.accentText, fontSize: fontSize.xs, fontWeight: '700' }}>{initial}</Text>
      </View>
      <View style={styles.sourceText}>
        <Text accessibilityRole="link" accessibilityLabel={label} numberOfLines={2} {...link} style={{ color: colors.accentText, fontSize: fontSize.sm }}>
          {source.title || site}
        </Text>
        <Text numberOfLines={1} style={{ color: colors.textMuted, fontSize: fontSize.xs }}>
          {site}
        </Text>
      </View>
    </View>
  );
}

/** A notice in the user's language when its code is known, else in the server's words. */
export function noticeText(notice: Notice, t: Translate): string {
  if (notice.code === 'search_unavailable') return t('notice.searchUnavailable');
  if (notice.code === 'file_truncated' && typeof notice.percent === 'number' && typeof notice.name === 'string') {
    return t('notice.fileTruncated', { percent: notice.percent, name: notice.name });
  }
  return notice.message;
}

/** What the server said about how the answer was made: search unavailable, a file only partly read. */
export function AnswerNotices({ notices }: { notices: Notice[] }) {
  const t = useT();
  const { colors, fontSize, radius } = useTheme();
  if (notices.length === 0) return null;
  return (
    <>
      {notices.map((notice, index) => (
        <View key={`${notice.code}:${index}`} role="note" style={[styles.notice, { backgroundColor: colors.warningSoft, borderRadius: radius.md }]}>
          <Ionicons name="information-circle-outline" size={16} color={colors.warningText} />
          <Text style={{ color: colors.warningText, fontSize: fontSize.sm, flexShrink: 1 }}>{noticeText(notice, t)}</Text>
        </View>
      ))}
    </>
  );
}

const styles = StyleSheet.create({
  wrap: { marginBottom: 8, gap: 6 },
  row: { flexDirection: 'row', alignItems: 'center', gap: 8, paddingVertical: 6 },
  summary: { flexDirection: 'row', alignItems: 'center', gap: 6, paddingHorizontal: 12, paddingVertical: 6, alignSelf: 'flex-start' },
  list: { borderWidth: StyleSheet.hairlineWidth, padding: 8, gap: 8 },
  source: { flexDirection: 'row', alignItems: 'center', gap: 8 },
  initial: { width: 22, height: 22, borderRadius: 11, alignItems: 'center', justifyContent: 'center' },
  sourceText: { flex: 1, minWidth: 0 },
  notice: { flexDirection: 'row', alignItems: 'center', gap: 6, paddingHorizontal: 10, paddingVertical: 6, marginBottom: 8, alignSelf: 'flex-start' },
});
