// Query-key factories: every cache entry the app reads is named here, and only here.
export const queryKeys = {
  me: () => ['me'] as const,
  models: () => ['models'] as const,
  usage: () => ['usage'] as const,
  apiKeys: () => ['apiKeys'] as const,
  apiKeyUsage: (id: string, days: number) => ['apiKeys', id, 'usage', { days }] as const,
  shares: () => ['shares'] as const,
  shared: (token: string) => ['shared', token] as const,
  files: {
    content: (id: string) => ['files', id, 'content'] as const,
  },
  conversations: {
    all: () => ['conversations'] as const,
    lists: () => ['conversations', 'list'] as const,
    list: (q: string) => ['conversations', 'list', { q }] as const,
    details: () => ['conversations', 'detail'] as const,
    detail: (id: string) => ['conversations', 'detail', id] as const,
  },
};
