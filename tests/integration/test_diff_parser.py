"""The diff parser on real ``git diff`` output: names, renames, deletions, binary files."""

from __future__ import annotations

import pytest

from bot.inputs.git_diff import parse_diff, unquote_path
from bot.runs.changes import changed_lines
from bot.runs.git import Git
from support.repo_factory import Repo, run

ODD_NAMES = [
    "with space.py",
    "ünïcödé_名前.py",
    "back`tick`.py",
    "pi|pe.py",
    "less<greater>.py",
    "at@team.py",
    "tab\there.py",
    'dou"ble.py',
    "back\\slash.py",
    "sp b/ace.py",             # " b/" inside a name
    "dir with space/in ner.py",
    "-dash.py",
]


def _diff(repo: Repo, base: str = "main"):
    return changed_lines(Git(repo.path), repo.sha(base))


@pytest.fixture()
def repo(tmp_path):
    return Repo.create(tmp_path / "r", {"keep.py": "x = 1\n"})


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_names_of_new_files(repo, name):
    repo.commit({name: "a = 1\nb = 2\n"}, "add")
    diff = _diff(repo, "HEAD~1")
    assert list(diff.files) == [name]
    assert diff.files[name].status == "added" and diff.files[name].added_lines == {1, 2}


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_names_of_modified_renamed_and_deleted_files(repo, name):
    body = "".join(f"line_{i} = {i}\n" for i in range(1, 21))
    repo.commit({name: body, "gone " + name.replace("/", "_"): "z = 0\n"}, "base")
    base = repo.sha()
    repo.write({name: body.replace("line_5 = 5", "line_5 = 55")})
    repo.commit({"gone " + name.replace("/", "_"): None}, "edit and delete")
    diff = changed_lines(Git(repo.path), base)
    assert diff.files[name].added_lines == {5} and diff.files[name].status == "modified"
    assert diff.deleted == ["gone " + name.replace("/", "_")]
    # renamed with one edit: only the edited line counts
    repo.move(name, "renamed " + name.replace("/", "_"))
    new = "renamed " + name.replace("/", "_")
    repo.commit({new: (repo.path / new).read_text().replace("line_9 = 9", "line_9 = 99")}, "rename")
    diff = changed_lines(Git(repo.path), repo.sha("HEAD~1"))
    assert list(diff.files) == [new]
    assert diff.files[new].status == "renamed" and diff.files[new].old_path == name
    assert diff.files[new].added_lines == {9}
    assert diff.renames == {new: name}


def test_pure_rename_contributes_no_lines(repo):
    repo.commit({"a.py": "".join(f"v{i} = {i}\n" for i in range(10))}, "a")
    repo.move("a.py", "pkg dir/b`|<@.py")
    repo.commit(message="move")
    diff = _diff(repo, "HEAD~1")
    f = diff.files["pkg dir/b`|<@.py"]
    assert f.status == "renamed" and f.old_path == "a.py" and f.added_lines == set()
    assert diff.num_changed_lines == 0


def test_binary_files_contribute_no_lines(repo):
    repo.commit({"img one.png": b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256))}, "binary")
    diff = _diff(repo, "HEAD~1")
    assert diff.files["img one.png"].binary and diff.files["img one.png"].added_lines == set()
    repo.commit({"img one.png": b"\x00\x01changed" + bytes(range(200))}, "binary edit")
    diff = _diff(repo, "HEAD~1")
    assert diff.files["img one.png"].added_lines == set()
    repo.commit({"img one.png": None}, "binary delete")
    assert _diff(repo, "HEAD~1").deleted == ["img one.png"]


def test_submodules_contribute_no_lines(repo, tmp_path):
    sub = Repo.create(tmp_path / "sub", {"s.py": "s = 1\n"})
    base = repo.sha()
    run(["git", "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.path), "vendor/sub"],
        repo.path)
    repo.commit({"keep.py": "x = 1\ny = 2\n"}, "add a submodule")
    diff = changed_lines(Git(repo.path), base)
    assert "vendor/sub" not in diff.files
    assert diff.files["keep.py"].added_lines == {2}
    assert diff.files[".gitmodules"].added_lines  # a text file like any other


def test_deleted_lines_that_look_like_headers(repo):
    """Removed content "-- a/x" shows as "--- a/x" in the diff: it is not a file header."""
    body = "x = 1\n-- a/evil.py\n+++ b/evil.py\ndiff --git a/evil.py b/evil.py\n@@ -1 +1 @@\ny = 2\n"
    repo.commit({"notes.txt": body, "doomed.txt": "-- a/other.txt\n+++ b/other.txt\n"}, "base")
    base = repo.sha()
    repo.commit({"notes.txt": "x = 1\ny = 2\nz = 3\n", "doomed.txt": None}, "edit")
    diff = changed_lines(Git(repo.path), base)
    assert sorted(diff.files) == ["notes.txt"]
    assert diff.files["notes.txt"].added_lines == {3}
    assert diff.deleted == ["doomed.txt"]


def test_added_lines_that_look_like_headers(repo):
    body = "".join(["x = 1\n", "++ b/evil.py\n", "-- a/evil.py\n", "@@ -1 +1 @@\n", "diff --git a b\n"])
    repo.commit({"notes.txt": body}, "add")
    diff = _diff(repo, "HEAD~1")
    assert sorted(diff.files) == ["notes.txt"]
    assert diff.files["notes.txt"].added_lines == {1, 2, 3, 4, 5}


def test_no_newline_at_end_and_mode_change(repo):
    repo.commit({"a.py": "a = 1\nb = 2"}, "no eol")
    base = repo.sha()
    (repo.path / "a.py").write_text("a = 1\nb = 3")
    (repo.path / "keep.py").chmod(0o755)
    repo.commit(message="edit and chmod")
    diff = changed_lines(Git(repo.path), base)
    assert diff.files["a.py"].added_lines == {2}
    assert diff.files.get("keep.py") is None or diff.files["keep.py"].added_lines == set()


def test_working_tree_changes_are_included_untracked_are_not(repo):
    base = repo.sha()
    (repo.path / "keep.py").write_text("x = 1\ny = 2\n")
    (repo.path / "untracked.py").write_text("u = 1\n")
    diff = changed_lines(Git(repo.path), base)
    assert sorted(diff.files) == ["keep.py"] and diff.files["keep.py"].added_lines == {2}


def test_hunk_arithmetic_for_many_hunks(repo):
    old = [f"line {i}" for i in range(1, 101)]
    repo.commit({"big.txt": "\n".join(old) + "\n"}, "base")
    new = list(old)
    new[9] = "changed 10"                       # line 10 modified
    new.insert(50, "inserted")                  # new line 51
    del new[80:83]                              # deletion only
    new.append("tail 1")
    new.append("tail 2")
    repo.commit({"big.txt": "\n".join(new) + "\n"}, "edit")
    diff = _diff(repo, "HEAD~1")
    expected = {i + 1 for i, text in enumerate(new) if not text.startswith("line ")}
    assert diff.files["big.txt"].added_lines == expected


@pytest.mark.parametrize("quoted, plain", [
    ('"a\\tb.py"', "a\tb.py"),
    ('"q\\"uote.py"', 'q"uote.py'),
    ('"back\\\\slash.py"', "back\\slash.py"),
    ('"\\303\\274ber.py"', "über.py"),
    ('"nl\\nname.py"', "nl\nname.py"),
    ("plain name.py", "plain name.py"),
])
def test_unquote_path(quoted, plain):
    assert unquote_path(quoted) == plain


def test_parse_diff_of_quoted_octal_names():
    """git with core.quotePath=true (its default) quotes non-ASCII bytes as octal."""
    text = ('diff --git "a/\\303\\274ber.py" "b/\\303\\274ber.py"\n'
            "new file mode 100644\nindex 0000000..e69de29\n--- /dev/null\n"
            '+++ "b/\\303\\274ber.py"\n@@ -0,0 +1,2 @@\n+a\n+b\n')
    diff = parse_diff(text)
    assert list(diff.files) == ["über.py"] and diff.files["über.py"].added_lines == {1, 2}


def test_non_utf8_name_survives(repo):
    name = b"latin1-\xe9.py".decode("utf-8", "surrogateescape")
    (repo.path / name).write_text("a = 1\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "non-utf8 name")
    diff = _diff(repo, "HEAD~1")
    assert list(diff.files) == [name] and diff.files[name].added_lines == {1}
    assert name in Git(repo.path).tracked_files()
