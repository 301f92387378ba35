"""Sampling profiles of our stack's processes during a benchmark level (py-spy), and their top frames.

    python -m bench --engines simulated --cases stack --levels 128 --profile var/bench/profile
    python -m bench.profile var/bench/profile/*.txt      # the top frames of each recorded profile

py-spy reads a running process's stacks from outside (no code in the process, no restart); it
samples the thread holding the GIL, so the counts are where the processes' Python CPU time went.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .processes import VENV_BIN

SAMPLES_PER_SECOND = 100
# A frame as py-spy's raw format writes it: `function (path/to/module.py:line)`.
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")


@contextlib.contextmanager
def recording(pids: dict[str, int], out_dir: Path, label: str) -> Iterator[None]:
    """py-spy records each named process (and its children) while the block runs: `<name>-<label>.txt`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    spies = []
    for name, pid in pids.items():
        argv = [
            str(VENV_BIN / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--gil",  # only the thread holding the GIL: where the Python CPU time goes, not threads waiting
            "--rate",
            str(SAMPLES_PER_SECOND),
            "--format",
            "raw",
            "--output",
            str(out_dir / f"{name}-{label}.txt"),
        ]
        spies.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        yield
    finally:
        for spy in spies:  # SIGINT: py-spy writes what it sampled and exits
            spy.send_signal(signal.SIGINT)
        for spy in spies:
            with contextlib.suppress(subprocess.TimeoutExpired):
                spy.wait(timeout=60)
            if spy.poll() is None:
                spy.kill()


def _frame_name(frame: str) -> str:
    """`function (module.py)`: one name for a function, whatever line of it was running."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    return f"{match['function']} ({match['file']})"


@dataclass
class Summary:
    samples: int
    self_frames: list[tuple[str, int]]  # where the samples were taken (the innermost frame)
    inclusive_frames: list[tuple[str, int]]  # frames on the stack at all, whatever they called


def summarize(raw: str, *, top: int = 15) -> Summary:
    """The most sampled frames of a py-spy raw (collapsed-stack) profile, by self and by inclusive count."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # With --subprocesses the first frame names the process: keep real frames only.
        frames = [_frame_name(frame) for frame in stack.split(";") if frame and not frame.startswith("process ")]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            anywhere[name] += count
    return Summary(total, own.most_common(top), anywhere.most_common(top))


def summary_markdown(title: str, summary: Summary) -> str:
    def rows(frames: list[tuple[str, int]]) -> list[str]:
        return [f"| `{name}` | {count / max(summary.samples, 1):.0%} |" for name, count in frames]

    return "\n".join(
        [
            f"#### {title} ({summary.samples:,} samples)",
            "",
            "| innermost frame (self) | share |",
            "|---|---:|",
            *rows(summary.self_frames),
            "",
            "| on the stack (inclusive) | share |",
            "|---|---:|",
            *rows(summary.inclusive_frames),
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    for path in args.profiles:
        print(summary_markdown(path.stem, summarize(path.read_text(errors="replace"), top=args.top)))


if __name__ == "__main__":
    main()
