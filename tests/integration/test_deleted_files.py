"""The comment names the files a PR deletes (a handful inline, the rest collapsed),
the same files ``git diff --diff-filter=D`` lists, instead of only counting them."""

from __future__ import annotations

from support.markdown_check import check_inert
from support.repo_factory import SAMPLE_PYPROJECT, Repo

GONE = [f"src/pkg/legacy_{i}.py" for i in range(8)]


def test_deleted_files_are_named_in_the_comment(tmp_path):
    repo = Repo.create(tmp_path / "proj", {
        "pyproject.toml": SAMPLE_PYPROJECT,
        "src/pkg/__init__.py": "",
        "src/pkg/calc.py": "def add(a, b):\n    return a + b\n",
        "tests/test_calc.py": "from pkg.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
        **{p: f"def f{i}():\n    return {i}\n" for i, p in enumerate(GONE)},
    })
    repo.checkout("pr", new=True)
    repo.commit({"src/pkg/calc.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
                 **{p: None for p in GONE}}, "remove the legacy modules")
    deleted = repo.git("diff", "--name-only", "--diff-filter=D", "main", "HEAD").split()
    assert sorted(deleted) == sorted(GONE)
    repo.coverage_run_pytest()
    report = repo.covbot_report("--no-run", "--coverage-file", ".coverage", "--base", "main", "--baseline", "none")
    assert report["deleted_files"] == sorted(deleted)
    comment = (repo.path / ".covbot-test-out" / "comment.md").read_text(encoding="utf-8")
    check_inert(comment)
    inline = next(ln for ln in comment.splitlines() if "file(s) deleted" in ln)
    assert inline.startswith(f"_{len(deleted)} file(s) deleted:_ ")
    first = sorted(deleted)[:5]
    assert [p for p in sorted(deleted) if f"`{p}`" in inline] == first
    collapsed = comment.split("more deleted file(s)</summary>", 1)[1].split("</details>", 1)[0]
    assert [ln for ln in collapsed.splitlines() if ln.startswith("- ")] == [f"- `{p}`" for p in sorted(deleted)[5:]]
