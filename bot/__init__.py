"""covbot: diff coverage, coverage deltas, failing-test triage and tier targets for Python PRs."""

__version__ = "0.1.0"
