"""The prepare step of a turn with Search, a URL in its question or files: read them, then queue the GPU task.

Files means the question's own or an earlier question's in its branch: a follow-up carries those again
(earlier_files.py), so it can be answered from them.

It runs on the research queue (a backend worker: GPU workers have no internet and no database), between
the send and the GPU task:

    send ─ queued ─▶ whale.prepare_turn: search events, notices ─ queued ─▶ whale.generate_turn: started, ...

The send checks the request (turn_options_check, before any write) and the app's send hook
(chat/send_prepare.py, turn_prepare_queue) attaches the files, takes the search turn and queues this step instead of the GPU
task. The step holds the turn's lease while it works (so a cancel is its to end, and the reaper ends it
`worker_lost` if it dies), writes its `search` and `notice` events into the turn's stream (a reader that
resumes gets each exactly once), saves `sources` and `notices` on the answer, and hands the turn back
with the user turn built in DeepSeek's official templates: the files' blocks, then the search results
and the question (or the question alone). A provider that fails never fails the turn.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone
from files.models import UploadedFile
from files.prompting import count_tokens, files_fit, model_tokenizer
from kombu.exceptions import KombuError
from redis.exceptions import RedisError
from research.pipeline import UNAVAILABLE_NOTICE, question_urls, research_run
from research.providers import provider_from_settings

from accounts.models import User
from common.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from config.celery import app as celery_app
from inference import logs, protocol
from ratelimits.search import search_turn_give_back, search_turn_take
from ratelimits.selectors import limits_for_user
from ratelimits.services import Admitted, LimitExceeded, usage_record
from ratelimits.store import Counters
from serving.registry import model_get
from serving.workers import workers_alive

from . import streams
from .earlier_files import (
    MESSAGE_FRAME_TOKENS,
    file_notices,
    history_with_files,
    message_tokens,
    prompt_room,
    search_answer_room,
    user_turn_budget,
)
from .prepare_stream import EVENT_NOTICE, EVENT_SEARCH, PrepareLease, already_prepared
from .stores import turn_sources_save

logger = logging.getLogger(__name__)

TASK_PREPARE_TURN = "whale.prepare_turn"
# The GPU task's admission is the send's; these counters are only for a response's rate-limit headers.
_NO_COUNTERS = Counters(0, 0, 0, 0, 0, 0, 0)
SEARCH_UNAVAILABLE = {"code": "search_unavailable", "message": UNAVAILABLE_NOTICE}

# --- the request's options ---------------------------------------------------------------------


@dataclass(frozen=True)
class TurnOptions:
    """What a send asked for besides the text: Search (None on regenerate: as the answer it replaces) and files."""

    search: bool | None = False
    file_ids: tuple[uuid.UUID, ...] = ()
    regenerate: bool = False  # a new answer to a saved question: it reads that question's files again


_requested: ContextVar[TurnOptions | None] = ContextVar("whale_turn_options", default=None)


@contextlib.contextmanager
def turn_options(options: TurnOptions) -> Iterator[None]:
    """The options of the send running in this block, for the send's hook (chat/send_prepare.py)."""
    token = _requested.set(options)
    try:
        yield
    finally:
        _requested.reset(token)


def turn_options_check(*, user: Any, search: bool | None, file_ids: Sequence[uuid.UUID]) -> TurnOptions:
    """Refuses a send's Search and files before anything is written: 400, 404 or 409."""
    if search and provider_from_settings() is None:
        raise ValidationFailed(
            "Search is not available on this server.",
            code="search_unavailable",
            fields={"search": ["No search provider is configured."]},
        )
    ids = tuple(dict.fromkeys(file_ids))
    limit = settings.WHALE_FILES_PER_MESSAGE
    if len(ids) > limit:
        raise ValidationFailed(
            f"A message can carry at most {limit} files.",
            code="too_many_files",
            fields={"file_ids": [f"At most {limit} files."]},
            extra={"limit": "files_per_message", "limit_value": limit},
        )
    ready_files(user_id=user.pk, file_ids=ids)
    return TurnOptions(search=search, file_ids=ids)


def requested_options() -> TurnOptions:
    """The options of the send running now (turn_options), for the app's send (chat/send_prepare.py)."""
    return _requested.get() or TurnOptions()


def ready_files(*, user_id: Any, file_ids: Sequence[uuid.UUID], lock: bool = False) -> list[UploadedFile]:
    """The user's files in the order given, each read: another user's is a 404, one not read yet a 409."""
    if not file_ids:
        return []  # most sends: building the query alone was 0.5 ms of a send's CPU
    rows = UploadedFile.objects.filter(id__in=file_ids, owner_id=user_id)
    if lock:
        rows = rows.select_for_update()
    found = {file.id: file for file in rows}
    files = []
    for file_id in file_ids:
        file = found.get(file_id)
        if file is None:
            raise NotFound("No such file.", extra={"file_id": str(file_id)})
        if file.status == UploadedFile.Status.FAILED:
            raise Conflict(
                f"{file.name} could not be read: {file.failure_message}",
                code="file_failed",
                extra={
                    "file_id": str(file.id),
                    "failure": {"code": file.failure_code, "message": file.failure_message},
                },
            )
        if file.status != UploadedFile.Status.READY:
            raise Conflict(
                f"{file.name} is still being read; send it once it is ready.",
                code="file_not_ready",
                extra={"file_id": str(file.id), "status": file.status},
            )
        files.append(file)
    return files


# --- queueing the step ------------------------------------------------------------------------


def prepare_step_queue(
    *,
    turn_id: uuid.UUID,
    conversation_id: uuid.UUID | None,
    user_id: Any,
    messages: list[protocol.ChatMessage],
    question: str,
    search: bool,
    file_ids: Sequence[uuid.UUID],
    admitted: Admitted,
    history_file_ids: Sequence[Sequence[str]] = (),
    read_urls: bool = True,
    gpu_fields: dict[str, Any] | None = None,
) -> int:
    """Takes the search turn (429 when spent) and queues the prepare step; returns the queue position.
    The app's send comes here through turn_prepare_queue; a partner's completion (no conversation) directly,
    with its sampling and task fields in `gpu_fields` for the GPU task the step queues."""
    if search and not search_turn_take(limits=admitted.limits):
        raise LimitExceeded(limit="search_turns_per_day", limits=admitted.limits, counters=admitted.counters)
    payload = {
        "turn_id": str(turn_id),
        "conversation_id": str(conversation_id) if conversation_id else None,
        "user_id": str(user_id),
        "api_key_id": admitted.limits.api_key_id,
        "priority": admitted.priority,
        "model": admitted.spec.name,
        "messages": messages,
        "question": question,
        "search": search,
        "read_urls": read_urls,
        "file_ids": [str(file_id) for file_id in file_ids],
        "history_file_ids": [list(ids) for ids in history_file_ids],  # one list per earlier question of `messages`
        "max_tokens": admitted.max_tokens,
        "position": admitted.position,
        "fallback": admitted.fallback,
        "prompt_tokens_estimate": admitted.prompt_tokens_estimate,
        "plan_context": admitted.limits.max_context_tokens,
        **({"gpu_fields": gpu_fields} if gpu_fields else {}),
    }
    try:
        _queue_prepare(turn_id, payload, admitted)
    except BaseException:
        if search:
            with contextlib.suppress(RedisError):
                search_turn_give_back(subject=admitted.limits.subject)
        raise
    return admitted.position


def _queue_prepare(turn_id: uuid.UUID, payload: dict[str, Any], admitted: Admitted) -> None:
    """The `queued` event and the prepare task, inside the send's transaction (a failure is a clean 503)."""
    try:
        streams.queued_write(turn_id, admitted.position, admitted.fallback, on_gpu_queue=False)
        with logs.log_context(turn_id=str(turn_id)):
            celery_app.send_task(
                TASK_PREPARE_TURN,
                args=[payload],
                argsrepr=f"(turn {turn_id})",  # not the payload's repr (the conversation's text), as turn_enqueue
                kwargsrepr="{}",
                queue=settings.WHALE_RESEARCH_QUEUE,
                priority=admitted.priority,
                retry=False,
                headers=logs.current_headers(),
            )
            logger.info("turn queued for its prepare step", extra={"model": admitted.spec.name})
    except (RedisError, KombuError, OSError) as exc:
        logger.warning("could not queue the prepare step of turn %s: %s", turn_id, exc)
        raise ServiceUnavailable(
            "The chat service cannot take new messages right now. Your message was not sent; try again shortly.",
            code="queue_unavailable",
        ) from exc


# --- the step, on the research queue -----------------------------------------------------------


@dataclass
class Prepared:
    """What the step ends with: the messages for the GPU task, or that the turn ended here (cancelled)."""

    messages: list[protocol.ChatMessage] = field(default_factory=list)
    ended: bool = False  # the turn ended during the step: settle it, queue nothing
    skipped: bool = False  # another party owns the turn (a second delivery, or it ended already): do nothing


def _files_still_there(*, user_id: str, file_ids: Sequence[str]) -> list[UploadedFile]:
    """The turn's files in order; one deleted since the send is left out (its card is gone with it)."""
    found = {str(file.id): file for file in UploadedFile.objects.filter(id__in=file_ids, owner_id=uuid.UUID(user_id))}
    return [found[file_id] for file_id in file_ids if file_id in found and found[file_id].text]


def max_model_len(queue: str) -> int:
    """The context of the model behind `queue`, as its workers report it (the smallest), else the setting."""
    lengths = [
        int(worker.get("max_model_len") or 0)
        for worker in workers_alive()
        if queue in str(worker.get("queues", "")).split(",")
    ]
    lengths = [length for length in lengths if length > 0]
    return min(lengths) if lengths else int(settings.WHALE_MODEL_CONTEXT_TOKENS)


def turn_prepare(payload: dict[str, Any]) -> Prepared:
    """Runs the step for one turn: search and URLs, files, the events, the saved sources and notices."""
    turn_id = payload["turn_id"]
    lease = PrepareLease(turn_id)
    if not lease.take() or already_prepared(turn_id):
        logger.info("turn %s is owned or prepared already: skipping this delivery", turn_id)
        return Prepared(skipped=True)
    with lease:
        try:
            return _prepare(lease, payload)
        except Exception:
            # Not the internet's fault (research_run absorbs that): end the turn now rather than at its deadline.
            logger.exception("the prepare step of turn %s failed", turn_id)
            error = {"code": "prepare_failed", "message": "The question's files or search could not be prepared."}
            return Prepared(ended=True) if lease.end(protocol.EVENT_ERROR, error) else Prepared(skipped=True)


def _prepare(lease: PrepareLease, payload: dict[str, Any]) -> Prepared:
    turn_id = payload["turn_id"]
    if lease.cancelled():
        return _end_cancelled(lease, payload)
    tokenizer = model_tokenizer()
    messages: list[protocol.ChatMessage] = payload["messages"]
    question: str = payload["question"]
    spec_queue = str(settings.WHALE_MODELS.get(payload["model"], {}).get("queue", ""))
    if payload["search"]:  # the GPU task then gets the answer room left (gpu_task_arguments reads the payload)
        payload["max_tokens"] = search_answer_room(
            context=max_model_len(spec_queue),
            max_tokens=int(payload["max_tokens"]),
            plan_context=payload.get("plan_context"),
            asked_tokens=message_tokens(tokenizer, messages[:-1]) + count_tokens(tokenizer, question),
        )
    room = prompt_room(
        context=max_model_len(spec_queue),
        max_tokens=int(payload["max_tokens"]),
        plan_context=payload.get("plan_context"),
    )
    budget = user_turn_budget(room=room, history=messages[:-1], tokenizer=tokenizer)
    files = _files_still_there(user_id=payload["user_id"], file_ids=payload["file_ids"])
    notices: list[dict[str, Any]] = []
    sources: list[dict[str, Any]] = []
    text = question
    urls = question_urls(question, limit=settings.WHALE_SEARCH_QUESTION_URLS) if payload.get("read_urls", True) else []
    if payload["search"] or urls:
        share = budget // 2 if files else budget
        research = research_run(
            question,
            budget_tokens=max(1, min(settings.WHALE_SEARCH_BUDGET_TOKENS, share)),
            search=bool(payload["search"]),
            on_event=lambda event: lease.write(EVENT_SEARCH, event),
        )
        text, sources = research.prompt, research.sources
        if research.notice:
            notices.append(SEARCH_UNAVAILABLE)
            lease.write(EVENT_NOTICE, {"notice": SEARCH_UNAVAILABLE})
        if research.queries:
            usage_record(
                user_id=payload["user_id"],
                api_key_id=payload.get("api_key_id"),
                date=timezone.now().date(),
                search_turns=1,
            )
    if files:
        fitted = files_fit(files, text, budget, tokenizer)
        text = fitted.text
        for notice in file_notices(files, fitted.included):
            notices.append(notice)
            lease.write(EVENT_NOTICE, {"notice": notice})
    history, earlier_notices = history_with_files(
        messages[:-1],
        payload.get("history_file_ids") or [],
        user_id=payload["user_id"],
        left=room - message_tokens(tokenizer, messages[:-1]) - count_tokens(tokenizer, text) - MESSAGE_FRAME_TOKENS,
        seen=[str(file.id) for file in files],
        tokenizer=tokenizer,
    )
    for notice in earlier_notices:
        notices.append(notice)
        lease.write(EVENT_NOTICE, {"notice": notice})
    if lease.cancelled():
        return _end_cancelled(lease, payload, sources=sources, notices=notices)
    # A partner's completion (no conversation) has no message to save them on: its stream carries them.
    if payload.get("conversation_id") and not turn_sources_save(turn_id, sources=sources, notices=notices):
        return _end_cancelled(lease, payload)  # its conversation was deleted meanwhile
    if not lease.hand_over(streams.queued_data(int(payload["position"]), payload.get("fallback"))):
        return Prepared(skipped=True)  # the lease lapsed (Redis away too long): the reaper has it
    return Prepared(messages=[*history, {"role": "user", "content": text}])


def gpu_task_arguments(payload: dict[str, Any], messages: list[protocol.ChatMessage]) -> dict[str, Any]:
    """services.turn_enqueue's arguments for the prepared turn: the limits it was admitted with, the built turn."""
    limits = limits_for_user(user=User.objects.get(id=payload["user_id"]))
    if payload.get("priority") is not None:  # a partner key's tier may queue at another priority
        limits = dataclasses.replace(limits, priority=int(payload["priority"]))
    spec = model_get(payload["model"])
    admitted = Admitted(
        limits=limits,
        spec=spec,
        max_tokens=int(payload["max_tokens"]),
        prompt_tokens_estimate=int(payload["prompt_tokens_estimate"]),
        position=int(payload["position"]),
        counters=_NO_COUNTERS,
        fallback=payload.get("fallback"),
    )
    arguments = {
        "turn_id": payload["turn_id"],
        "conversation_id": payload["conversation_id"],
        "user_id": payload["user_id"],
        "spec": spec,
        "messages": messages,
        "admitted": admitted,
    }
    gpu_fields = payload.get("gpu_fields") or {}
    if gpu_fields.get("sampling") is not None:
        arguments["sampling"] = protocol.SamplingSettings.from_payload(gpu_fields["sampling"])
    if gpu_fields.get("task_fields"):
        arguments["task_fields"] = gpu_fields["task_fields"]
    return arguments


def _end_cancelled(
    lease: PrepareLease,
    payload: dict[str, Any],
    *,
    sources: list[dict[str, Any]] | None = None,
    notices: list[dict[str, Any]] | None = None,
) -> Prepared:
    if sources or notices:
        turn_sources_save(payload["turn_id"], sources=sources or [], notices=notices or [])
    done = {
        "status": "cancelled",
        "finish_reason": "cancelled",
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "reasoning_tokens": 0},
        "timings": {"finished_at": timezone.now().isoformat()},
    }
    return Prepared(ended=True) if lease.end(protocol.EVENT_DONE, done) else Prepared(skipped=True)
