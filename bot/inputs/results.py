"""Test results as plain data: one :class:`TestResult` per test, and :class:`Results`,
which keeps the plain passes (passed at their one attempt, nothing recorded: most of
a suite) as three columns instead of thousands of objects, and crosses a process
boundary as three strings (:func:`pack_results`)."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field, fields


@dataclass(slots=True)
class TestResult:
    """One test's result: outcome, failure details and the outcome of each attempt."""

    __test__ = False             # a data class, not a pytest test class
    id: str                      # pytest node id when known, else classname::name
    outcome: str                 # passed | failed | error | skipped
    file: str | None = None
    message: str = ""
    text: str = ""               # traceback / longrepr
    exc_type: str | None = None
    when: str = "call"           # collect | setup | call | teardown
    entries: list = field(default_factory=list)   # [[path, lineno, msg], ...] innermost last
    crash: dict | None = None
    attempts: list[str] = field(default_factory=list)   # outcomes of each attempt, in order
    duration: float = 0.0
    rerun_by: str | None = None  # what retried it: "pytest-rerunfailures" or "covbot's rerun pass"

    @property
    def flaky(self) -> bool:
        attempts = self.attempts
        return self.outcome == "passed" and ("failed" in attempts or "error" in attempts)


def _is_plain(r: TestResult) -> bool:
    """Passed at its one attempt with nothing recorded: most tests of a suite."""
    return (r.outcome == "passed" and r.attempts == ["passed"] and not r.message and not r.text
            and r.exc_type is None and r.when == "call" and not r.entries and r.crash is None
            and r.rerun_by is None)


class Results:
    """The results of a test run, in the order they were read.

    A large suite is mostly plain passes (passed at the one attempt, nothing recorded):
    those are kept as three columns, ids, files and durations, not as 20,000 objects.
    Every other result is a :class:`TestResult`. Iterating or indexing gives a
    TestResult for each (made once, on first use; changes made to them stick);
    :meth:`notable`, :meth:`plain_count`, :meth:`plain_ids` and :meth:`pack` serve the
    hot paths without making any.
    """

    __slots__ = ("_ids", "_files", "_durations", "_others", "_items", "_packed")

    def __init__(self, items=()):
        self._ids: list[str] = []
        self._files: list[str | None] = []
        self._durations: list[float] = []
        self._others: list[tuple[int, TestResult]] = []   # (position, result)
        self._items: list[TestResult] | None = None
        self._packed: tuple | None = None   # the columns as received from pack(), not split yet
        for r in items:
            self.append(r)

    def _columns(self) -> None:
        """Split the columns received from :meth:`pack` (on first need only)."""
        if self._packed is None:
            return
        count, ids, files, durations = self._packed
        self._packed = None
        if count:
            self._ids = ids.split("\0")
            self._files = [f or None for f in files.split("\0")]
            self._durations = ([float(t or 0) for t in durations.split("\0")] if isinstance(durations, str)
                               else array("d", durations).tolist())

    def add_plain(self, id: str, file: str | None, duration: float) -> None:
        if self._items is not None:
            self._items.append(TestResult(id, "passed", file, duration=duration, attempts=["passed"]))
            return
        self._columns()
        self._ids.append(id)
        self._files.append(file)
        self._durations.append(duration)

    def append(self, r: TestResult) -> None:
        if self._items is not None:
            self._items.append(r)
        elif _is_plain(r):
            self.add_plain(r.id, r.file, r.duration)
        else:
            self._columns()
            self._others.append((len(self._ids) + len(self._others), r))

    def items(self) -> list[TestResult]:
        """Every result as a TestResult, in order (from now on kept as objects)."""
        if self._items is None:
            self._columns()
            plain = iter([TestResult(i, "passed", f, duration=d, attempts=["passed"])
                          for i, f, d in zip(self._ids, self._files, self._durations)])
            out: list[TestResult] = []
            for pos, r in self._others:
                out.extend(next(plain) for _ in range(pos - len(out)))
                out.append(r)
            out.extend(plain)
            self._items = out
            self._ids, self._files, self._durations, self._others = [], [], [], []
        return self._items

    def notable(self) -> list[TestResult]:
        """The results that are not plain passes (failed, errors, skipped, reruns), in order."""
        if self._items is None:
            return [r for _, r in self._others]
        return [r for r in self._items if not _is_plain(r)]

    def plain_count(self) -> int:
        if self._packed is not None:
            return self._packed[0]
        return len(self.plain_ids())

    def plain_ids(self) -> list[str]:
        if self._items is None:
            self._columns()
            return self._ids
        return [r.id for r in self._items if _is_plain(r)]

    def ids(self) -> list[str]:
        if self._items is None:
            self._columns()
            return self._ids + [r.id for _, r in self._others]
        return [r.id for r in self._items]

    def __len__(self) -> int:
        if self._items is not None:
            return len(self._items)
        return self.plain_count() + len(self._others)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self):
        return iter(self.items())

    def __getitem__(self, index):
        return self.items()[index]

    def __eq__(self, other) -> bool:
        if isinstance(other, Results):
            other = other.items()
        return isinstance(other, list) and self.items() == other

    __hash__ = None

    def __repr__(self) -> str:
        return f"<Results: {len(self)} tests, {len(self.notable())} not plain passes>"

    def pack(self) -> tuple:
        """A form that pickles and unpickles fast (for :mod:`bot.runs.prefetch`): each column
        as one string (ids and files joined with NUL, which XML cannot contain) or one
        array of doubles, and the other results as tuples of every field with their
        positions."""
        if self._items is not None:
            return Results(self._items).pack()
        others = [(pos, tuple(getattr(r, n) for n in _FIELDS)) for pos, r in self._others]
        if self._packed is not None:
            return ("columns", self._packed, others)
        n = len(self._ids)
        ids = "\0".join(self._ids)
        files = "\0".join(f or "" for f in self._files)
        if n and (ids.count("\0") != n - 1 or files.count("\0") != n - 1):
            return ("lists", (self._ids, self._files, self._durations), others)   # a NUL in a name
        return ("columns", (n, ids, files, array("d", self._durations).tobytes()), others)

    @classmethod
    def from_packed(cls, count: int, ids: str, files: str, durations: "bytes | str",
                    others: list[tuple[int, TestResult]]) -> "Results":
        """Results of ``count`` plain passes given as :meth:`pack` gives them (split only
        when used) and other results with their positions among all of them, in order.
        ``durations`` may also be the durations' decimal spellings, NUL-joined."""
        out = cls()
        out._packed = (count, ids, files, durations)
        out._others = list(others)
        return out

    def has_duplicate_ids(self) -> bool:
        """Whether two results have the same id (the columns stay as they are)."""
        if self._packed is not None:
            count, ids, _, _ = self._packed
            plain = ids.split("\0") if count else []
        else:
            plain = self._ids if self._items is None else []
        rest = [r.id for _, r in self._others] if self._items is None else [r.id for r in self._items]
        return len(set(plain).union(rest)) != len(plain) + len(rest)

    @classmethod
    def of(cls, results: "Results | list[TestResult]") -> "Results":
        """``results`` as Results (a list of TestResults is wrapped; its objects are shared)."""
        return results if isinstance(results, Results) else cls(results)

    @classmethod
    def unpack(cls, packed: tuple) -> "Results":
        out = cls()
        form, columns, others = packed
        if form == "columns":
            out._packed = columns
        else:
            out._ids, out._files, out._durations = columns
        out._others = [(pos, TestResult(*values)) for pos, values in others]
        return out

    @classmethod
    def concat(cls, parts: list["Results"]) -> "Results":
        """The results of several runs with no test in common, one after the other."""
        out = cls()
        for part in parts:
            if part._items is not None:
                for r in part._items:
                    out.append(r)
                continue
            part._columns()
            base = len(out._ids) + len(out._others)
            out._ids += part._ids
            out._files += part._files
            out._durations += part._durations
            out._others += [(base + pos, r) for pos, r in part._others]
        return out


_FIELDS = tuple(f.name for f in fields(TestResult))


def pack_results(results: Results) -> tuple:
    """``results`` in a form that pickles fast (for :mod:`bot.runs.prefetch`)."""
    return results.pack()


def unpack_results(packed: tuple) -> Results:
    """The inverse of :func:`pack_results`."""
    return Results.unpack(packed)
