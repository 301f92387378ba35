// Everything one chat screen does with the server: read the branch, send, edit, regenerate,
// stop, switch versions and rate answers, with the live streams attached to unsettled answers.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState } from 'react';

import { conversationsApi, turnsApi } from '@/api/endpoints';
import { isApiError } from '@/api/errors';
import { canRetry } from '@/utils/errorText';
import { queryKeys } from '@/api/queryKeys';
import type { Conversation, Feedback, Message, TurnResponse } from '@/api/types';
import { noteFallback } from './fallbacks';
import { isTerminal } from './stream/machine';
import { attachTurn, markCancelRequested, useTurnStreams } from './stream/turnStreams';
import { isUnsettled } from './stream/view';

export interface ChatError {
  error: unknown;
  /** When sending is allowed again (epoch ms), from Retry-After. */
  retryAt: number | null;
  /** Only when retrying can succeed (a lost connection, a busy server, a short rate limit). */
  retry?: () => void;
}

/** The branch as it will look once the server has the new turn: kept up to `keepBefore`, then the new messages. */
export function withTurn(messages: Message[], keepBefore: string | null, added: Message[]): Message[] {
  const cut = keepBefore ? messages.findIndex((m) => m.id === keepBefore) : -1;
  const kept = cut >= 0 ? messages.slice(0, cut) : messages;
  return [...kept, ...added];
}

export function useChat(conversationId: string | undefined, onCreated: (id: string) => void) {
  const queryClient = useQueryClient();
  const [pendingId, setPendingId] = useState<string | undefined>(undefined);
  const [chatError, setChatError] = useState<ChatError | null>(null);
  const [busy, setBusy] = useState(false);
  const id = conversationId ?? pendingId;

  const detail = useQuery({
    queryKey: queryKeys.conversations.detail(id ?? 'new'),
    queryFn: () => conversationsApi.get(id as string),
    enabled: !!conversationId,
  });
  const messages = useMemo(() => (conversationId ? (detail.data?.messages ?? []) : []), [conversationId, detail.data]);

  useEffect(() => {
    // Answers still running (also after a reload, or started on another device) get a live stream.
    for (const message of messages) if (isUnsettled(message)) attachTurn(message.id);
  }, [messages]);

  const streams = useTurnStreams((s) => s.streams);
  const activeTurn = messages.find((m) => {
    if (!isUnsettled(m)) return false;
    const stream = streams[m.id];
    return !stream || !isTerminal(stream);
  });

  const fail = useCallback((error: unknown, retry?: () => void) => {
    const retryAfter = isApiError(error) ? error.retryAfter : undefined;
    setChatError({ error, retryAt: retryAfter ? Date.now() + retryAfter * 1000 : null, retry: canRetry(error) ? retry : undefined });
    // A refusal may have taught us a limit (message length) or changed what is left today.
    if (isApiError(error) && (error.status === 400 || error.status === 429)) {
      void queryClient.invalidateQueries({ queryKey: queryKeys.usage() });
    }
  }, [queryClient]);

  const applyTurn = useCallback(
    (conversation: string, turn: TurnResponse, keepBefore: string | null, includeUser: boolean) => {
      queryClient.setQueryData<Conversation>(queryKeys.conversations.detail(conversation), (current) =>
        current
          ? {
              ...current,
              is_generating: true,
              current_message_id: turn.assistant_message.id,
              messages: withTurn(
                current.messages ?? [],
                keepBefore,
                includeUser ? [turn.user_message, turn.assistant_message] : [turn.assistant_message],
              ),
            }
          : current,
      );
      noteFallback(turn.assistant_message.id, turn.fallback);
      attachTurn(turn.assistant_message.id);
      void queryClient.invalidateQueries({ queryKey: queryKeys.conversations.lists() });
      if (turn.fallback) void queryClient.invalidateQueries({ queryKey: queryKeys.usage() });
    },
    [queryClient],
  );

  /**
   * Sends a question; true once the server accepted it. A refused send writes nothing on the server
   * (a new chat's conversation is created together with its first accepted message), so the caller
   * keeps the text for the user to change and send again.
   */
  async function send(content: string, deepthink: boolean): Promise<boolean> {
    setChatError(null);
    setBusy(true);
    try {
      if (!id) {
        const started = await turnsApi.start({ content, deepthink });
        const created = started.conversation;
        queryClient.setQueryData<Conversation>(queryKeys.conversations.detail(created.id), { ...created, messages: [] });
        setPendingId(created.id);
        applyTurn(created.id, started, null, true);
        onCreated(created.id);
      } else {
        applyTurn(id, await turnsApi.send(id, { content, deepthink }), null, true);
      }
      return true;
    } catch (error) {
      fail(error, () => void send(content, deepthink));
      return false;
    } finally {
      setBusy(false);
    }
  }

  /** Any question can be edited: the edit becomes a sibling of it (same parent, null at the root). */
  async function editQuestion(message: Message, content: string, deepthink: boolean): Promise<boolean> {
    if (!id) return false;
    setChatError(null);
    setBusy(true);
    try {
      const turn = await turnsApi.send(id, { content, deepthink, parent_id: message.parent_id });
      applyTurn(id, turn, message.id, true);
      return true;
    } catch (error) {
      fail(error, () => void editQuestion(message, content, deepthink));
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function regenerate(message: Message, deepthink: boolean) {
    if (!id) return;
    setChatError(null);
    setBusy(true);
    try {
      const turn = await turnsApi.regenerate(message.id, message.deepthink ?? deepthink);
      applyTurn(id, turn, message.id, false);
    } catch (error) {
      fail(error, () => void regenerate(message, deepthink));
    } finally {
      setBusy(false);
    }
  }

  async function stop() {
    if (!activeTurn) return;
    markCancelRequested(activeTurn.id);
    try {
      await turnsApi.cancel(activeTurn.id);
    } catch (error) {
      fail(error);
    }
  }

  async function switchBranch(siblingId: string) {
    if (!id) return;
    setBusy(true);
    try {
      await conversationsApi.update(id, { current_message_id: siblingId });
      await queryClient.invalidateQueries({ queryKey: queryKeys.conversations.detail(id) });
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
    }
  }

  async function setFeedback(message: Message, feedback: Feedback) {
    if (!id) return;
    const key = queryKeys.conversations.detail(id);
    const patch = (value: Feedback) =>
      queryClient.setQueryData<Conversation>(key, (c) =>
        c ? { ...c, messages: c.messages?.map((m) => (m.id === message.id ? { ...m, feedback: value } : m)) } : c,
      );
    patch(feedback);
    try {
      await turnsApi.feedback(message.id, feedback);
    } catch (error) {
      patch(message.feedback ?? 'none');
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
    busy,
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
