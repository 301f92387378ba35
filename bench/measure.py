"""What every case measures, the same way: one sample per turn, and a closed-loop load of N concurrent clients.

first-token latency: the request sent -> the first reasoning-or-content delta received by the client.
tokens/s: all completion tokens (the usage the server reports) / wall time from the first request to the
last finish. Every case sends the same question with the same sampling settings.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

PROMPT = "Why is the sky blue?"
MAX_TOKENS = 128
TEMPERATURE = 0.6  # the backend's SamplingSettings defaults, so every case samples alike
TOP_P = 0.95
LEVELS = (1, 32, 128)
TURN_TIMEOUT_SECONDS = 180.0
# The simulated engine, everywhere it runs: 32 reasoning "tokens" then the answer, 128 in all,
# 50 ms to the first and 10 ms between tokens (about 100 tokens/s per turn, like a small GPU model).
SIMULATED_ENV = {
    "WHALE_SIM_TOKENS": str(MAX_TOKENS),
    "WHALE_SIM_REASONING_TOKENS": "32",
    "WHALE_SIM_FIRST_TOKEN_SECONDS": "0.05",
    "WHALE_SIM_INTER_TOKEN_SECONDS": "0.01",
}


@dataclass
class TurnSample:
    """One turn as the client saw it; times in seconds from the moment its request was sent."""

    ok: bool
    first_token: float | None = None
    total: float = 0.0
    completion_tokens: int = 0
    error: str = ""
    # Where the first token's time went (our stack only), in ms; see clients.first_token_phases.
    phases: dict[str, float] = field(default_factory=dict)
    retries: int = 0  # sends refused because the conversation's previous turn was not saved yet


class TurnFailed(Exception):
    """A turn ended without an answer (an error event, a bad status, a dropped stream)."""


# A turn runner: sends one request and returns its sample. The client index picks its user and conversation.
TurnRunner = Callable[[int, int], Awaitable[TurnSample]]


@dataclass
class LevelResult:
    level: int  # concurrent turns
    turns: int
    failed: int
    wall_seconds: float
    completion_tokens: int
    tokens_per_second: float
    mean_completion_tokens: float
    first_token_p50_ms: float | None
    first_token_p99_ms: float | None
    turn_p50_ms: float | None
    errors: list[str] = field(default_factory=list)
    phases_p50_ms: dict[str, float] = field(default_factory=dict)
    retries: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LevelResult:
        return cls(**data)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between the closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def turns_per_client(level: int, *, rounds: int, min_turns: int) -> int:
    """Each of the `level` clients runs this many turns back to back (at least `min_turns` in all)."""
    return max(rounds, math.ceil(min_turns / level))


def summarize(level: int, samples: list[TurnSample], wall_seconds: float) -> LevelResult:
    good = [s for s in samples if s.ok]
    tokens = sum(s.completion_tokens for s in good)
    first = [s.first_token * 1000 for s in good if s.first_token is not None]
    totals = [s.total * 1000 for s in good]
    errors = sorted({s.error for s in samples if not s.ok})
    phase_names = sorted({name for s in good for name in s.phases})
    phases = {name: percentile([s.phases[name] for s in good if name in s.phases], 50) for name in phase_names}
    return LevelResult(
        level=level,
        turns=len(samples),
        failed=len(samples) - len(good),
        wall_seconds=round(wall_seconds, 3),
        completion_tokens=tokens,
        tokens_per_second=round(tokens / wall_seconds, 1) if wall_seconds > 0 else 0.0,
        mean_completion_tokens=round(tokens / len(good), 1) if good else 0.0,
        first_token_p50_ms=_round(percentile(first, 50)),
        first_token_p99_ms=_round(percentile(first, 99)),
        turn_p50_ms=_round(percentile(totals, 50)),
        errors=errors[:5],
        phases_p50_ms={name: round(value, 1) for name, value in phases.items() if value is not None},
        retries=sum(s.retries for s in samples),
    )


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


ARRIVALS = ("staggered", "burst")


def arrival_spread(warmup: LevelResult | None, arrivals: str) -> float:
    """Seconds over which a level's clients start: one typical turn (the warm-up's median) when
    staggered, so the turns are in flight side by side rather than sent in lockstep; 0 for a burst."""
    if arrivals == "burst" or warmup is None or not warmup.turn_p50_ms:
        return 0.0
    return warmup.turn_p50_ms / 1000


async def run_level(run_turn: TurnRunner, *, level: int, turns_each: int, spread_seconds: float = 0.0) -> LevelResult:
    """`level` clients, each running `turns_each` turns one after another; the clock runs from the
    first request to the last finish. Client i sends its first turn `i * spread_seconds / level`
    after the first (0: all at once)."""

    async def client(index: int) -> list[TurnSample]:
        samples = []
        await asyncio.sleep(index * spread_seconds / level)
        for sequence in range(turns_each):
            try:
                sample = await asyncio.wait_for(run_turn(index, sequence), TURN_TIMEOUT_SECONDS)
            except TimeoutError:
                sample = TurnSample(ok=False, error=f"no answer within {TURN_TIMEOUT_SECONDS:.0f} s")
            except Exception as exc:
                sample = TurnSample(ok=False, error=f"{exc.__class__.__name__}: {exc}"[:200])
            samples.append(sample)
        return samples

    started = time.perf_counter()
    per_client = await asyncio.gather(*(client(index) for index in range(level)))
    wall = time.perf_counter() - started
    return summarize(level, [sample for samples in per_client for sample in samples], wall)


class Stopwatch:
    """Times one turn from the request being sent."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.started_wall = time.time()  # to line up with the server's timestamps (same machine, same clock)
        self.first_token: float | None = None
        self.first_token_wall: float | None = None
        self.marks: dict[str, float] = {}

    def mark(self, name: str) -> None:
        """Seconds since the start at a named point (the POST answered, the stream opened)."""
        self.marks[name] = time.perf_counter() - self.started

    def token(self) -> None:
        if self.first_token is None:
            self.first_token = time.perf_counter() - self.started
            self.first_token_wall = time.time()

    def sample(self, completion_tokens: int, *, phases: dict[str, float] | None = None, retries: int = 0) -> TurnSample:
        if self.first_token is None and completion_tokens:
            raise TurnFailed("the turn finished without a reasoning or content delta")
        return TurnSample(
            ok=True,
            first_token=self.first_token,
            total=time.perf_counter() - self.started,
            completion_tokens=completion_tokens,
            phases=phases or {},
            retries=retries,
        )
