"""Everything covbot reads from outside, in one place: the action's inputs (``INPUT_*`` /
``COVBOT_*``), the ``GITHUB_*`` variables and the event payload (:class:`Context`),
the command's flags, and ``.covbot.yml`` under both (:mod:`bot.app.config_file`).
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.app.config_file import describe_changes, load_config, load_config_at, parse_gate_list
from bot.model.config import Config
from bot.model.errors import CovbotError, InputError, UsageError
from bot.runs.git import Git

#: The events whose checkout is a pull request's: its settings file is not the run's.
PR_EVENTS = ("pull_request", "pull_request_target")

INPUTS = ("github-token", "base", "test-command", "install-command", "working-directory",
          "coverage-files", "junit-files", "config", "comment-id", "fail-on", "annotate", "baseline",
          "python-version", "timeout", "output-dir", "report-dir", "comment-author", "status",
          "html-report-url", "contexts")


def read_input(name: str, env: dict[str, str]) -> str | None:
    """An action input by its hyphenated name; empty means unset."""
    under = name.upper().replace("-", "_")
    for key in (f"COVBOT_{under}", f"INPUT_{name.upper()}", f"INPUT_{under}"):
        value = env.get(key)
        if value is not None and value.strip() != "":
            return value.strip()
    return None


def read_inputs(env: dict[str, str]) -> dict[str, str | None]:
    return {name: read_input(name, env) for name in INPUTS}


def parse_bool(value: str | None, name: str, default: bool) -> bool:
    if value is None:
        return default
    v = value.strip().lower()
    if v in ("true", "yes", "1", "on"):
        return True
    if v in ("false", "no", "0", "off"):
        return False
    raise UsageError(f"input {name}: {value!r} is not true or false", f"set `{name}: true` or `{name}: false`")


def split_list(value: str | None) -> list[str]:
    if not value:
        return []
    out = []
    for line in value.replace(",", "\n").splitlines():
        if line.strip():
            out.append(line.strip())
    return out


def expand_files(patterns: list[str], cwd: Path) -> list[str]:
    """Glob patterns (``coverage-*.xml``, ``shards/**/.coverage.*``) relative to ``cwd``."""
    out: list[str] = []
    for pat in patterns:
        full = pat if os.path.isabs(pat) else str(cwd / pat)
        if glob.has_magic(pat):
            matches = sorted(glob.glob(full, recursive=True, include_hidden=True))
            if not matches:
                raise InputError(f"coverage-files/junit-files: pattern {pat!r} matches no file in {cwd}",
                                 "check the artifact download path and the working-directory input")
            out.extend(m for m in matches if os.path.isfile(m))
        else:
            out.append(full)
    return out


@dataclass
class Context:
    event_name: str
    event: dict
    repository: str | None
    api_url: str
    server_url: str
    run_id: str | None
    sha: str | None
    ref: str | None
    workspace: Path | None
    env: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> "Context":
        event: dict = {}
        path = env.get("GITHUB_EVENT_PATH")
        if path:
            try:
                event = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(f"GITHUB_EVENT_PATH {path}: cannot read the event payload ({exc})",
                                 "run covbot as a step of a GitHub Actions workflow") from None
        return cls(event_name=env.get("GITHUB_EVENT_NAME", ""), event=event if isinstance(event, dict) else {},
                   repository=env.get("GITHUB_REPOSITORY"),
                   api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
                   server_url=env.get("GITHUB_SERVER_URL") or "https://github.com",
                   run_id=env.get("GITHUB_RUN_ID"), sha=env.get("GITHUB_SHA"), ref=env.get("GITHUB_REF"),
                   workspace=Path(env["GITHUB_WORKSPACE"]) if env.get("GITHUB_WORKSPACE") else None, env=env)

    @property
    def run_url(self) -> str | None:
        if self.repository and self.run_id:
            return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"
        return None

    @property
    def pull_request(self) -> dict:
        pr = self.event.get("pull_request")
        return pr if isinstance(pr, dict) else {}


# -- settings ------------------------------------------------------------------------

def settings_from_base(args, env: dict[str, str]) -> bool:
    """Whether ``covbot report`` takes its settings from the merge-base: ``--settings base``,
    or by default when GitHub Actions runs it for a pull request (its exit status gates
    the merge); a developer's own run (``--settings checkout``, the default elsewhere)
    uses the checkout's file."""
    choice = getattr(args, "settings", None) or "auto"
    if choice == "auto":
        return env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_EVENT_NAME") in PR_EVENTS
    return choice == "base"


def config_from_args(args, env: dict[str, str] | None = None) -> Config:
    """The settings of a command: ``.covbot.yml`` (or ``--config``) with the flags over it;
    of the merge-base when :func:`settings_from_base`."""
    env = dict(os.environ if env is None else env)
    root = Path(args.repo).resolve()
    base = getattr(args, "base", None)
    if settings_from_base(args, env):
        base = base or env.get("GITHUB_BASE_REF") or None
        cfg = base_settings(args.config, root, base)
    else:
        cfg = load_config(args.config, root)
    overrides = {
        "test_command": getattr(args, "test_command", None),
        "timeout": getattr(args, "timeout", None),
        "base": base,
        "baseline": getattr(args, "baseline", None),
        "diff_threshold": getattr(args, "diff_threshold", None),
        "min_lines": getattr(args, "min_lines", None),
        "comment_id": getattr(args, "comment_id", None),
        "contexts": getattr(args, "contexts", None),
    }
    if getattr(args, "fail_on", None) is not None:
        overrides["gate"] = parse_gate_list(args.fail_on)
    return cfg.with_overrides(**overrides)


def base_settings(path: str | None, root: Path, base: str | None) -> Config:
    """The settings of a pull request's run: the settings file of the merge-base with
    ``base``, not the PR's (which may not change what the gate requires or what runs);
    what the PR's file changes is said in the comment, effective once merged."""
    git = Git(root)
    try:
        _, sha = git.resolve_base(base or git.default_branch())
        merge_base = git.merge_base(sha, "HEAD")
    except CovbotError as exc:
        return Config(source="defaults", notes=(
            f"The base's settings could not be read ({exc.message}): this run uses covbot's defaults, "
            "not the pull request's settings file.",))
    cfg = load_config_at(git, merge_base, path, root)
    try:
        head = load_config(path, root)
    except UsageError as exc:
        note = (f"This pull request's settings file is not used: {exc.message}. This run uses the base's "
                f"settings ({cfg.source}); fix the file before it is merged.")
    else:
        changes = describe_changes(cfg, head)
        note = (f"This pull request changes covbot's settings: {'; '.join(changes)}. The change takes effect "
                f"once it is merged; this run uses the base's settings ({cfg.source}).") if changes else None
    return replace(cfg, notes=cfg.notes + ((note,) if note else ()))


def config_from_inputs(inputs: dict, root: Path, *, base: str | None, from_base: bool = False) -> Config:
    """The settings of an Action run: ``.covbot.yml`` with the action's inputs over it; on a
    pull request (``from_base``) the merge-base's file (:func:`base_settings`)."""
    cfg = base_settings(inputs["config"], root, inputs["base"] or base) if from_base else \
        load_config(inputs["config"], root)
    timeout = None
    if inputs["timeout"]:
        try:
            timeout = float(inputs["timeout"])
        except ValueError:
            raise UsageError(f"input timeout: {inputs['timeout']!r} is not a number of seconds",
                             "set e.g. `timeout: 600`") from None
    overrides = {"base": inputs["base"] or base, "test_command": inputs["test-command"],
                 "install_command": inputs["install-command"], "timeout": timeout,
                 "baseline": inputs["baseline"], "comment_id": inputs["comment-id"]}
    if not inputs["baseline"] and "baseline" not in cfg.explicit:
        # In the Action the stored baseline of the data branch is the default (no second
        # test run); a PR whose base has none yet falls back to testing the merge-base.
        overrides["baseline"] = "auto"
        if "baseline_fallback" not in cfg.explicit:
            overrides["baseline_fallback"] = "rerun"
    if inputs["fail-on"]:
        overrides["gate"] = parse_gate_list(inputs["fail-on"])
    for name in ("annotate", "contexts"):
        if inputs[name] is not None:
            overrides[name] = parse_bool(inputs[name], name, True)
    return cfg.with_overrides(**overrides)


def checkout_root(args) -> Path:
    """The top of the git checkout ``-C/--repo`` names."""
    path = Path(args.repo)
    if not path.is_dir():
        raise UsageError(f"--repo {args.repo}: no such directory")
    return Git(path).toplevel()


def workspace_root(cwd: Path) -> Path:
    """The top of the checkout the Action runs in."""
    try:
        return Git(cwd).toplevel()
    except CovbotError as exc:
        raise InputError(f"{cwd} is not a git checkout ({exc.message})",
                         "add `actions/checkout` with `fetch-depth: 0` before covbot, or set working-directory") from None


# -- the GitHub client ---------------------------------------------------------------

def api_policy(env: dict[str, str]):
    """The API client's limits (``COVBOT_API_*`` variables, for tests and slow servers)."""
    from bot.publish.github import ApiPolicy   # start-up time: only a run that posts needs it

    return ApiPolicy(max_attempts=int(env.get("COVBOT_API_ATTEMPTS", "4")),
                     max_wait=float(env.get("COVBOT_API_MAX_WAIT", "60")),
                     backoff=float(env.get("COVBOT_API_BACKOFF", "1")),
                     timeout=float(env.get("COVBOT_API_TIMEOUT", "20")),
                     write_delay=float(env.get("COVBOT_API_WRITE_DELAY", "1")))


def make_client(ctx: Context, inputs: dict, token: str | None):
    """The GitHub client of this run: its repository, API URL, token and limits."""
    from bot.publish.github import GitHubClient   # start-up time: only a run that posts needs it

    return GitHubClient(token or "", ctx.repository or "", api_url=ctx.api_url,
                        comment_author=inputs.get("comment-author"), policy=api_policy(ctx.env))
