"""Independent loads started early on another core.

``covbot report --no-run`` reads large inputs that do not depend on each other: the
head coverage, the JUnit files and the baseline file. The parser work of each holds
the GIL, so threads would not overlap them; a forked child does. :func:`start` forks a
child that computes ``fn(*args)`` and hands the value back pickled through a pipe, while
the parent goes on with the head coverage and git. A child is not free: after a fork
each page either process writes is copied, and what the child imports it imports
again, so one child computes the independent loads one after another
(:func:`start_all`), sending each value as soon as it is made.

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
    """``fn(*args)``: computed by a forked child once :func:`start_all` started it, else on
    demand."""

    def __init__(self, fn, args: tuple = (), pack=None, unpack=None):
        self._fn, self._args, self._pack, self._unpack = fn, args, pack, unpack
        self._child: _Child | None = None
        self._fd: int | None = None
        self._data: bytes | None = None   # its message, read ahead while a later one was asked for
        self.forked = False     # whether a child was started (it may still have failed)

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

    def _compute(self) -> bytes:
        """In the child: the message for the parent."""
        try:
            value = self._fn(*self._args)
            return pickle.dumps(("ok", self._pack(value) if self._pack else value), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:   # noqa: BLE001 - the parent computes it again and reports
            return pickle.dumps(("fail", None))

    def _collect(self) -> bytes | None:
        """What the child sent for this job: complete once the child has closed its pipe
        (a message cut short does not unpickle, and the value is computed here). The child
        writes its jobs' messages in order, and a message larger than a pipe holds waits
        until it is read: the earlier jobs' messages are read first (kept for their own
        ``result()``), or asking for a later job before an earlier one would wait forever."""
        if self._data is not None:
            data, self._data = self._data, None
            return data
        if self._fd is None:
            return None
        self._child.read_before(self)
        return self._read()

    def _read(self) -> bytes | None:
        try:
            with os.fdopen(self._fd, "rb") as fh:
                data = fh.read()
        except OSError:
            data = None
        self._fd = None
        self._child.collected()
        return data

    def _read_ahead(self) -> None:
        if self._fd is not None and self._data is None:
            self._data = self._read() or b""   # b"": nothing came, computed here when asked

    def __del__(self):   # never consumed (the caller failed first): reap the child
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None
            self._child.collected()


class _Child:
    """A forked child that computes jobs one after another; reaped once every job's
    message has been read."""

    def __init__(self, pid: int, jobs: list[Job]):
        self._pid, self._jobs, self._left = pid, jobs, len(jobs)

    def read_before(self, job: Job) -> None:
        """Read the messages of the jobs the child computes before ``job``."""
        for earlier in self._jobs:
            if earlier is job:
                return
            earlier._read_ahead()

    def collected(self) -> None:
        self._left -= 1
        if self._left == 0:
            try:
                os.waitpid(self._pid, 0)
            except ChildProcessError:
                pass


def start_all(jobs: list[Job], nice: int = 0) -> list[Job]:
    """The jobs, computed one after another by one forked child, which sends each value
    as soon as it is made (one pipe a job): one fork, and the pages it copies, for all of
    them. ``nice`` lowers the child's priority (for work needed last, so that it yields
    the core to work needed sooner). When no child can be forked, each job is computed
    when its result is asked for."""
    if not jobs or not _can_fork():
        return jobs
    pipes = [os.pipe() for _ in jobs]
    try:
        pid = os.fork()
    except OSError:
        for r, w in pipes:
            os.close(r)
            os.close(w)
        return jobs
    if pid == 0:   # the child: compute, send, and leave without running any cleanup
        code = 0
        try:
            for r, _ in pipes:
                os.close(r)
            if nice:
                os.nice(nice)
            for job, (_, w) in zip(jobs, pipes):
                with os.fdopen(w, "wb") as fh:
                    fh.write(job._compute())
        except BaseException:   # noqa: BLE001 - the parent stopped listening
            code = 1
        finally:
            os._exit(code)
    child = _Child(pid, jobs)
    for job, (r, w) in zip(jobs, pipes):
        os.close(w)
        job._child, job._fd, job.forked = child, r, True
    return jobs


def start(fn, *args, pack=None, unpack=None, nice: int = 0) -> Job:
    """``fn(*args)`` in a forked child of its own (:func:`start_all`)."""
    return start_all([Job(fn, args, pack=pack, unpack=unpack)], nice=nice)[0]
