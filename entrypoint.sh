#!/usr/bin/env bash
# The container's entry point (also runnable from a checkout): prepare git, then run the
# action and hand its exit status to the runner.
#   0 gate passed · 1 gate failed · 2 input error · 3 report written, publishing failed
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${COVBOT_PYTHON:-python3}"

# The runner mounts the workspace owned by another user: git refuses it without this.
if [ -n "${GITHUB_WORKSPACE:-}" ]; then
    git config --global --add safe.directory "$GITHUB_WORKSPACE" 2>/dev/null || true
fi

# Hyphenated input names cannot be read by a shell; action.yml maps them to COVBOT_*.
workdir="${COVBOT_WORKING_DIRECTORY:-}"
if [ -z "$workdir" ]; then
    workdir="$(printenv 'INPUT_WORKING-DIRECTORY' 2>/dev/null || true)"
fi
if [ -n "$workdir" ]; then
    if ! cd -- "$workdir" 2>/dev/null; then
        echo "covbot: error: input working-directory '$workdir' does not exist (relative to $(pwd))" >&2
        echo "  hint: give a path inside the repository, e.g. 'packages/api'" >&2
        exit 2
    fi
    git config --global --add safe.directory "$(pwd)" 2>/dev/null || true
fi

# From a checkout, run its own package (without putting it on the test run's PYTHONPATH);
# in the image, the installed one. exec: no shell stays behind with the token in its
# environment (/proc/<pid>/environ) while the project's tests run; covbot starts itself
# once more without it (bot.app.action.run).
if [ -f "$here/bot/app/action.py" ]; then
    exec "$python" -c 'import sys; sys.path.insert(0, sys.argv[1]); from bot.app.action import run; run()' "$here"
else
    exec "$python" -m bot.app.action
fi
