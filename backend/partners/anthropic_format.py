"""Anthropic's Messages API wire format (as DeepSeek's platform offers it): a request parsed into
CompletionParams, and answers, stream events and errors in Anthropic's shapes."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from common.errors import ApplicationError
from common.parsers import INVALID_TEXT_MESSAGE, InvalidText, json_loads

from . import params as p
from .openai_format import error_status
from .params import CompletionParams, InvalidRequest
from .relay import Answer

MAX_MESSAGES = 512
MAX_CONTENT_CHARS = 200_000
PARAMETERS = {
    "model",
    "messages",
    "max_tokens",
    "system",
    "stop_sequences",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "metadata",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
}
# `thinking.budget_tokens` picks the reasoning effort: below 4,096 low, below 16,384 medium, else high.
BUDGET_EFFORTS = ((4_096, "low"), (16_384, "medium"))
STOP_REASONS = {"length": "max_tokens", "tool_calls": "tool_use"}
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
}


def _text_blocks(raw: Any, *, param: str) -> str:
    """A string, or text blocks (their `cache_control` and `citations` are ignored)."""
    if isinstance(raw, str):
        text = raw
    elif isinstance(raw, list):
        parts = []
        for index, block in enumerate(raw):
            if not isinstance(block, dict) or block.get("type") != "text" or not isinstance(block.get("text"), str):
                raise InvalidRequest(
                    "Only text blocks are supported here.", param=f"{param}[{index}]", code="unsupported_value"
                )
            parts.append(block["text"])
        text = "\n".join(parts)
    elif raw is None:
        text = ""
    else:
        raise InvalidRequest("Must be a string or a list of text blocks.", param=param, code="invalid_type")
    if len(text) > MAX_CONTENT_CHARS:
        raise InvalidRequest(f"A message can have at most {MAX_CONTENT_CHARS} characters.", param=param)
    return text


def _user(blocks: list[Any], *, param: str) -> list[dict[str, Any]]:
    """A user turn: its tool results first (one `tool` message each), then its text."""
    messages: list[dict[str, Any]] = []
    texts = []
    for index, block in enumerate(blocks):
        where = f"{param}[{index}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            texts.append(_text_blocks([block], param=param))
        elif kind == "tool_result":
            call_id = block.get("tool_use_id")
            if not isinstance(call_id, str) or not call_id or len(call_id) > 128:
                raise InvalidRequest("A tool result needs its `tool_use_id`.", param=f"{where}.tool_use_id")
            result = _text_blocks(block.get("content"), param=f"{where}.content")
            if block.get("is_error") is True:
                result = f"Error: {result}"
            messages.append({"role": "tool", "content": result, "tool_call_id": call_id})
        else:
            raise InvalidRequest(
                f"Unsupported content block {kind!r} in a user message; use text or tool_result.",
                param=where,
                code="unsupported_value",
            )
    if texts:
        messages.append({"role": "user", "content": "\n".join(texts)})
    return messages


def _assistant(blocks: list[Any], *, param: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": ""}
    texts, thoughts, calls = [], [], []
    for index, block in enumerate(blocks):
        where = f"{param}[{index}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            texts.append(_text_blocks([block], param=param))
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            thoughts.append(block["thinking"])
        elif kind == "redacted_thinking":
            continue
        elif kind == "tool_use" and isinstance(block.get("input"), dict):
            arguments = json.dumps(block["input"], ensure_ascii=False)
            function = {"name": block.get("name"), "arguments": arguments}
            calls.append(p.tool_call({"id": block.get("id"), "function": function}, param=where))
        else:
            raise InvalidRequest(
                f"Unsupported content block {kind!r} in an assistant message; use text, thinking or tool_use.",
                param=where,
                code="unsupported_value",
            )
    message["content"] = "".join(texts)
    if thoughts:
        message["reasoning_content"] = "".join(thoughts)
    if calls:
        message["tool_calls"] = calls
    return message


def _messages(raw: Any, system: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("`messages` must be a non-empty array.", param="messages", code="invalid_type")
    if len(raw) > MAX_MESSAGES:
        raise InvalidRequest(f"At most {MAX_MESSAGES} messages.", param="messages")
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for index, message in enumerate(raw):
        where = f"messages[{index}]"
        if not isinstance(message, dict) or not p.one_of(message.get("role"), {"user", "assistant"}):
            raise InvalidRequest("Each message must be `{role: user|assistant, content}`.", param=f"{where}.role")
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list):
            raise InvalidRequest("`content` must be a string or an array of blocks.", param=f"{where}.content")
        if message["role"] == "user":
            messages.extend(_user(blocks, param=f"{where}.content"))
        else:
            messages.append(_assistant(blocks, param=f"{where}.content"))
    if messages[-1]["role"] == "assistant":
        messages[-1]["prefix"] = True  # Anthropic's prefill: the answer continues it
    return p.conversation_checked(messages)


def _tools(raw: Any) -> list[dict[str, Any]] | None:
    """Anthropic's custom tools `{name, description?, input_schema}` as OpenAI function tools."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise InvalidRequest("`tools` must be an array.", param="tools", code="invalid_type")
    converted = []
    for index, tool in enumerate(raw):
        if not isinstance(tool, dict) or not p.one_of(tool.get("type"), {None, "custom"}):
            raise InvalidRequest(
                "Only custom tools `{name, description?, input_schema}` are supported.",
                param=f"tools[{index}]",
                code="unsupported_value",
            )
        function = {
            "name": tool.get("name"),
            "description": tool.get("description"),
            "parameters": tool.get("input_schema"),
        }
        converted.append({"type": "function", "function": function})
    return p.tools_list(converted)


def _tool_choice(raw: Any, tools: list[dict[str, Any]] | None) -> tuple[Any, bool]:
    """Anthropic's {type: auto|any|tool|none, name?, disable_parallel_tool_use?} as OpenAI's choice."""
    if raw is None:
        return None, True
    kind = raw.get("type") if isinstance(raw, dict) else None
    choices: dict[str, Any] = {"auto": "auto", "any": "required", "none": "none"}
    if kind == "tool":
        choice: Any = {"type": "function", "function": {"name": raw.get("name")}}
    elif p.one_of(kind, choices):
        choice = choices[str(kind)]
    else:
        raise InvalidRequest("`tool_choice.type` must be auto, any, tool or none.", param="tool_choice")
    parallel = raw.get("disable_parallel_tool_use") is not True
    return p.tool_choice_value(choice, tools), parallel


def _thinking(raw: Any) -> tuple[bool | None, str | None]:
    if raw is None:
        return None, None
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind == "disabled":
        return False, None
    if kind != "enabled":
        raise InvalidRequest("`thinking.type` must be enabled or disabled.", param="thinking")
    budget = raw.get("budget_tokens")
    if budget is None:
        return True, None
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise InvalidRequest("`thinking.budget_tokens` must be a positive integer.", param="thinking.budget_tokens")
    return True, next((effort for bound, effort in BUDGET_EFFORTS if budget < bound), "high")


def parse_messages_request(raw_body: bytes) -> CompletionParams:
    try:
        body = json_loads(raw_body or b"null")
    except InvalidText as exc:
        raise InvalidRequest(
            INVALID_TEXT_MESSAGE, param=next(iter(exc.fields or {}), None), code="invalid_text"
        ) from exc
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.", param=None, code="invalid_json")
    for name in body:
        if name not in PARAMETERS:
            raise InvalidRequest(
                f"{str(name)[:64]}: Extra inputs are not permitted", param=str(name)[:64], code="unknown_parameter"
            )
    model = body.get("model")
    if not isinstance(model, str) or not model or len(model) > 64:
        raise InvalidRequest("`model` must name a model.", param="model")
    max_tokens = p.max_tokens_value(body, "max_tokens", settings.WHALE_MAX_TOKENS)
    if max_tokens is None:
        raise InvalidRequest("`max_tokens` is required.", param="max_tokens")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise InvalidRequest("`stream` must be true or false.", param="stream", code="invalid_type")
    metadata = body.get("metadata")
    if metadata is not None and (not isinstance(metadata, dict) or set(metadata) - {"user_id"}):
        raise InvalidRequest("`metadata` may only have `user_id`.", param="metadata")
    tools = _tools(body.get("tools"))
    tool_choice, parallel = _tool_choice(body.get("tool_choice"), tools)
    thinking, effort = _thinking(body.get("thinking"))
    p.number(body, "top_k", 0, 2**31)  # checked, then ignored (as DeepSeek does)
    return CompletionParams(
        model=model,
        messages=_messages(body.get("messages"), _text_blocks(body.get("system"), param="system")),
        stream=bool(stream),
        max_tokens=max_tokens,
        thinking=thinking,
        reasoning_effort=effort,
        temperature=p.number(body, "temperature", 0, 1),
        top_p=p.number(body, "top_p", 0, 1, low_open=True),
        stop=p.stop_list(body.get("stop_sequences"), param="stop_sequences"),
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=parallel,
        end_user=p.end_user_value((metadata or {}).get("user_id"), param="metadata.user_id"),
    )


def message_id(turn_id: object) -> str:
    return f"msg_{turn_id}"


def signature(turn_id: object) -> str:
    """A thinking block's signature: clients send it back with the block, and it is not checked."""
    return f"whale-{turn_id}"


def usage_object(usage: dict[str, Any]) -> dict[str, Any]:
    """Anthropic counts cache reads apart from `input_tokens`; the cached part is the engine's own count."""
    prompt = int(usage.get("prompt_tokens") or 0)
    cached = min(int(usage.get("cached_tokens") or 0), prompt)
    return {
        "input_tokens": prompt - cached,
        "output_tokens": int(usage.get("completion_tokens") or 0),
        "cache_read_input_tokens": cached,
        "cache_creation_input_tokens": 0,
    }


def stop_reason(raw: Any) -> str:
    return STOP_REASONS.get(str(raw), "end_turn")


def tool_use_block(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    try:
        arguments = json.loads(function.get("arguments") or "{}")
    except ValueError:
        arguments = {}
    return {
        "type": "tool_use",
        "id": call.get("id") or "",
        "name": function.get("name") or "",
        "input": arguments if isinstance(arguments, dict) else {"value": arguments},
    }


def message_body(*, turn_id: object, model: str, answer: Answer) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if answer.reasoning:
        content.append({"type": "thinking", "thinking": answer.reasoning, "signature": signature(turn_id)})
    if answer.content or not answer.tool_calls:
        content.append({"type": "text", "text": answer.content})
    content.extend(tool_use_block(call) for call in answer.tool_calls)
    return {
        "id": message_id(turn_id),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(answer.finish_reason),
        "stop_sequence": None,
        "usage": usage_object(answer.usage),
    }


def sse(event_type: str, data: dict[str, Any]) -> str:
    body = json.dumps({"type": event_type, **data}, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event_type}\ndata: {body}\n\n"


def error_object(*, status: int, message: str) -> dict[str, Any]:
    kind = ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def error_from_exception(exc: ApplicationError) -> tuple[int, dict[str, Any]]:
    status = error_status(exc)
    return status, error_object(status=status, message=exc.message)
