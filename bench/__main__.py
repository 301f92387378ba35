"""`make bench`: every case, one after another on this machine, then docs/benchmarks.md and its plot.

    python -m bench                      # the full run (about 15 minutes on 2 cores)
    python -m bench --quick              # levels 1 and 32, few turns: a smoke test of every case
    python -m bench --report-only        # rewrite docs/benchmarks.md from docs/benchmarks/results.json

Cases, each at every concurrency level: the engine adapter alone, vLLM's own OpenAI server (the
tiny model only), and our stack over SSE and over WebSocket; for the demo model and for the
`simulated` engine, which takes the model out to show our own overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import processes, report, stack, vllm_server
from .measure import ARRIVALS, LEVELS, SIMULATED_ENV

logger = logging.getLogger("bench")

ENGINES = ("vllm", "simulated")
CASES = ("engine", "server", "stack")


def _engine_alone(engine: str, levels: list[int], args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    """The adapter alone, in its own process (vLLM's engine core needs a `__main__` module to spawn from)."""
    env = processes.base_env()
    env["WHALE_MODEL_PATH"] = str(processes.DEMO_MODEL)
    if engine == "simulated":
        env.update(SIMULATED_ENV)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = Path(out.name)
    argv = [
        processes.PYTHON,
        "-m",
        "bench.engine_alone",
        f"--engine={engine}",
        f"--levels={','.join(map(str, levels))}",
        f"--rounds={args.rounds}",
        f"--min-turns={args.min_turns}",
        f"--warmup={args.warmup}",
        f"--arrivals={args.arrivals}",
        f"--out={out_path}",
    ]
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"engine-alone-{engine}.log").open("wb") as log:
        subprocess.run(argv, cwd=processes.REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
    try:
        return dict(json.loads(out_path.read_text()))
    finally:
        out_path.unlink(missing_ok=True)


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    levels = [int(level) for level in args.levels.split(",") if level.strip()]
    engines = [engine for engine in args.engines.split(",") if engine]
    cases = [case for case in args.cases.split(",") if case]
    log_dir = Path(args.log_dir).resolve()
    started = time.perf_counter()
    results: dict[str, Any] = {
        "meta": {
            **report.machine_info(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "levels": levels,
            "rounds": args.rounds,
            "min_turns": args.min_turns,
            "warmup": args.warmup,
            "arrivals": args.arrivals,
            "gpu_worker_concurrency": max(levels),
        }
    }
    quiet: dict[str, float] = {}
    results["meta"]["quiet_wait_seconds"] = quiet  # before each case, until the CPU went quiet

    def go_quiet(case: str) -> None:
        quiet[case] = round(processes.wait_for_quiet(case), 1)

    for engine in engines:
        section: dict[str, Any] = {}
        results[engine] = section
        if "engine" in cases:
            go_quiet(f"{engine}/engine")
            logger.info("== %s: the engine alone", engine)
            section["engine"] = _engine_alone(engine, levels, args, log_dir)
        if "server" in cases and engine == "vllm":
            go_quiet(f"{engine}/server")
            logger.info("== %s: vLLM's OpenAI server", engine)
            section["server"] = asyncio.run(
                vllm_server.measure(
                    levels,
                    rounds=args.rounds,
                    min_turns=args.min_turns,
                    warmup=args.warmup,
                    log_dir=log_dir,
                    arrivals=args.arrivals,
                )
            )
        if "stack" in cases:
            go_quiet(f"{engine}/stack")
            logger.info("== %s: our stack (SSE and WebSocket)", engine)
            settings = _stack_settings(args, engine, max(levels), log_dir, args.arrivals)
            section["stack"] = asyncio.run(
                stack.measure(settings, levels, rounds=args.rounds, min_turns=args.min_turns, warmup=args.warmup)
            )
    if args.burst_level and args.arrivals == "staggered" and "simulated" in engines and "stack" in cases:
        results["burst"] = _burst(args, args.burst_level, log_dir)
    results["meta"]["duration_seconds"] = round(time.perf_counter() - started)
    return results


def _stack_settings(
    args: argparse.Namespace, engine: str, gpu_concurrency: int, log_dir: Path, arrivals: str
) -> stack.StackSettings:
    return stack.StackSettings(
        engine=engine,
        postgres_url=args.postgres_url,
        redis_url=args.redis_url,
        gpu_concurrency=gpu_concurrency,
        log_dir=log_dir,
        transports=tuple(t for t in args.transports.split(",") if t),
        backend_env=dict(item.split("=", 1) for item in args.backend_env),
        arrivals=arrivals,
        profile_dir=args.profile.resolve() if args.profile else None,
    )


def _burst(args: argparse.Namespace, level: int, log_dir: Path) -> dict[str, Any]:
    """The simulated engine alone and our stack with `level` clients sending in lockstep: a herd of sends."""
    logger.info("== simulated: %d clients in lockstep (the engine alone, then our stack)", level)
    burst_args = argparse.Namespace(**{**vars(args), "arrivals": "burst"})
    settings = _stack_settings(args, "simulated", level, log_dir, "burst")
    return {
        "level": level,
        "simulated": {
            "engine": _engine_alone("simulated", [level], burst_args, log_dir),
            "stack": asyncio.run(
                stack.measure(settings, [level], rounds=args.rounds, min_turns=args.min_turns, warmup=args.warmup)
            ),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="concurrent turns, comma-separated")
    parser.add_argument("--rounds", type=int, default=10, help="turns each concurrent client runs back to back")
    parser.add_argument("--min-turns", type=int, default=20, help="at least this many turns per level")
    parser.add_argument("--warmup", type=int, default=4, help="concurrent warm-up turns before a case is measured")
    parser.add_argument(
        "--arrivals",
        choices=ARRIVALS,
        default="staggered",
        help="staggered: a level's clients start spread over one typical turn; burst: all at once",
    )
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument(
        "--transports",
        default=",".join(stack.TRANSPORTS),
        help="our stack's: sse,ws; one request per turn: sse1 (the send streams), ws1 (sends on the user socket);"
        " v1 (the partner API's streamed chat completions)",
    )
    parser.add_argument(
        "--backend-env", action="append", default=[], metavar="NAME=VALUE", help="a backend setting, for experiments"
    )
    parser.add_argument(
        "--burst-level",
        type=int,
        default=32,
        help="after a staggered run, also measure this many simulated clients in lockstep (0: skip)",
    )
    parser.add_argument(
        "--profile", type=Path, default=None, metavar="DIR", help="py-spy profiles of our stack's processes, per level"
    )
    parser.add_argument("--quick", action="store_true", help="levels 1,32, one round, 4 turns minimum")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--log-dir", default=str(processes.REPO_ROOT / "var" / "bench"))
    parser.add_argument("--results", type=Path, default=report.RESULTS_PATH)
    parser.add_argument("--out", type=Path, default=report.DOC_PATH)
    parser.add_argument("--report-only", action="store_true", help="rewrite the doc from --results")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.quick:
        args.levels, args.rounds, args.min_turns = "1,32", 1, 4
    if args.report_only:
        results = json.loads(args.results.read_text())
    else:
        results = run_all(args)
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(results, indent=2) + "\n")
        logger.info("results in %s (%d s)", args.results, results["meta"]["duration_seconds"])
    report.write(results, doc_path=args.out, results_path=args.results)
    logger.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
