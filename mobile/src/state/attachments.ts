// The files attached to the question being written: each one uploads (with progress), then the
// server reads it (`file.updated` events, polled as a fallback) until it is ready or failed. The
// question can be sent once every file is ready; the chips stay until the server accepts it.
import { useCallback, useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState } from 'react';

import { filesApi } from '@/api/endpoints';
import { uploadFile, type PickedFile, type Upload } from '@/api/upload';
import type { FileInfo, FileStatus, MessageFile } from '@/api/types';
import { useFileUpdates } from './files';
import { userEventsLive } from './userEvents';

export interface Attachment {
  key: string;
  name: string;
  size: number | null;
  mime: string | null;
  kind: string | null;
  status: FileStatus;
  /** Share of the upload sent, 0 to 1. */
  progress: number;
  fileId: string | null;
  /** Why the server could not read it, in its plain words (`failure.message`). */
  failure: string | null;
  /** Why the upload itself was refused or lost (an ApiError), worded by the chip. */
  uploadError: unknown;
}

export type AttachmentsAction =
  | { type: 'added'; items: Attachment[] }
  | { type: 'progress'; key: string; share: number }
  | { type: 'uploaded'; key: string; file: FileInfo }
  | { type: 'upload_failed'; key: string; error: unknown }
  | { type: 'updated'; file: FileInfo }
  | { type: 'removed'; key: string }
  | { type: 'cleared' };

export function attachmentsReducer(items: Attachment[], action: AttachmentsAction): Attachment[] {
  switch (action.type) {
    case 'added':
      return [...items, ...action.items];
    case 'progress':
      return items.map((item) => (item.key === action.key && item.status === 'uploading' ? { ...item, progress: action.share } : item));
    case 'uploaded':
      return items.map((item) => (item.key === action.key ? withFile({ ...item, progress: 1, fileId: action.file.id }, action.file) : item));
    case 'upload_failed':
      return items.map((item) => (item.key === action.key ? { ...item, status: 'failed', uploadError: action.error } : item));
    case 'updated':
      return items.map((item) => (item.fileId === action.file.id && item.status === 'reading' ? withFile(item, action.file) : item));
    case 'removed':
      return items.filter((item) => item.key !== action.key);
    case 'cleared':
      return [];
    default:
      return items;
  }
}

function withFile(item: Attachment, file: FileInfo): Attachment {
  const status: FileStatus = file.status === 'ready' || file.status === 'failed' ? file.status : 'reading';
  return {
    ...item,
    status,
    name: file.name || item.name,
    size: typeof file.size === 'number' ? file.size : item.size,
    mime: file.mime || item.mime,
    kind: file.kind || item.kind,
    failure: status === 'failed' ? (file.failure?.message ?? null) : null,
  };
}

let keyCount = 0;

function newAttachment(file: PickedFile): Attachment {
  keyCount += 1;
  return {
    key: `attachment:${keyCount}`,
    name: file.name,
    size: file.size,
    mime: file.mime,
    kind: null,
    status: 'uploading',
    progress: 0,
    fileId: null,
    failure: null,
    uploadError: null,
  };
}

/** How often a file being read is asked about when the user event stream is down, and when it is up. */
export const POLL_MS = 2000;
export const SAFETY_POLL_MS = 10_000;

export interface Attachments {
  items: Attachment[];
  max: number;
  /** No room for another file. */
  full: boolean;
  /** Set when the last pick had more files than there was room for: the limit. */
  overflow: number | null;
  allReady: boolean;
  readyIds: string[];
  /** The ready files as the question will carry them (its optimistic copy shows them). */
  readyFiles: MessageFile[];
  add(files: PickedFile[]): void;
  remove(key: string): void;
  /** The question was accepted: the files are its now. */
  clear(): void;
}

export function useAttachments(max: number): Attachments {
  const [items, dispatch] = useReducer(attachmentsReducer, []);
  const [overflow, setOverflow] = useState<number | null>(null);
  const uploads = useRef(new Map<string, Upload>());
  const removed = useRef(new Set<string>());
  const latest = useRef(items);
  useLayoutEffect(() => {
    latest.current = items;
  });

  const add = useCallback(
    (files: PickedFile[]) => {
      const room = Math.max(0, max - latest.current.length);
      const taken = files.slice(0, room);
      setOverflow(files.length > room ? max : null);
      if (taken.length === 0) return;
      const added = taken.map(newAttachment);
      latest.current = [...latest.current, ...added];
      dispatch({ type: 'added', items: added });
      added.forEach((item, index) => {
        const upload = uploadFile(taken[index] as PickedFile, (share) => dispatch({ type: 'progress', key: item.key, share }));
        uploads.current.set(item.key, upload);
        upload.promise.then(
          (file) => {
            uploads.current.delete(item.key);
            // Removed while it was on its way: nothing will ever send it.
            if (removed.current.has(item.key)) void filesApi.remove(file.id).catch(() => undefined);
            else dispatch({ type: 'uploaded', key: item.key, file });
          },
          (error: unknown) => {
            uploads.current.delete(item.key);
            dispatch({ type: 'upload_failed', key: item.key, error });
          },
        );
      });
    },
    [max],
  );

  const remove = useCallback((key: string) => {
    const item = latest.current.find((i) => i.key === key);
    removed.current.add(key);
    uploads.current.get(key)?.abort();
    // Never sent: the server may drop it now rather than at the orphan sweep.
    if (item?.fileId) void filesApi.remove(item.fileId).catch(() => undefined);
    setOverflow(null);
    dispatch({ type: 'removed', key });
  }, []);

  const clear = useCallback(() => {
    setOverflow(null);
    dispatch({ type: 'cleared' });
  }, []);

  // Reading ends: the user event stream says so.
  const updates = useFileUpdates((s) => s.byId);
  useEffect(() => {
    for (const item of items) {
      const update = item.fileId && item.status === 'reading' ? updates[item.fileId] : undefined;
      if (update && update.status !== 'reading') dispatch({ type: 'updated', file: update });
    }
  }, [updates, items]);

  // Deleted elsewhere (another tab): the chip goes, as nothing could send that file now.
  const deleted = useFileUpdates((s) => s.deleted);
  useEffect(() => {
    for (const item of items) if (item.fileId && deleted[item.fileId]) dispatch({ type: 'removed', key: item.key });
  }, [deleted, items]);

  // ...or, should an event be missed, a poll does.
  const reading = items
    .filter((i) => i.status === 'reading' && i.fileId)
    .map((i) => i.fileId)
    .join(',');
  useEffect(() => {
    if (!reading) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = () => {
      timer = setTimeout(
        async () => {
          await Promise.all(
            reading.split(',').map((id) =>
              filesApi.get(id).then(
                (file) => !stopped && dispatch({ type: 'updated', file }),
                () => undefined,
              ),
            ),
          );
          if (!stopped) poll();
        },
        userEventsLive() ? SAFETY_POLL_MS : POLL_MS,
      );
    };
    poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [reading]);

  useEffect(() => {
    const pending = uploads.current;
    return () => pending.forEach((upload) => upload.abort());
  }, []);

  return useMemo(() => {
    const ready = items.filter((i) => i.status === 'ready' && i.fileId);
    return {
      items,
      max,
      full: items.length >= max,
      overflow,
      allReady: ready.length === items.length,
      readyIds: ready.map((i) => i.fileId as string),
      readyFiles: ready.map((i) => ({
        id: i.fileId as string,
        name: i.name,
        size: i.size ?? 0,
        mime: i.mime ?? '',
        kind: i.kind ?? '',
        status: i.status,
      })),
      add,
      remove,
      clear,
    };
  }, [items, max, overflow, add, remove, clear]);
}
