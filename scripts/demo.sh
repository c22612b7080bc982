#!/usr/bin/env bash
# Install covbot into .venv, build the demo project's git history in a temporary folder
# and run `covbot report` on its PR branch: runs the tests on the PR and on the base,
# prints the PR comment. No GitHub, no token.
#   bash scripts/demo.sh [covbot report args...]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e . pytest
DEMO="$(mktemp -d)/demo-shop"
.venv/bin/python examples/demo/build_demo.py "$DEMO" >/dev/null
echo "demo repository: $DEMO (branch pr, base main)" >&2
cd "$DEMO"
status=0
PATH="$OLDPWD/.venv/bin:$PATH" covbot report --base main --baseline rerun "$@" || status=$?
echo "covbot exit status: $status (0 gate passed, 1 gate failed, 2 input error)" >&2
# The demo PR is meant to fail the gate; the demo itself succeeded if covbot reported.
[ "$status" -le 1 ]
