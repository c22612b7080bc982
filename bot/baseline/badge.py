"""The coverage badge: a small flat SVG, like shields.io's, kept on the data branch.

Link it from a README with the raw URL of ``badge.svg`` on the data branch; no image
service is involved.
"""

from __future__ import annotations

from html import escape   # xml.sax.saxutils costs 20 ms of imports (urllib, http.client)

#: (lower bound in %, colour): the first bound the value reaches gives the colour.
COLOURS = ((90.0, "#4c1"), (80.0, "#97ca00"), (70.0, "#a4a61d"), (60.0, "#dfb317"),
           (50.0, "#fe7d37"), (0.0, "#e05d44"))
NO_DATA = "#9f9f9f"


def colour(percent: float | None) -> str:
    if percent is None:
        return NO_DATA
    return next(c for bound, c in COLOURS if percent >= bound)


def _width(text: str) -> int:
    # Verdana 11px averages about 6.5px a character; digits and '%' are close to that.
    return int(len(text) * 6.5 + 10)


def badge_svg(percent: float | None, label: str = "coverage") -> str:
    """An SVG badge ``label | 87.25%`` coloured by the value (grey when unknown)."""
    value = "unknown" if percent is None else f"{percent:.2f}%"
    lw, vw = _width(label), _width(value)
    total = lw + vw
    lab, val = escape(label, quote=False), escape(value, quote=False)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{lab}: {val}">'
        f"<title>{lab}: {val}</title>"
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        f'<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{vw}" height="20" fill="{colour(percent)}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        f'font-size="11">'
        f'<text x="{lw / 2:.1f}" y="15" fill="#010101" fill-opacity=".3">{lab}</text>'
        f'<text x="{lw / 2:.1f}" y="14">{lab}</text>'
        f'<text x="{lw + vw / 2:.1f}" y="15" fill="#010101" fill-opacity=".3">{val}</text>'
        f'<text x="{lw + vw / 2:.1f}" y="14">{val}</text></g></svg>\n'
    )
