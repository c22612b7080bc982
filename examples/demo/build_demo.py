"""Build the demo's git history: `main` with the shop, and a PR branch on top of it that
adds partly tested code (discounts), changes the cart and breaks a test.

    python examples/demo/build_demo.py DEST

DEST becomes a git repository with branches `main` and `pr` (checked out).
"""

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def git(dest: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=dest, check=True,
                   stdout=subprocess.DEVNULL)


def main(dest: str) -> None:
    dest_path = Path(dest)
    if dest_path.exists():
        shutil.rmtree(dest_path)
    shutil.copytree(HERE / "base", dest_path, copy_function=shutil.copy)   # mtime now: git sees every change
    git(dest_path, "init", "-q")
    git(dest_path, "config", "user.name", "Demo Author")
    git(dest_path, "config", "user.email", "demo@example.invalid")
    git(dest_path, "add", "-A")
    git(dest_path, "commit", "-q", "-m", "Shop with prices and a cart")
    git(dest_path, "checkout", "-q", "-b", "pr")
    shutil.copytree(HERE / "pr", dest_path, dirs_exist_ok=True, copy_function=shutil.copy)
    git(dest_path, "add", "-A")
    git(dest_path, "commit", "-q", "-m", "Add discount codes to the cart")
    print(dest_path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
