from demo_shop.cart import Cart


def test_add_and_total():
    cart = Cart()
    cart.add("apple", 1.0, 3)
    assert cart.count() == 3
    assert cart.total() == 3.6


def test_remove():
    cart = Cart()
    cart.add("apple", 1.0)
    cart.add("pear", 2.0)
    cart.remove("apple")
    assert cart.subtotal() == 2.0
