#!/usr/bin/env bash
# Runs every test suite against real Postgres and Redis (and the real vLLM engine with the demo model).
# WHALE_TEST_DB_NAME and WHALE_REDIS_PREFIX keep two runs on one machine apart.
set -euo pipefail
cd "$(dirname "$0")/.."

export WHALE_ENV=test
export DATABASE_URL=${TEST_DATABASE_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}}
export REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/1}
export WHALE_REDIS_PREFIX=${WHALE_REDIS_PREFIX:-whale-test-$$}
export WHALE_BACKEND_QUEUE=${WHALE_BACKEND_QUEUE:-$WHALE_REDIS_PREFIX:backend}
export DJANGO_SETTINGS_MODULE=config.settings

scripts/ensure_redis.sh

echo "==> backend and inference tests (pytest)"
.venv/bin/python -m pytest "$@"

if [ $# -eq 0 ]; then
  echo "==> infra: Helm chart, Kubernetes schemas, compose, Dockerfiles (scripts/validate_infra.sh)"
  scripts/validate_infra.sh
fi

# With arguments (scripts/test.sh backend/turns -k cancel) only those Python tests run.
if [ $# -eq 0 ] && [ -f mobile/package.json ]; then
  echo "==> mobile: install, typecheck, lint, unit tests"
  (cd mobile && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } \
    && npm run --silent typecheck && npm run --silent lint && npm test --silent)
  if [ "${WHALE_SKIP_E2E:-0}" != "1" ]; then
    echo "==> web chat: browser end-to-end run against a private real stack (scripts/e2e.sh)"
    scripts/e2e.sh
  fi
fi
