"""Private Redis and Postgres servers on free ports, in a temporary folder, to restart and kill at will.

    with redis_server(tmp, appendonly=True) as redis:        # redis-server from Debian's package
        redis.restart()                                      # SHUTDOWN (AOF flushed) and start again
        redis.kill(); redis.start()                          # SIGKILL: what a crash loses
    with postgres_cluster() as postgres:                     # initdb + pg_ctl from Debian's postgresql
        postgres.restart(mode="immediate")

The fault suite (tests/faults/) and the broker tests run the stack against these, never against
the shared servers other test runs use.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .processes import free_port


def _wait_port(port: int, *, up: bool, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            answered = sock.connect_ex(("127.0.0.1", port)) == 0
        if answered == up:
            return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not go {'up' if up else 'down'} in {timeout:.0f} s")


class RedisServer:
    """One redis-server process; `appendonly` keeps every write across a restart (AOF, fsync each second)."""

    def __init__(self, directory: Path, *, appendonly: bool = False) -> None:
        self.directory = directory
        self.appendonly = appendonly
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (scripts/setup.sh installs it)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if self.appendonly else "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(self.directory / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_port(self.port, up=True)

    def stop(self) -> None:
        """A clean shutdown: the append-only file is flushed first."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [shutil.which("redis-cli") or "redis-cli", "-p", str(self.port), "shutdown"],
                timeout=10,
                capture_output=True,
            )
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        _wait_port(self.port, up=False)

    def kill(self) -> None:
        """SIGKILL: nothing is flushed (without AOF everything is lost)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        _wait_port(self.port, up=False)

    def restart(self, *, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


@contextlib.contextmanager
def redis_server(directory: Path, *, appendonly: bool = False) -> Iterator[RedisServer]:
    server = RedisServer(directory, appendonly=appendonly)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def postgres_bin(name: str) -> str:
    """initdb and pg_ctl: on PATH, or in Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise RuntimeError(f"{name} is not installed (scripts/setup.sh installs Debian's postgresql)")
    return candidates[-1]


class PostgresCluster:
    """A throwaway cluster (initdb) with trust authentication for `postgres` on 127.0.0.1 only.

    It lives in its own folder right under the system's temp directory: run as root, the server
    runs as the `postgres` user, which must be able to reach it."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="whale-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 120) -> None:
        env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
        run_as: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            self._chown_for_postgres()
            run_as = ["runuser", "-u", "postgres", "--"]
        done = subprocess.run([*run_as, *args], env=env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:1])} failed ({done.returncode}): {done.stdout}{done.stderr}")

    def _chown_for_postgres(self) -> None:
        shutil.chown(self.directory, user="postgres")
        for path in self.directory.rglob("*"):
            with contextlib.suppress(OSError):
                shutil.chown(path, user="postgres")

    def init(self) -> None:
        self._run(
            postgres_bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c max_connections=100"
        self._run(
            postgres_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.directory / "postgres.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        _wait_port(self.port, up=True)

    def stop(self, *, mode: str = "fast") -> None:
        """`fast` ends every session cleanly; `immediate` is a crash (recovery runs at the next start)."""
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, *, mode: str = "fast", down_seconds: float = 0.0) -> None:
        self.stop(mode=mode)
        time.sleep(down_seconds)
        self.start()


@contextlib.contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError, RuntimeError):
            cluster.stop(mode="immediate")
        shutil.rmtree(cluster.directory, ignore_errors=True)
