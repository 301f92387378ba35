// Everything one chat screen does with the server: read the branch, send, edit, regenerate,
// stop, switch versions and rate answers (mutations with optimistic updates: turnMutations.ts),
// with the live streams attached to unsettled answers.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState } from 'react';

import { conversationsApi } from '@/api/endpoints';
import { isApiError } from '@/api/errors';
import { canRetry } from '@/utils/errorText';
import { queryKeys } from '@/api/queryKeys';
import type { Conversation, Feedback, Message, MessageFile } from '@/api/types';
import { isTerminal, type TurnStreamState } from './stream/machine';
import { attachTurn, useTurnStreams } from './stream/turnStreams';
import { isUnsettled } from './stream/view';
import {
  isOptimistic,
  pendingFirstMessages,
  useEditQuestion,
  useRegenerate,
  useSendMessage,
  useSetFeedback,
  useStopTurn,
  useSwitchBranch,
} from './turnMutations';

export { withTurn } from './turnMutations';

/** What a question carries beyond its words: Search, and the files ready to send. */
export interface TurnOptions {
  search?: boolean;
  files?: MessageFile[];
}

export interface ChatError {
  error: unknown;
  /** When sending is allowed again (epoch ms), from Retry-After. */
  retryAt: number | null;
  /** Only when retrying can succeed (a lost connection, a busy server, a short rate limit). */
  retry?: () => void;
}

/** The answer still running on this branch, if any: unsettled and its stream not ended. */
export function activeTurnOf(messages: Message[], streams: Record<string, TurnStreamState>): Message | undefined {
  return messages.find((m) => {
    if (!isUnsettled(m) || isOptimistic(m)) return false;
    const stream = streams[m.id];
    return !stream || !isTerminal(stream);
  });
}

export function useChat(conversationId: string | undefined, onCreated: (id: string) => void) {
  const queryClient = useQueryClient();
  const [pendingId, setPendingId] = useState<string | undefined>(undefined);
  const [chatError, setChatError] = useState<ChatError | null>(null);
  const id = conversationId ?? pendingId;

  const detail = useQuery({
    queryKey: queryKeys.conversations.detail(id ?? 'new'),
    queryFn: () => conversationsApi.get(id as string),
    enabled: !!conversationId,
  });

  const sendMutation = useSendMessage(
    useCallback(
      (created: Conversation) => {
        setPendingId(created.id);
        onCreated(created.id);
      },
      [onCreated],
    ),
  );
  const editMutation = useEditQuestion();
  const regenerateMutation = useRegenerate();
  const stopMutation = useStopTurn();
  const switchMutation = useSwitchBranch();
  const feedbackMutation = useSetFeedback();

  const firstMessages = useMemo(
    () => (sendMutation.isPending ? pendingFirstMessages(sendMutation.variables, sendMutation.submittedAt) : []),
    [sendMutation.isPending, sendMutation.variables, sendMutation.submittedAt],
  );
  // A new chat shows its first question at once, then (accepted) the conversation made for it.
  const messages = useMemo(() => (id ? (detail.data?.messages ?? []) : firstMessages), [id, detail.data, firstMessages]);

  useEffect(() => {
    // Answers still running (also after a reload, or started on another device) get a live stream.
    for (const message of messages) if (isUnsettled(message) && !isOptimistic(message)) attachTurn(message.id);
  }, [messages]);

  // A primitive out of the streams, so a batch of tokens re-renders the answer's row, not the screen.
  const activeTurnId = useTurnStreams((s) => activeTurnOf(messages, s.streams)?.id);
  const activeTurn = activeTurnId ? messages.find((m) => m.id === activeTurnId) : undefined;

  const fail = useCallback(
    (error: unknown, retry?: () => void) => {
      const retryAfter = isApiError(error) ? error.retryAfter : undefined;
      setChatError({ error, retryAt: retryAfter ? Date.now() + retryAfter * 1000 : null, retry: canRetry(error) ? retry : undefined });
      // A refusal may have taught us a limit (message length) or changed what is left today.
      if (isApiError(error) && (error.status === 400 || error.status === 429)) {
        void queryClient.invalidateQueries({ queryKey: queryKeys.usage() });
      }
    },
    [queryClient],
  );

  /**
   * Sends a question; true once the server accepted it. A refused send writes nothing on the server
   * (a new chat's conversation is created together with its first accepted message), so the caller
   * keeps the text for the user to change and send again.
   */
  async function send(content: string, deepthink: boolean, options: TurnOptions = {}): Promise<boolean> {
    setChatError(null);
    try {
      await sendMutation.mutateAsync({ conversationId: id ?? null, content, deepthink, ...options });
      return true;
    } catch (error) {
      fail(error, () => void send(content, deepthink, options));
      return false;
    }
  }

  /** Any question can be edited: the edit becomes a sibling of it (same parent, null at the root). */
  async function editQuestion(message: Message, content: string, deepthink: boolean, search?: boolean): Promise<boolean> {
    if (!id) return false;
    setChatError(null);
    try {
      await editMutation.mutateAsync({ conversationId: id, message, content, deepthink, ...(search ? { search } : {}) });
      return true;
    } catch (error) {
      fail(error, () => void editQuestion(message, content, deepthink, search));
      return false;
    }
  }

  async function regenerate(message: Message, deepthink: boolean, search?: boolean) {
    if (!id) return;
    setChatError(null);
    try {
      await regenerateMutation.mutateAsync({ conversationId: id, message, deepthink, ...(search ? { search } : {}) });
    } catch (error) {
      fail(error, () => void regenerate(message, deepthink, search));
    }
  }

  async function stop() {
    if (!activeTurn) return;
    try {
      await stopMutation.mutateAsync({ turnId: activeTurn.id });
    } catch (error) {
      fail(error);
    }
  }

  async function switchBranch(siblingId: string) {
    if (!id) return;
    try {
      await switchMutation.mutateAsync({ conversationId: id, siblingId });
    } catch (error) {
      fail(error);
    }
  }

  async function setFeedback(message: Message, feedback: Feedback) {
    if (!id) return;
    try {
      await feedbackMutation.mutateAsync({ conversationId: id, message, feedback });
    } catch (error) {
      fail(error);
    }
  }

  return {
    conversation: conversationId ? detail.data : undefined,
    messages,
    loading: !!conversationId && detail.isLoading,
    loadError: detail.error,
    activeTurn,
    generating: !!activeTurn,
    busy: sendMutation.isPending || editMutation.isPending || regenerateMutation.isPending || switchMutation.isPending,
    chatError,
    clearError: () => setChatError(null),
    send,
    editQuestion,
    regenerate,
    stop,
    switchBranch,
    setFeedback,
  };
}
