"""The floor: the least work any diff-coverage tool does on a workload.

One ``git diff`` of the PR against its merge-base, and reading the coverage data
(coverage.json, decoding only the fields a diff needs when msgspec is available,
``json.load`` otherwise). Run as ``python benchmarks/floor.py REPO BASE COVERAGE_JSON``.
"""

from __future__ import annotations

import subprocess
import sys


def main(repo: str, base: str, coverage_json: str) -> int:
    diff = subprocess.run(["git", "diff", "--no-color", "--no-ext-diff", "-U0", "-M", f"{base}...HEAD"],
                          cwd=repo, stdout=subprocess.PIPE, check=True).stdout
    with open(coverage_json, "rb") as fh:
        raw = fh.read()
    try:
        import msgspec
    except ImportError:
        import json

        files = json.loads(raw)["files"]
    else:
        file = msgspec.defstruct("File", [("executed_lines", list[int]), ("missing_lines", list[int])])
        doc = msgspec.defstruct("Doc", [("files", dict[str, file])])
        files = msgspec.json.decode(raw, type=doc).files
    print(len(diff), len(files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:4]))
