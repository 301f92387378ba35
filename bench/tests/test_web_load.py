"""The web-load section of docs/benchmarks.md: its tables, and that neither bench rewrites the other's numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import report, web_load
from bench.tests.test_report import _results

IMMUTABLE = "public, max-age=31536000, immutable"


def _visit(bytes_: int, ready: float) -> dict[str, Any]:
    return {"bytes": bytes_, "requests": 8, "transferred": 8 if bytes_ > 10_000 else 1, "readyMs": ready, "loadMs": 400}


def _result() -> dict[str, Any]:
    bundle = {"encoding": "br", "cacheControl": IMMUTABLE}
    return {
        "page": "/login",
        "runs": 5,
        "measured_at": "2026-12-01 23:00 UTC",
        "cold": _visit(306_000, 1085),
        "warm": _visit(4_000, 700),
        "indexCacheControl": "no-cache",
        "bundles": [
            {"name": "entry.js", "bytes": 1_085_000, "wireBytes": 226_000, "firstScreen": True, **bundle},
            {"name": "katex.js", "bytes": 272_000, "wireBytes": 63_000, "firstScreen": False, **bundle},
        ],
        "compare": [{"label": "one bundle", "cold": _visit(420_000, 1300), "warm": _visit(4_000, 800)}],
    }


def test_the_section_reports_cold_and_warm_visits_and_each_bundle() -> None:
    text = web_load.report(_result())
    assert "| this build | cold | 299 KiB | 8 (8) | 1085 ms | 400 ms |" in text
    assert "| one bundle | warm | 3.9 KiB | 8 (1) | 800 ms | 400 ms |" in text
    assert f"| `entry.js` | first screen | 1,060 KiB | 221 KiB | br | `{IMMUTABLE}` |" in text
    assert "| `katex.js` | on demand |" in text
    assert "The first screen needs 221 KiB of JavaScript on the wire." in text


def test_it_goes_before_machine_and_versions_and_leaves_the_rest_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "benchmarks.md"
    report.write(_results(), doc_path=doc, results_path=tmp_path / "benchmarks" / "results.json")
    before = doc.read_text()
    monkeypatch.setattr(web_load, "REPORT", doc)
    monkeypatch.setattr(web_load, "RESULTS", tmp_path / "benchmarks" / "web_load.json")
    web_load.write_report(_result())
    after = doc.read_text()
    assert after.index(web_load.START) < after.index("## Machine and versions")
    assert after.replace(web_load.report(_result()) + "\n\n", "") == before

    web_load.write_report({**_result(), "runs": 9})  # a second run replaces the section
    assert doc.read_text().count(web_load.START) == 1
    assert "(9 visits each" in doc.read_text()


def test_the_load_benchmark_keeps_the_web_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = tmp_path / "benchmarks.md"
    report.write(_results(), doc_path=doc, results_path=tmp_path / "benchmarks" / "results.json")
    monkeypatch.setattr(web_load, "REPORT", doc)
    monkeypatch.setattr(web_load, "RESULTS", tmp_path / "benchmarks" / "web_load.json")
    web_load.write_report(_result())
    report.write(_results(), doc_path=doc, results_path=tmp_path / "benchmarks" / "results.json")
    assert doc.read_text().count(web_load.START) == 1
    assert "| this build | cold |" in doc.read_text()
