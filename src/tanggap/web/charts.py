"""Charts drawn on the server as inline SVG: no script, nothing fetched by the browser."""

from __future__ import annotations

from markupsafe import Markup, escape

ROW = 22
LABEL_WIDTH = 180
BAR_WIDTH = 260
WIDTH = LABEL_WIDTH + BAR_WIDTH + 70


def bars(title: str, items: list[tuple[str, float]], *, percent: bool = False) -> Markup:
    """Draw a horizontal bar per (label, value); ``percent`` reads values as shares of 1."""
    if not items:
        return Markup("")
    top = 1.0 if percent else max((value for _, value in items), default=0) or 1.0
    height = ROW * len(items) + 6
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for row, (label, value) in enumerate(items):
        y = row * ROW + 3
        width = round(BAR_WIDTH * value / top, 1)
        shown = f"{value * 100:.1f}%" if percent else f"{value:g}"
        parts += [
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end">{escape(label)}</text>',
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{ROW - 6}" rx="2"/>',
            f'<text x="{LABEL_WIDTH + width + 6}" y="{y + 14}">{escape(shown)}</text>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))
