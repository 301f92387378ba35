"""Runs one chat turn (or title request) on an engine and writes its events to the turn's Redis Stream, once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from inference import protocol
from inference.engines.base import Engine, EngineError, GenerationChunk, GenerationRequest
from inference.grouped import GroupedPipeline
from inference.notices import NoticeSender, TaskSender
from inference.prompting import title_messages
from inference.protocol import TitleTask, ToolCallDelta, TurnKeys, TurnTask
from inference.tools import assemble_tool_calls

logger = logging.getLogger(__name__)

T = TypeVar("T")

TITLE_MAX_CHARS = 60
TITLE_MAX_TOKENS = 16
# After asking the engine to abort, how long to wait for its stream to end before dropping it.
ABORT_GRACE_SECONDS = 2.0

# Redis gone for a moment (a restart, a failover): a turn's writes are retried, 0.1 s doubling to 2 s,
# for as long as its lease would still be alive. A turn that can finish in that window finishes;
# one whose lease lapsed is left to the backend's reaper, which ends it `worker_lost`.
RETRY_FIRST_SECONDS = 0.1
RETRY_MAX_SECONDS = 2.0

# Deletes the lease only while this worker still holds it.
_RELEASE_LEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

# The terminal event, the stream's expiry and the lease released, only while this worker holds the
# lease: after an outage longer than the lease, the reaper may have ended the turn already.
# KEYS: lease, events; ARGV: worker id, type, data, stream TTL.
_SETTLE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('xadd', KEYS[2], '*', 'type', ARGV[2], 'data', ARGV[3])
redis.call('expire', KEYS[2], tonumber(ARGV[4]))
redis.call('del', KEYS[1])
return 1
"""


class LeaseLapsed(Exception):
    """Redis was unreachable for longer than the turn's lease lives: another party may own the turn now."""


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


def _stream_id_time(entry_id: str) -> str | None:
    ms, _, _ = entry_id.partition("-")
    return datetime.fromtimestamp(int(ms) / 1000, UTC).isoformat() if ms.isdigit() else None


@dataclass
class _Progress:
    """What the engine has produced so far, and what is waiting to be flushed to the stream."""

    reasoning: list[str] = field(default_factory=list)
    content: list[str] = field(default_factory=list)
    tool_calls: list[ToolCallDelta] = field(default_factory=list)  # waiting to be flushed
    all_tool_calls: list[ToolCallDelta] = field(default_factory=list)
    last: GenerationChunk | None = None
    first_token_at: str | None = None
    # Set when the first text arrives: that delta is written at once, not after a coalescing interval.
    first_token: asyncio.Event = field(default_factory=asyncio.Event)
    # Whether any text has been handed to a flush yet.
    text_taken: bool = False

    def take(self) -> tuple[str, str]:
        reasoning, content = "".join(self.reasoning), "".join(self.content)
        self.reasoning.clear()
        self.content.clear()
        self.text_taken = self.text_taken or bool(reasoning or content)
        return reasoning, content


@dataclass
class _Lease:
    """Until when this worker's lease on a turn surely lives (renewals push it out)."""

    valid_until: float

    def renewed(self, now: float) -> None:
        self.valid_until = now + protocol.LEASE_TTL_SECONDS


@dataclass
class _Outage:
    """Backoff while Redis is unreachable, logged once when it starts and once when it ends."""

    failures: int = 0
    delay: float = RETRY_FIRST_SECONDS

    async def wait(self, turn_id: str, exc: BaseException, *, what: str = "writing") -> None:
        if self.failures == 0:
            logger.warning("turn %s: Redis unreachable while %s (%s); retrying", turn_id, what, exc)
        self.failures += 1
        await asyncio.sleep(self.delay)
        self.delay = min(self.delay * 2, RETRY_MAX_SECONDS)

    def ended(self, turn_id: str) -> None:
        if self.failures:
            logger.info("turn %s: Redis is back after %d failed tries", turn_id, self.failures)
            self.failures, self.delay = 0, RETRY_FIRST_SECONDS


class TurnRunner:
    """Runs turns on one event loop: any number at once, each writing coalesced events to its stream."""

    def __init__(
        self,
        *,
        engine: Engine,
        redis: Redis,
        send_task: TaskSender,
        worker_id: str,
        flush_interval: float = protocol.FLUSH_INTERVAL_SECONDS,
        flush_interval_max: float = protocol.FLUSH_INTERVAL_MAX_SECONDS,
        lease_renew_interval: float = protocol.LEASE_RENEW_SECONDS,
    ) -> None:
        self.engine = engine
        self.redis = redis
        self.worker_id = worker_id
        self.flush_interval = flush_interval
        self.flush_interval_max = max(flush_interval, flush_interval_max)
        self.lease_renew_interval = lease_renew_interval
        self.in_flight = 0
        self.flushes = GroupedPipeline(redis)  # the running turns' flushes, grouped into shared pipelines
        self.notices = NoticeSender(send_task, running=lambda: self.in_flight)  # grouped when many turns run
        self._release_lease = redis.register_script(_RELEASE_LEASE)
        self._settle_script = redis.register_script(_SETTLE)

    # --- turns ------------------------------------------------------------------------------

    async def run_turn(self, task: TurnTask) -> str:
        """Runs the turn unless another delivery has it or had it; returns what happened, for logs and tests."""
        keys = task.keys
        # One round trip: take the lease, and read what the stream already says (used only when taken).
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(keys.lease, self.worker_id, nx=True, ex=protocol.LEASE_TTL_SECONDS)
            pipe.xrange(keys.events, count=1)
            pipe.xrevrange(keys.events, count=1)
            pipe.exists(keys.cancel)
            leased, first, last, cancel_requested = await pipe.execute()
        if not leased:
            logger.info("turn %s is already leased: skipping this delivery", task.turn_id)
            return "skipped"
        self.in_flight += 1
        try:
            return await self._run_leased(task, first, last, bool(cancel_requested))
        finally:
            self.in_flight -= 1

    async def _run_leased(self, task: TurnTask, first: Any, last: Any, cancel_requested: bool) -> str:
        keys = task.keys
        lease = _Lease(asyncio.get_running_loop().time() + protocol.LEASE_TTL_SECONDS)
        if last and protocol.decode_event(last[0][1])[0] in protocol.TERMINAL_EVENTS:
            logger.info("turn %s already ended: skipping this delivery", task.turn_id)
            await self._release_lease(keys=[keys.lease], args=[self.worker_id])
            return "skipped"
        timings: dict[str, Any] = {}
        if first and protocol.decode_event(first[0][1])[0] == protocol.EVENT_QUEUED:
            timings["queued_at"] = _stream_id_time(first[0][0])
        try:
            if cancel_requested:
                timings["finished_at"] = iso_now()
                await self._settle(task, lease, protocol.EVENT_DONE, _done("cancelled", "cancelled", None, timings))
                return "cancelled"
            if time.time() > task.deadline:
                await self._settle(task, lease, protocol.EVENT_ERROR, _deadline_error())
                return "deadline_exceeded"
        except LeaseLapsed:
            return "lease_lost"

        timings["started_at"] = iso_now()
        # The backend marks the turn started meanwhile: the answer does not wait for the broker.
        notice = (
            asyncio.create_task(
                self._send(protocol.TASK_TURN_STARTED, [task.turn_id, timings["started_at"]], task.finalize_queue)
            )
            if task.notify_started
            else None
        )
        started = {"model": task.model, "served_model": self.engine.info.model, "started_at": timings["started_at"]}
        try:
            return await self._generate(task, lease, timings, started)
        except LeaseLapsed:
            logger.warning("turn %s: Redis was unreachable past the lease; leaving it to the reaper", task.turn_id)
            return "lease_lost"
        finally:
            if notice is not None:
                await notice  # never raises: _send logs what it could not send

    async def _generate(self, task: TurnTask, lease: _Lease, timings: dict[str, Any], started: dict[str, Any]) -> str:
        keys = task.keys
        request_id = task.request_id or f"turn-{task.turn_id}-{uuid.uuid4().hex[:8]}"
        request = GenerationRequest(
            request_id=request_id,
            messages=[dict(m) for m in task.messages],
            reasoning=task.reasoning,
            sampling=task.sampling,
            tools=task.tools,
            tool_choice=task.tool_choice,
            parallel_tool_calls=task.parallel_tool_calls,
            prompt=task.prompt,
        )
        progress = _Progress()
        # The engine starts on the prompt while `started` is written; every delta is written after it.
        producer = asyncio.create_task(self._pump(request, progress))
        try:
            await self._retrying(
                task,
                lease,
                "writing started",
                lambda: self.redis.xadd(keys.events, _event(protocol.EVENT_STARTED, started)),
            )
        except BaseException:
            await self._stop(request_id, producer)
            raise
        loop = asyncio.get_running_loop()
        next_renewal = loop.time() + self.lease_renew_interval
        stopped: str | None = None  # "cancelled", "deadline" or "lease_lost"
        outage = _Outage()
        while not producer.done():
            await self._wait_for_output(producer, progress)
            renew = loop.time() >= next_renewal or outage.failures > 0
            try:
                cancel_requested, lease_holder = await self._flush(keys, progress, renew=renew)
            except RedisError as exc:
                if loop.time() + outage.delay > lease.valid_until:
                    await self._stop(request_id, producer)
                    raise LeaseLapsed from exc
                await outage.wait(task.turn_id, exc)
                continue
            outage.ended(task.turn_id)
            if renew:
                next_renewal = loop.time() + self.lease_renew_interval
                if lease_holder == self.worker_id:
                    lease.renewed(loop.time())
            if renew and lease_holder != self.worker_id:
                stopped = "lease_lost"
            elif cancel_requested:
                stopped = "cancelled"
            elif time.time() > task.deadline:
                stopped = "deadline"
            if stopped:
                await self._stop(request_id, producer)
                break

        if stopped == "lease_lost":
            logger.warning("turn %s: lost its lease (another party ended it); stopping silently", task.turn_id)
            return "lease_lost"
        error: BaseException | None = None
        if producer.done() and not producer.cancelled():
            error = producer.exception()
        # The last text, with the lease renewed: retried while Redis is away, for as long as the lease lives.
        _, lease_holder = await self._retrying(
            task, lease, "writing the last text", lambda: self._flush(keys, progress, renew=True)
        )
        if lease_holder != self.worker_id:
            logger.warning("turn %s: lost its lease before its end; stopping silently", task.turn_id)
            return "lease_lost"
        lease.renewed(loop.time())
        timings["first_token_at"] = progress.first_token_at
        timings["finished_at"] = iso_now()
        if stopped == "deadline":
            await self._settle(task, lease, protocol.EVENT_ERROR, _deadline_error())
            return "deadline_exceeded"
        if stopped == "cancelled":
            await self._settle(
                task, lease, protocol.EVENT_DONE, _done("cancelled", "cancelled", progress.last, timings)
            )
            return "cancelled"
        if error is not None or progress.last is None or progress.last.finish_reason in {None, "abort"}:
            if error is not None and not isinstance(error, EngineError):
                logger.error("turn %s failed", task.turn_id, exc_info=error)
            code = error.code if isinstance(error, EngineError) else "engine_error"
            # A refused request says why; anything else stays generic for the user.
            message = (
                str(error) if code == protocol.ERROR_INVALID_REQUEST else "The model could not finish this answer."
            )
            await self._settle(task, lease, protocol.EVENT_ERROR, {"code": code, "message": message})
            return "error"
        await self._settle(
            task,
            lease,
            protocol.EVENT_DONE,
            _done("done", progress.last.finish_reason or "stop", progress.last, timings, progress.all_tool_calls),
        )
        return "done"

    async def _retrying(self, task: TurnTask, lease: _Lease, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Runs one Redis write, again with backoff while Redis is unreachable, until the lease would lapse."""
        loop = asyncio.get_running_loop()
        outage = _Outage()
        while True:
            try:
                result = await operation()
            except RedisError as exc:
                if loop.time() + outage.delay > lease.valid_until:
                    raise LeaseLapsed(what) from exc
                await outage.wait(task.turn_id, exc, what=what)
                continue
            outage.ended(task.turn_id)
            return result

    def coalescing_interval(self) -> float:
        """The flush interval now: the base one, longer while more than FLUSH_BUSY_TURNS turns run here."""
        load = self.in_flight / protocol.FLUSH_BUSY_TURNS
        return min(self.flush_interval_max, self.flush_interval * max(1.0, load))

    async def _wait_for_output(self, producer: asyncio.Task[None], progress: _Progress) -> None:
        """Waits one coalescing interval; until the first token is out, returns as soon as it arrives."""
        if progress.text_taken:
            await asyncio.wait({producer}, timeout=self.coalescing_interval())
            return
        if progress.first_token.is_set():  # it came while the last (empty) flush was on its way
            return
        first = asyncio.ensure_future(progress.first_token.wait())
        try:
            await asyncio.wait({producer, first}, timeout=self.flush_interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            first.cancel()

    async def _pump(self, request: GenerationRequest, progress: _Progress) -> None:
        async for chunk in self.engine.generate(request):
            if (chunk.reasoning or chunk.content or chunk.tool_calls) and progress.first_token_at is None:
                progress.first_token_at = iso_now()
                progress.first_token.set()
            if chunk.reasoning:
                progress.reasoning.append(chunk.reasoning)
            if chunk.content:
                progress.content.append(chunk.content)
            progress.tool_calls.extend(chunk.tool_calls)
            progress.all_tool_calls.extend(chunk.tool_calls)
            progress.last = chunk

    async def _stop(self, request_id: str, producer: asyncio.Task[None]) -> None:
        try:
            await self.engine.abort(request_id)
        except Exception:  # stopping must not fail the turn
            logger.warning("aborting %s failed", request_id, exc_info=True)
        await asyncio.wait({producer}, timeout=ABORT_GRACE_SECONDS)
        if not producer.done():
            producer.cancel()
        with contextlib.suppress(BaseException):
            await producer

    async def _flush(self, keys: TurnKeys, progress: _Progress, *, renew: bool) -> tuple[bool, str | None]:
        """One round trip (shared with the other turns flushing now): the buffered deltas, the lease renewal
        when due, and a look at the cancel key."""
        reasoning, content = progress.take()
        calls, progress.tool_calls = _coalesce(progress.tool_calls), []

        def build(pipe: Any) -> int:
            queued = 0
            if reasoning:
                pipe.xadd(keys.events, _event(protocol.EVENT_REASONING, {"delta": reasoning}))
                queued += 1
            if content:
                pipe.xadd(keys.events, _event(protocol.EVENT_CONTENT, {"delta": content}))
                queued += 1
            for call in calls:
                pipe.xadd(keys.events, _event(protocol.EVENT_TOOL_CALL, dict(call)))
                queued += 1
            if renew:
                pipe.get(keys.lease)
                pipe.expire(keys.lease, protocol.LEASE_TTL_SECONDS)
                queued += 2
            pipe.get(keys.cancel)
            return queued + 1

        try:
            results = await self.flushes.execute(build)
        except RedisError:
            # Keep the text for the next flush rather than lose it.
            progress.reasoning.insert(0, reasoning)
            progress.content.insert(0, content)
            progress.tool_calls[:0] = calls
            raise
        lease_holder = results[-3] if renew else self.worker_id
        return results[-1] is not None, lease_holder

    async def _settle(self, task: TurnTask, lease: _Lease, event_type: str, data: dict[str, Any]) -> None:
        """The terminal event, the stream's expiry and the lease released (while the lease is ours, in one
        step, retried while Redis is away), then the backend told to save the turn."""
        keys = task.keys
        fields = _event(event_type, data)
        written = await self._retrying(
            task,
            lease,
            "writing the end",
            lambda: self._settle_script(
                keys=[keys.lease, keys.events],
                args=[self.worker_id, fields["type"], fields["data"], protocol.STREAM_TTL_SECONDS],
            ),
        )
        if not written:
            logger.warning("turn %s: its lease was gone at the end (the reaper ended it); not writing", task.turn_id)
            raise LeaseLapsed("the lease was gone at the end")
        notice = [task.turn_id, task.origin] if task.origin else [task.turn_id]
        await self._send(protocol.TASK_FINALIZE_TURN, notice, task.finalize_queue)

    async def _send(self, name: str, args: list[Any], queue: str) -> None:
        try:
            await self.notices.send(name, args, queue)
        except Exception:  # the backend's reaper settles a turn whose message was lost
            logger.warning("could not send %s%s to %s", name, args, queue, exc_info=True)

    # --- titles -----------------------------------------------------------------------------

    async def run_title(self, task: TitleTask) -> str:
        """Asks the chat model (no reasoning) to name the conversation, and sends the title to the backend."""
        question = next((m["content"] for m in task.messages if m["role"] == "user"), "")
        request = GenerationRequest(
            request_id=f"title-{task.conversation_id}-{uuid.uuid4().hex[:8]}",
            messages=title_messages(question[:2000]),
            reasoning=False,
            sampling=protocol.SamplingSettings(temperature=0.3, top_p=0.9, max_tokens=TITLE_MAX_TOKENS),
        )
        raw: list[str] = []
        self.in_flight += 1
        try:
            async for chunk in self.engine.generate(request):
                raw.append(chunk.content)
        except EngineError:
            logger.warning("title for conversation %s failed; using the question", task.conversation_id, exc_info=True)
        finally:
            self.in_flight -= 1
        title = clean_title("".join(raw), fallback=question)
        await self._send(protocol.TASK_SAVE_TITLE, [task.conversation_id, task.user_id, title], task.save_queue)
        return title


def _event(event_type: str, data: dict[str, Any]) -> Any:
    """A stream entry's fields (typed loosely: redis-py's stubs want a broader mapping type)."""
    return protocol.encode_event(cast(protocol.EventType, event_type), data)


def _done(
    status: str,
    finish_reason: str,
    last: GenerationChunk | None,
    timings: dict[str, Any],
    tool_calls: list[ToolCallDelta] | None = None,
) -> dict[str, Any]:
    done: dict[str, Any] = {
        "status": status,
        "finish_reason": finish_reason,
        "usage": {
            "prompt_tokens": last.prompt_tokens if last else 0,
            "completion_tokens": last.completion_tokens if last else 0,
            "reasoning_tokens": last.reasoning_tokens if last else 0,
            "cached_tokens": last.cached_tokens if last else 0,
        },
        "timings": {key: value for key, value in timings.items() if value is not None},
    }
    if tool_calls:
        done["tool_calls"] = assemble_tool_calls(tool_calls)
    return done


def _coalesce(deltas: list[ToolCallDelta]) -> list[ToolCallDelta]:
    """Consecutive deltas of one call as one event."""
    merged: list[ToolCallDelta] = []
    for delta in deltas:
        if merged and merged[-1]["index"] == delta["index"]:
            joined = merged[-1].copy()
            joined["arguments_delta"] += delta["arguments_delta"]
            merged[-1] = joined
        else:
            merged.append(delta.copy())
    return merged


def _deadline_error() -> dict[str, Any]:
    return {"code": "deadline_exceeded", "message": "The answer took too long to start or finish. Try again."}


_QUOTES = "\"'`\u201c\u201d\u2018\u2019\u00ab\u00bb*_#"  # straight, curly and angle quotes, markdown marks
_TITLE_PREFIX = re.compile(r"^\s*(title)\s*[:\-]\s*", re.IGNORECASE)


def clean_title(raw: str, *, fallback: str) -> str:
    """A tidy one-line title of at most TITLE_MAX_CHARS, or the question's first words when the model gave none."""
    for tag in ("<think>", "</think>"):
        raw = raw.replace(tag, "")
    line = next((candidate for candidate in raw.splitlines() if candidate.strip()), "")
    line = _TITLE_PREFIX.sub("", line)
    line = " ".join(line.split()).strip(_QUOTES + " ").rstrip(".!?:;,").strip(_QUOTES + " ")
    if not line:
        line = " ".join(fallback.split()[:8]).rstrip(".!?:;,") or "New conversation"
    if len(line) > TITLE_MAX_CHARS:
        cut = line[: TITLE_MAX_CHARS + 1].rsplit(" ", 1)[0]
        line = (cut if len(cut) >= TITLE_MAX_CHARS // 2 else line[:TITLE_MAX_CHARS]).rstrip(" ,;:-")
    return line
