"""The GitHub client against the fake API with faults injected: bounded retries, no duplicates."""

from __future__ import annotations

import time

import pytest

from bot.model.errors import PublishError
from bot.publish.github import ApiPolicy, GitHubClient, NotFound, PermissionDenied
from support.fakegithub import FakeGitHub

REPO = "acme/shop"
TOKEN = "ghs_token_for_fault_tests"
SHA = "ab" * 20


def marked(cid: str = "covbot", text: str = "report") -> str:
    return f"<!-- covbot:comment-id={cid} -->\n{text}"


@pytest.fixture
def gh():
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        fake.add_pull(REPO, 1, head_sha=SHA)
        fake.add_token(TOKEN)
        yield fake


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def client(gh, **kw) -> tuple[GitHubClient, Sleeps]:
    sleeps = Sleeps()
    limits = dict(write_delay=0, backoff=0.5, max_attempts=4, max_wait=30, timeout=5)
    limits.update((k, kw.pop(k)) for k in list(kw) if k in limits or k == "per_page")
    return GitHubClient(TOKEN, REPO, api_url=gh.url, policy=ApiPolicy(**limits), sleep=sleeps, **kw), sleeps


def statuses_of(gh):
    return [s for _, _, s in gh.requests]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_on_reads_are_retried_with_backoff(gh, status):
    c, sleeps = client(gh)
    gh.fail_next("GET", r"/issues/1/comments$", status, times=2)
    res = c.upsert_comment(1, marked(), "covbot")
    assert res.action == "created"
    assert statuses_of(gh) == [status, status, 200, 201]
    assert sleeps == [0.5, 1.0]
    assert len(gh.comments(REPO, 1)) == 1


def test_429_honours_retry_after(gh):
    c, sleeps = client(gh)
    gh.fail_next("GET", r"/issues/1/comments$", 429, headers={"Retry-After": "7"})
    c.upsert_comment(1, marked(), "covbot")
    assert sleeps == [7.0]
    assert statuses_of(gh)[:2] == [429, 200]


def test_secondary_rate_limit_403_is_retried_a_permission_403_is_not(gh):
    c, sleeps = client(gh)
    gh.fail_next("GET", r"/issues/1/comments$", 403, headers={"Retry-After": "2"})
    c.upsert_comment(1, marked(), "covbot")
    assert sleeps == [2.0]
    gh.requests.clear()
    gh.fail_next("PATCH", r"/issues/comments/\d+$", 403, body={"message": "Resource not accessible by integration"})
    with pytest.raises(PermissionDenied) as err:
        c.upsert_comment(1, marked(text="second"), "covbot")
    assert statuses_of(gh) == [200, 403]                     # not retried
    assert "read-only token" in err.value.hint


def test_a_retry_after_beyond_the_budget_gives_up_at_once(gh):
    c, sleeps = client(gh, max_wait=60)
    gh.fail_next("GET", r"/issues/1/comments$", 429, headers={"Retry-After": "3600"})
    t0 = time.monotonic()
    with pytest.raises(PublishError) as err:
        c.upsert_comment(1, marked(), "covbot")
    assert time.monotonic() - t0 < 5 and sleeps == []
    assert "3600s" in err.value.message and "60s retry budget" in err.value.message
    assert statuses_of(gh) == [429]


def test_retries_are_bounded_in_count(gh):
    c, sleeps = client(gh, max_attempts=3)
    gh.fail_next("GET", r"/issues/1/comments$", 503, times=50)
    with pytest.raises(PublishError) as err:
        c.upsert_comment(1, marked(), "covbot")
    assert statuses_of(gh) == [503, 503, 503]
    assert "gave up after 3 attempt(s)" in err.value.message
    assert sum(sleeps) <= 30


def test_retries_are_bounded_in_total_wait(gh):
    c, sleeps = client(gh, max_attempts=100, max_wait=5, backoff=1)
    gh.fail_next("GET", r"/issues/1/comments$", 502, times=50)
    with pytest.raises(PublishError):
        c.upsert_comment(1, marked(), "covbot")
    assert sum(sleeps) <= 5 and len(gh.requests) <= 4


def test_a_comment_post_that_failed_after_taking_effect_is_not_repeated(gh):
    c, _ = client(gh)
    gh.fail_next("POST", r"/issues/1/comments$", 502, after=True)
    res = c.upsert_comment(1, marked(), "covbot")
    assert len(gh.comments(REPO, 1)) == 1
    assert res.action == "updated"                 # found again by its marker, edited
    assert [m for m, _, _ in gh.requests] == ["GET", "POST", "GET", "PATCH"]


def test_a_connection_reset_on_the_post_is_not_repeated_blindly(gh):
    c, _ = client(gh)
    gh.fail_next("POST", r"/issues/1/comments$", "reset", after=True)
    c.upsert_comment(1, marked(), "covbot")
    assert len(gh.comments(REPO, 1)) == 1
    assert [r[2] for r in gh.requests if r[0] == "POST"] == ["reset"]


def test_a_post_that_failed_before_taking_effect_is_made_again_after_relisting(gh):
    c, _ = client(gh)
    gh.fail_next("POST", r"/issues/1/comments$", 503)
    res = c.upsert_comment(1, marked(), "covbot")
    assert res.action == "created" and len(gh.comments(REPO, 1)) == 1
    assert [(m, s) for m, _, s in gh.requests] == [("GET", 200), ("POST", 503), ("GET", 200), ("POST", 201)]


def test_connection_reset_on_a_read_is_retried(gh):
    c, _ = client(gh)
    gh.fail_next("GET", r"/issues/1/comments$", "reset")
    c.upsert_comment(1, marked(), "covbot")
    assert statuses_of(gh)[:2] == ["reset", 200]


def test_a_slow_response_times_out_and_is_retried(gh):
    c, sleeps = client(gh, timeout=1)
    gh.fail_next("GET", r"/pulls/1$", "slow", delay=2.5)
    pull = c.pull(1)
    assert pull.head_sha == SHA
    assert [s for _, p, s in gh.requests if p.endswith("/pulls/1")] == ["slow", 200]
    assert len(sleeps) == 1


def test_a_comment_deleted_between_finding_and_editing_it_is_created_again(gh):
    c, _ = client(gh)
    gh.add_token("other", login="github-actions[bot]")
    first = c.upsert_comment(1, marked(text="one"), "covbot")
    gh.before_next("PATCH", rf"/issues/comments/{first.comment_id}$",
                   lambda fake: fake.delete_comment(REPO, first.comment_id))
    res = c.upsert_comment(1, marked(text="two"), "covbot")
    assert res.action == "created"
    bodies = [x["body"] for x in gh.comments(REPO, 1)]
    assert bodies == [marked(text="two")]
    assert ("PATCH", f"/repos/{REPO}/issues/comments/{first.comment_id}", 404) in gh.requests


def test_a_body_refused_as_too_long_is_shortened_and_posted(gh):
    c, _ = client(gh)
    body = marked(text="x" * 70000)
    res = c.upsert_comment(1, body, "covbot")
    assert res.shortened
    posted = gh.comments(REPO, 1)
    assert len(posted) == 1 and len(posted[0]["body"]) <= 65536
    assert posted[0]["body"].startswith("<!-- covbot:comment-id=covbot -->")
    assert "shortened" in posted[0]["body"]
    assert [s for m, _, s in gh.requests if m == "POST"] == [422, 201]


def test_stray_duplicates_are_deleted_and_the_oldest_is_kept(gh):
    c, _ = client(gh)
    ids = [gh.add_comment(REPO, 1, marked(text=f"dup {i}"), login="github-actions[bot]", type="Bot")
           for i in range(3)]
    res = c.upsert_comment(1, marked(text="fresh"), "covbot")
    assert res.comment_id == ids[0] and res.deleted == 2
    assert [x["id"] for x in gh.comments(REPO, 1)] == [ids[0]]


def test_only_the_tokens_own_comments_are_candidates(gh):
    human = gh.add_comment(REPO, 1, marked(text="pasted by a person"), login="mallory", type="User")
    other_app = gh.add_comment(REPO, 1, marked(text="another app"), login="other-app[bot]", type="Bot")
    c, _ = client(gh, comment_author="github-actions[bot]")
    res = c.upsert_comment(1, marked(text="ours"), "covbot")
    assert res.action == "created" and res.comment_id not in (human, other_app)
    assert [x["body"] for x in gh.comments(REPO, 1)][:2] == [marked(text="pasted by a person"),
                                                            marked(text="another app")]


def test_the_marker_is_found_on_any_page(gh):
    c, _ = client(gh, per_page=10)
    for i in range(25):
        gh.add_comment(REPO, 1, f"chatter {i}")
    ours = gh.add_comment(REPO, 1, marked(), login="github-actions[bot]", type="Bot")
    res = c.upsert_comment(1, marked(text="new"), "covbot")
    assert res.comment_id == ours
    pages = [p for m, p, _ in gh.requests if m == "GET"]
    assert len(pages) == 3 and "page=3" in pages[-1]
    assert all(p != "/user" for _, p, _ in gh.requests)


def test_status_post_is_retried_and_description_clipped(gh):
    c, sleeps = client(gh)
    gh.fail_next("POST", r"/statuses/", 500)
    c.set_status(SHA, state="failure", description="d" * 300, context="covbot/api")
    sts = gh.statuses(REPO, SHA)
    assert len(sts) == 1 and len(sts[0]["description"]) == 140 and sts[0]["context"] == "covbot/api"


def test_missing_pull_request_is_a_clear_404(gh):
    c, _ = client(gh)
    with pytest.raises(NotFound) as err:
        c.pull(99)
    assert "/pulls/99" in err.value.message


def test_enterprise_api_url_prefix_is_used(gh):
    c, _ = client(gh)
    c = GitHubClient(TOKEN, REPO, api_url=gh.url + "/api/v3", policy=ApiPolicy(write_delay=0))
    c.upsert_comment(1, marked(), "covbot")
    assert gh.requests[0][1].startswith("/api/v3/repos/acme/shop/issues/1/comments")


def test_bad_token_is_a_clear_error_without_the_token(gh):
    secret = "ghs_not_a_valid_token_123"
    c = GitHubClient(secret, REPO, api_url=gh.url, policy=ApiPolicy(write_delay=0))
    with pytest.raises(PublishError) as err:
        c.pull(1)
    assert "401" in err.value.message and secret not in str(err.value)
