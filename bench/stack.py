"""Our stack end to end, started the way `make run` starts it: uvicorn, the backend Celery worker and the GPU worker.

Everything gets its own Postgres database, Redis key prefix, Celery queues and channel-layer
prefix, so a run never touches anyone's data. Users register through the API and every turn goes
`POST /api/v1/conversations/{id}/messages`, then its events are read over SSE or WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import subprocess
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from redis import Redis

from . import processes, profile
from .clients import (
    BENCH_EMAIL_DOMAIN,
    BenchUser,
    create_api_key,
    create_conversation,
    new_session,
    register,
    stack_sse_one_request_turn,
    stack_sse_turn,
    stack_v1_turn,
    stack_ws_one_socket_turn,
    stack_ws_turn,
)
from .measure import (
    MAX_TOKENS,
    SIMULATED_ENV,
    LevelResult,
    TurnRunner,
    TurnSample,
    arrival_spread,
    run_level,
    turns_per_client,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

TRANSPORTS = ("sse", "ws")
# One request per turn, `--transports sse,sse1,ws,ws1`: sse1 streams the turn in the send's own response;
# ws1 sends on the user's open socket, which then carries the turn's events (no HTTP request at all).
# v1: the partner API, streamed chat completions on /v1/ with an API key, as vLLM's own server is asked.
TURN_CLIENTS = {
    "v1": stack_v1_turn,
    "sse": stack_sse_turn,
    "sse1": stack_sse_one_request_turn,
    "ws": stack_ws_turn,
    "ws1": stack_ws_one_socket_turn,
}
BACKEND_WORKER_THREADS = 8  # as scripts/run.sh starts it


@dataclass
class StackSettings:
    engine: str  # "vllm" or "simulated"
    postgres_url: str  # a server where the run may create (and then drop) its own database
    redis_url: str
    gpu_concurrency: int
    log_dir: Path
    transports: tuple[str, ...] = TRANSPORTS
    backend_env: dict[str, str] = field(default_factory=dict)  # extra settings, for experiments
    arrivals: str = "staggered"  # measure.ARRIVALS
    # More GPU workers with the simulated engine, each on `<prefix>:<name>` with these engine settings
    # (the fault suite's long answers), and the models they serve: model name -> worker name.
    simulated_workers: dict[str, dict[str, str]] = field(default_factory=dict)
    model_workers: dict[str, str] = field(default_factory=dict)
    profile_dir: Path | None = None  # py-spy profiles of each process during each level (bench/profile.py)


def postgres_free_connections(postgres_url: str) -> int | None:
    """How many more connections the server takes now (other work on the machine may hold many)."""
    with contextlib.suppress(psycopg.Error), psycopg.connect(postgres_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int - count(*)"
            " FROM pg_stat_activity WHERE backend_type = 'client backend'"
        ).fetchone()
        return int(row[0]) if row else None
    return None


@contextlib.contextmanager
def _database(postgres_url: str, name: str) -> Iterator[str]:
    """A fresh, empty Postgres database for this run, dropped afterwards."""
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        base, _, _ = postgres_url.rpartition("/")
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _backend_env(settings: StackSettings, database_url: str, prefix: str, var_dir: Path) -> dict[str, str]:
    # `capacity`: the worker runs this many turns at once, so admission control must not hold them back.
    models = {
        name: {
            "display_name": name,
            "queue": f"{prefix}:{settings.model_workers.get(name, 'gpu')}",
            "reasoning": reasoning,
            "capacity": settings.gpu_concurrency,
        }
        for name, reasoning in (("whale-r1", True), ("whale-chat", False))
    }
    env = processes.base_env()
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        WHALE_ENV="development",
        DEBUG="false",  # DEBUG keeps every SQL query in memory: not what a deployment runs
        DATABASE_URL=database_url,
        REDIS_URL=settings.redis_url,
        CELERY_BROKER_URL=settings.redis_url,
        WHALE_REDIS_PREFIX=prefix,
        CHANNELS_PREFIX=f"{prefix}:asgi",
        WHALE_BACKEND_QUEUE=f"{prefix}:backend",
        WHALE_MODELS_JSON=json.dumps(models),
        WHALE_MAX_TOKENS=str(MAX_TOKENS),
        # A title is one more generation per conversation; the engine-alone baseline has none.
        WHALE_AUTO_TITLE="false",
        JWT_ACCESS_SECONDS="7200",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        WHALE_VAR_DIR=str(var_dir),
        LOG_LEVEL="INFO",
    )
    env.update(settings.backend_env)
    return env


def _gpu_env(settings: StackSettings, prefix: str, engine_env: dict[str, str] | None = None) -> dict[str, str]:
    env = processes.base_env()  # no DJANGO_SETTINGS_MODULE: the GPU worker never loads Django
    env.update(
        REDIS_URL=settings.redis_url,
        CELERY_BROKER_URL=settings.redis_url,
        WHALE_REDIS_PREFIX=prefix,
        WHALE_MODEL_PATH=str(processes.DEMO_MODEL),
        WHALE_ALLOW_MODEL_DOWNLOAD="false",
    )
    if engine_env is not None:
        env.update(engine_env)
    elif settings.engine == "simulated":
        env.update(SIMULATED_ENV)
    return env


def _start_gpu_worker(
    settings: StackSettings, prefix: str, *, name: str, engine: str, queue: str, engine_env: dict[str, str] | None
) -> processes.Process:
    return processes.start(
        name,
        [
            processes.PYTHON,
            "-m",
            "inference.worker",
            f"--engine={engine}",
            f"--queues={prefix}:{queue}",
            f"--concurrency={settings.gpu_concurrency}",
            "--loglevel=INFO",
        ],
        env=_gpu_env(settings, prefix, engine_env),
        cwd=processes.REPO_ROOT,
        log_dir=settings.log_dir,
    )


# Bench users get the staff tier (no per-minute, per-day or token limits): the benchmark measures
# throughput, not the limits. Skipped where the ratelimits app is not installed.
_RAISE_LIMITS = f"""
from django.apps import apps
if apps.is_installed("ratelimits"):
    from accounts.models import User
    from ratelimits.defaults import DEFAULT_TIER_BY_SLUG
    from ratelimits.models import Tier, UserLimit
    tier, _ = Tier.objects.get_or_create(slug="staff", defaults=DEFAULT_TIER_BY_SLUG["staff"])
    users = User.objects.filter(email__endswith="@{BENCH_EMAIL_DOMAIN}")
    for user in users:
        UserLimit.objects.update_or_create(user=user, defaults={{"tier": tier}})
    print(f"{{users.count()}} bench users on the {{tier.slug}} tier")
"""


def raise_limits(env: dict[str, str]) -> str:
    """Puts every bench user on the staff tier; returns what the backend said."""
    done = subprocess.run(
        [processes.PYTHON, "manage.py", "shell", "-c", _RAISE_LIMITS],
        cwd=processes.REPO_ROOT / "backend",
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def _logged_ready(process: processes.Process) -> bool:
    """Celery logs `ready.` once it consumes from its queues."""
    try:
        return " ready." in process.log_path.read_text(errors="replace")
    except OSError:
        return False


def _heartbeat_sent(redis: Redis, prefix: str) -> bool:
    return any(True for _ in redis.scan_iter(match=f"{prefix}:worker:*", count=100))


def _cleanup_redis(redis: Redis, prefix: str) -> None:
    """Every key the run wrote: ours carry the prefix, Celery's queue bindings name our queues."""
    keys = [*redis.scan_iter(match=f"{prefix}*", count=1000), *redis.scan_iter(match=f"_kombu.binding.{prefix}*")]
    for start in range(0, len(keys), 500):
        redis.delete(*keys[start : start + 500])


@dataclass
class RunningStack:
    base_url: str
    start_seconds: float
    env: dict[str, str]  # the backend's
    processes: dict[str, processes.Process]  # "asgi", "backend-worker", "gpu-worker", "gpu-worker-<name>"
    prefix: str = ""  # of every Redis key, queue and channel of this run

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by each process group, and by this benchmark client."""
        used = {name: processes.group_cpu_seconds(p.popen.pid) for name, p in self.processes.items()}
        used["bench-client"] = time.process_time()
        return used


@contextlib.contextmanager
def running_stack(settings: StackSettings) -> Iterator[RunningStack]:
    """Starts the three processes on a fresh database and waits until they serve."""
    run_id = uuid.uuid4().hex[:8]
    prefix = f"whale-bench-{run_id}"
    var_dir = settings.log_dir / f"var-{settings.engine}"
    var_dir.mkdir(parents=True, exist_ok=True)
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    started = time.perf_counter()
    try:
        with _database(settings.postgres_url, f"whale_bench_{run_id}") as database_url:
            env = _backend_env(settings, database_url, prefix, var_dir)
            backend_dir = processes.REPO_ROOT / "backend"
            subprocess.run(
                [processes.PYTHON, "manage.py", "migrate", "--no-input"],
                cwd=backend_dir,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            port = processes.free_port()
            gpu = _start_gpu_worker(
                settings,
                prefix,
                name=f"gpu-worker-{settings.engine}",
                engine=settings.engine,
                queue="gpu",
                engine_env=None,
            )
            extra_gpu = {
                name: _start_gpu_worker(
                    settings, prefix, name=f"gpu-worker-{name}", engine="simulated", queue=name, engine_env=engine_env
                )
                for name, engine_env in settings.simulated_workers.items()
            }
            backend_worker = processes.start(
                f"backend-worker-{settings.engine}",
                [
                    str(processes.VENV_BIN / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "-B",
                    "-Q",
                    f"{prefix}:backend",
                    "--pool",
                    "threads",
                    "--concurrency",
                    str(BACKEND_WORKER_THREADS),
                    "--without-gossip",  # nothing here uses it, and Celery 5.7 logs an error restarting it after a broker loss
                    "--without-mingle",
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    str(var_dir / "celerybeat-schedule"),
                    "--hostname",
                    f"{prefix}-backend@%h",
                ],
                env=env,
                cwd=backend_dir,
                log_dir=settings.log_dir,
            )
            asgi = processes.start(
                f"asgi-{settings.engine}",
                [
                    str(processes.VENV_BIN / "uvicorn"),
                    "config.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--proxy-headers",
                    "--no-access-log",
                ],
                env=env,
                cwd=backend_dir,
                log_dir=settings.log_dir,
            )
            everything = [gpu, *extra_gpu.values(), backend_worker, asgi]
            with processes.running(everything):
                base_url = f"http://127.0.0.1:{port}"
                processes.wait_until(
                    lambda: processes.http_ok(f"{base_url}/readyz"), processes=everything, what="the ASGI server"
                )
                processes.wait_until(
                    lambda: _logged_ready(backend_worker), processes=everything, what="the backend worker"
                )
                for worker in (gpu, *extra_gpu.values()):
                    processes.wait_until(
                        lambda worker=worker: _heartbeat_sent(redis, prefix) and _logged_ready(worker),  # type: ignore[misc]
                        processes=everything,
                        what=worker.name,
                    )
                yield RunningStack(
                    base_url=base_url,
                    start_seconds=time.perf_counter() - started,
                    env=env,
                    processes={
                        "asgi": asgi,
                        "backend-worker": backend_worker,
                        "gpu-worker": gpu,
                        **{f"gpu-worker-{name}": worker for name, worker in extra_gpu.items()},
                    },
                    prefix=prefix,
                )
    finally:
        with contextlib.suppress(Exception):
            _cleanup_redis(redis, prefix)
            redis.delete(f"{prefix}:gpu", f"{prefix}:backend")
        redis.close()


# uvicorn and the backend worker each keep a pool of up to DB_POOL_MAX_SIZE (8) connections.
MIN_FREE_CONNECTIONS = 24

# Each client sends its turns round robin to this many conversations of its own, each turn as a new first
# question (the prompt stays the question alone). A conversation runs one turn at a time and the previous
# turn is saved just after its last event, so the next turn goes to another conversation.
CONVERSATIONS_PER_CLIENT = 4


async def _gather_limited(coroutines: list[Coroutine[Any, Any, T]], limit: int) -> list[T]:
    """Runs the coroutines at most `limit` at a time (setup requests, not the measured load)."""
    gate = asyncio.Semaphore(limit)

    async def one(coroutine: Coroutine[Any, Any, T]) -> T:
        async with gate:
            return await coroutine

    return list(await asyncio.gather(*(one(c) for c in coroutines)))


def _profiled(settings: StackSettings, running: RunningStack, label: str) -> contextlib.AbstractContextManager[None]:
    if settings.profile_dir is None:
        return contextlib.nullcontext()
    pids = {name: process.popen.pid for name, process in running.processes.items()}
    return profile.recording(pids, settings.profile_dir, label)


async def measure(
    settings: StackSettings, levels: list[int], *, rounds: int, min_turns: int, warmup: int
) -> dict[str, object]:
    free_connections = postgres_free_connections(settings.postgres_url)
    if free_connections is not None and free_connections < MIN_FREE_CONNECTIONS:
        logger.warning(
            "Postgres takes only %d more connections (other work holds the rest): requests may fail", free_connections
        )
    with running_stack(settings) as running:
        base_url, start_seconds, env = running.base_url, running.start_seconds, running.env
        logger.info("our stack (%s) is up in %.0f s at %s", settings.engine, start_seconds, base_url)
        clients = max([*levels, warmup])
        async with new_session(clients) as session:
            setup_started = time.perf_counter()
            run_id = uuid.uuid4().hex[:6]
            users: list[BenchUser] = await _gather_limited(
                [register(session, base_url, index, run_id) for index in range(clients)], 4
            )
            created = await _gather_limited(
                [
                    create_conversation(session, base_url, users[index])
                    for index in range(clients)
                    for _ in range(CONVERSATIONS_PER_CLIENT)
                ],
                8,
            )
            if "v1" in settings.transports:
                await _gather_limited([create_api_key(session, base_url, user) for user in users], 8)
            logger.info("%s", raise_limits(env) or "no tiers to set")
            pools = [
                created[index * CONVERSATIONS_PER_CLIENT : (index + 1) * CONVERSATIONS_PER_CLIENT]
                for index in range(clients)
            ]
            sent = [0] * clients
            logger.info(
                "registered %d users and created %d conversations in %.0f s",
                clients,
                len(created),
                time.perf_counter() - setup_started,
            )

            def runner(transport: str) -> TurnRunner:
                turn = TURN_CLIENTS[transport]

                async def run_turn(index: int, sequence: int) -> TurnSample:
                    conversation = pools[index][sent[index] % CONVERSATIONS_PER_CLIENT]
                    sent[index] += 1
                    return await turn(session, base_url, users[index], conversation)

                return run_turn

            warm = await run_level(runner(settings.transports[0]), level=warmup, turns_each=1) if warmup else None
            spread = arrival_spread(warm, settings.arrivals)
            results: dict[str, list[LevelResult]] = {transport: [] for transport in settings.transports}
            cpu: dict[str, list[dict[str, float]]] = {transport: [] for transport in settings.transports}
            for level in levels:
                for transport in settings.transports:
                    before = running.cpu_seconds()
                    with _profiled(settings, running, f"{settings.engine}-{transport}-{level}"):
                        result = await run_level(
                            runner(transport),
                            level=level,
                            turns_each=turns_per_client(level, rounds=rounds, min_turns=min_turns),
                            spread_seconds=spread,
                        )
                    after = running.cpu_seconds()
                    # CPU per turn, by process: where our overhead is spent.
                    cpu[transport].append(
                        {name: round((after[name] - before[name]) * 1000 / max(result.turns, 1), 1) for name in after}
                    )
                    logger.info("our stack (%s, %s), %d concurrent: %s", settings.engine, transport, level, result)
                    results[transport].append(result)
                    await asyncio.sleep(1)  # let the backend settle the last turns before the next run
    return {
        "start_seconds": round(start_seconds, 1),
        "postgres_free_connections_at_start": free_connections,
        "backend_env": settings.backend_env,
        "cpu_ms_per_turn": cpu,
        "levels": {transport: [r.to_dict() for r in rs] for transport, rs in results.items()},
    }
