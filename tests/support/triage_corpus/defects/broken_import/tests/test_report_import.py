from calc.engine import total, format_total  # format_total was never written


def test_format_total():
    assert format_total(total([1, 2])) == "3.00"
