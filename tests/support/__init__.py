"""Helpers shared by the unit, integration and end-to-end tests.

``tests/`` is on ``sys.path`` (``pythonpath`` in pyproject.toml), so tests import these
as ``support.<module>``:

- ``repo_factory``: sample git repositories and projects, and the real tools run on them
- ``small_pr``, ``hard_cases_pr``: sample pull requests more than one test module uses
- ``action_support``: ``entrypoint.sh`` driven the way the Actions runner drives it
- ``fakegithub``: a fake GitHub REST API on loopback (also runnable as a script)
- ``markdown_check``: structural checks that a rendered comment is inert
- ``hostile``: pull-request text chosen to break a Markdown comment
- ``triage_corpus``: a sample project with seeded defects, ground truth for the triage
- ``image/``: the container image test's base builder, podman configuration and the
  tracer overhead measurement
"""
