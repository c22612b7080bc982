"""coverage.py's own HTML report (``coverage html``) of a run's data files, for the
dashboard on the data branch: the measured paths mapped onto the checkout as covbot
maps them, the project's coverage configuration honoured.

Only coverage.py data files can make one (coverage.json and Cobertura XML hold no
source); then there is no report, and the dashboard's file names are not links.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path

from bot.inputs.coverage import sniff
from bot.inputs.paths import PathMapper
from bot.model.errors import CovbotError

#: Where the report goes on the data branch, next to index.html.
HTML_DIR = "html"


def coverage_html(data_files: list[Path], *, root: Path, tracked: list[str],
                  title: str) -> tuple[dict[str, bytes] | None, str | None]:
    """``(the report's files as {relative path: bytes}, None)``, or ``(None, why not)``
    when the inputs are not data files or coverage.py cannot report them: the dashboard
    then goes without, and the save says why."""
    paths = [Path(p) for p in data_files]
    try:
        if not paths or any(sniff(p) != "data" for p in paths):
            return None, "the coverage input is not a coverage.py data file (.coverage)"
    except CovbotError as exc:
        return None, exc.message
    import coverage   # start-up time: only a save with data files needs coverage.py's API

    root = Path(os.path.realpath(root))
    mapper = PathMapper(root, tracked)
    old = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="covbot-html-") as tmp:
        try:
            os.chdir(root)
            relative = bool(coverage.Coverage().config.relative_files)

            def map_path(recorded: str) -> str:
                rel = mapper.map(recorded)
                if rel is None:
                    return recorded
                return rel if relative else str(root / rel)

            combined = coverage.CoverageData(basename=os.path.join(tmp, "combined"))
            for p in paths:
                part = coverage.CoverageData(basename=str(p))
                part.read()
                combined.update(part, map_path=map_path)
            combined.write()
            out = Path(tmp) / "html"
            cov = coverage.Coverage(data_file=os.path.join(tmp, "combined"))
            cov.load()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cov.html_report(directory=str(out), ignore_errors=True, title=title)
        except Exception as exc:   # noqa: BLE001 - coverage.py's errors: the dashboard goes without
            return None, f"coverage html failed: {type(exc).__name__}: {exc}"
        finally:
            os.chdir(old)
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
                and p.name != ".gitignore"}, None


def pages_of(status_json: bytes | None) -> dict[str, str]:
    """File path → its page in the report, from the report's ``status.json`` (``""`` is
    the index). coverage.py calls that file an implementation detail: when its layout
    is not the one known here, the dashboard simply has no file links."""
    if not status_json:
        return {}
    try:
        doc = json.loads(status_json)
        pages = {"": f"{HTML_DIR}/index.html"}
        for item in doc["files"].values():
            index = item["index"]
            url, path = index["url"], index["file"]
            if isinstance(url, str) and isinstance(path, str) and "/" not in url and url.endswith(".html"):
                pages[path.replace(os.sep, "/")] = f"{HTML_DIR}/{url}"
        return pages
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}
