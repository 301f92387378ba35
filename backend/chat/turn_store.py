"""The app's turns as turns/services settle, cancel and reap them: an assistant Message and its Turn.

Registered in chat.apps; settling one also touches its conversation, announces it and, after the first
answer of a conversation, asks the model for a title.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from kombu.exceptions import KombuError
from redis.exceptions import RedisError
from turns import streams
from turns.models import Turn
from turns.stores import ActiveTurn, Id, SettledTurn

from common import events
from config.celery import app as celery_app
from inference import protocol
from serving.registry import model_get

from .models import Conversation, Message

logger = logging.getLogger(__name__)

ACTIVE_STATUSES = Turn.ACTIVE_STATUSES


def _parse_time(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def _message_fields(outcome: streams.TurnOutcome) -> dict[str, Any]:
    """The answer's turn as its stream says it ended."""
    data = outcome.terminal
    fields: dict[str, Any] = {
        "finished_at": _parse_time(data.get("timings", {}).get("finished_at")) or timezone.now(),
    }
    if outcome.terminal_type == protocol.EVENT_ERROR:
        fields.update(
            status=Turn.Status.FAILED,
            error_code=str(data.get("code", "turn_failed"))[:64],
            error=str(data.get("message", "The answer could not be generated.")),
            finish_reason="error",
        )
    else:
        timings = data.get("timings") or {}
        fields.update(
            status=Turn.Status.CANCELLED if data.get("status") == "cancelled" else Turn.Status.DONE,
            finish_reason=str(data.get("finish_reason") or "")[:32],
            # The prompt tokens the engine served from its prefix cache, by its own count: the turn's hit rate.
            cached_tokens=max(int((data.get("usage") or {}).get("cached_tokens") or 0), 0),
            **streams.usage_counts(data),
        )
        if timings.get("first_token_at"):
            fields["first_token_at"] = _parse_time(timings["first_token_at"])
    if outcome.started and outcome.started.get("started_at"):
        fields["started_at"] = _parse_time(outcome.started["started_at"])
    return fields


class AnswerStore:
    origin = "app"

    def exists(self, turn_id: Id) -> bool:
        return Message.objects.filter(id=turn_id).exists()

    def active(self, *, user_id: Id | None = None) -> list[ActiveTurn]:
        rows = Turn.objects.filter(message__isnull=False, status__in=ACTIVE_STATUSES)
        if user_id is not None:
            rows = rows.filter(message__conversation__user_id=user_id)
        return [
            ActiveTurn(
                id=row.id,
                queued_at=row.queued_at,
                started_at=row.started_at,
                streaming=row.status == Turn.Status.STREAMING,
            )
            for row in rows.only("id", "status", "queued_at", "started_at")
        ]

    def sources_save(self, turn_id: Id, sources: list[dict[str, Any]], notices: list[dict[str, Any]]) -> bool | None:
        if Message.objects.filter(id=turn_id).update(sources=sources, notices=notices):
            return True
        # Not an answer (any more): gone when its Turn says it was the app's, else another store's turn.
        return False if Turn.objects.filter(id=turn_id, source=Turn.Source.APP).exists() else None

    def saved(self, turn_id: Id) -> Message | None:
        answer = Message.objects.select_related("turn").filter(id=turn_id).first()
        return answer if answer is not None and answer.is_terminal else None

    # An answer's Turn has the answer's id and the app's source: the hot paths below write it by id, with no
    # join to chat_message (the stack bench pays each statement's planning in the backend worker).

    def mark_started(self, turn_id: Id, started_at: datetime) -> bool:
        updated = Turn.objects.filter(id=turn_id, source=Turn.Source.APP, status=Turn.Status.QUEUED).update(
            status=Turn.Status.STREAMING, started_at=started_at
        )
        if not updated:
            return False
        answer = Message.objects.filter(id=turn_id).values_list("conversation_id", "conversation__user_id").first()
        if answer is None:  # a turn left behind by its deleted answer: not one of this store's
            return False
        conversation_id, user_id = answer
        events.user_event_publish(
            user_id=user_id,
            event_type=events.TURN_STARTED,
            payload={"conversation_id": str(conversation_id), "turn_id": str(turn_id)},
        )
        return True

    def settle(self, turn_id: Id, outcome: streams.TurnOutcome) -> SettledTurn | bool | None:
        unsettled = Turn.objects.filter(id=turn_id, source=Turn.Source.APP, status__in=ACTIVE_STATUSES)
        if not unsettled.update(**_message_fields(outcome)):
            return False if Message.objects.filter(id=turn_id).exists() else None
        if not Message.objects.filter(id=turn_id).update(content=outcome.content, reasoning_content=outcome.reasoning):
            return None  # a turn left behind by its deleted answer: nothing to save it on
        # With its Turn only: the turn's user is the conversation's, and the question is read for a title only.
        answer = Message.objects.select_related("turn").get(id=turn_id)
        turn = answer.turn
        assert turn is not None  # an answer always has its turn
        _answer_settled(answer, user_id=turn.user_id)
        admitted_at = turn.queued_at or answer.created_at
        return SettledTurn(
            id=turn.id,
            model=turn.model,
            status=turn.status,
            error_code=turn.error_code,
            queued_at=turn.queued_at,
            first_token_at=turn.first_token_at,
            finished_at=turn.finished_at,
            prompt_tokens=turn.prompt_tokens,
            completion_tokens=turn.completion_tokens,
            user_id=str(turn.user_id),
            api_key_id=None,
            admitted_on=admitted_at.astimezone(UTC).date(),
            reasoning=answer.deepthink,
        )


def _answer_settled(answer: Message, *, user_id: Id) -> None:
    """After an answer's row is settled, inside that transaction: touch its conversation, announce, title."""
    Conversation.objects.filter(id=answer.conversation_id).update(updated_at=timezone.now())
    events.user_event_publish(
        user_id=user_id,
        event_type=events.TURN_FINISHED,
        payload={"conversation_id": str(answer.conversation_id), "turn_id": str(answer.id), "status": answer.status},
    )
    if answer.status == Message.Status.DONE:
        transaction.on_commit(lambda: _maybe_queue_title(answer, user_id=user_id))


def _maybe_queue_title(answer: Message, *, user_id: Id) -> None:
    """After the first answer of a conversation, ask the model for a short title."""
    if not settings.WHALE_AUTO_TITLE or answer.parent_id is None:
        return
    assistant_count = Message.objects.filter(
        conversation_id=answer.conversation_id, role=Message.Role.ASSISTANT
    ).count()
    if assistant_count != 1:
        return
    question = answer.parent  # read here, for a conversation's first answer only
    assert question is not None
    spec = model_get(settings.WHALE_TITLE_MODEL)
    task = protocol.TitleTask(
        conversation_id=str(answer.conversation_id),
        user_id=str(user_id),
        model=spec.name,
        messages=[
            {"role": "user", "content": question.content[:2000]},
            {"role": "assistant", "content": answer.content[:2000]},
        ],
        save_queue=settings.WHALE_BACKEND_QUEUE,
    )
    try:
        celery_app.send_task(
            protocol.TASK_GENERATE_TITLE,
            args=[task.to_payload()],
            queue=spec.queue,
            retry=False,
            argsrepr=f"(title {task.conversation_id})",
            kwargsrepr="{}",  # not the question's text in the headers
        )
    except (RedisError, KombuError, OSError):
        logger.warning("could not queue a title for conversation %s", answer.conversation_id, exc_info=True)
