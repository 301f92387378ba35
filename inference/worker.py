"""The GPU worker process: one long-lived engine on ONE asyncio loop thread, fed by a threaded Celery worker.

    python -m inference.worker [--queues gpu.default] [--engine vllm|openai|simulated] [--concurrency 64]
    python -m inference.worker --check     # exit 0 when this host's worker sent a fresh heartbeat

Celery runs in the main process with the threads pool, so N turns are in flight at once and vLLM
batches them; every task hands its coroutine to the one loop and waits. Never a prefork child: the
vLLM engine core is a spawned child process, which a daemonic process may not start.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import socket
import sys
import threading
from concurrent.futures import Future
from typing import Any, TypeVar

from redis import Redis as SyncRedis
from redis.asyncio import Redis

from inference import celery_app, heartbeat, logs, metrics, protocol
from inference.engines import ENGINE_NAMES, Engine, create_engine
from inference.protocol import TitleTask, TurnTask
from inference.turns import TaskSender, TurnRunner

logger = logging.getLogger("inference.worker")

T = TypeVar("T")


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_prefix() -> str:
    return os.environ.get("WHALE_REDIS_PREFIX", "whale")


class LoopThread:
    """One asyncio loop running forever in a daemon thread; other threads submit coroutines to it."""

    def __init__(self, name: str = "whale-engine-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        self._thread.start()

    def submit(self, coro: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Any, timeout: float | None = None) -> Any:
        return self.submit(coro).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


class WorkerRuntime:
    """The engine, the Redis client, the turn runner and the heartbeat, all living on one loop thread."""

    def __init__(
        self,
        engine: Engine,
        *,
        queues: list[str],
        concurrency: int,
        prefix: str | None = None,
        url: str | None = None,
        worker_id: str | None = None,
        send_task: TaskSender = celery_app.send_task,
    ) -> None:
        self.engine = engine
        self.queues = queues
        self.concurrency = concurrency
        self.prefix = prefix or redis_prefix()
        self.url = url or redis_url()
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}"
        self.send_task = send_task
        self.loop_thread = LoopThread()
        self.runner: TurnRunner | None = None
        self._redis: Redis | None = None
        self._heartbeat: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.loop_thread.start()
        self.loop_thread.run(self._start())

    async def _start(self) -> None:
        await self.engine.start()
        # Timeouts: a Redis that stops answering (not only one that refuses) fails a write, which is retried.
        self._redis = Redis.from_url(self.url, decode_responses=True, socket_connect_timeout=2, socket_timeout=10)
        self.runner = TurnRunner(
            engine=self.engine,
            redis=self._redis,
            send_task=self.send_task,
            worker_id=self.worker_id,
            flush_interval=flush_interval(),
            flush_interval_max=flush_interval("WHALE_FLUSH_INTERVAL_MAX_MS", protocol.FLUSH_INTERVAL_MAX_SECONDS),
        )
        self._heartbeat = asyncio.create_task(
            heartbeat.beat_forever(self._redis, self.prefix, self._heartbeat_fields), name="whale-heartbeat"
        )
        info = self.engine.info
        logger.info(
            "worker %s ready: engine %s, model %s%s, queues %s, concurrency %d",
            self.worker_id,
            info.engine,
            info.model,
            " (OFFLINE DEMO FALLBACK)" if info.is_demo_fallback else "",
            ",".join(self.queues),
            self.concurrency,
        )

    def _heartbeat_fields(self) -> dict[str, str]:
        return heartbeat.heartbeat_fields(
            worker_id=self.worker_id,
            info=self.engine.info,
            in_flight=self.runner.in_flight if self.runner else 0,
            capacity=self.concurrency,
            queues=self.queues,
        )

    def _runner(self) -> TurnRunner:
        if self.runner is None:
            raise RuntimeError("the worker runtime has not started")
        return self.runner

    # Called from Celery's worker threads: each blocks until its coroutine is done on the loop.
    def run_turn(self, payload: dict[str, Any]) -> None:
        task = TurnTask.from_payload(_known_fields(payload, TurnTask))
        # The ids follow the coroutine onto the loop (call_soon_threadsafe copies this thread's context).
        with logs.log_context(request_id=task.origin_request_id, turn_id=task.turn_id):
            outcome = self.loop_thread.run(self._runner().run_turn(task))
            metrics.turn_done(outcome)
            logger.info("turn %s: %s", task.turn_id, outcome, extra={"outcome": outcome, "model": task.model})

    def run_title(self, payload: dict[str, Any]) -> None:
        task = TitleTask.from_payload(_known_fields(payload, TitleTask))
        title = self.loop_thread.run(self._runner().run_title(task))
        logger.info("conversation %s titled %r", task.conversation_id, title)

    def stop(self) -> None:
        try:
            self.loop_thread.run(self._stop(), timeout=60)
        finally:
            self.loop_thread.stop()

    async def _stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if self._redis is not None:
            try:
                await heartbeat.forget(self._redis, self.prefix, self.worker_id)
            finally:
                await self._redis.aclose()
        await self.engine.shutdown()


def _known_fields(payload: dict[str, Any], cls: type[TurnTask] | type[TitleTask]) -> dict[str, Any]:
    """A newer backend may add fields (protocol changes stay backward compatible): ignore what we do not know."""
    if int(payload.get("version", protocol.PROTOCOL_VERSION)) > protocol.PROTOCOL_VERSION:
        logger.warning(
            "payload of protocol version %s; this worker speaks %s", payload["version"], protocol.PROTOCOL_VERSION
        )
    known = {f.name for f in dataclasses.fields(cls)}
    return {key: value for key, value in payload.items() if key in known}


def check() -> int:
    """Exit status for a health check: 0 when a worker on this host sent a fresh heartbeat."""
    client = SyncRedis.from_url(redis_url(), decode_responses=True, socket_timeout=5)
    try:
        fresh = heartbeat.fresh_local_workers(client, redis_prefix())
    except Exception as exc:  # noqa: BLE001 - any failure is an unhealthy worker
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if not fresh:
        print(f"unhealthy: no fresh heartbeat from {socket.gethostname()}", file=sys.stderr)
        return 1
    for beat in fresh:
        print(f"ok: {beat['worker_id']} serving {beat['model']} ({beat['in_flight']}/{beat['capacity']} in flight)")
    return 0


def flush_interval(name: str = "WHALE_FLUSH_INTERVAL_MS", default: float = protocol.FLUSH_INTERVAL_SECONDS) -> float:
    """Seconds between a running turn's writes to its stream (WHALE_FLUSH_INTERVAL_MS, 10 to 1000), or the
    longest that gets under load (WHALE_FLUSH_INTERVAL_MAX_MS)."""
    raw = os.environ.get(name, "")
    try:
        milliseconds = float(raw) if raw else default * 1000
    except ValueError:
        logger.warning("%s=%r is not a number; using the default", name, raw)
        milliseconds = default * 1000
    return min(1000.0, max(10.0, milliseconds)) / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inference.worker", description="Whale GPU worker")
    parser.add_argument("--queues", default=os.environ.get("WHALE_GPU_QUEUES", "gpu.default"))
    parser.add_argument("--engine", choices=ENGINE_NAMES, default=os.environ.get("WHALE_ENGINE", "vllm"))
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("WHALE_WORKER_CONCURRENCY", "64")))
    parser.add_argument("--loglevel", default=os.environ.get("LOG_LEVEL", "INFO"))
    parser.add_argument("--check", action="store_true", help="exit 0 when this host's worker is alive, then quit")
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=int(os.environ.get("WHALE_WORKER_METRICS_PORT") or 0),
        help="serve Prometheus metrics on this port (0: off); keep it internal",
    )
    parser.add_argument("--metrics-addr", default=os.environ.get("WHALE_WORKER_METRICS_ADDR", "127.0.0.1"))
    args = parser.parse_args(argv)
    logs.configure(level=args.loglevel, json_format=os.environ.get("LOG_FORMAT", "json") == "json")
    if args.check:
        return check()

    queues = [queue.strip() for queue in args.queues.split(",") if queue.strip()]
    runtime = WorkerRuntime(create_engine(args.engine), queues=queues, concurrency=args.concurrency)
    runtime.start()
    if args.metrics_port:
        info = runtime.engine.info
        metrics.serve(
            port=args.metrics_port,
            addr=args.metrics_addr,
            in_flight=lambda: runtime.runner.in_flight if runtime.runner else 0,
            capacity=args.concurrency,
            worker=runtime.worker_id,
            model=info.model,
            engine=info.engine,
        )
    celery_app.bind_handler(runtime)
    try:
        celery_app.app.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={args.concurrency}",
                f"--queues={','.join(queues)}",
                f"--loglevel={args.loglevel.upper()}",
                f"--hostname=whale-gpu-{runtime.worker_id}@%h",
                "--without-gossip",
                "--without-mingle",
            ]
        )
    finally:
        celery_app.bind_handler(None)
        runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
