from calc.parse import parse_prices


def test_parse_two():
    assert parse_prices("apple=1.5; pear=2") == {"apple": 1.5, "pear": 2.0}


def test_parse_trailing_separator():
    assert parse_prices("apple=1.5;") == {"apple": 1.5}
