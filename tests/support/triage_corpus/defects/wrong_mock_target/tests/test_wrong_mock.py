from unittest import mock

from calc import engine


def test_average_uses_total():
    # total lives in calc.engine; calc.engine.sum_prices does not exist
    with mock.patch("calc.engine.sum_prices", return_value=10):
        assert engine.average([1, 2]) == 5.0


def test_rate_with_module_typo():
    with mock.patch("calc.netwrok.fetch_rate", return_value=1.2):
        assert engine.apply_tax(100, 0.2) == 120.0
