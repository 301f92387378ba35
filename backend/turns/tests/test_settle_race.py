"""A fast worker can end a turn before the send that queued it has committed: nothing is lost."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import transaction

from accounts.models import User
from chat import sends
from chat.models import Conversation, Message
from config.celery import app as backend_celery
from inference import protocol
from turns import services

from .stack import backend_worker, quiet_before_flush  # noqa: F401 (a fixture)
from .worker_double import run_turn

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("quiet_before_flush")]


def _notify(name: str, *args: object) -> None:
    backend_celery.send_task(name, args=list(args), queue=settings.WHALE_BACKEND_QUEUE)


def _saved_when_committed(user: User, conversation: Conversation, notify: Callable[[str], None]) -> Message:
    """Sends a question and, while the send's transaction is still open, lets the worker answer at once and
    `notify` the backend of the turn; then waits for the committed turn's answer to be saved."""
    with backend_worker():
        with transaction.atomic():
            created = sends.turn_send(user=user, conversation_id=conversation.id, content="Hi", deepthink=True)
            turn_id = str(created.assistant_message.id)
            run_turn(turn_id, ["Hmm."], ["Hello."])
            notify(turn_id)
            time.sleep(1.0)  # the backend worker takes the notices and finds no such turn yet
        deadline = time.monotonic() + 20
        while Message.objects.get(id=turn_id).status in services.ACTIVE_STATUSES:
            assert time.monotonic() < deadline, "the answer was never saved"
            time.sleep(0.1)
    message = Message.objects.get(id=turn_id)
    assert (message.status, message.reasoning_content, message.content) == ("done", "Hmm.", "Hello.")
    assert message.started_at is not None
    return message


def test_notices_that_arrive_before_the_send_commits_are_applied_once_it_has(
    user: User, conversation: Conversation
) -> None:
    def notify(turn_id: str) -> None:
        _notify(protocol.TASK_TURN_STARTED, turn_id, None)
        _notify(protocol.TASK_FINALIZE_TURN, turn_id)

    _saved_when_committed(user, conversation, notify)


def test_grouped_notices_that_arrive_before_the_send_commits_are_applied_once_it_has(
    user: User, conversation: Conversation
) -> None:
    def notify(turn_id: str) -> None:
        # A worker running many turns sends both notices (and another turn's) as one task.
        gone = "00000000-0000-0000-0000-000000000000"
        notices = [
            [protocol.TASK_TURN_STARTED, [turn_id, None]],
            [protocol.TASK_FINALIZE_TURN, [turn_id, "app"]],
            [protocol.TASK_FINALIZE_TURN, [gone]],
        ]
        _notify(protocol.TASK_TURN_NOTICES, notices)

    _saved_when_committed(user, conversation, notify)
