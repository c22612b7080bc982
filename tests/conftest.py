"""Shared set-up of the whole suite.

The interpreter under test is the one running pytest (``sys.executable``: the ``.venv``
``scripts/test.sh`` made). Every program the suite starts by name — ``python``,
``pytest``, ``coverage``, ``diff-cover`` and the ``pytest`` that covbot's default test
command starts — comes from that interpreter's ``bin``, whatever the machine's ``PATH``
offers: it goes first on ``PATH`` here, once, before any test runs, and every
environment a test builds starts from this one (``support.repo_factory.clean_env``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
if os.environ.get("PATH", "").split(os.pathsep)[0] != str(BIN):
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
