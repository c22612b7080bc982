from calc import engine


def test_total_of_basket(basket):
    assert engine.total(basket) == 6.0
