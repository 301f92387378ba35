"""Runs files.extractor in a child process bounded in memory (RLIMIT_AS), CPU time and wall time."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .extractor import Options, Outcome

BACKEND_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Limits:
    seconds: float
    memory_bytes: int


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    text: str
    seconds: float
    peak_rss_bytes: int  # the extractor's (or its Tesseract child's) peak resident memory


def _bounded(limits: Limits) -> None:
    # In the child between fork and exec: Tesseract, started by the extractor, inherits these too.
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    cpu = int(limits.seconds) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    os.nice(5)  # below the ASGI server and the backend worker on a shared host


def run(*, path: Path, kind: str, mime: str, options: Options, limits: Limits) -> Result:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="whale-extract-") as workdir:
        output = Path(workdir) / "text.txt"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(BACKEND_DIR),
            "HOME": workdir,
            "TMPDIR": workdir,
            "OMP_THREAD_LIMIT": "1",  # Tesseract: one thread, so the memory bound is predictable
            "LANG": "C.UTF-8",
        }
        command = [sys.executable, "-s", "-m", "files.extractor", str(path), kind, mime, str(output)]
        command.append(json.dumps(asdict(options)))
        try:
            completed = subprocess.run(  # noqa: S603 - our own interpreter and module, arguments not from a shell
                command,
                capture_output=True,
                timeout=limits.seconds,
                env=env,
                cwd=str(BACKEND_DIR),
                preexec_fn=lambda: _bounded(limits),
                check=False,
            )
        except subprocess.TimeoutExpired:
            outcome = Outcome(status="failed", reason="timeout", message="Reading this file took too long.")
            return Result(outcome, "", time.monotonic() - started, 0)
        seconds = time.monotonic() - started
        lines = completed.stdout.decode("utf-8", "replace").strip().splitlines()
        if completed.returncode != 0 or not lines:
            stderr = completed.stderr.decode("utf-8", "replace")
            if "MemoryError" in stderr or "std::bad_alloc" in stderr:
                outcome = Outcome(
                    status="failed", reason="too_large", message="This file needs too much memory to read."
                )
            else:
                outcome = Outcome(status="failed", reason="damaged", message="This file is damaged and cannot be read.")
            return Result(outcome, "", seconds, 0)
        outcome = Outcome(**json.loads(lines[-1]))
        text = output.read_text(encoding="utf-8") if outcome.status == "ready" else ""
        return Result(outcome, text, seconds, outcome.peak_rss_kib * 1024)
