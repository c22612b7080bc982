from calc.discount import discounted


def test_save10():
    assert discounted(200, "SAVE10") == 180.0


def test_unknown_code():
    assert discounted(200, "NOPE") == 200.0
