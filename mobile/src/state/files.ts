// The latest word from the server on each uploaded file (`file.updated` user events, or a poll),
// so a composer chip moves from reading to ready without asking.
import { create } from 'zustand';

import type { FileInfo } from '@/api/types';

interface FileUpdatesState {
  byId: Record<string, FileInfo>;
  /** Files deleted elsewhere (another tab, the conversation's deletion). */
  deleted: Record<string, true>;
}

export const useFileUpdates = create<FileUpdatesState>()(() => ({ byId: {}, deleted: {} }));

export function noteFileUpdate(file: unknown): void {
  if (!isFileInfo(file)) return;
  useFileUpdates.setState((prev) => ({ byId: { ...prev.byId, [file.id]: file } }));
}

export function noteFileDeleted(fileId: unknown): void {
  if (typeof fileId !== 'string') return;
  useFileUpdates.setState((prev) => ({ deleted: { ...prev.deleted, [fileId]: true } }));
}

export function isFileInfo(value: unknown): value is FileInfo {
  if (!value || typeof value !== 'object') return false;
  const file = value as FileInfo;
  return typeof file.id === 'string' && typeof file.status === 'string';
}
