from calc.engine import total


def test_total_two():
    assert total([2, 3]) == 5


def test_total_empty():
    assert total([]) == 0
