"""Prices and totals."""


def total(prices):
    return sum(prices)


def average(prices):
    if not prices:
        return 0.0
    return total(prices) / len(prices)


def unit_price(amount, quantity):
    return amount / quantity


def apply_tax(amount, rate):
    return round(amount * (1 + rate), 2)
