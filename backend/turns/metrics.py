"""The turns' state that /metrics reads at scrape time: queue depth per model, turns in flight, live workers."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ratelimits.admission import waiting_total
from serving.registry import model_list
from serving.workers import workers_alive

from .models import Turn


def queue_depth(queue: str) -> int:
    """Turns waiting in a GPU queue, over all its priority lists (admission control splits it by priority)."""
    return waiting_total(queue)


class TurnStateCollector(Collector):
    """Registered with common.metrics by turns.apps; a series whose source is down is left out of the scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "whale_queue_depth", "Turns waiting in a model's GPU queue.", labels=["model", "queue"]
        )
        for spec in model_list():
            try:
                depth.add_metric([spec.name, spec.queue], queue_depth(spec.queue))
            except Exception:  # noqa: BLE001, S112 - Redis down: the scrape still answers, without this series
                continue
        yield depth

        in_flight = GaugeMetricFamily(
            "whale_turns_in_flight", "Turns queued or generating, by model and status.", labels=["model", "status"]
        )
        rows = Turn.objects.filter(status__in=Turn.ACTIVE_STATUSES).values_list("model", "status").order_by()
        counts: dict[tuple[str, str], int] = {}
        for model, status in rows.iterator():
            counts[(model, status)] = counts.get((model, status), 0) + 1
        for (model, status), count in sorted(counts.items()):
            in_flight.add_metric([model, status], count)
        yield in_flight

        workers = GaugeMetricFamily(
            "whale_workers_alive", "GPU workers with a live heartbeat, by served model.", labels=["model"]
        )
        worker_in_flight = GaugeMetricFamily(
            "whale_worker_in_flight", "Turns a worker is generating (from its heartbeat).", labels=["worker", "model"]
        )
        per_model: dict[str, int] = {}
        for beat in workers_alive():
            model = str(beat.get("model", ""))
            per_model[model] = per_model.get(model, 0) + 1
            worker_in_flight.add_metric([str(beat.get("worker_id", "")), model], float(beat.get("in_flight") or 0))
        for model, count in sorted(per_model.items()):
            workers.add_metric([model], count)
        yield workers
        yield worker_in_flight
