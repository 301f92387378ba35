// One typed function per API call the app makes (paths from docs/api.md).
import { api } from './index';
import type {
  ApiKey,
  ApiKeyUsageDay,
  AuthResponse,
  Capabilities,
  Conversation,
  Feedback,
  FileContent,
  FileInfo,
  Message,
  ModelInfo,
  Page,
  ShareLink,
  SharedConversation,
  StartResponse,
  TurnResponse,
  UsageInfo,
  User,
} from './types';

const V1 = '/api/v1';

export const authApi = {
  register: (body: { email: string; password: string; display_name?: string }) =>
    api.post<AuthResponse>(`${V1}/auth/register`, body, { auth: false }),
  login: (body: { email: string; password: string }) =>
    api.post<AuthResponse>(`${V1}/auth/login`, body, { auth: false }),
  logout: (refresh: string | null) =>
    api.post<void>(`${V1}/auth/logout`, refresh ? { refresh } : {}, { auth: false }),
  verifyEmail: (code: string) => api.post<{ user: User }>(`${V1}/auth/verify-email`, { code }),
  resendVerification: () => api.post<void>(`${V1}/auth/verify-email/resend`),
  requestPasswordReset: (email: string) =>
    api.post<void>(`${V1}/auth/password/reset`, { email }, { auth: false }),
  confirmPasswordReset: (body: { email: string; code: string; new_password: string }) =>
    api.post<void>(`${V1}/auth/password/reset/confirm`, body, { auth: false }),
};

export const meApi = {
  get: () => api.get<User>(`${V1}/me`),
  update: (body: { display_name: string }) => api.patch<{ user: User } | User>(`${V1}/me`, body),
  delete: (password: string) => api.post<void>(`${V1}/me/delete`, { password }),
  exportData: () => api.get<Response>(`${V1}/me/export`, { raw: true }),
  usage: () => api.get<UsageInfo>(`${V1}/me/usage`),
};

export const conversationsApi = {
  list: (params: { q?: string; cursor?: string | null; pageSize?: number }) =>
    params.cursor && /^https?:\/\//.test(params.cursor)
      ? api.get<Page<Conversation>>(params.cursor)
      : api.get<Page<Conversation>>(`${V1}/conversations`, {
          query: { q: params.q, archived: false, cursor: params.cursor, page_size: params.pageSize ?? 30 },
        }),
  get: (id: string) => api.get<Conversation>(`${V1}/conversations/${id}`),
  update: (id: string, body: Partial<Pick<Conversation, 'title' | 'pinned' | 'archived' | 'current_message_id'>>) =>
    api.patch<Conversation>(`${V1}/conversations/${id}`, body),
  remove: (id: string) => api.delete(`${V1}/conversations/${id}`),
  exportFile: (id: string, format: 'markdown' | 'json') =>
    api.get<Response>(`${V1}/conversations/${id}/export`, { query: { format }, raw: true }),
  share: (id: string) => api.post<ShareLink>(`${V1}/conversations/${id}/share`),
};

export const sharesApi = {
  list: () => api.get<Page<ShareLink> | ShareLink[]>(`${V1}/shares`),
  revoke: (id: string) => api.delete(`${V1}/shares/${id}`),
  getShared: (token: string) => api.get<SharedConversation>(`${V1}/shared/${token}`, { auth: false }),
};

export interface TurnBody {
  content: string;
  deepthink: boolean;
  parent_id?: string | null;
  search?: boolean;
  file_ids?: string[];
}

/**
 * `search` and `file_ids` go only when set: a server from before Search and Files never sees them,
 * and a plain question's body stays what it always was.
 */
export function turnBody({ search, file_ids, ...rest }: TurnBody): TurnBody {
  return { ...rest, ...(search ? { search: true } : {}), ...(file_ids?.length ? { file_ids } : {}) };
}

export const turnsApi = {
  /** The first message of a new chat: the server creates the conversation only if it accepts the message. */
  start: (body: TurnBody) => api.post<StartResponse>(`${V1}/messages`, turnBody(body)),
  send: (conversationId: string, body: TurnBody) =>
    api.post<TurnResponse>(`${V1}/conversations/${conversationId}/messages`, turnBody(body)),
  regenerate: (assistantMessageId: string, deepthink?: boolean, search?: boolean) =>
    api.post<TurnResponse>(`${V1}/messages/${assistantMessageId}/regenerate`, {
      ...(deepthink === undefined ? {} : { deepthink }),
      ...(search ? { search: true } : {}),
    }),
  cancel: (turnId: string) => api.post<void>(`${V1}/turns/${turnId}/cancel`),
  feedback: (messageId: string, feedback: Feedback) =>
    api.patch<Message>(`${V1}/messages/${messageId}`, { feedback }),
};

export type ModelList = (Page<ModelInfo> | ModelInfo[] | { data: ModelInfo[] }) & { capabilities?: Partial<Capabilities> };

export const modelsApi = {
  list: () => api.get<ModelList>(`${V1}/models`),
};

/** Upload is api/upload.ts (it reports progress); the rest of a file's life is here. */
export const filesApi = {
  get: (id: string) => api.get<FileInfo>(`${V1}/files/${id}`),
  content: (id: string) => api.get<FileContent>(`${V1}/files/${id}/content`),
  download: (id: string) => api.get<Response>(`${V1}/files/${id}/download`, { raw: true }),
  remove: (id: string) => api.delete(`${V1}/files/${id}`),
};

/** What this server can do beyond plain chat; an older server says nothing, which means no. */
export function capabilitiesOf(list: ModelList | undefined): Capabilities {
  const given = list && !Array.isArray(list) ? list.capabilities : undefined;
  const files = given?.files;
  return {
    search: given?.search === true,
    search_provider: typeof given?.search_provider === 'string' ? given.search_provider : null,
    files: {
      max_per_message: typeof files?.max_per_message === 'number' && files.max_per_message > 0 ? files.max_per_message : DEFAULT_FILES_PER_MESSAGE,
      kinds: files?.kinds && typeof files.kinds === 'object' ? files.kinds : {},
    },
  };
}

/** `WHALE_FILES_PER_MESSAGE`'s default, for a server that does not say. */
export const DEFAULT_FILES_PER_MESSAGE = 20;

export const keysApi = {
  list: () => api.get<Page<ApiKey> | ApiKey[]>(`${V1}/api-keys`),
  create: (name: string) => api.post<ApiKey>(`${V1}/api-keys`, { name }),
  revoke: (id: string) => api.delete(`${V1}/api-keys/${id}`),
  usage: (id: string, days: number) => api.get<{ data: ApiKeyUsageDay[] }>(`${V1}/api-keys/${id}/usage?days=${days}`),
};

/** Lists come paginated per the contract; accept a bare array too. */
export function resultsOf<T>(value: Page<T> | T[] | { data: T[] } | undefined): T[] {
  if (!value) return [];
  if (Array.isArray(value)) return value;
  if ('results' in value) return value.results;
  if ('data' in value) return value.data;
  return [];
}
