#!/usr/bin/env bash
# Makes sure a Redis server answers at REDIS_URL (default redis://127.0.0.1:6379/0); the one way
# `make run`, `make test` and CI start Redis.
#   ensure_redis.sh check        exit 0 when it answers
#   ensure_redis.sh install      install Debian's redis-server when missing (root only)
#   ensure_redis.sh daemon       start a local one in the background when none answers; with
#                                REDIS_PIDFILE set, its pid is written there, for stopping it later
set -euo pipefail
mode="${1:-daemon}"
url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=6379
export REDIS_HOST="$host" REDIS_PORT="$port"

answers() { python3 - "$host" "$port" <<'PY'
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1)
    s.sendall(b"PING\r\n"); ok = s.recv(16).startswith(b"+PONG"); s.close()
except OSError:
    ok = False
sys.exit(0 if ok else 1)
PY
}

install() {
  command -v redis-server >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's redis-server..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "No Redis answers at $host:$port and redis-server is not installed: run 'apt-get install redis-server' as root, or set REDIS_URL." >&2
    exit 1
  fi
}

case "$mode" in
  check) answers ;;
  install) install ;;
  daemon)
    answers && exit 0
    install
    pidfile=()
    [ -n "${REDIS_PIDFILE:-}" ] && pidfile=(--pidfile "$REDIS_PIDFILE")
    echo "Starting a local redis-server on port $port"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
      ${pidfile[@]+"${pidfile[@]}"} >/dev/null
    for _ in $(seq 50); do answers && exit 0; sleep 0.1; done
    echo "Started redis-server on port $port but it does not answer." >&2
    exit 1 ;;
  *) echo "usage: ensure_redis.sh check|install|daemon" >&2; exit 2 ;;
esac
