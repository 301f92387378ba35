// Downloading a file's original on a phone: its bytes into the cache with the bearer token, one retry
// with a renewed token after a 401, then the system's share sheet with the file (iOS and Android).
import { File } from 'expo-file-system';
import * as Sharing from 'expo-sharing';
import { Platform } from 'react-native';

import { downloadToCache, saveOriginal, type DownloadDeps } from '../download';

jest.mock('@/api/endpoints', () => ({ filesApi: { download: jest.fn() } }));
jest.mock('expo-sharing', () => ({ shareAsync: jest.fn(async () => undefined) }));
// expo-file-system is __mocks__/expo-file-system.ts under Jest: paths are joined, the calls recorded.

const report = { id: 'f1', name: 'report.pdf', mime: 'application/pdf' };
const target = 'file:///cache/downloads/f1/report.pdf';
const url = 'https://whale.test/api/v1/files/f1/download';
const download = File.downloadFileAsync as jest.Mock;

function deps(refreshed: string | null = 'fresh'): DownloadDeps {
  return { baseUrl: () => 'https://whale.test', getToken: jest.fn(async () => 'stale'), refreshToken: jest.fn(async () => refreshed) };
}

beforeEach(() => {
  download.mockReset();
  download.mockImplementation(async (_url: string, file: File) => file);
});

describe('downloadToCache', () => {
  it('fetches the original with the bearer token into a folder of its own in the cache', async () => {
    const file = await downloadToCache(report, deps());
    expect(download).toHaveBeenCalledWith(url, expect.objectContaining({ uri: target }), {
      headers: { Authorization: 'Bearer stale' },
      idempotent: true,
    });
    expect(file.uri).toBe(target);
  });

  it('renews the token once after a 401 and tries again', async () => {
    download.mockRejectedValueOnce(new Error('Unable to download a file: response has status: 401'));
    const given = deps();
    await downloadToCache(report, given);
    expect(given.refreshToken).toHaveBeenCalledTimes(1);
    expect(download).toHaveBeenLastCalledWith(url, expect.anything(), { headers: { Authorization: 'Bearer fresh' }, idempotent: true });
  });

  it('gives up when the session cannot be renewed, and never retries another failure', async () => {
    const unauthorised = new Error('Unable to download a file: response has status 401');
    download.mockRejectedValueOnce(unauthorised);
    await expect(downloadToCache(report, deps(null))).rejects.toBe(unauthorised);

    download.mockRejectedValueOnce(new Error('Unable to download a file: response has status 404'));
    const given = deps();
    await expect(downloadToCache(report, given)).rejects.toThrow('404');
    expect(given.refreshToken).not.toHaveBeenCalled();
  });
});

describe('saveOriginal', () => {
  const os = Platform.OS;
  afterEach(() => {
    Platform.OS = os;
  });

  it.each(['ios', 'android'])('opens the share sheet with the downloaded file on %s', async (os) => {
    Platform.OS = os as typeof Platform.OS;
    await saveOriginal(report, deps());
    expect(Sharing.shareAsync).toHaveBeenCalledWith(target, { mimeType: 'application/pdf', dialogTitle: 'report.pdf' });
  });
});
