"""GitHub: the client, the sticky comment and status, fork-safe artifacts, Actions outputs."""
