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


@pytest.mark.parametrize("venv", [".tox/py", "outside"])
def test_a_non_editable_install_measured_in_site_packages(tmp_path, venv):
    """tox's way: the project installed from a wheel into .tox/py (or a virtual
    environment outside the checkout), its tests run there; coverage.py measures
    .../lib/python*/site-packages/pkg/... . covbot maps those files to the tracked
    src/pkg/... (the tracked path ending in pkg/...) instead of dropping them."""
    repo = build(tmp_path / "proj", pyproject('testpaths = ["tests"]\n', 'source_pkgs = ["pkg"]\n', package=True))
    python = installed_venv(repo, venv if venv != "outside" else str(tmp_path / "venv"))
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
    assert_matches(f"non-editable install ({venv} site-packages)", report, ref)
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


def _engine(functions: int) -> str:
    return "\n\n".join(f"def step_{i}(x):\n    y = x + {i}\n    z = y * 2\n    return z - x\n"
                       for i in range(functions))


def _big_tests(passing: int, skipped: int) -> str:
    head = "import pytest\n\nfrom pkg.engine import " + ", ".join(f"step_{i}" for i in range(10)) + "\n\n\n"
    tests = [f"def test_step_{i}():\n    x = {i}\n    y = step_{i % 10}(x)\n    assert y == x + 2 * {i % 10}\n"
             for i in range(passing)]
    tests += [f"@pytest.mark.skip(reason='slow')\ndef test_slow_{i}():\n    x = {i}\n    y = x * 3\n    assert y\n"
              for i in range(skipped)]
    return head + "\n\n".join(tests)


def _is_test_path(path: str) -> bool:
    """This layout's test files, as its pytest configuration names them."""
    return path.startswith(("tests/", "testing/")) or path.rsplit("/", 1)[-1] == "conftest.py"


def test_big_test_files_are_measured_but_not_targeted(tmp_path):
    """No ``source``: coverage.py measures the tests too (a 600-statement test module, a
    conftest.py, helpers under a second ``testpaths`` folder). The totals stay
    coverage.py's, tests included; tier targets, the plan and the high-impact list
    judge the source files only, unless ``target-tests: true``."""
    repo = build(tmp_path / "proj", pyproject('testpaths = ["tests", "testing"]\npythonpath = ["src"]\n'),
                 base_extra={
                     "src/pkg/engine.py": _engine(50),
                     "tests/test_big.py": _big_tests(passing=150, skipped=50),
                     "tests/conftest.py": "def pytest_configure(config):\n    config.addinivalue_line('markers', 'slow')\n\n\n"
                                          "def unused_helper(x):\n    if x:\n        return 1\n    return 2\n",
                     "testing/helpers.py": "\n\n".join(f"def helper_{i}():\n    a = {i}\n    return a\n"
                                                       for i in range(40)),
                     "testing/test_helpers.py": "import helpers\n\n\ndef test_one():\n    assert helpers.helper_0() == 0\n",
                 })
    report, _err = covbot_report(repo, "--test-command", "pytest -p no:cacheprovider")
    coverage_run(repo)
    ref = reference(repo)
    files = ref["json"]["files"]
    assert files["tests/test_big.py"]["summary"]["num_statements"] > 600     # Tier 1 by size
    assert {"tests/conftest.py", "testing/helpers.py", "src/pkg/engine.py"} <= set(files)
    assert_matches("tests/ folder with big test files (measured)", report, ref)

    def ranked(include_tests: bool) -> list[str]:
        """coverage.py's files with uncovered statements, most first: the high-impact order."""
        order = sorted(files, key=lambda p: (-files[p]["summary"]["missing_lines"], p))
        return [p for p in order if files[p]["summary"]["missing_lines"] and (include_tests or not _is_test_path(p))]

    members = [m["path"] for t in report["tiers"] for m in t["members"]]
    assert [h["path"] for h in report["high_impact"]] == ranked(False)[:10]
    assert report["high_impact"][0]["path"] == "src/pkg/engine.py"
    assert "src/pkg/engine.py" in members and not any(_is_test_path(p) for p in members)
    assert [f["path"] for f in report["plan"]["files"]] == ["src/pkg/engine.py"]
    rows = {r["path"]: r for r in report["files"]}
    assert rows["tests/test_big.py"]["target"] is None and rows["tests/test_big.py"]["tier"] is None

    # with target-tests: true the test files are judged as well, on the same data
    (repo.path / ".covbot.yml").write_text("target-tests: true\n", encoding="utf-8")
    judged, _err = covbot_report(repo, "--no-run", "--coverage-file", ".coverage")
    assert judged["totals"] == report["totals"]
    assert [h["path"] for h in judged["high_impact"]] == ranked(True)[:10]
    assert judged["high_impact"][0]["path"] == "tests/test_big.py"
    tier1 = next(t for t in judged["tiers"] if t["name"] == "Tier 1")
    assert [m["path"] for m in tier1["members"]] == ["tests/test_big.py"]


def test_measured_files_with_no_source_here_are_named_from_the_data(tmp_path):
    """Data in which one file was measured in another tree (its source is not here): the
    warning counts and names it as the data records it, and the totals are what
    coverage.py reports on the same data (``coverage json -i`` skips what it cannot read)."""
    import coverage

    repo = build(tmp_path / "proj", pyproject('testpaths = ["tests"]\npythonpath = ["src"]\n', 'source = ["src"]\n'))
    coverage_run(repo)
    original = coverage.CoverageData(basename=str(repo.path / ".coverage"))
    original.read()
    moved = coverage.CoverageData(basename=str(repo.path / "moved.coverage"))
    elsewhere = "/elsewhere/lib/words.py"
    moved.update(original, map_path=lambda p: elsewhere if p.endswith("/src/pkg/words.py") else p)
    moved.write()
    report, _err = covbot_report(repo, "--no-run", "--coverage-file", "moved.coverage")
    expected = repo.coverage_json("-i", "--data-file=moved.coverage")
    assert sorted(expected["files"]) == ["src/pkg/__init__.py", "src/pkg/calc.py"]
    t, e = report["totals"], expected["totals"]
    assert (t["statements"], t["covered_statements"], t["percent_covered"]) == \
        (e["num_statements"], e["covered_lines"], round(e["percent_covered"], 2))
    notes = [w for w in report["warnings"] if "measured file(s)" in w]
    assert notes == ["1 measured file(s) match no file of this checkout and have no source here: not counted "
                     f"(e.g. {elsewhere}); map them with the coverage `[paths]` setting"]
