"""A shopping cart."""

from demo_shop.discounts import apply_discount
from demo_shop.pricing import with_tax


class Cart:
    def __init__(self):
        self.items = []
        self.code = None

    def add(self, name: str, price: float, quantity: int = 1) -> None:
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self.items.append((name, price, quantity))

    def remove(self, name: str) -> None:
        self.items = [item for item in self.items if item[0] != name]

    def use_code(self, code: str) -> None:
        self.code = code

    def subtotal(self) -> float:
        return sum(price * quantity for _, price, quantity in self.items)

    def total(self, rate: str = "standard") -> float:
        # Bug: the discount is applied after tax and rounds the wrong way.
        return int(apply_discount(with_tax(self.subtotal(), rate), self.code))

    def count(self) -> int:
        return sum(quantity for _, _, quantity in self.items)
