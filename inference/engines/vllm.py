"""The default engine: one in-process vLLM AsyncLLM that batches every turn the worker has in flight."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from typing import Any, cast

from inference.models import ModelChoice, choose_model, env_flag
from inference.prompting import Tokenizer, build_prompt
from inference.reasoning import ReasoningSplitter

from .base import EngineError, EngineInfo, GenerationChunk, GenerationRequest

logger = logging.getLogger(__name__)

DEMO_MAX_MODEL_LEN = 1024
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
        )
        # Built on the running loop, so its output handler lives on the loop every request uses.
        self._llm = AsyncLLM.from_engine_args(args)
        logger.info("vLLM is up: %s, max_model_len %d", self.model.name, self.max_model_len)
        lower_engine_core_priority(_engine_core_nice())

    async def generate(self, req: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        if self._llm is None or self._tokenizer is None:
            raise EngineError("the engine has not been started", code="engine_not_ready")
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt
        from vllm.sampling_params import RequestOutputKind

        try:
            prompt = build_prompt(
                req.messages,
                reasoning=req.reasoning,
                tokenizer=self._tokenizer,
                max_model_len=self.max_model_len,
                max_tokens=req.sampling.max_tokens,
            )
        except ValueError as exc:
            raise EngineError(str(exc), code="bad_prompt") from exc
        params = SamplingParams(
            temperature=req.sampling.temperature,
            top_p=req.sampling.top_p,
            max_tokens=prompt.max_tokens,
            ignore_eos=req.ignore_eos,
            skip_special_tokens=True,
            output_kind=RequestOutputKind.DELTA,
        )
        splitter = ReasoningSplitter(reasoning=req.reasoning)
        completion_tokens = reasoning_tokens = 0
        finish_reason: str | None = None
        try:
            stream = self._llm.generate(TokensPrompt(prompt_token_ids=prompt.token_ids), params, req.request_id)
            async for output in stream:
                completion = output.outputs[0]
                still_reasoning = req.reasoning and not splitter.reasoning_done
                reasoning, content = splitter.feed(completion.text)
                completion_tokens += len(completion.token_ids)
                if still_reasoning:
                    # The token that closes the think block counts as reasoning, as in R1's usage.
                    reasoning_tokens += len(completion.token_ids)
                if output.finished:
                    finish_reason = completion.finish_reason or "stop"
                    tail_reasoning, tail_content = splitter.finish()
                    reasoning, content = reasoning + tail_reasoning, content + tail_content
                if reasoning or content or finish_reason:
                    yield GenerationChunk(
                        reasoning=reasoning,
                        content=content,
                        completion_tokens=completion_tokens,
                        reasoning_tokens=reasoning_tokens,
                        prompt_tokens=prompt.num_tokens,
                        finish_reason=finish_reason,
                    )
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except Exception as exc:
            logger.exception("vLLM failed on request %s", req.request_id)
            raise EngineError(f"vLLM failed: {exc.__class__.__name__}") from exc
        if finish_reason is None:
            # An aborted request's stream just ends.
            tail_reasoning, tail_content = splitter.finish()
            yield GenerationChunk(
                reasoning=tail_reasoning,
                content=tail_content,
                completion_tokens=completion_tokens,
                reasoning_tokens=reasoning_tokens,
                prompt_tokens=prompt.num_tokens,
                finish_reason="abort",
            )

    async def abort(self, request_id: str) -> None:
        if self._llm is not None:
            await self._llm.abort(request_id)

    async def shutdown(self) -> None:
        if self._llm is not None:
            llm, self._llm = self._llm, None
            llm.shutdown()


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


def lower_engine_core_priority(increment: int) -> list[int]:
    """Nices this process's vLLM engine core children by `increment`; returns their pids."""
    if increment <= 0:
        return []
    import psutil

    reniced = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "EngineCore" in child.name() or "EngineCore" in " ".join(child.cmdline()):
                child.nice(min(19, child.nice() + increment))
                reniced.append(child.pid)
        except psutil.Error:
            continue
    if reniced:
        logger.info("engine core %s niced by %d so the backend's work comes first on shared CPUs", reniced, increment)
    return reniced
