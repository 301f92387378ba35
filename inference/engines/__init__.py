"""Inference engine adapters behind one interface; `create_engine` picks one by name."""

from __future__ import annotations

from .base import Engine, EngineError, EngineInfo, GenerationChunk, GenerationRequest

ENGINE_NAMES = ("vllm", "openai", "simulated")


def create_engine(name: str) -> Engine:
    """Builds the named engine from the environment (nothing is loaded until `start()`)."""
    if name == "vllm":
        from .vllm import VllmEngine

        return VllmEngine.from_env()
    if name == "openai":
        from .openai import OpenAIEngine

        return OpenAIEngine.from_env()
    if name == "simulated":
        from .simulated import SimulatedEngine

        return SimulatedEngine.from_env()
    raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINE_NAMES)}")


__all__ = [
    "ENGINE_NAMES",
    "Engine",
    "EngineError",
    "EngineInfo",
    "GenerationChunk",
    "GenerationRequest",
    "create_engine",
]
