#!/usr/bin/env bash
# Makes sure Redis answers at REDIS_URL: starts a local redis-server when one is installed and none listens.
set -euo pipefail
url=${REDIS_URL:-redis://127.0.0.1:6379/0}
hostport=${url#redis://}
hostport=${hostport%%/*}
hostport=${hostport##*@}
host=${hostport%%:*}
port=${hostport##*:}
[ "$port" = "$host" ] && port=6379

ping() { (exec 3<>"/dev/tcp/$host/$port" && printf 'PING\r\n' >&3 && read -r -t 2 reply <&3 && [[ "$reply" == +PONG* ]]) 2>/dev/null; }

if ping; then
  exit 0
fi
if command -v redis-server >/dev/null 2>&1 && { [ "$host" = "127.0.0.1" ] || [ "$host" = "localhost" ]; }; then
  echo "==> Redis is not answering at $host:$port; starting a local redis-server"
  mkdir -p var/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$PWD/var/redis" --logfile "$PWD/var/redis/redis.log"
  for _ in $(seq 1 50); do ping && exit 0; sleep 0.1; done
fi
echo "Redis is needed at $host:$port and none answers." >&2
echo "Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)," >&2
echo "or point REDIS_URL at a running Redis." >&2
exit 1
