"""Comment sections contributed by later stages (test triage, tiers, trend).

Each entry of ``ALL`` takes a report and returns a markdown Section or ``None``.
"""

from __future__ import annotations

ALL: list = []


def _register_defaults() -> None:
    for modname, fn in (("bot.render.tests_section", "tests_section"),
                        ("bot.render.tiers_section", "tiers_section"),
                        ("bot.render.trend_section", "trend_section")):
        try:
            module = __import__(modname, fromlist=[fn])
        except ImportError:
            continue
        ALL.append(getattr(module, fn))


_register_defaults()
