# ruff: noqa: RUF001 - Chinese text and full-width punctuation are meant here
"""The research step of a search turn: search, read the top pages, keep the best passages, build the prompt.

`research_run` never raises for the internet's sake: a provider that times out, fails or finds nothing,
and pages that cannot be read, end in a result whose prompt is the question alone and whose notice
says so. A turn's prepare step (turns/preparing.py) runs it on the research queue before the GPU task.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone

from . import metrics, ranking
from .budget import token_counter
from .extraction import ExtractedPage, extract_page, passages
from .fetching import FetchPolicy, FetchRefused, fetch_client, fetch_page
from .prompts import WebpageBlock, question_language, search_prompt
from .providers import ProviderError, SearchHit, SearchProvider, provider_from_settings

logger = logging.getLogger(__name__)

UNAVAILABLE_NOTICE = "Search was unavailable; answering from the model alone"
MAX_QUERY_CHARS = 400
SNIPPET_CHARS = 240
MIN_CUT_TOKENS = 48  # a passage is cut to fit only when at least this much room is left
# A URL pasted into a question, up to the first space or closing punctuation (ASCII or full-width).
_URL = re.compile(r"https?://[^\s<>\"'`\]\[(){}，。！？、；：“”‘’（）《》]+", re.IGNORECASE)
_DEFAULT = object()

Event = dict[str, Any]


@dataclass
class ResearchResult:
    prompt: str  # the user turn to send: the official search template, or the question alone
    sources: list[dict[str, Any]]  # [{n, title, url, site, snippet}], n as cited by [citation:n]
    queries: list[str]
    events: list[Event]  # the turn stream's `search` events, in order
    notice: str | None  # UNAVAILABLE_NOTICE when nothing could be used
    language: str
    prompt_tokens: int
    counted_with: str  # the tokenizer file, or "chars"
    pages_read: int
    timings: dict[str, float] = field(default_factory=dict)  # seconds: provider, total

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Candidate:
    url: str
    title: str
    snippet: str
    pasted: bool  # the user pasted it into the question: read first, kept first


@dataclass(frozen=True)
class _Passage:
    page: int  # index into the pages read
    position: int
    text: str
    score: float


def question_urls(question: str, *, limit: int) -> list[str]:
    found: list[str] = []
    for match in _URL.finditer(question):
        url = match.group(0).rstrip(".,;:!?")
        if url not in found:
            found.append(url)
        if len(found) >= limit:
            break
    return found


def _candidates(pasted: list[str], hits: list[SearchHit], *, pages: int) -> list[_Candidate]:
    seen: set[str] = set()
    out: list[_Candidate] = []
    for url in pasted:
        seen.add(url)
        out.append(_Candidate(url=url, title="", snippet="", pasted=True))
    for hit in hits:
        if hit.url in seen or len(out) >= len(pasted) + pages:
            continue
        seen.add(hit.url)
        out.append(_Candidate(url=hit.url, title=hit.title, snippet=hit.snippet, pasted=False))
    return out


async def _read(client: httpx.AsyncClient, candidate: _Candidate, policy: FetchPolicy) -> ExtractedPage | None:
    try:
        page = await fetch_page(client, candidate.url, policy=policy)
    except FetchRefused as refused:
        logger.info("research: skipped %s (%s)", candidate.url, refused)
        metrics.page_fetched(result=refused.reason)
        return None
    extracted = await asyncio.to_thread(extract_page, page)
    metrics.page_fetched(result="read" if extracted else "no_text")
    return extracted


def _cut(passage: _Passage, room: int, count: Callable[[str], int]) -> _Passage:
    """The passage's longest prefix of whole words (ending in " …") that counts at most `room` tokens."""
    words = passage.text.split(" ")
    low, high = 0, len(words)
    while low < high:
        middle = (low + high + 1) // 2
        if count(" ".join(words[:middle]) + " …") + 1 <= room:
            low = middle
        else:
            high = middle - 1
    text = " ".join(words[:low]) + " …" if low else ""
    return _Passage(page=passage.page, position=passage.position, text=text, score=passage.score)


def _fit(
    *,
    question: str,
    pages: list[tuple[_Candidate, ExtractedPage]],
    ranked: list[_Passage],
    budget_tokens: int,
    today: dt.date,
    language: str,
    count: Callable[[str], int],
) -> tuple[str, list[dict[str, Any]], int] | None:
    """The prompt with the best passages that fit the budget, its sources and its token count; None if none fit."""

    def build(kept: list[_Passage]) -> tuple[str, list[dict[str, Any]]]:
        blocks: list[WebpageBlock] = []
        sources: list[dict[str, Any]] = []
        for index, (candidate, page) in enumerate(pages):
            mine = sorted((p for p in kept if p.page == index), key=lambda p: p.position)
            if not mine:
                continue
            n = len(blocks) + 1
            title = page.title or candidate.title or page.site
            blocks.append(WebpageBlock(n=n, title=title, url=page.url, text="\n".join(p.text for p in mine)))
            snippet = candidate.snippet or mine[0].text
            sources.append(
                {"n": n, "title": title, "url": page.url, "site": page.site, "snippet": snippet[:SNIPPET_CHARS]}
            )
        return search_prompt(question=question, blocks=blocks, today=today, language=language), sources

    empty_prompt, _ = build([])
    spent = count(empty_prompt)
    headers: set[int] = set()
    kept: list[_Passage] = []
    for passage in ranked:
        header = 0
        if passage.page not in headers:
            candidate, page = pages[passage.page]
            header = count(f"[webpage 10 begin]\n{page.title or candidate.title}\n{page.url}\n[webpage 10 end]\n")
        cost = header + count(passage.text) + 1
        if spent + cost > budget_tokens:
            # The most relevant passage that no longer fits whole is cut to the room left, by words.
            room = budget_tokens - spent - header
            if room < MIN_CUT_TOKENS:
                continue
            passage = _cut(passage, room, count)
            if not passage.text:
                continue
            cost = header + count(passage.text) + 1
        spent += cost
        headers.add(passage.page)
        kept.append(passage)
    # The sum of the parts is an estimate (tokens merge across joins): drop the weakest until the whole fits.
    while kept:
        prompt, sources = build(kept)
        tokens = count(prompt)
        if tokens <= budget_tokens:
            return prompt, sources, tokens
        kept.pop()
    return None


async def research_run_async(
    query: str,
    *,
    budget_tokens: int,
    search: bool = True,
    provider: Any = _DEFAULT,
    policy: FetchPolicy | None = None,
    today: dt.date | None = None,
    on_event: Callable[[Event], None] | None = None,
    client: httpx.AsyncClient | None = None,
) -> ResearchResult:
    started = time.perf_counter()
    question = query.strip()
    chosen: SearchProvider | None = provider_from_settings() if provider is _DEFAULT else provider
    policy = policy or FetchPolicy.from_settings()
    today = today or timezone.localdate()
    language = question_language(question)
    count, counted_with = token_counter()
    pasted = question_urls(question, limit=settings.WHALE_SEARCH_QUESTION_URLS)
    queries = [question[:MAX_QUERY_CHARS]] if search and chosen is not None and question else []
    events: list[Event] = []
    timings: dict[str, float] = {}

    def emit(event: Event) -> None:
        events.append(event)
        if on_event is not None:
            on_event(event)

    emit({"phase": "searching", "queries": queries})
    own_client = client is None
    http = client or fetch_client()
    hits: list[SearchHit] = []
    outcome = "ok"
    try:
        if queries and chosen is not None:
            provider_started = time.perf_counter()
            try:
                hits = await chosen.search(http, queries[0], count=settings.WHALE_SEARCH_RESULTS)
            except ProviderError as failed:
                logger.warning("research: search provider failed: %s", failed)
                metrics.provider_failed(provider=failed.provider, reason=failed.reason)
                outcome = "provider_error"
            timings["provider"] = time.perf_counter() - provider_started
        candidates = _candidates(pasted, hits, pages=settings.WHALE_SEARCH_PAGES)
        read = await asyncio.gather(*(_read(http, candidate, policy) for candidate in candidates))
    finally:
        if own_client:
            await http.aclose()
    pages = [(candidate, page) for candidate, page in zip(candidates, read, strict=True) if page is not None]

    fitted: tuple[str, list[dict[str, Any]], int] | None = None
    sources: list[dict[str, Any]]
    if pages:
        pieces = [
            (index, position, text)
            for index, (_, page) in enumerate(pages)
            for position, text in enumerate(passages(page.text))
        ]
        relevance = ranking.scores(question, [text for _, _, text in pieces])
        boost = max(relevance, default=0.0) + 1.0  # pasted pages first: the user asked about them
        ranked = [
            _Passage(page=index, position=position, text=text, score=score + (boost if pages[index][0].pasted else 0.0))
            for (index, position, text), score in zip(pieces, relevance, strict=True)
        ]
        ranked.sort(key=lambda p: (-p.score, p.page, p.position))
        fitted = _fit(
            question=question,
            pages=pages,
            ranked=ranked,
            budget_tokens=budget_tokens,
            today=today,
            language=language,
            count=count,
        )

    if fitted is None:
        if outcome == "ok":
            outcome = "nothing_found"
        prompt, sources, notice = question, [], UNAVAILABLE_NOTICE
        prompt_tokens = count(prompt)
    else:
        prompt, sources, prompt_tokens = fitted
        notice = None
    emit({"phase": "read", "queries": queries, "sources": sources})
    timings["total"] = time.perf_counter() - started
    metrics.research_finished(outcome=outcome if fitted is None else "ok", seconds=timings["total"])
    return ResearchResult(
        prompt=prompt,
        sources=sources,
        queries=queries,
        events=events,
        notice=notice,
        language=language,
        prompt_tokens=prompt_tokens,
        counted_with=counted_with,
        pages_read=len(pages),
        timings=timings,
    )


def research_run(query: str, *, budget_tokens: int, **options: Any) -> ResearchResult:
    """The research step from synchronous code (a Celery task): see research_run_async for the options."""
    return asyncio.run(research_run_async(query, budget_tokens=budget_tokens, **options))
