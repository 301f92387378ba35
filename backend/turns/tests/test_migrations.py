"""The migrations that give each answer and completion its turns.Turn (chat 0005/0006, partners 0005/0006):
rows saved before them read the same after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from chat.models import Conversation, Message
from partners.models import Completion
from turns.models import Turn

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("chat", "0004_message_cached_tokens"), ("partners", "0004_apikey_end_user_limits"), ("turns", None)]
MOVED_APPS = ("chat", "partners", "turns")
QUEUED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FINISHED = datetime(2026, 12, 1, 9, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema() -> Iterator[None]:
    yield
    _migrated_forward()


def _migrated_forward() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _migrated_back() -> Any:
    """Migrates to before the Turn model; the models (apps) of that schema."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] not in MOVED_APPS]
    return executor.loader.project_state([*others, *BEFORE[:2]]).apps


def test_answers_and_completions_saved_before_the_turn_model_keep_their_columns_on_their_turn() -> None:
    old = _migrated_back()
    user = old.get_model("accounts", "User").objects.create(email="old@example.com")
    conversation = old.get_model("chat", "Conversation").objects.create(user=user)
    old_message = old.get_model("chat", "Message")
    question = old_message.objects.create(conversation=conversation, role="user", content="Why?")
    answer = old_message.objects.create(
        conversation=conversation,
        parent=question,
        role="assistant",
        content="Because.",
        model="whale-r1",
        status="failed",
        error="The model could not finish this answer.",
        error_code="worker_lost",
        finish_reason="error",
        prompt_tokens=12,
        completion_tokens=3,
        reasoning_tokens=2,
        cached_tokens=8,
        queued_at=QUEUED,
        finished_at=FINISHED,
    )
    key = old.get_model("partners", "ApiKey").objects.create(user=user, name="k", prefix="sk-old", secret_hash="0" * 64)
    completion = old.get_model("partners", "Completion").objects.create(
        api_key=key,
        user=user,
        model="whale-chat",
        status="done",
        finish_reason="stop",
        prompt_tokens=5,
        completion_tokens=7,
        created_at=QUEUED,
        finished_at=FINISHED,
    )

    _migrated_forward()
    saved = Message.objects.get(id=answer.id)
    assert saved.turn_id == answer.id and saved.turn is not None
    assert (saved.turn.source, saved.turn.user_id) == (Turn.Source.APP, user.id)
    assert (saved.status, saved.error_code, saved.error, saved.finish_reason) == (
        "failed",
        "worker_lost",
        "The model could not finish this answer.",
        "error",
    )
    assert (saved.model, saved.prompt_tokens, saved.completion_tokens, saved.reasoning_tokens) == ("whale-r1", 12, 3, 2)
    assert (saved.cached_tokens, saved.queued_at, saved.finished_at) == (8, QUEUED, FINISHED)
    assert Message.objects.get(id=question.id).turn_id is None

    partner = Completion.objects.get(id=completion.id)
    assert partner.turn.source == Turn.Source.PARTNER and partner.turn.api_key_id == key.id
    assert (partner.status, partner.finish_reason, partner.model) == ("done", "stop", "whale-chat")
    assert (partner.prompt_tokens, partner.completion_tokens, partner.turn.queued_at) == (5, 7, QUEUED)
    assert Turn.objects.count() == 2


def test_the_turn_migrations_can_be_undone_with_the_columns_back_on_the_rows() -> None:
    user = User.objects.create(email="new@example.com")
    conversation = Conversation.objects.create(user=user)
    answer = Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, status="done", model="whale-r1", prompt_tokens=4
    )

    old = _migrated_back()
    row = old.get_model("chat", "Message").objects.get(id=answer.id)
    assert (row.status, row.model, row.prompt_tokens) == ("done", "whale-r1", 4)
