"""Coverage recorded under another root maps onto the repository's own paths."""

from __future__ import annotations

import shutil

import coverage
import pytest

from bot.inputs.paths import PathMapper
from support.hard_cases_pr import build_sample
from support.repo_factory import Repo, run, sample_pyproject

TRACKED = ["src/pkg/__init__.py", "src/pkg/calc.py", "pkg/calc.py", "tests/test_calc.py", "setup.py"]


@pytest.mark.parametrize("recorded, expected", [
    ("/home/runner/work/x/x/src/pkg/calc.py", "src/pkg/calc.py"),
    ("/github/workspace/src/pkg/calc.py", "src/pkg/calc.py"),
    ("C:\\a\\x\\src\\pkg\\calc.py", "src/pkg/calc.py"),
    ("D:/a/x/src/pkg/__init__.py", "src/pkg/__init__.py"),
    ("src/pkg/calc.py", "src/pkg/calc.py"),
    ("./src/pkg/calc.py", "src/pkg/calc.py"),
    ("pkg/calc.py", "pkg/calc.py"),                       # relative_files, flat layout
    ("/somewhere/else/pkg/calc.py", "pkg/calc.py"),       # longest tracked suffix
    ("/home/runner/work/x/x/src/pkg/other.py", None),     # not tracked: left out
    ("/usr/lib/python3.11/json/__init__.py", None),
])
def test_recorded_paths_map_to_tracked_files(tmp_path, recorded, expected):
    assert PathMapper(tmp_path, TRACKED).map(recorded) == expected


def test_longest_suffix_wins_and_prefix_is_reused(tmp_path):
    mapper = PathMapper(tmp_path, TRACKED)
    assert mapper.map("/ci/build/src/pkg/calc.py") == "src/pkg/calc.py"   # not pkg/calc.py
    assert mapper.map("/ci/build/setup.py") == "setup.py"                  # the learned prefix
    assert mapper.map("/ci/build/src/pkg/missing.py") is None


def test_files_under_the_root_map_directly(tmp_path):
    mapper = PathMapper(tmp_path, TRACKED)
    assert mapper.map(str(tmp_path / "src" / "pkg" / "calc.py")) == "src/pkg/calc.py"


def _remap_data(src: str, dest: str, old_root: str, new_root: str) -> None:
    """Rewrite a coverage.py data file as if it had been recorded under ``new_root``."""
    original = coverage.CoverageData(basename=src)
    original.read()
    moved = coverage.CoverageData(basename=dest)
    moved.update(original, map_path=lambda p: p.replace(old_root, new_root, 1))
    moved.write()
    assert all(f.startswith(new_root) for f in coverage.CoverageData(basename=dest).measured_files()) \
        or not moved.measured_files()


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """The sample PR measured in place: the reference diff-cover and coverage.py figures."""
    repo = build_sample(tmp_path_factory.mktemp("paths") / "proj")
    repo.coverage_run_pytest()
    repo.coverage("xml", "-q", "-o", "coverage.xml")
    return repo, repo.diff_cover("coverage.xml"), repo.coverage_json()["totals"]


def _assert_same(report: dict, dc: dict, totals: dict) -> None:
    assert report["diff"]["num_lines"] == dc["total_num_lines"] > 0
    assert report["diff"]["num_violations"] == dc["total_num_violations"]
    assert report["diff"]["percent_covered"] == dc["total_percent_covered"]
    assert report["totals"]["statements"] == totals["num_statements"]
    assert report["totals"]["percent_covered"] == round(totals["percent_covered"], 2)
    assert not any("not tracked" in w for w in report.get("warnings", []))


def test_data_remapped_to_a_runner_path_gives_the_same_diff_coverage(measured):
    repo, dc, totals = measured
    runner_root = "/home/runner/work/proj/proj"
    _remap_data(str(repo.path / ".coverage"), str(repo.path / "runner.coverage"), str(repo.path), runner_root)
    report = repo.covbot_report("--no-run", "--coverage-file", "runner.coverage", "--base", "main",
                                "--baseline", "none")
    _assert_same(report, dc, totals)


def test_coverage_recorded_in_another_checkout_maps_back(measured, tmp_path):
    """Measured in a clone at .../github/workspace (then deleted): data, JSON and XML all map."""
    repo, dc, totals = measured
    elsewhere = tmp_path / "github" / "workspace"
    run(["git", "clone", "-q", "--branch", "pr", str(repo.path), str(elsewhere)], tmp_path)
    other = Repo(elsewhere)
    other.coverage_run_pytest()
    other.coverage("json", "-q", "-o", "coverage.json")
    other.coverage("xml", "-q", "-o", "coverage.xml")
    artifacts = repo.path / "artifacts"
    artifacts.mkdir(exist_ok=True)
    for name, dest in ((".coverage", "ci.coverage"), ("coverage.json", "ci.json"), ("coverage.xml", "ci.xml")):
        shutil.copy(elsewhere / name, artifacts / dest)
    assert str(elsewhere) in (artifacts / "ci.xml").read_text()   # <source> names the other root
    shutil.rmtree(elsewhere)
    for name in ("ci.coverage", "ci.json", "ci.xml"):
        report = repo.covbot_report("--no-run", "--coverage-file", f"artifacts/{name}", "--base", "main",
                                    "--baseline", "none")
        _assert_same(report, dc, totals)


def test_relative_files_data_maps_too(measured):
    repo, dc, totals = measured
    _remap_data(str(repo.path / ".coverage"), str(repo.path / "relative.coverage"), str(repo.path) + "/", "")
    report = repo.covbot_report("--no-run", "--coverage-file", "relative.coverage", "--base", "main",
                                "--baseline", "none")
    _assert_same(report, dc, totals)


def test_data_of_another_project_says_why_there_are_no_lines(measured, tmp_path):
    """No recorded path matches a tracked file: n/a with a reason, never 100%."""
    repo, _dc, _totals = measured
    original = coverage.CoverageData(basename=str(repo.path / ".coverage"))
    original.read()
    foreign = coverage.CoverageData(basename=str(repo.path / "foreign.coverage"))
    foreign.update(original, map_path=lambda p: p.replace(str(repo.path) + "/src/pkg/", "/elsewhere/lib/other_"))
    foreign.write()
    proc = repo.covbot("report", "--no-run", "--coverage-file", "foreign.coverage", "--base", "main",
                       "--baseline", "none", "--format", "json", "--output-dir", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stderr
    assert "foreign.coverage" in proc.stderr and "belongs to this repository" in proc.stderr
    assert "Traceback" not in proc.stderr and "CoverageWarning" not in proc.stderr


MONO_PYPROJECT = sample_pyproject(relative_files=True)


def test_monorepo_package_with_relative_files(tmp_path):
    """Coverage run inside services/api with relative_files: paths are relative to that
    folder, not to the repository root; they still map, and give diff-cover's figures."""
    pkg = "services/api/"
    repo = Repo.create(tmp_path / "mono", {
        pkg + "pyproject.toml": MONO_PYPROJECT,
        pkg + "src/api/__init__.py": "",
        pkg + "src/api/views.py": "def index(x):\n    if x:\n        return 'a'\n    return 'b'\n",
        pkg + "tests/test_views.py": "from api.views import index\n\n\ndef test_index():\n    assert index(1) == 'a'\n",
        "web/src/api/views.py": "# another package's file of the same name\n",
    })
    repo.checkout("pr", new=True)
    repo.commit({pkg + "src/api/views.py": "def index(x):\n    if x:\n        return 'a'\n    return 'b'\n\n\n"
                                           "def extra(y):\n    if y > 2:\n        return y\n    return -y\n"}, "PR")
    package = Repo(repo.path / "services" / "api")
    package.coverage_run_pytest()
    package.coverage("xml", "-q", "-o", "coverage.xml")
    package.coverage("json", "-q", "-o", "coverage.json")
    dc = package.diff_cover("coverage.xml")
    assert dc["total_num_lines"] > 0 and dc["total_num_violations"] > 0
    for name in (".coverage", "coverage.json", "coverage.xml"):
        report = repo.covbot_report("--no-run", "--coverage-file", pkg + name, "--base", "main",
                                    "--baseline", "none")
        assert report["diff"]["num_lines"] == dc["total_num_lines"], name
        assert report["diff"]["num_violations"] == dc["total_num_violations"], name
        assert report["diff"]["percent_covered"] == dc["total_percent_covered"], name
        assert [f["path"] for f in report["files"]] == [pkg + "src/api/__init__.py", pkg + "src/api/views.py"]


def test_relative_path_matching_two_tracked_files_is_left_out(tmp_path):
    mapper = PathMapper(tmp_path, ["a/src/x.py", "b/src/x.py", "c/src/y.py"])
    assert mapper.map("src/x.py") is None          # ambiguous: never guess
    assert mapper.map("src/y.py") == "c/src/y.py"


def test_a_backslash_in_a_posix_file_name_is_kept(tmp_path):
    tracked = ["pkg/back\\slash.py", "src/win.py"]
    mapper = PathMapper(tmp_path, tracked)
    assert mapper.map(str(tmp_path / "pkg" / "back\\slash.py")) == "pkg/back\\slash.py"
    assert mapper.map("pkg/back\\slash.py") == "pkg/back\\slash.py"
    assert mapper.map("C:\\a\\x\\src\\win.py") == "src/win.py"     # still a Windows separator
    assert mapper.map("src\\win.py") == "src/win.py"


def test_a_backslash_file_is_measured_end_to_end(tmp_path):
    repo = Repo.create(tmp_path / "r", {
        "pyproject.toml": "[tool.coverage.run]\nbranch = true\n",
        "tests/test_bs.py": "def test_nothing():\n    pass\n",
    })
    repo.checkout("pr", new=True)
    repo.commit({"pkg/back\\slash.py": "def f(x):\n    return x\n\n\ndef g():\n    return 2\n",
                 "tests/test_bs.py": "import importlib.util, pathlib\n\n\ndef test_bs():\n"
                                     "    p = pathlib.Path(__file__).resolve().parent.parent / 'pkg' / 'back\\\\slash.py'\n"
                                     "    spec = importlib.util.spec_from_file_location('bs', p)\n"
                                     "    mod = importlib.util.module_from_spec(spec)\n"
                                     "    spec.loader.exec_module(mod)\n    assert mod.f(1) == 1\n"}, "backslash")
    repo.coverage_run_pytest()
    # coverage.json keeps the name; combining data files cannot (coverage.py's own
    # CoverageData.update turns every backslash into a separator)
    repo.coverage("json", "-q", "-o", "coverage.json")
    report = repo.covbot_report("--no-run", "--coverage-file", "coverage.json", "--base", "main",
                                "--baseline", "none")
    assert report["diff"]["files"]["pkg/back\\slash.py"]["changed_lines"] == 4
    assert report["diff"]["files"]["pkg/back\\slash.py"]["missing_lines"] == [6]
