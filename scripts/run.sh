#!/usr/bin/env bash
# Starts the whole stack on this machine: ASGI server, backend Celery worker, GPU worker, web build.
# Ctrl-C stops every process it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

[ -f .env ] && set -a && . ./.env && set +a
export DJANGO_SETTINGS_MODULE=config.settings
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
HOST=${WHALE_HOST:-127.0.0.1}
PORT=${WHALE_PORT:-8000}
GPU_QUEUES=${WHALE_GPU_QUEUES:-gpu.default}
ENGINE=${WHALE_ENGINE:-vllm}
BACKEND_QUEUE=${WHALE_BACKEND_QUEUE:-backend}
mkdir -p var/log var/static

scripts/ensure_redis.sh

PY="$ROOT/.venv/bin/python"
echo "==> database: ${DATABASE_URL:-sqlite (var/whale.sqlite3)}"
(cd backend && "$PY" manage.py migrate --no-input >/dev/null && "$PY" manage.py collectstatic --no-input >/dev/null)
(cd backend && "$PY" manage.py ensure_dev_admin)

if [ ! -f mobile/dist/index.html ] || [ -n "$(find mobile/src mobile/app.json mobile/package.json -newer mobile/dist/index.html 2>/dev/null | head -1)" ]; then
  if command -v npm >/dev/null 2>&1 && [ -f mobile/package.json ]; then
    echo "==> building the web chat (mobile/dist)"
    scripts/build_web.sh >var/log/web-build.log 2>&1 || echo "    web build failed (see var/log/web-build.log); the API still runs"
  else
    echo "==> npm not found: skipping the web chat build (the API still runs)"
  fi
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "==> stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 2
  for pid in "${pids[@]}"; do pkill -KILL -P "$pid" 2>/dev/null || true; kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

echo "==> starting the GPU worker (engine: $ENGINE, queues: $GPU_QUEUES); log: var/log/gpu-worker.log"
env -u DJANGO_SETTINGS_MODULE "$PY" -m inference.worker --engine "$ENGINE" --queues "$GPU_QUEUES" >var/log/gpu-worker.log 2>&1 &
pids+=($!)

echo "==> starting the backend worker; log: var/log/backend-worker.log"
(cd backend && exec "$ROOT/.venv/bin/celery" -A config worker -B -Q "$BACKEND_QUEUE" --pool threads --concurrency 8 \
  --loglevel INFO --schedule "$ROOT/var/celerybeat-schedule" >"$ROOT/var/log/backend-worker.log" 2>&1) &
pids+=($!)

echo "==> starting the ASGI server; log: var/log/asgi.log"
(cd backend && exec "$ROOT/.venv/bin/uvicorn" config.asgi:application --host "$HOST" --port "$PORT" \
  --proxy-headers --no-access-log >"$ROOT/var/log/asgi.log" 2>&1) &
pids+=($!)

for _ in $(seq 1 100); do
  curl -fsS "http://$HOST:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

cat <<TXT

  Whale is running.
    Web chat:  http://$HOST:$PORT/
    API docs:  http://$HOST:$PORT/api/docs/
    Admin:     http://$HOST:$PORT/admin/   (log in as ${WHALE_DEV_ADMIN_EMAIL:-admin@whale.local} / ${WHALE_DEV_ADMIN_PASSWORD:-whale-admin})
  The GPU worker loads its model in the background (about 30 s on CPU); /api/v1/models shows
  when it is available. Logs are in var/log/. Press Ctrl-C to stop everything.

TXT
wait -n "${pids[@]}" || true
echo "==> a process exited; see var/log/ for why"
