# ruff: noqa: RUF001 - Chinese text and full-width punctuation are meant here
"""The main text of a fetched page (trafilatura drops navigation, ads, scripts and footers), in passages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import trafilatura

from .fetching import FetchedPage

PASSAGE_WORDS = 80  # a passage is about this many words (or CJK characters / 2) of whole paragraphs
MAX_TEXT_CHARS = 200_000  # extracted text kept per page before it is cut into passages
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class ExtractedPage:
    url: str
    title: str
    site: str
    text: str


def site_name(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def extract_page(page: FetchedPage) -> ExtractedPage | None:
    """The page's title, site name and main text; None when nothing readable is left."""
    if page.content_type == "text/plain":
        text = page.body.decode("utf-8", errors="replace")
        title, site = "", ""
    else:
        # fast: without the fallback extractors (readability, jusText), half the CPU a page; 32 searches at once
        # on 2 cores stay within the latency target (docs/benchmarks.md).
        document = trafilatura.bare_extraction(
            page.body, url=page.url, with_metadata=True, include_comments=False, include_tables=True, fast=True
        )
        if document is None or isinstance(document, dict):
            return None
        text = document.text or ""
        title = document.title or ""
        site = document.sitename or ""
    text = text.strip()[:MAX_TEXT_CHARS]
    if not text:
        return None
    return ExtractedPage(
        url=page.url, title=title.strip()[:300], site=site.strip()[:100] or site_name(page.url), text=text
    )


def _length(text: str) -> int:
    """Words, counting CJK characters as half a word each (they carry about that much)."""
    cjk = len(_CJK.findall(text))
    return len(text.split()) + cjk // 2


def passages(text: str, *, size: int = PASSAGE_WORDS) -> list[str]:
    """Whole paragraphs joined up to about `size` words; a paragraph longer than that is cut by sentences."""
    pieces: list[str] = []
    for paragraph in (p.strip() for p in text.split("\n")):
        if not paragraph:
            continue
        if _length(paragraph) <= size:
            pieces.append(paragraph)
            continue
        sentences = re.split(r"(?<=[.!?。！？])\s*", paragraph)
        buffer = ""
        for sentence in sentences:
            if buffer and _length(buffer + " " + sentence) > size:
                pieces.append(buffer)
                buffer = ""
            buffer = f"{buffer} {sentence}".strip() if buffer else sentence
        if buffer:
            pieces.append(buffer)
    joined: list[str] = []
    for piece in pieces:
        if joined and _length(joined[-1]) + _length(piece) <= size:
            joined[-1] = f"{joined[-1]}\n{piece}"
        else:
            joined.append(piece)
    return joined
