// Uploading one file to `POST /api/v1/files` (multipart, field `file`) with progress. fetch cannot
// report upload progress, so this uses XMLHttpRequest, which both React Native and browsers have,
// with the same bearer auth and one refresh-and-retry as the JSON client.
import { currentAccessToken, refreshAccessToken } from './index';
import { apiBaseUrl, isWeb } from './config';
import { ApiError, networkError, parseErrorBody } from './errors';
import type { FileInfo } from './types';

/** A file the user picked, dropped or pasted: a Blob on the web, a local URI on phones. */
export interface PickedFile {
  name: string;
  /** Bytes, when the picker knows. */
  size: number | null;
  mime: string | null;
  uri?: string;
  blob?: Blob;
}

export interface Upload {
  promise: Promise<FileInfo>;
  abort(): void;
}

export interface UploadDeps {
  baseUrl: () => string;
  getToken: () => Promise<string | null>;
  refreshToken: () => Promise<string | null>;
  web: boolean;
  createRequest: () => XMLHttpRequest;
}

const defaultDeps: UploadDeps = {
  baseUrl: apiBaseUrl,
  getToken: currentAccessToken,
  refreshToken: refreshAccessToken,
  web: isWeb,
  createRequest: () => new XMLHttpRequest(),
};

export const UPLOAD_PATH = '/api/v1/files';

function formData(file: PickedFile): FormData {
  const form = new FormData();
  if (file.blob) form.append('file', file.blob, file.name);
  // React Native's FormData reads a part from a local URI given as {uri, name, type}.
  else form.append('file', { uri: file.uri, name: file.name, type: file.mime ?? 'application/octet-stream' } as unknown as Blob);
  return form;
}

/** Sends the file; `onProgress` gets the share sent, 0 to 1. Rejects with an ApiError. */
export function uploadFile(file: PickedFile, onProgress: (share: number) => void, deps: UploadDeps = defaultDeps): Upload {
  let current: XMLHttpRequest | null = null;
  let aborted = false;

  const attempt = (token: string | null) =>
    new Promise<{ status: number; text: string; retryAfter: string | null }>((resolve, reject) => {
      const request = deps.createRequest();
      current = request;
      request.open('POST', `${deps.baseUrl()}${UPLOAD_PATH}`);
      request.setRequestHeader('Accept', 'application/json');
      if (token) request.setRequestHeader('Authorization', `Bearer ${token}`);
      if (deps.web) {
        request.setRequestHeader('X-Whale-Client', 'web');
        request.withCredentials = true;
      }
      request.upload.onprogress = (event) => {
        if (event.lengthComputable && event.total > 0) onProgress(Math.min(1, event.loaded / event.total));
      };
      request.onload = () =>
        resolve({ status: request.status, text: String(request.responseText ?? ''), retryAfter: request.getResponseHeader('Retry-After') });
      request.onerror = () => reject(networkError(new Error('Network request failed')));
      request.onabort = () => reject(new ApiError({ status: 0, code: 'aborted', message: 'Upload cancelled', kind: 'network' }));
      request.send(formData(file));
    });

  const run = async (): Promise<FileInfo> => {
    let answer = await attempt(await deps.getToken());
    if (answer.status === 401 && !aborted) {
      const fresh = await deps.refreshToken();
      if (fresh) answer = await attempt(fresh);
    }
    if (answer.status < 200 || answer.status >= 300) throw parseErrorBody(answer.status, answer.text, answer.retryAfter);
    try {
      return JSON.parse(answer.text) as FileInfo;
    } catch {
      throw new ApiError({ status: answer.status, code: 'invalid_json', message: 'The server sent an unreadable answer.' });
    }
  };

  return {
    promise: run(),
    abort: () => {
      aborted = true;
      current?.abort();
    },
  };
}
