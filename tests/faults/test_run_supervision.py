"""`make run` supervises its stack: a killed process comes back, the others keep serving, and the
whole stack stops on Ctrl-C and when whatever started it (`make`) is killed on its own.

scripts/run.sh runs for real, with the simulated engine (no model to load), SQLite and a private
redis-server in a temporary var directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench import processes
from bench.servers import RedisServer, redis_server

pytestmark = pytest.mark.faults

NAMES = ("gpu-worker", "backend-worker", "asgi")


@dataclass
class RunningScript:
    parent: subprocess.Popen[bytes]  # stands in for `make`
    console: Path
    var: Path
    port: int

    def output(self) -> str:
        return self.console.read_text(errors="replace")

    def pids(self) -> dict[str, int]:
        found = {}
        for name in NAMES:
            with contextlib.suppress(OSError, ValueError):
                found[name] = int((self.var / "run" / f"{name}.pid").read_text())
        return found

    def log(self, name: str) -> str:
        return (self.var / "log" / f"{name}.log").read_text(errors="replace")

    def healthy(self) -> bool:
        return processes.http_ok(f"http://127.0.0.1:{self.port}/healthz")


def _alive_in_session(sid: int) -> list[int]:
    """Live processes of a session (run.sh starts each of its processes in its own)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def _until(condition: Callable[[], bool], timeout: float, what: str, script: RunningScript) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:.0f} s; run.sh said:\n{script.output()[-3000:]}")
        time.sleep(0.2)


def _sigint_default() -> None:
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server(Path(tempfile.mkdtemp(prefix="whale-run-redis-"))) as server:
        yield server


@contextlib.contextmanager
def run_script(redis: RedisServer, tmp_path: Path) -> Iterator[RunningScript]:
    var = tmp_path / "var"
    port = processes.free_port()
    env = processes.base_env()
    for name in ("DATABASE_URL", "WHALE_REDIS_PREFIX", "WHALE_BACKEND_QUEUE", "CHANNELS_PREFIX", "WHALE_TEST_DB_NAME"):
        env.pop(name, None)  # SQLite in the temporary var directory, the default names on the private Redis
    env.update(
        REDIS_URL=redis.url,
        WHALE_ENV="development",
        WHALE_VAR_DIR=str(var),
        WHALE_PORT=str(port),
        WHALE_ENGINE="simulated",
        WHALE_SKIP_WEB_BUILD="1",
        WHALE_DOTENV="/dev/null",
        LOG_FORMAT="text",
    )
    console = tmp_path / "console.log"
    with console.open("wb") as out:
        parent = subprocess.Popen(  # noqa: S603 - our own script
            [shutil.which("bash") or "/bin/bash", "-c", "scripts/run.sh; echo 'run.sh ended'"],
            cwd=processes.REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            # As from a terminal: SIGINT at its default and unblocked. Something earlier in the suite can leave
            # it ignored or blocked in this process, and a shell started so cannot trap it (Ctrl-C did nothing).
            preexec_fn=_sigint_default,
        )
    script = RunningScript(parent, console, var, port)
    try:
        _until(lambda: "Whale is running" in script.output() and script.healthy(), 120, "the stack started", script)
        _until(lambda: " ready." in script.log("gpu-worker"), 60, "the GPU worker consumed", script)
        yield script
    finally:
        for pid in script.pids().values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)


def test_a_killed_gpu_worker_is_restarted_and_the_stack_stops_when_make_is_killed(redis, tmp_path) -> None:
    with run_script(redis, tmp_path) as script:
        before = script.pids()
        assert set(before) == set(NAMES)

        os.killpg(before["gpu-worker"], signal.SIGKILL)  # the OOM killer, say

        _until(lambda: "==> restarting the GPU worker" in script.output(), 10, "a restart was announced", script)
        assert "==> the GPU worker (engine: simulated, queues: gpu.default) exited (status 137); restarting in 1 s" in (
            script.output()
        )
        _until(
            lambda: script.pids().get("gpu-worker") not in (None, before["gpu-worker"]), 15, "a new GPU worker", script
        )
        _until(lambda: script.log("gpu-worker").count(" ready.") >= 2, 60, "the new GPU worker consumed", script)
        assert script.healthy()  # the others kept serving
        after = script.pids()
        assert (after["asgi"], after["backend-worker"]) == (before["asgi"], before["backend-worker"])

        os.kill(script.parent.pid, signal.SIGKILL)  # only `make` dies

        everything = {*before.values(), *after.values()}
        _until(lambda: not any(_alive_in_session(pid) for pid in everything), 20, "every process stopped", script)
        assert "is gone" in script.output()


def _register(script: RunningScript, email: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{script.port}/api/v1/auth/register",
        data=json.dumps({"email": email, "password": "a long enough passphrase"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own local server
        return int(response.status)


def test_ctrl_c_stops_every_process(redis, tmp_path) -> None:
    with run_script(redis, tmp_path) as script:
        # The development email's code reaches the console, not only the worker's log.
        assert _register(script, "ada@example.com") == 201
        _until(
            lambda: (
                re.search(r"^==> verification code for ada@example\.com: \d{6}$", script.output(), re.M) is not None
            ),
            30,
            "the verification code was printed",
            script,
        )

        pids = script.pids()
        run_sh = [pid for pid in _alive_in_session(script.parent.pid) if pid != script.parent.pid]
        assert run_sh, "run.sh is running"

        for pid in run_sh:  # Ctrl-C: the terminal signals the foreground group (the children have their own)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)

        _until(lambda: not any(_alive_in_session(pid) for pid in pids.values()), 20, "every process stopped", script)
        _until(lambda: "run.sh ended" in script.output(), 10, "run.sh ended", script)
        assert "==> stopping" in script.output()
        assert not (script.var / "run" / "asgi.pid").exists()
