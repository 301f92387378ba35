// The composer's file chips: name, size, type icon and progress (uploading, reading, ready), or
// why the file could not be read, each removable until the question is sent.
import Ionicons from '@expo/vector-icons/Ionicons';
import { ActivityIndicator, StyleSheet, Text, View } from 'react-native';

import { useT, type Translate } from '@/locale';
import type { Attachment } from '@/state/attachments';
import { useTheme } from '@/theme/ThemeProvider';
import { describeError } from '@/utils/errorText';
import { fileIcon, formatBytes } from '@/utils/files';
import { IconButton } from '../Button';

export function attachmentStatusText(item: Attachment, t: Translate): string {
  switch (item.status) {
    case 'uploading':
      return t('file.uploading', { percent: Math.round(item.progress * 100) });
    case 'reading':
      return t('file.reading');
    case 'ready':
      return t('file.ready');
    default:
      return item.failure ?? (item.uploadError ? describeError(item.uploadError, t) : t('file.failed'));
  }
}

export function AttachmentChips({ items, onRemove }: { items: Attachment[]; onRemove: (key: string) => void }) {
  const t = useT();
  if (items.length === 0) return null;
  return (
    <View role="list" aria-label={t('chat.attachments')} style={styles.list}>
      {items.map((item) => (
        <AttachmentChip key={item.key} item={item} onRemove={() => onRemove(item.key)} t={t} />
      ))}
    </View>
  );
}

function AttachmentChip({ item, onRemove, t }: { item: Attachment; onRemove: () => void; t: Translate }) {
  const { colors, radius, fontSize } = useTheme();
  const failed = item.status === 'failed';
  const status = attachmentStatusText(item, t);
  const size = formatBytes(item.size);
  return (
    <View
      role="listitem"
      style={[
        styles.chip,
        { backgroundColor: failed ? colors.dangerSoft : colors.surfaceAlt, borderColor: failed ? colors.danger : colors.border, borderRadius: radius.md },
      ]}
    >
      <Ionicons name={failed ? 'alert-circle-outline' : fileIcon(item)} size={20} color={failed ? colors.danger : colors.textMuted} />
      <View style={styles.text} role="group" accessible accessibilityLabel={t('file.chip', { name: item.name, size, status })}>
        <Text numberOfLines={1} style={{ color: colors.text, fontSize: fontSize.sm, fontWeight: '600' }}>
          {item.name}
        </Text>
        <View style={styles.statusRow}>
          {item.status === 'uploading' || item.status === 'reading' ? (
            // A progressbar needs a name (axe-core: aria-progressbar-name): the status it stands for.
            <ActivityIndicator size="small" color={colors.accent} accessibilityLabel={status} />
          ) : null}
          <Text
            numberOfLines={failed ? 3 : 1}
            accessibilityLiveRegion="polite"
            style={{ color: failed ? colors.danger : colors.textMuted, fontSize: fontSize.xs, flexShrink: 1 }}
          >
            {size ? `${size} · ${status}` : status}
          </Text>
        </View>
        {item.status === 'uploading' ? (
          <View style={[styles.track, { backgroundColor: colors.border }]}>
            <View style={[styles.bar, { width: `${Math.round(item.progress * 100)}%`, backgroundColor: colors.accent }]} />
          </View>
        ) : null}
      </View>
      <IconButton icon="close" size={16} label={t('file.remove', { name: item.name })} onPress={onRemove} />
    </View>
  );
}

const styles = StyleSheet.create({
  list: { flexDirection: 'row', flexWrap: 'wrap', gap: 8 },
  chip: { flexDirection: 'row', alignItems: 'center', gap: 8, paddingLeft: 10, paddingRight: 2, paddingVertical: 6, borderWidth: 1, width: 240, maxWidth: '100%' },
  text: { flex: 1, minWidth: 0, gap: 2 },
  statusRow: { flexDirection: 'row', alignItems: 'center', gap: 6 },
  track: { height: 3, borderRadius: 2, overflow: 'hidden' },
  bar: { height: 3 },
});
