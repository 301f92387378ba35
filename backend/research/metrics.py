"""Prometheus metrics of the research step (served by /metrics with the backend's others)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

RESEARCH_SECONDS = Histogram(
    "whale_research_duration_seconds",
    "The research step of a search turn (search, fetch, extract, rank, prompt), by outcome.",
    ["outcome"],
    buckets=(0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 30.0),
)
PAGES_FETCHED = Counter(
    "whale_research_pages_total", "Pages the research step tried to read, by result (read, or why not).", ["result"]
)
PROVIDER_ERRORS = Counter(
    "whale_research_provider_errors_total", "Search provider failures, by provider and reason.", ["provider", "reason"]
)


def research_finished(*, outcome: str, seconds: float) -> None:
    RESEARCH_SECONDS.labels(outcome=outcome).observe(seconds)


def page_fetched(*, result: str) -> None:
    PAGES_FETCHED.labels(result=result).inc()


def provider_failed(*, provider: str, reason: str) -> None:
    PROVIDER_ERRORS.labels(provider=provider, reason=reason).inc()
