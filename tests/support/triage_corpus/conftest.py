# The sample project and its seeded defects are data for the triage tests, run in
# temporary copies; they are not part of covbot's own suite.
collect_ignore = ["project", "defects"]
