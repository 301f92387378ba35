"""Chooses which model the vLLM engine serves: a forced path, the R1 distill if available, else the demo model."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"
DEMO_MODEL_DIR = Path(__file__).resolve().parent / "demo_model" / "whale-tiny-r1"
DEMO_MODEL_NAME = "whale-tiny-r1"
HUB_PROBE_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class ModelChoice:
    path: str  # a local directory vLLM and the tokenizer load from
    name: str  # what the worker reports it serves
    is_demo_fallback: bool


def env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def demo_model() -> ModelChoice:
    return ModelChoice(path=str(DEMO_MODEL_DIR), name=DEMO_MODEL_NAME, is_demo_fallback=True)


def _cached_snapshot(repo_id: str) -> str | None:
    try:
        from huggingface_hub import snapshot_download

        return str(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # noqa: BLE001 - any failure means "not in the cache"
        return None


def _hub_reachable(repo_id: str) -> bool:
    import httpx

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    try:
        response = httpx.get(f"{endpoint}/api/models/{repo_id}", timeout=HUB_PROBE_TIMEOUT_SECONDS)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _download(repo_id: str) -> str | None:
    if not _hub_reachable(repo_id):
        logger.info("the model hub is not reachable; not downloading %s", repo_id)
        return None
    try:
        from huggingface_hub import snapshot_download

        logger.info("downloading %s from the model hub", repo_id)
        return str(snapshot_download(repo_id, allow_patterns=["*.json", "*.safetensors", "*.txt", "*.model"]))
    except Exception:  # a failed download falls back to the demo model
        logger.warning("downloading %s failed", repo_id, exc_info=True)
        return None


def choose_model() -> ModelChoice:
    """WHALE_MODEL_PATH wins; then the default model from the local cache or the hub; then the demo model."""
    forced = os.environ.get("WHALE_MODEL_PATH", "").strip()
    if forced:
        path = Path(forced).expanduser()
        is_demo = path.resolve() == DEMO_MODEL_DIR if path.exists() else False
        name = os.environ.get("WHALE_MODEL_NAME", "").strip() or (DEMO_MODEL_NAME if is_demo else forced)
        return ModelChoice(path=str(path) if path.exists() else forced, name=name, is_demo_fallback=is_demo)
    repo_id = os.environ.get("WHALE_DEFAULT_MODEL", DEFAULT_MODEL)
    found = _cached_snapshot(repo_id)
    if found is None and env_flag("WHALE_ALLOW_MODEL_DOWNLOAD", True):
        found = _download(repo_id)
    if found is not None:
        return ModelChoice(path=found, name=repo_id, is_demo_fallback=False)
    logger.warning(
        "\n"
        "############################################################################\n"
        "#  %s is not available (not in the Hugging Face cache, and not\n"
        "#  downloadable from here). FALLING BACK TO THE OFFLINE DEMO MODEL:\n"
        "#    %s\n"
        "#  It only knows a few topics (sky, sea, plants, stars, rain, coffee...).\n"
        "#  Its answers are canned and NOT USEFUL. Set WHALE_MODEL_PATH to a real\n"
        "#  model directory, or make the model hub reachable, to serve a real model.\n"
        "############################################################################",
        repo_id,
        DEMO_MODEL_DIR,
    )
    return demo_model()
