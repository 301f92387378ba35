"""An engine that streams from any OpenAI-compatible upstream: a `vllm serve` fleet, or DeepSeek's own API."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx

from inference.prompting import normalize_messages
from inference.protocol import ToolCallDelta
from inference.reasoning import ReasoningSplitter

from .base import INVALID_REQUEST, EngineError, EngineInfo, GenerationChunk, GenerationRequest

logger = logging.getLogger(__name__)


class OpenAIEngine:
    """POST /chat/completions with stream=True; reasoning arrives as `reasoning` (vLLM) or `reasoning_content` (DeepSeek)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str = "",
        model: str = "deepseek-reasoner",
        chat_model: str | None = None,
        max_model_len: int = 65536,
        timeout: float = 600.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.model = model
        self.chat_model = chat_model or model
        self.max_model_len = max_model_len
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._responses: dict[str, httpx.Response] = {}
        self._aborted: set[str] = set()

    @classmethod
    def from_env(cls) -> OpenAIEngine:
        """WHALE_OPENAI_BASE_URL (required), WHALE_OPENAI_API_KEY, WHALE_OPENAI_MODEL, WHALE_OPENAI_CHAT_MODEL."""
        base_url = os.environ.get("WHALE_OPENAI_BASE_URL", "").strip()
        if not base_url:
            raise ValueError("WHALE_OPENAI_BASE_URL must be set for the openai engine")
        model = os.environ.get("WHALE_OPENAI_MODEL", "").strip() or "deepseek-reasoner"
        max_len = os.environ.get("WHALE_MAX_MODEL_LEN", "").strip()
        return cls(
            base_url=base_url,
            api_key=os.environ.get("WHALE_OPENAI_API_KEY", ""),
            model=model,
            chat_model=os.environ.get("WHALE_OPENAI_CHAT_MODEL", "").strip() or None,
            max_model_len=int(max_len) if max_len else 65536,
        )

    @property
    def info(self) -> EngineInfo:
        return EngineInfo(engine="openai", model=self.model, is_demo_fallback=False, max_model_len=self.max_model_len)

    async def start(self) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(self.timeout, connect=10.0),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        )

    def _body(self, req: GenerationRequest) -> dict[str, Any]:
        if req.prompt is not None:
            raise EngineError("the openai engine does not take raw prompts", code=INVALID_REQUEST)
        messages: list[dict[str, Any]]
        if req.tools or any(m.get("role") == "tool" or m.get("tool_calls") or m.get("prefix") for m in req.messages):
            messages = [dict(m) for m in req.messages]  # the upstream speaks the same wire format
        else:
            system, turns = normalize_messages(req.messages)
            messages = [{"role": turn.role, "content": turn.content} for turn in turns]
            if system:
                messages[0]["content"] = f"{system}\n\n{messages[0]['content']}"
        extra: dict[str, Any] = {
            key: value
            for key, value in {
                "tools": list(req.tools) if req.tools else None,
                "tool_choice": req.tool_choice if req.tools else None,
                "parallel_tool_calls": req.parallel_tool_calls if req.tools else None,
                "stop": list(req.sampling.stop) or None,
                "seed": req.sampling.seed,
                "presence_penalty": req.sampling.presence_penalty or None,
                "frequency_penalty": req.sampling.frequency_penalty or None,
                "reasoning_effort": req.sampling.reasoning_effort if req.reasoning else None,
                "response_format": _response_format(req.sampling.guided),
            }.items()
            if value is not None
        }
        return {
            **extra,
            "model": self.model if req.reasoning else self.chat_model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": req.sampling.max_tokens,
            "temperature": req.sampling.temperature,
            "top_p": req.sampling.top_p,
        }

    async def generate(self, req: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        if self._client is None:
            raise EngineError("the engine has not been started", code="engine_not_ready")
        # Tags that slip into content (an upstream without a reasoning parser) never reach the user.
        content_filter = ReasoningSplitter(reasoning=False)
        counted = reasoning_counted = prompt_tokens = 0
        usage: dict[str, Any] = {}
        finish_reason: str | None = None
        call_ids: dict[int, tuple[str, str]] = {}  # index -> (id, name), from a call's first delta
        self._aborted.discard(req.request_id)
        try:
            async with self._client.stream("POST", "/chat/completions", json=self._body(req)) as response:
                self._responses[req.request_id] = response
                if response.status_code != 200:
                    detail = (await response.aread()).decode("utf-8", "replace")[:500]
                    raise EngineError(f"upstream answered {response.status_code}: {detail}", code="upstream_error")
                async for line in response.aiter_lines():
                    if req.request_id in self._aborted:
                        break
                    if not line.startswith("data:"):
                        continue
                    data = line[len("data:") :].strip()
                    if data == "[DONE]":
                        break
                    event = json.loads(data)
                    usage = event.get("usage") or usage
                    for choice in event.get("choices") or []:
                        delta = choice.get("delta") or {}
                        reasoning = delta.get("reasoning") or delta.get("reasoning_content") or ""
                        if not req.reasoning:
                            reasoning = ""  # the chat model's answer only
                        _, content = content_filter.feed(delta.get("content") or "")
                        if reasoning or delta.get("content"):
                            counted += 1
                            reasoning_counted += 1 if reasoning else 0
                        finish_reason = choice.get("finish_reason") or finish_reason
                        calls = tuple(_tool_call_deltas(delta.get("tool_calls") or [], call_ids))
                        if reasoning or content or calls:
                            yield GenerationChunk(
                                reasoning=reasoning,
                                content=content,
                                completion_tokens=counted,
                                reasoning_tokens=reasoning_counted,
                                tool_calls=calls,
                            )
        except EngineError:
            raise
        except (httpx.HTTPError, httpx.StreamError, json.JSONDecodeError) as exc:
            if req.request_id not in self._aborted:
                logger.warning("upstream stream failed for %s: %s", req.request_id, exc)
                raise EngineError(f"upstream stream failed: {exc.__class__.__name__}", code="upstream_error") from exc
        finally:
            self._responses.pop(req.request_id, None)
        aborted = req.request_id in self._aborted
        self._aborted.discard(req.request_id)
        _, tail = content_filter.finish()
        details = usage.get("completion_tokens_details") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        yield GenerationChunk(
            content=tail,
            completion_tokens=int(usage.get("completion_tokens") or counted),
            # vLLM reports 0 here: count the reasoning deltas ourselves when the upstream does not.
            reasoning_tokens=int(details.get("reasoning_tokens") or reasoning_counted),
            prompt_tokens=prompt_tokens,
            finish_reason="abort" if aborted else (finish_reason or "stop"),
            # OpenAI's name, or DeepSeek's; 0 when the upstream does not say.
            cached_tokens=int(
                (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
                or usage.get("prompt_cache_hit_tokens")
                or 0
            ),
        )

    async def abort(self, request_id: str) -> None:
        response = self._responses.get(request_id)
        if response is None:
            return
        self._aborted.add(request_id)
        with contextlib.suppress(httpx.HTTPError, RuntimeError):  # already closing: the reader sees the flag
            await response.aclose()

    async def shutdown(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


def _response_format(guided: dict[str, Any] | None) -> dict[str, Any] | None:
    if not guided:
        return None
    if "json_object" in guided:
        return {"type": "json_object"}
    if "json_schema" in guided:
        return {"type": "json_schema", "json_schema": {"name": "answer", "schema": guided["json_schema"]}}
    raise EngineError("the openai engine guides only JSON answers", code=INVALID_REQUEST)


def _tool_call_deltas(raw: list[dict[str, Any]], call_ids: dict[int, tuple[str, str]]) -> list[ToolCallDelta]:
    """OpenAI's streamed tool_calls deltas in the protocol's shape (id and name on every delta)."""
    deltas: list[ToolCallDelta] = []
    for item in raw:
        index = int(item.get("index") or 0)
        function = item.get("function") or {}
        known_id, known_name = call_ids.get(index, ("", ""))
        call_id, name = item.get("id") or known_id, function.get("name") or known_name
        call_ids[index] = (call_id, name)
        deltas.append({"index": index, "id": call_id, "name": name, "arguments_delta": function.get("arguments") or ""})
    return deltas
