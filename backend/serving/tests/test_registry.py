"""serving.registry: the models clients may pick, with staff's switches read through the reader dashboard sets."""

from __future__ import annotations

from typing import Any

import pytest
from dashboard.models import ModelSetting
from dashboard.selectors import model_setting_overrides
from django.db import ProgrammingError

from common.errors import ValidationFailed
from serving import registry


@pytest.fixture
def reader() -> Any:
    """The dashboard's reader is set when the app starts; each test leaves it as it found it."""
    before = registry._overrides_reader
    yield
    registry.staff_overrides_reader_set(before)


def test_the_dashboard_hands_its_reader_over_when_it_starts() -> None:
    assert registry._overrides_reader is model_setting_overrides


def test_the_settings_alone_decide_without_a_reader(reader: Any) -> None:
    registry.staff_overrides_reader_set(None)
    assert [spec.name for spec in registry.model_list()] == ["whale-r1", "whale-chat"]
    assert registry.model_get("whale-r1").reasoning is True


@pytest.mark.django_db
def test_deepthink_picks_the_reasoning_model_and_off_the_chat_model() -> None:
    assert registry.model_for_turn(deepthink=True).name == "whale-r1"
    assert registry.model_for_turn(deepthink=False).name == "whale-chat"


@pytest.mark.django_db
def test_a_model_staff_disabled_is_listed_disabled_and_cannot_be_picked() -> None:
    ModelSetting.objects.create(name="whale-chat", enabled=False, display_name="Quick")  # the save forgets the cache
    spec = {spec.name: spec for spec in registry.model_list()}["whale-chat"]
    assert (spec.enabled, spec.display_name) == (False, "Quick")
    with pytest.raises(ValidationFailed) as refused:
        registry.model_get("whale-chat")
    assert refused.value.code == "unknown_model"


@pytest.mark.django_db
def test_an_unknown_model_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        registry.model_get("gpt-9")


def test_overrides_are_kept_for_a_moment_and_forgotten_on_demand(reader: Any) -> None:
    calls: list[int] = []

    def counting() -> dict[str, dict[str, Any]]:
        calls.append(1)
        return {"whale-r1": {"display_name": "Thinker"}}

    registry.staff_overrides_reader_set(counting)
    assert registry.model_get("whale-r1").display_name == "Thinker"
    registry.model_list()
    assert len(calls) == 1  # the second read came from the cache
    registry.forget_staff_overrides()
    registry.model_list()
    assert len(calls) == 2


def test_a_database_without_the_table_leaves_the_settings_in_charge(reader: Any) -> None:
    def missing_table() -> dict[str, dict[str, Any]]:
        raise ProgrammingError('relation "dashboard_modelsetting" does not exist')

    registry.staff_overrides_reader_set(missing_table)
    assert registry.model_get("whale-r1").display_name == "DeepThink (R1)"


def test_a_bug_in_the_reader_is_not_swallowed(reader: Any) -> None:
    def broken() -> dict[str, dict[str, Any]]:
        raise KeyError("name")

    registry.staff_overrides_reader_set(broken)
    with pytest.raises(KeyError):
        registry.model_list()
