// On the web, files dropped on the composer or pasted into it are attached; text pastes as text.
import { act, useRef } from 'react';
import { createRoot } from 'react-dom/client';

import type { PickedFile } from '@/api/upload';
import { useFileDrop } from '../fileDrop';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

function Target({ onFiles }: { onFiles: (files: PickedFile[]) => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const over = useFileDrop(ref, onFiles);
  return <div ref={ref} data-over={over ? 'yes' : 'no'} />;
}

function event(type: string, files: File[], kind: 'dataTransfer' | 'clipboardData' = 'dataTransfer') {
  const e = new Event(type, { bubbles: true, cancelable: true }) as Event & Record<string, unknown>;
  e[kind] = { files, types: files.length ? ['Files'] : ['text/plain'], dropEffect: 'none' };
  return e;
}

async function mount(onFiles: (files: PickedFile[]) => void): Promise<HTMLElement> {
  const container = document.createElement('div');
  document.body.appendChild(container);
  await act(async () => createRoot(container).render(<Target onFiles={onFiles} />));
  return container.firstElementChild as HTMLElement;
}

describe('useFileDrop on the web', () => {
  it('attaches dropped files and says so while they are dragged over', async () => {
    const onFiles = jest.fn();
    const node = await mount(onFiles);
    const pdf = new File(['%PDF'], 'report.pdf', { type: 'application/pdf' });
    await act(async () => void node.dispatchEvent(event('dragover', [pdf])));
    expect(node.getAttribute('data-over')).toBe('yes');
    const drop = event('drop', [pdf]);
    await act(async () => void node.dispatchEvent(drop));
    expect(drop.defaultPrevented).toBe(true);
    expect(node.getAttribute('data-over')).toBe('no');
    expect(onFiles).toHaveBeenCalledWith([{ name: 'report.pdf', size: 4, mime: 'application/pdf', blob: pdf }]);
  });

  it('attaches a pasted image, and leaves a text paste alone', async () => {
    const onFiles = jest.fn();
    const node = await mount(onFiles);
    const text = event('paste', [], 'clipboardData');
    await act(async () => void node.dispatchEvent(text));
    expect(text.defaultPrevented).toBe(false);
    expect(onFiles).not.toHaveBeenCalled();
    const png = new File(['png'], 'image.png', { type: 'image/png' });
    await act(async () => void node.dispatchEvent(event('paste', [png], 'clipboardData')));
    expect(onFiles).toHaveBeenCalledWith([expect.objectContaining({ name: 'image.png', mime: 'image/png' })]);
  });
});
