"""Which tests ran each line: coverage.py's dynamic contexts as pytest node ids.

covbot's pytest plugin records each test's setup, call and teardown under the test's
node id (``tests/test_calc.py::test_add``); pytest-cov's ``--cov-context=test`` records
``<node id>|setup``, ``|run`` and ``|teardown``: :func:`test_id` maps both to the node
id. A reader is asked per file (:meth:`TestContexts.by_line`), so only the files a
caller looks into (the changed ones) are read.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

#: The phases pytest-cov appends to a node id.
_PHASES = ("|run", "|setup", "|teardown")


def test_id(context: str) -> str | None:
    """The pytest node id of a recorded context, or None for the empty context (code run
    outside any test: imports during collection) and for contexts that are no node id
    (coverage.py's own ``test_function`` names a function, ``pkg.tests.test_x.test_a``)."""
    if not context:
        return None
    for phase in _PHASES:
        if context.endswith(phase):
            context = context[: -len(phase)]
            break
    return context if "::" in context else None


def node_ids(contexts) -> list[str]:
    """The node ids of ``contexts``, each once, sorted."""
    return sorted({t for t in map(test_id, contexts) if t})


class TestContexts(ABC):
    """The tests that ran each line of a measured file."""

    @abstractmethod
    def by_line(self, path: str) -> dict[int, list[str]] | None:
        """Line number → node ids (sorted) of the tests that ran it, for the repository
        file ``path``; None when the data has no contexts for that file."""


class MergedContexts(TestContexts):
    """Several readers as one: a line ran under a test when any reader says so."""

    def __init__(self, parts: list[TestContexts]):
        self.parts = parts

    def by_line(self, path: str) -> dict[int, list[str]] | None:
        found = [m for m in (p.by_line(path) for p in self.parts) if m is not None]
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        merged: dict[int, set[str]] = {}
        for m in found:
            for line, ids in m.items():
                merged.setdefault(line, set()).update(ids)
        return {line: sorted(ids) for line, ids in merged.items()}


def merge_contexts(parts: list[TestContexts | None]) -> TestContexts | None:
    """One reader for the parts that have contexts, or None when none has."""
    present = [p for p in parts if p is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else MergedContexts(present)
