#!/usr/bin/env bash
# The demo `make run` serves, and tests/demo/test_walk_through.py walks through in Chromium.
#
#   scripts/demo.sh PYTHON [ADDRESS]     e.g. scripts/demo.sh .venv/bin/python 127.0.0.1:8000
#
# Migrates the database DATABASE_URL points at (db.sqlite3 when unset), loads the demo
# data (once: running it again changes nothing) and prints its users, then serves the app
# with Django's development server and runs a background worker beside it (billing runs,
# invoice PDFs, emails), until stopped: Ctrl-C (or a TERM) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${1:?usage: scripts/demo.sh PYTHON [ADDRESS]}
address=${2:-127.0.0.1:8000}

"$python" manage.py migrate --no-input
"$python" manage.py load_demo

# The worker: jobs are rows of the same database; emails print to this terminal.
"$python" manage.py worker --no-reload --interval 0.5 &
worker=$!
"$python" manage.py runserver "$address" &
server=$!
stop() { kill -TERM "$server" "$worker" 2>/dev/null || true; wait "$server" "$worker" 2>/dev/null || true; }
trap stop INT TERM EXIT
# Whichever ends first (a crash, say) ends the demo: the other is stopped by the trap.
wait -n "$server" "$worker"
