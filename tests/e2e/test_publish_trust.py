"""``covbot publish`` posts with a write token what a fork's run computed: a forged
artifact may change numbers, never the markup covbot posts. Each test forges a copy of
a real report folder (every part of report.json filled) and publishes it against the
fake GitHub over HTTP; the comment is parsed as GitHub renders it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from support import rich_report
from support.fakegithub import FakeGitHub
from support.markdown_check import _md, check_inert, walk
from support.repo_factory import clean_env

REPO = "acme/shop"
TOKEN = "ghs_publisherToken0123456789"
INVISIBLE = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"


@pytest.fixture(scope="module")
def produced(tmp_path_factory):
    out, head = rich_report.build(tmp_path_factory.mktemp("rich"))
    doc = rich_report.load(out)
    doc["links"]["pr_number"] = 7
    (out / "report.json").write_text(json.dumps(doc))
    return out, head


@pytest.fixture
def setup(produced, tmp_path):
    out, head = produced
    artifact = tmp_path / "covbot-report"
    shutil.copytree(out, artifact)
    with FakeGitHub() as gh:
        gh.add_repo(REPO)
        gh.add_pull(REPO, 7, head_sha=head, head_repo="contributor/shop", head_ref="feature")
        gh.add_token(TOKEN)
        yield gh, artifact, head


def publish(gh, artifact, head):
    env = clean_env(GITHUB_TOKEN=TOKEN, GITHUB_API_URL=gh.url, GITHUB_REPOSITORY=REPO,
                    GITHUB_SERVER_URL="https://github.com", COVBOT_API_WRITE_DELAY="0", COVBOT_API_BACKOFF="0.01")
    return subprocess.run([sys.executable, "-m", "bot", "publish", "--report-dir", str(artifact), "--head-sha", head],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)


def forge(artifact, fn):
    doc = json.loads((artifact / "report.json").read_text())
    fn(doc)
    (artifact / "report.json").write_text(json.dumps(doc))


def hrefs(body: str) -> list[str]:
    return [t.attrs.get("href", "") for t in walk(_md().parse(body)) if t.type == "link_open"]


def _set(path, value):
    def fn(doc):
        *keys, last = path
        node = doc
        for k in keys:
            node = node[k]
        node[last] = value
    return fn


@pytest.mark.parametrize("where, value", [
    (("tests", "passed"), "![](https://evil.example/pixel.png)"),
    (("tests", "failed"), "@acme/security-team"),
    (("tiers", 0, "meeting"), "<img src=x onerror=alert(1)>"),
    (("tiers", 0, "targeted"), "<details open><summary>click</summary>"),
    (("trend", 0, "commit"), "```\n<b>"),          # 7 characters: the short label closed the fence
    (("trend", 1, "commit"), 'abc"] }'),
], ids=["tests.passed", "tests.failed", "tiers.meeting", "tiers.targeted", "trend.commit-fence",
        "trend.commit-quote"])
def test_markup_where_the_schema_has_a_number_or_a_sha_is_refused(setup, where, value):
    gh, artifact, head = setup
    forge(artifact, _set(where, value))
    proc = publish(gh, artifact, head)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    place = ".".join(f"[{k}]" if isinstance(k, int) else k for k in where).replace(".[", "[")
    assert "schema" in proc.stderr and place in proc.stderr
    assert "Traceback" not in proc.stderr
    assert gh.comments(REPO, 7) == [] and all(m == "GET" for m, _, _ in gh.requests)


def test_a_failure_location_outside_the_repository_is_not_linked(setup):
    gh, artifact, head = setup

    def outside(doc):
        for f in doc["tests"]["failures"]:
            f["location"] = "../../../../evil-org/evil/blob/main/steal.py:12"
        for g in doc["tests"]["groups"]:
            g["location"] = "../../../../evil-org/evil/blob/main/steal.py:12"
        doc["tests"]["failures"][0]["location"] = "https://evil.example/x.py:3"
    forge(artifact, outside)
    proc = publish(gh, artifact, head)
    assert proc.returncode == 0, proc.stderr
    body = gh.comments(REPO, 7)[0]["body"]
    prefix = f"https://github.com/{REPO}/blob/{head}/"
    check_inert(body, link_prefix=prefix)
    links = hrefs(body)
    assert links and all(h.startswith(prefix) for h in links)     # the changed-lines links are still there
    assert not [h for h in links if ".." in h or "evil" in h], links
    assert "evil-org" in body                                     # shown, as code, not linked


def test_bidi_and_line_separator_characters_are_neutralised(setup):
    gh, artifact, head = setup

    def invisible(doc):
        f = doc["tests"]["failures"][1]
        f["id"] = f"tests/test_calc.py::test_\u202eevil\u202c"
        f["message"] = f["traceback"] = "assert access\u2066 == 'admin'\u2069\u2028# fine\u2029"
        f["signature"] = "failed: \u202dreversed\u202c"
        doc["warnings"] = ["a warning\u2028with a line separator \u202b"]
        doc["files"][-1]["path"] = "src/\u2067evil\u2069.py"
        for row in doc["files"]:
            if row["changed"]:
                row["base_path"], row["status"] = "src/\u202eold.py", "renamed"
                break
    forge(artifact, invisible)
    proc = publish(gh, artifact, head)
    assert proc.returncode == 0, proc.stderr
    body = gh.comments(REPO, 7)[0]["body"]
    assert not [c for c in body if c in INVISIBLE], [hex(ord(c)) for c in body if c in INVISIBLE]
    assert "[U+202E]" in body and "[U+2028]" in body     # shown, not executed
    check_inert(body, link_prefix=f"https://github.com/{REPO}/blob/{head}/")


def test_strings_the_schema_allows_reach_the_comment_only_escaped(setup):
    gh, artifact, head = setup

    def hostile(doc):
        doc["verdict"]["passed"] = False
        doc["verdict"]["reasons"][0].update(status="failed", rule="diff` <img src=x onerror=alert(1)> `")
        doc["tiers"][0]["name"] = "Tier <details open> @acme/all"
        doc["tests"]["failures"][1]["category"] = "test bug"
        doc["baseline"]["description"] = "![x](https://evil.example/p.png) #1"
        doc["base"]["ref"] = "main`<script>`"
        doc["injected"] = "<img src=x>"                            # unknown key: dropped
    forge(artifact, hostile)
    proc = publish(gh, artifact, head)
    assert proc.returncode == 0, proc.stderr
    body = gh.comments(REPO, 7)[0]["body"]
    check_inert(body, link_prefix=f"https://github.com/{REPO}/blob/{head}/")
    html = _md().render(body)                      # as GitHub renders it: code spans show text
    assert "<img" not in html and "<script" not in html and "@acme/all" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
