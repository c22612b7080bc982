"""Discount codes."""

CODES = {"SAVE10": 10, "HALF": 50}


def discounted(amount, code):
    percent = CODES.get(code, 0)
    return round(amount * (100 - percent) / 100, 2)
