"""turns.apps: what the app wires into the layers below it when it starts (they import nothing of turns)."""

from __future__ import annotations

from django.apps import apps
from django.dispatch import Signal

from accounts.models import User
from accounts.signals import account_deleting, account_suspended
from common import metrics
from ratelimits import admission
from ratelimits import services as ratelimits_services
from turns import receivers, streams
from turns.metrics import TurnStateCollector


def _receivers(signal: Signal, dispatch_uid: str) -> list[object]:
    """What is connected to `signal` under `dispatch_uid` (Django keeps weak references to them)."""
    return [ref() for (uid, _sender), ref, _is_async in signal.receivers if uid == dispatch_uid]


def test_turns_registers_its_collector_when_it_starts() -> None:
    assert isinstance(metrics._state_collectors["turns"], TurnStateCollector)


def test_queue_positions_are_published_into_the_turns_streams() -> None:
    assert admission._position_publisher is streams.queue_position_publish


def test_the_limits_ask_the_turns_streams_which_turns_ended() -> None:
    assert ratelimits_services._ended_turns is streams.ended_turn_ids


def test_an_accounts_deletion_and_suspension_reach_the_turns_receivers_once_however_often_it_starts() -> None:
    apps.get_app_config("turns").ready()  # a second start must not connect them twice

    assert _receivers(account_deleting, "turns-account-deleting") == [receivers.account_deleting]
    assert _receivers(account_suspended, "turns-account-suspended") == [receivers.account_suspended]
    assert account_deleting.has_listeners(User) and account_suspended.has_listeners(User)
