"""Render the demo's PR comment as GitHub shows it and take screenshots of it.

Builds the demo project (examples/demo/build_demo.py), runs ``covbot report`` on its PR
branch, renders comment.md with cmark-gfm (GitHub's renderer, GitHub's extensions) into
a page with GitHub-like styles, and takes headless-Chromium screenshots: collapsed (as a
reviewer first sees it) and with every section expanded.

    .venv/bin/python scripts/comment_screenshot.py [OUT_DIR]   # default docs/

writes OUT_DIR/comment.png and OUT_DIR/comment-expanded.png. Needs cmarkgfm and
Debian's ``chromium``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cmarkgfm

ROOT = Path(__file__).resolve().parent.parent
STYLE = """
body { font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328;
       margin: 0; padding: 16px; background: #fff; }
.comment { max-width: 860px; border: 1px solid #d0d7de; border-radius: 6px; padding: 16px 24px; }
table { border-collapse: collapse; margin: 8px 0; } th, td { border: 1px solid #d0d7de; padding: 4px 10px; }
code { background: #eff1f3; border-radius: 4px; padding: 1px 4px; font-size: 85%; }
pre { background: #f6f8fa; padding: 12px; border-radius: 6px; overflow: auto; }
summary { cursor: pointer; } details { margin: 6px 0; } a { color: #0969da; text-decoration: none; }
"""
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def demo_comment(work: Path) -> str:
    demo = work / "demo-shop"
    subprocess.run([sys.executable, str(ROOT / "examples/demo/build_demo.py"), str(demo)], check=True,
                   stdout=subprocess.DEVNULL)
    out = work / "out"
    # the demo's test command is `pytest`: this interpreter's, which has coverage
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    proc = subprocess.run([sys.executable, "-m", "bot", "report", "--base", "main", "--baseline", "rerun",
                           "--output-dir", str(out)], cwd=demo, env=env, stdout=subprocess.DEVNULL)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"covbot report exited {proc.returncode}")
    return (out / "comment.md").read_text(encoding="utf-8")


def page(comment: str, *, expanded: bool) -> str:
    body = cmarkgfm.github_flavored_markdown_to_html(comment, options=cmarkgfm.Options.CMARK_OPT_UNSAFE)
    if expanded:
        body = re.sub(r"<details>", "<details open>", body)
    return f"<!doctype html><meta charset=utf-8><style>{STYLE}</style><div class=comment>{body}</div>"


def shoot(html_file: Path, png: Path, height: int) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("headless Chromium is not installed (Debian package `chromium`)")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
                        f"--window-size=900,{height}", html_file.as_uri()], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0]) if argv else ROOT / "docs"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        comment = demo_comment(work)
        for name, expanded, height in (("comment.png", False, 700), ("comment-expanded.png", True, 2600)):
            html_file = work / name.replace(".png", ".html")
            html_file.write_text(page(comment, expanded=expanded), encoding="utf-8")
            shoot(html_file, (out_dir / name).resolve(), height)
            print(out_dir / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
