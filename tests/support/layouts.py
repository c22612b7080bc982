"""Sample projects in the layouts real projects use, and the checks of covbot's numbers
against coverage.py's own report and diff-cover's on the same data.

Every project has a base on ``main`` and a PR on ``pr`` that changes a module (a new
function with one branch missed, one never called) and adds a tested module; what
differs is how the code is laid out, installed and tested. The reference figures come
from the real tools: ``coverage report`` / ``coverage json`` on the data of a run of the
project's own tests, diff-cover on ``coverage xml`` of that data.
"""

from __future__ import annotations

import json
import os
import sysconfig
from pathlib import Path

from support.repo_factory import PY, Repo, clean_env, dedent, run

#: Where every layout's covbot and coverage.py totals are written, one JSON line each
#: (``COVBOT_LAYOUT_LOG``), to be read side by side.
LAYOUT_LOG_VARIABLE = "COVBOT_LAYOUT_LOG"

CALC_BASE = '''
    def add(a, b):
        return a + b


    def sign(x):
        if x > 0:
            return 1
        elif x < 0:
            return -1
        return 0
'''
CALC_PR = CALC_BASE + '''

    def clamp(x, lo, hi):
        if x < lo:
            return lo
        if x > hi:
            return hi
        return x


    def unused(x):
        total = 0
        for i in range(x):
            total += i
        return total
'''
TEST_CALC_BASE = '''
    from pkg.calc import add, sign


    def test_add():
        assert add(1, 2) == 3


    def test_sign():
        assert sign(3) == 1
        assert sign(0) == 0
'''
TEST_CALC_PR = TEST_CALC_BASE + '''

    def test_clamp():
        from pkg.calc import clamp

        assert clamp(5, 0, 3) == 3
        assert clamp(1, 0, 3) == 1
'''
WORDS = '''
    def shout(s):
        if not s:
            return ""
        return s.upper() + "!"
'''
TEST_WORDS = '''
    from pkg.words import shout


    def test_shout():
        assert shout("hi") == "HI!"
'''
GITIGNORE = """
    .tox/
    build/
    dist/
    *.egg-info/
    .coverage*
    coverage*.xml
    coverage*.json
    .covbot*/
    __pycache__/
"""


def pyproject(pytest: str = "", coverage: str = "", *, package: bool = False) -> str:
    """pyproject.toml: ``[tool.pytest.ini_options]`` and ``[tool.coverage.run]`` lines
    (branch coverage always), and, with ``package``, what makes ``src/pkg`` installable."""
    text = ""
    if package:
        text += dedent('''
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "pkg"
            version = "0.1.0"

            [tool.setuptools.packages.find]
            where = ["src"]
        ''') + "\n"
    text += "[tool.pytest.ini_options]\n" + dedent(pytest) + "\n"
    text += "[tool.coverage.run]\nbranch = true\n" + dedent(coverage)
    return text


def build(path: Path, pyproject_text: str, *, base_extra: dict | None = None,
          pr_extra: dict | None = None) -> Repo:
    """The sample project at ``path``: base on ``main``, the PR checked out on ``pr``."""
    repo = Repo.create(path, {
        ".gitignore": GITIGNORE,
        "pyproject.toml": pyproject_text,
        "src/pkg/__init__.py": "",
        "src/pkg/calc.py": CALC_BASE,
        "tests/test_calc.py": TEST_CALC_BASE,
        **(base_extra or {}),
    })
    repo.checkout("pr", new=True)
    repo.commit({"src/pkg/calc.py": CALC_PR, "tests/test_calc.py": TEST_CALC_PR,
                 "src/pkg/words.py": WORDS, "tests/test_words.py": TEST_WORDS, **(pr_extra or {})}, "PR")
    return repo


def installed_venv(repo: Repo, where: str = ".tox/py") -> Path:
    """A virtual environment at ``where`` in the repository with the project installed
    into its site-packages by pip from a wheel (not editable: how tox runs a suite).
    pytest and coverage.py come from the interpreter under test's own environment (a
    .pth file)."""
    venv = repo.path / where
    run([PY, "-m", "venv", "--without-pip", str(venv)], repo.path)
    python = venv / "bin" / "python"
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    repo.path).stdout.strip())
    (site / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    wheel = build_wheel(repo.path / "src", "pkg", repo.path / "dist")
    run([PY, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        repo.path)
    assert (site / "pkg" / "calc.py").is_file() and not (site / "pkg" / "calc.py").is_symlink()
    return python


def build_wheel(src: Path, package: str, dist: Path, version: str = "0.1.0") -> Path:
    """A pure-Python wheel of ``src/<package>`` (what a build backend makes of it), built
    with the standard library: no build backend or network is needed to install it."""
    import base64
    import hashlib
    import zipfile

    dist.mkdir(parents=True, exist_ok=True)
    info = f"{package}-{version}.dist-info"
    files = {str(p.relative_to(src)): p.read_bytes() for p in sorted((src / package).rglob("*.py"))}
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    files[f"{info}/RECORD"] = ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode()
    wheel = dist / f"{package}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return wheel


def coverage_run(repo: Repo, *command: str, python: str = PY, env: dict | None = None,
                 plugins: bool = False, python_flags: tuple[str, ...] = ()) -> None:
    """``python -m coverage run -m pytest ...`` in the repository (test failures allowed)."""
    base = clean_env() if plugins else clean_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    base.update(env or {})
    proc = run([python, *python_flags, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider", *command],
               repo.path, check=False, env=base)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr


def reference(repo: Repo, *, rcfile: str | None = None, data_file: str = ".coverage") -> dict:
    """coverage.py's and diff-cover's figures on ``data_file``: ``coverage report``'s
    TOTAL, ``coverage json``'s totals and files, diff-cover's report on ``coverage xml``
    (with ``rcfile``, the configuration to report with, e.g. one with ``[paths]``)."""
    extra = [f"--data-file={data_file}"] + ([f"--rcfile={rcfile}"] if rcfile else [])
    cov_json = repo.coverage_json(*extra)
    total = repo.coverage_report_total(*extra)
    repo.coverage("xml", "-q", *extra, "-o", "coverage-ref.xml")
    return {"json": cov_json, "report_total": total, "diff_cover": repo.diff_cover("coverage-ref.xml")}


def assert_totals(report: dict, ref: dict) -> None:
    t, e = report["totals"], ref["json"]["totals"]
    got = (t["statements"], t["covered_statements"], t["branches"], t["covered_branches"], t["percent_covered"])
    want = (e["num_statements"], e["covered_lines"], e.get("num_branches", 0), e.get("covered_branches", 0),
            ref["report_total"])
    assert got == want, f"covbot's totals {got} != coverage.py's {want} (statements, covered, branches, " \
        "covered branches, percent)"
    assert t["percent_covered"] == round(e["percent_covered"], 2)


def assert_diff(report: dict, ref: dict) -> None:
    d, dc = report["diff"], ref["diff_cover"]
    assert dc["total_num_lines"] > 0
    got = (d["num_lines"], d["num_violations"], d["percent_covered"])
    want = (dc["total_num_lines"], dc["total_num_violations"], dc["total_percent_covered"])
    assert got == want, f"covbot's diff coverage {got} != diff-cover's {want} (lines, violations, percent)"
    dc_files = {p: s for p, s in dc["src_stats"].items() if s["covered_lines"] or s["violation_lines"]}
    assert sorted(d["files"]) == sorted(dc_files), (sorted(d["files"]), sorted(dc_files))
    for path, s in dc_files.items():
        assert d["files"][path]["missing_lines"] == sorted(s["violation_lines"]), path


def assert_matches(layout: str, report: dict, ref: dict) -> None:
    """covbot's totals are coverage.py's, its diff coverage diff-cover's; the pair is logged."""
    log_side_by_side(layout, report, ref)
    assert_totals(report, ref)
    assert_diff(report, ref)


def log_side_by_side(layout: str, report: dict, ref: dict) -> None:
    target = os.environ.get(LAYOUT_LOG_VARIABLE)
    if not target:
        return
    t, e, dc = report["totals"], ref["json"]["totals"], ref["diff_cover"]
    line = {"layout": layout,
            "covbot": {"percent": t["percent_covered"], "statements": t["statements"], "branches": t["branches"],
                       "diff": report["diff"]["percent_covered"], "diff_lines": report["diff"]["num_lines"]},
            "coverage.py": {"percent": ref["report_total"], "statements": e["num_statements"],
                            "branches": e.get("num_branches", 0)},
            "diff-cover": {"percent": dc["total_percent_covered"], "lines": dc["total_num_lines"]}}
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")


def covbot_report(repo: Repo, *args: str, env: dict | None = None, expect_exit=(0, 1)) -> tuple[dict, str]:
    """``covbot report --format json`` (against ``main``, no baseline unless given):
    report.json and stderr."""
    out = repo.path / ".covbot-out"
    proc = run([PY, "-m", "bot", "report", "--format", "json", "--output-dir", str(out), "--base", "main",
                *(args if "--baseline" in args else (*args, "--baseline", "none"))],
               repo.path, check=False, env=env or clean_env())
    assert proc.returncode in expect_exit, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads((out / "report.json").read_text(encoding="utf-8")), proc.stderr


__all__ = ["assert_matches", "build", "coverage_run", "covbot_report", "installed_venv", "pyproject",
           "reference"]
