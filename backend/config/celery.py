"""The backend's Celery app: finalises turns, reaps stale ones; GPU workers have their own app."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("whale")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
