"""turns.services.settle: one settle for app answers and partners' completions, counted in the same metrics."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import User
from chat.models import Message
from common import metrics
from partners.models import Completion
from turns import services

from .factories import partner_turn
from .send_helpers import send
from .worker_double import emit, run_turn, take_lease

pytestmark = pytest.mark.django_db


def _settled_count(model: str, status: str) -> float:
    return metrics.TURNS.labels(model=model, status=status)._value.get()


def test_a_settled_completion_is_counted_like_an_app_answer(user: User) -> None:
    completion = partner_turn(user)
    model = Completion.objects.get(id=completion).model
    before = _settled_count(model, "done")
    run_turn(completion, [], ["Hello."])

    assert services.turn_settle(turn_id=completion) is True
    assert services.turn_settle(turn_id=completion) is False

    assert _settled_count(model, "done") == before + 1


def test_the_workers_started_notice_leaves_a_completion_queued(user: User) -> None:
    completion = partner_turn(user)
    assert services.turn_mark_started(turn_id=completion, started_at=None) is False
    assert Completion.objects.get(id=completion).status == "queued"


def test_finalize_saves_the_answer_exactly_once(api, conversation) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    run_turn(turn_id, ["Let me ", "think."], ["The ", "answer."])

    assert services.turn_settle(turn_id=turn_id) is True
    assert services.turn_settle(turn_id=turn_id) is False

    turn = Message.objects.get(id=turn_id)
    assert turn.status == "done"
    assert turn.reasoning_content == "Let me think."
    assert turn.content == "The answer."
    assert (turn.prompt_tokens, turn.completion_tokens, turn.reasoning_tokens) == (7, 11, 5)
    assert turn.started_at and turn.first_token_at and turn.finished_at


def test_finalize_waits_for_a_terminal_event(api, conversation) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    take_lease(turn_id)
    emit(turn_id, "started", {"model": "whale-r1", "started_at": timezone.now().isoformat()})
    emit(turn_id, "content", {"delta": "partial"})
    assert services.turn_settle(turn_id=turn_id) is False
    assert Message.objects.get(id=turn_id).status == "queued"


def test_a_started_turn_is_marked_streaming_once_and_announced_to_the_users_devices(
    api, conversation, monkeypatch
) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    published: list[tuple[object, str, dict]] = []
    monkeypatch.setattr(
        "common.events.user_event_publish",
        lambda *, user_id, event_type, payload: published.append((user_id, event_type, payload)),
    )

    assert services.turn_mark_started(turn_id=turn_id, started_at=None) is True
    assert services.turn_mark_started(turn_id=turn_id, started_at=None) is False  # delivered twice

    assert Message.objects.get(id=turn_id).status == "streaming"
    assert published == [
        (conversation.user_id, "turn.started", {"conversation_id": str(conversation.id), "turn_id": turn_id})
    ]


def test_a_completion_settled_on_its_workers_notice_goes_to_its_own_store_first(user: User) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    unnamed, named = partner_turn(user), partner_turn(user)
    for completion in (unnamed, named):
        run_turn(completion, [], ["Hello."])

    with CaptureQueriesContext(connection) as asked_each:
        assert services.turn_settle(turn_id=unnamed) is True
    with CaptureQueriesContext(connection) as asked_first:
        assert services.turn_settle(turn_id=named, origin="partner") is True

    # The app's store is not asked: its update that matches nothing and its existence check are gone.
    assert len(asked_first.captured_queries) == len(asked_each.captured_queries) - 2
    assert not [q["sql"] for q in asked_first.captured_queries if "chat_message" in q["sql"]]
    assert Completion.objects.get(id=named).status == "done"
