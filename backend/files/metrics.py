"""Prometheus metrics of the files worker: extraction time by kind, failures by reason (served by /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EXTRACTION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

EXTRACTION_SECONDS = Histogram(
    "whale_file_extraction_seconds",
    "Time to read the text out of one file, by kind (pdf, docx, image...).",
    ["kind"],
    buckets=EXTRACTION_BUCKETS,
)
FILES_FAILED = Counter(
    "whale_files_failed_total", "Files that could not be read, by kind and reason.", ["kind", "reason"]
)
FILES_UPLOADED = Counter("whale_files_uploaded_total", "Files accepted for reading, by kind.", ["kind"])


def extraction_observed(*, kind: str, seconds: float, reason: str | None) -> None:
    EXTRACTION_SECONDS.labels(kind=kind).observe(seconds)
    if reason:
        FILES_FAILED.labels(kind=kind, reason=reason).inc()
