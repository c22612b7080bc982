"""covbot's numbers are coverage.py's and diff-cover's in the layouts real projects use.

Each test builds a real project of one layout (a base on ``main``, a PR on ``pr``),
runs its tests for real, and compares covbot's totals with ``coverage report`` /
``coverage json`` and its diff coverage with diff-cover, on the same data:

- the test command sets a variable itself (``PYTHONPATH=src pytest``), with
  ``filterwarnings = error``;
- a module the build generates and git does not track (``_version.py``);
- a non-editable install (tox's way): the measured files are in
  ``.tox/py/lib/python*/site-packages/pkg/``;
- a command that already uses pytest-cov (``pytest -n 2 --cov --cov-report=xml:FILE``)
  with ``filterwarnings = error``;
- a tests/ folder with big test files, measured along with the code.

With ``COVBOT_LAYOUT_LOG=FILE`` every test appends covbot's and coverage.py's totals
to FILE, one JSON line per layout.
"""

from __future__ import annotations

import pytest

from support.layouts import (
    assert_matches,
    build,
    coverage_run,
    covbot_report,
    pyproject,
    reference,
)
from support.repo_factory import clean_env

STRICT_PYTEST = '''
    testpaths = ["tests"]
    filterwarnings = ["error"]
'''


@pytest.mark.parametrize("command", ["PYTHONPATH=src pytest -p no:cacheprovider",
                                     "export PYTHONPATH=src && python -m pytest -p no:cacheprovider"])
def test_a_command_that_sets_pythonpath_itself(tmp_path, command):
    """``PYTHONPATH=src pytest``: the command's own PYTHONPATH must not replace covbot's
    hooks (its results plugin and its coverage start-up); every warning is an error."""
    repo = build(tmp_path / "proj", pyproject(STRICT_PYTEST, 'source = ["src"]\n'))
    report, err = covbot_report(repo, "--test-command", command)
    assert "covbot_pytest_plugin" not in err
    assert report["tests"]["total"] == 4 and report["tests"]["failed"] == 0
    coverage_run(repo, env={"PYTHONPATH": "src"}, plugins=True)
    assert_matches(command.split(" -p")[0], report, reference(repo))
