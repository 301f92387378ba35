// The device's ways to pick a file: the document picker (every platform), and on phones the photo
// library and the camera. Each answers with PickedFile values ready to upload, or none when the
// user cancelled; a refused permission is said as `denied`.
import * as DocumentPicker from 'expo-document-picker';
import * as ImagePicker from 'expo-image-picker';

import type { PickedFile } from '@/api/upload';

export type PickResult = { files: PickedFile[] } | { denied: 'camera' | 'photos' };

export async function pickDocuments(): Promise<PickResult> {
  // No copy to the cache: the upload reads the picked URI (or, on the web, the File) directly.
  const result = await DocumentPicker.getDocumentAsync({ multiple: true, copyToCacheDirectory: false, type: '*/*' });
  if (result.canceled) return { files: [] };
  return {
    files: result.assets.map((asset) => ({
      name: asset.name,
      size: asset.size ?? asset.file?.size ?? null,
      mime: asset.mimeType ?? asset.file?.type ?? null,
      uri: asset.uri,
      blob: asset.file,
    })),
  };
}

function fromImages(result: ImagePicker.ImagePickerResult): PickedFile[] {
  if (result.canceled) return [];
  return result.assets.map((asset, index) => ({
    name: asset.fileName || asset.file?.name || `photo-${index + 1}.${extensionOf(asset.mimeType)}`,
    size: asset.fileSize ?? asset.file?.size ?? null,
    mime: asset.mimeType ?? asset.file?.type ?? 'image/jpeg',
    uri: asset.uri,
    blob: asset.file,
  }));
}

function extensionOf(mime: string | undefined): string {
  if (mime === 'image/png') return 'png';
  if (mime === 'image/webp') return 'webp';
  if (mime === 'image/gif') return 'gif';
  return 'jpg';
}

export async function pickPhotos(limit: number): Promise<PickResult> {
  const permission = await ImagePicker.requestMediaLibraryPermissionsAsync();
  if (!permission.granted) return { denied: 'photos' };
  const result = await ImagePicker.launchImageLibraryAsync({
    mediaTypes: ['images'],
    allowsMultipleSelection: true,
    selectionLimit: limit,
    quality: 1,
  });
  return { files: fromImages(result) };
}

export async function takePhoto(): Promise<PickResult> {
  const permission = await ImagePicker.requestCameraPermissionsAsync();
  if (!permission.granted) return { denied: 'camera' };
  const result = await ImagePicker.launchCameraAsync({ mediaTypes: ['images'], quality: 0.9 });
  return { files: fromImages(result) };
}
