"""A sample PR with the hard cases of diff coverage at once.

A project on ``main`` (branchy functions, an ``omit``-ted file, an unimported file) and a
PR on ``pr`` with branch coverage, a new file, a rename with edits (only its edited
lines count), a rename without edits, a deleted file and changed lines that are not
executable (a comment, a docstring line).
"""

from __future__ import annotations

from support.repo_factory import SAMPLE_PYPROJECT, Repo

BASE_FILES = {
    "pyproject.toml": SAMPLE_PYPROJECT,
    "src/pkg/__init__.py": "",
    "src/pkg/calc.py": '''
        """Arithmetic with a few branches."""


        def add(a, b):
            return a + b


        def sign(x):
            if x > 0:
                return 1
            elif x < 0:
                return -1
            return 0


        def clamp(x, lo, hi):
            if x < lo:
                return lo
            if x > hi:
                return hi
            return x
    ''',
    "src/pkg/textutil.py": '''
        def shout(s):
            return s.upper() + "!"


        def whisper(s):
            if not s:
                return ""
            return s.lower() + "..."


        def title(s):
            words = s.split()
            out = []
            for w in words:
                out.append(w[:1].upper() + w[1:])
            return " ".join(out)


        def nothing():
            return None
    ''',
    "src/pkg/stable.py": '''
        def one():
            return 1


        def two():
            return 2


        def three():
            return 3


        def four():
            return 4
    ''',
    "src/pkg/gone.py": '''
        def legacy(x):
            if x:
                return "yes"
            return "no"
    ''',
    "src/pkg/generated.py": '''
        TABLE = {"a": 1}


        def lookup(k):
            return TABLE.get(k)
    ''',
    "src/pkg/unused.py": '''
        def never_imported():
            return 42
    ''',
    "tests/test_calc.py": '''
        from pkg.calc import add, clamp, sign
        from pkg.gone import legacy
        from pkg.stable import one, two


        def test_add():
            assert add(1, 2) == 3


        def test_sign():
            assert sign(5) == 1
            assert sign(0) == 0


        def test_clamp():
            assert clamp(5, 0, 10) == 5


        def test_legacy_and_stable():
            assert legacy(1) == "yes"
            assert one() + two() == 3
    ''',
    "tests/test_text.py": '''
        from pkg.textutil import shout, title


        def test_shout():
            assert shout("a") == "A!"


        def test_title():
            assert title("ab cd") == "Ab Cd"
    ''',
}

PR_CHANGES = {
    # modified: a new branchy function (partly covered), a comment and a docstring line
    "src/pkg/calc.py": '''
        """Arithmetic with a few branches.

        The PR adds a docstring line and a comment: not executable.
        """


        def add(a, b):
            # plain addition
            return a + b


        def sign(x):
            if x > 0:
                return 1
            elif x < 0:
                return -1
            return 0


        def clamp(x, lo, hi):
            if x < lo:
                return lo
            if x > hi:
                return hi
            return x


        def bucket(x):
            if x < 10:
                return "small"
            if x < 100:
                return "medium"
            if x < 1000:
                return "large"
            return "huge"
    ''',
    # new file, partly tested
    "src/pkg/newmod.py": '''
        def double(x):
            return 2 * x


        def parity(x):
            if x % 2:
                return "odd"
            return "even"


        def unused_new(x):
            total = 0
            for i in range(x):
                total += i
            return total
    ''',
    # deleted file, and its test goes with it
    "src/pkg/gone.py": None,
    # the omitted file changes: its lines must not count
    "src/pkg/generated.py": '''
        TABLE = {"a": 1, "b": 2}


        def lookup(k):
            return TABLE.get(k)


        def lookup_default(k, default=None):
            return TABLE.get(k, default)
    ''',
    "tests/test_calc.py": '''
        from pkg.calc import add, bucket, clamp, sign
        from pkg.stable import one, two


        def test_add():
            assert add(1, 2) == 3


        def test_sign():
            assert sign(5) == 1
            assert sign(0) == 0


        def test_clamp():
            assert clamp(5, 0, 10) == 5


        def test_bucket():
            assert bucket(5) == "small"
            assert bucket(50) == "medium"


        def test_stable():
            assert one() + two() == 3
    ''',
    "tests/test_new.py": '''
        from pkg.newmod import double, parity


        def test_double():
            assert double(2) == 4


        def test_parity():
            assert parity(3) == "odd"
    ''',
}

# textutil.py → words.py with edits in two functions; stable.py → constants.py unchanged
RENAMED_WITH_EDITS = '''
    def shout(s):
        return s.upper() + "!!"


    def whisper(s):
        if not s:
            return ""
        return s.lower() + "..."


    def title(s):
        words = s.split()
        out = []
        for w in words:
            out.append(w[:1].upper() + w[1:])
        return " ".join(out)


    def nothing():
        return False
'''


def build_sample(path, extra_base: dict | None = None) -> Repo:
    repo = Repo.create(path, {**BASE_FILES, **(extra_base or {})})
    repo.checkout("pr", new=True)
    repo.move("src/pkg/textutil.py", "src/pkg/words.py")
    repo.move("src/pkg/stable.py", "src/pkg/constants.py")
    repo.write({"src/pkg/words.py": RENAMED_WITH_EDITS})
    changes = dict(PR_CHANGES)
    changes["tests/test_text.py"] = BASE_FILES["tests/test_text.py"].replace("pkg.textutil", "pkg.words")
    changes["tests/test_calc.py"] = changes["tests/test_calc.py"].replace("pkg.stable", "pkg.constants")
    repo.commit(changes, "PR: bucket, newmod, renames, deletion")
    return repo
