"""Starting and stopping the processes a case needs: each in its own process group, logging to a file."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = REPO_ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")
DEMO_MODEL = REPO_ROOT / "inference" / "demo_model" / "whale-tiny-r1"
DEMO_MODEL_NAME = "whale-tiny-r1"
# vLLM on two shared CPU cores starts in 30-60 s; allow for a busy machine.
START_TIMEOUT_SECONDS = 300.0


logger = logging.getLogger(__name__)

QUIET_CPU_PERCENT = 15.0  # all cores together: what an idle machine with Postgres and Redis shows here
QUIET_TIMEOUT_SECONDS = 90.0


def wait_for_quiet(what: str, *, timeout: float = QUIET_TIMEOUT_SECONDS) -> float:
    """Waits until the machine's CPU is quiet for 3 s in a row (an engine still spinning from the last case
    starves the next one, and its first-token times then read 10x worse); returns the seconds waited."""
    import psutil

    started = time.monotonic()
    quiet_for = 0
    psutil.cpu_percent(interval=None)
    while quiet_for < 3 and time.monotonic() - started < timeout:
        busy = psutil.cpu_percent(interval=1.0)
        quiet_for = quiet_for + 1 if busy < QUIET_CPU_PERCENT else 0
    waited = time.monotonic() - started
    if quiet_for < 3:
        logger.warning("the machine did not go quiet within %.0f s before %s: results will be noisy", timeout, what)
    return waited


class Process:
    def __init__(
        self,
        name: str,
        popen: subprocess.Popen[bytes],
        log_path: Path,
        *,
        argv: list[str] | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.popen = popen
        self.log_path = log_path
        self.argv, self.env, self.cwd = argv, env, cwd

    def restart(self) -> None:
        """Starts the same command again (after it died or was killed), appending to its log."""
        if self.argv is None or self.env is None or self.cwd is None:
            raise RuntimeError(f"{self.name} was not started by processes.start()")
        self.stop()
        self.popen = _popen(self.argv, env=self.env, cwd=self.cwd, log_path=self.log_path, mode="ab")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}; its log ends:\n{self.log_tail()}")

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM to the whole group (vLLM's engine core is a child), SIGKILL if it lingers."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        # Children (the engine core) may outlive their parent: end the group either way.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)


def _popen(argv: list[str], *, env: dict[str, str], cwd: Path, log_path: Path, mode: str) -> subprocess.Popen[bytes]:
    with log_path.open(mode) as log:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def start(name: str, argv: list[str], *, env: dict[str, str], cwd: Path, log_dir: Path) -> Process:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    popen = _popen(argv, env=env, cwd=cwd, log_path=log_path, mode="wb")
    return Process(name, popen, log_path, argv=argv, env=env, cwd=cwd)


@contextlib.contextmanager
def running(processes: list[Process]) -> Iterator[list[Process]]:
    try:
        yield processes
    finally:
        for process in reversed(processes):
            process.stop()


def wait_until(
    ready: Callable[[], bool], *, processes: list[Process], what: str, timeout: float = START_TIMEOUT_SECONDS
) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        for process in processes:
            process.check_alive()
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}:\n{p.log_tail()}" for p in processes)
            raise RuntimeError(f"{what} was not ready after {timeout:.0f} s\n{tails}")
        time.sleep(0.5)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """User plus system CPU seconds of every live process in a process group (a process and its children)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command: state, ppid, pgrp, ... utime is the 12th field, stime the 13th.
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / _CLOCK_TICKS


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a local URL we built
            return bool(200 <= response.status < 300)
    except (urllib.error.URLError, OSError):
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env() -> dict[str, str]:
    """This environment without Django's settings module (each process gets what it needs)."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(PYTHONUNBUFFERED="1", VLLM_CPU_KVCACHE_SPACE=env.get("VLLM_CPU_KVCACHE_SPACE", "1"))
    return env
