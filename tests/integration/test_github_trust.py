"""The GitHub client against the fake API over real HTTP: whose comments covbot touches,
how long it waits when GitHub says so, and how long one request may take.

The client takes an injectable ``sleep``: the waits GitHub's rules call for (a minute
and more) are asserted as requested, never slept.
"""

from __future__ import annotations

import time

import pytest

from bot.model.errors import PublishError
from bot.publish.github import ApiPolicy, GitHubClient
from support.fakegithub import FakeGitHub

REPO = "acme/shop"
TOKEN = "ghs_installationTokenOfTheRun0001"
SHA = "ab" * 20
MARK = "<!-- covbot:comment-id=covbot -->"


def marked(text: str) -> str:
    return f"{MARK}\n{text}"


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def gh():
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        fake.add_pull(REPO, 1, head_sha=SHA)
        fake.add_token(TOKEN, admin=True)          # the API would let it edit anyone's comment
        yield fake


def client(gh, token=TOKEN, **kw) -> tuple[GitHubClient, Sleeps]:
    sleeps = Sleeps()
    limits = dict(write_delay=0, backoff=0.5, max_attempts=4, max_wait=60, timeout=5)
    limits.update((k, kw.pop(k)) for k in list(kw) if k in limits)
    return GitHubClient(token, REPO, api_url=gh.url, policy=ApiPolicy(**limits), sleep=sleeps, **kw), sleeps


def calls(gh) -> list[tuple[str, str, object]]:
    return [(m, p.split("?")[0], s) for m, p, s in gh.requests]


# -- finding 7: only covbot's own comments, edited before duplicates go --------------------------

def test_another_apps_older_comment_quoting_the_marker_is_never_touched(gh):
    other = gh.add_comment(REPO, 1, marked("the other app quotes covbot"), login="other-app[bot]", type="Bot")
    ours = gh.add_comment(REPO, 1, marked("covbot, first run"), login="github-actions[bot]", type="Bot")
    c, _ = client(gh)
    res = c.upsert_comment(1, marked("covbot, second run"), "covbot")
    assert (res.action, res.comment_id) == ("updated", ours)
    bodies = {x["id"]: x["body"] for x in gh.comments(REPO, 1)}
    assert bodies == {other: marked("the other app quotes covbot"), ours: marked("covbot, second run")}
    assert not [r for r in calls(gh) if r[0] in ("PATCH", "DELETE") and r[1].endswith(f"/{other}")]
    assert not [r for r in calls(gh) if r[0] == "DELETE"]


def test_duplicates_are_deleted_only_after_the_edit_succeeded(gh):
    first = gh.add_comment(REPO, 1, marked("one"), login="github-actions[bot]", type="Bot")
    second = gh.add_comment(REPO, 1, marked("two"), login="github-actions[bot]", type="Bot")
    gh.fail_next("PATCH", rf"/issues/comments/{first}$", 502, times=3)
    c, _ = client(gh, max_attempts=3)
    with pytest.raises(PublishError):
        c.upsert_comment(1, marked("three"), "covbot")
    # the edit failed: nothing was deleted, both copies are still there
    assert [x["id"] for x in gh.comments(REPO, 1)] == [first, second]
    assert not [r for r in calls(gh) if r[0] == "DELETE"]
    # once the edit goes through, the duplicate goes, never the edited copy
    res = c.upsert_comment(1, marked("four"), "covbot")
    assert res.comment_id == first and res.deleted == 1
    assert [(x["id"], x["body"]) for x in gh.comments(REPO, 1)] == [(first, marked("four"))]
    methods = [m for m, _, _ in calls(gh)]
    assert methods.index("DELETE") > max(i for i, m in enumerate(methods) if m == "PATCH")


def test_a_user_tokens_comments_are_found_by_its_own_login(gh):
    gh.add_token("ghp_personalTokenOfAMaintainer01", installation=False, login="release-bot", type="User",
                 admin=True)
    actions = gh.add_comment(REPO, 1, marked("the Actions bot's"), login="github-actions[bot]", type="Bot")
    mine = gh.add_comment(REPO, 1, marked("release-bot's"), login="release-bot", type="User")
    c, _ = client(gh, token="ghp_personalTokenOfAMaintainer01")
    res = c.upsert_comment(1, marked("release-bot again"), "covbot")
    assert res.comment_id == mine
    assert {x["id"]: x["body"] for x in gh.comments(REPO, 1)}[actions] == marked("the Actions bot's")
    assert ("GET", "/user", 200) in calls(gh)


def test_an_installation_token_never_asks_get_user_and_comment_author_wins(gh):
    gh.add_comment(REPO, 1, marked("github-actions[bot]'s"), login="github-actions[bot]", type="Bot")
    app = gh.add_comment(REPO, 1, marked("our app's"), login="covbot-app[bot]", type="Bot")
    c, _ = client(gh, comment_author="covbot-app[bot]")
    assert c.upsert_comment(1, marked("our app again"), "covbot").comment_id == app
    c2, _ = client(gh)
    c2.upsert_comment(1, marked("the Actions bot again"), "covbot")
    assert all(p != "/user" for _, p, _ in calls(gh))
    assert [x["body"] for x in gh.comments(REPO, 1)] == [marked("the Actions bot again"), marked("our app again")]


# -- finding 8: GitHub's rate-limit rules -----------------------------------------------------------

def test_a_used_up_primary_limit_is_not_retried_before_its_reset(gh):
    gh.rate_limit_next("GET", r"/issues/1/comments$", kind="primary", reset_in=1800, times=5)
    c, sleeps = client(gh)
    t0 = time.monotonic()
    with pytest.raises(PublishError) as err:
        c.upsert_comment(1, marked("x"), "covbot")
    assert sleeps == [] and time.monotonic() - t0 < 5
    assert [s for _, _, s in calls(gh)] == [403]                 # asked once, never again
    assert "rate limit" in err.value.message and "resets at" in err.value.message
    assert "Traceback" not in str(err.value)


def test_a_primary_limit_that_resets_soon_is_waited_for(gh):
    reset = gh.rate_limit_next("GET", r"/issues/1/comments$", kind="primary", reset_in=20, status=429)
    c, sleeps = client(gh)
    before = time.time()
    c.upsert_comment(1, marked("x"), "covbot")
    assert len(sleeps) == 1
    # until the reset second has passed, not a back-off of a second or two
    assert reset - before <= sleeps[0] <= reset - before + 2.5
    assert [s for _, _, s in calls(gh)][:2] == [429, 200]


def test_a_secondary_limit_without_retry_after_waits_at_least_a_minute(gh):
    gh.rate_limit_next("POST", r"/issues/1/comments$", kind="secondary")
    c, sleeps = client(gh, max_wait=300)
    res = c.upsert_comment(1, marked("x"), "covbot")
    assert res.action == "created" and len(gh.comments(REPO, 1)) == 1
    assert sleeps == [60.0]
    assert [(m, s) for m, _, s in calls(gh)] == [("GET", 200), ("POST", 403), ("POST", 201)]


def test_a_secondary_limit_honours_retry_after_and_repeated_limits_wait_longer(gh):
    gh.rate_limit_next("GET", r"/pulls/1$", kind="secondary", retry_after=90)
    c, sleeps = client(gh, max_wait=300)
    assert c.pull(1).head_sha == SHA
    assert sleeps == [90.0]
    gh.requests.clear()
    gh.rate_limit_next("GET", r"/pulls/1$", kind="secondary", times=2)
    assert c.pull(1).head_sha == SHA
    assert sleeps == [90.0, 60.0, 120.0]


def test_a_wait_past_the_runs_budget_gives_up_cleanly(gh):
    gh.rate_limit_next("GET", r"/pulls/1$", kind="secondary", times=10)
    c, sleeps = client(gh, max_wait=100)
    with pytest.raises(PublishError) as err:
        c.pull(1)
    assert sleeps == [60.0]                                      # the next, 120 s, is past the budget
    assert "rate limit" in err.value.message and "budget" in err.value.message
    assert len(gh.requests) == 2


# -- finding 9: an overall deadline per request, and broken answers --------------------------------

def test_a_server_that_drips_one_byte_at_a_time_is_cut_off_at_the_deadline(gh):
    gh.fail_next("GET", r"/pulls/1$", "drip", delay=0.3, times=10)
    c, sleeps = client(gh, timeout=2, max_attempts=2, backoff=0.1)
    t0 = time.monotonic()
    with pytest.raises(PublishError) as err:
        c.pull(1)
    took = time.monotonic() - t0
    assert took < 8, f"{took:.1f}s for two attempts of 2 s"
    assert "timed out" in err.value.message and "gave up after 2 attempt(s)" in err.value.message
    assert [s for _, _, s in gh.requests] == ["drip", "drip"]


@pytest.mark.parametrize("raw", [b"<html>502 Bad Gateway</html>", b'{"id": 1, "body": ', b'{"unexpected": true}'])
def test_a_malformed_2xx_body_is_a_publish_error(gh, raw):
    gh.fail_next("GET", r"/issues/1/comments$", 200, raw=raw)
    c, _ = client(gh)
    with pytest.raises(PublishError) as err:
        c.upsert_comment(1, marked("x"), "covbot")
    assert "GET /repos/acme/shop/issues/1/comments" in err.value.message
    assert gh.comments(REPO, 1) == []


def test_pages_are_followed_only_on_the_apis_host(gh):
    for i in range(3):
        gh.add_comment(REPO, 1, f"chatter {i}")
    gh.fail_next("GET", r"/issues/1/comments$", 200, raw=b"[]",
                 headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'})
    c, _ = client(gh)
    with pytest.raises(PublishError) as err:
        c.upsert_comment(1, marked("x"), "covbot")
    assert "evil.example" in err.value.message and "refused" in err.value.message


def test_a_redirect_to_another_host_is_refused(gh):
    gh.fail_next("GET", r"/pulls/1$", 301, headers={"Location": "http://evil.example/repos/acme/shop/pulls/1"})
    c, _ = client(gh)
    with pytest.raises(PublishError) as err:
        c.pull(1)
    assert "redirected" in err.value.message and "refused" in err.value.message
    assert len(gh.requests) == 1
