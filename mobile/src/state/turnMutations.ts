// The chat's writes as TanStack Query mutations, in the manner of Bluesky's social-app: each one
// shows its result at once (an optimistic change to the cached conversation, or to the turn's
// stream), rolls it back when the server refuses, and puts the server's answer in its place.
// Send, edit and regenerate show the question and a waiting answer before the server has them;
// stop shows "stopping"; a branch switch moves the "2 / 3" counter; a rating lights its thumb.
import { useMutation, useQueryClient, type QueryClient } from '@tanstack/react-query';

import { conversationsApi, turnsApi } from '@/api/endpoints';
import { queryKeys } from '@/api/queryKeys';
import type { Conversation, Feedback, Message, MessageFile, StartResponse, TurnResponse } from '@/api/types';
import { noteFallback } from './fallbacks';
import { attachTurn, markCancelFailed, markCancelRequested } from './stream/turnStreams';

const OPTIMISTIC = 'optimistic:';
let optimisticCount = 0;

/** A message the client shows before the server has it (it has no stream and no actions yet). */
export function isOptimistic(message: Pick<Message, 'id'>): boolean {
  return message.id.startsWith(OPTIMISTIC);
}

function optimisticId(seed?: number): string {
  optimisticCount += 1;
  return `${OPTIMISTIC}${seed ?? optimisticCount}`;
}

export function optimisticQuestion(id: string, content: string, parentId: string | null, siblingsOf?: Message, files?: MessageFile[]): Message {
  const count = (siblingsOf?.sibling_count ?? 1) + (siblingsOf ? 1 : 0);
  return {
    id,
    parent_id: parentId,
    role: 'user',
    content,
    reasoning_content: '',
    status: 'done',
    created_at: new Date().toISOString(),
    ...(files?.length ? { files } : {}),
    ...(siblingsOf
      ? { sibling_count: count, sibling_index: count - 1, sibling_ids: [...(siblingsOf.sibling_ids ?? [siblingsOf.id]), id] }
      : {}),
  };
}

export function optimisticAnswer(id: string, parentId: string | null, deepthink: boolean, search?: boolean): Message {
  return {
    id,
    parent_id: parentId,
    role: 'assistant',
    content: '',
    reasoning_content: '',
    deepthink,
    ...(search ? { search } : {}),
    status: 'queued',
    created_at: new Date().toISOString(),
  };
}

/**
 * The branch as it will look once the server has the new turn: kept up to the first of `cutAt`
 * found (the optimistic stand-in, else the message it replaced), then the new messages (never twice).
 */
export function withTurn(messages: Message[], cutAt: string | null | (string | null)[], added: Message[]): Message[] {
  const cuts = (Array.isArray(cutAt) ? cutAt : [cutAt]).filter((id): id is string => !!id);
  const found = cuts.map((id) => messages.findIndex((m) => m.id === id)).find((index) => index >= 0);
  const kept = found !== undefined ? messages.slice(0, found) : messages;
  const addedIds = new Set(added.map((m) => m.id));
  return [...kept.filter((m) => !addedIds.has(m.id)), ...added];
}

const detailKey = queryKeys.conversations.detail;

function patchConversation(queryClient: QueryClient, id: string, patch: (c: Conversation) => Conversation): void {
  queryClient.setQueryData<Conversation>(detailKey(id), (current) => (current ? patch(current) : current));
}

interface Snapshot {
  conversationId: string;
  previous: Conversation | undefined;
  /** Whether the cache still shows our optimistic change (not a newer copy from the server). */
  ours: (current: Conversation) => boolean;
}

/** Stops reads of the conversation that would overwrite the optimistic change, and keeps the old copy. */
async function snapshot(queryClient: QueryClient, conversationId: string, ours: Snapshot['ours']): Promise<Snapshot> {
  await queryClient.cancelQueries({ queryKey: detailKey(conversationId) });
  return { conversationId, previous: queryClient.getQueryData<Conversation>(detailKey(conversationId)), ours };
}

function rollback(queryClient: QueryClient, snap: Snapshot | undefined): void {
  if (!snap) return;
  const current = queryClient.getQueryData<Conversation>(detailKey(snap.conversationId));
  if (current && snap.ours(current)) queryClient.setQueryData(detailKey(snap.conversationId), snap.previous);
}

const holds = (id: string) => (c: Conversation) => !!c.messages?.some((m) => m.id === id);

/** Puts an accepted turn into the conversation and starts reading its answer. */
function placeTurn(queryClient: QueryClient, conversationId: string, turn: TurnResponse, cutAt: (string | null)[], includeUser: boolean): void {
  patchConversation(queryClient, conversationId, (current) => ({
    ...current,
    is_generating: true,
    current_message_id: turn.assistant_message.id,
    messages: withTurn(current.messages ?? [], cutAt, includeUser ? [turn.user_message, turn.assistant_message] : [turn.assistant_message]),
  }));
  noteFallback(turn.assistant_message.id, turn.fallback);
  attachTurn(turn.assistant_message.id);
  void queryClient.invalidateQueries({ queryKey: queryKeys.conversations.lists() });
  if (turn.fallback) void queryClient.invalidateQueries({ queryKey: queryKeys.usage() });
}

export interface SendVariables {
  /** Null for a new chat: the server creates it together with its first accepted message. */
  conversationId: string | null;
  content: string;
  deepthink: boolean;
  /** Search the web for this turn (only sent when true). */
  search?: boolean;
  /** Files ready to send with the question; their ids go as `file_ids`. */
  files?: MessageFile[];
}

/** The optional parts of a turn's body, present only when set (an older server never sees them). */
function extras({ search, files }: { search?: boolean; files?: MessageFile[] }): { search?: boolean; file_ids?: string[] } {
  return { ...(search ? { search: true } : {}), ...(files?.length ? { file_ids: files.map((f) => f.id) } : {}) };
}

interface TurnContext {
  snap?: Snapshot;
  questionId: string;
}

/** Sends a question. A new chat has no cache entry yet: its stand-ins are drawn from `variables`. */
export function useSendMessage(onCreated: (conversation: Conversation) => void) {
  const queryClient = useQueryClient();
  return useMutation<TurnResponse | StartResponse, Error, SendVariables, TurnContext>({
    mutationKey: ['turns', 'send'],
    mutationFn: ({ conversationId, content, deepthink, ...rest }) =>
      conversationId
        ? turnsApi.send(conversationId, { content, deepthink, ...extras(rest) })
        : turnsApi.start({ content, deepthink, ...extras(rest) }),
    onMutate: async ({ conversationId, content, deepthink, search, files }) => {
      const questionId = optimisticId();
      if (!conversationId) return { questionId };
      const snap = await snapshot(queryClient, conversationId, holds(questionId));
      patchConversation(queryClient, conversationId, (current) => {
        const messages = current.messages ?? [];
        const parent = messages[messages.length - 1]?.id ?? null;
        return {
          ...current,
          messages: [
            ...messages,
            optimisticQuestion(questionId, content, parent, undefined, files),
            optimisticAnswer(`${questionId}:answer`, questionId, deepthink, search),
          ],
        };
      });
      return { snap, questionId };
    },
    onError: (_error, _variables, context) => rollback(queryClient, context?.snap),
    onSuccess: (turn, { conversationId }, context) => {
      if (conversationId) {
        placeTurn(queryClient, conversationId, turn, [context.questionId], true);
        return;
      }
      const created = (turn as StartResponse).conversation;
      queryClient.setQueryData<Conversation>(detailKey(created.id), { ...created, messages: [] });
      placeTurn(queryClient, created.id, turn, [], true);
      onCreated(created);
    },
  });
}

/** The stand-ins a new chat shows while its first message is on its way. */
export function pendingFirstMessages(variables: SendVariables | undefined, submittedAt: number): Message[] {
  if (!variables || variables.conversationId) return [];
  const id = optimisticId(submittedAt);
  return [
    optimisticQuestion(id, variables.content, null, undefined, variables.files),
    optimisticAnswer(`${id}:answer`, id, variables.deepthink, variables.search),
  ];
}

export interface EditVariables {
  conversationId: string;
  /** The question being edited: the edit becomes its sibling (same parent). */
  message: Message;
  content: string;
  deepthink: boolean;
  search?: boolean;
}

export function useEditQuestion() {
  const queryClient = useQueryClient();
  return useMutation<TurnResponse, Error, EditVariables, TurnContext>({
    mutationKey: ['turns', 'edit'],
    // The edited question keeps the original's files: an edit changes the words, not the attachments.
    mutationFn: ({ conversationId, message, content, deepthink, search }) =>
      turnsApi.send(conversationId, { content, deepthink, parent_id: message.parent_id, ...extras({ search, files: message.files }) }),
    onMutate: async ({ conversationId, message, content, deepthink, search }) => {
      const questionId = optimisticId();
      const snap = await snapshot(queryClient, conversationId, holds(questionId));
      patchConversation(queryClient, conversationId, (current) => ({
        ...current,
        messages: withTurn(current.messages ?? [], message.id, [
          optimisticQuestion(questionId, content, message.parent_id, message, message.files),
          optimisticAnswer(`${questionId}:answer`, questionId, deepthink, search),
        ]),
      }));
      return { snap, questionId };
    },
    onError: (_error, _variables, context) => rollback(queryClient, context?.snap),
    onSuccess: (turn, { conversationId, message }, context) =>
      placeTurn(queryClient, conversationId, turn, [context.questionId, message.id], true),
  });
}

export interface RegenerateVariables {
  conversationId: string;
  /** The answer to replace with a new sibling. */
  message: Message;
  deepthink: boolean;
  /** Used when the answer does not say whether it searched (an older server). */
  search?: boolean;
}

export function useRegenerate() {
  const queryClient = useQueryClient();
  return useMutation<TurnResponse, Error, RegenerateVariables, TurnContext>({
    mutationKey: ['turns', 'regenerate'],
    // A new version answers as the old one did: with DeepThink and Search as they were.
    mutationFn: ({ message, deepthink, search }) =>
      message.search ?? search
        ? turnsApi.regenerate(message.id, message.deepthink ?? deepthink, true)
        : turnsApi.regenerate(message.id, message.deepthink ?? deepthink),
    onMutate: async ({ conversationId, message, deepthink }) => {
      const answerId = optimisticId();
      const snap = await snapshot(queryClient, conversationId, holds(answerId));
      const count = (message.sibling_count ?? 1) + 1;
      patchConversation(queryClient, conversationId, (current) => ({
        ...current,
        messages: withTurn(current.messages ?? [], message.id, [
          {
            ...optimisticAnswer(answerId, message.parent_id, message.deepthink ?? deepthink),
            sibling_count: count,
            sibling_index: count - 1,
            sibling_ids: [...(message.sibling_ids ?? [message.id]), answerId],
          },
        ]),
      }));
      return { snap, questionId: answerId };
    },
    onError: (_error, _variables, context) => rollback(queryClient, context?.snap),
    onSuccess: (turn, { conversationId, message }, context) =>
      placeTurn(queryClient, conversationId, turn, [context.questionId, message.id], false),
  });
}

/** Stop: the answer says "stopping" at once; the turn ends when the server sends `done: cancelled`. */
export function useStopTurn() {
  return useMutation<void, Error, { turnId: string }>({
    mutationKey: ['turns', 'stop'],
    mutationFn: ({ turnId }) => turnsApi.cancel(turnId),
    onMutate: ({ turnId }) => markCancelRequested(turnId),
    onError: (_error, { turnId }) => markCancelFailed(turnId),
  });
}

export interface SwitchVariables {
  conversationId: string;
  siblingId: string;
}

/**
 * Shows another version of a message. The counter moves at once; the branch below it comes with
 * the server's answer (the new branch follows that version's newest descendants).
 */
export function useSwitchBranch() {
  const queryClient = useQueryClient();
  return useMutation<Conversation, Error, SwitchVariables, { snap: Snapshot }>({
    mutationKey: ['conversations', 'branch'],
    mutationFn: ({ conversationId, siblingId }) => conversationsApi.update(conversationId, { current_message_id: siblingId }),
    onMutate: async ({ conversationId, siblingId }) => {
      const snap = await snapshot(queryClient, conversationId, (c) => c.current_message_id === siblingId);
      patchConversation(queryClient, conversationId, (current) => ({
        ...current,
        current_message_id: siblingId,
        messages: current.messages?.map((m) => {
          const index = m.sibling_ids?.indexOf(siblingId) ?? -1;
          return index >= 0 ? { ...m, sibling_index: index } : m;
        }),
      }));
      return { snap };
    },
    onError: (_error, _variables, context) => rollback(queryClient, context?.snap),
    onSuccess: (conversation, { conversationId }) => {
      // The update answers with the conversation and its new branch: no second read.
      if (conversation?.messages) queryClient.setQueryData(detailKey(conversationId), conversation);
      else void queryClient.invalidateQueries({ queryKey: detailKey(conversationId) });
    },
  });
}

export interface FeedbackVariables {
  conversationId: string;
  message: Message;
  feedback: Feedback;
}

function setFeedbackOf(queryClient: QueryClient, conversationId: string, messageId: string, feedback: Feedback): void {
  patchConversation(queryClient, conversationId, (c) => ({
    ...c,
    messages: c.messages?.map((m) => (m.id === messageId ? { ...m, feedback } : m)),
  }));
}

export function useSetFeedback() {
  const queryClient = useQueryClient();
  return useMutation<Message, Error, FeedbackVariables, { previous: Feedback }>({
    mutationKey: ['messages', 'feedback'],
    mutationFn: ({ message, feedback }) => turnsApi.feedback(message.id, feedback),
    onMutate: async ({ conversationId, message, feedback }) => {
      await queryClient.cancelQueries({ queryKey: detailKey(conversationId) });
      const cached = queryClient.getQueryData<Conversation>(detailKey(conversationId))?.messages?.find((m) => m.id === message.id);
      const previous = cached?.feedback ?? message.feedback ?? 'none';
      setFeedbackOf(queryClient, conversationId, message.id, feedback);
      return { previous };
    },
    onError: (_error, { conversationId, message, feedback }, context) => {
      const shown = queryClient.getQueryData<Conversation>(detailKey(conversationId))?.messages?.find((m) => m.id === message.id);
      // Only undo our own change: a later rating (or a fresh read) stays.
      if (context && (shown?.feedback ?? 'none') === feedback) setFeedbackOf(queryClient, conversationId, message.id, context.previous);
    },
    onSuccess: (saved, { conversationId, message }) => {
      if (saved?.feedback) setFeedbackOf(queryClient, conversationId, message.id, saved.feedback);
    },
  });
}
