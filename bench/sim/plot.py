"""Draws the simulation's PNGs for docs/scaling.md from the JSON the two runs wrote.

.venv/bin/python -m bench.sim.plot     # docs/scaling/*.json -> docs/scaling/*.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

OUT = Path(__file__).resolve().parents[2] / "docs" / "scaling"


def plot_workers(data: dict) -> Path:
    results = data["results"]
    workers = [r["workers"] for r in results]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(workers, [r["turns_per_second"] for r in results], "o-", label="measured")
    left.plot(
        workers, [r["ideal_turns_per_second"] for r in results], "--", color="grey", label="ideal (slots / turn time)"
    )
    left.set_xlabel("GPU worker processes (simulated engine)")
    left.set_ylabel("turns per second")
    left.set_xticks(workers)
    left.set_ylim(bottom=0)
    left.legend()
    left.set_title(f"Throughput, {results[0]['turns']} turns queued at once")
    right.plot(workers, [r["queue_wait_p50"] for r in results], "o-", label="queue wait p50")
    right.plot(workers, [r["queue_wait_p95"] for r in results], "o-", label="queue wait p95")
    right.set_xlabel("GPU worker processes")
    right.set_ylabel("seconds")
    right.set_xticks(workers)
    right.set_ylim(bottom=0)
    right.legend()
    right.set_title("Time in the queue")
    fig.suptitle(
        f"{results[0]['slots_per_worker']} turns at once per worker; {data['conditions']['machine'][:60]}", fontsize=8
    )
    fig.tight_layout()
    path = OUT / "worker_scaling.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_backend(data: dict, nopool: dict | None) -> Path:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    requests = data["requests"]
    names = [r["path"] for r in requests]
    left.bar(names, [r["requests_per_second"] for r in requests], color="tab:blue")
    for index, r in enumerate(requests):
        left.annotate(
            f"p99 {r['p99_ms']:.0f} ms", (index, r["requests_per_second"]), ha="center", va="bottom", fontsize=8
        )
    left.set_ylabel("requests per second")
    left.set_title(f"One ASGI process, {requests[0]['concurrency']} concurrent clients")
    left.tick_params(axis="x", labelsize=8)
    series = [("sse", data, "SSE (DB pool default)"), ("websocket", data, "WebSocket")]
    if nopool:
        series.append(("sse", nopool, "SSE (DB_POOL_MAX_SIZE=0)"))
    for transport, source, label in series:
        rows = [r for r in source["streams"] if r["transport"] == transport]
        if not rows:
            continue
        xs = [r["streams"] for r in rows]
        ys = [r["events_per_second_delivered"] for r in rows]
        line = right.plot(xs, ys, "o-", label=label)[0]
        for r, x, y in zip(rows, xs, ys, strict=True):
            if r["connected"] < r["streams"] or r["errors"]:
                right.annotate(f"{r['connected']}/{r['streams']} connected", (x, y), fontsize=7, color=line.get_color())
            elif r["lag_p95_ms"] is not None:
                right.annotate(f"p95 lag {r['lag_p95_ms']:.0f} ms", (x, y), fontsize=7, color=line.get_color())
    right.set_xscale("log", base=2)
    right.set_xlabel("concurrent streams on one process")
    right.set_ylabel("deltas delivered per second")
    right.set_title("Streams per process (a delta every 100 ms per stream)")
    right.legend(fontsize=8)
    fig.tight_layout()
    path = OUT / "backend_limits.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> int:
    written = []
    workers = OUT / "worker_scaling.json"
    if workers.exists():
        written.append(plot_workers(json.loads(workers.read_text())))
    backend = OUT / "backend_limits.json"
    if backend.exists():
        nopool_path = OUT / "backend_limits_nopool.json"
        nopool = json.loads(nopool_path.read_text()) if nopool_path.exists() else None
        written.append(plot_backend(json.loads(backend.read_text()), nopool))
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
