"""Model choice: a forced path, the R1 distill when available, else the demo model with a loud warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from inference import models
from inference.engines.vllm import VllmEngine


@pytest.fixture(autouse=True)
def _empty_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("WHALE_MODEL_PATH", raising=False)


def test_the_demo_model_stands_in_loudly_when_the_distill_is_unavailable(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("WHALE_ALLOW_MODEL_DOWNLOAD", "false")
    with caplog.at_level(logging.WARNING, logger="inference.models"):
        choice = models.choose_model()
    assert choice.is_demo_fallback
    assert choice.name == "whale-tiny-r1"
    assert Path(choice.path) == models.DEMO_MODEL_DIR
    warning = caplog.records[-1].getMessage()
    assert "FALLING BACK TO THE OFFLINE DEMO MODEL" in warning
    assert warning.count("\n") >= 5


def test_an_unreachable_hub_is_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHALE_ALLOW_MODEL_DOWNLOAD", "true")
    probed: list[str] = []
    monkeypatch.setattr(models, "_hub_reachable", lambda repo_id: probed.append(repo_id) or False)
    assert models.choose_model().is_demo_fallback
    assert probed == [models.DEFAULT_MODEL]


def test_a_cached_distill_is_preferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "_cached_snapshot", lambda repo_id: str(tmp_path))
    choice = models.choose_model()
    assert (choice.name, choice.path, choice.is_demo_fallback) == (models.DEFAULT_MODEL, str(tmp_path), False)


def test_whale_model_path_forces_a_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHALE_MODEL_PATH", str(tmp_path))
    choice = models.choose_model()
    assert (choice.path, choice.is_demo_fallback) == (str(tmp_path), False)
    monkeypatch.setenv("WHALE_MODEL_PATH", str(models.DEMO_MODEL_DIR))
    assert models.choose_model().is_demo_fallback


def test_the_vllm_engine_reads_its_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHALE_MAX_MODEL_LEN", "2048")
    monkeypatch.setenv("WHALE_DTYPE", "bfloat16")
    monkeypatch.setenv("WHALE_TENSOR_PARALLEL", "2")
    monkeypatch.setenv("WHALE_PIPELINE_PARALLEL", "1")
    monkeypatch.setenv("WHALE_GPU_MEMORY_UTILIZATION", "0.8")
    engine = VllmEngine.from_env(models.demo_model())
    assert (engine.max_model_len, engine.dtype, engine.tensor_parallel, engine.gpu_memory_utilization) == (
        2048,
        "bfloat16",
        2,
        0.8,
    )
    assert engine.info.is_demo_fallback and engine.info.model == "whale-tiny-r1"
    for name in ("WHALE_MAX_MODEL_LEN", "WHALE_DTYPE"):
        monkeypatch.delenv(name)
    defaults = VllmEngine.from_env(models.demo_model())
    assert (defaults.max_model_len, defaults.dtype) == (2048, "float32")
