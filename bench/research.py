"""The time the research step adds before a search turn's first token, at 1 and 32 concurrent turns.

    .venv/bin/python -m bench.research            # writes its section of docs/benchmarks.md
    .venv/bin/python -m bench.research --rounds 3 --provider-ms 300

A local provider (the tests' fake internet, in its own process on 127.0.0.1) answers SearXNG's JSON
API after --provider-ms and serves real HTML articles; each research step then fetches the top pages,
extracts them, ranks passages and fits them with the demo model's tokenizer. What is reported is the
step's own time over the provider's: total minus the measured search call (target: p50 <= 1.5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "docs" / "benchmarks" / "research.json"
REPORT = REPO / "docs" / "benchmarks.md"
START, END = "<!-- research:start -->", "<!-- research:end -->"
TARGET_P50_SECONDS = 1.5
LEVELS = (1, 32)
ARTICLES = ("/articles/sky", "/articles/ocean", "/articles/zh-sky", "/notes.txt", "/articles/sky?copy=2")


def _serve(port_queue: Any, provider_delay: float) -> None:
    sys.path.insert(0, str(REPO / "backend"))
    from research.tests.fake_internet import serve

    internet_iter = serve()
    internet = next(internet_iter)
    internet.search_mode = "slow"
    internet.search_delay = provider_delay
    internet.results = [
        {"url": internet.page(path), "title": f"Article {n}", "content": "About the sky and the sea."}
        for n, path in enumerate(ARTICLES, 1)
    ]
    port_queue.put(internet.port)
    while True:
        time.sleep(3600)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _level(concurrency: int, rounds: int, budget: int) -> dict[str, Any]:
    from research.pipeline import research_run_async

    overheads: list[float] = []
    totals: list[float] = []
    providers: list[float] = []
    failures = 0
    for _ in range(rounds):
        results = await asyncio.gather(
            *(research_run_async("Why is the sky blue?", budget_tokens=budget) for _ in range(concurrency))
        )
        for result in results:
            if result.notice:
                failures += 1
            total, provider = result.timings["total"], result.timings.get("provider", 0.0)
            totals.append(total)
            providers.append(provider)
            overheads.append(total - provider)
    return {
        "concurrency": concurrency,
        "runs": len(totals),
        "failures": failures,
        "overhead_p50": statistics.median(overheads),
        "overhead_p95": _percentile(overheads, 0.95),
        "total_p50": statistics.median(totals),
        "provider_p50": statistics.median(providers),
    }


def _report(results: dict[str, Any]) -> str:
    rows = [
        f"| {r['concurrency']} | {r['runs']} | {r['overhead_p50']:.2f} s | {r['overhead_p95']:.2f} s | "
        f"{r['provider_p50']:.2f} s | {r['total_p50']:.2f} s | {r['failures']} |"
        for r in results["levels"]
    ]
    verdict = all(r["overhead_p50"] <= TARGET_P50_SECONDS for r in results["levels"])
    return "\n".join(
        [
            START,
            "## Search: the research step before the first token",
            "",
            f"`python -m bench.research` ({results['rounds']} rounds per level; {results['when']}): a local "
            f"SearXNG-shaped provider answering after {results['provider_ms']} ms, {len(ARTICLES)} pages per search "
            "(HTML articles with navigation, ads and scripts, one Chinese, one plain text), read in parallel, "
            "extracted with trafilatura, ranked with BM25 and fitted to a "
            f"{results['budget']}-token budget with the demo model's tokenizer. All concurrent steps share one "
            "process and its event loop, as on one research worker.",
            "",
            "| concurrent | steps | added p50 | added p95 | provider p50 | total p50 | notices |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"\"Added\" is the step's time minus the provider's own (the search call). Target: p50 at most "
            f"{TARGET_P50_SECONDS} s at every level: {'met' if verdict else 'NOT met'}. Load average at the start: "
            f"{results['load']}.",
            END,
        ]
    )


def write_report(results: dict[str, Any]) -> None:
    section = _report(results)
    text = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1]
    elif "## Machine and versions" in text:
        text = text.replace("## Machine and versions", section + "\n\n## Machine and versions", 1)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    REPORT.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--provider-ms", type=int, default=300)
    parser.add_argument("--budget", type=int, default=3000)
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    port_queue = context.Queue()
    server = context.Process(target=_serve, args=(port_queue, args.provider_ms / 1000), daemon=True)
    server.start()
    port = port_queue.get(timeout=30)

    sys.path.insert(0, str(REPO / "backend"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.update(
        WHALE_SEARCH_PROVIDER="searxng",
        WHALE_SEARXNG_URL=f"http://127.0.0.1:{port}",
        WHALE_FETCH_ALLOW_LOOPBACK="true",  # the local provider and its pages live on 127.0.0.1
        WHALE_SEARCH_PAGES=str(len(ARTICLES)),
        WHALE_SEARCH_TIMEOUT_SECONDS="30",
        WHALE_FETCH_TOTAL_TIMEOUT_SECONDS="30",
        WHALE_FETCH_READ_TIMEOUT_SECONDS="30",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    try:
        asyncio.run(_level(1, 1, args.budget))  # warm up: imports, the tokenizer, trafilatura's first parse
        levels = [asyncio.run(_level(int(level), args.rounds, args.budget)) for level in args.levels.split(",")]
    finally:
        server.terminate()
    results = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "rounds": args.rounds,
        "provider_ms": args.provider_ms,
        "budget": args.budget,
        "load": ", ".join(f"{value:.2f}" for value in os.getloadavg()),
        "levels": levels,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    write_report(results)
    print(json.dumps(levels, indent=2))


if __name__ == "__main__":
    main()
