// Server state for the history: the paged, searchable list and the edits made from it.
import { useInfiniteQuery, useMutation, useQueryClient, type InfiniteData } from '@tanstack/react-query';

import { conversationsApi, sharesApi } from '@/api/endpoints';
import { queryKeys } from '@/api/queryKeys';
import type { Conversation, Page } from '@/api/types';

export function useConversationList(q: string) {
  return useInfiniteQuery({
    queryKey: queryKeys.conversations.list(q),
    queryFn: ({ pageParam }) => conversationsApi.list({ q, cursor: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });
}

type ListData = InfiniteData<Page<Conversation>, string | null>;

/** Applies an edit to every cached copy of a conversation (lists and detail) at once. */
function patchCached(queryClient: ReturnType<typeof useQueryClient>, id: string, patch: (c: Conversation) => Conversation | null) {
  queryClient.setQueriesData<ListData>({ queryKey: queryKeys.conversations.lists() }, (data) =>
    data
      ? {
          ...data,
          pages: data.pages.map((page) => ({
            ...page,
            results: page.results.flatMap((c) => {
              if (c.id !== id) return [c];
              const next = patch(c);
              return next ? [next] : [];
            }),
          })),
        }
      : data,
  );
  queryClient.setQueryData<Conversation>(queryKeys.conversations.detail(id), (c) => (c ? (patch(c) ?? c) : c));
}

export function useConversationActions() {
  const queryClient = useQueryClient();
  const settle = () => queryClient.invalidateQueries({ queryKey: queryKeys.conversations.lists() });

  const update = useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: Partial<Pick<Conversation, 'title' | 'pinned' | 'archived'>> }) =>
      conversationsApi.update(id, patch),
    onMutate: ({ id, patch }) => patchCached(queryClient, id, (c) => (patch.archived ? null : { ...c, ...patch })),
    onSettled: settle,
  });

  const remove = useMutation({
    mutationFn: (id: string) => conversationsApi.remove(id),
    onMutate: (id) => patchCached(queryClient, id, () => null),
    onSuccess: (_void, id) => queryClient.removeQueries({ queryKey: queryKeys.conversations.detail(id) }),
    onSettled: settle,
  });

  const share = useMutation({ mutationFn: (id: string) => conversationsApi.share(id) });
  const revokeShare = useMutation({ mutationFn: (shareId: string) => sharesApi.revoke(shareId) });

  return { update, remove, share, revokeShare };
}
