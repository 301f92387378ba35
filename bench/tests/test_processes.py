"""bench.processes.wait_for_quiet: a case starts once the machine's CPU has been quiet for 3 s in a row."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import psutil
import pytest

from bench import processes


def _readings(monkeypatch: pytest.MonkeyPatch, values: Iterator[float]) -> list[float | None]:
    """psutil's CPU reading replaced by `values` (this machine's own load is not ours to set): the calls made."""
    calls: list[float | None] = []

    def cpu_percent(interval: float | None = None) -> float:
        calls.append(interval)
        return 0.0 if interval is None else next(values)

    monkeypatch.setattr(psutil, "cpu_percent", cpu_percent)
    return calls


def test_a_case_waits_for_three_quiet_seconds_in_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _readings(monkeypatch, iter([80.0, 5.0, 5.0, 60.0, 5.0, 5.0, 5.0, 90.0]))
    processes.wait_for_quiet("a case")
    assert calls == [None, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]  # the spike reset the count; the 90 is never read


def test_a_machine_that_never_goes_quiet_is_said_and_not_waited_for_forever(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr(processes.time, "monotonic", lambda: float(next(clock)))
    _readings(monkeypatch, iter([95.0] * 100))
    with caplog.at_level(logging.WARNING):
        waited = processes.wait_for_quiet("vllm/server", timeout=60)
    assert 60 <= waited <= 80
    assert "did not go quiet" in caplog.text and "vllm/server" in caplog.text
