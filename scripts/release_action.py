#!/usr/bin/env python3
"""Point action.yml at a published image: ``image: Dockerfile`` → ``docker://IMAGE:VERSION``.

    python scripts/release_action.py --image ghcr.io/owner/covbot --version v1.2.3 [--file action.yml]

The release workflow (.github/workflows/release.yml) runs it on a version tag after
pushing the image, commits the result on top of the tagged commit and moves the tag
(and the major tag, ``v1``) there: a user's ``uses: owner/covbot@v1`` then pulls the
image instead of building the Dockerfile on every run. Only the ``image:`` line of
``runs:`` changes; everything else stays byte for byte. Exits 2 with one message when
the version or image name is not one a registry accepts, or action.yml does not build
the Dockerfile (already rewritten, or edited).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

#: ``v1.2.3`` or ``1.2.3``, optionally ``-rc.1``: what the release workflow's tag filter lets through.
VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.]+)?$")
#: A registry reference without tag: lowercase host/path components (the registry's rule).
IMAGE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+$")
#: The ``image:`` line of the ``runs:`` block, as action.yml writes it.
IMAGE_LINE = re.compile(r"^(?P<indent>[ \t]+)image:[ \t]*(?P<q>['\"]?)Dockerfile(?P=q)[ \t]*$")


class ReleaseError(Exception):
    pass


def image_tag(version: str) -> str:
    """The image tag of a release: the version without its ``v`` (``v1.2.3`` → ``1.2.3``)."""
    if not VERSION.match(version):
        raise ReleaseError(f"version {version!r} is not vMAJOR.MINOR.PATCH")
    return version.removeprefix("v")


def rewrite(text: str, *, image: str, version: str) -> str:
    """action.yml's text with its Dockerfile build replaced by the published image."""
    if not IMAGE.match(image):
        raise ReleaseError(f"image {image!r} is not a lowercase registry path (host/owner/name)")
    tag = image_tag(version)
    lines = text.splitlines(keepends=True)
    in_runs, hits = False, []
    for i, line in enumerate(lines):
        if line.strip() and not line[0].isspace():      # a top-level key starts or ends a block
            in_runs = line.rstrip() == "runs:"
        elif in_runs and IMAGE_LINE.match(line.rstrip("\r\n")):
            hits.append(i)
    if len(hits) != 1:
        raise ReleaseError("action.yml has no `runs: image: Dockerfile` line to rewrite "
                           "(already pointed at an image, or edited)")
    line = lines[hits[0]]
    indent = IMAGE_LINE.match(line.rstrip("\r\n")).group("indent")
    lines[hits[0]] = f"{indent}image: docker://{image}:{tag}" + line[len(line.rstrip("\r\n")):]
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", required=True, help="registry path without tag, e.g. ghcr.io/owner/covbot")
    ap.add_argument("--version", required=True, help="the release tag, e.g. v1.2.3")
    ap.add_argument("--file", default="action.yml", help="the action's metadata file (default action.yml)")
    args = ap.parse_args(argv)
    path = Path(args.file)
    try:
        text = rewrite(path.read_text(encoding="utf-8"), image=args.image.lower(), version=args.version)
    except (ReleaseError, OSError) as exc:
        print(f"release_action: error: {exc}", file=sys.stderr)
        return 2
    path.write_text(text, encoding="utf-8")
    print(f"{path}: image docker://{args.image.lower()}:{image_tag(args.version)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
