"""A Celery app with one slow task, configured like ours (acks_late, threads), for the broker-loss test.

WHALE_FAULTS_BROKER is the private Redis; WHALE_FAULTS_KOMBU_TRANSPORT=1 uses kombu's own Redis
transport instead of ours (inference/broker.py), to show the defect it mends.
"""

from __future__ import annotations

import os
import time

from celery import Celery

from inference.broker import transport_for

BROKER = os.environ.get("WHALE_FAULTS_BROKER", "redis://127.0.0.1:6379/15")

app = Celery("whale-faults", broker=BROKER, set_as_current=False)
app.conf.update(
    broker_transport=None if os.environ.get("WHALE_FAULTS_KOMBU_TRANSPORT") == "1" else transport_for(BROKER),
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="whale.faults.sleep")
def sleep(seconds: float, tag: str) -> None:
    print(f"task {tag} started", flush=True)
    time.sleep(seconds)
    print(f"task {tag} finished", flush=True)
