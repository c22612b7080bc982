"""covbot's scratch folders (``covbot-run-*`` in the temporary directory) are removed
after every ``covbot report`` that made them: a passing run, a failed one, and one
interrupted with Ctrl-C (SIGINT) or SIGTERM while the tests run."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from support.repo_factory import PY, clean_env
from support.small_pr import make_pr


def _scratch(tmp: object) -> list[str]:
    return sorted(p.name for p in tmp.glob("covbot-*"))


@pytest.fixture
def repo_and_tmp(tmp_path):
    repo = make_pr(tmp_path / "proj")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return repo, tmp


@pytest.mark.parametrize("command, baseline, exit_code", [
    ("pytest -p no:cacheprovider", "rerun", (0, 1)),               # head run and a base rerun
    ("pytest --no-such-option", "none", (2,)),                     # the test command fails
])
def test_finished_runs_leave_no_scratch_folder(repo_and_tmp, command, baseline, exit_code):
    repo, tmp = repo_and_tmp
    proc = repo.covbot("report", "--base", "main", "--baseline", baseline, "--test-command", command,
                       "--output-dir", str(repo.path / ".out"), env=clean_env(TMPDIR=str(tmp)))
    assert proc.returncode in exit_code, proc.stderr
    assert _scratch(tmp) == []


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_run_removes_its_scratch_folder(repo_and_tmp, sig, code):
    repo, tmp = repo_and_tmp
    proc = subprocess.Popen([PY, "-m", "bot", "report", "--base", "main", "--baseline", "none",
                             "--test-command", "sleep 60", "--output-dir", str(repo.path / ".out")],
                            cwd=repo.path, env=clean_env(TMPDIR=str(tmp)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not _scratch(tmp) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _scratch(tmp), "covbot made no scratch folder"
        time.sleep(1.0)    # the test command has started
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert "covbot: interrupted" in err and "Traceback" not in err
    assert _scratch(tmp) == []
