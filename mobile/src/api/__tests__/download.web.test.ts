// On the web "Download original" stays the browser's own download of the authenticated response.
import { File } from 'expo-file-system';

import { filesApi } from '@/api/endpoints';
import { saveResponse } from '@/utils/files';
import { saveOriginal } from '../download';

jest.mock('@/api/endpoints', () => ({ filesApi: { download: jest.fn() } }));
jest.mock('@/utils/files', () => ({ saveResponse: jest.fn(async () => undefined) }));
jest.mock('expo-file-system', () => ({ File: { downloadFileAsync: jest.fn() }, Directory: jest.fn(), Paths: {} }));

it('saves the download response through the browser, without the file system', async () => {
  const original = { headers: new Headers() } as Response;
  (filesApi.download as jest.Mock).mockResolvedValue(original);
  await saveOriginal({ id: 'f1', name: 'report.pdf' });
  expect(filesApi.download).toHaveBeenCalledWith('f1');
  expect(saveResponse).toHaveBeenCalledWith(original, 'report.pdf');
  expect(File.downloadFileAsync).not.toHaveBeenCalled();
});
