import os
from pathlib import Path

import pytest

from calc import engine

# Fails on the first attempt of every pytest session, passes when retried.
_STATE = Path(f".flaky-marker-{os.getpid()}")


@pytest.mark.flaky(reruns=2)
def test_total_eventually():
    first = not _STATE.exists()
    _STATE.touch()
    assert not first, "simulated race: the cache was not warm yet"
    assert engine.total([1, 2]) == 3
