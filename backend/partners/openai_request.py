"""Parsing OpenAI- and DeepSeek-format requests (/v1/chat/completions, /v1/completions) into CompletionParams.

What each parameter does (supported, ignored, refused) is the table in docs/api.md ("Partner API").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from common.parsers import INVALID_TEXT_MESSAGE, InvalidText, json_loads

from . import params as p
from . import turn_options
from .params import CompletionParams, InvalidRequest

MAX_MESSAGES = 512
MAX_CONTENT_CHARS = 200_000
ROLES = {"system", "developer", "user", "assistant", "tool"}
LEGACY_DEFAULT_MAX_TOKENS = 16  # OpenAI's default for /v1/completions

CHAT_PARAMETERS = {
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
    "top_logprobs",
    "stop",
    "seed",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning_effort",
    "thinking",
    "web_search",  # Whale's extras (turn_options.py): read the web, or the user's files, first
    "file_ids",
}
COMPLETION_PARAMETERS = {
    "model",
    "prompt",
    "stream",
    "stream_options",
    "max_tokens",
    "temperature",
    "top_p",
    "n",
    "best_of",
    "user",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "seed",
    "echo",
    "logprobs",
    "suffix",
}
# OpenAI parameters we know but do not implement: null is fine, anything else is a 400 naming it.
UNSUPPORTED = {
    "functions",
    "function_call",
    "logit_bias",
    "modalities",
    "audio",
    "prediction",
    "service_tier",
    "store",
    "metadata",
    "web_search_options",
    "verbosity",
}


@dataclass
class WireRequest:
    params: CompletionParams
    include_usage: bool


def _body(raw_body: bytes, known: set[str]) -> dict[str, Any]:
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
        elif name not in known:
            raise InvalidRequest(
                f"Unrecognized request argument supplied: {name}", param=str(name)[:64], code="unknown_parameter"
            )
    return body


def _common(body: dict[str, Any]) -> tuple[CompletionParams, bool]:
    """The parameters both endpoints share; `messages` is filled in by the caller."""
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
    n = body.get("n")
    if n is not None and n != 1:
        raise InvalidRequest("Only `n: 1` is supported.", param="n", code="unsupported_value")
    if body.get("logprobs"):
        raise InvalidRequest("`logprobs` is not supported.", param="logprobs", code="unsupported_value")
    params = CompletionParams(
        model=model,
        messages=[],
        stream=bool(stream),
        temperature=p.number(body, "temperature", 0, 2),
        top_p=p.number(body, "top_p", 0, 1, low_open=True),
        presence_penalty=p.number(body, "presence_penalty", -2, 2),
        frequency_penalty=p.number(body, "frequency_penalty", -2, 2),
        stop=p.stop_list(body.get("stop")),
        seed=p.seed_value(body.get("seed")),
        end_user=p.end_user_value(body.get("user")),
    )
    return params, include_usage


def _text(raw: Any, param: str, files: list[Any] | None = None) -> str:
    """The content as text; its `file` parts' ids go to `files` (None: this message may carry none)."""
    if isinstance(raw, str):
        text = raw
    elif isinstance(raw, list):
        parts = []
        for n, part in enumerate(raw):
            if isinstance(part, dict) and part.get("type") == "file":
                if files is None:
                    raise InvalidRequest(
                        "Only the last message, the user's, may carry `file` parts.",
                        param=f"{param}[{n}]",
                        code="unsupported_value",
                    )
                files.append(turn_options.file_part_id(part, param=f"{param}[{n}]"))
                continue
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


def _message(raw: Any, index: int, *, last: bool, files: list[Any] | None = None) -> dict[str, Any]:
    where = f"messages[{index}]"
    if not isinstance(raw, dict):
        raise InvalidRequest("Each message must be an object.", param=where, code="invalid_type")
    role = raw.get("role")
    if not p.one_of(role, ROLES):
        raise InvalidRequest(
            f"Unsupported role {role!r}; use system, user, assistant or tool.",
            param=f"{where}.role",
            code="unsupported_value",
        )
    message: dict[str, Any] = {
        "role": "system" if role == "developer" else role,
        "content": _text(raw.get("content"), f"{where}.content", files if last and role == "user" else None),
    }
    if role == "tool":
        call_id = raw.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id or len(call_id) > 128:
            raise InvalidRequest("A tool message needs its `tool_call_id`.", param=f"{where}.tool_call_id")
        message["tool_call_id"] = call_id
    if role == "assistant":
        calls = raw.get("tool_calls")
        if calls is not None:
            if not isinstance(calls, list) or len(calls) > p.MAX_TOOLS:
                raise InvalidRequest(
                    f"`tool_calls` must be an array of at most {p.MAX_TOOLS} calls.", param=f"{where}.tool_calls"
                )
            if calls:
                message["tool_calls"] = [
                    p.tool_call(call, param=f"{where}.tool_calls[{n}]") for n, call in enumerate(calls)
                ]
        reasoning = raw.get("reasoning_content")
        if reasoning is not None:
            if not isinstance(reasoning, str) or len(reasoning) > MAX_CONTENT_CHARS:
                raise InvalidRequest(
                    f"`reasoning_content` must be a string of at most {MAX_CONTENT_CHARS} characters.",
                    param=f"{where}.reasoning_content",
                )
            message["reasoning_content"] = reasoning
    prefix = raw.get("prefix")
    if prefix is not None:
        if not isinstance(prefix, bool):
            raise InvalidRequest("`prefix` must be true or false.", param=f"{where}.prefix", code="invalid_type")
        if prefix and (role != "assistant" or not last):
            raise InvalidRequest(
                "Only the last message, an assistant's, may have `prefix: true`.", param=f"{where}.prefix"
            )
        if prefix:
            message["prefix"] = True
    return message


def chat_messages(raw: Any, files: list[Any] | None = None) -> list[dict[str, Any]]:
    """The conversation as protocol.ChatMessage dicts (see params.conversation_checked for its rules); the
    last user message's `file` parts' ids go to `files`."""
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("`messages` must be a non-empty array.", param="messages", code="invalid_type")
    if len(raw) > MAX_MESSAGES:
        raise InvalidRequest(f"At most {MAX_MESSAGES} messages.", param="messages")
    messages = [_message(message, index, last=index == len(raw) - 1, files=files) for index, message in enumerate(raw)]
    return p.conversation_checked(messages)


def _guided(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return {"json_object": True}
    if kind == "json_schema":
        spec = raw.get("json_schema")
        if not isinstance(spec, dict) or "schema" not in spec:
            raise InvalidRequest(
                "`response_format.json_schema` must be `{name, schema, strict?}`.",
                param="response_format.json_schema",
            )
        return {"json_schema": p.schema_dict(spec["schema"], param="response_format.json_schema.schema")}
    raise InvalidRequest(
        "`response_format.type` must be text, json_object or json_schema.", param="response_format.type"
    )


def _thinking(raw: Any) -> bool | None:
    if raw is None:
        return None
    kind = raw.get("type") if isinstance(raw, dict) else None
    if not p.one_of(kind, {"enabled", "disabled"}):
        raise InvalidRequest('`thinking` must be {"type": "enabled"} or {"type": "disabled"}.', param="thinking")
    return kind == "enabled"


def _reasoning_effort(raw: Any) -> str | None:
    """One of our three efforts, `none`, or None when unset; `minimal`, `xhigh` and `max` as their nearest."""
    if raw is None:
        return None
    if not p.one_of(raw, {*p.REASONING_EFFORTS, *p.REASONING_EFFORT_ALIASES, p.REASONING_EFFORT_NONE}):
        raise InvalidRequest(
            "`reasoning_effort` must be none, minimal, low, medium, high, xhigh or max.", param="reasoning_effort"
        )
    return p.REASONING_EFFORT_ALIASES.get(str(raw), str(raw))


def parse_chat_request(raw_body: bytes) -> WireRequest:
    body = _body(raw_body, CHAT_PARAMETERS)
    params, include_usage = _common(body)
    if body.get("top_logprobs"):
        raise InvalidRequest("`top_logprobs` is not supported.", param="top_logprobs", code="unsupported_value")
    for name in ("max_tokens", "max_completion_tokens"):
        value = p.max_tokens_value(body, name, settings.WHALE_MAX_TOKENS)
        params.max_tokens = value if value is not None else params.max_tokens
    parallel = body.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):
        raise InvalidRequest("`parallel_tool_calls` must be true or false.", param="parallel_tool_calls")
    tools, search_tool = turn_options.search_tools_split(body.get("tools"))
    params.tools = p.tools_list(tools)
    params.tool_choice = p.tool_choice_value(body.get("tool_choice"), params.tools)
    params.parallel_tool_calls = parallel is not False
    params.guided = _guided(body.get("response_format"))
    params.thinking = _thinking(body.get("thinking"))
    effort = _reasoning_effort(body.get("reasoning_effort"))
    if effort == p.REASONING_EFFORT_NONE:
        if params.thinking:
            raise InvalidRequest(
                '`reasoning_effort` none asks for no thinking, and `thinking` {"type": "enabled"} for thinking.',
                param="reasoning_effort",
            )
        params.thinking, effort = False, None
    params.reasoning_effort = effort
    params.web_search = turn_options.web_search_value(body.get("web_search")) or search_tool
    file_parts: list[Any] = []
    params.messages = chat_messages(body.get("messages"), file_parts)
    params.file_ids = [*turn_options.file_ids_value(body.get("file_ids")), *file_parts]
    return WireRequest(params=params, include_usage=include_usage)


def parse_completion_request(raw_body: bytes) -> WireRequest:
    """The legacy /v1/completions: a raw text prompt, continued as it is (no chat template, no thinking)."""
    body = _body(raw_body, COMPLETION_PARAMETERS)
    params, include_usage = _common(body)
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    if not isinstance(prompt, str) or not prompt:
        raise InvalidRequest("`prompt` must be a non-empty string (one prompt per request).", param="prompt")
    if len(prompt) > p.MAX_PROMPT_CHARS:
        raise InvalidRequest(f"`prompt` can have at most {p.MAX_PROMPT_CHARS} characters.", param="prompt")
    for name, allowed in (("echo", {None, False}), ("best_of", {None, 1}), ("suffix", {None})):
        if not p.one_of(body.get(name), allowed):
            raise InvalidRequest(f"`{name}` is not supported.", param=name, code="unsupported_value")
    max_tokens = p.max_tokens_value(body, "max_tokens", settings.WHALE_MAX_TOKENS)
    params.max_tokens = LEGACY_DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens
    params.prompt = prompt
    params.messages = [{"role": "user", "content": prompt}]
    return WireRequest(params=params, include_usage=include_usage)
