"""Tests of the GPU worker: prompt format, reasoning split, engines, turns and the Celery glue."""
