"""Periodic work of the partners app, run by the backend's Celery beat."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="whale.reap_completions", ignore_result=True)
def reap_completions() -> int:
    return services.completions_reap()
