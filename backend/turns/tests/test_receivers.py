"""turns.receivers: an account's deletion or suspension stops its running answers, after commit only."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from accounts.models import User
from accounts.signals import account_deleting, account_suspended
from chat.models import Conversation, Message
from common.redis import get_redis
from turns import streams

from .conftest import make_user


def _running_answer(user: User) -> Message:
    conversation = Conversation.objects.create(user=user)
    return Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, status=Message.Status.STREAMING, model="whale-r1"
    )


def _cancel_requested(turn: Message) -> bool:
    return get_redis().get(streams.keys_for(turn.id).cancel) == "1"


@pytest.mark.django_db
def test_a_deleted_accounts_running_answers_are_dropped_after_commit(django_capture_on_commit_callbacks: Any) -> None:
    user = make_user()
    turn = _running_answer(user)
    done = _running_answer(user)
    Message.objects.filter(pk=done.pk).update(status=Message.Status.DONE)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        account_deleting.send(sender=User, user=user)
        assert not _cancel_requested(turn)  # nothing before the commit
    assert len(callbacks) == 1
    assert _cancel_requested(turn)
    assert not _cancel_requested(done)


@pytest.mark.django_db
def test_an_account_without_running_answers_queues_nothing(django_capture_on_commit_callbacks: Any) -> None:
    user = make_user()
    with django_capture_on_commit_callbacks() as callbacks:
        account_deleting.send(sender=User, user=user)
    assert callbacks == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_suspension_stops_nothing() -> None:
    user = make_user()
    turn = _running_answer(user)
    with pytest.raises(RuntimeError), transaction.atomic():
        account_suspended.send(sender=User, user=user)
        raise RuntimeError("the suspension failed")
    assert not _cancel_requested(turn)
    turn.refresh_from_db()
    assert turn.status == Message.Status.STREAMING


@pytest.mark.django_db
def test_a_suspended_accounts_running_answers_are_cancelled(django_capture_on_commit_callbacks: Any) -> None:
    user = make_user()
    turn = _running_answer(user)
    with django_capture_on_commit_callbacks(execute=True):
        account_suspended.send(sender=User, user=user)
    assert _cancel_requested(turn)
