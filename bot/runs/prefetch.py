"""Independent loads started early on another core.

``covbot report --no-run`` reads large inputs that do not depend on each other: the
head coverage, the JUnit files and the baseline file. The parser work of each holds
the GIL, so threads would not overlap them; a forked child does. :func:`start` forks a
child that computes ``fn(*args)`` and hands the value back pickled through a pipe, while
the parent goes on with the head coverage and git. A child is not free: after a fork
each page either process writes is copied, and what the child imports it imports
again, so only work that is long and needs little of the parent's memory (the JUnit
files) is worth one.

The child is only an accelerator: when it cannot be forked (no ``os.fork``, other
threads running, ``COVBOT_SERIAL`` set), or when it fails for any reason (an input
error, a value that does not pickle, a crash), :meth:`Job.result` computes the value in
the parent, so errors are raised exactly as without it, with the same messages.
"""

from __future__ import annotations

import os
import pickle


def _can_fork() -> bool:
    if not hasattr(os, "fork") or os.environ.get("COVBOT_SERIAL"):
        return False
    import threading   # only when a child may be forked

    # A child forked while another thread holds a lock (the import lock, a logging lock)
    # could wait for it forever: fork only from a single-threaded process.
    return threading.active_count() == 1


class Job:
    """``fn(*args)``, computed by a forked child when possible, else on demand."""

    def __init__(self, fn, args: tuple, pack=None, unpack=None, nice: int = 0):
        self._fn, self._args = fn, args
        self._unpack = unpack
        self._pid: int | None = None
        self._fd: int | None = None
        self.forked = False     # whether a child was started (it may still have failed)
        if not _can_fork():
            return
        r, w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            return
        if pid == 0:   # the child: compute, send, and leave without running any cleanup
            code = 0
            try:
                os.close(r)
                if nice:
                    os.nice(nice)
                try:
                    value = fn(*args)
                    data = pickle.dumps(("ok", pack(value) if pack else value), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException:   # noqa: BLE001 - the parent computes it again and reports
                    data = pickle.dumps(("fail", None))
                with os.fdopen(w, "wb") as fh:
                    fh.write(data)
            except BaseException:   # noqa: BLE001 - the parent stopped listening
                code = 1
            finally:
                os._exit(code)
        os.close(w)
        self._pid, self._fd = pid, r
        self.forked = True

    def result(self):
        """The value; raises what ``fn`` raises (computed here when the child did not deliver)."""
        data = self._collect()
        if data is not None:
            try:
                status, value = pickle.loads(data)
            except Exception:   # noqa: BLE001 - a truncated message: compute it here
                status, value = "fail", None
            if status == "ok":
                return self._unpack(value) if self._unpack else value
        return self._fn(*self._args)

    def _collect(self) -> bytes | None:
        if self._fd is None:
            return None
        try:
            with os.fdopen(self._fd, "rb") as fh:
                data = fh.read()
        except OSError:
            data = None
        self._fd = None
        try:
            _, status = os.waitpid(self._pid, 0)
        except ChildProcessError:
            status = 1
        self._pid = None
        return data if status == 0 else None

    def __del__(self):   # never consumed (the caller failed first): reap the child
        if self._fd is not None:
            try:
                os.close(self._fd)
                os.waitpid(self._pid, 0)
            except OSError:
                pass


def start(fn, *args, pack=None, unpack=None, nice: int = 0) -> Job:
    """``fn(*args)`` in a forked child; ``nice`` lowers the child's priority (for work
    needed last, so that it yields the core to work needed sooner)."""
    return Job(fn, args, pack=pack, unpack=unpack, nice=nice)
