"""Charts drawn on the server as SVG: no script, no CDN, no ``style=`` (strict CSP), readable on a phone
(a ``viewBox`` that scales to the width, large labels). Each chart has its numbers as a table beside it.
Hidden figures (small-cell suppression) draw no bar: they are labelled "< 5" or "≥ 5" instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from marketplace.disclosure import Figure

INK, BAR, MUTED, GRID = "#1f2937", "#2f6f5e", "#9ca3af", "#e5e7eb"

# The 30 kecamatan of Kota Bandung on a 7 × 5 grid, roughly where they lie (north at the top, west at the
# left). Laid out by hand for this chart; no boundary data is used.
TILE_GRID: dict[str, tuple[int, int]] = {
    "32.73.01": (0, 0), "32.73.07": (0, 1), "32.73.08": (0, 2), "32.73.02": (0, 3), "32.73.18": (0, 4),
    "32.73.30": (0, 5), "32.73.26": (0, 6),
    "32.73.06": (1, 0), "32.73.05": (1, 1), "32.73.09": (1, 2), "32.73.14": (1, 3), "32.73.20": (1, 4),
    "32.73.24": (1, 5), "32.73.25": (1, 6),
    "32.73.15": (2, 0), "32.73.10": (2, 1), "32.73.19": (2, 2), "32.73.12": (2, 3), "32.73.16": (2, 4),
    "32.73.29": (2, 5), "32.73.28": (2, 6),
    "32.73.03": (3, 0), "32.73.04": (3, 1), "32.73.11": (3, 2), "32.73.13": (3, 3), "32.73.22": (3, 4),
    "32.73.23": (3, 5), "32.73.27": (3, 6),
    "32.73.17": (4, 1), "32.73.21": (4, 3),
}
SHADES = ("#eef6f3", "#cfe7de", "#9fcfbe", "#6db59c", "#3f9478", "#2f6f5e")


def _svg(width: int, height: int, title: str, body: str) -> Markup:
    return Markup(  # noqa: S704 (every text below is escaped)
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>')


def bar_chart(title: str, items: Sequence[tuple[str, Figure]], *, horizontal: bool = False) -> Markup:
    """Bars of counts; vertical for a time series, horizontal for categories with long names."""
    top = max([f.plot_value for _, f in items] + [1])
    parts = []
    if horizontal:  # label above its bar: long names stay readable on a phone
        row, width = 52, 520
        height = row * len(items) + 6
        for n, (label, f) in enumerate(items):
            y = 4 + n * row
            w = int((width - 90) * f.plot_value / top)
            parts.append(f'<text x="0" y="{y + 17}" font-size="17" fill="{INK}">{escape(label)}</text>')
            parts.append(f'<rect x="0" y="{y + 24}" width="{max(w, 0)}" height="22" fill="{BAR}"/>')
            parts.append(f'<text x="{w + 8}" y="{y + 42}" font-size="17" '
                         f'fill="{MUTED if f.hidden else INK}">{escape(f.label)}</text>')
        return _svg(width, height, title, "".join(parts))
    width, height, base, left = 520, 260, 220, 10
    slot = (width - left * 2) / max(1, len(items))
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - left}" y2="{base}" stroke="{GRID}" stroke-width="2"/>')
    for n, (label, f) in enumerate(items):
        x = left + n * slot
        h = int((base - 40) * f.plot_value / top)
        parts.append(f'<rect x="{x + slot * 0.15:.1f}" y="{base - h}" width="{slot * 0.7:.1f}" height="{h}" '
                     f'fill="{BAR}"/>')
        parts.append(f'<text x="{x + slot / 2:.1f}" y="{base - h - 8}" text-anchor="middle" font-size="15" '
                     f'fill="{MUTED if f.hidden else INK}">{escape(f.label)}</text>')
        parts.append(f'<text x="{x + slot / 2:.1f}" y="{base + 24}" text-anchor="middle" font-size="14" '
                     f'fill="{INK}">{escape(label)}</text>')
    return _svg(width, height, title, "".join(parts))


def tile_map(title: str, tiles: Sequence[tuple[str, str, Figure]]) -> Markup:
    """One square per kecamatan (code, name, figure), shaded by its count; hidden counts are shaded lightest."""
    size, gap = 96, 6
    top = max([f.plot_value for _, _, f in tiles] + [1])
    parts = []
    for code, name, f in tiles:
        if code not in TILE_GRID:
            continue
        r, c = TILE_GRID[code]
        x, y = c * (size + gap), r * (size + gap)
        shade = SHADES[0] if f.hidden or not f.plot_value else SHADES[min(5, 1 + int(4.999 * f.plot_value / top))]
        ink = "#ffffff" if shade in SHADES[4:] else INK
        short = name if len(name) <= 11 else name[:10] + "…"
        parts.append(f'<g><title>{escape(name)}: {escape(f.label)}</title>'
                     f'<rect x="{x}" y="{y}" width="{size}" height="{size}" rx="6" fill="{shade}" stroke="{GRID}"/>'
                     f'<text x="{x + size / 2}" y="{y + 34}" text-anchor="middle" font-size="15" fill="{ink}">'
                     f"{escape(short)}</text>"
                     f'<text x="{x + size / 2}" y="{y + 70}" text-anchor="middle" font-size="28" font-weight="bold" '
                     f'fill="{ink}">{escape(f.label)}</text></g>')
    return _svg(7 * (size + gap), 5 * (size + gap), title, "".join(parts))


def funnel(title: str, stages: Sequence[tuple[str, Figure]]) -> Markup:
    """Stages from the need down to confirmed deliveries, each bar as wide as its share of the first."""
    return bar_chart(title, stages, horizontal=True)
