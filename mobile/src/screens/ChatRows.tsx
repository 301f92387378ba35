// One row of the chat list each: a question, or an answer that reads its own turn's stream, so a
// batch of tokens re-renders that answer and nothing else (the screen does not hold the streams).
import { memo } from 'react';

import type { Feedback, Message } from '@/api/types';
import { AssistantMessage, UserMessage } from '@/components/MessageItems';
import { useFallbacks } from '@/state/fallbacks';
import { useTurnStream } from '@/state/stream/turnStreams';
import { answerView } from '@/state/stream/view';
import { isOptimistic } from '@/state/turnMutations';

/** What a row can ask of the chat; one object for the screen's life, so rows stay memoised. */
export interface ChatRowActions {
  edit(message: Message, text: string): Promise<boolean>;
  regenerate(message: Message): void;
  feedback(message: Message, feedback: Feedback): void;
  switchBranch(siblingId: string): void;
  retryStream(turnId: string): void;
}

interface RowProps {
  message: Message;
  actions: ChatRowActions;
  /** A send, edit, regenerate or branch switch is on its way. */
  busy: boolean;
  /** An answer is being generated on this branch. */
  generating: boolean;
  /** The last answer of the branch: the one Regenerate replaces. */
  last: boolean;
}

export const UserRow = memo(function UserRow({ message, actions, busy, generating }: RowProps) {
  const pending = isOptimistic(message);
  return (
    <UserMessage
      message={message}
      editable={!generating && !pending}
      busy={busy || generating}
      onEdit={actions.edit}
      onSwitchBranch={pending ? undefined : actions.switchBranch}
    />
  );
});

export const AssistantRow = memo(function AssistantRow({ message, actions, busy, generating, last }: RowProps) {
  const stream = useTurnStream(message.id);
  const noted = useFallbacks((s) => s.byTurn[message.id] ?? null);
  return (
    <AssistantMessage
      message={message}
      view={answerView(message, stream, noted)}
      busy={busy || generating}
      onRegenerate={last ? actions.regenerate : undefined}
      onFeedback={actions.feedback}
      onSwitchBranch={actions.switchBranch}
      onRetryStream={() => actions.retryStream(message.id)}
    />
  );
});
