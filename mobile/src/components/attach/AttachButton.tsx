// The composer's paper clip. On the web it opens the file picker (drag and drop and paste work
// too); on a phone it offers the files, the photo library and the camera.
import { useState } from 'react';
import { Platform, Text } from 'react-native';

import type { PickedFile } from '@/api/upload';
import { useT } from '@/locale';
import { useTheme } from '@/theme/ThemeProvider';
import { Button, IconButton } from '../Button';
import { Dialog } from '../Dialog';
import { pickDocuments, pickPhotos, takePhoto, type PickResult } from './pickers';

interface AttachButtonProps {
  onPicked: (files: PickedFile[]) => void;
  /** How many more files fit into this message. */
  room: number;
  disabled?: boolean;
}

export function AttachButton({ onPicked, room, disabled }: AttachButtonProps) {
  const t = useT();
  const { colors, fontSize } = useTheme();
  const [menuOpen, setMenuOpen] = useState(false);
  const [denied, setDenied] = useState<'camera' | 'photos' | null>(null);

  const run = async (pick: () => Promise<PickResult>) => {
    setMenuOpen(false);
    try {
      const result = await pick();
      if ('denied' in result) setDenied(result.denied);
      else {
        setDenied(null);
        if (result.files.length) onPicked(result.files);
      }
    } catch {
      // A picker that fails to open has nothing to give; the composer is unchanged.
    }
  };

  const open = () => (Platform.OS === 'web' ? void run(pickDocuments) : setMenuOpen(true));

  return (
    <>
      <IconButton icon="attach" size={22} label={t('chat.attach')} disabled={disabled} onPress={open} />
      <Dialog visible={menuOpen} title={t('chat.attach')} onClose={() => setMenuOpen(false)}>
        <Button label={t('chat.attachFiles')} icon="document-outline" variant="secondary" onPress={() => void run(pickDocuments)} />
        <Button label={t('chat.attachPhotos')} icon="images-outline" variant="secondary" onPress={() => void run(() => pickPhotos(room))} />
        <Button label={t('chat.attachCamera')} icon="camera-outline" variant="secondary" onPress={() => void run(takePhoto)} />
      </Dialog>
      {denied ? (
        <Text accessibilityRole="alert" style={{ color: colors.danger, fontSize: fontSize.xs, flexShrink: 1 }}>
          {t(denied === 'camera' ? 'chat.attachDenied.camera' : 'chat.attachDenied.photos')}
        </Text>
      ) : null}
    </>
  );
}
