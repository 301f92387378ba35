#!/usr/bin/env bash
# Validates infra/: renders the Helm chart with every values file (Helm's engine), validates every
# manifest against the Kubernetes schemas (and the vendored CRD schemas), checks the chart's and the
# compose file's promises, runs `docker compose config`, and runs the validator's own tests.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m infra.validate
.venv/bin/python -m pytest infra/tests -q -p no:cacheprovider
