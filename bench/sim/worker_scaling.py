"""Worker scaling: N GPU worker processes (simulated engine) on one queue, fed turns directly.

    .venv/bin/python -m bench.sim.worker_scaling --workers 1 2 4 --turns 160 --out docs/scaling/worker_scaling.json

Each worker is the real `python -m inference.worker --engine simulated` process (Celery with the
threads pool, one asyncio loop, coalesced Redis Stream writes, leases, heartbeats); only the model
is replaced by fixed token timings. `--slots` caps the turns one worker runs at once, standing in for
a GPU's batch capacity, so that one worker is a bottleneck and adding workers should add throughput.
Turns are queued straight onto the GPU queue as the backend would (same payload, same Redis keys);
their completion is read from each turn's event stream. No backend process runs here: this isolates
the worker side. The backend's own limits are measured by bench/sim/backend_limits.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, cast

from redis import Redis

from inference import celery_app, heartbeat, protocol
from inference.protocol import SamplingSettings, TurnTask

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
# Like bench/measure.py's SIMULATED_ENV: 32 reasoning "tokens" then the answer, 128 in all, 50 ms to
# the first and 10 ms between tokens: about 1.3 s and 100 tokens/s per turn, like a small GPU model.
SIM_ENV = {
    "WHALE_SIM_TOKENS": "128",
    "WHALE_SIM_REASONING_TOKENS": "32",
    "WHALE_SIM_FIRST_TOKEN_SECONDS": "0.05",
    "WHALE_SIM_INTER_TOKEN_SECONDS": "0.01",
}


def start_workers(count: int, *, queue: str, prefix: str, redis_url: str, slots: int, log_dir: Path) -> list[Any]:
    env = {**os.environ, **SIM_ENV, "REDIS_URL": redis_url, "WHALE_REDIS_PREFIX": prefix, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    processes = []
    for index in range(count):
        log = (log_dir / f"worker-{count}-{index}.log").open("wb")
        argv = [PYTHON, "-m", "inference.worker", "--engine", "simulated", "--queues", queue]
        argv += ["--concurrency", str(slots), "--loglevel", "WARNING"]
        processes.append(
            subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )
    return processes


def stop_workers(processes: list[Any]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for_heartbeats(client: Redis, prefix: str, count: int, processes: list[Any], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"a worker exited with {process.returncode} before it was ready")
        if len(heartbeat.fresh_local_workers(client, prefix, socket.gethostname())) >= count:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{count} workers did not all send a heartbeat within {timeout:.0f} s")


def make_task(prefix: str, queue_back: str) -> TurnTask:
    turn_id = str(uuid.uuid4())
    return TurnTask(
        turn_id=turn_id,
        conversation_id=str(uuid.uuid4()),
        user_id="sim",
        model="whale-r1",
        reasoning=True,
        messages=[{"role": "user", "content": "Why is the sky blue?"}],
        keys=protocol.turn_keys(prefix, turn_id),
        deadline=time.time() + 600,
        sampling=SamplingSettings(max_tokens=128),
        finalize_queue=queue_back,
    )


def _ms(stream_id: str) -> float:
    return int(stream_id.split("-")[0]) / 1000.0


def run_level(workers: int, *, turns: int, slots: int, redis_url: str, log_dir: Path) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    prefix = f"whale-sim-{tag}"
    queue, queue_back = f"{prefix}:gpu", f"{prefix}:backend"
    client = Redis.from_url(redis_url, decode_responses=True)
    processes = start_workers(workers, queue=queue, prefix=prefix, redis_url=redis_url, slots=slots, log_dir=log_dir)
    try:
        wait_for_heartbeats(client, prefix, workers, processes)
        tasks = [make_task(prefix, queue_back) for _ in range(turns)]
        submitted: dict[str, float] = {}
        start = time.time()
        for task in tasks:
            # What the backend writes before it queues a turn: the "queued" event, then the task.
            client.xadd(task.keys.events, cast(Any, protocol.encode_event("queued", {"model": task.model})))
            submitted[task.turn_id] = time.time()
            celery_app.app.send_task(protocol.TASK_GENERATE_TURN, args=[task.to_payload()], queue=queue)
        outstanding = {task.turn_id: task for task in tasks}
        samples: list[dict[str, float]] = []
        deadline = time.monotonic() + 60 + turns * 2.0 / workers
        while outstanding and time.monotonic() < deadline:
            ids = list(outstanding)
            with client.pipeline(transaction=False) as pipe:
                for turn_id in ids:
                    pipe.xrevrange(outstanding[turn_id].keys.events, count=1)
                lasts = pipe.execute()
            for turn_id, last in zip(ids, lasts, strict=True):
                if not last or protocol.decode_event(last[0][1])[0] not in protocol.TERMINAL_EVENTS:
                    continue
                task = outstanding.pop(turn_id)
                entries = cast(list[Any], client.xrange(task.keys.events))
                kinds = [(entry_id, protocol.decode_event(fields)) for entry_id, fields in entries]
                started = next(_ms(i) for i, (kind, _) in kinds if kind == protocol.EVENT_STARTED)
                first_token = next(
                    _ms(i) for i, (kind, _) in kinds if kind in (protocol.EVENT_REASONING, protocol.EVENT_CONTENT)
                )
                done_id, (kind, data) = kinds[-1]
                samples.append(
                    {
                        "queue_wait": started - submitted[turn_id],
                        "first_token": first_token - submitted[turn_id],
                        "finished": _ms(done_id),
                        "tokens": float(data.get("usage", {}).get("completion_tokens", 0)),
                        "ok": 1.0 if kind == protocol.EVENT_DONE and data.get("status") == "done" else 0.0,
                    }
                )
            time.sleep(0.1)
        if outstanding:
            raise TimeoutError(f"{len(outstanding)} of {turns} turns did not finish")
        wall = max(s["finished"] for s in samples) - start
        waits = sorted(s["queue_wait"] for s in samples)
        first = sorted(s["first_token"] for s in samples)
        return {
            "workers": workers,
            "slots_per_worker": slots,
            "turns": turns,
            "completed": int(sum(s["ok"] for s in samples)),
            "wall_seconds": round(wall, 2),
            "turns_per_second": round(turns / wall, 2),
            "tokens_per_second": round(sum(s["tokens"] for s in samples) / wall, 1),
            "queue_wait_p50": round(statistics.median(waits), 3),
            "queue_wait_p95": round(waits[int(0.95 * (len(waits) - 1))], 3),
            "first_token_p50": round(statistics.median(first), 3),
            "first_token_p95": round(first[int(0.95 * (len(first) - 1))], 3),
            "ideal_turns_per_second": round(workers * slots / _turn_seconds(), 2),
        }
    finally:
        stop_workers(processes)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.delete(queue, queue_back)
        client.close()


def _turn_seconds() -> float:
    tokens = int(SIM_ENV["WHALE_SIM_TOKENS"])
    return float(SIM_ENV["WHALE_SIM_FIRST_TOKEN_SECONDS"]) + (tokens - 1) * float(
        SIM_ENV["WHALE_SIM_INTER_TOKEN_SECONDS"]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--turns", type=int, default=160)
    parser.add_argument("--slots", type=int, default=8, help="turns one worker runs at once (its 'GPU batch')")
    parser.add_argument("--redis-url", default=os.environ.get("WHALE_SIM_REDIS_URL", "redis://127.0.0.1:6379/1"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "scaling" / "worker_scaling.json")
    args = parser.parse_args(argv)
    os.environ["REDIS_URL"] = args.redis_url
    celery_app.app.conf.update(broker_url=args.redis_url)
    log_dir = ROOT / "var" / "sim"
    log_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for workers in args.workers:
        result = run_level(workers, turns=args.turns, slots=args.slots, redis_url=args.redis_url, log_dir=log_dir)
        print(json.dumps(result), flush=True)
        results.append(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    conditions = {
        "machine": f"{os.cpu_count()} CPU cores shared with other engineers' work, {platform.platform()}",
        "python": sys.version.split()[0],
        "engine": "simulated",
        "simulated_timings": SIM_ENV,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    args.out.write_text(json.dumps({"conditions": conditions, "results": results}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
