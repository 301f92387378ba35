#!/usr/bin/env bash
# Starts the whole stack on this machine: ASGI server, backend Celery worker, GPU worker, web build.
# A process that dies is restarted with backoff (like compose's `restart: unless-stopped`) while the
# others keep serving. Ctrl-C, a hangup, a TERM, or the death of whatever started this script
# (`make`, killed on its own) stops every process it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PARENT=$PPID

DOTENV=${WHALE_DOTENV:-.env}
[ -f "$DOTENV" ] && set -a && . "$DOTENV" && set +a
export DJANGO_SETTINGS_MODULE=config.settings
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export WHALE_VAR_DIR=${WHALE_VAR_DIR:-$ROOT/var}
VAR=$WHALE_VAR_DIR
HOST=${WHALE_HOST:-127.0.0.1}
PORT=${WHALE_PORT:-8000}
GPU_QUEUES=${WHALE_GPU_QUEUES:-gpu.default}
ENGINE=${WHALE_ENGINE:-vllm}
BACKEND_QUEUE=${WHALE_BACKEND_QUEUE:-backend}
RESEARCH_QUEUE=${WHALE_RESEARCH_QUEUE:-research}  # the research step of search turns
RESTART_MAX_SECONDS=${WHALE_RESTART_MAX_SECONDS:-30}
mkdir -p "$VAR/log" "$VAR/run" "$VAR/static"

scripts/ensure_redis.sh

PY="$ROOT/.venv/bin/python"
echo "==> database: ${DATABASE_URL:-sqlite ($VAR/whale.sqlite3)}"
(cd backend && "$PY" manage.py migrate --no-input >/dev/null && "$PY" manage.py collectstatic --no-input >/dev/null)
(cd backend && "$PY" manage.py ensure_dev_admin)

if [ "${WHALE_SKIP_WEB_BUILD:-0}" != "1" ] && { [ ! -f mobile/dist/index.html ] || [ -n "$(find mobile/src mobile/app.json mobile/package.json -newer mobile/dist/index.html 2>/dev/null | head -1)" ]; }; then
  if command -v npm >/dev/null 2>&1 && [ -f mobile/package.json ]; then
    echo "==> building the web chat (mobile/dist)"
    scripts/build_web.sh >"$VAR/log/web-build.log" 2>&1 || echo "    web build failed (see $VAR/log/web-build.log); the API still runs"
  else
    echo "==> npm not found: skipping the web chat build (the API still runs)"
  fi
fi

# --- the processes, each in its own session (so its children, such as vLLM's engine core, go with it) ---
NAMES=(gpu-worker backend-worker files-worker asgi)
declare -A PID STARTED DELAY NEXT_START
cmd_gpu_worker() {
  exec env -u DJANGO_SETTINGS_MODULE "$PY" -m inference.worker --engine "$ENGINE" --queues "$GPU_QUEUES"
}
cmd_backend_worker() {
  cd backend && exec "$ROOT/.venv/bin/celery" -A config worker -B -Q "$BACKEND_QUEUE,$RESEARCH_QUEUE" --pool threads --concurrency 8 \
    --without-gossip --without-mingle \
    --loglevel INFO --schedule "$VAR/celerybeat-schedule"
}
cmd_files_worker() {
  # Prefork, so the soft time limit applies; each child reads one file in a memory-bounded subprocess.
  cd backend && exec "$ROOT/.venv/bin/celery" -A config worker -Q "${WHALE_FILES_QUEUE:-files}" --pool prefork \
    --concurrency 2 --hostname "files@%h" --without-gossip --without-mingle --loglevel INFO
}
cmd_asgi() {
  cd backend && exec "$ROOT/.venv/bin/uvicorn" config.asgi:application --host "$HOST" --port "$PORT" \
    --proxy-headers --no-access-log
}
describe() {
  case $1 in
    gpu-worker) echo "the GPU worker (engine: $ENGINE, queues: $GPU_QUEUES)" ;;
    backend-worker) echo "the backend worker" ;;
    files-worker) echo "the files worker (reads uploads)" ;;
    asgi) echo "the ASGI server" ;;
  esac
}

start() {
  local name=$1 fn="cmd_${1//-/_}"
  setsid bash -c "$(declare -f "$fn"); $fn" >>"$VAR/log/$name.log" 2>&1 </dev/null &
  PID[$name]=$!
  STARTED[$name]=$SECONDS
  echo "${PID[$name]}" >"$VAR/run/$name.pid"
}

stop_all() {
  trap - INT TERM HUP EXIT
  echo
  echo "==> stopping"
  local name pid
  for name in "${NAMES[@]}"; do
    pid=${PID[$name]:-}
    [ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for _ in $(seq 1 100); do  # up to 10 s for a clean shutdown
    local alive=0
    for name in "${NAMES[@]}"; do
      pid=${PID[$name]:-}
      [ -n "$pid" ] && kill -0 -- "-$pid" 2>/dev/null && alive=1
    done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for name in "${NAMES[@]}"; do
    pid=${PID[$name]:-}
    [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$VAR/run/$name.pid"
  done
  wait 2>/dev/null || true
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM HUP
trap 'stop_all' EXIT

export PY ROOT VAR HOST PORT ENGINE GPU_QUEUES BACKEND_QUEUE
for name in "${NAMES[@]}"; do
  echo "==> starting $(describe "$name"); log: $VAR/log/$name.log"
  : >"$VAR/log/$name.log"
  start "$name"
  DELAY[$name]=1
  NEXT_START[$name]=0
done

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
  when it is available. Logs are in $VAR/log/. A process that stops is restarted.
  Press Ctrl-C to stop everything.

TXT

# Development emails (the one-time codes) reach the console too: new `==> ` lines of the worker's log.
MAIL_LOG="$VAR/log/backend-worker.log"
MAIL_SEEN=0
print_codes() {
  local size
  size=$(stat -c %s "$MAIL_LOG" 2>/dev/null || echo 0)
  [ "$size" -lt "$MAIL_SEEN" ] && MAIL_SEEN=0
  if [ "$size" -gt "$MAIL_SEEN" ]; then
    tail -c +"$((MAIL_SEEN + 1))" "$MAIL_LOG" | head -c "$((size - MAIL_SEEN))" | grep -a '^==> ' || true
    MAIL_SEEN=$size
  fi
}

# --- supervise: restart what died (1 s, doubling to RESTART_MAX_SECONDS; back to 1 s after a minute up) ---
while true; do
  # Orphaned: this script now has another parent (init or a subreaper), even while the old one is a zombie.
  if [ "$(ps -o ppid= -p $$ | tr -d ' ')" != "$PARENT" ]; then
    echo "==> the process that started the stack ($PARENT) is gone"
    stop_all
    exit 0
  fi
  for name in "${NAMES[@]}"; do
    pid=${PID[$name]}
    if [ "$pid" = 0 ]; then
      if [ "$SECONDS" -ge "${NEXT_START[$name]}" ]; then
        echo "==> restarting $(describe "$name")"
        start "$name"
      fi
      continue
    fi
    kill -0 "$pid" 2>/dev/null && continue
    code=0
    wait "$pid" 2>/dev/null || code=$?
    kill -KILL -- "-$pid" 2>/dev/null || true  # whatever it left behind in its session
    [ $((SECONDS - STARTED[$name])) -ge 60 ] && DELAY[$name]=1
    echo "==> $(describe "$name") exited (status $code); restarting in ${DELAY[$name]} s (see $VAR/log/$name.log)"
    PID[$name]=0
    NEXT_START[$name]=$((SECONDS + DELAY[$name]))
    DELAY[$name]=$((DELAY[$name] * 2 > RESTART_MAX_SECONDS ? RESTART_MAX_SECONDS : DELAY[$name] * 2))
  done
  print_codes
  sleep 1 &
  wait $! 2>/dev/null || true  # a signal interrupts the wait at once
done
