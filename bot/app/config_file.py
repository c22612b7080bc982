"""``.covbot.yml``: read, validated and turned into a :class:`~bot.model.config.Config`.

Every key is optional. Validation is strict and its messages name the file, the key,
what was expected and, for an unknown key, the closest valid one.
"""

from __future__ import annotations

import re
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from bot.model.config import GATE_RULES, Config, Tier
from bot.model.errors import UsageError
from bot.model.globs import glob_regex


# key in YAML → (attribute, type checker description, converter)
def _num(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError("a number")
    return float(v)


def _pct(v):
    v = _num(v)
    if not 0 <= v <= 100:
        raise TypeError("a percentage between 0 and 100")
    return v


def _int(v):
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise TypeError("a non-negative integer")
    return v


def _str(v):
    if not isinstance(v, str) or not v.strip():
        raise TypeError("a non-empty string")
    return v


def _bool(v):
    if not isinstance(v, bool):
        raise TypeError("true or false")
    return v


def _str_list(v):
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise TypeError("a list of strings")
    return tuple(v)


def _fallback(v):
    if v not in ("rerun", "none"):
        raise TypeError("rerun or none")
    return v


def _gate(v):
    rules = _str_list(v)
    for r in rules:
        if r not in GATE_RULES:
            raise TypeError(_unknown_msg("gate rule", r, GATE_RULES))
    return rules


TOP_KEYS = {
    "base": ("base", _str),
    "test-command": ("test_command", _str),
    "install-command": ("install_command", _str),
    "baseline": ("baseline", _str),
    "baseline-fallback": ("baseline_fallback", _fallback),
    "timeout": ("timeout", _num),
    "rerun-failures": ("rerun_failures", _bool),
    "goal": ("goal", _pct),
    "goal-share": ("goal_share", _pct),
    "high-impact": ("high_impact_count", _int),
    "gate": ("gate", _gate),
    "comment-id": ("comment_id", _str),
    "annotate": ("annotate", _bool),
    "data-branch": ("data_branch", _str),
    "history-length": ("history_length", _int),
    "trend-points": ("trend_points", _int),
    "max-comment-files": ("max_comment_files", _int),
}
_THRESHOLDS = {
    "diff": ("diff_threshold", _pct),
    "min-lines": ("min_lines", _int),
    "total-drop": ("total_drop", _num),
    "pass-rate": ("pass_rate", _pct),
}
SECTION_KEYS = ("thresholds", "tiers", "critical")
_TIER_KEYS = {"name": _str, "min-statements": _int, "target": _pct}


def _globs(v):
    for pattern in _str_list(v):
        try:
            glob_regex(pattern)
        except re.error as exc:
            raise TypeError(f"a list of path globs ({pattern!r} is not one: {exc})") from None
    return _str_list(v)


_CRITICAL_KEYS = {"paths": _globs, "target": _pct}


def _unknown_msg(what: str, key: str, valid) -> str:
    import difflib   # only for an error message

    close = difflib.get_close_matches(str(key), list(valid), n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {what} {key!r}{hint}; valid: {', '.join(sorted(valid))}"


def parse_config(doc: Any, source: str, base: Config | None = None) -> Config:
    cfg = base or Config()
    if doc is None:
        return replace(cfg, source=source)
    if not isinstance(doc, dict):
        raise UsageError(f"{source}: the top level must be a mapping of keys to values, got {type(doc).__name__}")
    values: dict[str, Any] = {}

    def check(key_path: str, conv, value):
        try:
            return conv(value)
        except TypeError as exc:
            raise UsageError(f"{source}: `{key_path}` must be {exc}, got {value!r}") from None

    valid_top = set(TOP_KEYS) | set(SECTION_KEYS)
    for key, value in doc.items():
        if key in TOP_KEYS:
            attr, conv = TOP_KEYS[key]
            values[attr] = check(key, conv, value)
        elif key == "thresholds":
            if not isinstance(value, dict):
                raise UsageError(f"{source}: `thresholds` must be a mapping, got {value!r}")
            for k, v in value.items():
                if k not in _THRESHOLDS:
                    raise UsageError(f"{source}: " + _unknown_msg("key", f"thresholds.{k}",
                                                                     [f"thresholds.{t}" for t in _THRESHOLDS]))
                attr, conv = _THRESHOLDS[k]
                values[attr] = check(f"thresholds.{k}", conv, v)
        elif key == "tiers":
            values["tiers"] = _parse_tiers(value, source, check)
        elif key == "critical":
            if not isinstance(value, dict):
                raise UsageError(f"{source}: `critical` must be a mapping with `paths` and `target`, got {value!r}")
            for k, v in value.items():
                if k not in _CRITICAL_KEYS:
                    raise UsageError(f"{source}: " + _unknown_msg("key", f"critical.{k}",
                                                                     [f"critical.{c}" for c in _CRITICAL_KEYS]))
                conv = _CRITICAL_KEYS[k]
                values["critical_paths" if k == "paths" else "critical_target"] = check(f"critical.{k}", conv, v)
        else:
            raise UsageError(f"{source}: " + _unknown_msg("key", key, valid_top))
    return replace(cfg, source=source, explicit=tuple(values), **values)


def _parse_tiers(value, source, check) -> tuple[Tier, ...]:
    if not isinstance(value, list) or not value:
        raise UsageError(f"{source}: `tiers` must be a non-empty list of {{name, min-statements, target}}")
    tiers = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise UsageError(f"{source}: `tiers[{i}]` must be a mapping, got {item!r}")
        for k in item:
            if k not in _TIER_KEYS:
                raise UsageError(f"{source}: " + _unknown_msg("key", f"tiers[{i}].{k}",
                                                                 [f"tiers[{i}].{t}" for t in _TIER_KEYS]))
        missing = [k for k in ("name", "min-statements") if k not in item]
        if missing:
            raise UsageError(f"{source}: `tiers[{i}]` needs {' and '.join(missing)}")
        tiers.append(Tier(check(f"tiers[{i}].name", _str, item["name"]),
                          check(f"tiers[{i}].min-statements", _int, item["min-statements"]),
                          check(f"tiers[{i}].target", _pct, item.get("target", 50))))
    tiers.sort(key=lambda t: -t.min_statements)
    names = [t.name for t in tiers]
    if any(n.strip().lower() == "small" for n in names):
        raise UsageError(f"{source}: the tier name 'small' is reserved for files under the smallest tier; "
                         "choose another name")
    if len(set(names)) != len(names):
        raise UsageError(f"{source}: tier names must be unique, got {names}")
    mins = [t.min_statements for t in tiers]
    if len(set(mins)) != len(mins):
        raise UsageError(f"{source}: two tiers have the same min-statements: {mins}")
    return tuple(tiers)


def load_config(path: str | Path | None, root: Path) -> Config:
    """Read ``path`` (or ``.covbot.yml`` / ``.covbot.yaml`` at ``root`` when it exists)."""
    explicit = path is not None
    if path is None:
        for name in (".covbot.yml", ".covbot.yaml"):
            if (root / name).is_file():
                path = root / name
                break
        else:
            return Config()
    path = Path(path)
    if not path.is_absolute():
        path = root / path
    if not path.is_file():
        if explicit:
            raise UsageError(f"config file {path} does not exist", "check --config / the `config` input")
        return Config()
    import yaml   # only when there is a file to read: importing it costs more than the rest of a report

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UsageError(f"{path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    return parse_config(doc, str(path))


def parse_gate_list(text: str, source: str = "--fail-on") -> tuple[str, ...]:
    rules = tuple(r.strip() for r in text.replace(",", " ").split() if r.strip())
    if rules in (("none",), ()):
        return ()
    for r in rules:
        if r not in GATE_RULES:
            raise UsageError(f"{source}: " + _unknown_msg("gate rule", r, GATE_RULES))
    return rules


def config_fields() -> list[str]:
    return [f.name for f in fields(Config)]
