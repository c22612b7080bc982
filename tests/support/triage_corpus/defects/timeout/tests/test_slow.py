import time

import pytest

from calc import engine


@pytest.mark.timeout(1)
def test_waits_for_rates_service():
    time.sleep(30)
    assert engine.total([1]) == 1
