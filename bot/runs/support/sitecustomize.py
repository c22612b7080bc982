"""Started by Python in every process of a covbot test run (covbot puts this folder
first on PYTHONPATH): measures coverage with branch coverage on, into covbot's own
data files, honouring the project's coverage configuration."""

import os

if os.environ.get("COVBOT_COVERAGE_DATA"):
    try:
        import coverage
    except ImportError:  # a tool's own venv (tox, nox) without coverage: not measured
        coverage = None
    if coverage is not None and coverage.Coverage.current() is None:
        _rc = os.environ.get("COVBOT_COVERAGE_RC") or True
        _cov = coverage.Coverage(
            data_file=os.environ["COVBOT_COVERAGE_DATA"],
            data_suffix=True,
            branch=os.environ.get("COVBOT_BRANCH", "1") == "1",
            config_file=_rc,
        )
        # covbot's own helpers (this file, the results plugin) are not the project's code.
        _here = os.path.dirname(os.path.abspath(__file__))
        _cov.config.run_omit = list(_cov.config.run_omit or []) + [os.path.join(_here, "*")]
        _cov._warn_no_data = False
        _cov._warn_unimported_source = False
        _cov._warn_preimported_source = False
        if os.environ.get("COVBOT_TEST_CONTEXTS"):
            # per-test contexts, switched by covbot's pytest plugin under each node id: a
            # core that records them, and no automatic context of the project's (test_function)
            # competing with them in covbot's own data files
            _cov.config.dynamic_context = None
            if not _cov.config.core and not os.environ.get("COVERAGE_CORE"):
                _cov.config.core = "ctrace"
        _cov._auto_save = True
        _cov.start()
