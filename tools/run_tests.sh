#!/usr/bin/env bash
# Runs the test suite; pytest's exit 5 ("no tests collected") is a failure
# here too, with a message, since a green run must have tested something.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "error: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
