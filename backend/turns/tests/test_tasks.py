"""turns.tasks: the backend's Celery tasks, run in-process (Celery's eager apply) against real Postgres and Redis."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connections, transaction
from files.tests.samples import text_pdf

from chat.models import Conversation, Message
from inference import protocol
from turns import tasks

from .conftest import make_user
from .prepare_helpers import ready_file
from .worker_double import run_turn

pytestmark = pytest.mark.django_db


def _answer(status: str = Message.Status.QUEUED) -> Message:
    conversation = Conversation.objects.create(user=make_user())
    return Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, status=status, model="whale-r1"
    )


def test_started_marks_a_queued_turn_streaming_at_the_workers_time() -> None:
    turn = _answer()
    result = tasks.turn_started.apply(args=[str(turn.id), "2026-01-02T03:04:05+00:00"])
    assert result.successful()
    turn.refresh_from_db()
    assert turn.status == Message.Status.STREAMING
    assert turn.started_at is not None and turn.started_at.isoformat() == "2026-01-02T03:04:05+00:00"


def test_started_leaves_a_turn_that_already_ended_alone() -> None:
    turn = _answer(Message.Status.CANCELLED)
    assert tasks.turn_started.apply(args=[str(turn.id)]).successful()
    turn.refresh_from_db()
    assert (turn.status, turn.started_at) == (Message.Status.CANCELLED, None)


def test_started_for_a_turn_that_never_commits_gives_up_without_failing() -> None:
    result = tasks.turn_started.apply(args=[str(uuid.uuid4())])
    assert result.successful()


def test_grouped_notices_are_each_applied_as_their_own_task_would_be() -> None:
    queued, ended = _answer(), _answer(Message.Status.STREAMING)
    run_turn(str(ended.id), ["Hmm."], ["Hello."])
    notices = [
        [protocol.TASK_TURN_STARTED, [str(queued.id), "2026-01-02T03:04:05+00:00"]],
        [protocol.TASK_FINALIZE_TURN, [str(ended.id), "app"]],
        [protocol.TASK_FINALIZE_TURN, [str(ended.id)]],  # again: changes nothing
        ["whale.not_a_notice", [str(queued.id)]],
        ["malformed"],
    ]

    assert tasks.turn_notices.apply(args=[notices]).successful()

    queued.refresh_from_db()
    ended.refresh_from_db()
    assert (queued.status, queued.started_at.isoformat()) == (Message.Status.STREAMING, "2026-01-02T03:04:05+00:00")
    assert (ended.status, ended.reasoning_content, ended.content) == (Message.Status.DONE, "Hmm.", "Hello.")


def test_grouped_notices_for_turns_that_never_commit_give_up_without_failing() -> None:
    notices = [[protocol.TASK_FINALIZE_TURN, [str(uuid.uuid4())]], [protocol.TASK_TURN_STARTED, [str(uuid.uuid4())]]]
    assert tasks.turn_notices.apply(args=[notices]).successful()


def test_reap_with_nothing_to_reap_ends_nothing() -> None:
    turn = _answer(Message.Status.QUEUED)
    assert tasks.reap_turns.apply().get() == 0
    turn.refresh_from_db()
    assert turn.status == Message.Status.QUEUED


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("prepare_settings")
def test_a_prepare_step_that_runs_before_its_send_commits_waits_for_it_and_answers(
    api, conversation, published
) -> None:
    # The send publishes the step inside its transaction; with its files read already, the step reached the
    # answer's row before the commit, found none, and ended the turn as if its conversation had been deleted.
    file = ready_file(api, text_pdf(["Revenue grew by 41 percent."]), "report.pdf")
    step_done = threading.Event()

    def research_worker(payload: dict) -> None:
        try:
            tasks.prepare_turn(payload)
        finally:
            step_done.set()
            connections.close_all()  # this thread's own connection

    with transaction.atomic():  # the send's transaction, still open while the step runs
        response = api.post(
            f"/api/v1/conversations/{conversation.id}/messages",
            {"content": "What does it say?", "file_ids": [str(file.id)]},
            format="json",
        )
        assert response.status_code == 202, response.content
        (payload,) = published.prepare_tasks
        threading.Thread(target=research_worker, args=(payload,), daemon=True).start()
        assert not step_done.wait(0.5), "the step ran before the send committed"

    assert step_done.wait(10)
    (task,) = published.gpu_tasks
    assert "Revenue grew by 41 percent." in task["messages"][-1]["content"]
    answer = Message.objects.get(id=payload["turn_id"])
    assert answer.status == Message.Status.QUEUED  # handed to the GPU queue, not ended


def test_a_prepare_step_whose_turn_never_commits_ends_it_after_waiting(monkeypatch) -> None:
    monkeypatch.setattr(tasks, "PREPARE_COMMIT_WAIT_SECONDS", 0.2)
    started = time.monotonic()
    assert tasks._wait_for_commit(str(uuid.uuid4())) is False
    assert time.monotonic() - started >= 0.2
