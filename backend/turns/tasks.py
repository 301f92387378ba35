"""The backend's Celery tasks that GPU workers send back by name (a turn started, a turn ended), and the reaper."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Task, shared_task
from django.db import DatabaseError, InterfaceError, OperationalError
from redis.exceptions import RedisError

from inference import logs, protocol

from . import preparing, services, streams

logger = logging.getLogger(__name__)

# A send publishes its turn's task inside its transaction (a broker failure then rolls the send back
# and the client gets a clean 503), so a short answer can end, and its notices arrive here, before
# that transaction has committed. Those notices come back until the rows are there; the reaper
# settles anything that outlives the retries.
NOT_YET_COMMITTED_RETRY_SECONDS = 0.25
NOT_YET_COMMITTED_MAX_RETRIES = 40  # 10 s
# Postgres or Redis gone for a moment (a restart, a failover): the notice comes back with backoff
# (1 s doubling to 10 s, for about six minutes). Settling is idempotent step by step, so a retry
# after a failure anywhere ends where one clean run would have. The reaper covers anything longer.
OUTAGE_ERRORS = (OperationalError, InterfaceError, RedisError)
OUTAGE_MAX_RETRIES = 40


def _again_if_not_committed(task: Task[Any, Any], turn_id: str, what: str) -> None:
    if services.turn_exists(turn_id=turn_id):
        return
    if task.request.retries >= NOT_YET_COMMITTED_MAX_RETRIES:
        logger.warning("%s for turn %s: no such turn after %d tries; leaving it", what, turn_id, task.request.retries)
        return
    # Sent again without raising Celery's Retry: its traceback capture was 8% of the backend worker's CPU at
    # 128 turns in flight, where about one turn_started in ten arrives before its send has committed.
    task.retry(countdown=NOT_YET_COMMITTED_RETRY_SECONDS, max_retries=NOT_YET_COMMITTED_MAX_RETRIES, throw=False)


# The three notice tasks: bound (they send themselves again), and retried with backoff through an outage.
_NOTICE_TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "ignore_result": True,
    "autoretry_for": OUTAGE_ERRORS,
    "retry_backoff": 1,
    "retry_backoff_max": 10,
    "retry_jitter": False,
    "max_retries": OUTAGE_MAX_RETRIES,
}


@shared_task(name=protocol.TASK_TURN_STARTED, **_NOTICE_TASK_OPTIONS)
def turn_started(self: Task[Any, Any], turn_id: str, started_at: str | None = None) -> None:
    if not _notice_applied(protocol.TASK_TURN_STARTED, [turn_id, started_at]):
        _again_if_not_committed(self, turn_id, "started")


# The wire name (whale.finalize_turn) stays: GPU workers send it.
@shared_task(name=protocol.TASK_FINALIZE_TURN, **_NOTICE_TASK_OPTIONS)
def settle_turn(self: Task[Any, Any], turn_id: str, origin: str = "") -> None:
    if not _notice_applied(protocol.TASK_FINALIZE_TURN, [turn_id, origin]):
        _again_if_not_committed(self, turn_id, "settle")


@shared_task(name=protocol.TASK_TURN_NOTICES, **_NOTICE_TASK_OPTIONS)
def turn_notices(self: Task[Any, Any], notices: list[list[Any]]) -> None:
    """Several of the two notices above in one task (a GPU worker running many turns groups them,
    inference/notices.py), each handled as its own task would be. The ones whose turn is not committed
    yet come back together; after an outage all of them do, and the ones handled already change nothing."""
    pending = [notice for notice in notices if not _notice_handled(notice)]
    if not pending:
        return
    if self.request.retries >= NOT_YET_COMMITTED_MAX_RETRIES:
        logger.warning(
            "%d notices for turns not found after %d tries; leaving them", len(pending), self.request.retries
        )
        return
    self.retry(
        args=(pending,),
        countdown=NOT_YET_COMMITTED_RETRY_SECONDS,
        max_retries=NOT_YET_COMMITTED_MAX_RETRIES,
        throw=False,
    )


def _notice_handled(notice: list[Any]) -> bool:
    """One grouped notice: False while its turn is not visible yet (its send not committed)."""
    try:
        name, args = notice
        turn_id = str(args[0])
    except (TypeError, ValueError, IndexError, KeyError):
        logger.warning("a malformed notice %r; leaving it", notice)
        return True
    if name not in _NOTICE_NAMES:
        logger.warning("unknown notice %s for turn %s; leaving it", name, turn_id)
        return True
    with logs.log_context(turn_id=turn_id):
        return _notice_applied(name, args) or services.turn_exists(turn_id=turn_id)


_NOTICE_NAMES = (protocol.TASK_TURN_STARTED, protocol.TASK_FINALIZE_TURN)


def _notice_applied(name: str, args: list[Any]) -> bool:
    """What a started or an ended notice does, alone or grouped: False when its turn has no row yet."""
    turn_id = str(args[0])
    if name == protocol.TASK_TURN_STARTED:
        return services.turn_mark_started(turn_id=turn_id, started_at=args[1] if len(args) > 1 else None)
    return services.turn_settle(turn_id=turn_id, origin=str(args[1]) if len(args) > 1 and args[1] else "")


@shared_task(name="whale.reap_turns", ignore_result=True)
def reap_turns() -> int:
    return services.turns_reap()


# The send publishes the prepare task inside its transaction too, and a step with its files read already
# reaches the turn's row in milliseconds: it waits for the commit (the row), polling, at most this long. Past
# that the send was rolled back or the conversation deleted, and the step ends the turn as for a deletion.
PREPARE_COMMIT_WAIT_SECONDS = 5.0
PREPARE_COMMIT_POLL_SECONDS = 0.05


def _wait_for_commit(turn_id: str) -> bool:
    deadline = time.monotonic() + PREPARE_COMMIT_WAIT_SECONDS
    while not _turn_visible(turn_id):
        if time.monotonic() >= deadline:
            logger.warning("prepare step of turn %s: no such turn after %.0f s", turn_id, PREPARE_COMMIT_WAIT_SECONDS)
            return False
        time.sleep(PREPARE_COMMIT_POLL_SECONDS)
    return True


def _turn_visible(turn_id: str) -> bool:
    try:
        return services.turn_exists(turn_id=turn_id)
    except DatabaseError:
        return True  # Postgres away: the step's own queries fail too, and it ends the turn with an error


@shared_task(name=preparing.TASK_PREPARE_TURN, ignore_result=True)
def prepare_turn(payload: dict[str, Any]) -> None:
    """The prepare step of a turn with Search, a URL or files (research queue), then its GPU task."""
    with logs.log_context(turn_id=str(payload.get("turn_id", ""))):
        _wait_for_commit(str(payload["turn_id"]))
        prepared = preparing.turn_prepare(payload)
        if prepared.ended:
            services.turn_settle(turn_id=payload["turn_id"])
        elif not prepared.skipped:
            try:
                services.turn_enqueue(**preparing.gpu_task_arguments(payload, prepared.messages))
            except Exception:  # the model was switched off meanwhile, the broker is away: end it now
                logger.exception("could not queue turn %s after its prepare step", payload["turn_id"])
                error = {"code": "queue_unavailable", "message": "The answer could not be queued. Try again."}
                if streams.write_terminal_if_unowned(payload["turn_id"], protocol.EVENT_ERROR, error):
                    services.turn_settle(turn_id=payload["turn_id"])
