#!/usr/bin/env bash
# `make run`: Redis, migrations, demo data, then the console, a worker and the scheduler in the
# foreground. Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export FLASK_APP=wsgi
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"

pids=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

if ! scripts/ensure_redis.sh check; then
  scripts/ensure_redis.sh install
  port="${REDIS_URL#*://}"; port="${port#*@}"; port="${port%%/*}"; port="${port##*:}"
  [[ "$port" =~ ^[0-9]+$ ]] || port=6379
  echo "Starting a local redis-server on port $port"
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --loglevel warning &
  pids+=($!)
  for _ in $(seq 50); do scripts/ensure_redis.sh check && break; sleep 0.1; done
fi

mkdir -p instance
$BIN/flask db upgrade
$BIN/flask demo seed

$BIN/flask worker &
pids+=($!)
$BIN/flask scheduler &
pids+=($!)

echo "Connected Apps on http://$HOST:$PORT — log in as superadmin@example.com / demo-password"
$BIN/gunicorn --bind "$HOST:$PORT" --worker-class gthread --workers 1 --threads 8 \
  --access-logfile - "wsgi:app" &
pids+=($!)
wait -n "${pids[@]}"
