"""turns.tasks: the backend's Celery tasks, run in-process (Celery's eager apply) against real Postgres and Redis."""

from __future__ import annotations

import uuid

import pytest

from chat.models import Conversation, Message
from turns import tasks

from .conftest import make_user

pytestmark = pytest.mark.django_db


def _answer(status: str = Message.Status.QUEUED) -> Message:
    conversation = Conversation.objects.create(user=make_user())
    return Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, status=status, model="whale-r1"
    )


def test_started_marks_a_queued_turn_streaming_at_the_workers_time() -> None:
    turn = _answer()
    result = tasks.turn_started.apply(args=[str(turn.id), "2026-01-02T03:04:05+00:00"])
    assert result.successful()
    turn.refresh_from_db()
    assert turn.status == Message.Status.STREAMING
    assert turn.started_at is not None and turn.started_at.isoformat() == "2026-01-02T03:04:05+00:00"


def test_started_leaves_a_turn_that_already_ended_alone() -> None:
    turn = _answer(Message.Status.CANCELLED)
    assert tasks.turn_started.apply(args=[str(turn.id)]).successful()
    turn.refresh_from_db()
    assert (turn.status, turn.started_at) == (Message.Status.CANCELLED, None)


def test_started_for_a_turn_that_never_commits_gives_up_without_failing() -> None:
    result = tasks.turn_started.apply(args=[str(uuid.uuid4())])
    assert result.successful()


def test_reap_with_nothing_to_reap_ends_nothing() -> None:
    turn = _answer(Message.Status.QUEUED)
    assert tasks.reap_turns.apply().get() == 0
    turn.refresh_from_db()
    assert turn.status == Message.Status.QUEUED
