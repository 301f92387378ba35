"""The OpenAI (and DeepSeek) wire format of answers: completions, chunks, usage and errors (requests: openai_request)."""

from __future__ import annotations

import json
import time
from typing import Any

from common.errors import ApplicationError

from .relay import Answer


def completion_id(turn_id: object, *, legacy: bool = False) -> str:
    return f"{'cmpl' if legacy else 'chatcmpl'}-{turn_id}"


def usage_object(usage: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's usage with DeepSeek's cache keys: the cached part is the engine's own count, never a guess."""
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    cached = min(int(usage.get("cached_tokens") or 0), prompt)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_cache_hit_tokens": cached,
        "prompt_cache_miss_tokens": prompt - cached,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": int(usage.get("reasoning_tokens") or 0)},
    }


def finish_reason(raw: Any) -> str:
    return "length" if raw == "length" else "tool_calls" if raw == "tool_calls" else "stop"


def completion_body(
    *, turn_id: object, model: str, created: int, answer: Answer, legacy: bool = False
) -> dict[str, Any]:
    """A whole chat completion (or, `legacy`, a text completion) from a finished answer."""
    choice: dict[str, Any] = {"index": 0}
    if legacy:
        choice["text"] = answer.content
    else:
        message: dict[str, Any] = {"role": "assistant", "content": answer.content}
        if answer.reasoning:
            message["reasoning_content"] = answer.reasoning
        if answer.tool_calls:
            message["tool_calls"] = answer.tool_calls
            message["content"] = answer.content or None
        choice["message"] = message
    choice.update(logprobs=None, finish_reason=finish_reason(answer.finish_reason))
    body = {
        "id": completion_id(turn_id, legacy=legacy),
        "object": "text_completion" if legacy else "chat.completion",
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": usage_object(answer.usage),
    }
    # Whale's extras, only when there is something to say (docs/api.md, "Web search and files").
    if answer.search_results is not None:
        body["search_results"] = answer.search_results
    if answer.notices:
        body["notices"] = answer.notices
    return body


def chunk(*, turn_id: object, model: str, created: int, delta: dict[str, Any] | None, **extra: Any) -> str:
    body: dict[str, Any] = {
        "id": completion_id(turn_id),
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
    }
    if delta is not None:
        body["choices"] = [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": extra.pop("finish_reason", None)}
        ]
    body.update(extra)
    return sse_data(body)


def text_chunk(*, turn_id: object, model: str, created: int, text: str | None, **extra: Any) -> str:
    """A chunk of the legacy /v1/completions stream (`text: None`: the usage chunk, with no choices)."""
    body: dict[str, Any] = {
        "id": completion_id(turn_id, legacy=True),
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [],
    }
    if text is not None:
        body["choices"] = [
            {"index": 0, "text": text, "logprobs": None, "finish_reason": extra.pop("finish_reason", None)}
        ]
    body.update(extra)
    return sse_data(body)


class ToolCallDeltas:
    """Turns the engine's tool_call events into OpenAI's `delta.tool_calls`: id, type and name on a call's
    first delta only, then just its arguments."""

    def __init__(self) -> None:
        self.started: set[int] = set()

    def delta(self, data: dict[str, Any]) -> dict[str, Any]:
        index = int(data.get("index") or 0)
        call: dict[str, Any] = {"index": index}
        if index not in self.started:
            self.started.add(index)
            call.update(id=str(data.get("id") or ""), type="function")
            call["function"] = {
                "name": str(data.get("name") or ""),
                "arguments": str(data.get("arguments_delta") or ""),
            }
        else:
            call["function"] = {"arguments": str(data.get("arguments_delta") or "")}
        return {"tool_calls": [call]}


def sse_data(body: dict[str, Any]) -> str:
    return f"data: {json.dumps(body, separators=(',', ':'), ensure_ascii=False)}\n\n"


STREAM_DONE = "data: [DONE]\n\n"

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_quota",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
}
# Daily quotas cannot be waited out in seconds: 402 (as DeepSeek does for a spent balance), which the
# OpenAI SDKs do not retry; per-minute and concurrency limits are 429, which they retry after Retry-After.
DAILY_QUOTA_CODES = {
    "turns_per_day_exceeded",
    "reasoning_turns_per_day_exceeded",
    "tokens_per_day_exceeded",
    "search_turns_per_day_exceeded",
}


def error_status(exc: ApplicationError) -> int:
    if exc.status_code == 429 and exc.code in DAILY_QUOTA_CODES:
        return 402
    return exc.status_code


def error_object(*, status: int, message: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error"),
            "param": param,
            "code": code,
        }
    }


def error_from_exception(exc: ApplicationError) -> tuple[int, dict[str, Any]]:
    status = error_status(exc)
    param = getattr(exc, "param", None)
    if param is None and exc.fields:
        param = next(iter(exc.fields))
    return status, error_object(status=status, message=exc.message, code=exc.code, param=param)


def now_epoch() -> int:
    return int(time.time())
