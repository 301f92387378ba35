"""turns.metrics: the scrape-time gauges turns registers with common.metrics."""

from __future__ import annotations

import pytest

from chat.models import Conversation, Message
from turns.metrics import TurnStateCollector

from .conftest import make_user

pytestmark = pytest.mark.django_db


def _samples(name: str) -> dict[tuple[str, ...], float]:
    for family in TurnStateCollector().collect():
        if family.name == name:
            return {tuple(sample.labels.values()): sample.value for sample in family.samples}
    raise AssertionError(f"no {name}")


def test_in_flight_counts_queued_and_streaming_turns_by_model() -> None:
    conversation = Conversation.objects.create(user=make_user())
    for status in (Message.Status.QUEUED, Message.Status.QUEUED, Message.Status.STREAMING, Message.Status.DONE):
        Message.objects.create(conversation=conversation, role=Message.Role.ASSISTANT, status=status, model="whale-r1")
    assert _samples("whale_turns_in_flight") == {("whale-r1", "queued"): 2, ("whale-r1", "streaming"): 1}


def test_queue_depth_is_reported_for_every_model() -> None:
    depth = _samples("whale_queue_depth")
    assert {labels[0] for labels in depth} == {"whale-r1", "whale-chat"}
    assert set(depth.values()) == {0}
