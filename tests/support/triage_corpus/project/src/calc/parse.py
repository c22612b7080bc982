"""Parse price lists like "apple=1.5; pear=2"."""


def parse_prices(text):
    out = {}
    for item in text.split(";"):
        item = item.strip()
        if not item:
            continue
        name, _, value = item.partition("=")
        out[name.strip()] = float(value)
    return out
