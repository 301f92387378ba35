"""Relevance of passages to the query with BM25 (bm25s), over words and CJK character bigrams."""

from __future__ import annotations

import re

import bm25s
import numpy as np

_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "do",
        "does",
        "did",
        "can",
    ]
)


def tokens(text: str) -> list[str]:
    """Lower-cased words without stopwords, plus each CJK run's characters and bigrams (no spaces to split on)."""
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        out.extend(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    stripped = _CJK_RUN.sub(" ", text)
    out.extend(word for word in (w.lower() for w in _WORD.findall(stripped)) if word not in STOPWORDS)
    return out


def scores(query: str, documents: list[str]) -> list[float]:
    """One BM25 score per document for the query (0 for all when nothing in the query matches)."""
    if not documents:
        return []
    query_tokens = tokens(query)
    corpus = [tokens(doc) or ["\u2205"] for doc in documents]
    if not query_tokens:
        return [0.0] * len(documents)
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    vocabulary = retriever.vocab_dict
    known = [token for token in query_tokens if token in vocabulary]
    if not known:
        return [0.0] * len(documents)
    result = retriever.get_scores(known)
    return [float(value) for value in np.asarray(result).tolist()]
