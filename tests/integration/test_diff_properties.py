"""Property tests (Hypothesis) for the diff parser.

They run real ``git diff`` on generated file pairs: old lines and inserted lines are all
distinct, so the lines git reports as added are exactly the inserted ones, whatever diff
algorithm it uses.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.runs.changes import changed_lines
from bot.runs.git import Git
from support.repo_factory import Repo

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

NAME_CHARS = st.sampled_from(list("abcXYZ019 _-.`|<>@\t\"'\\#$%&()[]{}~éü名ß"))
FILE_NAMES = st.text(NAME_CHARS, min_size=1, max_size=12).filter(
    lambda n: n not in (".", "..") and not n.startswith("-") and n.strip() == n and n.lower() != ".git")


@pytest.fixture(scope="module")
def scratch_repo():
    path = Path(tempfile.mkdtemp(prefix="covbot-prop-"))
    repo = Repo.create(path / "r", {"seed": "seed\n"})
    yield repo
    shutil.rmtree(path, ignore_errors=True)


@st.composite
def edits(draw):
    """(old lines, new lines, 1-based numbers of the inserted lines in new)."""
    n_old = draw(st.integers(0, 25))
    old = [f"old line {i}" for i in range(n_old)]
    keep = [line for line in old if draw(st.booleans()) or draw(st.booleans())]   # ~75% kept
    new: list[tuple[str, bool]] = [(line, False) for line in keep]
    for j in range(draw(st.integers(0, 12))):
        pos = draw(st.integers(0, len(new)))
        new.insert(pos, (f"inserted line {j}", True))
    added = {i + 1 for i, (_text, inserted) in enumerate(new) if inserted}
    return old, [text for text, _ in new], added


def _eol_changes(old: list[str], new: list[str]) -> set[int]:
    """Without a final newline, a kept line that gains or loses the end of the file changed."""
    changed = set()
    for i, text in enumerate(new):
        if text in old:
            was_last = old.index(text) == len(old) - 1
            if was_last != (i == len(new) - 1):
                changed.add(i + 1)
    return changed


def _content(lines: list[str], eol: bool) -> str:
    text = "\n".join(lines)
    return text + "\n" if lines and eol else text


@SETTINGS
@given(edit=edits(), name=FILE_NAMES, eol=st.booleans())
def test_parsed_added_lines_equal_the_inserted_lines(scratch_repo, edit, name, eol):
    old, new, added = edit
    repo = scratch_repo
    if not eol:
        added = added | _eol_changes(old, new)
    for child in repo.path.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    (repo.path / name).write_text(_content(old, eol), encoding="utf-8")
    base = repo.commit(message="old")   # earlier examples' files go in the same commit
    (repo.path / name).write_text(_content(new, eol), encoding="utf-8")
    repo.commit(message="new")
    diff = changed_lines(Git(repo.path), base, "HEAD")
    if not added:
        assert name not in diff.files or diff.files[name].added_lines == set()
    else:
        assert list(diff.files) == [name]
        assert diff.files[name].added_lines == added
    assert diff.num_changed_lines == len(added)
