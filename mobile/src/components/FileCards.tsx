// The files a question was sent with, as cards under it. A card opens the text Whale read from the
// file (what the model saw) and offers the original for download (api/download.ts).
import Ionicons from '@expo/vector-icons/Ionicons';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ActivityIndicator, Pressable, ScrollView, StyleSheet, Text, View } from 'react-native';

import { saveOriginal } from '@/api/download';
import { filesApi } from '@/api/endpoints';
import { queryKeys } from '@/api/queryKeys';
import type { MessageFile } from '@/api/types';
import { useT } from '@/locale';
import { useTheme } from '@/theme/ThemeProvider';
import { fileIcon, formatBytes } from '@/utils/files';
import { Button } from './Button';
import { Dialog } from './Dialog';

/** `openable` false on the shared page: a file is its owner's alone, so a reader sees only its name. */
export function FileCards({ files, openable = true }: { files: MessageFile[] | undefined; openable?: boolean }) {
  const [open, setOpen] = useState<MessageFile | null>(null);
  if (!files?.length) return null;
  return (
    <View role="list" style={styles.list}>
      {files.map((file) => (
        <FileCard key={file.id} file={file} onOpen={openable ? () => setOpen(file) : undefined} />
      ))}
      {open ? <FileText file={open} onClose={() => setOpen(null)} /> : null}
    </View>
  );
}

function FileCard({ file, onOpen }: { file: MessageFile; onOpen?: () => void }) {
  const t = useT();
  const { colors, fontSize, radius } = useTheme();
  const size = formatBytes(file.size);
  const body = (
    <>
      <Ionicons name={fileIcon(file)} size={22} color={colors.accentText} />
      <View style={styles.cardText}>
        <Text numberOfLines={1} style={{ color: colors.text, fontSize: fontSize.sm, fontWeight: '600' }}>
          {/* The space keeps "name size" apart in the card's text, which its label must contain (WCAG 2.5.3). */}
          {size ? `${file.name} ` : file.name}
        </Text>
        {size ? <Text style={{ color: colors.textMuted, fontSize: fontSize.xs }}>{size}</Text> : null}
      </View>
    </>
  );
  const frame = { backgroundColor: colors.surface, borderColor: colors.border, borderRadius: radius.md };
  return (
    <View role="listitem">
      {onOpen ? (
        <Pressable
          accessibilityRole="button"
          accessibilityLabel={size ? t('file.openSized', { name: file.name, size }) : t('file.open', { name: file.name })}
          onPress={onOpen}
          style={({ pressed }) => [styles.card, frame, pressed ? { backgroundColor: colors.surfaceAlt } : null]}
        >
          {body}
        </Pressable>
      ) : (
        <View style={[styles.card, frame]}>{body}</View>
      )}
    </View>
  );
}

function FileText({ file, onClose }: { file: MessageFile; onClose: () => void }) {
  const t = useT();
  const { colors, fontSize } = useTheme();
  const content = useQuery({ queryKey: queryKeys.files.content(file.id), queryFn: () => filesApi.content(file.id), retry: false });
  const [downloading, setDownloading] = useState(false);
  const download = async () => {
    setDownloading(true);
    try {
      await saveOriginal(file);
    } catch {
      // The card stays; the user can try again.
    } finally {
      setDownloading(false);
    }
  };
  return (
    <Dialog
      visible
      title={file.name}
      onClose={onClose}
      actions={
        <>
          <Button label={t('common.close')} variant="secondary" onPress={onClose} />
          <Button label={t('file.download')} icon="download-outline" busy={downloading} onPress={() => void download()} />
        </>
      }
    >
      {content.isLoading ? (
        <ActivityIndicator color={colors.accent} />
      ) : content.data ? (
        <>
          {content.data.truncated ? <Text style={{ color: colors.warningText, fontSize: fontSize.sm }}>{t('file.truncated')}</Text> : null}
          <ScrollView style={styles.text} accessibilityLabel={file.name}>
            <Text selectable style={{ color: colors.text, fontSize: fontSize.sm, lineHeight: 20 }}>
              {content.data.text}
            </Text>
          </ScrollView>
        </>
      ) : (
        <Text style={{ color: colors.textMuted, fontSize: fontSize.sm }}>{t('file.textUnavailable')}</Text>
      )}
    </Dialog>
  );
}

const styles = StyleSheet.create({
  list: { flexDirection: 'row', flexWrap: 'wrap', gap: 8, justifyContent: 'flex-end', maxWidth: '85%' },
  card: { flexDirection: 'row', alignItems: 'center', gap: 10, paddingHorizontal: 12, paddingVertical: 8, borderWidth: 1, width: 220, maxWidth: '100%' },
  cardText: { flex: 1, minWidth: 0 },
  text: { maxHeight: 360 },
});
