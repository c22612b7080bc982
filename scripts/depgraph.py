#!/usr/bin/env python3
"""bot/'s import graph and size limits, read from the source (function-local imports too).

    python scripts/depgraph.py            # this checkout
    python scripts/depgraph.py --rev REV  # the tree of a git revision (e.g. before a change)
    python scripts/depgraph.py --edges    # also every package-to-package edge

Prints the import cycles between modules (strongly connected components), how many
function-local imports there are, the modules over 400 lines and the functions over 80,
the imports of another module's private names, and the number of top-level entries in
bot/. Exits 1 when there is a cycle or a limit is exceeded.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path, PurePosixPath

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def sources(rev: str | None, root: Path) -> dict[str, str]:
    """``{path: text}`` of bot/'s Python files, in the work tree or at ``rev``."""
    if rev is None:
        return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in (root / "bot").rglob("*.py")}
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, "bot/"], cwd=root, check=True,
                           capture_output=True, text=True).stdout.split()
    return {n: subprocess.run(["git", "show", f"{rev}:{n}"], cwd=root, check=True, capture_output=True,
                              text=True).stdout for n in names if n.endswith(".py")}


def module_name(path: str) -> str:
    parts = list(PurePosixPath(path).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(mod: str, is_pkg: bool, tree: ast.AST, known: set[str]):
    """``(target module, name, function-local)`` for each import of a bot module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "bot":
                    yield a.name, None, node.col_offset > 0
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = mod.split(".") if is_pkg else mod.split(".")[:-1]
                pkg = pkg[:len(pkg) - node.level + 1]
                base = ".".join(pkg + ([node.module] if node.module else []))
            if base.split(".")[0] != "bot":
                continue
            for a in node.names:
                sub = f"{base}.{a.name}"
                yield (sub if sub in known else base), a.name, node.col_offset > 0


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def package_of(mod: str) -> str:
    parts = mod.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else mod


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", help="read the tree of this git revision instead of the work tree")
    ap.add_argument("--edges", action="store_true", help="print the package-to-package edges")
    args = ap.parse_args(argv)
    root = Path(__file__).resolve().parents[1]
    files = sources(args.rev, root)
    trees = {module_name(p): (p, ast.parse(text), text) for p, text in files.items()}
    known = set(trees)
    graph: dict[str, set[str]] = defaultdict(set)
    local = 0
    private = []
    for mod, (path, tree, _) in trees.items():
        for target, name, is_local in imports(mod, path.endswith("__init__.py"), tree, known):
            if target != mod and target in known:
                graph[mod].add(target)
            local += is_local
            if name and name.startswith("_") and not name.startswith("__") and target != mod:
                private.append(f"{mod} takes {target}.{name}")
    big_modules = [(p, len(t.splitlines())) for p, _, t in trees.values() if len(t.splitlines()) > MAX_MODULE_LINES]
    long_functions = [(p, n.name, n.end_lineno - n.lineno + 1) for p, tree, _ in trees.values()
                      for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES]
    top = sorted({PurePosixPath(p).parts[1] for p in files} | ({"py.typed"} if (root / "bot/py.typed").exists() else set()))
    found = cycles(graph)

    print(f"bot/ at {args.rev or 'the work tree'}: {len(trees)} modules, {sum(map(len, graph.values()))} imports "
          f"between them, {local} function-local")
    print(f"top-level entries in bot/: {len(top)} ({', '.join(top)})")
    print(f"import cycles: {len(found)}")
    for comp in found:
        print("  " + " ⇄ ".join(comp))
    print(f"modules over {MAX_MODULE_LINES} lines: {len(big_modules)}")
    for p, n in sorted(big_modules):
        print(f"  {p} {n}")
    print(f"functions over {MAX_FUNCTION_LINES} lines: {len(long_functions)}")
    for p, name, n in sorted(long_functions):
        print(f"  {p} {name} {n}")
    print(f"private names taken from another module: {len(private)}")
    for line in sorted(private):
        print(f"  {line}")
    if args.edges:
        edges = sorted({(package_of(a), package_of(b)) for a, bs in graph.items() for b in bs
                        if package_of(a) != package_of(b)})
        print("package edges:")
        for a, b in edges:
            print(f"  {a} -> {b}")
    return 1 if found or big_modules or long_functions or private else 0


if __name__ == "__main__":
    raise SystemExit(main())
