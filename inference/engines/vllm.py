"""The default engine: one in-process vLLM AsyncLLM that batches every turn the worker has in flight."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

from inference.models import ModelChoice, choose_model, env_flag
from inference.prompting import Prompt, Tokenizer, build_prompt, build_raw_prompt
from inference.protocol import GUIDED_KINDS, ToolCallDelta
from inference.reasoning import ReasoningSplitter, reasoning_budget
from inference.tools import InvalidTools, ToolCallReader, tool_call_reader

from .base import INVALID_REQUEST, EngineError, EngineInfo, GenerationChunk, GenerationRequest

logger = logging.getLogger(__name__)

DEMO_MAX_MODEL_LEN = 2048  # the demo model's max_position_embeddings: room for the search template
DEFAULT_MAX_MODEL_LEN = 8192


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def _has_cuda() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - no usable torch means no CUDA
        return False


class VllmEngine:
    """Owns the AsyncLLM: create it with `start()` on the event loop it will live on, for good."""

    def __init__(
        self,
        model: ModelChoice,
        *,
        max_model_len: int,
        dtype: str,
        tensor_parallel: int = 1,
        pipeline_parallel: int = 1,
        gpu_memory_utilization: float = 0.9,
        enforce_eager: bool = True,
    ) -> None:
        self.model = model
        self.max_model_len = max_model_len
        self.dtype = dtype
        self.tensor_parallel = tensor_parallel
        self.pipeline_parallel = pipeline_parallel
        self.gpu_memory_utilization = gpu_memory_utilization
        self.enforce_eager = enforce_eager
        self._llm: Any = None
        self._tokenizer: Tokenizer | None = None

    @classmethod
    def from_env(cls, model: ModelChoice | None = None) -> VllmEngine:
        """Settings from WHALE_MAX_MODEL_LEN, WHALE_DTYPE, WHALE_TENSOR_PARALLEL, WHALE_PIPELINE_PARALLEL,
        WHALE_GPU_MEMORY_UTILIZATION and WHALE_ENFORCE_EAGER; the defaults suit the demo model on a CPU."""
        model = model or choose_model()
        return cls(
            model,
            max_model_len=_env_int(
                "WHALE_MAX_MODEL_LEN", DEMO_MAX_MODEL_LEN if model.is_demo_fallback else DEFAULT_MAX_MODEL_LEN
            ),
            dtype=os.environ.get("WHALE_DTYPE", "").strip() or ("float32" if model.is_demo_fallback else "auto"),
            tensor_parallel=_env_int("WHALE_TENSOR_PARALLEL", 1),
            pipeline_parallel=_env_int("WHALE_PIPELINE_PARALLEL", 1),
            gpu_memory_utilization=_env_float("WHALE_GPU_MEMORY_UTILIZATION", 0.9),
            # CUDA graphs pay off on GPUs; CPU builds have nothing to capture.
            enforce_eager=env_flag("WHALE_ENFORCE_EAGER", not _has_cuda()),
        )

    @property
    def info(self) -> EngineInfo:
        return EngineInfo(
            engine="vllm",
            model=self.model.name,
            is_demo_fallback=self.model.is_demo_fallback,
            max_model_len=self.max_model_len,
        )

    async def start(self) -> None:
        # GiB of KV cache on CPU builds (ignored by CUDA builds); vLLM reads it when the engine starts.
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
        from transformers import AutoTokenizer
        from vllm.config.reasoning import ReasoningConfig
        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM

        logger.info("starting vLLM with %s (%s)", self.model.name, self.model.path)
        self._tokenizer = cast(Tokenizer, AutoTokenizer.from_pretrained(self.model.path))
        args = AsyncEngineArgs(
            model=self.model.path,
            served_model_name=[self.model.name],
            max_model_len=self.max_model_len,
            dtype=self.dtype,  # type: ignore[arg-type]
            enforce_eager=self.enforce_eager,
            tensor_parallel_size=self.tensor_parallel,
            pipeline_parallel_size=self.pipeline_parallel,
            gpu_memory_utilization=self.gpu_memory_utilization,
            # Every turn of a conversation repeats the one before it: its KV blocks are reused.
            enable_prefix_caching=True,
            # Guided decoding starts after </think>, and a thinking budget ends reasoning in R1's layout.
            reasoning_parser="deepseek_r1",
            reasoning_config=ReasoningConfig(reasoning_end_str="\n</think>\n\n"),
        )
        # Built on the running loop, so its output handler lives on the loop every request uses.
        self._llm = AsyncLLM.from_engine_args(args)
        logger.info("vLLM is up: %s, max_model_len %d", self.model.name, self.max_model_len)
        lower_engine_core_priority(_engine_core_nice())

    def _prompt(self, req: GenerationRequest, *, tools_in_prompt: bool) -> Prompt:
        assert self._tokenizer is not None
        try:
            if req.prompt is not None:
                return build_raw_prompt(
                    req.prompt,
                    tokenizer=self._tokenizer,
                    max_model_len=self.max_model_len,
                    max_tokens=req.sampling.max_tokens,
                )
            return build_prompt(
                req.messages,
                reasoning=req.reasoning,
                tokenizer=self._tokenizer,
                max_model_len=self.max_model_len,
                max_tokens=req.sampling.max_tokens,
                tools=req.tools if tools_in_prompt else None,
            )
        except ValueError as exc:
            raise EngineError(str(exc), code="bad_prompt") from exc

    def _params(self, req: GenerationRequest, prompt: Prompt, guided: Mapping[str, Any] | None) -> Any:
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind

        budget = reasoning_budget(req.sampling.reasoning_effort) if prompt.in_reasoning else None
        try:
            return SamplingParams(
                temperature=req.sampling.temperature,
                top_p=req.sampling.top_p,
                max_tokens=prompt.max_tokens,
                ignore_eos=req.ignore_eos,
                skip_special_tokens=True,
                output_kind=RequestOutputKind.DELTA,
                stop=list(req.sampling.stop) or None,
                seed=req.sampling.seed,
                presence_penalty=req.sampling.presence_penalty,
                frequency_penalty=req.sampling.frequency_penalty,
                thinking_token_budget=budget,
                structured_outputs=structured_outputs(guided) if guided else None,
            )
        except ValueError as exc:  # vLLM's own checks (VLLMValidationError is one)
            raise EngineError(f"refused: {exc}", code=INVALID_REQUEST) from exc

    async def generate(self, req: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        if self._llm is None or self._tokenizer is None:
            raise EngineError("the engine has not been started", code="engine_not_ready")
        from vllm.inputs import TokensPrompt

        reader, guided = _answer_plan(req)
        prompt = self._prompt(req, tools_in_prompt=reader is not None)
        params = self._params(req, prompt, guided)
        splitter = ReasoningSplitter(reasoning=prompt.in_reasoning)
        completion_tokens = reasoning_tokens = cached_tokens = 0
        finish_reason: str | None = None
        called = False
        try:
            stream = self._llm.generate(TokensPrompt(prompt_token_ids=prompt.token_ids), params, req.request_id)
            async for output in stream:
                completion = output.outputs[0]
                cached_tokens = max(cached_tokens, int(getattr(output, "num_cached_tokens", 0) or 0))
                still_reasoning = prompt.in_reasoning and not splitter.reasoning_done
                reasoning, content = splitter.feed(completion.text)
                completion_tokens += len(completion.token_ids)
                if still_reasoning:
                    # The token that closes the think block counts as reasoning, as in R1's usage.
                    reasoning_tokens += len(completion.token_ids)
                if output.finished:
                    finish_reason = completion.finish_reason or "stop"
                    tail_reasoning, tail_content = splitter.finish()
                    reasoning, content = reasoning + tail_reasoning, content + tail_content
                content, calls = _read_calls(reader, content, final=finish_reason is not None)
                called = called or bool(calls)
                if called and finish_reason == "stop":
                    finish_reason = "tool_calls"
                if reasoning or content or calls or finish_reason:
                    yield GenerationChunk(
                        reasoning=reasoning,
                        content=content,
                        completion_tokens=completion_tokens,
                        reasoning_tokens=reasoning_tokens,
                        prompt_tokens=prompt.num_tokens,
                        finish_reason=finish_reason,
                        tool_calls=tuple(calls),
                        cached_tokens=cached_tokens,
                    )
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except Exception as exc:
            if _is_validation_error(exc):
                raise EngineError(f"refused: {exc}", code=INVALID_REQUEST) from exc
            logger.exception("vLLM failed on request %s", req.request_id)
            raise EngineError(f"vLLM failed: {exc.__class__.__name__}") from exc
        if finish_reason is None:
            # An aborted request's stream just ends.
            tail_reasoning, tail_content = splitter.finish()
            tail_content, calls = _read_calls(reader, tail_content, final=True)
            yield GenerationChunk(
                reasoning=tail_reasoning,
                content=tail_content,
                completion_tokens=completion_tokens,
                reasoning_tokens=reasoning_tokens,
                prompt_tokens=prompt.num_tokens,
                finish_reason="abort",
                tool_calls=tuple(calls),
                cached_tokens=cached_tokens,
            )

    async def abort(self, request_id: str) -> None:
        if self._llm is not None:
            await self._llm.abort(request_id)

    async def shutdown(self) -> None:
        if self._llm is not None:
            llm, self._llm = self._llm, None
            llm.shutdown()


def _answer_plan(req: GenerationRequest) -> tuple[ToolCallReader | None, Mapping[str, Any] | None]:
    """How the answer is read (tool calls or not) and guided (a response format, or a forced call)."""
    guided = req.sampling.guided
    if guided is not None and (len(guided) != 1 or next(iter(guided)) not in GUIDED_KINDS):
        raise EngineError(f"guided must have exactly one of {', '.join(GUIDED_KINDS)}", code=INVALID_REQUEST)
    if req.prompt is not None:
        if guided or req.tools:
            raise EngineError("a raw prompt takes neither tools nor a guided format", code=INVALID_REQUEST)
        return None, None
    try:
        reader, forced = tool_call_reader(req.tools, req.tool_choice, parallel=req.parallel_tool_calls)
    except InvalidTools as exc:
        raise EngineError(str(exc), code=INVALID_REQUEST) from exc
    if forced and guided:
        raise EngineError("a forced tool call cannot also follow a response format", code=INVALID_REQUEST)
    return reader, forced or guided


def _read_calls(reader: ToolCallReader | None, content: str, *, final: bool) -> tuple[str, list[ToolCallDelta]]:
    if reader is None:
        return content, []
    content, calls = reader.feed(content)
    if final:
        tail, more = reader.finish()
        content, calls = content + tail, calls + more
    return content, calls


def structured_outputs(guided: Mapping[str, Any]) -> Any:
    """vLLM's structured-outputs constraint for a `guided` setting.

    JSON goes in as an xgrammar grammar without free whitespace: the grammar vLLM builds itself
    lets a weak model pad the object with newlines until max_tokens.
    """
    import xgrammar
    from vllm.sampling_params import StructuredOutputsParams

    kind, value = next(iter(guided.items()))
    if kind == "regex":
        return StructuredOutputsParams(regex=str(value))
    if kind == "choice":
        if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
            raise EngineError("guided choice must be a list of strings", code=INVALID_REQUEST)
        return StructuredOutputsParams(choice=value)
    schema = {"type": "object"} if kind == "json_object" else value
    if not isinstance(schema, dict):
        raise EngineError("guided json_schema must be a JSON schema object", code=INVALID_REQUEST)
    try:
        grammar = xgrammar.Grammar.from_json_schema(json.dumps(schema), any_whitespace=False)
    except Exception as exc:  # xgrammar raises RuntimeError and friends for a bad schema
        raise EngineError(f"the JSON schema cannot be followed: {exc}", code=INVALID_REQUEST) from exc
    return StructuredOutputsParams(grammar=str(grammar))


def _is_validation_error(exc: BaseException) -> bool:
    try:
        from vllm.exceptions import VLLMValidationError
    except ImportError:  # pragma: no cover - older vLLM
        return False
    return isinstance(exc, VLLMValidationError)


def _engine_core_nice() -> int:
    """How much to lower the engine core's CPU priority: WHALE_ENGINE_NICE, by default 10 on CPU builds.

    vLLM's CPU engine core keeps its threads busy on every core while requests are in flight; on a
    machine that also runs the backend (make run, a CPU demo box) the sends and streams then wait
    for it. Niced, it still takes every idle cycle but yields to them. GPU builds compute on the GPU:
    0 there.
    """
    raw = os.environ.get("WHALE_ENGINE_NICE", "")
    try:
        return max(0, min(19, int(raw))) if raw else (0 if _has_cuda() else 10)
    except ValueError:
        return 0


def lower_engine_core_priority(increment: int, *, root_pid: int | None = None) -> list[int]:
    """Nices vLLM's engine processes under this process (or under `root_pid`: the bench gives vLLM's own
    server the same treatment) by `increment`, every thread of them; returns their pids.

    Those are the engine core and, on CPU builds, the worker process that runs the model on its OpenMP
    threads. Linux keeps a nice value per thread, and a process's threads already running keep theirs
    when only its main thread is reniced: every thread is, and threads started later inherit it.
    """
    if increment <= 0:
        return []
    import psutil

    reniced = []
    for child in psutil.Process(root_pid).children(recursive=True):
        try:
            if not _is_engine_process(child.name(), child.cmdline()):
                continue
            for thread in child.threads():
                with contextlib.suppress(OSError):  # a thread that has just ended
                    nice = os.getpriority(os.PRIO_PROCESS, thread.id)
                    os.setpriority(os.PRIO_PROCESS, thread.id, min(19, nice + increment))
            reniced.append(child.pid)
        except psutil.Error:
            continue
    if reniced:
        logger.info(
            "engine processes %s niced by %d so the backend's work comes first on shared CPUs", reniced, increment
        )
    return reniced


def _is_engine_process(name: str, cmdline: list[str]) -> bool:
    """vLLM titles its processes VLLM::EngineCore and VLLM::Worker (EngineCore_DP0 without setproctitle)."""
    title = " ".join([name, *cmdline])
    return "EngineCore" in title or "VLLM::" in title
