"""A small sample PR: one module whose base has ``f()``; the PR adds ``g()`` (tested,
one branch missed) and ``h()`` (never called), and a test for ``g()``."""

from __future__ import annotations

from support.repo_factory import SAMPLE_PYPROJECT, Repo

BASE = {
    "pyproject.toml": SAMPLE_PYPROJECT,
    "src/pkg/__init__.py": "",
    "src/pkg/mod.py": '''
        def f(x):
            if x:
                return 1
            return 0
    ''',
    "tests/test_mod.py": '''
        from pkg.mod import f


        def test_f():
            assert f(1) == 1
    ''',
}
PR_MOD = '''
    def f(x):
        if x:
            return 1
        return 0


    def g(x):
        if x > 1:
            return "big"
        return "small"


    def h():
        return "never called"
'''
PR_TEST = '''
    from pkg.mod import f, g


    def test_f():
        assert f(1) == 1


    def test_g():
        assert g(2) == "big"
'''


def make_pr(path) -> Repo:
    repo = Repo.create(path, BASE)
    repo.checkout("pr", new=True)
    repo.commit({"src/pkg/mod.py": PR_MOD, "tests/test_mod.py": PR_TEST}, "PR")
    return repo
