#!/usr/bin/env bash
# Regenerates the initial migration from the models against an empty SQLite database.
# Only for use before the first release; afterwards add migrations with `flask db migrate`.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f migrations/versions/0001_initial_schema.py
DATABASE_URL="sqlite:///$tmp/empty.sqlite3" .venv/bin/flask --app wsgi db migrate -m "initial schema" --rev-id 0001 >/dev/null
mv migrations/versions/0001_initial_schema.py "$tmp/m.py" 2>/dev/null || mv migrations/versions/0001_*.py "$tmp/m.py"
mv "$tmp/m.py" migrations/versions/0001_initial_schema.py
echo "wrote migrations/versions/0001_initial_schema.py"
