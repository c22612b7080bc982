"""The settings as plain data: every setting and its default (:class:`Config`), the tiers
and the gate's rules. Read from ``.covbot.yml`` by :mod:`bot.app.config_file`, with
flags and action inputs over it (:mod:`bot.app.settings`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

GATE_RULES = ("diff", "total-drop", "new-failures", "pass-rate", "tier-regression")
DEFAULT_GATE = ("diff", "total-drop", "new-failures", "tier-regression")


@dataclass(frozen=True)
class Tier:
    """A size tier: files with at least ``min_statements`` statements, held to ``target``."""

    name: str
    min_statements: int
    target: float


DEFAULT_TIERS = (
    Tier("Tier 1", 501, 50.0),
    Tier("Tier 2", 300, 50.0),
    Tier("Tier 3", 150, 50.0),
)


@dataclass(frozen=True)
class Config:
    """Every setting: the defaults, then .covbot.yml, then flags or action inputs over both."""

    base: str | None = None
    test_command: str = "pytest"
    install_command: str | None = None
    baseline: str = "rerun"           # rerun | none | auto | path to report.json/coverage.json
    baseline_fallback: str = "none"   # when `auto` finds no stored baseline: rerun | none
    timeout: float | None = None      # seconds for one test run
    rerun_failures: bool = True       # rerun failed tests once to detect flaky ones
    contexts: bool = True             # record (and read) which tests ran each line
    # thresholds
    diff_threshold: float = 80.0
    min_lines: int = 20
    total_drop: float = 0.5
    pass_rate: float = 98.0
    # tiers and goal
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    critical_paths: tuple[str, ...] = ()
    critical_target: float = 70.0
    goal: float = 80.0
    goal_share: float = 50.0          # share (%) of the gap the "next plan" closes
    high_impact_count: int = 10
    target_tests: bool = False        # test files get tier targets, the plan and high-impact places too
    gate: tuple[str, ...] = DEFAULT_GATE
    # output / publishing
    comment_id: str = "covbot"
    annotate: bool = True
    data_branch: str = "covbot-data"
    history_length: int = 500
    trend_points: int = 20
    max_comment_files: int = 30
    source: str = "defaults"          # where the settings came from (for messages)
    explicit: tuple[str, ...] = ()    # attributes the settings file set (others are defaults)
    notes: tuple[str, ...] = ()       # what the comment says of the settings (a PR that changes them)

    def with_overrides(self, **kwargs: Any) -> "Config":
        clean = {k: v for k, v in kwargs.items() if v is not None}
        return replace(self, **clean)
