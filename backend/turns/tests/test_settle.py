"""turns.services.settle: one settle for app answers and partners' completions, counted in the same metrics."""

from __future__ import annotations

import pytest

from accounts.models import User
from common import metrics
from partners.models import Completion
from turns import services

from .factories import partner_turn
from .worker_double import run_turn

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
