"""The OpenAI (and DeepSeek) wire format: parsing a chat completion request, shaping answers, chunks and errors."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from common.errors import ApplicationError, ValidationFailed
from common.parsers import INVALID_TEXT_MESSAGE, InvalidText, json_loads

MAX_MESSAGES = 512
MAX_CONTENT_CHARS = 200_000
ROLES = {"system", "user", "assistant"}

# Parameters we honour; see docs/api.md ("Partner API").
SUPPORTED = {
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "n",
    "user",
    "frequency_penalty",
    "presence_penalty",
    "response_format",
    "logprobs",
}
# OpenAI parameters we know but do not implement: null is fine, anything else is a 400 naming it.
UNSUPPORTED = {
    "stop",
    "seed",
    "tools",
    "tool_choice",
    "functions",
    "function_call",
    "parallel_tool_calls",
    "logit_bias",
    "top_logprobs",
    "modalities",
    "audio",
    "prediction",
    "reasoning_effort",
    "service_tier",
    "store",
    "metadata",
    "web_search_options",
}


class InvalidRequest(ValidationFailed):
    """400 invalid_request_error naming the offending `param`."""

    def __init__(self, message: str, *, param: str | None, code: str = "invalid_value") -> None:
        super().__init__(message, code=code, fields={param: [message]} if param else None)
        self.param = param


class UnprocessableRequest(InvalidRequest):
    status_code = 422


@dataclass
class ChatRequest:
    model: str
    messages: list[dict[str, str]]
    stream: bool
    include_usage: bool
    max_tokens: int | None
    temperature: float | None
    top_p: float | None


def _number(body: dict[str, Any], name: str, low: float, high: float, *, low_open: bool = False) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequest(f"`{name}` must be a number.", param=name, code="invalid_type")
    if value < low or value > high or (low_open and value == low):
        bound = f"greater than {low}" if low_open else f"at least {low}"
        raise InvalidRequest(f"`{name}` must be {bound} and at most {high}.", param=name)
    return float(value)


def _content(raw: Any, index: int) -> str:
    param = f"messages[{index}].content"
    if isinstance(raw, str):
        text = raw
    elif isinstance(raw, list):
        parts = []
        for part in raw:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise InvalidRequest("Only text content parts are supported.", param=param, code="unsupported_value")
            parts.append(part["text"])
        text = "".join(parts)
    elif raw is None:
        text = ""
    else:
        raise InvalidRequest("`content` must be a string or a list of text parts.", param=param, code="invalid_type")
    if len(text) > MAX_CONTENT_CHARS:
        raise InvalidRequest(f"A message can have at most {MAX_CONTENT_CHARS} characters.", param=param)
    return text


def _messages(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("`messages` must be a non-empty array.", param="messages", code="invalid_type")
    if len(raw) > MAX_MESSAGES:
        raise InvalidRequest(f"At most {MAX_MESSAGES} messages.", param="messages")
    messages: list[dict[str, str]] = []
    for index, message in enumerate(raw):
        if not isinstance(message, dict):
            raise InvalidRequest("Each message must be an object.", param=f"messages[{index}]", code="invalid_type")
        role = message.get("role")
        if role not in ROLES:
            raise InvalidRequest(
                f"Unsupported role {role!r}; use system, user or assistant.",
                param=f"messages[{index}].role",
                code="unsupported_value",
            )
        # `reasoning_content` of earlier answers is dropped, as DeepSeek does: the model never sees it again.
        messages.append({"role": str(role), "content": _content(message.get("content"), index)})
    if messages[-1]["role"] != "user":
        raise UnprocessableRequest("The last message must be the user's.", param="messages")
    if not any(m["role"] == "user" and m["content"].strip() for m in messages):
        raise UnprocessableRequest("There must be a user message with some text.", param="messages")
    return messages


def parse_chat_request(raw_body: bytes) -> ChatRequest:
    try:
        body = json_loads(raw_body or b"null")  # 400 invalid_json or json_too_deep
    except InvalidText as exc:
        param = next(iter(exc.fields or {}), None)
        raise InvalidRequest(INVALID_TEXT_MESSAGE, param=param, code="invalid_text") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.", param=None, code="invalid_json")
    for name, value in body.items():
        if name in UNSUPPORTED:
            if value is not None:
                raise InvalidRequest(f"`{name}` is not supported.", param=name, code="unsupported_parameter")
        elif name not in SUPPORTED:
            raise InvalidRequest(
                f"Unrecognized request argument supplied: {name}", param=str(name)[:64], code="unknown_parameter"
            )
    model = body.get("model")
    if not isinstance(model, str) or not model or len(model) > 64:
        raise InvalidRequest("`model` must name a model (see GET /v1/models).", param="model")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise InvalidRequest("`stream` must be true or false.", param="stream", code="invalid_type")
    include_usage = False
    options = body.get("stream_options")
    if options is not None:
        if not stream:
            raise InvalidRequest("`stream_options` is only allowed with `stream: true`.", param="stream_options")
        if not isinstance(options, dict) or set(options) - {"include_usage"}:
            raise InvalidRequest("Only `stream_options.include_usage` is supported.", param="stream_options")
        include_usage = options.get("include_usage") is True
    max_tokens: int | None = None
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidRequest(f"`{name}` must be an integer.", param=name, code="invalid_type")
        if not 1 <= value <= settings.WHALE_MAX_TOKENS:
            raise InvalidRequest(f"`{name}` must be between 1 and {settings.WHALE_MAX_TOKENS}.", param=name)
        max_tokens = value
    n = body.get("n")
    if n is not None and n != 1:
        raise InvalidRequest("Only `n: 1` is supported.", param="n", code="unsupported_value")
    for name in ("frequency_penalty", "presence_penalty"):
        if _number(body, name, -2, 2):
            raise InvalidRequest(f"Only `{name}: 0` is supported.", param=name, code="unsupported_value")
    if body.get("logprobs"):
        raise InvalidRequest("`logprobs` is not supported.", param="logprobs", code="unsupported_value")
    response_format = body.get("response_format")
    if response_format is not None and response_format != {"type": "text"}:
        raise InvalidRequest("Only `response_format: {type: text}` is supported.", param="response_format")
    user = body.get("user")
    if user is not None and (not isinstance(user, str) or len(user) > 256):
        raise InvalidRequest("`user` must be a string of at most 256 characters.", param="user")
    return ChatRequest(
        model=model,
        messages=_messages(body.get("messages")),
        stream=bool(stream),
        include_usage=include_usage,
        max_tokens=max_tokens,
        temperature=_number(body, "temperature", 0, 2),
        top_p=_number(body, "top_p", 0, 1, low_open=True),
    )


def completion_id(turn_id: object) -> str:
    return f"chatcmpl-{turn_id}"


def usage_object(usage: dict[str, Any]) -> dict[str, Any]:
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "completion_tokens_details": {"reasoning_tokens": int(usage.get("reasoning_tokens") or 0)},
    }


def finish_reason(raw: Any) -> str:
    return "length" if raw == "length" else "stop"


def completion_body(
    *, turn_id: object, model: str, created: int, content: str, reasoning: str, done: dict[str, Any]
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning:
        message["reasoning_content"] = reasoning
    return {
        "id": completion_id(turn_id),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason(done.get("finish_reason")),
            }
        ],
        "usage": usage_object(done.get("usage") or {}),
    }


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
DAILY_QUOTA_CODES = {"turns_per_day_exceeded", "reasoning_turns_per_day_exceeded", "tokens_per_day_exceeded"}


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
