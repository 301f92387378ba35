"""The GPU worker's Prometheus metrics, served on an internal port when WHALE_WORKER_METRICS_PORT is set.

The same port also serves what vLLM registers in this process (its `vllm:*` series, among them
`vllm:kv_cache_usage_perc`, the engine's KV-cache use), since both use prometheus-client's default registry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import Counter, Gauge, start_http_server

logger = logging.getLogger(__name__)

TURNS = Counter("whale_worker_turns_total", "Turn deliveries this worker handled, by outcome.", ["outcome"])
IN_FLIGHT = Gauge("whale_worker_turns_in_flight", "Turns this worker is generating right now.")
CAPACITY = Gauge("whale_worker_capacity", "Turns this worker runs at once (its Celery concurrency).")
INFO = Gauge("whale_worker_info", "Always 1; the labels say what the worker serves.", ["worker", "model", "engine"])


def turn_done(outcome: str) -> None:
    TURNS.labels(outcome=outcome).inc()


def serve(
    *, port: int, addr: str, in_flight: Callable[[], float], capacity: int, worker: str, model: str, engine: str
) -> None:
    """Starts the /metrics HTTP server in a daemon thread (bind it to an internal interface or port)."""
    IN_FLIGHT.set_function(in_flight)
    CAPACITY.set(capacity)
    INFO.labels(worker=worker, model=model, engine=engine).set(1)
    start_http_server(port, addr=addr)
    logger.info("worker metrics on http://%s:%d/metrics", addr, port)
