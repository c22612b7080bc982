from calc import engine


def test_total(prices):
    assert engine.total(prices) == 6.0


def test_average(prices):
    assert engine.average(prices) == 2.0


def test_average_empty():
    assert engine.average([]) == 0.0


def test_unit_price():
    assert engine.unit_price(10, 4) == 2.5


def test_tax():
    assert engine.apply_tax(100, 0.2) == 120.0
