"""The baseline: an engine adapter driven directly on one long-lived loop, no Redis, no HTTP.

    python -m bench.engine_alone --engine vllm|simulated --levels 1,32 --out results.json

Runs in its own process (vLLM's engine core is spawned, so this module needs its `__main__` guard),
with the same adapter, prompt and sampling settings the GPU worker uses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time
import uuid
from pathlib import Path

from inference.engines import create_engine
from inference.engines.base import Engine, GenerationRequest
from inference.protocol import SamplingSettings

from .measure import (
    ARRIVALS,
    MAX_TOKENS,
    PROMPT,
    TEMPERATURE,
    TOP_P,
    LevelResult,
    Stopwatch,
    TurnSample,
    arrival_spread,
    run_level,
    turns_per_client,
)
from .processes import DEMO_MODEL


def _request() -> GenerationRequest:
    return GenerationRequest(
        request_id=f"bench-{uuid.uuid4().hex}",
        messages=[{"role": "user", "content": PROMPT}],
        reasoning=True,
        sampling=SamplingSettings(temperature=TEMPERATURE, top_p=TOP_P, max_tokens=MAX_TOKENS),
    )


async def _turn(engine: Engine) -> TurnSample:
    watch = Stopwatch()
    completion_tokens = 0
    finish_reason: str | None = None
    async for chunk in engine.generate(_request()):
        if chunk.reasoning or chunk.content:
            watch.token()
        completion_tokens = chunk.completion_tokens
        finish_reason = chunk.finish_reason
    if finish_reason in (None, "abort"):
        return TurnSample(ok=False, error=f"finish_reason {finish_reason}")
    return watch.sample(completion_tokens)


async def measure(
    engine_name: str, levels: list[int], rounds: int, min_turns: int, warmup: int, arrivals: str = "staggered"
) -> dict[str, object]:
    started = time.perf_counter()
    engine = create_engine(engine_name)
    await engine.start()
    start_seconds = time.perf_counter() - started
    try:

        async def run_turn(index: int, sequence: int) -> TurnSample:
            return await _turn(engine)

        warm = await run_level(run_turn, level=warmup, turns_each=1) if warmup else None
        spread = arrival_spread(warm, arrivals)
        results: list[LevelResult] = []
        for level in levels:
            result = await run_level(
                run_turn,
                level=level,
                turns_each=turns_per_client(level, rounds=rounds, min_turns=min_turns),
                spread_seconds=spread,
            )
            logging.info("engine alone (%s), %d concurrent: %s", engine_name, level, result)
            results.append(result)
    finally:
        await engine.shutdown()
    return {"start_seconds": round(start_seconds, 1), "levels": [r.to_dict() for r in results]}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.engine_alone")
    parser.add_argument("--engine", choices=("vllm", "simulated"), required=True)
    parser.add_argument("--levels", default="1,32,128")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--min-turns", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--arrivals", choices=ARRIVALS, default="staggered")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("WHALE_MODEL_PATH", str(DEMO_MODEL))
    levels = [int(level) for level in args.levels.split(",") if level.strip()]
    # One loop for the life of the process: the engine's output handler lives on it.
    outcome = asyncio.run(measure(args.engine, levels, args.rounds, args.min_turns, args.warmup, args.arrivals))
    args.out.write_text(json.dumps(outcome, indent=2))


if __name__ == "__main__":
    main()
