"""A completion's web search and file references: parsed from the request, checked before any write, and
queued through the app's prepare step (turns/preparing.py), which reads the web and the files first.

The request shapes (docs/api.md, "Web search and files"):
  "web_search": true | {"enabled": true}        (the OpenAI SDK sends it through `extra_body`)
  "tools": [{"type": "deepseek_web_search"}]    (DeepSeek's name for the tool; same effect)
  "file_ids": ["<id>", ...]                     (uploaded through POST /v1/files)
  {"type": "file", "file": {"file_id": "<id>"}} (OpenAI's content part, in the last user message)
"""

from __future__ import annotations

import uuid
from typing import Any

from research.providers import provider_from_settings
from turns import preparing

from common.errors import NotFound

from .params import CompletionParams, InvalidRequest, UnprocessableRequest

SEARCH_TOOL_TYPES = {"deepseek_web_search"}


def web_search_value(raw: Any) -> bool:
    """`web_search`: true, false, null, or an object `{"enabled": bool}`."""
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    if isinstance(raw, dict) and set(raw) <= {"enabled"} and isinstance(raw.get("enabled", True), bool):
        return bool(raw.get("enabled", True))
    raise InvalidRequest('`web_search` must be true, false or {"enabled": true}.', param="web_search")


def search_tools_split(raw: Any) -> tuple[Any, bool]:
    """The tools without DeepSeek's web search tool, and whether it was there (the function tools are checked
    as before by params.tools_list)."""
    if not isinstance(raw, list):
        return raw, False
    kept = [tool for tool in raw if not (isinstance(tool, dict) and tool.get("type") in SEARCH_TOOL_TYPES)]
    found = len(kept) != len(raw)
    return ((kept or None) if found else raw), found


def file_id_value(raw: Any, *, param: str) -> uuid.UUID:
    """One file id: a string; one that is no id of ours is a file we do not have (404, as OpenAI answers)."""
    if not isinstance(raw, str) or not raw or len(raw) > 64:
        raise InvalidRequest("A file id must be a string (the `id` from POST /v1/files).", param=param)
    try:
        return uuid.UUID(raw.removeprefix("file-"))
    except ValueError as exc:
        raise NotFound("No such file.", code="not_found", extra={"file_id": raw}) from exc


def file_ids_value(raw: Any) -> list[uuid.UUID]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidRequest("`file_ids` must be an array of file ids.", param="file_ids", code="invalid_type")
    return [file_id_value(item, param=f"file_ids[{n}]") for n, item in enumerate(raw[:1000])]


def file_part_id(part: dict[str, Any], *, param: str) -> uuid.UUID:
    """OpenAI's `{"type": "file", "file": {"file_id": ...}}`; inline `file_data` is not taken (upload it)."""
    file = part.get("file")
    if not isinstance(file, dict) or "file_id" not in file:
        raise InvalidRequest(
            'A file part must be {"type": "file", "file": {"file_id": "..."}}; upload the file through /v1/files.',
            param=param,
            code="unsupported_value",
        )
    return file_id_value(file["file_id"], param=f"{param}.file.file_id")


def wants_prepare(params: CompletionParams) -> bool:
    return params.prompt is None and (params.web_search or bool(params.file_ids))


def options_check(*, user: Any, params: CompletionParams) -> preparing.TurnOptions | None:
    """Refuses web search without a provider (400 search_unavailable), too many files (400), a file that is
    not the key owner's (404) or not read (409), before anything is written; None when the completion needs
    no prepare step."""
    if not wants_prepare(params):
        return None
    if params.messages[-1]["role"] != "user":
        raise UnprocessableRequest(
            "With `web_search` or files the last message must be the user's (it is the question read for them).",
            param="messages",
        )
    if params.web_search and provider_from_settings() is None:
        raise InvalidRequest(
            "Web search is not available on this server (no search provider is configured).",
            param="web_search",
            code="search_unavailable",
        )
    return preparing.turn_options_check(user=user, search=params.web_search, file_ids=params.file_ids)
