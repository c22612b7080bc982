from pathlib import Path

from calc import engine

# Fails in the first pytest process that runs it in this directory, passes in any later one.
_STATE = Path(".flaky-order-ran")


def test_average_warm_cache():
    first = not _STATE.exists()
    _STATE.touch()
    assert not first, "simulated ordering dependency: state left over by another test"
    assert engine.average([2, 4]) == 3.0
