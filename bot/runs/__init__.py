"""What covbot runs: git, the project's tests (collect, rerun, worktree), Python provisioning, the pytest plugin."""
