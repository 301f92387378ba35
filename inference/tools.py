"""Tool calls in DeepSeek-R1's own format: rendering them, reading them from a stream, and guiding forced calls.

R1 writes a call as TOOL_CALL_BEGIN "function" TOOL_SEP name "\\n```json\\n" arguments "\\n```" TOOL_CALL_END,
several calls apart by "\\n" between TOOL_CALLS_BEGIN and TOOL_CALLS_END (the tokens below). With `tool_choice` "auto" the
answer is read with `ToolCallParser`; "required" and a named function are guided instead (structured outputs
with a JSON schema of the call), so any model produces a valid call, read with `GuidedToolCalls`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, cast

from inference.protocol import ToolCall, ToolCallDelta

# R1's tokens are spelled with full-width bars and lower blocks.
TOOL_CALLS_BEGIN = "<｜tool▁calls▁begin｜>"  # noqa: RUF001
TOOL_CALLS_END = "<｜tool▁calls▁end｜>"  # noqa: RUF001
TOOL_CALL_BEGIN = "<｜tool▁call▁begin｜>"  # noqa: RUF001
TOOL_CALL_END = "<｜tool▁call▁end｜>"  # noqa: RUF001
TOOL_SEP = "<｜tool▁sep｜>"  # noqa: RUF001
TOOL_OUTPUTS_BEGIN = "<｜tool▁outputs▁begin｜>"  # noqa: RUF001
TOOL_OUTPUTS_END = "<｜tool▁outputs▁end｜>"  # noqa: RUF001
TOOL_OUTPUT_BEGIN = "<｜tool▁output▁begin｜>"  # noqa: RUF001
TOOL_OUTPUT_END = "<｜tool▁output▁end｜>"  # noqa: RUF001
FENCE_OPEN = "```json\n"
_ARGUMENT_ENDS = ("\n```" + TOOL_CALL_END, "```" + TOOL_CALL_END, TOOL_CALL_END)

MAX_TOOLS = 128


class InvalidTools(ValueError):
    """The tools or the tool choice cannot be honoured: the task is refused as `invalid_request`."""


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def render_tool_call(name: str, arguments: str) -> str:
    return f"{TOOL_CALL_BEGIN}function{TOOL_SEP}{name}\n{FENCE_OPEN}{arguments}\n```{TOOL_CALL_END}"


def render_tool_calls(calls: Iterable[Mapping[str, Any]]) -> str:
    """An assistant's calls as R1 writes them (its chat template's form)."""
    rendered = [render_tool_call(call["function"]["name"], call["function"].get("arguments") or "{}") for call in calls]
    return f"{TOOL_CALLS_BEGIN}{chr(10).join(rendered)}{TOOL_CALLS_END}"


def render_tool_outputs(outputs: Sequence[str]) -> str:
    inner = "\n".join(f"{TOOL_OUTPUT_BEGIN}{output}{TOOL_OUTPUT_END}" for output in outputs)
    return f"{TOOL_OUTPUTS_BEGIN}{inner}{TOOL_OUTPUTS_END}"


def render_tool_instructions(tools: Sequence[Mapping[str, Any]]) -> str:
    """The tool definitions and the call format, for the system instructions (R1's template has no place for them)."""
    lines = ["## Tools", "You have access to the following tools:", ""]
    for tool in tools:
        function = tool.get("function") or {}
        lines.append(f"### {function.get('name', '')}")
        if function.get("description"):
            lines.append(f"Description: {function['description']}")
        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        lines += ["", f"Parameters: {json.dumps(parameters, ensure_ascii=False)}", ""]
    lines += [
        "To call tools, answer only with this format (one call per tool; JSON arguments):",
        render_tool_calls([{"function": {"name": "tool_name", "arguments": '{"argument": "value"}'}}]),
    ]
    return "\n".join(lines)


def _function_names(tools: Sequence[Mapping[str, Any]]) -> list[str]:
    names = []
    for tool in tools:
        function = tool.get("function")
        if tool.get("type", "function") != "function" or not isinstance(function, Mapping):
            raise InvalidTools("every tool must be {'type': 'function', 'function': {'name': ...}}")
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidTools("every tool's function needs a name")
        names.append(name)
    return names


def forced_function(tools: Sequence[Mapping[str, Any]] | None, tool_choice: Any) -> tuple[str, str | None]:
    """Checks the tools against the choice; returns the mode ("none", "auto" or "required") and the named function."""
    if not tools:
        if tool_choice not in (None, "none", "auto"):
            raise InvalidTools("tool_choice needs tools")
        return "none", None
    if len(tools) > MAX_TOOLS:
        raise InvalidTools(f"at most {MAX_TOOLS} tools")
    names = _function_names(tools)
    if tool_choice is None:
        return "auto", None
    if isinstance(tool_choice, str):
        if tool_choice not in ("none", "auto", "required"):
            raise InvalidTools("tool_choice must be 'none', 'auto', 'required' or a named function")
        return tool_choice, None
    if isinstance(tool_choice, Mapping):
        name = (tool_choice.get("function") or {}).get("name")
        if name not in names:
            raise InvalidTools(f"tool_choice names a function that is not among the tools: {name!r}")
        return "required", cast(str, name)
    raise InvalidTools("tool_choice must be a string or {'type': 'function', 'function': {'name': ...}}")


def _parameters(tool: Mapping[str, Any]) -> dict[str, Any]:
    parameters = tool["function"].get("parameters")
    return dict(parameters) if isinstance(parameters, Mapping) else {"type": "object", "properties": {}}


def guided_tool_schema(tools: Sequence[Mapping[str, Any]], *, named: str | None, parallel: bool) -> dict[str, Any]:
    """The JSON schema a forced answer follows: the named function's arguments, or a list of calls."""
    if named is not None:
        return _parameters(next(tool for tool in tools if tool["function"]["name"] == named))
    calls = [
        {
            "type": "object",
            "properties": {
                "name": {"type": "string", "enum": [tool["function"]["name"]]},
                "parameters": _parameters(tool),
            },
            "required": ["name", "parameters"],
        }
        for tool in tools
    ]
    schema: dict[str, Any] = {"type": "array", "minItems": 1, "items": {"anyOf": calls}}
    if not parallel:
        schema["maxItems"] = 1
    return schema


class ToolCallReader(Protocol):
    def feed(self, text: str) -> tuple[str, list[ToolCallDelta]]:
        """Takes answer text; returns the part that is plain content and the tool-call deltas found."""
        ...

    def finish(self) -> tuple[str, list[ToolCallDelta]]:
        """The stream ended: releases what was held back."""
        ...


def _held_back(text: str, markers: Sequence[str]) -> int:
    """How many characters at the end of `text` could be the start of one of the markers."""
    longest = 0
    for marker in markers:
        for size in range(min(len(marker) - 1, len(text)), longest, -1):
            if marker.startswith(text[-size:]):
                longest = size
                break
    return longest


class ToolCallParser:
    """Reads R1's tool-call format from an answer streamed in any split: content before the calls stays content.

    Once the calls begin, nothing more is content. Any split of the same text gives the same joined
    content and the same calls as feeding it whole.
    """

    def __init__(self, *, parallel: bool = True) -> None:
        self.parallel = parallel
        self._state = "content"
        self._pending = ""
        self._calls: list[dict[str, str]] = []  # id, name, arguments (what was emitted)

    @property
    def calls(self) -> list[ToolCall]:
        return [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in self._calls
        ]

    def feed(self, text: str) -> tuple[str, list[ToolCallDelta]]:
        self._pending += text
        content: list[str] = []
        deltas: list[ToolCallDelta] = []
        while self._step(content, deltas, final=False):
            pass
        return "".join(content), deltas

    def finish(self) -> tuple[str, list[ToolCallDelta]]:
        content: list[str] = []
        deltas: list[ToolCallDelta] = []
        while self._step(content, deltas, final=True):
            pass
        if self._state == "content":
            content.append(self._pending)
        elif self._state == "arguments":
            self._arguments(self._pending.rstrip().removesuffix("```").rstrip(), deltas)
        self._pending = ""
        self._state = "done"
        return "".join(content), deltas

    def _delta(self, arguments: str) -> ToolCallDelta:
        call = self._calls[-1]
        call["arguments"] += arguments
        return {"index": len(self._calls) - 1, "id": call["id"], "name": call["name"], "arguments_delta": arguments}

    def _arguments(self, text: str, deltas: list[ToolCallDelta]) -> None:
        if text:
            deltas.append(self._delta(text))

    def _step(self, content: list[str], deltas: list[ToolCallDelta], *, final: bool) -> bool:
        """Consumes what it can of the pending text; True when the state changed and it should go on."""
        text = self._pending
        if self._state == "content":
            starts = [i for i in (text.find(TOOL_CALLS_BEGIN), text.find(TOOL_CALL_BEGIN)) if i >= 0]
            if starts:
                start = min(starts)
                content.append(text[:start])
                self._pending = text[start:].removeprefix(TOOL_CALLS_BEGIN)
                self._state = "between"
                return True
            keep = _held_back(text, (TOOL_CALLS_BEGIN, TOOL_CALL_BEGIN))
            content.append(text[: len(text) - keep])
            self._pending = text[len(text) - keep :]
            return False
        if self._state == "between":
            stripped = text.lstrip()
            if stripped.startswith(TOOL_CALL_BEGIN):
                self._pending = stripped[len(TOOL_CALL_BEGIN) :]
                self._state = "type"
                return True
            if stripped.startswith(TOOL_CALLS_END) or (stripped and not TOOL_CALL_BEGIN.startswith(stripped)):
                self._state = "done"  # the end of the calls, or text that is not a call: the answer is over
                return True
            self._pending = stripped
            return False
        if self._state == "type":
            sep = text.find(TOOL_SEP)
            if sep < 0:
                return False
            self._pending = text[sep + len(TOOL_SEP) :]
            self._state = "name"
            return True
        if self._state == "name":
            ends = [i for i in (text.find("\n"), text.find(TOOL_CALL_END)) if i >= 0]
            if not ends and not final:
                return False
            end = min(ends) if ends else len(text)
            self._calls.append({"id": new_call_id(), "name": text[:end].strip(), "arguments": ""})
            deltas.append(self._delta(""))
            self._pending = text[end:].removeprefix("\n")
            self._state = "fence"
            return True
        if self._state == "fence":
            if FENCE_OPEN.startswith(text) and not final:
                return False  # nothing yet, or maybe the fence
            self._pending = text.removeprefix(FENCE_OPEN)
            self._state = "arguments"
            return True
        if self._state == "arguments":
            end = text.find(TOOL_CALL_END)
            if end >= 0:
                arguments = text[:end].rstrip().removesuffix("```").rstrip()
                self._arguments(arguments, deltas)
                self._pending = text[end + len(TOOL_CALL_END) :]
                self._state = "between" if self.parallel else "done"
                return True
            keep = _held_back(text, _ARGUMENT_ENDS)
            self._arguments(text[: len(text) - keep], deltas)
            self._pending = text[len(text) - keep :]
            return False
        self._pending = ""  # done: whatever follows the calls is not part of the answer
        return False


class GuidedToolCalls:
    """Reads a forced answer: the named function's arguments as they stream, or a JSON list of calls at the end."""

    def __init__(self, *, named: str | None) -> None:
        self.named = named
        self._text: list[str] = []
        self._calls: list[ToolCall] = []

    @property
    def calls(self) -> list[ToolCall]:
        return list(self._calls)

    def feed(self, text: str) -> tuple[str, list[ToolCallDelta]]:
        if self.named is None or not text:
            self._text.append(text)
            return "", []
        if not self._calls:
            self._calls.append(
                {"id": new_call_id(), "type": "function", "function": {"name": self.named, "arguments": ""}}
            )
        call = self._calls[0]
        call["function"]["arguments"] += text
        return "", [{"index": 0, "id": call["id"], "name": self.named, "arguments_delta": text}]

    def finish(self) -> tuple[str, list[ToolCallDelta]]:
        if self.named is not None:
            return "", []
        try:
            listed = json.loads("".join(self._text))
        except ValueError:
            return "", []  # cut short (max_tokens): no call is complete
        deltas: list[ToolCallDelta] = []
        for index, item in enumerate(listed if isinstance(listed, list) else []):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            arguments = json.dumps(item.get("parameters", {}), ensure_ascii=False)
            call: ToolCall = {
                "id": new_call_id(),
                "type": "function",
                "function": {"name": item["name"], "arguments": arguments},
            }
            self._calls.append(call)
            deltas.append({"index": index, "id": call["id"], "name": item["name"], "arguments_delta": arguments})
        return "", deltas


def tool_call_reader(
    tools: Sequence[Mapping[str, Any]] | None, tool_choice: Any, *, parallel: bool = True
) -> tuple[ToolCallReader | None, dict[str, Any] | None]:
    """The reader for an answer, and the guided setting that forces a call (None for "none" and "auto")."""
    mode, named = forced_function(tools, tool_choice)
    if mode == "none" or not tools:
        return None, None
    if mode == "auto":
        return ToolCallParser(parallel=parallel), None
    schema = guided_tool_schema(tools, named=named, parallel=parallel)
    return GuidedToolCalls(named=named), {"json_schema": schema}


def assemble_tool_calls(deltas: Iterable[ToolCallDelta]) -> list[ToolCall]:
    """The complete calls from their deltas, in index order."""
    calls: dict[int, ToolCall] = {}
    for delta in deltas:
        call = calls.setdefault(
            delta["index"],
            {"id": delta["id"], "type": "function", "function": {"name": delta["name"], "arguments": ""}},
        )
        call["function"]["arguments"] += delta["arguments_delta"]
    return [calls[index] for index in sorted(calls)]
