// The composer's files: upload with progress, then reading until the server says ready (a
// `file.updated` event, or a poll when the event stream is down), failures, limits and removal.
import { act, renderHook } from '@testing-library/react-native';

import { filesApi } from '@/api/endpoints';
import { ApiError } from '@/api/errors';
import type { FileInfo } from '@/api/types';
import { uploadFile, type PickedFile } from '@/api/upload';
import { useAttachments, POLL_MS } from '../attachments';
import { noteFileDeleted, noteFileUpdate, useFileUpdates } from '../files';
import { useUserEventsStatus } from '../userEvents';

jest.mock('@/api/upload', () => ({ uploadFile: jest.fn() }));
jest.mock('@/api/endpoints', () => ({ filesApi: { get: jest.fn(), remove: jest.fn(async () => undefined) } }));
jest.mock('../userEvents', () => {
  const { create } = jest.requireActual<typeof import('zustand')>('zustand');
  const useUserEventsStatus = create(() => ({ status: 'streaming' }));
  return { useUserEventsStatus, userEventsLive: () => useUserEventsStatus.getState().status === 'streaming' };
});

interface Pending {
  progress: (share: number) => void;
  resolve: (file: FileInfo) => void;
  reject: (error: unknown) => void;
  abort: jest.Mock;
}

const pending: Pending[] = [];
const pdf: PickedFile = { name: 'report.pdf', size: 2_000_000, mime: 'application/pdf', uri: 'file:///report.pdf' };
const png: PickedFile = { name: 'photo.png', size: 500_000, mime: 'image/png', uri: 'file:///photo.png' };

const file = (id: string, extra: Partial<FileInfo> = {}): FileInfo => ({
  id,
  name: 'report.pdf',
  size: 2_000_000,
  mime: 'application/pdf',
  kind: 'pdf',
  status: 'reading',
  failure: null,
  ...extra,
});

beforeEach(() => {
  pending.length = 0;
  useFileUpdates.setState({ byId: {}, deleted: {} });
  useUserEventsStatus.setState({ status: 'streaming' });
  (uploadFile as jest.Mock).mockClear().mockImplementation((_file: PickedFile, progress: (share: number) => void) => {
    const abort = jest.fn();
    const promise = new Promise<FileInfo>((resolve, reject) => pending.push({ progress, resolve, reject, abort }));
    return { promise, abort };
  });
  (filesApi.get as jest.Mock).mockReset();
  (filesApi.remove as jest.Mock).mockClear();
});

describe('useAttachments', () => {
  it('goes uploading (with progress), reading, then ready on the file.updated event', async () => {
    const { result } = renderHook(() => useAttachments(20));
    act(() => result.current.add([pdf]));
    expect(result.current.items[0]).toMatchObject({ name: 'report.pdf', status: 'uploading', progress: 0 });
    expect(result.current.allReady).toBe(false);

    act(() => pending[0]!.progress(0.5));
    expect(result.current.items[0]?.progress).toBe(0.5);

    await act(async () => pending[0]!.resolve(file('f1')));
    expect(result.current.items[0]).toMatchObject({ status: 'reading', fileId: 'f1', kind: 'pdf' });
    expect(result.current.readyIds).toEqual([]);

    act(() => noteFileUpdate(file('f1', { status: 'ready' })));
    expect(result.current.items[0]?.status).toBe('ready');
    expect(result.current.allReady).toBe(true);
    expect(result.current.readyIds).toEqual(['f1']);
    expect(result.current.readyFiles).toEqual([expect.objectContaining({ id: 'f1', name: 'report.pdf', kind: 'pdf' })]);
  });

  it('says why the server could not read a file, in its words', async () => {
    const { result } = renderHook(() => useAttachments(20));
    act(() => result.current.add([pdf]));
    await act(async () => pending[0]!.resolve(file('f1')));
    act(() => noteFileUpdate(file('f1', { status: 'failed', failure: { code: 'encrypted', message: 'This PDF is protected by a password.' } })));
    expect(result.current.items[0]).toMatchObject({ status: 'failed', failure: 'This PDF is protected by a password.' });
    expect(result.current.allReady).toBe(false);
  });

  it('keeps a refused upload as a failed chip with the server’s error', async () => {
    const { result } = renderHook(() => useAttachments(20));
    act(() => result.current.add([pdf]));
    const tooLarge = new ApiError({ status: 413, code: 'file_too_large', message: 'The file is too large: PDF files may be at most 100 MiB.' });
    await act(async () => pending[0]!.reject(tooLarge));
    expect(result.current.items[0]).toMatchObject({ status: 'failed', uploadError: tooLarge });
  });

  it('polls a file being read when the user event stream is down', async () => {
    jest.useFakeTimers();
    try {
      useUserEventsStatus.setState({ status: 'reconnecting' });
      (filesApi.get as jest.Mock).mockResolvedValue(file('f1', { status: 'ready' }));
      const { result } = renderHook(() => useAttachments(20));
      act(() => result.current.add([pdf]));
      await act(async () => pending[0]!.resolve(file('f1')));
      expect(filesApi.get).not.toHaveBeenCalled();
      await act(async () => {
        jest.advanceTimersByTime(POLL_MS);
      });
      expect(filesApi.get).toHaveBeenCalledWith('f1');
      expect(result.current.items[0]?.status).toBe('ready');
    } finally {
      jest.useRealTimers();
    }
  });

  it('takes no more files than a message may carry, and says so', () => {
    const { result } = renderHook(() => useAttachments(2));
    act(() => result.current.add([pdf, png, { ...pdf, name: 'third.pdf' }]));
    expect(result.current.items.map((i) => i.name)).toEqual(['report.pdf', 'photo.png']);
    expect(result.current.overflow).toBe(2);
    expect(result.current.full).toBe(true);
    expect(uploadFile).toHaveBeenCalledTimes(2);
  });

  it('removes a chip: an upload on its way is stopped, an uploaded file deleted', async () => {
    const { result } = renderHook(() => useAttachments(20));
    act(() => result.current.add([pdf, png]));
    await act(async () => pending[1]!.resolve(file('f2', { name: 'photo.png' })));
    const [uploading, uploaded] = result.current.items;
    act(() => result.current.remove(uploading!.key));
    expect(pending[0]!.abort).toHaveBeenCalled();
    act(() => result.current.remove(uploaded!.key));
    expect(filesApi.remove).toHaveBeenCalledWith('f2');
    expect(result.current.items).toEqual([]);
  });

  it('clears the chips once the question is sent, without deleting the files', async () => {
    const { result } = renderHook(() => useAttachments(20));
    act(() => result.current.add([pdf]));
    await act(async () => pending[0]!.resolve(file('f1', { status: 'ready' })));
    act(() => result.current.clear());
    expect(result.current.items).toEqual([]);
    expect(filesApi.remove).not.toHaveBeenCalled();
  });

  it('drops the chip of a file deleted elsewhere', async () => {
    const { result } = renderHook(() => useAttachments(20));
    act(() => result.current.add([pdf]));
    await act(async () => pending[0]!.resolve(file('f1')));
    act(() => noteFileDeleted('f1'));
    expect(result.current.items).toEqual([]);
  });
});
