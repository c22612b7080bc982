"""``.covbot.yml``: defaults, every documented key, strict validation with clear messages."""

from __future__ import annotations

import pytest

from bot.app.config_file import load_config, parse_config, parse_gate_list
from bot.model.config import DEFAULT_GATE, Config
from bot.model.errors import UsageError

FULL = """
base: develop
test-command: pytest -x tests
install-command: pip install -e .[test]
baseline: none
timeout: 600
rerun-failures: false
thresholds:
  diff: 90
  min-lines: 5
  total-drop: 0.25
  pass-rate: 95
tiers:
  - {name: Big, min-statements: 400, target: 60}
  - {name: Medium, min-statements: 100, target: 40}
critical: {paths: ["src/pkg/core/*.py"], target: 75}
goal: 85
gate: [diff, total-drop]
comment-id: backend
annotate: false
contexts: false
max-comment-files: 12
"""


def test_defaults_are_the_design_defaults(tmp_path):
    cfg = load_config(None, tmp_path)
    assert cfg == Config()
    assert (cfg.diff_threshold, cfg.min_lines, cfg.total_drop, cfg.pass_rate, cfg.goal) == (80, 20, 0.5, 98, 80)
    assert [(t.min_statements, t.target) for t in cfg.tiers] == [(501, 50), (300, 50), (150, 50)]
    assert cfg.critical_target == 70 and cfg.test_command == "pytest" and cfg.baseline == "rerun"
    assert cfg.gate == DEFAULT_GATE


def test_every_documented_key_is_read(tmp_path):
    (tmp_path / ".covbot.yml").write_text(FULL)
    cfg = load_config(None, tmp_path)
    assert cfg.base == "develop" and cfg.test_command == "pytest -x tests"
    assert cfg.install_command == "pip install -e .[test]" and cfg.baseline == "none"
    assert cfg.timeout == 600 and cfg.rerun_failures is False
    assert (cfg.diff_threshold, cfg.min_lines, cfg.total_drop, cfg.pass_rate) == (90, 5, 0.25, 95)
    assert [(t.name, t.min_statements, t.target) for t in cfg.tiers] == [("Big", 400, 60), ("Medium", 100, 40)]
    assert cfg.critical_paths == ("src/pkg/core/*.py",) and cfg.critical_target == 75
    assert cfg.goal == 85 and cfg.gate == ("diff", "total-drop")
    assert cfg.comment_id == "backend" and cfg.annotate is False and cfg.max_comment_files == 12
    assert cfg.contexts is False and Config().contexts is True
    assert cfg.source.endswith(".covbot.yml")


def test_yaml_extension_and_explicit_path(tmp_path):
    (tmp_path / ".covbot.yaml").write_text("goal: 90\n")
    assert load_config(None, tmp_path).goal == 90
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "covbot.yml").write_text("goal: 70\n")
    assert load_config("ci/covbot.yml", tmp_path).goal == 70


def test_empty_file_means_defaults(tmp_path):
    (tmp_path / ".covbot.yml").write_text("# nothing yet\n")
    assert load_config(None, tmp_path).goal == 80


@pytest.mark.parametrize("text, needles", [
    ("tresholds: {diff: 80}\n", ["'tresholds'", "did you mean 'thresholds'"]),
    ("test_command: pytest\n", ["'test_command'", "did you mean 'test-command'"]),
    ("thresholds: {dif: 80}\n", ["'thresholds.dif'", "did you mean 'thresholds.diff'"]),
    ("critical: {path: [a]}\n", ["'critical.path'", "did you mean 'critical.paths'"]),
    ("tiers: [{name: A, min-statement: 5}]\n", ["'tiers[0].min-statement'", "'tiers[0].min-statements'"]),
    ("gate: [diff, total_drop]\n", ["'total_drop'", "did you mean 'total-drop'"]),
])
def test_unknown_key_names_key_file_and_closest_valid_key(tmp_path, text, needles):
    (tmp_path / ".covbot.yml").write_text(text)
    with pytest.raises(UsageError) as err:
        load_config(None, tmp_path)
    message = str(err.value)
    assert str(tmp_path / ".covbot.yml") in message
    for needle in needles:
        assert needle in message


@pytest.mark.parametrize("text, key, expected", [
    ("thresholds: {diff: high}\n", "thresholds.diff", "a number"),
    ("thresholds: {diff: 120}\n", "thresholds.diff", "between 0 and 100"),
    ("thresholds: {min-lines: 2.5}\n", "thresholds.min-lines", "a non-negative integer"),
    ("thresholds: {min-lines: -1}\n", "thresholds.min-lines", "a non-negative integer"),
    ("goal: true\n", "goal", "a number"),
    ("annotate: 'yes'\n", "annotate", "true or false"),
    ("test-command: 42\n", "test-command", "a non-empty string"),
    ("critical: {paths: 3}\n", "critical.paths", "a list of strings"),
    ("tiers: [{name: A, min-statements: many}]\n", "tiers[0].min-statements", "a non-negative integer"),
])
def test_wrong_type_names_key_file_and_expected_type(tmp_path, text, key, expected):
    (tmp_path / ".covbot.yml").write_text(text)
    with pytest.raises(UsageError) as err:
        load_config(None, tmp_path)
    message = str(err.value)
    assert str(tmp_path / ".covbot.yml") in message and f"`{key}`" in message and expected in message


@pytest.mark.parametrize("text, needle", [
    ("- a\n- b\n", "must be a mapping"),
    ("thresholds: 80\n", "`thresholds` must be a mapping"),
    ("tiers: []\n", "`tiers` must be a non-empty list"),
    ("tiers: [{name: A, min-statements: 5}, {name: A, min-statements: 9}]\n", "unique"),
    ("tiers: [{target: 5}]\n", "needs name and min-statements"),
    ("goal: [80\n", "not valid YAML at line"),
])
def test_structural_errors(tmp_path, text, needle):
    (tmp_path / ".covbot.yml").write_text(text)
    with pytest.raises(UsageError, match=None) as err:
        load_config(None, tmp_path)
    assert needle in str(err.value) and str(tmp_path / ".covbot.yml") in str(err.value)


def test_not_utf8(tmp_path):
    (tmp_path / ".covbot.yml").write_bytes(b"goal: \xff\xfe\n")
    with pytest.raises(UsageError, match="not UTF-8"):
        load_config(None, tmp_path)


def test_explicit_missing_file_is_an_error_implicit_is_not(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_config("absent.yml", tmp_path)
    assert load_config(None, tmp_path) == Config()


def test_gate_list_from_flags():
    assert parse_gate_list("diff, total-drop") == ("diff", "total-drop")
    assert parse_gate_list("none") == ()
    with pytest.raises(UsageError, match="did you mean 'new-failures'"):
        parse_gate_list("diff,new-failure")


def test_overrides_win_and_none_keeps_the_file_value(tmp_path):
    cfg = parse_config({"thresholds": {"diff": 90}}, "x.yml")
    assert cfg.with_overrides(diff_threshold=70, min_lines=None).diff_threshold == 70
    assert cfg.with_overrides(diff_threshold=None).diff_threshold == 90


def test_readme_example_is_valid_and_shows_the_defaults():
    """The README's `.covbot.yml` reference parses, and its values are the defaults
    except the keys it says are not."""
    import re
    from dataclasses import fields
    from pathlib import Path

    import yaml

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"### `\.covbot\.yml`.*?```yaml\n(.*?)```", readme, re.S).group(1)
    cfg = parse_config(yaml.safe_load(block), "README.md")
    bookkeeping = {"source", "explicit"}     # where the settings came from, not settings
    differ = {f.name for f in fields(Config)
              if f.name not in bookkeeping and getattr(cfg, f.name) != getattr(Config(), f.name)}
    assert differ == {"base", "install_command", "timeout", "critical_paths"}
    documented = set(re.findall(r"^([a-z-]+):", block, re.M))
    from bot.app import config_file as config_module

    assert documented == set(config_module.TOP_KEYS) | set(config_module.SECTION_KEYS)


def test_contexts_input_of_the_action_overrides_the_file(tmp_path):
    from bot.app.settings import config_from_inputs, read_inputs

    (tmp_path / ".covbot.yml").write_text("contexts: true\n")
    assert config_from_inputs(read_inputs({"INPUT_CONTEXTS": "false"}), tmp_path, base="main").contexts is False
    assert config_from_inputs(read_inputs({}), tmp_path, base="main").contexts is True
    with pytest.raises(UsageError, match="contexts"):
        config_from_inputs(read_inputs({"INPUT_CONTEXTS": "sometimes"}), tmp_path, base="main")
