"""Runner-facing pieces: inputs by hyphenated name, event → activity, outputs, annotations."""

from __future__ import annotations

import re

from support.action_support import parse_outputs
from bot.publish import outputs
from bot.app.action import find_activity
from bot.app.settings import Context, read_input
from bot.publish.comment import status_context, status_for
from bot.model.report import DiffCoverage, FileDiff, Report, RuleResult, Verdict


def _report(missing: dict[str, list[int]], passed=True) -> Report:
    files = {p: FileDiff(changed_lines=len(m) + 1, missing_lines=m, percent_covered=None) for p, m in missing.items()}
    totals = {"statements": 10, "covered_statements": 8, "missing_statements": 2, "branches": 0,
              "covered_branches": 0, "percent_covered": 80.0}
    return Report(head={"sha": "a" * 40}, base={}, totals=totals, base_totals=None, delta=None,
                  diff=DiffCoverage(num_lines=5, num_covered=4, percent_covered=80.0, files=files), files=[],
                  verdict=Verdict(passed, [] if passed else [RuleResult("diff", "failed", "too low")]))


def test_hyphenated_inputs_are_read_from_the_runners_names_and_the_mapped_ones():
    env = {"INPUT_GITHUB-TOKEN": "t1", "INPUT_WORKING-DIRECTORY": " pkg ", "COVBOT_COMMENT_ID": "api",
           "INPUT_COMMENT-ID": "ignored", "INPUT_BASE": ""}
    assert read_input("github-token", env) == "t1"
    assert read_input("working-directory", env) == "pkg"
    assert read_input("comment-id", env) == "api"       # the action.yml mapping wins
    assert read_input("base", env) is None               # empty means unset


def test_activity_follows_the_event():
    def act(name, event, ref=None):
        return find_activity(Context(name, event, "o/r", "", "", None, None, ref, None))
    repo = {"repository": {"default_branch": "main"}}
    assert act("pull_request", {"pull_request": {"number": 1}}) == "pull_request"
    assert act("push", repo, "refs/heads/main") == "push-default"
    assert act("push", repo, "refs/heads/feature") == "push"
    assert act("workflow_run", {"workflow_run": {}}) == "publish"
    assert act("workflow_dispatch", {}) == "analyse"


def test_outputs_use_random_delimiters_that_values_cannot_forge():
    evil = "x\nghadelimiter_0\nverdict=passed\nEOF"
    text = outputs.format_outputs({"verdict": "failed", "report-path": evil})
    parsed = parse_outputs(text)
    assert parsed == {"verdict": "failed", "report-path": evil}
    delims = re.findall(r"<<(\S+)", text)
    assert len(set(delims)) == 2 and all(len(d) > 30 for d in delims)


def test_annotations_merge_ranges_largest_first_capped_at_ten():
    missing = {"a.py": [1, 2, 3, 10], "b, c.py": list(range(20, 26)), "z.py": [5, 7, 9, 11, 13, 15, 17, 19, 21, 23]}
    cmds = outputs.annotation_commands(_report(missing))
    warnings = [c for c in cmds if c.startswith("::warning")]
    assert len(warnings) == 10
    # 13 ranges in all: 20-25 (6 lines), 1-3 (3 lines), then eleven single lines
    assert "line=20,endLine=25" in warnings[0] and "file=b%2C c.py" in warnings[0]
    assert "line=1,endLine=3" in warnings[1]
    assert cmds[-1].startswith("::notice") and "3 more" in cmds[-1]
    section = outputs.uncovered_section(_report(missing))
    assert section.count("\n| ") == 13 + 1        # header + every range


def test_annotation_messages_and_properties_are_escaped():
    cmd = outputs.command("warning", "50% done\nnext", file="a:b,c%.py", title="t")
    assert cmd == "::warning file=a%3Ab%2Cc%25.py,title=t::50%25 done%0Anext"


def test_summary_is_appended_and_capped(tmp_path):
    path = tmp_path / "summary"
    outputs.write_summary("first", path)
    outputs.write_summary("x" * (2 * 1024 * 1024), path)
    text = path.read_text()
    assert text.startswith("first\n") and len(text.encode()) < 1024 * 1024 and "truncated" in text


def test_mask_and_redact(capsys):
    outputs.mask("s3cr%t")
    assert capsys.readouterr().out == "::add-mask::s3cr%25t\n"
    assert outputs.redact("token s3cr%t leaked", ["s3cr%t"]) == "token *** leaked"


def test_status_context_and_description():
    assert status_context("covbot") == "covbot" and status_context("api") == "covbot/api"
    state, desc = status_for(_report({}, passed=False))
    assert state == "failure" and "gate failed: diff" in desc and len(desc) <= 140
    assert status_for(None)[0] == "error"
