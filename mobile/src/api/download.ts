// "Download original": the bytes a file was uploaded with, from the authenticated download endpoint.
// The web saves the response through the browser. A phone downloads into its cache with expo-file-system,
// sending the bearer token (with one refresh-and-retry after a 401, like the JSON client), then opens the
// system's share sheet with the file (expo-sharing: on Android too, where React Native's own carries text only).
import { Directory, File, Paths } from 'expo-file-system';
import * as Sharing from 'expo-sharing';
import { Platform } from 'react-native';

import { saveResponse } from '@/utils/files';
import { apiBaseUrl } from './config';
import { filesApi } from './endpoints';
import { currentAccessToken, refreshAccessToken } from './index';

export interface OriginalFile {
  id: string;
  name: string;
  mime?: string | null;
}

export interface DownloadDeps {
  baseUrl: () => string;
  getToken: () => Promise<string | null>;
  refreshToken: () => Promise<string | null>;
}

const defaultDeps: DownloadDeps = { baseUrl: apiBaseUrl, getToken: currentAccessToken, refreshToken: refreshAccessToken };

// expo-file-system rejects a non-2xx answer with "Unable to download a file: response has status[:] 401".
const UNAUTHORISED = /status:?\s*401\b/;

export function downloadPath(id: string): string {
  return `/api/v1/files/${encodeURIComponent(id)}/download`;
}

/** The original in the app's cache (a folder per file, so two files of one name never meet), as a File. */
export async function downloadToCache(file: OriginalFile, deps: DownloadDeps = defaultDeps): Promise<File> {
  const folder = new Directory(Paths.cache, 'downloads', file.id);
  folder.create({ intermediates: true, idempotent: true });
  const target = new File(folder, file.name);
  const url = `${deps.baseUrl()}${downloadPath(file.id)}`;
  const attempt = (token: string | null) =>
    File.downloadFileAsync(url, target, { headers: token ? { Authorization: `Bearer ${token}` } : {}, idempotent: true });
  try {
    return await attempt(await deps.getToken());
  } catch (error) {
    if (!UNAUTHORISED.test(error instanceof Error ? error.message : String(error))) throw error;
    const fresh = await deps.refreshToken();
    if (!fresh) throw error;
    return attempt(fresh);
  }
}

/** Saves the original: the browser's download on the web, the share sheet with the file on a phone. */
export async function saveOriginal(file: OriginalFile, deps: DownloadDeps = defaultDeps): Promise<void> {
  if (Platform.OS === 'web') {
    await saveResponse(await filesApi.download(file.id), file.name);
    return;
  }
  const local = await downloadToCache(file, deps);
  await Sharing.shareAsync(local.uri, { mimeType: file.mime ?? undefined, dialogTitle: file.name });
}
