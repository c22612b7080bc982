"""Readers of what earlier steps or runs wrote: coverage data, JUnit and per-attempt results, git's diff."""
