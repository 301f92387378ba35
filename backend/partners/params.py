"""One completion request, whatever dialect it came in (OpenAI, DeepSeek, Anthropic), and the checks they share.

Both wire parsers build a `CompletionParams`; `services.completion_start` turns it into a TurnTask
(inference/protocol.py). Tools are kept in OpenAI's shape, which is the engine's.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from common.errors import ValidationFailed

MAX_TOOLS = 128
MAX_TOOL_DESCRIPTION_CHARS = 8_192
MAX_SCHEMA_CHARS = 64_000  # a tool's parameters or a response schema, as JSON
MAX_STOP_SEQUENCES = 16
MAX_STOP_CHARS = 256
MAX_END_USER_CHARS = 256
MAX_PROMPT_CHARS = 200_000
TOOL_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
TOOL_CHOICES = {"none", "auto", "required"}
REASONING_EFFORTS = {"low", "medium", "high"}
# OpenAI's and DeepSeek's other efforts, on those three budgets: minimal thinks as little as low, xhigh and
# DeepSeek's max as much as high. "none" is no thinking at all, as `thinking: {"type": "disabled"}`.
REASONING_EFFORT_ALIASES = {"minimal": "low", "xhigh": "high", "max": "high"}
REASONING_EFFORT_NONE = "none"
SEED_MAX = 2**63 - 1


def one_of(value: Any, options: Any) -> bool:
    """`value in options` for any JSON value (a list or an object in a set would raise TypeError)."""
    try:
        return value in options
    except TypeError:
        return False


class InvalidRequest(ValidationFailed):
    """400 invalid_request_error naming the offending `param`."""

    def __init__(self, message: str, *, param: str | None, code: str = "invalid_value") -> None:
        super().__init__(message, code=code, fields={param: [message]} if param else None)
        self.param = param


class UnprocessableRequest(InvalidRequest):
    status_code = 422


@dataclass
class CompletionParams:
    """What a partner asked for. None means "the model's default"."""

    model: str
    messages: list[dict[str, Any]]  # protocol.ChatMessage dicts, oldest first
    stream: bool = False
    max_tokens: int | None = None
    thinking: bool | None = None  # None: as the model is; True/False picks the reasoning or the chat model
    temperature: float | None = None
    top_p: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    guided: dict[str, Any] | None = None
    reasoning_effort: str | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool = True
    prompt: str | None = None  # legacy /v1/completions: raw text, no chat template
    end_user: str = ""
    web_search: bool = False  # read the web first (turns/preparing.py), the sources in `search_results`
    file_ids: list[uuid.UUID] = field(default_factory=list)  # the user's files, read into the last user turn


def number(body: dict[str, Any], name: str, low: float, high: float, *, low_open: bool = False) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequest(f"`{name}` must be a number.", param=name, code="invalid_type")
    if value < low or value > high or (low_open and value == low):
        bound = f"greater than {low}" if low_open else f"at least {low}"
        raise InvalidRequest(f"`{name}` must be {bound} and at most {high}.", param=name)
    return float(value)


def schema_dict(value: Any, *, param: str) -> dict[str, Any]:
    """A JSON schema given by the partner: an object, of bounded size (the engine compiles it)."""
    if not isinstance(value, dict):
        raise InvalidRequest("A JSON schema must be an object.", param=param, code="invalid_type")
    if len(json.dumps(value, ensure_ascii=False)) > MAX_SCHEMA_CHARS:
        raise InvalidRequest(f"A JSON schema can have at most {MAX_SCHEMA_CHARS} characters.", param=param)
    return value


def tools_list(raw: Any, *, param: str = "tools") -> list[dict[str, Any]] | None:
    """OpenAI function tools, checked and copied: `[{type: "function", function: {name, description?, parameters?}}]`."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise InvalidRequest("`tools` must be an array.", param=param, code="invalid_type")
    if len(raw) > MAX_TOOLS:
        raise InvalidRequest(f"At most {MAX_TOOLS} tools.", param=param)
    tools: list[dict[str, Any]] = []
    names: set[str] = set()
    for index, tool in enumerate(raw):
        where = f"{param}[{index}]"
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(tool.get("function"), dict):
            raise InvalidRequest(
                'Each tool must be `{"type": "function", "function": {...}}`.', param=where, code="invalid_type"
            )
        function = tool["function"]
        tools.append(
            function_tool(
                name=function.get("name"),
                description=function.get("description"),
                parameters=function.get("parameters"),
                param=f"{where}.function",
            )
        )
        if tools[-1]["function"]["name"] in names:
            raise InvalidRequest("Tool names must be unique.", param=f"{where}.function.name")
        names.add(tools[-1]["function"]["name"])
    return tools or None


def function_tool(*, name: Any, description: Any, parameters: Any, param: str) -> dict[str, Any]:
    if not isinstance(name, str) or not TOOL_NAME_RE.fullmatch(name):
        raise InvalidRequest(
            "A tool's name must be 1 to 64 letters, digits, underscores or dashes.", param=f"{param}.name"
        )
    function: dict[str, Any] = {"name": name}
    if description is not None:
        if not isinstance(description, str) or len(description) > MAX_TOOL_DESCRIPTION_CHARS:
            raise InvalidRequest(
                f"A tool's description must be a string of at most {MAX_TOOL_DESCRIPTION_CHARS} characters.",
                param=f"{param}.description",
            )
        function["description"] = description
    if parameters is not None:
        function["parameters"] = schema_dict(parameters, param=f"{param}.parameters")
    return {"type": "function", "function": function}


def tool_choice_value(raw: Any, tools: list[dict[str, Any]] | None, *, param: str = "tool_choice") -> Any:
    """ "none" | "auto" | "required" | {"type": "function", "function": {"name": <one of the tools>}}."""
    if raw is None:
        return None
    if one_of(raw, TOOL_CHOICES):
        named = None
    elif isinstance(raw, dict) and raw.get("type") == "function" and isinstance(raw.get("function"), dict):
        named = raw["function"].get("name")
    else:
        raise InvalidRequest(
            '`tool_choice` must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}.',
            param=param,
        )
    if raw != "none" and not tools:
        raise InvalidRequest("`tool_choice` needs `tools`.", param=param)
    if named is not None:
        known = {tool["function"]["name"] for tool in tools or []}
        if named not in known:
            raise InvalidRequest(f"`tool_choice` names no tool given in `tools`: {named!r}.", param=param)
        return {"type": "function", "function": {"name": named}}
    return raw


def tool_call(raw: Any, *, param: str) -> dict[str, Any]:
    """One call from an earlier answer, sent back: `{id, type: "function", function: {name, arguments}}`."""
    function = raw.get("function") if isinstance(raw, dict) else None
    if not isinstance(function, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise InvalidRequest(
            'A tool call must be `{"id": ..., "type": "function", "function": {"name": ..., "arguments": ...}}`.',
            param=param,
            code="invalid_type",
        )
    name, arguments = function.get("name"), function.get("arguments", "")
    if not isinstance(name, str) or not name or not isinstance(arguments, str):
        raise InvalidRequest(
            "A tool call's function needs a `name` and `arguments` as a string.", param=f"{param}.function"
        )
    return {"id": raw["id"][:128], "type": "function", "function": {"name": name[:64], "arguments": arguments}}


def stop_list(raw: Any, *, param: str = "stop") -> list[str]:
    if raw is None:
        return []
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not all(isinstance(value, str) and value for value in values):
        raise InvalidRequest(f"`{param}` must be a string or an array of strings.", param=param, code="invalid_type")
    if len(values) > MAX_STOP_SEQUENCES or any(len(value) > MAX_STOP_CHARS for value in values):
        raise InvalidRequest(
            f"At most {MAX_STOP_SEQUENCES} stop sequences of at most {MAX_STOP_CHARS} characters each.", param=param
        )
    return list(values)


def seed_value(raw: Any) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not -SEED_MAX <= raw <= SEED_MAX:
        raise InvalidRequest("`seed` must be a 64-bit integer.", param="seed", code="invalid_type")
    return raw


def end_user_value(raw: Any, *, param: str = "user") -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str) or len(raw) > MAX_END_USER_CHARS:
        raise InvalidRequest(f"`{param}` must be a string of at most {MAX_END_USER_CHARS} characters.", param=param)
    return raw


def max_tokens_value(body: dict[str, Any], name: str, ceiling: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"`{name}` must be an integer.", param=name, code="invalid_type")
    if not 1 <= value <= ceiling:
        raise InvalidRequest(f"`{name}` must be between 1 and {ceiling}.", param=name)
    return value


def conversation_checked(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rules every dialect's conversation follows. It ends with the user, a tool result, or an
    assistant message with `prefix: true` (DeepSeek's chat prefix completion, Anthropic's prefill). As in
    DeepSeek's thinking mode, `reasoning_content` is passed back only within the current turn (after
    the last user message); earlier reasoning is dropped, the model never sees it again."""
    last = messages[-1]
    if last["role"] not in {"user", "tool"} and not last.get("prefix"):
        raise UnprocessableRequest(
            "The last message must be the user's, a tool result, or an assistant message with `prefix: true`.",
            param="messages",
        )
    if not any(m["role"] == "user" and m["content"].strip() for m in messages):
        raise UnprocessableRequest("There must be a user message with some text.", param="messages")
    last_user = max(index for index, m in enumerate(messages) if m["role"] == "user")
    for message in messages[:last_user]:
        message.pop("reasoning_content", None)
    return messages
