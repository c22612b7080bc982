"""tests/support/fakegithub.py as a standalone process (how the container test uses it)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from bot.publish.github import ApiPolicy, GitHubClient

FAKE = Path(__file__).resolve().parents[1] / "support" / "fakegithub.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_standalone_server_serves_seeded_state_and_writes_it_back(tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({
        "repos": {"octo/proj": {"default_branch": "main",
                                "pulls": [{"number": 3, "head_sha": "e" * 40, "head_ref": "pr"}]}},
        "tokens": {"tok": {"write": True}, "ro": {"write": False}},
    }))
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(FAKE), "--port", str(port), "--state", str(state)],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == f"fakegithub listening on http://127.0.0.1:{port}"
        url = f"http://127.0.0.1:{port}"
        client = GitHubClient("tok", "octo/proj", api_url=url, policy=ApiPolicy(write_delay=0))
        assert client.pull(3).head_sha == "e" * 40
        client.upsert_comment(3, "<!-- covbot:comment-id=covbot -->\nhello", "covbot")
        client.set_status("e" * 40, state="success", description="ok", context="covbot")
        ro = GitHubClient("ro", "octo/proj", api_url=url, policy=ApiPolicy(write_delay=0))
        try:
            ro.upsert_comment(3, "<!-- covbot:comment-id=covbot -->\nnope", "covbot")
            raise AssertionError("a read-only token wrote")
        except Exception as exc:   # noqa: BLE001
            assert type(exc).__name__ == "PermissionDenied"
        deadline = time.time() + 5
        while time.time() < deadline:
            doc = json.loads(state.read_text())
            if len(doc["requests"]) >= 6:
                break
            time.sleep(0.05)
        repo = doc["repos"]["octo/proj"]
        assert [c["body"].splitlines()[1] for c in repo["comments"]["3"]] == ["hello"]
        assert repo["statuses"]["e" * 40][0]["context"] == "covbot"
        assert [r[2] for r in doc["requests"]][-1] == 403
    finally:
        proc.terminate()
        proc.wait(timeout=10)
