"""Cobertura ``coverage.xml`` (coverage.py's XML report and other tools'), parsed with
defusedxml: an untrusted file gets no DTDs and no entities."""

from __future__ import annotations

import re
from pathlib import Path

from bot.inputs.paths import PathMapper
from bot.model.coverage import CoverageSet, FileCoverage
from bot.model.errors import InputError
from bot.model.numbers import MAX_COUNT
from bot.inputs.merge import add_file


_CONDITION = re.compile(r"\((\d+)/(\d+)\)")


def load_xml(path: Path, mapper: PathMapper, root: Path) -> CoverageSet:
    # start-up time: XML parsers load only for an XML file
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException
    from xml.etree.ElementTree import ParseError

    result = CoverageSet()
    sources: list[str] = []
    per_file: dict[str, FileCoverage] = {}
    saw_coverage = False
    try:
        for event, elem in SafeET.iterparse(str(path), events=("start", "end"), forbid_dtd=False):
            if event == "start":
                if elem.tag == "coverage":
                    saw_coverage = True
                continue
            if elem.tag == "source":
                if elem.text and elem.text.strip():
                    sources.append(elem.text.strip())
            elif elem.tag == "class":
                filename = elem.get("filename")
                if filename is None:
                    raise InputError(f"{path}: a <class> element has no filename attribute",
                                     "is this a Cobertura report?")
                rel = _map_xml_path(filename, sources, mapper, result.untracked)
                fc = per_file.get(rel) or FileCoverage(rel, set(), set())
                per_file[rel] = fc
                for line in elem.iter("line"):
                    num, hits, branches = _line(line, path, filename)
                    fc.statements.add(num)
                    if hits == 0:
                        fc.missing.add(num)
                    else:
                        fc.missing.discard(num)
                    if branches is not None:
                        result.has_branches = True
                        fc.branch_lines[num] = branches
                elem.clear()
    except InputError:
        raise
    except DefusedXmlException as exc:
        raise InputError(f"{path} was refused: it declares entities or a DTD ({type(exc).__name__})",
                         "coverage reports never need these; the file may be hostile") from None
    except ParseError as exc:
        raise InputError(f"{path} is not well-formed XML ({exc})",
                         "the file is truncated or damaged; regenerate it with `coverage xml`") from None
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path} has an invalid value ({exc})", "regenerate it with `coverage xml`") from None
    if not saw_coverage:
        raise InputError(f"{path} is XML but not a Cobertura coverage report (no <coverage> element)",
                         "produce it with `coverage xml`")
    for fc in per_file.values():
        fc.branches = sum(t for t, _ in fc.branch_lines.values())
        fc.missing_branches = sum(m for _, m in fc.branch_lines.values())
        add_file(result, fc)
    return result


def _line(line, path: Path, filename: str) -> tuple[int, int, tuple[int, int] | None]:
    """A ``<line>``'s number, hits and ``(branches, missing branches)`` (``None`` without
    branches); an input error naming the file and line when they are impossible."""
    num, hits = int(line.get("number")), int(line.get("hits", "0"))
    where = f"{path}: line {line.get('number')} of {filename!r}"
    if not 0 <= num <= MAX_COUNT or not 0 <= hits:
        raise InputError(f"{where} has an impossible line number or hit count "
                         f"(number={line.get('number')!r}, hits={line.get('hits')!r})",
                         "regenerate the file with `coverage xml`")
    if line.get("branch") != "true":
        return num, hits, None
    m = _CONDITION.search(line.get("condition-coverage", ""))
    if not m:
        return num, hits, None
    covered, total = int(m.group(1)), int(m.group(2))
    if covered > total or total > MAX_COUNT:
        raise InputError(f"{where} has impossible branch counts: {covered} of {total} branches covered",
                         "regenerate the file with `coverage xml`")
    return num, hits, (total, total - covered)


def _map_xml_path(filename: str, sources: list[str], mapper: PathMapper, untracked: set[str]) -> str:
    """The tracked file a ``<class filename>`` is, under one of the ``<source>`` folders
    or as it is; else the name it is counted under (added to ``untracked``)."""
    for src in sources:
        rel = mapper.map(src.rstrip("/\\") + "/" + filename)
        if rel is not None:
            return rel
    if mapper.map(filename) is not None:
        return mapper.map(filename)
    rel, tracked = mapper.place(sources[0].rstrip("/\\") + "/" + filename if sources else filename)
    if tracked:
        return rel
    untracked.add(rel)
    return rel
