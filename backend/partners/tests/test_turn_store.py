"""partners.turn_store: a Completion as the row turns settles, cancels and reaps."""

from __future__ import annotations

import pytest
from turns.stores import SettledTurn
from turns.streams import TurnOutcome
from turns.tests.factories import partner_turn

from partners.models import Completion
from partners.turn_store import CompletionStore

pytestmark = pytest.mark.django_db


def test_settling_a_completion_keeps_the_engines_cached_tokens_and_names_its_key(user) -> None:
    completion_id = partner_turn(user)
    usage = {"prompt_tokens": 9, "completion_tokens": 4, "cached_tokens": 6}
    outcome = TurnOutcome(content="Hi.", terminal_type="done", terminal={"finish_reason": "stop", "usage": usage})

    settled = CompletionStore().settle(completion_id, outcome)

    completion = Completion.objects.get(id=completion_id)
    assert isinstance(settled, SettledTurn) and settled.api_key_id == str(completion.api_key_id)
    assert (completion.status, completion.cached_tokens, completion.prompt_tokens) == ("done", 6, 9)
    assert CompletionStore().settle(completion_id, outcome) is False


def test_a_failed_completion_keeps_its_error_code_and_no_usage(user) -> None:
    completion_id = partner_turn(user)
    outcome = TurnOutcome(terminal_type="error", terminal={"code": "worker_lost", "message": "gone"})

    CompletionStore().settle(completion_id, outcome)

    completion = Completion.objects.get(id=completion_id)
    assert (completion.status, completion.error_code, completion.completion_tokens) == ("failed", "worker_lost", 0)


def test_a_completion_is_active_until_settled_and_never_marked_started(user) -> None:
    completion_id = partner_turn(user)
    assert [turn.id for turn in CompletionStore().active(user_id=user.pk)] == [completion_id]
    assert CompletionStore().mark_started(completion_id, Completion.objects.get(id=completion_id).created_at) is False


def test_a_turn_left_behind_by_its_deleted_completion_is_not_this_stores(user) -> None:
    completion_id = partner_turn(user)
    Completion.objects.filter(id=completion_id).delete()  # as its key's deletion does; the turn row stays
    outcome = TurnOutcome(content="Hi.", terminal_type="done", terminal={"finish_reason": "stop", "usage": {}})

    assert CompletionStore().settle(completion_id, outcome) is None
