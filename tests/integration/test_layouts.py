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
    assert_diff,
    assert_matches,
    assert_totals,
    build,
    coverage_run,
    covbot_report,
    pyproject,
    reference,
)
from support.layouts import GITIGNORE, installed_venv
from support.repo_factory import BIN, clean_env, run

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


VERSION_INIT = "from pkg._version import __version__\n"
GENERATED_VERSION = '__version__ = "1.2.3"\nversion_tuple = tuple(int(p) for p in __version__.split("."))\n'


def test_a_generated_module_git_does_not_track(tmp_path):
    """``src/pkg/_version.py``, written by the build and ignored by git, is measured: the
    totals are coverage.py's over every measured file; the diff concerns tracked files."""
    repo = build(tmp_path / "proj", pyproject('testpaths = ["tests"]\npythonpath = ["src"]\n', 'source = ["src"]\n'),
                 base_extra={"src/pkg/__init__.py": VERSION_INIT,
                             ".gitignore": GITIGNORE + "src/pkg/_version.py\n"})
    (repo.path / "src/pkg/_version.py").write_text(GENERATED_VERSION, encoding="utf-8")
    assert repo.git("status", "--porcelain", "--ignored", "src/pkg").strip() == "!! src/pkg/_version.py"
    report, _err = covbot_report(repo, "--test-command", "pytest -p no:cacheprovider")
    coverage_run(repo)
    ref = reference(repo)
    assert "src/pkg/_version.py" in ref["json"]["files"]
    assert_matches("generated untracked module", report, ref)
    assert "src/pkg/_version.py" in {f["path"] for f in report["files"]}
    # named and counted as the data has it: one file
    assert [w for w in report["warnings"] if "not tracked by git" in w] == [
        "1 measured file(s) are not tracked by git: counted in the totals, as coverage.py counts them, "
        "and in no diff (e.g. src/pkg/_version.py)"]
    for given_file in (".coverage", "coverage-ref.xml"):     # the same data, given
        given, _err = covbot_report(repo, "--no-run", "--coverage-file", given_file)
        assert_totals(given, ref)
        assert_diff(given, ref)


def test_a_non_editable_install_measured_in_site_packages(tmp_path):
    """tox's way: the project installed from a wheel into .tox/py, its tests run there;
    coverage.py measures .tox/py/lib/python*/site-packages/pkg/... . covbot maps those
    files to the tracked src/pkg/... (the longest tracked suffix) instead of dropping them."""
    repo = build(tmp_path / "proj", pyproject('testpaths = ["tests"]\n', 'source_pkgs = ["pkg"]\n', package=True))
    python = installed_venv(repo)
    report, err = covbot_report(repo, "--test-command", f"{python} -m pytest -p no:cacheprovider")
    coverage_run(repo, python=str(python))
    recorded = repo.coverage_json()["files"]
    assert all("/site-packages/pkg/" in p for p in recorded), sorted(recorded)
    # diff-cover needs the paths of the checkout: coverage.py's own [paths] remapping
    rc = repo.path / "paths.rc"
    rc.write_text("[run]\nbranch = true\nsource_pkgs = pkg\n[paths]\nsource =\n    src/\n    */site-packages/\n",
                  encoding="utf-8")
    repo.coverage("combine", "--keep", "-q", f"--rcfile={rc}", "--data-file=.coverage.mapped", ".coverage")
    ref = reference(repo, rcfile=str(rc), data_file=".coverage.mapped")
    assert sorted(ref["json"]["files"]) == ["src/pkg/__init__.py", "src/pkg/calc.py", "src/pkg/words.py"]
    assert ref["report_total"] == repo.coverage_report_total()    # the raw data's TOTAL is the same
    assert_matches("non-editable install (.tox/py site-packages)", report, ref)
    assert not any("not tracked" in w for w in report["warnings"]), report["warnings"]


def test_the_projects_coverage_paths_come_first(tmp_path):
    """Two tracked packages end in ``pkg/calc.py``: ``src/pkg/`` and an old copy at the
    root, ``pkg/`` (not imported: ``python -P`` keeps the checkout off ``sys.path``).
    The nearest suffix would pick the root copy; the project's coverage ``[paths]`` come
    first and say ``src/``, as ``coverage combine`` applies them."""
    paths = '\n[tool.coverage.paths]\nsource = ["src/", "*/site-packages/"]\n'
    repo = build(tmp_path / "proj", pyproject('testpaths = ["tests"]\n', 'source_pkgs = ["pkg"]\n', package=True)
                 + paths, base_extra={"pkg/__init__.py": "", "pkg/calc.py": "def add(a, b):\n    return a + b\n"})
    python = installed_venv(repo)
    report, _err = covbot_report(repo, "--test-command", f"{python} -P -m pytest -p no:cacheprovider")
    coverage_run(repo, python=str(python), python_flags=("-P",))
    repo.coverage("combine", "--keep", "-q", "--data-file=.coverage.mapped", ".coverage")
    ref = reference(repo, data_file=".coverage.mapped")
    assert sorted(ref["json"]["files"]) == ["src/pkg/__init__.py", "src/pkg/calc.py", "src/pkg/words.py"]
    assert_matches("non-editable install with coverage [paths]", report, ref)
    assert sorted(f["path"] for f in report["files"]) == sorted(ref["json"]["files"])


def test_a_pytest_cov_command_with_filterwarnings_error(tmp_path):
    """``pytest -n 2 --cov --cov-report=xml:FILE`` where every warning is an error:
    covbot cooperates with pytest-cov (no ``--no-cov`` and its CovDisabledWarning), reads
    the data it wrote, and the XML the command asks for is written."""
    repo = build(tmp_path / "proj", pyproject(STRICT_PYTEST + 'pythonpath = ["src"]\n', 'source = ["src"]\n'))
    command = "pytest -n 2 -p no:cacheprovider --cov --cov-report=xml:coverage-user.xml"
    report, err = covbot_report(repo, "--test-command", command)
    assert "CovDisabledWarning" not in err and "INTERNALERROR" not in err
    assert (repo.path / "coverage-user.xml").is_file()
    assert report["tests"]["total"] == 4 and report["tests"]["failed"] == 0
    # the reference: the same command run without covbot, its data in coverage.py's and
    # diff-cover's hands
    (repo.path / "coverage-user.xml").unlink()
    (repo.path / ".coverage").unlink()
    run_pytest = run([str(BIN / "pytest"), *command.split()[1:]], repo.path, env=clean_env())
    assert "coverage-user.xml" in run_pytest.stdout
    ref = reference(repo)
    assert_matches("pytest -n 2 --cov (pytest-cov), filterwarnings = error", report, ref)
    # the user's own XML says the same to diff-cover
    assert repo.diff_cover("coverage-user.xml") == ref["diff_cover"]
    # the rerun pass of failed tests keeps pytest-cov off without failing on its warning
    broken = repo.path / "tests" / "test_calc.py"
    broken.write_text(broken.read_text() + "\n\ndef test_broken():\n    assert False\n", encoding="utf-8")
    report, err = covbot_report(repo, "--test-command", command)
    assert report["tests"]["failed"] == 1
    assert "CovDisabledWarning" not in err and "rerun pass failed" not in err
