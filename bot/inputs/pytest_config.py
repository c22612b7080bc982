"""Which measured files are the project's tests, as its pytest configuration says.

Tier targets, the goal plan and the high-impact list judge source files: a test module
is not code to write tests for. A file is a test file when its name matches pytest's
``python_files`` patterns (default ``test_*.py`` and ``*_test.py``), when it is a
``conftest.py``, or when it lies under one of the configured ``testpaths``. The
configuration is found as pytest finds it at the repository root: ``pytest.ini``,
``.pytest.ini``, ``pyproject.toml`` (``[tool.pytest.ini_options]`` or ``[tool.pytest]``),
``tox.ini`` (``[pytest]``), ``setup.cfg`` (``[tool:pytest]``), the first that has one.
"""

from __future__ import annotations

import fnmatch
import shlex
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PYTHON_FILES = ("test_*.py", "*_test.py")


@dataclass(frozen=True)
class SuiteFiles:
    """pytest's ``python_files`` patterns and ``testpaths`` folders (repo-relative)."""

    python_files: tuple[str, ...] = DEFAULT_PYTHON_FILES
    testpaths: tuple[str, ...] = ()
    source: str = "pytest's defaults"

    def __contains__(self, path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        if name == "conftest.py":
            return True
        for pattern in self.python_files:
            if fnmatch.fnmatchcase(path if "/" in pattern else name, pattern):
                return True
        for folder in self.testpaths:
            if path.startswith(folder + "/") or (any(c in folder for c in "*?[")
                                                 and fnmatch.fnmatchcase(path, folder + "/*")):
                return True
        return False


def suite_files(root: Path) -> SuiteFiles:
    """The test-file rules of the project at ``root``; pytest's defaults when no file
    configures pytest or it cannot be read (the test run reports a broken one)."""
    for name, read in (("pytest.ini", _ini("pytest")), (".pytest.ini", _ini("pytest")), ("pyproject.toml", _toml),
                       ("tox.ini", _ini("pytest")), ("setup.cfg", _ini("tool:pytest"))):
        path = root / name
        if not path.is_file():
            continue
        import configparser   # start-up time: only a project with one of these files needs it

        try:
            found = read(path)
        except (OSError, ValueError, configparser.Error):
            found = None
        if found is not None:
            files, paths = found
            return SuiteFiles(python_files=tuple(files) or DEFAULT_PYTHON_FILES,
                             testpaths=tuple(_folder(p) for p in paths if _folder(p)), source=name)
        if name in ("pytest.ini", ".pytest.ini"):
            return SuiteFiles(source=name)   # pytest stops at these, configured or not
    return SuiteFiles()


def _folder(path: str) -> str:
    path = path.replace("\\", "/").strip()
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/")


def _ini(section: str):
    def read(path: Path):
        import configparser

        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"))
        if not parser.has_section(section):
            return None
        values = parser[section]
        return (shlex.split(values.get("python_files", "")), shlex.split(values.get("testpaths", "")))
    return read


def _toml(path: Path):
    try:
        import tomllib
    except ImportError:   # Python 3.10: pytest's defaults
        return None
    doc = tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
    tool = doc.get("tool", {}).get("pytest") if isinstance(doc.get("tool"), dict) else None
    if not isinstance(tool, dict):
        return None
    table = tool.get("ini_options") if isinstance(tool.get("ini_options"), dict) else tool
    return _strings(table.get("python_files")), _strings(table.get("testpaths"))


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []
