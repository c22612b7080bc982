"""Discount codes."""

CODES = {"WELCOME10": 0.10, "VIP25": 0.25}


def discount_rate(code: str | None) -> float:
    if not code:
        return 0.0
    code = code.strip().upper()
    if code not in CODES:
        raise KeyError(f"unknown discount code {code!r}")
    return CODES[code]


def apply_discount(amount: float, code: str | None) -> float:
    rate = discount_rate(code)
    if rate == 0:
        return amount
    discounted = amount * (1 - rate)
    if discounted < 1.0:
        # Never sell below one unit of currency.
        return 1.0
    return round(discounted, 2)


def describe(code: str) -> str:
    rate = discount_rate(code)
    if rate >= 0.25:
        return f"{code}: {int(rate * 100)}% off, our best offer"
    return f"{code}: {int(rate * 100)}% off"


def best_code(codes: list[str]) -> str | None:
    best, best_rate = None, 0.0
    for code in codes:
        try:
            rate = discount_rate(code)
        except KeyError:
            continue
        if rate > best_rate:
            best, best_rate = code, rate
    return best
