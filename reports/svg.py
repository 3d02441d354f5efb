"""The SVG kit behind reports/charts.py: text, numbers, scales, gridlines, frames, legends.

It exists so that the conventions every chart must keep (described in reports/charts.py: XML-safe
and escaped text, estimated text widths, coordinates rounded to 2 decimals, the `<svg>` root with
its title and description, no ids or stylesheets) are written once, and so that charts.py holds
only the six chart types. A change of how a chart is drawn belongs in charts.py; a change of how
SVG is written (escaping, fonts, rounding, the accessible frame) belongs here. The names are
private to the reports package: charts.py is their only user; `nice_ticks` and `PALETTE` are
public through reports.charts.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

Format = Callable[[float], str]

#: Okabe-Ito colours, most distinct first; its yellow (#F0E442) is left out: unreadable in print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000")
_DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 4", "1 3", "10 4")
_ACCENT = "#D55E00"  # highlighted bars, the simulated outline: vermillion against the blue
_INK, _MUTED, _GRID, _AXIS = "#222222", "#555555", "#dddddd", "#888888"
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_SIZE, _TITLE_SIZE = 12, 14
_CHAR = 0.6  # estimated glyph width in ems
_PAD = 8  # outer margin
_TOP = 30  # below the visible title
_ROW, _BAR_H = 22, 14  # horizontal charts: row pitch and bar thickness
_LABEL_SHARE = 0.35  # the label column takes at most this share of the width
_GAP = 6  # between a bar's end and its value
_DESC_ITEMS = 30  # rows spelled out in <desc>
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff\ufffe\uffff]")


# --- text and numbers -------------------------------------------------------------------------


def _clean(text: object) -> str:
    """One line of text that XML 1.0 accepts (control characters become spaces)."""
    return _SURROGATE.sub("\ufffd", _XML_BAD.sub(" ", str(text).replace("\r\n", " ")))


def _esc(text: object) -> str:
    return html.escape(_clean(text), quote=True)


def _width(text: str, size: float = _SIZE) -> float:
    units = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return units * _CHAR * size


def _fit(text: str, room: float, size: float = _SIZE) -> str:
    """`text`, cut with an ellipsis if its estimated width exceeds `room`."""
    if _width(text, size) <= room:
        return text
    used, kept = _width("…", size), []
    for char in text:
        used += _width(char, size)
        if used > room:
            break
        kept.append(char)
    return "".join(kept).rstrip() + "…"


def _n(value: float) -> str:
    """A coordinate: at most 2 decimals, no trailing zeros, never '-0'."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _auto(value: float) -> str:
    """Default value format: thousands separators, about three significant digits below 100."""
    value += 0.0  # -0.0 -> 0.0: never print "-0"
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _num(value: float | None) -> float | None:
    """A finite float, or None for a gap (None, NaN, infinities)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _finite(values: Iterable[float | None]) -> list[float]:
    return [v for v in map(_num, values) if v is not None]


def _same_length(what: str, values: Sequence[object], expected: int) -> None:
    if len(values) != expected:
        raise ValueError(f"{what} has {len(values)} values; expected {expected}, one per label")


def _label(
    text: object,
    x: float,
    y: float,
    room: float,
    *,
    anchor: str = "start",
    size: float = _SIZE,
    bold: bool = False,
    attrs: str = "",
) -> str:
    """A text element at baseline `y`, cut to `room` with the full text as a tooltip."""
    full = _clean(text)
    shown = _fit(full, room, size * 1.1 if bold else size)  # bold glyphs are wider
    sized = f' font-size="{_n(size)}"' if size != _SIZE else ""
    sized += ' font-weight="bold"' if bold else ""
    element = (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}"{sized}{attrs}>'
        f"{html.escape(shown, quote=True)}</text>"
    )
    if shown == full:
        return element
    return f"<g><title>{html.escape(full, quote=True)}</title>{element}</g>"


def _baseline(centre: float) -> float:
    """The baseline that centres a line of text on `centre` (no dominant-baseline in print)."""
    return centre + 0.35 * _SIZE


def _listing(items: Sequence[str]) -> str:
    shown = "; ".join(items[:_DESC_ITEMS])
    more = len(items) - _DESC_ITEMS
    return shown + (f"; and {more} more" if more > 0 else "")


# --- scales and axes --------------------------------------------------------------------------


def nice_ticks(lo: float, hi: float, max_ticks: int = 6) -> tuple[float, ...]:
    """Evenly spaced round ticks (steps of 1, 2 or 5 times a power of ten) covering lo..hi.

    The first and last ticks are the axis bounds, so bars and points never run off the axis;
    at most `max_ticks` ticks. A zero-width range is widened to reach zero (0..1 for 0), so a
    single value is shown against zero. Raises ValueError for non-finite bounds.
    """
    if max_ticks < 2:
        raise ValueError(f"max_ticks is {max_ticks}; expected at least 2")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"tick range {lo}..{hi} is not finite")
    lo, hi = min(lo, hi), max(lo, hi)
    if lo == hi:
        lo, hi = (0.0, 1.0) if lo == 0 else (min(lo, 0.0), max(hi, 0.0))
    exponent = math.floor(math.log10((hi - lo) / (max_ticks - 1)))
    while True:
        for mantissa in (1, 2, 5):
            step = mantissa * 10.0**exponent
            first = math.floor(lo / step + 1e-9)
            last = max(math.ceil(hi / step - 1e-9), first + 1)
            if last - first + 1 <= max_ticks:
                digits = max(0, -exponent)  # ticks are multiples of step: exact at these digits
                return tuple(round(i * step, digits) + 0.0 for i in range(first, last + 1))
        exponent += 1


def _tick_format(ticks: Sequence[float]) -> Format:
    """As many decimals as the tick step needs, thousands separators."""
    step = ticks[1] - ticks[0]
    digits = max(0, -math.floor(math.log10(step) + 1e-9))
    return lambda value: f"{value:,.{digits}f}"


@dataclass(frozen=True, slots=True)
class _Scale:
    """Linear map from the domain d0..d1 to the pixel range r0..r1."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, value: float) -> float:
        return self.r0 + (value - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)


def _grid_x(
    scale: _Scale, ticks: Sequence[float], top: float, bottom: float, fmt: Format
) -> list[str]:
    """Vertical gridlines with their values under the plot (horizontal charts, histogram)."""
    out = []
    for tick in ticks:
        x = _n(scale(tick))
        out.append(
            f'<line class="grid" x1="{x}" y1="{_n(top)}" x2="{x}" y2="{_n(bottom)}" stroke="{_GRID}"/>'
        )
        out.append(
            f'<text class="tick" x="{x}" y="{_n(bottom + 16)}" text-anchor="middle" '
            f'fill="{_MUTED}">{_esc(fmt(tick))}</text>'
        )
    return out


def _grid_y(
    scale: _Scale, ticks: Sequence[float], left: float, right: float, fmt: Format
) -> list[str]:
    """Horizontal gridlines with their values left of the plot (line, column charts)."""
    out = []
    for tick in ticks:
        y = _n(scale(tick))
        out.append(
            f'<line class="grid" x1="{_n(left)}" y1="{y}" x2="{_n(right)}" y2="{y}" stroke="{_GRID}"/>'
        )
        out.append(
            f'<text class="tick" x="{_n(left - 6)}" y="{_n(_baseline(scale(tick)))}" '
            f'text-anchor="end" fill="{_MUTED}">{_esc(fmt(tick))}</text>'
        )
    return out


def _zero_line_x(scale: _Scale, ticks: Sequence[float], top: float, bottom: float) -> str:
    x = _n(scale(min(max(0.0, ticks[0]), ticks[-1])))
    return (
        f'<line class="axis" x1="{x}" y1="{_n(top)}" x2="{x}" y2="{_n(bottom)}" stroke="{_AXIS}"/>'
    )


def _max_ticks(pixels: float, spacing: float) -> int:
    return max(2, min(6, int(pixels // spacing) + 1))


# --- document, legend, empty chart ------------------------------------------------------------


def _document(title: str, desc: str, width: float, height: float, body: Iterable[str]) -> str:
    name = _esc(title)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pm-chart" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" role="img" aria-label="{name}" '
        f'width="{_n(width)}" height="{_n(height)}" style="max-width:100%" font-family="{_FONT}" '
        f'font-size="{_SIZE}" fill="{_INK}">'
    )
    heading = _label(
        title,
        _PAD,
        _PAD + _TITLE_SIZE,
        width - 2 * _PAD,
        size=_TITLE_SIZE,
        bold=True,
    )
    return "\n".join(
        [head, f"<title>{name}</title>", f"<desc>{_esc(desc)}</desc>", heading, *body, "</svg>"]
    )


def _no_data(title: str, width: float) -> str:
    note = f'<text x="{_n(width / 2)}" y="58" text-anchor="middle" fill="{_MUTED}">No data</text>'
    return _document(title, "No data to chart.", width, 80, [note])


@dataclass(frozen=True, slots=True)
class _Key:
    """A legend entry: a line swatch (with `dash`) or, when `dash` is None, a filled box."""

    name: str
    colour: str
    dash: str | None = None


def _legend(keys: Sequence[_Key], top: float, width: float) -> tuple[list[str], float]:
    """Legend entries flowing in rows from `top`; returns the elements and the height used."""
    out, x, y, row = [], float(_PAD), top, 18.0
    for key in keys:
        text_w = min(_width(_clean(key.name)), 160.0)
        if x > _PAD and x + 20 + text_w > width - _PAD:
            x, y = float(_PAD), y + row
        mid = y + row / 2
        if key.dash is None:
            out.append(
                f'<rect x="{_n(x)}" y="{_n(mid - 5)}" width="14" height="10" fill="{key.colour}"/>'
            )
        else:
            dash = f' stroke-dasharray="{key.dash}"' if key.dash else ""
            out.append(
                f'<line x1="{_n(x)}" y1="{_n(mid)}" x2="{_n(x + 16)}" y2="{_n(mid)}" '
                f'stroke="{key.colour}" stroke-width="2.5"{dash}/>'
            )
        out.append(_label(key.name, x + 20, _baseline(mid), 160))
        x += 20 + text_w + 16
    return out, y + row + 4 - top


# --- horizontal charts: a row per label, values along x ---------------------------------------


@dataclass(frozen=True, slots=True)
class _Rows:
    """Layout of a horizontal chart: the label column, the plot, one row per label."""

    left: float
    right: float
    top: float
    pitch: float
    count: int
    scale: _Scale

    @property
    def bottom(self) -> float:
        return self.top + self.count * self.pitch

    @property
    def height(self) -> float:
        return self.bottom + 28  # tick values and the outer margin

    def centre(self, index: int) -> float:
        return self.top + (index + 0.5) * self.pitch


def _rows(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    width: float,
    top: float,
    pitch: float,
    value_w: float,
    fmt: Format | None,
    bold: frozenset[int] = frozenset(),
    bounds: tuple[float, float] | None = None,
) -> tuple[_Rows, list[str]]:
    """Label column, value axis (spanning `bounds`, else zero and `values`), gridlines.

    `value_w` is kept free right of the plot for values written after bars, and left of it too
    when some value is negative (their text goes left of the bar's end).
    """
    cleaned = [_clean(label) for label in labels]
    widths = (_width(text, _SIZE * 1.1 if i in bold else _SIZE) for i, text in enumerate(cleaned))
    label_w = min(max(widths, default=0.0), width * _LABEL_SHARE)
    lo, hi = bounds if bounds else (min(0.0, *values), max(0.0, *values))
    left = _PAD + label_w + 8 + (value_w if lo < 0 else 0.0)
    right = width - _PAD - value_w
    ticks = nice_ticks(lo, hi, _max_ticks(right - left, 70))
    frame = _Rows(left, right, top, pitch, len(labels), _Scale(ticks[0], ticks[-1], left, right))
    out = _grid_x(frame.scale, ticks, top, frame.bottom, fmt or _tick_format(ticks))
    for i, text in enumerate(cleaned):
        centre = _baseline(frame.centre(i))
        out.append(_label(text, _PAD + label_w, centre, label_w, anchor="end", bold=i in bold))
    return frame, out


def _hbar(frame: _Rows, y: float, thickness: float, value: float, colour: str, tip: str) -> str:
    x0, x1 = frame.scale(0.0), frame.scale(value)
    return (
        f'<rect class="bar" x="{_n(min(x0, x1))}" y="{_n(y)}" width="{_n(abs(x1 - x0))}" '
        f'height="{_n(thickness)}" fill="{colour}"><title>{_esc(tip)}</title></rect>'
    )


def _value_text(frame: _Rows, centre: float, value: float | None, text: str) -> str:
    """A bar's value just past its end (left of it for negative values); n/a at zero."""
    x = frame.scale(value or 0.0)
    anchor, x = ("end", x - _GAP) if value is not None and value < 0 else ("start", x + _GAP)
    fill = _INK if value is not None else _MUTED
    return f'<text class="value" x="{_n(x)}" y="{_n(_baseline(centre))}" text-anchor="{anchor}" fill="{fill}">{_esc(text)}</text>'


def _texts_width(texts: Iterable[str]) -> float:
    return max((_width(_clean(text)) for text in texts), default=0.0) + _GAP


__all__ = ["PALETTE", "Format", "nice_ticks"]
