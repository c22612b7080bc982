"""The example workflows give write access only where it is needed, never let a pull
request's run cancel a baseline save, and never hide a required status behind a paths
filter."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "workflows").glob("*.yml"))


def _load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text())
    doc["on"] = doc.pop(True)      # YAML reads `on` as True
    return doc


def _events(doc: dict) -> set[str]:
    on = doc["on"]
    return {on} if isinstance(on, str) else set(on)


def _writes(permissions) -> set[str]:
    if permissions in (None, {}, "read-all"):
        return set()
    if permissions == "write-all":
        return {"*"}
    return {scope for scope, level in permissions.items() if level == "write"}


def _runs_pull_request_code(doc: dict, job: dict) -> bool:
    """A job on pull_request that runs the PR's tests (covbot without coverage-files, or a run step)."""
    if "pull_request" not in _events(doc) or "github.event_name == 'push'" in str(job.get("if", "")):
        return False
    for step in job.get("steps", []):
        uses = str(step.get("uses", ""))
        if uses.startswith("covbot/covbot@") and "coverage-files" not in step.get("with", {}) \
                and "report-dir" not in step.get("with", {}):
            return True
        if "run" in step and "pytest" in step["run"]:
            return True
    return False


def test_examples_give_write_access_only_to_jobs_that_need_it_and_never_cancel_baseline_saves():
    assert {p.name for p in EXAMPLES} >= {"basic.yml", "monorepo.yml", "matrix-report-only.yml"}
    saves_baselines = 0
    for path in EXAMPLES:
        doc = _load(path)
        assert not _writes(doc.get("permissions")) - {"pull-requests", "statuses"}, \
            f"{path.name}: the whole workflow gets {_writes(doc.get('permissions'))}"
        workflow_cancels = (doc.get("concurrency") or {}).get("cancel-in-progress")
        for name, job in doc["jobs"].items():
            scopes = _writes(job.get("permissions")) | _writes(doc.get("permissions"))
            pushes = "push" in _events(doc) and "pull_request" not in str(job.get("if", ""))
            if "contents" in scopes:
                assert pushes and "github.event_name == 'push'" in str(job.get("if", "")), \
                    f"{path.name}: job {name} may write the repository on pull requests"
            if pushes:
                saves_baselines += 1
                cancels = (job.get("concurrency") or {}).get("cancel-in-progress", workflow_cancels)
                assert not cancels, f"{path.name}: a newer run can cancel job {name}'s baseline save"
            if _runs_pull_request_code(doc, job):
                assert "contents" not in scopes, f"{path.name}: job {name} runs the PR's code with contents: write"
                checkouts = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")]
                assert checkouts and all((s.get("with") or {}).get("persist-credentials") is False
                                         for s in checkouts), \
                    f"{path.name}: job {name} runs the PR's code with the token in .git/config"
    assert saves_baselines >= 1


def test_no_example_hides_its_required_statuses_behind_a_paths_filter():
    for path in EXAMPLES:
        doc = _load(path)
        on = doc["on"]
        pull = on.get("pull_request") if isinstance(on, dict) else None
        posts_statuses = "statuses" in _writes(doc.get("permissions")) | {
            s for job in doc["jobs"].values() for s in _writes(job.get("permissions"))}
        if posts_statuses and isinstance(pull, dict):
            assert not {"paths", "paths-ignore"} & set(pull), \
                f"{path.name}: a skipped run posts no covbot status, and a required one never appears"
    text = (ROOT / "examples" / "workflows" / "monorepo.yml").read_text()
    assert "paths" in text and "required" in text          # says why there is no filter, and what to do
