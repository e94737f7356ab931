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
# The issuer and links follow where the console is served; the demo apps' host talks to it there.
export PUBLIC_URL="${PUBLIC_URL:-http://$HOST:$PORT}"
# Probes every 30 s (not 300), so that a demo app made to fail shows Error within two minutes.
export HEALTH_PROBE_INTERVAL="${HEALTH_PROBE_INTERVAL:-30}"

mkdir -p instance
# Written only when Redis is started here: then Ctrl-C stops it too.
redis_pidfile=instance/redis.pid
rm -f "$redis_pidfile"

pids=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$redis_pidfile" ] && kill "$(cat "$redis_pidfile")" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

REDIS_PIDFILE="$PWD/$redis_pidfile" scripts/ensure_redis.sh daemon
$BIN/flask db upgrade
$BIN/flask demo seed

$BIN/flask worker &
pids+=($!)
$BIN/flask scheduler &
pids+=($!)

port_is_free() {
  python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $1)) == 0)"
}
json_field() {
  python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}

# The contacts API, a resource server: every call to it introspects the caller's token, which the
# console counts as API usage of that installation.
CONTACTS_PORT=8902
if port_is_free $CONTACTS_PORT; then
  credentials=$($BIN/flask resource-servers register "Contacts API" --rotate-secret 2>/dev/null)
  RESOURCE_SERVER_ID=$(printf '%s' "$credentials" | json_field client_id) \
  RESOURCE_SERVER_SECRET=$(printf '%s' "$credentials" | json_field client_secret) \
  CONSOLE_URL="http://$HOST:$PORT" PORT=$CONTACTS_PORT $BIN/python examples/contacts_api/app.py &
  pids+=($!)
  echo "Contacts API (an example resource server) on http://127.0.0.1:$CONTACTS_PORT"
else
  echo "Port $CONTACTS_PORT is taken: the contacts API is not started (see examples/contacts_api/README.md)."
fi

# The sample app, a real OAuth client, so that "Install" on Sample Notes works by clicking.
SAMPLE_PORT=8900
if port_is_free $SAMPLE_PORT; then
  credentials=$($BIN/flask apps register examples/sample_app/manifest.json --rotate-secret 2>/dev/null)
  export CLIENT_ID=$(printf '%s' "$credentials" | json_field client_id)
  export CLIENT_SECRET=$(printf '%s' "$credentials" | json_field client_secret)
  CONSOLE_URL="http://$HOST:$PORT" CONTACTS_API_URL="http://127.0.0.1:$CONTACTS_PORT" \
    PORT=$SAMPLE_PORT $BIN/python examples/sample_app/app.py &
  pids+=($!)
  unset CLIENT_ID CLIENT_SECRET
  echo "Sample Notes (an example app to install) on http://127.0.0.1:$SAMPLE_PORT"
else
  echo "Port $SAMPLE_PORT is taken: the sample app is not started (see examples/sample_app/README.md)."
fi

# The demo apps' host: the install pages, callbacks and health endpoints of the demo catalogue's
# apps (the seed pointed them at DEMO_APPS_URL), and the control page that makes them fail.
DEMO_APPS_PORT=8901
if port_is_free $DEMO_APPS_PORT; then
  $BIN/flask demo host --port $DEMO_APPS_PORT &
  pids+=($!)
  echo "Demo apps (their control page) on http://127.0.0.1:$DEMO_APPS_PORT"
else
  echo "Port $DEMO_APPS_PORT is taken: the demo apps are not served, so their Install pages do not answer."
fi

echo "Connected Apps on http://$HOST:$PORT — log in as superadmin@example.com / demo-password"
$BIN/gunicorn --bind "$HOST:$PORT" --worker-class gthread --workers 1 --threads 8 \
  --access-logfile - "wsgi:app" &
pids+=($!)
wait -n "${pids[@]}"
