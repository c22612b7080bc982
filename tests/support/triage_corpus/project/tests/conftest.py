import pytest


@pytest.fixture
def prices():
    return [1.0, 2.0, 3.0]
