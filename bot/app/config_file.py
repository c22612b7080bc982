"""``.covbot.yml``: read, validated and turned into a :class:`~bot.model.config.Config`.

Every key is optional. Validation is strict and its messages name the file, the key,
what was expected and, for an unknown key, the closest valid one.
"""

from __future__ import annotations

import os
import re
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from bot.model.config import GATE_RULES, Config, Tier
from bot.model.errors import UsageError
from bot.model.globs import glob_regex
from bot.runs.git import Git


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


class _Unknown(TypeError):
    """A value of the right type that names nothing covbot knows: said as is, not as
    "must be <type>"."""


def _gate(v):
    rules = _str_list(v)
    for r in rules:
        if r not in GATE_RULES:
            raise _Unknown(_unknown_msg("gate rule", r, GATE_RULES))
    return rules


TOP_KEYS = {
    "base": ("base", _str),
    "test-command": ("test_command", _str),
    "install-command": ("install_command", _str),
    "baseline": ("baseline", _str),
    "baseline-fallback": ("baseline_fallback", _fallback),
    "timeout": ("timeout", _num),
    "rerun-failures": ("rerun_failures", _bool),
    "contexts": ("contexts", _bool),
    "goal": ("goal", _pct),
    "goal-share": ("goal_share", _pct),
    "high-impact": ("high_impact_count", _int),
    "target-tests": ("target_tests", _bool),
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
        except _Unknown as exc:
            raise UsageError(f"{source}: `{key_path}`: {exc}") from None
        except TypeError as exc:
            raise UsageError(f"{source}: `{key_path}` must be {exc}, got {value!r}") from None

    valid_top = set(TOP_KEYS) | set(SECTION_KEYS)
    for key, value in doc.items():
        if key in TOP_KEYS:
            attr, conv = TOP_KEYS[key]
            values[attr] = check(key, conv, value)
        elif key == "thresholds":
            for k, v in _section_items(source, key, value, _THRESHOLDS, "a mapping"):
                attr, conv = _THRESHOLDS[k]
                values[attr] = check(f"thresholds.{k}", conv, v)
        elif key == "tiers":
            values["tiers"] = _parse_tiers(value, source, check)
        elif key == "critical":
            for k, v in _section_items(source, key, value, _CRITICAL_KEYS, "a mapping with `paths` and `target`"):
                values["critical_paths" if k == "paths" else "critical_target"] = check(f"critical.{k}",
                                                                                        _CRITICAL_KEYS[k], v)
        else:
            raise UsageError(f"{source}: " + _unknown_msg("key", key, valid_top))
    return replace(cfg, source=source, explicit=tuple(values), **values)


def _section_items(source: str, section: str, value, keys, shape: str):
    """The ``(key, value)`` pairs of a mapping section such as ``thresholds``; anything
    that is not a mapping, or a key it does not know, is one clear error."""
    if not isinstance(value, dict):
        raise UsageError(f"{source}: `{section}` must be {shape}, got {value!r}")
    for k, v in value.items():
        if k not in keys:
            raise UsageError(f"{source}: " + _unknown_msg("key", f"{section}.{k}", [f"{section}.{t}" for t in keys]))
        yield k, v


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


CONFIG_NAMES = (".covbot.yml", ".covbot.yaml")


def load_config(path: str | Path | None, root: Path) -> Config:
    """Read ``path`` (or ``.covbot.yml`` / ``.covbot.yaml`` at ``root`` when it exists).

    A file in the checkout must be a regular file reached without links: the checkout
    is the pull request's, and a link could make covbot read (and quote in an error)
    any file of the machine. A file outside the checkout was named by the user."""
    explicit = path is not None
    if path is None:
        for name in CONFIG_NAMES:
            if (root / name).is_file() or (root / name).is_symlink():
                path = root / name
                break
        else:
            return Config()
    path = Path(path)
    if not path.is_absolute():
        path = root / path
    _refuse_links(path, root)
    if not path.is_file():
        if explicit:
            raise UsageError(f"config file {path} does not exist", "check --config / the `config` input")
        return Config()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"config file {path}: cannot read it ({exc.strerror})") from None
    return parse_text(data, str(path))


def _refuse_links(path: Path, root: Path) -> None:
    """Raise when ``path`` lies in the checkout and a link is on its way (or it is one)."""
    top = Path(os.path.abspath(root))
    try:
        rel = Path(os.path.abspath(path)).relative_to(top)
    except ValueError:
        return    # outside the checkout: the user's own file
    walked = top
    for part in rel.parts:
        walked = walked / part
        if walked.is_symlink():
            raise UsageError(
                f"config file {rel.as_posix()}: {os.path.relpath(walked, top)} is a symbolic link; covbot reads "
                "its settings only from a regular file in the checkout",
                "commit the settings as a regular file, or name a file outside the checkout with "
                "--config / the `config` input")


def parse_text(data: bytes, source: str) -> Config:
    """A settings file's bytes, parsed and validated (``source`` names it in messages)."""
    import yaml   # only when there is a file to read: importing it costs more than the rest of a report

    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UsageError(f"{source} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{source} is not UTF-8 text") from None
    return parse_config(doc, source)


def load_config_at(git: Git, commit: str, path: str | Path | None, root: Path) -> Config:
    """The settings file as it is in ``commit`` (the merge-base of a pull request), not as
    the checkout has it; a link there is refused like one in the checkout."""
    names = [path] if path is not None else list(CONFIG_NAMES)
    for name in names:
        full = Path(name) if Path(name).is_absolute() else root / name
        try:
            rel = Path(os.path.abspath(full)).relative_to(Path(os.path.abspath(root))).as_posix()
        except ValueError:
            return load_config(full, root)      # outside the checkout: not the PR's to change
        entry = git.run(["ls-tree", "-z", commit, "--", rel], check=False).split("\0")[0]
        if not entry:
            continue
        mode, _, rest = entry.partition(" ")
        sha = rest.split("\t", 1)[0].split()[-1]
        source = f"{rel} at {commit[:7]}"
        if mode not in ("100644", "100755"):
            raise UsageError(f"config file {source} is not a regular file (a link or a folder); covbot reads "
                             "its settings only from a regular file", "commit the settings as a regular file")
        return parse_text(git.run_bytes(["cat-file", "blob", sha]), source)
    if path is not None:
        raise UsageError(f"config file {path} does not exist at the merge-base {commit[:7]}",
                         "check --config / the `config` input")
    return Config(source=f"defaults (no {CONFIG_NAMES[0]} at {commit[:7]})")


def describe_changes(base: Config, head: Config) -> list[str]:
    """What ``head``'s settings file changes against ``base``'s, one ``key old → new`` each."""
    keys = {attr: key for key, (attr, _) in TOP_KEYS.items()}
    keys.update({attr: f"thresholds.{key}" for key, (attr, _) in _THRESHOLDS.items()})
    keys.update(tiers="tiers", critical_paths="critical.paths", critical_target="critical.target")
    out = []
    for attr, key in keys.items():
        old, new = getattr(base, attr), getattr(head, attr)
        if old != new:
            out.append(f"{key} {_show(old)} → {_show(new)}")
    return out


def _show(value) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        if not value:
            return "none"
        if isinstance(value[0], Tier):
            return ", ".join(f"{t.name} from {t.min_statements} statements at {t.target:g}%" for t in value)
        return ", ".join(map(str, value))
    return str(value)


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
