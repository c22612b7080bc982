"""The pure stages: diff coverage and deltas, triage, tiers, the gate."""
