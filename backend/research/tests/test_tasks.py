"""The research step as the Celery task whale.research, routed to the research queue."""

from __future__ import annotations

from typing import Any

from config.celery import app
from research.pipeline import UNAVAILABLE_NOTICE
from research.tasks import research

from .fake_internet import FakeInternet


def test_the_task_runs_the_research_step_and_returns_its_result(fake_internet: FakeInternet) -> None:
    result = research.apply(args=["Why is the sky blue?", 3000]).get()

    assert result["notice"] is None
    assert [source["n"] for source in result["sources"]] == [1, 2]
    assert result["prompt"].startswith("# The following contents are the search results")
    assert [event["phase"] for event in result["events"]] == ["searching", "read"]


def test_the_task_answers_with_the_notice_when_the_provider_is_down(fake_internet: FakeInternet) -> None:
    fake_internet.search_mode = "error"
    result = research.apply(args=["Why is the sky blue?"]).get()

    assert result["notice"] == UNAVAILABLE_NOTICE
    assert result["prompt"] == "Why is the sky blue?"


def test_the_task_is_routed_to_the_research_queue(settings: Any) -> None:
    route = app.amqp.router.route({}, "whale.research", args=(), kwargs={})
    assert route["queue"].name == settings.WHALE_RESEARCH_QUEUE
