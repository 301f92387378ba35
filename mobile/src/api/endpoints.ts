// One typed function per API call the app makes (paths from docs/api.md).
import { api } from './index';
import type {
  ApiKey,
  ApiKeyUsageDay,
  AuthResponse,
  Conversation,
  Feedback,
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

export const turnsApi = {
  /** The first message of a new chat: the server creates the conversation only if it accepts the message. */
  start: (body: { content: string; deepthink: boolean }) => api.post<StartResponse>(`${V1}/messages`, body),
  send: (conversationId: string, body: { content: string; deepthink: boolean; parent_id?: string | null }) =>
    api.post<TurnResponse>(`${V1}/conversations/${conversationId}/messages`, body),
  regenerate: (assistantMessageId: string, deepthink?: boolean) =>
    api.post<TurnResponse>(`${V1}/messages/${assistantMessageId}/regenerate`, deepthink === undefined ? {} : { deepthink }),
  cancel: (turnId: string) => api.post<void>(`${V1}/turns/${turnId}/cancel`),
  feedback: (messageId: string, feedback: Feedback) =>
    api.patch<Message>(`${V1}/messages/${messageId}`, { feedback }),
};

export const modelsApi = {
  list: () => api.get<Page<ModelInfo> | ModelInfo[] | { data: ModelInfo[] }>(`${V1}/models`),
};

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
