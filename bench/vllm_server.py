"""vLLM's own OpenAI-compatible server on the demo model, with the engine arguments our adapter uses."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from inference.engines.vllm import _engine_core_nice, lower_engine_core_priority

from . import processes
from .clients import new_session, openai_chat_turn
from .measure import LevelResult, TurnSample, arrival_spread, run_level, turns_per_client

logger = logging.getLogger(__name__)


async def measure(
    levels: list[int], *, rounds: int, min_turns: int, warmup: int, log_dir: Path, arrivals: str = "staggered"
) -> dict[str, object]:
    port = processes.free_port()
    base_url = f"http://127.0.0.1:{port}"
    argv = [
        processes.PYTHON,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(processes.DEMO_MODEL),
        "--served-model-name",
        processes.DEMO_MODEL_NAME,
        "--reasoning-parser",
        "deepseek_r1",
        "--dtype",
        "float32",
        "--enforce-eager",
        "--max-model-len",
        "2048",  # the adapter's DEMO_MAX_MODEL_LEN
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--disable-uvicorn-access-log",
    ]
    started = time.perf_counter()
    server = processes.start("vllm-server", argv, env=processes.base_env(), cwd=processes.REPO_ROOT, log_dir=log_dir)
    with processes.running([server]):
        processes.wait_until(lambda: processes.http_ok(f"{base_url}/health"), processes=[server], what="vLLM's server")
        start_seconds = time.perf_counter() - started
        logger.info("vLLM's server is up in %.0f s", start_seconds)
        # At the niceness our GPU worker gives its engine core (WHALE_ENGINE_NICE), so neither side of the
        # comparison has the CPU on better terms; the server's own API process stays as it is, like ours.
        niced = lower_engine_core_priority(_engine_core_nice(), root_pid=server.popen.pid)
        logger.info("vLLM server's engine core %s niced like ours", niced)
        async with new_session(max(levels)) as session:

            async def run_turn(index: int, sequence: int) -> TurnSample:
                return await openai_chat_turn(session, base_url, processes.DEMO_MODEL_NAME)

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
                logger.info("vLLM server, %d concurrent: %s", level, result)
                results.append(result)
    return {"start_seconds": round(start_seconds, 1), "levels": [r.to_dict() for r in results]}
