"""The infra validator passes the committed chart, compose file and Dockerfiles, and catches what it promises to."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from infra import validate

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def default_manifests() -> list[dict]:
    return validate.render_chart(None)


@pytest.fixture(scope="module")
def multinode_manifests() -> list[dict]:
    return validate.render_chart(validate.CHART / "values-r1-multinode.yaml")


def _problems(manifests: list[dict]) -> list[str]:
    report = validate.Report()
    validate.validate_schemas(manifests, "test", report)
    validate.check_chart_policies(manifests, "test", report)
    return report.problems


def _find(manifests: list[dict], kind: str, component: str | None = None) -> dict:
    for manifest in manifests:
        if manifest["kind"] == kind and (component is None or validate._component(manifest) == component):
            return manifest
    raise AssertionError(f"no {kind} {component or ''}")


def test_every_committed_infra_file_passes_validation() -> None:
    report = validate.Report()
    validate.run(report)
    assert report.problems == []
    assert any("values-r1-multinode.yaml" in line for line in report.checked)
    assert any("values-distill-1gpu.yaml" in line for line in report.checked)


def test_the_reference_deployments_render_the_workloads_they_promise(
    default_manifests: list[dict], multinode_manifests: list[dict]
) -> None:
    kinds = {m["kind"] for m in default_manifests}
    assert {"Deployment", "HorizontalPodAutoscaler", "ScaledObject", "PodDisruptionBudget", "Job", "Ingress"} <= kinds
    lws = _find(multinode_manifests, "LeaderWorkerSet", "gpu-worker")
    assert lws["spec"]["leaderWorkerTemplate"]["size"] == 2
    env = {
        e["name"]: e.get("value")
        for e in lws["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]["containers"][0]["env"]
    }
    assert (env["WHALE_TENSOR_PARALLEL"], env["WHALE_PIPELINE_PARALLEL"]) == ("8", "2")
    assert _find(multinode_manifests, "Cluster")["apiVersion"] == "postgresql.cnpg.io/v1"


def test_a_misspelt_field_fails_schema_validation(default_manifests: list[dict]) -> None:
    manifests = copy.deepcopy(default_manifests)
    container = _find(manifests, "Deployment", "gpu-worker")["spec"]["template"]["spec"]["containers"][0]
    container["livenessProbe"]["periodSecond"] = 10
    _find(manifests, "ScaledObject")["spec"]["maxReplicas"] = 3
    problems = _problems(manifests)
    assert any("periodSecond" in p for p in problems)
    assert any("maxReplicas" in p for p in problems)


def test_a_custom_resource_without_a_schema_is_refused(default_manifests: list[dict]) -> None:
    manifests = [*copy.deepcopy(default_manifests)]
    manifests.append({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}})
    assert any("no schema for the custom resource example.com/v1/Widget" in p for p in _problems(manifests))


def test_a_gpu_worker_allowed_to_reach_postgres_is_caught(default_manifests: list[dict]) -> None:
    manifests = copy.deepcopy(default_manifests)
    policy = next(m for m in manifests if m["kind"] == "NetworkPolicy" and m["metadata"]["name"].endswith("gpu-worker"))
    policy["spec"]["egress"].append(
        {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"protocol": "TCP", "port": 5432}]}
    )
    assert any("lets GPU workers reach port 5432" in p for p in _problems(manifests))


def test_a_gpu_worker_egress_rule_on_every_port_is_caught(default_manifests: list[dict]) -> None:
    manifests = copy.deepcopy(default_manifests)
    policy = next(m for m in manifests if m["kind"] == "NetworkPolicy" and m["metadata"]["name"].endswith("gpu-worker"))
    policy["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]})
    assert any("on every port" in p for p in _problems(manifests))


def test_a_gpu_worker_without_an_egress_policy_is_caught(default_manifests: list[dict]) -> None:
    manifests = [
        m
        for m in default_manifests
        if not (m["kind"] == "NetworkPolicy" and m["metadata"]["name"].endswith("gpu-worker"))
    ]
    assert any("no NetworkPolicy restricts egress of the GPU worker pods" in p for p in _problems(manifests))


def test_a_gpu_worker_without_a_gpu_or_with_database_credentials_is_caught(default_manifests: list[dict]) -> None:
    manifests = copy.deepcopy(default_manifests)
    container = _find(manifests, "Deployment", "gpu-worker")["spec"]["template"]["spec"]["containers"][0]
    del container["resources"]["limits"]["nvidia.com/gpu"]
    container["env"].append(
        {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "s", "key": "DATABASE_URL"}}}
    )
    problems = _problems(manifests)
    assert any("requests no nvidia.com/gpu" in p for p in problems)
    assert any("must not get database credentials" in p for p in problems)


def test_a_backend_without_probes_autoscaling_or_budget_is_caught(default_manifests: list[dict]) -> None:
    manifests = copy.deepcopy(default_manifests)
    container = _find(manifests, "Deployment", "backend")["spec"]["template"]["spec"]["containers"][0]
    del container["readinessProbe"]
    hpa = next(
        m for m in manifests if m["kind"] == "HorizontalPodAutoscaler" and m["metadata"]["name"].endswith("-backend")
    )
    hpa["spec"]["metrics"] = [m for m in hpa["spec"]["metrics"] if m["type"] != "Pods"]
    manifests = [
        m for m in manifests if not (m["kind"] == "PodDisruptionBudget" and m["metadata"]["name"].endswith("-backend"))
    ]
    problems = _problems(manifests)
    assert any("has no readiness probe" in p for p in problems)
    assert any("does not scale on open streams" in p for p in problems)
    assert any("no PodDisruptionBudget covers the backend pods" in p for p in problems)


def test_a_plain_text_secret_or_a_root_pod_is_caught(default_manifests: list[dict]) -> None:
    manifests = copy.deepcopy(default_manifests)
    pod = _find(manifests, "Deployment", "backend-worker")["spec"]["template"]["spec"]
    pod["securityContext"]["runAsUser"] = 0
    pod["containers"][0]["env"].append({"name": "SECRET_KEY", "value": "hunter2"})
    problems = _problems(manifests)
    assert any("non-root" in p for p in problems)
    assert any("SECRET_KEY is a plain value" in p for p in problems)


def test_an_ingress_that_would_cut_streams_is_caught(default_manifests: list[dict]) -> None:
    manifests = copy.deepcopy(default_manifests)
    annotations = _find(manifests, "Ingress")["metadata"]["annotations"]
    annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] = "60"
    del annotations["nginx.ingress.kubernetes.io/proxy-buffering"]
    problems = _problems(manifests)
    assert any("cuts long streams" in p for p in problems)
    assert any("buffers responses" in p for p in problems)


def test_the_chart_refuses_an_unknown_gpu_worker_mode() -> None:
    with pytest.raises(Exception, match=r"gpuWorker/mode.*single.*multinode"):
        validate.render_chart(None, {"gpuWorker": {"mode": "sideways"}})


def test_the_chart_refuses_secrets_in_plain_values() -> None:
    with pytest.raises(Exception, match=r"/config"):
        validate.render_chart(None, {"config": {"SECRET_KEY": "hunter2"}})


needs_compose = pytest.mark.skipif(validate.compose_command() is None, reason="no Docker Compose v2 client here")


@needs_compose
def test_compose_refuses_to_start_without_the_secrets(tmp_path: Path) -> None:
    env_file = tmp_path / "empty.env"
    env_file.write_text("COMPOSE_PROFILES=gpu\n")
    with pytest.raises(
        ValueError, match=r"set (SECRET_KEY|POSTGRES_PASSWORD|REDIS_PASSWORD|WHALE_\w+) in infra/compose/\.env"
    ):
        validate.render_compose(env_file)


@needs_compose
def test_a_compose_gpu_worker_without_a_gpu_reservation_is_caught() -> None:
    config = validate.render_compose()
    del config["services"]["gpu-worker"]["deploy"]
    config["services"]["gpu-worker"]["environment"]["DATABASE_URL"] = "postgres://x"
    report = validate.Report()
    validate.check_compose(config, report)
    assert any("reserves no NVIDIA GPU" in p for p in report.problems)
    assert any("must not get database credentials" in p for p in report.problems)


def test_a_dockerfile_that_runs_as_root_unpinned_and_unchecked_is_caught(tmp_path: Path) -> None:
    dockerfile = tmp_path / "bad.Dockerfile"
    dockerfile.write_text("FROM python\nFROM python:latest AS other\nRUN true\n")
    report = validate.Report()
    validate.check_dockerfile(dockerfile, report)
    assert any("not pinned" in p for p in report.problems)
    assert any(":latest" in p for p in report.problems)
    assert any("non-root USER" in p for p in report.problems)
    assert any("no HEALTHCHECK" in p for p in report.problems)


def _backend_env(manifests: list[dict]) -> list[tuple[str, str]]:
    backend = next(m for m in manifests if m["kind"] == "Deployment" and validate._component(m) == "backend")
    container = backend["spec"]["template"]["spec"]["containers"][0]
    return [(item["name"], item.get("value", "")) for item in container["env"]]


def test_share_links_point_at_the_first_public_host_unless_config_says_otherwise() -> None:
    default = _backend_env(validate.render_chart(None, {"hosts": ["chat.example.org", "other.example.org"]}))
    assert ("WHALE_PUBLIC_URL", "https://chat.example.org") in default

    configured = _backend_env(
        validate.render_chart(None, {"config": {"WHALE_PUBLIC_URL": "https://whale.example.net"}})
    )
    assert [value for name, value in configured if name == "WHALE_PUBLIC_URL"] == ["https://whale.example.net"]
