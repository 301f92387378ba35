// Shapes of the app API (docs/api.md) as the client reads them.
export interface User {
  id: string;
  email: string;
  display_name: string;
  email_verified: boolean;
  date_joined?: string;
  is_staff?: boolean;
}

export interface AuthResponse {
  user: User;
  access: string;
  /** Absent on the web, where the refresh token lives in an HttpOnly cookie. */
  refresh?: string;
}

export interface TokenPair {
  access: string;
  refresh?: string;
}

export interface Page<T> {
  results: T[];
  next: string | null;
  previous: string | null;
}

export type MessageStatus = 'queued' | 'streaming' | 'done' | 'cancelled' | 'failed';
export type Feedback = 'up' | 'down' | 'none';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  reasoning_tokens: number;
}

export interface Message {
  id: string;
  parent_id: string | null;
  role: 'user' | 'assistant';
  content: string;
  reasoning_content: string;
  model?: string;
  deepthink?: boolean;
  status: MessageStatus;
  error?: string;
  finish_reason?: string | null;
  usage?: Usage | null;
  feedback?: Feedback;
  created_at: string;
  queued_at?: string | null;
  started_at?: string | null;
  first_token_at?: string | null;
  finished_at?: string | null;
  sibling_count?: number;
  sibling_index?: number;
  sibling_ids?: string[];
  /** The answer searched the web (assistant messages; absent on older servers). */
  search?: boolean;
  /** What the answer read, numbered as its `[citation:X]` markers (assistant messages). */
  sources?: Source[];
  /** Said on the answer: search was unavailable, a file was only partly read (assistant messages). */
  notices?: Notice[];
  /** The files sent with the question (user messages). */
  files?: MessageFile[];
}

/** A page the research step read; `n` is the X of `[citation:X]`. */
export interface Source {
  n: number;
  title: string;
  url: string;
  site?: string;
  snippet?: string;
}

/** `search_unavailable`, `file_truncated` (with `file_id`, `name`, `percent`), or a newer code. */
export interface Notice {
  code: string;
  message: string;
  [extra: string]: unknown;
}

export type FileStatus = 'uploading' | 'reading' | 'ready' | 'failed';

/** A file as `/api/v1/files` and the `file.updated` user event describe it. */
export interface FileInfo {
  id: string;
  name: string;
  size: number;
  mime: string;
  kind: string;
  status: FileStatus;
  failure?: { code: string; message: string } | null;
  pages?: number | null;
  pages_read?: number | null;
  truncated?: boolean;
  text_chars?: number | null;
  preview?: string;
}

/** A file as a user message carries it. */
export interface MessageFile {
  id: string;
  name: string;
  size: number;
  mime: string;
  kind: string;
  status: FileStatus;
  truncated?: boolean;
  pages?: number | null;
}

export interface FileContent {
  id: string;
  name: string;
  truncated: boolean;
  text: string;
}

export interface Conversation {
  id: string;
  title: string;
  pinned: boolean;
  archived: boolean;
  created_at: string;
  updated_at: string;
  current_message_id: string | null;
  is_generating: boolean;
  messages?: Message[];
}

export interface StreamUrls {
  events_url: string;
  websocket_url: string;
}

/** The DeepThink allowance was spent: the chat model answers instead (`fallback` of a send and of `queued`). */
export interface TurnFallback {
  from?: string;
  to: string;
  reason: string;
}

export interface TurnResponse {
  conversation_id?: string;
  user_message: Message;
  assistant_message: Message;
  queue_position?: number;
  fallback?: TurnFallback | null;
  stream: StreamUrls;
}

/** `POST /api/v1/messages`: a new conversation created together with its first accepted message. */
export interface StartResponse extends TurnResponse {
  conversation: Conversation;
}

export interface ShareLink {
  id: string;
  token: string;
  url?: string;
  conversation_id?: string;
  conversation?: string;
  created_at?: string;
}

export interface SharedConversation {
  title: string;
  created_at: string;
  messages: Message[];
}

type Limit = number | null;

/** `GET /api/v1/me/usage`: today's counters and the user's limits (null is unlimited). */
export interface UsageInfo {
  tier: string;
  date: string;
  resets_at: string;
  limits: {
    requests_per_minute: Limit;
    turns_per_day: Limit;
    reasoning_turns_per_day: Limit;
    tokens_per_day: Limit;
    concurrent_turns: Limit;
    max_message_chars: Limit;
    max_context_tokens: Limit;
  };
  usage: {
    requests_this_minute: number;
    turns_today: number;
    reasoning_turns_today: number;
    tokens_today: number;
    in_flight: number;
  };
  remaining: Partial<Record<'requests_this_minute' | 'turns_today' | 'reasoning_turns_today' | 'tokens_today' | 'in_flight', Limit>>;
  settled?: { turns: number; reasoning_turns: number; prompt_tokens: number; completion_tokens: number; reasoning_tokens: number };
  deepthink_fallback: boolean;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix?: string;
  created_at?: string;
  last_used_at?: string | null;
  /** "active", "revoked" or "expired". */
  status?: string;
  /** Only present once, in the answer to creating the key. */
  key?: string;
  secret?: string;
}

/** One UTC day of an API key's use (GET /api/v1/api-keys/<id>/usage). */
export interface ApiKeyUsageDay {
  date: string;
  requests: number;
  prompt_tokens: number;
  /** Of the prompt tokens, those served from the prefix cache. */
  cached_tokens: number;
  completion_tokens: number;
  /** Of the completion tokens, those spent reasoning. */
  reasoning_tokens: number;
  errors: number;
}

export interface ModelInfo {
  id: string;
  name?: string;
  display_name?: string;
  reasoning?: boolean;
  available?: boolean;
  /** The worker serves the tiny offline demo model, not the real one. */
  demo?: boolean;
  fallback?: boolean;
  [extra: string]: unknown;
}

/** `capabilities` of `GET /api/v1/models`: what this server can do beyond plain chat. */
export interface Capabilities {
  search: boolean;
  search_provider: string | null;
  files: { max_per_message: number; kinds: Record<string, number> };
}
