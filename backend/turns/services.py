"""Writes for chat turns: send, regenerate, cancel, and settling a turn from its stream exactly once."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from accounts.models import User
from chat.models import Conversation, Message
from chat.selectors import message_branch
from common import events
from common.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from config.celery import app as celery_app
from inference import protocol

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


def _validate_content(content: str) -> str:
    if not isinstance(content, str) or not content.strip():
        raise ValidationFailed(fields={"content": ["A message cannot be empty."]})
    if len(content) > settings.WHALE_MAX_MESSAGE_CHARS:
        raise ValidationFailed(
            fields={"content": [f"A message can have at most {settings.WHALE_MAX_MESSAGE_CHARS} characters."]}
        )
    return content


def _ensure_no_turn_running(conversation: Conversation) -> None:
    if Message.objects.filter(conversation=conversation, status__in=ACTIVE_STATUSES).exists():
        raise Conflict("An answer is still being generated in this conversation.", code="turn_in_progress")


def _prompt_messages(branch: list[Message]) -> list[protocol.ChatMessage]:
    """The branch as the model sees it: content only (earlier reasoning is never sent back)."""
    messages: list[protocol.ChatMessage] = []
    for message in branch:
        if message.role == Message.Role.USER:
            messages.append({"role": "user", "content": message.content})
        elif message.content and message.status in (Message.Status.DONE, Message.Status.CANCELLED):
            messages.append({"role": "assistant", "content": message.content})
    return messages


def _enqueue(*, conversation: Conversation, assistant: Message, spec: ModelSpec, branch: list[Message]) -> int:
    """Publishes the `queued` event and the task. Runs last inside the send transaction, so a
    Redis or broker failure rolls the whole turn back and the client gets a clean 503."""
    keys = streams.keys_for(assistant.id)
    task = protocol.TurnTask(
        turn_id=str(assistant.id),
        conversation_id=str(conversation.id),
        user_id=str(conversation.user_id),
        model=spec.name,
        reasoning=spec.reasoning,
        messages=_prompt_messages(branch),
        keys=keys,
        deadline=time.time() + settings.WHALE_TURN_DEADLINE_SECONDS,
        sampling=protocol.SamplingSettings(max_tokens=settings.WHALE_MAX_TOKENS),
        finalize_queue=settings.WHALE_BACKEND_QUEUE,
    )
    try:
        position = streams.queue_length(spec.queue)
        client = streams.get_redis()
        client.xadd(keys.events, protocol.encode_event(protocol.EVENT_QUEUED, {"position": position}))  # type: ignore[arg-type]
        client.expire(keys.events, settings.WHALE_TURN_DEADLINE_SECONDS + protocol.STREAM_TTL_SECONDS)
        celery_app.send_task(protocol.TASK_GENERATE_TURN, args=[task.to_payload()], queue=spec.queue, retry=False)
    except (RedisError, KombuError, OSError) as exc:
        logger.warning("could not queue turn %s: %s", assistant.id, exc)
        raise ServiceUnavailable(
            "The chat service cannot take new messages right now. Your message was not sent; try again shortly.",
            code="queue_unavailable",
        ) from exc
    return position


def _create_assistant(*, conversation: Conversation, parent: Message, spec: ModelSpec, deepthink: bool) -> Message:
    now = timezone.now()
    return Message.objects.create(
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
    that assistant message (None: a new first question), which makes an edit branch.
    """
    content = _validate_content(content)
    conversation = Conversation.objects.select_for_update().filter(id=conversation_id, user=user).first()
    if conversation is None:
        raise NotFound("Conversation not found.")
    _ensure_no_turn_running(conversation)
    if parent_id is UNSET:
        parent = conversation.current_message
    elif parent_id is None:
        parent = None
    else:
        parent = Message.objects.filter(id=parent_id, conversation=conversation).first()
        if parent is None:
            raise ValidationFailed(fields={"parent_id": ["No such message in this conversation."]})
    if parent is not None and parent.role != Message.Role.ASSISTANT:
        raise ValidationFailed(fields={"parent_id": ["A question must follow an answer (an assistant message)."]})

    spec = model_for_turn(deepthink=deepthink)
    now = timezone.now()
    user_message = Message.objects.create(
        conversation=conversation, parent=parent, role=Message.Role.USER, content=content, created_at=now
    )
    assistant = _create_assistant(conversation=conversation, parent=user_message, spec=spec, deepthink=deepthink)
    is_new_title = not conversation.title
    if is_new_title:
        conversation.title = _provisional_title(content)
    conversation.current_message = assistant
    conversation.updated_at = now
    conversation.save(update_fields=["title", "current_message", "updated_at"])

    branch = message_branch(conversation=conversation, leaf=user_message)
    position = _enqueue(conversation=conversation, assistant=assistant, spec=spec, branch=branch)
    _announce_queued(conversation, assistant, title_changed=is_new_title)
    return TurnCreated(conversation, user_message, assistant, position)


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
    conversation = Conversation.objects.select_for_update().get(id=original.conversation_id)
    _ensure_no_turn_running(conversation)
    use_deepthink = original.deepthink if deepthink is None else deepthink
    spec = model_for_turn(deepthink=use_deepthink)
    assistant = _create_assistant(conversation=conversation, parent=original.parent, spec=spec, deepthink=use_deepthink)
    conversation.current_message = assistant
    conversation.updated_at = assistant.created_at
    conversation.save(update_fields=["current_message", "updated_at"])
    branch = message_branch(conversation=conversation, leaf=original.parent)
    position = _enqueue(conversation=conversation, assistant=assistant, spec=spec, branch=branch)
    _announce_queued(conversation, assistant, title_changed=False)
    return TurnCreated(conversation, None, assistant, position)


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
        turn = Message.objects.select_related("conversation").get(id=turn_id)
        events.user_event_publish(
            user_id=turn.conversation.user_id,
            event_type=events.TURN_STARTED,
            payload={"conversation_id": str(turn.conversation_id), "turn_id": str(turn.id)},
        )
    return bool(updated)


def _parse_time(value: Id) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def turn_finalize(*, turn_id: Id) -> bool:
    """Saves a finished turn from its stream. Exactly once: only the first call that finds the
    turn unsettled writes it, however often the task is delivered."""
    outcome = streams.turn_outcome(turn_id)
    if outcome is None or not outcome.finished:
        return False
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
        usage = data.get("usage") or {}
        timings = data.get("timings") or {}
        fields.update(
            status=Message.Status.CANCELLED if data.get("status") == "cancelled" else Message.Status.DONE,
            finish_reason=str(data.get("finish_reason") or "")[:32],
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            reasoning_tokens=int(usage.get("reasoning_tokens") or 0),
        )
        if timings.get("first_token_at"):
            fields["first_token_at"] = _parse_time(timings["first_token_at"])
    if outcome.started and outcome.started.get("started_at"):
        fields["started_at"] = _parse_time(outcome.started["started_at"])
    with transaction.atomic():
        updated = Message.objects.filter(id=turn_id, status__in=ACTIVE_STATUSES).update(**fields)
        if not updated:
            return False
        turn = Message.objects.select_related("conversation").get(id=turn_id)
        Conversation.objects.filter(id=turn.conversation_id).update(updated_at=timezone.now())
        events.user_event_publish(
            user_id=turn.conversation.user_id,
            event_type=events.TURN_FINISHED,
            payload={"conversation_id": str(turn.conversation_id), "turn_id": str(turn.id), "status": turn.status},
        )
        if turn.status == Message.Status.DONE:
            transaction.on_commit(lambda: _maybe_queue_title(turn))
    return True


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


def _has_started(turn: Message, outcome: streams.TurnOutcome | None) -> bool:
    return turn.status == Message.Status.STREAMING or (outcome is not None and outcome.started is not None)


def turns_reap(*, now: datetime | None = None) -> int:
    """Settles turns whose worker is gone or whose deadline passed; returns how many it ended.

    A running turn's worker renews its lease every few seconds, so a streaming turn without a
    lease has lost its worker (killed, crashed, out of memory). A queued turn past its deadline
    never found a worker in time.
    """
    now = now or timezone.now()
    deadline_cutoff = now - timedelta(seconds=settings.WHALE_TURN_DEADLINE_SECONDS)
    grace_cutoff = now - timedelta(seconds=protocol.LEASE_TTL_SECONDS)
    settled = 0
    for turn in Message.objects.filter(status__in=ACTIVE_STATUSES).only("id", "status", "queued_at", "started_at"):
        outcome = streams.turn_outcome(turn.id)
        if outcome is not None and outcome.finished:
            settled += int(turn_finalize(turn_id=turn.id))
            continue
        reason: tuple[str, str] | None = None
        if turn.queued_at and turn.queued_at < deadline_cutoff:
            reason = ("deadline_exceeded", "The answer took too long and was stopped. Try again.")
        elif _has_started(turn, outcome) and (turn.started_at or turn.queued_at or now) < grace_cutoff:
            if streams.lease_holder(turn.id) is None:
                reason = ("worker_lost", "The server generating this answer stopped. Try again.")
        elif outcome is None and turn.queued_at and turn.queued_at < grace_cutoff:
            # The stream vanished (Redis restarted without persistence): nothing will ever finish it.
            reason = ("stream_lost", "This answer was lost by the server. Try again.")
        if reason is None:
            continue
        streams.request_cancel(turn.id)
        if streams.end_turn_if_unowned(turn.id, protocol.EVENT_ERROR, {"code": reason[0], "message": reason[1]}):
            settled += int(turn_finalize(turn_id=turn.id))
    return settled
