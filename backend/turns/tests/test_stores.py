"""turns.stores: chat and partners register where their turns live, so one settle, cancel and reaper reach both."""

from __future__ import annotations

import uuid

import pytest

from accounts.models import User
from turns import stores

from .factories import app_turn, partner_turn

pytestmark = pytest.mark.django_db


def test_chat_and_partners_register_their_turn_stores_when_they_start() -> None:
    assert {store.origin for store in stores.turn_stores()} == {"app", "partner"}


def test_a_named_origin_puts_its_store_ahead_of_the_others() -> None:
    assert stores.turn_stores(first="partner")[0].origin == "partner"
    assert stores.turn_stores(first="app")[0].origin == "app"
    assert {store.origin for store in stores.turn_stores(first="elsewhere")} == {"app", "partner"}


def test_a_turn_exists_whether_it_is_an_answer_or_a_completion(user: User) -> None:
    assert stores.turn_exists(turn_id=app_turn(user))
    assert stores.turn_exists(turn_id=partner_turn(user))
    assert not stores.turn_exists(turn_id=uuid.uuid4())


def test_a_users_active_turns_span_the_app_and_the_partner_api(user: User, other_user: User) -> None:
    answer, completion = app_turn(user), partner_turn(user)
    app_turn(other_user)

    assert {turn.id for turn in stores.active_turns(user_id=user.pk)} == {answer, completion}
    assert len(stores.active_turns()) >= 3


def test_registering_an_origin_again_replaces_its_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stores, "_stores", dict(stores._stores))
    replacement = type("Store", (), {"origin": "partner"})()
    stores.store_register(replacement)  # type: ignore[arg-type]
    assert [store.origin for store in stores.turn_stores()].count("partner") == 1
    assert replacement in stores.turn_stores()
