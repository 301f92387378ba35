"""Periodic work of the ratelimits app, run by the backend's Celery beat."""

from __future__ import annotations

from celery import shared_task

from . import admission


@shared_task(name="whale.publish_queue_positions", ignore_result=True)
def publish_queue_positions() -> int:
    return admission.queue_positions_publish()
