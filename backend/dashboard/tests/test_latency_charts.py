"""The latency charts are drawn from turns settled the real way (sent, streamed, saved from their stream)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from turns import services as turn_services
from turns.tests.worker_double import run_turn

from chat.models import Conversation, Message
from dashboard import selectors, views
from ratelimits.tests.factories import api_for, make_user, set_limits

pytestmark = pytest.mark.django_db


@pytest.fixture
def settled_turns() -> list[Message]:
    """Three turns of today, each sent through the API and settled from the stream a worker wrote."""
    ada = make_user("ada@example.com")
    set_limits(ada)
    client = api_for(ada)
    turns = []
    for n in range(3):
        conversation = Conversation.objects.create(user=ada)
        sent = client.post(
            f"/api/v1/conversations/{conversation.id}/messages", {"content": f"Question {n}"}, format="json"
        )
        assert sent.status_code == 202, sent.content
        turn_id = sent.json()["assistant_message"]["id"]
        run_turn(turn_id, ["Let me think."], ["An answer."])
        assert turn_services.turn_settle(turn_id=turn_id)
        turns.append(Message.objects.get(id=turn_id))
    return turns


def _drawn(chart: str) -> list[dict[str, Any]]:
    return json.loads(chart)["datasets"]


@pytest.mark.parametrize("days", [1, 7, 30])
def test_settled_turns_fill_the_latency_numbers(settled_turns: list[Message], days: int) -> None:
    assert all(t.queued_at and t.first_token_at and t.finished_at and t.completion_tokens for t in settled_turns)

    latency = selectors.latency_percentiles(selectors.Window.last(days))

    assert latency["overall"]["first_token_p50"] is not None
    assert latency["overall"]["first_token_p50"] >= 0
    assert latency["overall"]["tokens_per_second_p50"] is not None


@pytest.mark.parametrize("days", [1, 7, 30])
def test_a_single_busy_hour_still_draws_the_latency_charts(settled_turns: list[Message], days: int) -> None:
    """All turns in one hour of one day: each chart must show them, not a line between no two points."""
    window = selectors.Window.last(days)
    drawn = views.charts(selectors.dashboard(window), hourly=window.hourly)

    for name in ("first_token", "tokens_per_second"):
        datasets = _drawn(drawn[name])
        assert datasets, name
        for dataset in datasets:
            values = [value for value in dataset["data"] if value is not None]
            assert values, f"{name} {dataset['label']} has no value"
            # A line needs two points; a lone value shows only as a point.
            assert len(values) >= 2 or dataset.get("pointStyle") not in (False, None), (name, dataset)
            assert dataset.get("spanGaps") is True, "empty buckets between turns do not cut the line"
