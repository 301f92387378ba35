// On the web, files dropped on the composer or pasted into the page are attached. Answers whether
// files are being dragged over it now, so the composer can say "drop to attach".
import { useEffect, useRef, useState, type RefObject } from 'react';

import type { PickedFile } from '@/api/upload';

function picked(list: FileList | null | undefined): PickedFile[] {
  return Array.from(list ?? []).map((file) => ({ name: file.name || 'pasted', size: file.size, mime: file.type || null, blob: file }));
}

function carriesFiles(event: DragEvent): boolean {
  return Array.from(event.dataTransfer?.types ?? []).includes('Files');
}

export function useFileDrop(target: RefObject<unknown>, onFiles: ((files: PickedFile[]) => void) | undefined): boolean {
  const [over, setOver] = useState(false);
  const latest = useRef(onFiles);
  useEffect(() => {
    latest.current = onFiles;
  });
  const enabled = !!onFiles;

  useEffect(() => {
    const node = target.current as HTMLElement | null;
    if (!enabled || !node || typeof node.addEventListener !== 'function') return;
    const onDragOver = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
      setOver(true);
    };
    const onDragLeave = (event: DragEvent) => {
      if (!node.contains(event.relatedTarget as Node | null)) setOver(false);
    };
    const onDrop = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      setOver(false);
      const files = picked(event.dataTransfer?.files);
      if (files.length) latest.current?.(files);
    };
    // A pasted screenshot or copied file: only when the paste carries files, so text pastes as text.
    const onPaste = (event: ClipboardEvent) => {
      const files = picked(event.clipboardData?.files);
      if (!files.length) return;
      event.preventDefault();
      latest.current?.(files);
    };
    node.addEventListener('dragover', onDragOver);
    node.addEventListener('dragleave', onDragLeave);
    node.addEventListener('drop', onDrop);
    node.addEventListener('paste', onPaste);
    return () => {
      node.removeEventListener('dragover', onDragOver);
      node.removeEventListener('dragleave', onDragLeave);
      node.removeEventListener('drop', onDrop);
      node.removeEventListener('paste', onPaste);
    };
  }, [target, enabled]);

  return over;
}
