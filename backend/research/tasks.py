"""The research step as a Celery task on the research queue (CELERY_TASK_ROUTES sends it to WHALE_RESEARCH_QUEUE)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from .pipeline import research_run


@shared_task(name="whale.research")
def research(query: str, budget_tokens: int | None = None, search: bool = True) -> dict[str, Any]:
    """Runs the research step on its own (operators, benchmarks); a turn runs it in whale.prepare_turn."""
    budget = budget_tokens or settings.WHALE_SEARCH_BUDGET_TOKENS
    return research_run(query, budget_tokens=budget, search=search).as_dict()
