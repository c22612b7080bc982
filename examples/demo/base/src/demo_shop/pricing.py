"""Prices with tax."""

TAX_RATES = {"standard": 0.20, "reduced": 0.05, "zero": 0.0}


def with_tax(amount: float, rate: str = "standard") -> float:
    if amount < 0:
        raise ValueError("amount must not be negative")
    if rate not in TAX_RATES:
        raise KeyError(f"unknown tax rate {rate!r}")
    return round(amount * (1 + TAX_RATES[rate]), 2)


def format_price(amount: float, currency: str = "EUR") -> str:
    if currency == "EUR":
        return f"{amount:.2f} €"
    if currency == "USD":
        return f"${amount:.2f}"
    return f"{amount:.2f} {currency}"
