"""The files covbot writes (report.json, comment.md, baseline.json), written without
following links.

The output folder is usually inside the checkout, and what is in the checkout comes
from the pull request: a ``.covbot`` committed as a link, or a ``report.json`` the tests
replaced by one, must not make covbot write outside it. Inside the checkout every
folder on the way is opened with ``O_NOFOLLOW`` (a link is refused with a clear error);
a folder outside it was named by the user and is used as it is. Each file is written to
a fresh temporary name in the folder and renamed over the old one, so a link (or a hard
link) at the file's name is replaced, never written through.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Iterable

from bot.model.errors import InputError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def write_files(folder: Path, files: dict[str, bytes | Iterable[bytes]], *, root: Path | None) -> dict[str, Path]:
    """Write ``{name: data}`` into ``folder`` (created when missing); returns the paths.
    ``data`` is bytes, or pieces of bytes written as they come (a large page)."""
    fd = open_folder(folder, root=root)
    try:
        for name, data in files.items():
            _replace(fd, name, data, folder)
    finally:
        os.close(fd)
    return {name: Path(folder) / name for name in files}


def check_folder(folder: Path, *, root: Path | None) -> None:
    """Raise the error :func:`write_files` would raise for ``folder``, before any work."""
    os.close(open_folder(folder, root=root))


def open_folder(folder: Path, *, root: Path | None) -> int:
    """A descriptor of ``folder``, created when missing; no link followed inside ``root``."""
    folder = Path(os.path.abspath(folder))
    inside = None
    if root is not None:
        top = Path(os.path.abspath(root))
        try:
            inside = folder.relative_to(top)
        except ValueError:
            inside = None
    if inside is None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return os.open(folder, _DIR_FLAGS)
        except OSError as exc:
            raise InputError(f"output folder {folder}: cannot create or open it ({exc.strerror})",
                             "set --output-dir / the output-dir input to a writable folder") from None
    fd = os.open(top, _DIR_FLAGS)
    walked = top
    try:
        for part in inside.parts:
            walked = walked / part
            try:
                os.mkdir(part, 0o777, dir_fd=fd)
            except FileExistsError:
                pass
            try:
                child = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                raise _refused(walked, top, exc) from None
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refused(path: Path, top: Path, exc: OSError) -> InputError:
    rel = os.path.relpath(path, top)
    if exc.errno in (errno.ELOOP, errno.ENOTDIR) and os.path.islink(path):
        return InputError(f"output folder: {rel} is a symbolic link in the checkout; covbot does not write "
                          "through links", "remove the link from the repository, or set --output-dir / the "
                          "output-dir input to another folder")
    if exc.errno == errno.ENOTDIR:
        return InputError(f"output folder: {rel} is a file, not a folder",
                          "remove it, or set --output-dir / the output-dir input to another folder")
    return InputError(f"output folder: cannot create or open {rel} ({exc.strerror})",
                      "set --output-dir / the output-dir input to a writable folder")


def _replace(dir_fd: int, name: str, data: bytes | Iterable[bytes], folder: Path) -> None:
    temp = f".{name}.{os.urandom(6).hex()}.tmp"   # os.urandom: secrets would import hashlib, random
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666,
                     dir_fd=dir_fd)
        try:
            for piece in (data,) if isinstance(data, (bytes, bytearray)) else data:
                view = memoryview(piece)
                while view:
                    view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.rename(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except OSError as exc:
        try:
            os.unlink(temp, dir_fd=dir_fd)
        except OSError:
            pass
        raise InputError(f"cannot write {Path(folder) / name} ({exc.strerror})",
                         "remove what is in its place, or set --output-dir / the output-dir input") from None
