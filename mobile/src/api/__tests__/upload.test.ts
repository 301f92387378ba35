// Uploading a file: multipart with the bearer token, progress as it goes, one retry with a renewed
// token after a 401, and the API's error shape when refused.
import { uploadFile, type UploadDeps } from '../upload';

class FakeRequest {
  static all: FakeRequest[] = [];
  method = '';
  url = '';
  headers: Record<string, string> = {};
  withCredentials = false;
  body: unknown = null;
  status = 0;
  responseText = '';
  responseHeaders: Record<string, string> = {};
  upload: { onprogress: ((event: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  constructor() {
    FakeRequest.all.push(this);
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  getResponseHeader(name: string) {
    return this.responseHeaders[name] ?? null;
  }
  send(body: unknown) {
    this.body = body;
  }
  abort() {
    this.onabort?.();
  }
  answer(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.responseHeaders = headers;
    this.onload?.();
  }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

function deps(extra: Partial<UploadDeps> = {}): UploadDeps {
  return {
    baseUrl: () => 'http://api.test',
    getToken: async () => 'old-token',
    refreshToken: async () => 'new-token',
    web: false,
    createRequest: () => new FakeRequest() as unknown as XMLHttpRequest,
    ...extra,
  };
}

const picked = { name: 'report.pdf', size: 10, mime: 'application/pdf', uri: 'file:///report.pdf' };

beforeEach(() => {
  FakeRequest.all = [];
});

describe('uploadFile', () => {
  it('posts the file as multipart with the token and reports progress', async () => {
    const progress = jest.fn();
    const upload = uploadFile(picked, progress, deps());
    await flush();
    const request = FakeRequest.all[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('http://api.test/api/v1/files');
    expect(request.headers.Authorization).toBe('Bearer old-token');
    expect(request.body).toBeInstanceOf(FormData);
    request.upload.onprogress?.({ lengthComputable: true, loaded: 5, total: 10 });
    expect(progress).toHaveBeenCalledWith(0.5);
    request.answer(201, { id: 'f1', name: 'report.pdf', status: 'reading' });
    await expect(upload.promise).resolves.toMatchObject({ id: 'f1', status: 'reading' });
  });

  it('tries once more with a renewed token after a 401', async () => {
    const upload = uploadFile(picked, jest.fn(), deps());
    await flush();
    FakeRequest.all[0]!.answer(401, { error: { code: 'not_authenticated', message: 'Expired' } });
    await flush();
    await flush();
    expect(FakeRequest.all).toHaveLength(2);
    expect(FakeRequest.all[1]!.headers.Authorization).toBe('Bearer new-token');
    FakeRequest.all[1]!.answer(201, { id: 'f1', status: 'reading' });
    await expect(upload.promise).resolves.toMatchObject({ id: 'f1' });
  });

  it('rejects with the server’s error, in its words, with Retry-After', async () => {
    const upload = uploadFile(picked, jest.fn(), deps());
    await flush();
    FakeRequest.all[0]!.answer(
      429,
      { error: { code: 'files_per_day_exceeded', message: 'You have uploaded 50 files today.' } },
      { 'Retry-After': '3600' },
    );
    await expect(upload.promise).rejects.toMatchObject({ status: 429, code: 'files_per_day_exceeded', message: 'You have uploaded 50 files today.', retryAfter: 3600 });
  });

  it('says who it is and sends cookies on the web', async () => {
    const upload = uploadFile({ name: 'a.txt', size: 1, mime: 'text/plain', blob: new Blob(['a']) }, jest.fn(), deps({ web: true }));
    await flush();
    expect(FakeRequest.all[0]!.headers['X-Whale-Client']).toBe('web');
    expect(FakeRequest.all[0]!.withCredentials).toBe(true);
    upload.abort();
    await expect(upload.promise).rejects.toMatchObject({ code: 'aborted' });
  });
});
