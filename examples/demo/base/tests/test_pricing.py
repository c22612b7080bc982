import pytest

from demo_shop.pricing import format_price, with_tax


def test_with_tax_standard():
    assert with_tax(100) == 120.0


def test_with_tax_reduced():
    assert with_tax(100, "reduced") == 105.0


def test_negative_amount():
    with pytest.raises(ValueError):
        with_tax(-1)


def test_format_eur():
    assert format_price(3.5) == "3.50 €"
