"""Writes for chat turns: send, regenerate, cancel, and settling a turn from its stream exactly once."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from accounts.models import User
from chat.models import Conversation, Message
from chat.selectors import MessageTree, message_tree
from common import events, metrics
from common.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from config.celery import app as celery_app
from inference import logs, protocol
from ratelimits import admission
from ratelimits.selectors import limits_for_user
from ratelimits.services import (
    Admitted,
    UsageSubject,
    message_too_long,
    turn_admit,
    turn_release,
    turn_reservation,
    turn_settle,
    turn_settle_unrecorded,
    turn_usage_record,
)
from ratelimits.store import Reservation

from . import streams
from .registry import ModelSpec, model_for_turn

logger = logging.getLogger(__name__)

Id = uuid.UUID | str
UNSET: Any = object()
ACTIVE_STATUSES = (Message.Status.QUEUED, Message.Status.STREAMING)


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
    tree = message_tree(conversation=conversation)
    running = [message.id for message in tree.by_id.values() if message.status in ACTIVE_STATUSES]
    if not running:
        return tree
    for turn_id in running:
        # Its stream may have ended a moment before the backend worker saved it (a quick "regenerate"
        # right after the answer): save it now rather than refuse the new turn.
        turn_finalize(turn_id=turn_id)
    tree = message_tree(conversation=conversation)
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
    return turn_enqueue(
        turn_id=assistant.id,
        conversation_id=conversation.id,
        user_id=conversation.user_id,
        spec=spec,
        messages=_prompt_messages(branch),
        admitted=admitted,
    )


def turn_enqueue(
    *,
    turn_id: Id,
    conversation_id: Id | None,
    user_id: Id,
    spec: ModelSpec,
    messages: list[protocol.ChatMessage],
    admitted: Admitted,
    sampling: protocol.SamplingSettings | None = None,
    task_fields: Mapping[str, Any] | None = None,
) -> int:
    """Publishes the `queued` event and the task (at the tier's priority); returns the queue position.
    The app runs it last inside the send transaction, so a Redis or broker failure rolls the whole
    turn back and the client gets a clean 503. The partner API queues its completions here too."""
    keys = streams.keys_for(turn_id)
    sampling = sampling or protocol.SamplingSettings()
    sampling.max_tokens = admitted.max_tokens
    task = protocol.TurnTask(
        turn_id=str(turn_id),
        conversation_id=str(conversation_id or ""),
        user_id=str(user_id),
        model=spec.name,
        reasoning=spec.reasoning,
        messages=messages,
        keys=keys,
        deadline=time.time() + settings.WHALE_TURN_DEADLINE_SECONDS,
        sampling=sampling,
        finalize_queue=settings.WHALE_BACKEND_QUEUE,
        origin_request_id=logs.request_id_var.get(),
        **(task_fields or {}),  # the partner API's tools, raw prompt, ...: TurnTask fields
    )
    try:
        # Counted at admission, a moment ago; the beat task corrects it while the turn waits.
        position = admitted.position
        queued: dict[str, Any] = {"position": position}
        if admitted.fallback:
            queued["fallback"] = admitted.fallback
        pipe = streams.get_redis().pipeline(transaction=False)
        pipe.xadd(keys.events, protocol.encode_event(protocol.EVENT_QUEUED, queued))  # type: ignore[arg-type]
        pipe.expire(keys.events, settings.WHALE_TURN_DEADLINE_SECONDS + protocol.STREAM_TTL_SECONDS)
        pipe.set(admission.position_key(turn_id), position, ex=settings.WHALE_TURN_DEADLINE_SECONDS)
        pipe.execute()
        with logs.log_context(turn_id=task.turn_id):
            celery_app.send_task(
                protocol.TASK_GENERATE_TURN,
                args=[task.to_payload()],
                task_id=task.turn_id,  # admission finds a waiting turn's place in the queue by it
                queue=spec.queue,
                priority=admitted.priority,
                retry=False,
                headers=logs.current_headers(),  # the ids, for the worker's log lines (inference/logs.py)
            )
            logger.info("turn queued", extra={"model": spec.name, "queue": spec.queue, "position": position})
    except (RedisError, KombuError, OSError) as exc:
        logger.warning("could not queue turn %s: %s", turn_id, exc)
        raise ServiceUnavailable(
            "The chat service cannot take new messages right now. Your message was not sent; try again shortly.",
            code="queue_unavailable",
        ) from exc
    return position


def _create_assistant(
    *, conversation: Conversation, parent: Message, spec: ModelSpec, deepthink: bool, turn_id: uuid.UUID
) -> Message:
    now = timezone.now()
    return Message.objects.create(
        id=turn_id,
        conversation=conversation,
        parent=parent,
        role=Message.Role.ASSISTANT,
        model=spec.name,
        deepthink=deepthink,
        status=Message.Status.QUEUED,
        queued_at=now,
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
        question.save(force_insert=True)
        assistant, position = _queue_answer(
            conversation=conversation, question=question, branch=branch, admission=admission, title=title
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
    from chat.services import conversation_create

    content = _validate_content(content)
    question = _unsaved_question(content=content, parent=None)
    with _admitted_answer(user=user, branch=[question], deepthink=deepthink) as admission, transaction.atomic():
        conversation = conversation_create(user=user, title=_provisional_title(content))  # announced after commit
        question.conversation = conversation
        question.created_at = conversation.created_at
        question.save(force_insert=True)
        assistant, position = _queue_answer(
            conversation=conversation, question=question, branch=[question], admission=admission
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
) -> tuple[Message, int]:
    """Saves the admitted answer to `question` (the last of `branch`) queued, as the conversation's current
    message (with `title`, when given), and queues its generation."""
    assistant = _create_assistant(
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
    conversation.save(update_fields=update_fields)
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


def turn_get(*, user: User, turn_id: Id) -> Message:
    turn = (
        Message.objects.select_related("conversation")
        .filter(id=turn_id, conversation__user=user, role=Message.Role.ASSISTANT)
        .first()
    )
    if turn is None:
        raise NotFound("Turn not found.")
    return turn


def turn_cancel(*, user: User, turn_id: Id) -> Message:
    """Asks the worker to stop; a turn no worker has picked up yet is ended here and now."""
    turn = turn_get(user=user, turn_id=turn_id)
    if turn.is_terminal:
        return turn
    try:
        streams.request_cancel(turn.id)
        ended_here = streams.end_turn_if_unowned(
            turn.id,
            protocol.EVENT_DONE,
            {
                "status": "cancelled",
                "finish_reason": "cancelled",
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "reasoning_tokens": 0},
                "timings": {"queued_at": streams.iso(turn.queued_at), "finished_at": timezone.now().isoformat()},
            },
        )
    except RedisError as exc:
        raise ServiceUnavailable("Could not reach the chat service to stop this answer.") from exc
    if ended_here:
        turn_finalize(turn_id=turn.id)
    turn.refresh_from_db()
    return turn


def turn_mark_started(*, turn_id: Id, started_at: str | None) -> bool:
    started = parse_datetime(started_at) if started_at else None
    updated = Message.objects.filter(id=turn_id, status=Message.Status.QUEUED).update(
        status=Message.Status.STREAMING, started_at=started or timezone.now()
    )
    if updated:
        conversation_id, user_id = Message.objects.filter(id=turn_id).values_list(
            "conversation_id", "conversation__user_id"
        )[0]
        events.user_event_publish(
            user_id=user_id,
            event_type=events.TURN_STARTED,
            payload={"conversation_id": str(conversation_id), "turn_id": str(turn_id)},
        )
    return bool(updated)


def turn_row_exists(*, turn_id: Id) -> bool:
    """Whether the app's answer or a partner's completion with this id is visible to this transaction."""
    from partners.models import Completion

    return Message.objects.filter(id=turn_id).exists() or Completion.objects.filter(id=turn_id).exists()


def _parse_time(value: Id) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def _message_fields(outcome: streams.TurnOutcome) -> dict[str, Any]:
    """The answer's row as its stream says it ended."""
    data = outcome.terminal
    fields: dict[str, Any] = {
        "content": outcome.content,
        "reasoning_content": outcome.reasoning,
        "finished_at": _parse_time(data.get("timings", {}).get("finished_at")) or timezone.now(),
    }
    if outcome.terminal_type == protocol.EVENT_ERROR:
        fields.update(
            status=Message.Status.FAILED,
            error_code=str(data.get("code", "turn_failed"))[:64],
            error=str(data.get("message", "The answer could not be generated.")),
            finish_reason="error",
        )
    else:
        timings = data.get("timings") or {}
        fields.update(
            status=Message.Status.CANCELLED if data.get("status") == "cancelled" else Message.Status.DONE,
            finish_reason=str(data.get("finish_reason") or "")[:32],
            **streams.usage_counts(data),
        )
        if timings.get("first_token_at"):
            fields["first_token_at"] = _parse_time(timings["first_token_at"])
    if outcome.started and outcome.started.get("started_at"):
        fields["started_at"] = _parse_time(outcome.started["started_at"])
    return fields


@dataclass(frozen=True)
class TurnUsage:
    """What a finished turn used, as every settlement records it (0 tokens for an error)."""

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    failed: bool
    cached_tokens: int = 0  # of the prompt, served from the engine's prefix cache (its own count)

    @classmethod
    def of(cls, outcome: streams.TurnOutcome) -> TurnUsage:
        cached = int((outcome.terminal.get("usage") or {}).get("cached_tokens") or 0)
        return cls(
            **streams.usage_counts(outcome.terminal),
            failed=outcome.terminal_type == protocol.EVENT_ERROR,
            cached_tokens=max(cached, 0),
        )

    @property
    def counts(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "failed": self.failed,
            "cached_tokens": self.cached_tokens,
        }


def turn_finalize(*, turn_id: Id) -> bool:
    """Saves a finished turn from its stream and settles its limits; True when this call saved it.

    In this order, each step safe to repeat, so a retry after a failure at any step (Postgres or
    Redis gone for a moment) reaches the same end state:
      1. read the stream and the turn's reservation (Redis, read only);
      2. in ONE transaction: the row's conditional update (only while the turn is unsettled) and,
         only when that update happened, the day's usage;
      3. release the reservation in Redis (the slot, and the reserved tokens replaced by the used).
    Raises DatabaseError or RedisError when a step fails; the finalize task retries.
    """
    outcome = streams.turn_outcome(turn_id)
    if outcome is None or not outcome.finished:
        return False
    usage = TurnUsage.of(outcome)
    reservation = turn_reservation(turn_id=turn_id)
    saved = _message_settle(turn_id, outcome, usage, reservation)
    if saved is None:
        from partners.services import completion_finalize  # a partner's turn has no Message

        # Its own transaction: one settlement never holds locks on both tables.
        saved = completion_finalize(turn_id=turn_id, outcome=outcome, reservation=reservation)
    if saved is None:
        # No row at all: its conversation or account was deleted while it ran.
        turn_settle_unrecorded(turn_id=turn_id, **usage.counts)
        return False
    turn_settle(turn_id=turn_id, used_tokens=usage.prompt_tokens + usage.completion_tokens, failed=usage.failed)
    return saved


def _message_settle(
    turn_id: Id, outcome: streams.TurnOutcome, usage: TurnUsage, reservation: Reservation | None
) -> bool | None:
    """Step 2 for an app turn: True when saved now, False when it was already, None when no such message."""
    with transaction.atomic():
        if not Message.objects.filter(id=turn_id, status__in=ACTIVE_STATUSES).update(**_message_fields(outcome)):
            return False if Message.objects.filter(id=turn_id).exists() else None
        turn = Message.objects.select_related("conversation", "parent").get(id=turn_id)
        turn_usage_record(subject=_usage_subject(turn, reservation), **usage.counts)
        _turn_settled(turn)
        return True


def _usage_subject(turn: Message, reservation: Reservation | None) -> UsageSubject:
    """The reservation says whose and which day; once it is gone (lapsed, or lost with Redis) the row does."""
    if reservation is not None:
        return UsageSubject.of(reservation)
    admitted_at = turn.queued_at or turn.created_at
    return UsageSubject(
        user_id=str(turn.conversation.user_id),
        api_key_id=None,
        date=admitted_at.astimezone(UTC).date(),
        reasoning=turn.deepthink,
    )


def _turn_settled(turn: Message) -> None:
    """After a turn's row is settled, inside that transaction: touch its conversation, record, announce."""
    Conversation.objects.filter(id=turn.conversation_id).update(updated_at=timezone.now())
    _turn_settled_record(turn)
    events.user_event_publish(
        user_id=turn.conversation.user_id,
        event_type=events.TURN_FINISHED,
        payload={"conversation_id": str(turn.conversation_id), "turn_id": str(turn.id), "status": turn.status},
    )
    if turn.status == Message.Status.DONE:
        transaction.on_commit(lambda: _maybe_queue_title(turn))


def _turn_settled_record(turn: Message) -> None:
    """The settled turn in the metrics and the logs."""
    metrics.turn_settled(
        model=turn.model,
        status=turn.status,
        queued_at=turn.queued_at,
        first_token_at=turn.first_token_at,
        finished_at=turn.finished_at,
        completion_tokens=turn.completion_tokens,
    )
    with logs.log_context(turn_id=str(turn.id)):
        logger.info(
            "turn settled",
            extra={
                "model": turn.model,
                "status": turn.status,
                "error_code": turn.error_code,
                "prompt_tokens": turn.prompt_tokens,
                "completion_tokens": turn.completion_tokens,
            },
        )


def _maybe_queue_title(turn: Message) -> None:
    """After the first answer of a conversation, ask the model for a short title."""
    if not settings.WHALE_AUTO_TITLE:
        return
    conversation = turn.conversation
    assistant_count = Message.objects.filter(conversation=conversation, role=Message.Role.ASSISTANT).count()
    if assistant_count != 1 or turn.parent is None:
        return
    from .registry import model_get

    spec = model_get(settings.WHALE_TITLE_MODEL)
    task = protocol.TitleTask(
        conversation_id=str(conversation.id),
        user_id=str(conversation.user_id),
        model=spec.name,
        messages=[
            {"role": "user", "content": turn.parent.content[:2000]},
            {"role": "assistant", "content": turn.content[:2000]},
        ],
        save_queue=settings.WHALE_BACKEND_QUEUE,
    )
    try:
        celery_app.send_task(protocol.TASK_GENERATE_TITLE, args=[task.to_payload()], queue=spec.queue, retry=False)
    except (RedisError, KombuError, OSError):
        logger.warning("could not queue a title for conversation %s", conversation.id, exc_info=True)


def conversation_title_save(*, conversation_id: Id, user_id: Id, title: str) -> bool:
    title = " ".join(title.split())[:200]
    if not title:
        return False
    updated = Conversation.objects.filter(id=conversation_id, user_id=user_id).update(title=title)
    if updated:
        events.user_event_publish(
            user_id=user_id,
            event_type=events.CONVERSATION_UPDATED,
            payload={"conversation_id": str(conversation_id), "title": title},
        )
    return bool(updated)


def turns_abandon(*, turn_ids: list[Id]) -> None:
    """Asks the workers to stop answers nobody can see any more (their conversation or account is gone).

    A worker that has not started such a turn ends it at once; one generating it aborts at its next
    flush. Their finalize finds no message to save and only gives the slot and tokens back.
    """
    for turn_id in turn_ids:
        try:
            streams.request_cancel(turn_id)
        except RedisError:  # the turn runs to its end; nothing is saved for it
            logger.warning("could not stop abandoned turn %s", turn_id)


def active_turn_ids(**filters: Any) -> list[Id]:
    return list(
        Message.objects.filter(role=Message.Role.ASSISTANT, status__in=ACTIVE_STATUSES, **filters).values_list(
            "id", flat=True
        )
    )


REAP_BATCH = 500


def _reap_one(
    turn: Message, glance: streams.StreamGlance, *, now: datetime, deadline_cutoff: datetime, grace_cutoff: datetime
) -> bool:
    if glance.finished:
        return turn_finalize(turn_id=turn.id)
    reason: tuple[str, str] | None = None
    started = turn.status == Message.Status.STREAMING or glance.started
    if turn.queued_at and turn.queued_at < deadline_cutoff:
        reason = ("deadline_exceeded", "The answer took too long and was stopped. Try again.")
    elif started and (turn.started_at or turn.queued_at or now) < grace_cutoff:
        if glance.lease is None:
            reason = ("worker_lost", "The server generating this answer stopped. Try again.")
    elif not glance.exists and turn.queued_at and turn.queued_at < grace_cutoff:
        # The stream vanished (Redis restarted without persistence): nothing will ever finish it.
        reason = ("stream_lost", "This answer was lost by the server. Try again.")
    if reason is None:
        return False
    streams.request_cancel(turn.id)
    if streams.end_turn_if_unowned(turn.id, protocol.EVENT_ERROR, {"code": reason[0], "message": reason[1]}):
        return turn_finalize(turn_id=turn.id)
    return False


def turns_reap(*, now: datetime | None = None) -> int:
    """Settles turns whose worker is gone or whose deadline passed; returns how many it ended.

    A running turn's worker renews its lease every few seconds, so a streaming turn without a
    lease has lost its worker (killed, crashed, out of memory). A queued turn past its deadline
    never found a worker in time. Each pass reads only the last event and the lease of each
    active turn (one round trip per batch), and a whole stream only for turns that ended.
    """
    now = now or timezone.now()
    deadline_cutoff = now - timedelta(seconds=settings.WHALE_TURN_DEADLINE_SECONDS)
    grace_cutoff = now - timedelta(seconds=protocol.LEASE_TTL_SECONDS)
    settled = 0
    active = list(Message.objects.filter(status__in=ACTIVE_STATUSES).only("id", "status", "queued_at", "started_at"))
    for start in range(0, len(active), REAP_BATCH):
        batch = active[start : start + REAP_BATCH]
        for turn, glance in zip(batch, streams.glance_many([turn.id for turn in batch]), strict=True):
            try:
                settled += int(
                    _reap_one(turn, glance, now=now, deadline_cutoff=deadline_cutoff, grace_cutoff=grace_cutoff)
                )
            except (DatabaseError, RedisError):  # the next pass tries again; the other turns go on
                logger.warning("could not reap turn %s", turn.id, exc_info=True)
    return settled
