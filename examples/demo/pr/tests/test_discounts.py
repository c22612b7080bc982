from demo_shop.discounts import apply_discount, discount_rate


def test_no_code():
    assert discount_rate(None) == 0.0


def test_welcome():
    assert apply_discount(100.0, "welcome10") == 90.0
