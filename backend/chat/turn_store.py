"""The app's turns as turns/services settle, cancel and reap them: an assistant Message and its Turn.

Registered in chat.apps; settling one also touches its conversation, announces it and, after the first
answer of a conversation, asks the model for a title.
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from kombu.exceptions import KombuError
from redis.exceptions import RedisError
from turns import streams
from turns.models import Turn
from turns.stores import ActiveTurn, Id, SettledTurn

from common import events
from common.db import quoted_column, writes_in_one_statement
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
        row = _started_row(turn_id, started_at)
        if row is None:
            return False
        conversation_id, user_id = row
        if conversation_id is None:  # a turn left behind by its deleted answer: not one of this store's
            return False
        events.user_event_publish(
            user_id=user_id,
            event_type=events.TURN_STARTED,
            payload={"conversation_id": str(conversation_id), "turn_id": str(turn_id)},
        )
        return True

    def settle(self, turn_id: Id, outcome: streams.TurnOutcome) -> SettledTurn | bool | None:
        row = _settled_row(turn_id, outcome)
        if row is None:  # settled already, or not an answer's turn
            return False if Message.objects.filter(id=turn_id).exists() else None
        settled = dict(zip(_SETTLED_COLUMNS, row, strict=True))
        if settled["conversation_id"] is None:
            return None  # a turn left behind by its deleted answer: nothing to save it on
        _answer_settled(
            answer_id=settled["id"],
            conversation_id=settled["conversation_id"],
            question_id=settled["parent_id"],
            status=settled["status"],
            content=outcome.content,
            user_id=settled["user_id"],
        )
        admitted_at: datetime = settled["queued_at"] or settled["created_at"]
        return SettledTurn(
            id=settled["id"],
            model=settled["model"],
            status=settled["status"],
            error_code=settled["error_code"],
            queued_at=settled["queued_at"],
            first_token_at=settled["first_token_at"],
            finished_at=settled["finished_at"],
            prompt_tokens=settled["prompt_tokens"],
            completion_tokens=settled["completion_tokens"],
            user_id=str(settled["user_id"]),
            api_key_id=None,
            admitted_on=admitted_at.astimezone(UTC).date(),
            reasoning=settled["deepthink"],
        )


# What a settle reads back: the Turn's columns, then its answer's (null when the answer is gone).
_SETTLED_TURN_COLUMNS = (
    "id",
    "model",
    "status",
    "error_code",
    "queued_at",
    "first_token_at",
    "finished_at",
    "prompt_tokens",
    "completion_tokens",
    "user_id",
)
_SETTLED_ANSWER_COLUMNS = ("conversation_id", "parent_id", "deepthink", "created_at")
_SETTLED_COLUMNS = (*_SETTLED_TURN_COLUMNS, *_SETTLED_ANSWER_COLUMNS)


def _started_row(turn_id: Id, started_at: datetime) -> tuple[Any, Any] | None:
    """Marks a queued answer's turn streaming; its answer's conversation (None when the answer is gone) and its
    user, or None when it was not queued."""
    if writes_in_one_statement():
        with connection.cursor() as cursor:
            cursor.execute(
                _started_sql(),
                [Turn.Status.STREAMING, started_at, str(turn_id), Turn.Source.APP, Turn.Status.QUEUED],
            )
            return cursor.fetchone()
    turns = Turn.objects.filter(id=turn_id, source=Turn.Source.APP)
    if not turns.filter(status=Turn.Status.QUEUED).update(status=Turn.Status.STREAMING, started_at=started_at):
        return None
    conversation_id = Message.objects.filter(id=turn_id).values_list("conversation_id", flat=True).first()
    return conversation_id, turns.values_list("user_id", flat=True).first()


def _settled_row(turn_id: Id, outcome: streams.TurnOutcome) -> tuple[Any, ...] | None:
    """Settles an unsettled answer's turn, saves its text and touches its conversation: the _SETTLED_COLUMNS
    (the answer's null when it is gone), or None when the turn was settled already or is not an answer's."""
    fields = _message_fields(outcome)
    now = timezone.now()
    if writes_in_one_statement():
        names = tuple(sorted(fields))
        values = [
            *(_turn_field(name).get_db_prep_save(fields[name], connection) for name in names),
            str(turn_id),
            Turn.Source.APP,
            *ACTIVE_STATUSES,
            outcome.content,
            outcome.reasoning,
            now,
        ]
        with connection.cursor() as cursor:
            cursor.execute(_settle_sql(names), values)
            return cursor.fetchone()
    turns = Turn.objects.filter(id=turn_id, source=Turn.Source.APP)
    if not turns.filter(status__in=ACTIVE_STATUSES).update(**fields):
        return None
    answers = Message.objects.filter(id=turn_id)
    answers.update(content=outcome.content, reasoning_content=outcome.reasoning)
    answer = answers.values_list(*_SETTLED_ANSWER_COLUMNS).first()
    if answer is not None:
        Conversation.objects.filter(id=answer[0]).update(updated_at=now)
    turn = turns.values_list(*_SETTLED_TURN_COLUMNS).first()
    assert turn is not None  # updated a moment ago, in this transaction
    return (*turn, *(answer or (None,) * len(_SETTLED_ANSWER_COLUMNS)))


@functools.cache
def _started_sql() -> str:
    """A queued answer's turn marked streaming, and whose it is, in one statement (as two ORM statements it was
    most of a started notice's CPU in the backend worker)."""
    quote = connection.ops.quote_name
    turn_table, message_table = quote(Turn._meta.db_table), quote(Message._meta.db_table)
    turn_id, message_id = quoted_column(Turn, "id"), quoted_column(Message, "id")
    # Only the models' own table and column names go into the text; every value is a parameter.
    return (
        f"WITH started AS (UPDATE {turn_table} SET {quoted_column(Turn, 'status')} = %s, {quoted_column(Turn, 'started_at')} = %s"  # noqa: S608
        f" WHERE {turn_id} = %s AND {quoted_column(Turn, 'source')} = %s AND {quoted_column(Turn, 'status')} = %s"
        f" RETURNING {turn_id}, {quoted_column(Turn, 'user')})"
        f" SELECT answer.{quoted_column(Message, 'conversation')}, started.{quoted_column(Turn, 'user')}"
        f" FROM started LEFT JOIN {message_table} answer ON answer.{message_id} = started.{turn_id}"
    )


def _turn_field(name: str) -> models.Field[Any, Any]:
    field = Turn._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


@functools.cache
def _settle_sql(names: tuple[str, ...]) -> str:
    """One statement for an answer's settle: its Turn's columns `names` (only while the turn is unsettled), its
    text, its conversation's updated_at, and what the settle needs back. Written as SQL: as four ORM statements
    (three updates and a read) it was the larger part of a settle's CPU in the backend worker."""
    quote = connection.ops.quote_name

    turn_table, message_table = quote(Turn._meta.db_table), quote(Message._meta.db_table)
    conversation_table = quote(Conversation._meta.db_table)
    turn_id, message_id = quoted_column(Turn, "id"), quoted_column(Message, "id")
    assigned = ", ".join(f"{quoted_column(Turn, name)} = %s" for name in names)
    turn_columns = ", ".join(quoted_column(Turn, name.removesuffix("_id")) for name in _SETTLED_TURN_COLUMNS)
    answer_columns = ", ".join(quoted_column(Message, name.removesuffix("_id")) for name in _SETTLED_ANSWER_COLUMNS)
    statuses = ", ".join(["%s"] * len(ACTIVE_STATUSES))
    # Only the models' own table and column names go into the text; every value is a parameter.
    return (
        f"WITH settled AS (UPDATE {turn_table} SET {assigned} WHERE {turn_id} = %s AND {quoted_column(Turn, 'source')} = %s"  # noqa: S608
        f" AND {quoted_column(Turn, 'status')} IN ({statuses}) RETURNING {turn_columns}),"
        f" answer AS (UPDATE {message_table} SET {quoted_column(Message, 'content')} = %s,"
        f" {quoted_column(Message, 'reasoning_content')} = %s WHERE {message_id} IN (SELECT {turn_id} FROM settled)"
        f" RETURNING {message_id}, {answer_columns}),"
        f" touched AS (UPDATE {conversation_table} SET {quoted_column(Conversation, 'updated_at')} = %s"
        f" WHERE {quoted_column(Conversation, 'id')} IN (SELECT {quoted_column(Message, 'conversation')} FROM answer))"
        f" SELECT {', '.join(f'settled.{c}' for c in turn_columns.split(', '))},"
        f" {', '.join(f'answer.{c}' for c in answer_columns.split(', '))}"
        f" FROM settled LEFT JOIN answer ON answer.{message_id} = settled.{turn_id}"
    )


def _answer_settled(
    *, answer_id: Id, conversation_id: Id, question_id: Id | None, status: str, content: str, user_id: Id
) -> None:
    """After an answer's row is settled (its conversation touched with it), inside that transaction: announce
    it and, after the first answer of a conversation, ask for a title."""
    events.user_event_publish(
        user_id=user_id,
        event_type=events.TURN_FINISHED,
        payload={"conversation_id": str(conversation_id), "turn_id": str(answer_id), "status": status},
    )
    if status == Message.Status.DONE:
        transaction.on_commit(
            lambda: _maybe_queue_title(
                answer_id=answer_id,
                conversation_id=conversation_id,
                question_id=question_id,
                content=content,
                user_id=user_id,
            )
        )


def _maybe_queue_title(
    *, answer_id: Id, conversation_id: Id, question_id: Id | None, content: str, user_id: Id
) -> None:
    """After the first answer of a conversation, ask the model for a short title."""
    if not settings.WHALE_AUTO_TITLE or question_id is None:
        return
    assistant_count = Message.objects.filter(conversation_id=conversation_id, role=Message.Role.ASSISTANT).count()
    if assistant_count != 1:
        return
    # Read here, for a conversation's first answer only.
    question = Message.objects.filter(id=question_id).values_list("content", flat=True).first()
    if question is None:
        return
    spec = model_get(settings.WHALE_TITLE_MODEL)
    task = protocol.TitleTask(
        conversation_id=str(conversation_id),
        user_id=str(user_id),
        model=spec.name,
        messages=[
            {"role": "user", "content": question[:2000]},
            {"role": "assistant", "content": content[:2000]},
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
        logger.warning("could not queue a title for conversation %s", conversation_id, exc_info=True)
