# ruff: noqa: RUF001 - Chinese text and full-width punctuation are meant here
"""The research step end to end against the fake internet: search, fetch, extract, rank, budget, prompt."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tokenizers import Tokenizer

from inference.models import DEMO_MODEL_DIR
from research.pipeline import UNAVAILABLE_NOTICE, question_urls, research_run
from research.prompts import SEARCH_ANSWER_EN_TEMPLATE

from .fake_internet import FakeInternet

TODAY = dt.date(2026, 12, 2)


def test_a_search_reads_the_top_pages_and_cites_them_in_the_official_shape(fake_internet: FakeInternet) -> None:
    result = research_run("Why is the sky blue?", budget_tokens=3000, today=TODAY)

    assert result.notice is None
    assert [source["n"] for source in result.sources] == [1, 2]
    sky, ocean = result.sources
    assert sky["url"] == fake_internet.page("/articles/sky")
    assert sky["title"] == "Why is the sky blue?"
    assert sky["site"] == "Science Weekly"
    assert ocean["url"] == fake_internet.page("/articles/ocean")
    assert result.queries == ["Why is the sky blue?"]
    assert result.pages_read == 2  # the 404 and the image are skipped

    prompt = result.prompt
    assert prompt.startswith(
        "# The following contents are the search results related to the user's message:\n[webpage 1 begin]\n"
        f"Why is the sky blue?\n{fake_internet.page('/articles/sky')}\n"
    )
    assert "[webpage 1 end]\n[webpage 2 begin]\n" in prompt
    assert (
        "[webpage 2 end]\nIn the search results I provide to you, each result is formatted as "
        "[webpage X begin]...[webpage X end], where X represents the numerical index of each article." in prompt
    )
    assert "Use the citation format [citation:X] in the corresponding part of your answer." in prompt
    assert "\n- Today is Wednesday, December 2, 2026.\n" in prompt
    assert prompt.endswith("\n\n# The user's message is:\nWhy is the sky blue?")
    # The main text, without the page's navigation, ads, scripts and footer.
    assert "Rayleigh" in prompt and "inverse fourth power" in prompt
    for boilerplate in (
        "Subscribe now",
        "Sky-o-Matic",
        "dataLayer",
        "Ten cats",
        "All rights reserved",
        "Sea Facts home",
    ):
        assert boilerplate not in prompt


def test_the_prompt_is_the_english_template_filled_in_with_nothing_else(fake_internet: FakeInternet) -> None:
    result = research_run("Why is the sky blue?", budget_tokens=3000, today=TODAY)

    head, _, rest = SEARCH_ANSWER_EN_TEMPLATE.partition("{search_results}")
    middle, _, tail = rest.partition("{cur_date}")
    assert result.prompt.startswith(head)
    assert middle in result.prompt
    assert result.prompt.endswith(tail.replace("{question}", "Why is the sky blue?"))
    assert result.prompt.count("[webpage 1 begin]") == 1


def test_a_chinese_question_gets_the_chinese_template_and_date(fake_internet: FakeInternet) -> None:
    fake_internet.results = [
        {"url": fake_internet.page("/articles/zh-sky"), "title": "天空为什么是蓝色的", "content": "瑞利散射"}
    ]
    result = research_run("天空为什么是蓝色的？", budget_tokens=3000, today=TODAY)

    assert result.language == "zh"
    assert result.prompt.startswith("# 以下内容是基于用户发送的消息的搜索结果:\n[webpage 1 begin]\n")
    assert "\n- 今天是2026年12月2日，星期三。\n" in result.prompt
    assert "瑞利散射" in result.prompt and "广告" not in result.prompt
    assert result.prompt.endswith("\n\n# 用户消息为：\n天空为什么是蓝色的？")


@pytest.mark.parametrize("mode", ["slow", "error", "empty", "not_json"])
def test_a_provider_that_fails_or_finds_nothing_gives_the_notice_and_the_bare_question(
    fake_internet: FakeInternet, settings: Any, mode: str
) -> None:
    settings.WHALE_SEARCH_TIMEOUT_SECONDS = 0.3
    fake_internet.search_mode = mode

    result = research_run("Why is the sky blue?", budget_tokens=3000, today=TODAY)

    assert result.notice == UNAVAILABLE_NOTICE == "Search was unavailable; answering from the model alone"
    assert result.prompt == "Why is the sky blue?"
    assert result.sources == []
    assert result.events == [
        {"phase": "searching", "queries": ["Why is the sky blue?"]},
        {"phase": "read", "queries": ["Why is the sky blue?"], "sources": []},
    ]


def test_an_unreachable_provider_gives_the_notice(fake_internet: FakeInternet, settings: Any) -> None:
    settings.WHALE_SEARXNG_URL = "http://127.0.0.1:9"  # the discard port: nothing listens

    result = research_run("Why is the sky blue?", budget_tokens=3000, today=TODAY)

    assert result.notice == UNAVAILABLE_NOTICE
    assert result.prompt == "Why is the sky blue?"


def test_a_url_in_the_question_is_read_first_even_with_search_off(fake_internet: FakeInternet) -> None:
    url = fake_internet.page("/articles/ocean")
    result = research_run(f"Summarise {url}, please.", budget_tokens=3000, search=False, today=TODAY)

    assert result.queries == []
    assert [source["url"] for source in result.sources] == [url]
    assert "absorbs red light" in result.prompt
    assert [path for path, _ in fake_internet.requests] == ["/articles/ocean"]  # no search was made


def test_a_url_in_the_question_comes_before_the_search_results(fake_internet: FakeInternet) -> None:
    url = fake_internet.page("/notes.txt")
    result = research_run(f"What does {url} say about clouds?", budget_tokens=3000, today=TODAY)

    assert result.sources[0]["url"] == url
    assert result.sources[0]["n"] == 1
    assert "Mie scattering makes clouds white" in result.prompt
    assert len(result.sources) == 3


def test_urls_are_found_in_text_with_chinese_punctuation() -> None:
    text = "看看 https://example.com/a?b=1，还有(https://example.org/x). 和 http://example.net。"
    assert question_urls(text, limit=5) == ["https://example.com/a?b=1", "https://example.org/x", "http://example.net"]
    assert question_urls(text, limit=1) == ["https://example.com/a?b=1"]


def test_the_prompt_fits_the_budget_measured_with_the_models_tokenizer(fake_internet: FakeInternet) -> None:
    tokenizer = Tokenizer.from_file(str(DEMO_MODEL_DIR / "tokenizer.json"))
    roomy = research_run("Why is the sky blue?", budget_tokens=5000, today=TODAY)
    tight = research_run("Why is the sky blue?", budget_tokens=roomy.prompt_tokens - 150, today=TODAY)

    assert roomy.counted_with.endswith("tokenizer.json")
    for result in (roomy, tight):
        assert result.prompt_tokens == len(tokenizer.encode(result.prompt, add_special_tokens=False).ids)
    assert tight.prompt_tokens <= roomy.prompt_tokens - 150
    assert tight.notice is None
    # What is dropped first is the least relevant to "sky" and "blue"; the best passage stays whole.
    assert "which is why the whole sky looks blue on a clear day" in tight.prompt
    assert "inverse fourth power" in roomy.prompt and "inverse fourth power" not in tight.prompt


def test_a_budget_too_small_for_any_passage_gives_the_notice(fake_internet: FakeInternet) -> None:
    result = research_run("Why is the sky blue?", budget_tokens=50, today=TODAY)

    assert result.notice == UNAVAILABLE_NOTICE
    assert result.prompt == "Why is the sky blue?"


def test_without_a_tokenizer_the_budget_is_estimated_from_characters(
    fake_internet: FakeInternet, settings: Any
) -> None:
    settings.WHALE_SEARCH_TOKENIZER = "chars"
    result = research_run("Why is the sky blue?", budget_tokens=3000, today=TODAY)

    assert result.counted_with == "chars"
    assert result.notice is None


def test_events_are_handed_to_the_callback_as_they_happen(fake_internet: FakeInternet) -> None:
    seen: list[dict[str, Any]] = []
    result = research_run("Why is the sky blue?", budget_tokens=3000, today=TODAY, on_event=seen.append)

    assert seen == result.events
    assert [event["phase"] for event in seen] == ["searching", "read"]
    assert seen[1]["sources"] == result.sources
    assert set(seen[1]["sources"][0]) == {"n", "title", "url", "site", "snippet"}


def test_search_off_and_no_url_reads_nothing(fake_internet: FakeInternet) -> None:
    result = research_run("Why is the sky blue?", budget_tokens=3000, search=False, today=TODAY)

    assert result.prompt == "Why is the sky blue?"
    assert fake_internet.requests == []


def _sample(name: str, labels: dict[str, str]) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_count_research_latency_pages_and_provider_errors(fake_internet: FakeInternet) -> None:
    read_before = _sample("whale_research_pages_total", {"result": "read"})
    missing_before = _sample("whale_research_pages_total", {"result": "http_status"})
    ok_before = _sample("whale_research_duration_seconds_count", {"outcome": "ok"})
    errors_before = _sample("whale_research_provider_errors_total", {"provider": "searxng", "reason": "http_error"})

    research_run("Why is the sky blue?", budget_tokens=3000, today=TODAY)
    fake_internet.search_mode = "error"
    research_run("Why is the sky blue?", budget_tokens=3000, today=TODAY)

    assert _sample("whale_research_pages_total", {"result": "read"}) == read_before + 2
    assert _sample("whale_research_pages_total", {"result": "http_status"}) == missing_before + 1
    assert _sample("whale_research_duration_seconds_count", {"outcome": "ok"}) == ok_before + 1
    assert (
        _sample("whale_research_provider_errors_total", {"provider": "searxng", "reason": "http_error"})
        == errors_before + 1
    )
