"""The project's coverage ``[paths]`` setting, from every file coverage.py reads it from,
and no coverage.py import when no such file can hold one."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.inputs.coverage_data import project_aliases

SETTINGS = {
    ".coveragerc": "[paths]\nsource =\n    src/\n    */site-packages/\n",
    "setup.cfg": "[coverage:paths]\nsource =\n    src/\n    */site-packages/\n",
    "tox.ini": "[coverage:paths]\nsource =\n    src/\n    */site-packages/\n",
    "pyproject.toml": '[tool.coverage.paths]\nsource = ["src/", "*/site-packages/"]\n',
}


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_paths_are_read_from_each_file_coverage_reads(tmp_path, name):
    (tmp_path / name).write_text(SETTINGS[name], encoding="utf-8")
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "calc.py").write_text("x = 1\n", encoding="utf-8")   # aliases map to what exists
    aliases = project_aliases(tmp_path)
    assert aliases is not None
    mapped = aliases.map("/venv/lib/python3.11/site-packages/pkg/calc.py")
    assert mapped == str(tmp_path.resolve() / "src" / "pkg" / "calc.py")


def test_other_settings_alone_give_no_aliases(tmp_path):
    (tmp_path / "setup.cfg").write_text("[coverage:run]\nbranch = true\n[metadata]\nname = x\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.coverage.run]\nbranch = true\n', encoding="utf-8")
    assert project_aliases(tmp_path) is None


def test_without_a_paths_setting_coverage_is_not_imported(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    code = ("import sys, json\nfrom bot.inputs.coverage_data import project_aliases\n"
            f"a = project_aliases({str(tmp_path)!r})\n"
            "print(json.dumps([a is None, 'coverage' in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [True, False]


def test_coverage_rcfile_in_the_environment_is_read(tmp_path, monkeypatch):
    rc = tmp_path / "elsewhere.rc"
    rc.write_text(SETTINGS[".coveragerc"], encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setenv("COVERAGE_RCFILE", str(rc))
    assert project_aliases(project) is not None
