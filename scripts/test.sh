#!/usr/bin/env bash
# `make test`: installs what the tests need, starts what they need, runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium for the end-to-end tests..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing: run 'apt-get install chromium' as root for the end-to-end tests." >&2
    exit 1
  fi
fi
REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}" scripts/ensure_redis.sh daemon

status=0
echo "== unit and integration tests on SQLite"
$BIN/pytest tests -q -p no:cacheprovider || status=1

export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
if $BIN/python -c "import sqlalchemy as sa, os; sa.create_engine(os.environ['TEST_POSTGRES_URL']).connect().close()" 2>/dev/null; then
  echo "== unit and integration tests on PostgreSQL"
  TEST_DB=postgres $BIN/pytest tests -q -p no:cacheprovider || status=1
else
  echo "== PostgreSQL not reachable at TEST_POSTGRES_URL: skipping the PostgreSQL run"
fi

if [ -d e2e ] && ls e2e/test_*.py >/dev/null 2>&1; then
  echo "== end-to-end flows in Chromium"
  $BIN/pytest e2e -q -p no:cacheprovider || status=1
fi
exit $status
