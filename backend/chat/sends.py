"""The app's sends: a message, a new chat's first message and regenerate. Each checks and admits the turn
before any write, saves the question and its queued answer (a Message with its turns.Turn), and queues the
answer's generation through turns (a prepare step first when it has Search, a URL or files)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from turns.models import Turn
from turns.services import turn_enqueue, turn_new, turn_settle
from turns.stores import Id

from accounts.models import User
from common import events
from common.db import execute_together, insert_rows, update_row
from common.errors import Conflict, NotFound, ValidationFailed
from inference import protocol
from ratelimits.selectors import limits_for_user
from ratelimits.services import Admitted, message_too_long, turn_admit, turn_release
from serving.registry import ModelSpec, model_for_turn

from .models import Conversation, Message
from .selectors import MessageTree, message_tree
from .send_prepare import turn_prepare_queue
from .services import conversation_create

logger = logging.getLogger(__name__)

ACTIVE_STATUSES = Message.ACTIVE_STATUSES

UNSET: Any = object()


@dataclass
class TurnCreated:
    conversation: Conversation
    user_message: Message | None
    assistant_message: Message
    queue_position: int
    admitted: Admitted | None = None  # the limits it passed: rate-limit headers and any DeepThink fallback
    # Each new message's siblings (itself included), oldest first: the response shows "2 / 3" without a query.
    sibling_ids: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)


def _validate_content(content: str) -> str:
    """The server's own checks; the plan's length limit is checked on admission (also before any write)."""
    if not isinstance(content, str) or not content.strip():
        raise ValidationFailed(fields={"content": ["A message cannot be empty."]})
    if len(content) > settings.WHALE_MAX_MESSAGE_CHARS:
        raise message_too_long(max_chars=settings.WHALE_MAX_MESSAGE_CHARS)
    return content


def _as_uuid(value: object) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def _tree_without_running_turn(conversation: Conversation) -> MessageTree:
    """The conversation's messages (one query), once no answer is being generated in it; 409 otherwise.

    Call it with the conversation row locked, so no other turn can start meanwhile."""
    tree = message_tree(conversation=conversation, for_prompt=True)
    running = [message.id for message in tree.by_id.values() if message.status in ACTIVE_STATUSES]
    if not running:
        return tree
    for turn_id in running:
        # Its stream may have ended a moment before the backend worker saved it (a quick "regenerate"
        # right after the answer): save it now rather than refuse the new turn.
        turn_settle(turn_id=turn_id)
    tree = message_tree(conversation=conversation, for_prompt=True)
    if any(message.status in ACTIVE_STATUSES for message in tree.by_id.values()):
        raise Conflict("An answer is still being generated in this conversation.", code="turn_in_progress")
    return tree


def _prompt_messages(branch: list[Message]) -> list[protocol.ChatMessage]:
    """The branch as the model sees it: content only (earlier reasoning is never sent back)."""
    messages: list[protocol.ChatMessage] = []
    for message in branch:
        if message.role == Message.Role.USER:
            messages.append({"role": "user", "content": message.content})
        elif message.content and message.status in (Message.Status.DONE, Message.Status.CANCELLED):
            messages.append({"role": "assistant", "content": message.content})
    return messages


def _enqueue(
    *, conversation: Conversation, assistant: Message, spec: ModelSpec, branch: list[Message], admitted: Admitted
) -> int:
    # A question with Search, a URL or files is read first, on the research queue (turns/preparing.py).
    prepared = turn_prepare_queue(
        conversation=conversation,
        assistant=assistant,
        question=branch[-1],
        messages=_prompt_messages(branch),
        admitted=admitted,
        earlier=branch[:-1],
    )
    if prepared is not None:
        return prepared
    return turn_enqueue(
        turn_id=assistant.id,
        conversation_id=conversation.id,
        user_id=conversation.user_id,
        spec=spec,
        messages=_prompt_messages(branch),
        admitted=admitted,
    )


def _new_assistant(
    *,
    conversation: Conversation,
    parent: Message,
    spec: ModelSpec,
    deepthink: bool,
    turn_id: uuid.UUID,
) -> Message:
    """The queued answer under `parent`, with its Turn, not written yet."""
    now = timezone.now()
    turn = turn_new(
        turn_id=turn_id, source=Turn.Source.APP, user_id=conversation.user_id, model=spec.name, queued_at=now
    )
    return Message(
        id=turn_id,
        turn=turn,
        conversation=conversation,
        parent=parent,
        role=Message.Role.ASSISTANT,
        deepthink=deepthink,
        created_at=now,
    )


def _provisional_title(content: str) -> str:
    words = " ".join(content.split())
    return words if len(words) <= 48 else words[:47].rstrip() + "…"


@transaction.atomic
def turn_send(*, user: User, conversation_id: Id, content: str, deepthink: bool, parent_id: Any = UNSET) -> TurnCreated:
    """Saves the user's message and a queued answer, and queues the answer's generation.

    `parent_id` left out continues the branch on screen; given, the new question hangs under
    that assistant message (None: a new first question), which makes an edit branch. Every
    check and every limit comes before the first write: a refused send writes nothing.
    """
    content = _validate_content(content)
    conversation = Conversation.objects.select_for_update().filter(id=conversation_id, user=user).first()
    if conversation is None:
        raise NotFound("Conversation not found.")
    tree = _tree_without_running_turn(conversation)
    parent: Message | None
    if parent_id is UNSET:
        parent = tree.by_id.get(conversation.current_message_id) if conversation.current_message_id else None
    elif parent_id is None:
        parent = None
    else:
        wanted = _as_uuid(parent_id)
        parent = tree.by_id.get(wanted) if wanted is not None else None
        if parent is None:
            raise ValidationFailed(fields={"parent_id": ["No such message in this conversation."]})
    if parent is not None and parent.role != Message.Role.ASSISTANT:
        raise ValidationFailed(fields={"parent_id": ["A question must follow an answer (an assistant message)."]})

    question = _unsaved_question(content=content, parent=parent)
    branch = [*(tree.branch_to(parent) if parent is not None else []), question]
    title = None if conversation.title else _provisional_title(content)
    with _admitted_answer(user=user, branch=branch, deepthink=deepthink) as admission:
        question.conversation = conversation
        assistant, position = _queue_answer(
            conversation=conversation,
            question=question,
            branch=branch,
            admission=admission,
            title=title,
            new_question=True,
        )
    _announce_queued(conversation, assistant, title_changed=title is not None)
    questions = [message.id for message in tree.children.get(parent.id if parent else None, [])]
    siblings = {question.id: [*questions, question.id], assistant.id: [assistant.id]}
    return TurnCreated(conversation, question, assistant, position, admission.admitted, siblings)


def turn_send_first(*, user: User, content: str, deepthink: bool) -> TurnCreated:
    """Starts a conversation with its first message and queues the answer, all or nothing.

    The limits are checked before the write transaction begins (a refused message never waits for,
    or holds, the database's write lock), and the conversation is written only once the message
    passed them, so a refused first message leaves no empty conversation behind.
    """
    content = _validate_content(content)
    question = _unsaved_question(content=content, parent=None)
    with _admitted_answer(user=user, branch=[question], deepthink=deepthink) as admission, transaction.atomic():
        conversation = conversation_create(user=user, title=_provisional_title(content))  # announced after commit
        question.conversation = conversation
        question.created_at = conversation.created_at
        assistant, position = _queue_answer(
            conversation=conversation, question=question, branch=[question], admission=admission, new_question=True
        )
        _announce_queued(conversation, assistant, title_changed=False)
    siblings = {question.id: [question.id], assistant.id: [assistant.id]}
    return TurnCreated(conversation, question, assistant, position, admission.admitted, siblings)


@transaction.atomic
def turn_regenerate(*, user: User, message_id: Id, deepthink: bool | None = None) -> TurnCreated:
    """A new answer to the same question, as a sibling of `message_id`."""
    original = (
        Message.objects.select_related("conversation", "parent").filter(id=message_id, conversation__user=user).first()
    )
    if original is None:
        raise NotFound("Message not found.")
    if original.role != Message.Role.ASSISTANT or original.parent is None:
        raise ValidationFailed("Only an answer can be regenerated.", code="not_an_answer")
    conversation = Conversation.objects.select_for_update().filter(id=original.conversation_id).first()
    if conversation is None:  # deleted since the message was looked up
        raise NotFound("Message not found.")
    tree = _tree_without_running_turn(conversation)
    question = tree.by_id.get(original.parent.id)
    if question is None or original.id not in tree.by_id:
        raise NotFound("Message not found.")
    branch = tree.branch_to(question)
    with _admitted_answer(
        user=user, branch=branch, deepthink=original.deepthink if deepthink is None else deepthink
    ) as admission:
        assistant, position = _queue_answer(
            conversation=conversation, question=question, branch=branch, admission=admission
        )
    _announce_queued(conversation, assistant, title_changed=False)
    answers = [message.id for message in tree.children.get(question.id, [])]
    return TurnCreated(
        conversation, None, assistant, position, admission.admitted, {assistant.id: [*answers, assistant.id]}
    )


def _unsaved_question(*, content: str, parent: Message | None) -> Message:
    """The user's message, built but not yet written: it is saved once its answer is admitted."""
    return Message(parent=parent, role=Message.Role.USER, content=content, created_at=timezone.now())


@dataclass
class _Admission:
    """An admitted answer not yet written: its id, the model it runs on, and the limits it passed."""

    turn_id: uuid.UUID
    admitted: Admitted
    deepthink: bool  # False when the DeepThink allowance was spent and the chat model answers

    @property
    def spec(self) -> ModelSpec:
        return self.admitted.spec


@contextmanager
def _admitted_answer(*, user: User, branch: list[Message], deepthink: bool) -> Iterator[_Admission]:
    """Admits an answer to the last message of `branch` against the user's limits and the model's queue
    (raising 400, 429 or 503 before anything is written), then runs the block that writes and queues it.
    If that block fails, everything the admission took is given back."""
    spec = model_for_turn(deepthink=deepthink)
    turn_id = uuid.uuid4()
    admitted = turn_admit(
        limits=limits_for_user(user=user),
        turn_id=turn_id,
        spec=spec,
        messages=_prompt_messages(branch),
        allow_fallback=deepthink,
    )
    try:
        yield _Admission(turn_id=turn_id, admitted=admitted, deepthink=deepthink and admitted.fallback is None)
    except BaseException:
        turn_release(turn_id=turn_id)
        raise


def _queue_answer(
    *,
    conversation: Conversation,
    question: Message,
    branch: list[Message],
    admission: _Admission,
    title: str | None = None,
    new_question: bool = False,
) -> tuple[Message, int]:
    """Saves the admitted answer to `question` (the last of `branch`) queued, as the conversation's current
    message (with `title`, when given), and queues its generation. A `new_question` is saved with it."""
    assistant = _new_assistant(
        conversation=conversation,
        parent=question,
        spec=admission.spec,
        deepthink=admission.deepthink,
        turn_id=admission.turn_id,
    )
    update_fields = ["current_message", "updated_at"]
    if title is not None:
        conversation.title = title
        update_fields.append("title")
    conversation.current_message = assistant
    conversation.updated_at = assistant.created_at
    # The answer's Turn, the new messages and the conversation's current message: one statement (as three
    # ORM statements they were a sixth of a send's CPU).
    assert assistant.turn is not None
    execute_together(
        [
            insert_rows([assistant.turn]),
            insert_rows([question, assistant] if new_question else [assistant]),
            update_row(conversation, update_fields),
        ]
    )
    position = _enqueue(
        conversation=conversation, assistant=assistant, spec=admission.spec, branch=branch, admitted=admission.admitted
    )
    return assistant, position


def _announce_queued(conversation: Conversation, assistant: Message, *, title_changed: bool) -> None:
    events.user_event_publish(
        user_id=conversation.user_id,
        event_type=events.TURN_QUEUED,
        payload={"conversation_id": str(conversation.id), "turn_id": str(assistant.id)},
    )
    if title_changed:
        events.user_event_publish(
            user_id=conversation.user_id,
            event_type=events.CONVERSATION_UPDATED,
            payload={"conversation_id": str(conversation.id), "title": conversation.title},
        )
