#!/usr/bin/env bash
# The browser end-to-end run of the web chat against the real stack: uvicorn (ASGI backend), the
# backend Celery worker (also on the research queue, as in scripts/run.sh), the files worker, the GPU
# worker with vLLM and the committed tiny model, and a SearXNG: the research tests' fake internet
# (backend/research/tests/fake_internet.py), as there is no internet here. Then `npm run e2e` in
# mobile/ (playwright-core + Debian's Chromium). Sets itself up on a fresh machine (Chromium,
# node_modules, the web build).
#
# The run is private: a free port (never 8000), a Postgres database created for it and dropped
# afterwards, its own Redis prefix and queues, its own logs. Everything it starts is stopped at exit.
#
#   WHALE_E2E_ADMIN_DATABASE_URL  where to create the run's database (default: DATABASE_URL when it is
#                                 Postgres, else postgres://postgres@127.0.0.1:5432/postgres)
#   WHALE_E2E_REDIS_URL           default redis://127.0.0.1:6379/1
#   WHALE_E2E_KEEP_LOGS=1         keep the run's folder (logs, emails) even when it passes
#   WHALE_E2E_HOLD=1              start the stack, print its URL and wait (Ctrl-C stops it) instead of testing
#   WHALE_E2E_SCREENSHOTS         where the screenshots go (default var/e2e/screenshots, so a test run
#                                 leaves the checkout alone; `make screenshots` writes docs/screenshots)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY="$ROOT/.venv/bin/python"
export WHALE_E2E_SCREENSHOTS="${WHALE_E2E_SCREENSHOTS:-$ROOT/var/e2e/screenshots}"

RUN_ID="e2e-$$"
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/whale-$RUN_ID-XXXX")
mkdir -p "$RUN_DIR/log" "$RUN_DIR/emails" "$RUN_DIR/static"

if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM_PATH:-}" ]; then
  echo "==> e2e: installing Debian's Chromium (apt-get install -y chromium)"
  { apt-get -o DPkg::Lock::Timeout=600 install -y chromium || { apt-get -o DPkg::Lock::Timeout=600 update && apt-get -o DPkg::Lock::Timeout=600 install -y chromium; }; } >"$RUN_DIR/log/apt.log" 2>&1 ||
    { echo "could not install chromium; see $RUN_DIR/log/apt.log" >&2; exit 1; }
fi

# The web build (and mobile/node_modules), rebuilt when the app's sources are newer than it.
if [ ! -f mobile/dist/index.html ] || [ -n "$(find mobile/src mobile/app.json mobile/package.json -newer mobile/dist/index.html 2>/dev/null | head -1)" ]; then
  echo "==> e2e: building the web chat (log: $RUN_DIR/log/web-build.log)"
  scripts/build_web.sh >"$RUN_DIR/log/web-build.log" 2>&1 || { tail -30 "$RUN_DIR/log/web-build.log" >&2; exit 1; }
fi
[ -d mobile/node_modules/playwright-core ] || (cd mobile && npm ci --no-audit --no-fund)

# The run's database lives on the Postgres server of DATABASE_URL when that is Postgres (as under scripts/test.sh).
case "${DATABASE_URL:-}" in
  postgres://* | postgresql://*) default_admin_url=$DATABASE_URL ;;
  *) default_admin_url=postgres://postgres@127.0.0.1:5432/postgres ;;
esac
ADMIN_DB_URL=${WHALE_E2E_ADMIN_DATABASE_URL:-$default_admin_url}
DB_NAME="whale_e2e_$$"
export DATABASE_URL="${ADMIN_DB_URL%/*}/$DB_NAME"
export REDIS_URL=${WHALE_E2E_REDIS_URL:-redis://127.0.0.1:6379/1}
export CELERY_BROKER_URL=$REDIS_URL
export WHALE_REDIS_PREFIX="whale-$RUN_ID"
export CHANNELS_PREFIX="$WHALE_REDIS_PREFIX:asgi"
export WHALE_BACKEND_QUEUE="$WHALE_REDIS_PREFIX:backend"
export WHALE_RESEARCH_QUEUE="$WHALE_REDIS_PREFIX:research" WHALE_FILES_QUEUE="$WHALE_REDIS_PREFIX:files"
GPU_QUEUE="$WHALE_REDIS_PREFIX:gpu"
export WHALE_MODELS_JSON="{\"whale-r1\": {\"display_name\": \"DeepThink (R1)\", \"queue\": \"$GPU_QUEUE\", \"reasoning\": true},
  \"whale-chat\": {\"display_name\": \"Chat\", \"queue\": \"$GPU_QUEUE\", \"reasoning\": false}}"
export WHALE_ENV=development DEBUG=true LOG_LEVEL=${LOG_LEVEL:-INFO}
export WHALE_VAR_DIR="$RUN_DIR"
export EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend EMAIL_FILE_PATH="$RUN_DIR/emails"
export PORT
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE_URL="http://127.0.0.1:$PORT"
export ALLOWED_HOSTS=127.0.0.1,localhost CSRF_TRUSTED_ORIGINS="$BASE_URL"
# Search: SearXNG's JSON API and the pages it finds, on loopback (which fetching refuses unless allowed).
SEARCH_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export WHALE_SEARCH_PROVIDER=searxng WHALE_SEARXNG_URL="http://127.0.0.1:$SEARCH_PORT" WHALE_FETCH_ALLOW_LOOPBACK=true

db() { "$PY" - "$ADMIN_DB_URL" "$1" "$DB_NAME" <<'PY'
import sys

import psycopg

url, action, name = sys.argv[1:]
with psycopg.connect(url, autocommit=True) as conn:
    if action == "create":
        conn.execute(f'CREATE DATABASE "{name}"')
    else:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
PY
}

pids=()
GPU_PID=""
FILES_PID=""
status=1
cleanup() {
  trap - INT TERM EXIT
  echo "==> e2e: stopping the stack"
  for paused in "$GPU_PID" "$FILES_PID"; do [ -n "$paused" ] && kill -CONT -- "-$paused" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  db drop >/dev/null 2>&1 || echo "    could not drop the database $DB_NAME" >&2
  redis_keys=$("$PY" -c 'import os, redis; r = redis.Redis.from_url(os.environ["REDIS_URL"]); ks = list(r.scan_iter(match=os.environ["WHALE_REDIS_PREFIX"] + ":*", count=1000)); print(r.delete(*ks) if ks else 0)' 2>/dev/null || echo "?")
  echo "    dropped $DB_NAME; deleted $redis_keys Redis keys"
  if [ "$status" -eq 0 ] && [ "${WHALE_E2E_KEEP_LOGS:-0}" != "1" ]; then
    rm -rf "$RUN_DIR"
  else
    echo "    logs: $RUN_DIR/log"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scripts/ensure_redis.sh
echo "==> e2e: database $DB_NAME, Redis prefix $WHALE_REDIS_PREFIX, port $PORT"
db create
(cd backend && "$PY" manage.py migrate --no-input >"$RUN_DIR/log/migrate.log" 2>&1) || { tail -30 "$RUN_DIR/log/migrate.log" >&2; exit 1; }

# Each process leads its own process group (setsid), so stopping it stops its children too
# (the vLLM engine core), and the spec can pause the GPU worker to catch an answer mid-stream, and the
# files worker to catch a file while it is read.
echo "==> e2e: starting the GPU worker (vLLM, tiny demo model), the backend and files workers, the fake SearXNG and the ASGI server"
(cd backend && exec setsid "$PY" -m research.tests.fake_internet --port "$SEARCH_PORT" --search-delay 1.5 >"$RUN_DIR/log/searxng.log" 2>&1) &
pids+=($!)
env -u DJANGO_SETTINGS_MODULE WHALE_MODEL_PATH="$ROOT/inference/demo_model/whale-tiny-r1" \
  VLLM_CPU_KVCACHE_SPACE="${VLLM_CPU_KVCACHE_SPACE:-1}" PYTHONUNBUFFERED=1 \
  setsid "$PY" -m inference.worker --engine vllm --queues "$GPU_QUEUE" --concurrency 8 >"$RUN_DIR/log/gpu-worker.log" 2>&1 &
GPU_PID=$!
pids+=("$GPU_PID")
export DJANGO_SETTINGS_MODULE=config.settings
(cd backend && exec setsid "$ROOT/.venv/bin/celery" -A config worker -B -Q "$WHALE_BACKEND_QUEUE,$WHALE_RESEARCH_QUEUE" --pool threads \
  --concurrency 4 --loglevel INFO --schedule "$RUN_DIR/celerybeat-schedule" >"$RUN_DIR/log/backend-worker.log" 2>&1) &
pids+=($!)
(cd backend && exec setsid "$ROOT/.venv/bin/celery" -A config worker -Q "$WHALE_FILES_QUEUE" --pool prefork --concurrency 1 \
  --hostname "files-$RUN_ID@%h" --without-gossip --without-mingle --loglevel INFO >"$RUN_DIR/log/files-worker.log" 2>&1) &
FILES_PID=$!
pids+=("$FILES_PID")
(cd backend && exec setsid "$ROOT/.venv/bin/uvicorn" config.asgi:application --host 127.0.0.1 --port "$PORT" \
  --no-access-log >"$RUN_DIR/log/asgi.log" 2>&1) &
pids+=($!)

# Ready: /readyz answers 200 (database and Redis) and /api/v1/models shows the GPU worker's heartbeat.
echo "==> e2e: waiting for /readyz and the GPU worker's heartbeat (vLLM loads in about 30 s)"
deadline=$((SECONDS + ${WHALE_E2E_START_TIMEOUT:-420}))
until curl -fsS "$BASE_URL/readyz" >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || { echo "the backend did not get ready" >&2; tail -30 "$RUN_DIR/log/asgi.log" >&2; exit 1; }
  sleep 0.5
done
token=$(cd backend && "$PY" - <<'PY'
import django

django.setup()
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import User  # noqa: E402

user, _ = User.objects.get_or_create(email="e2e-probe@whale.local")
print(AccessToken.for_user(user))
PY
)
until curl -fsS -H "Authorization: Bearer $token" "$BASE_URL/api/v1/models" 2>/dev/null | grep -q '"available":true'; do
  if ! kill -0 "$GPU_PID" 2>/dev/null; then echo "the GPU worker exited" >&2; tail -40 "$RUN_DIR/log/gpu-worker.log" >&2; exit 1; fi
  [ $SECONDS -lt $deadline ] || { echo "the GPU worker sent no heartbeat in time" >&2; tail -40 "$RUN_DIR/log/gpu-worker.log" >&2; exit 1; }
  sleep 1
done
# The heartbeat comes with the engine; Celery logs "ready." once it consumes the queue.
for worker in gpu-worker backend-worker files-worker; do
  until grep -q " ready\." "$RUN_DIR/log/$worker.log"; do
    [ $SECONDS -lt $deadline ] || { echo "the $worker does not consume its queue" >&2; tail -30 "$RUN_DIR/log/$worker.log" >&2; exit 1; }
    sleep 0.5
  done
done
curl -fsS "$WHALE_SEARXNG_URL/search?q=ready&format=json" >/dev/null || { echo "the fake SearXNG does not answer" >&2; cat "$RUN_DIR/log/searxng.log" >&2; exit 1; }
echo "==> e2e: stack ready at $BASE_URL after ${SECONDS} s"

if [ "${WHALE_E2E_HOLD:-0}" = "1" ]; then
  echo "    WHALE_E2E_GPU_PGID=$GPU_PID WHALE_E2E_FILES_PGID=$FILES_PID WHALE_E2E_MAIL_DIR=$RUN_DIR/emails WHALE_E2E_BASE_URL=$BASE_URL"
  echo "    WHALE_E2E_MANAGE=\"$PY $ROOT/backend/manage.py\" (and this shell's DATABASE_URL, REDIS_URL, WHALE_REDIS_PREFIX, DJANGO_SETTINGS_MODULE)"
  echo "    holding; Ctrl-C (or SIGTERM to $$) stops it"
  while kill -0 "$GPU_PID" 2>/dev/null; do sleep 1; done
  exit 1
fi

(cd mobile && WHALE_E2E_BASE_URL="$BASE_URL" WHALE_E2E_MAIL_DIR="$RUN_DIR/emails" WHALE_E2E_GPU_PGID="$GPU_PID" \
  WHALE_E2E_FILES_PGID="$FILES_PID" WHALE_E2E_MANAGE="$PY $ROOT/backend/manage.py" npm run --silent e2e)
status=0
