"""Charts for the HTML report, as inline SVG strings.

The report is one self-contained file that prints to PDF from a browser, so a chart is plain
SVG markup: no JavaScript, no web font, no image or stylesheet fetched from anywhere. Six small
chart types do not justify matplotlib (a heavy dependency whose SVG carries glyph paths and
`url(#...)` clip references) or a JavaScript charting library. This module holds the six
chart types; the helpers that keep the conventions below (escaping, text widths, scales and
ticks, gridlines, the `<svg>` frame, legends) are shared by all of them and live in svg.py.

What every chart here does, and why:

- Text from customers' systems (activity, segment and resource names) goes through `_esc`:
  characters XML 1.0 forbids (the variant separator `\\x1f`, other control characters, lone
  surrogates) are replaced, then `html.escape(quote=True)`, so `<script>` in a label is text.
- The drawing lives in a `viewBox`, so it scales. The root also has `width`/`height` (its
  natural size, which standalone viewers and converters need) and `max-width:100%`, so it
  shrinks on a narrow page; the report's stylesheet should add `.pm-chart { height: auto; }`
  to keep the proportions when it does (not inline: some SVG renderers, cairosvg among them,
  draw nothing for `height:auto`).
- Fonts: the system stack. No `<style>` element (an inline SVG's stylesheet would apply to
  the whole HTML page), no ids (two charts on one page would collide), hence no `url(#id)`:
  colour, dash and opacity are presentation attributes.
- The only URL in the output is the namespace `xmlns="http://www.w3.org/2000/svg"`. It is an
  identifier that nothing fetches, and it keeps a chart valid as a standalone `.svg` file and
  parseable as XML; a report check for external URLs must allow exactly this one.
- Accessible: `role="img"`, `aria-label` (the title), `<title>`, and a `<desc>` giving the data
  in words. Labels too long for their room are cut with an ellipsis and keep the full text in
  a `<title>` tooltip.
- Colours: Okabe-Ito (colour-blind safe) without its yellow, which vanishes on paper; lines also
  differ by dash pattern and highlighted bars by a bold label, so a grey print still reads.
- Deterministic: the same input gives the same string (coordinates rounded to 2 decimals).
- Missing values (None, NaN, infinities) are gaps; with nothing finite to draw a chart is a
  small SVG that says "No data". Mismatched lengths are a programming error: `ValueError`.

Text widths are estimated (0.6 em per character, 1.2 em for wide East Asian characters): pure
Python has no font metrics, and the estimate errs on the wide side so labels do not overlap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from reports.svg import (
    _ACCENT,
    _AXIS,
    _BAR_H,
    _DASHES,
    _GAP,
    _INK,
    _MUTED,
    _PAD,
    _ROW,
    _SIZE,
    _TOP,
    PALETTE,
    Format,
    _auto,
    _baseline,
    _clean,
    _document,
    _esc,
    _finite,
    _grid_y,
    _hbar,
    _Key,
    _label,
    _legend,
    _listing,
    _max_ticks,
    _n,
    _no_data,
    _num,
    _rows,
    _same_length,
    _Scale,
    _texts_width,
    _tick_format,
    _value_text,
    _width,
    _zero_line_x,
    nice_ticks,
)

__all__ = [
    "PALETTE",
    "bar_chart",
    "grouped_bars",
    "histogram",
    "interval_chart",
    "line_chart",
    "nice_ticks",
    "stacked_bar",
]


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    value_format: Format | None = None,
    horizontal: bool = True,
    highlight: Sequence[int] = (),
    width: int = 640,
    height: int = 240,
) -> str:
    """One bar per label, from zero (bottleneck hours, variant shares, cases per stage).

    Horizontal by default, because activity and variant names are long; `height` applies to
    vertical charts only (horizontal ones grow a row per label). Bars whose index is in
    `highlight` are vermillion with a bold label. Missing values show `n/a` (horizontal) or no
    bar. Raises ValueError if the lengths differ or a highlight index is out of range.
    """
    _same_length("values", values, len(labels))
    bad = [i for i in highlight if not 0 <= i < len(labels)]
    if bad:
        raise ValueError(f"highlight index {bad[0]} is out of range for {len(labels)} labels")
    numbers = [_num(v) for v in values]
    finite = [v for v in numbers if v is not None]
    if not finite:
        return _no_data(title, width)
    fmt = value_format or _auto
    texts = [fmt(v) if v is not None else "n/a" for v in numbers]
    desc = "Bar chart. " + _listing(
        [f"{_clean(lab)}: {t}" for lab, t in zip(labels, texts, strict=True)]
    )
    marked = frozenset(highlight)
    if not horizontal:
        return _columns(labels, numbers, texts, title, desc, value_format, marked, width, height)
    frame, body = _rows(
        labels,
        finite,
        width=width,
        top=_TOP,
        pitch=_ROW,
        value_w=_texts_width(texts),
        fmt=value_format,
        bold=marked,
    )
    body.append(
        _zero_line_x(frame.scale, (frame.scale.d0, frame.scale.d1), frame.top, frame.bottom)
    )
    for i, (label, value, text) in enumerate(zip(labels, numbers, texts, strict=True)):
        centre = frame.centre(i)
        if value is not None:
            colour = _ACCENT if i in marked else PALETTE[0]
            body.append(
                _hbar(frame, centre - _BAR_H / 2, _BAR_H, value, colour, f"{_clean(label)}: {text}")
            )
        body.append(_value_text(frame, centre, value, text))
    return _document(title, desc, width, frame.height, body)


def _columns(
    labels: Sequence[str],
    numbers: Sequence[float | None],
    texts: Sequence[str],
    title: str,
    desc: str,
    value_format: Format | None,
    marked: frozenset[int],
    width: int,
    height: int,
) -> str:
    """The vertical bar chart: bands along x, values along y, labels thinned when crowded."""
    finite = [v for v in numbers if v is not None]
    top, bottom = float(_TOP + 8), float(height - _PAD - 18)
    ticks = nice_ticks(min(0.0, *finite), max(0.0, *finite), _max_ticks(bottom - top, 30))
    fmt_tick = value_format or _tick_format(ticks)
    left = _PAD + max(_width(_clean(fmt_tick(t))) for t in ticks) + 8
    right = width - _PAD
    scale = _Scale(ticks[0], ticks[-1], bottom, top)
    body = _grid_y(scale, ticks, left, right, fmt_tick)
    band = (right - left) / len(labels)
    every = _thinning([_clean(label) for label in labels], band)
    zero = scale(min(max(0.0, ticks[0]), ticks[-1]))
    body.append(
        f'<line class="axis" x1="{_n(left)}" y1="{_n(zero)}" x2="{_n(right)}" y2="{_n(zero)}" stroke="{_AXIS}"/>'
    )
    for i, (label, value, text) in enumerate(zip(labels, numbers, texts, strict=True)):
        centre = left + (i + 0.5) * band
        if value is not None:
            y0, y1 = scale(0.0), scale(value)
            colour = _ACCENT if i in marked else PALETTE[0]
            body.append(
                f'<rect class="bar" x="{_n(centre - band * 0.35)}" y="{_n(min(y0, y1))}" '
                f'width="{_n(band * 0.7)}" height="{_n(abs(y1 - y0))}" fill="{colour}">'
                f"<title>{_esc(f'{_clean(label)}: {text}')}</title></rect>"
            )
            if _width(text) <= band:
                y = y1 - 4 if value >= 0 else y1 + _SIZE + 2
                body.append(
                    f'<text class="value" x="{_n(centre)}" y="{_n(y)}" text-anchor="middle">{_esc(text)}</text>'
                )
        if i % every == 0:
            room = band * every - 4
            body.append(_label(label, centre, bottom + 16, room, anchor="middle", bold=i in marked))
    return _document(title, desc, width, height, body)


def _thinning(labels: Sequence[str], spacing: float) -> int:
    """Show every n-th x label so that labels (cut to 90 px) do not overlap."""
    needed = min(max((_width(text) for text in labels), default=0.0), 90.0) + 8
    return max(1, math.ceil(needed / spacing)) if spacing > 0 else 1


def grouped_bars(
    labels: Sequence[str],
    groups: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    value_format: Format | None = None,
    width: int = 640,
) -> str:
    """A row per label with one bar per group (observed vs simulated, conversion by segment).

    Rows are horizontal for the same reason as `bar_chart`. A missing value shows `n/a`.
    Raises ValueError if a group's length differs from the labels'.
    """
    for name, series in groups.items():
        _same_length(f"group {_clean(name)!r}", series, len(labels))
    numbers = {name: [_num(v) for v in series] for name, series in groups.items()}
    finite = [v for series in numbers.values() for v in series if v is not None]
    if not labels or not finite:
        return _no_data(title, width)
    fmt = value_format or _auto
    texts = {
        name: [fmt(v) if v is not None else "n/a" for v in series]
        for name, series in numbers.items()
    }
    keys = [_Key(name, PALETTE[k % len(PALETTE)]) for k, name in enumerate(groups)]
    legend, legend_h = _legend(keys, _TOP, width)
    thickness = 12.0
    pitch = thickness * len(groups) + 10
    frame, body = _rows(
        labels,
        finite,
        width=width,
        top=_TOP + legend_h,
        pitch=pitch,
        value_w=_texts_width(t for ts in texts.values() for t in ts),
        fmt=value_format,
    )
    body = legend + body
    body.append(
        _zero_line_x(frame.scale, (frame.scale.d0, frame.scale.d1), frame.top, frame.bottom)
    )
    rows = []
    for i, label in enumerate(labels):
        first = frame.top + i * pitch + 5
        parts = []
        for k, (key, name) in enumerate(zip(keys, groups, strict=True)):
            value, text = numbers[name][i], texts[name][i]
            y = first + k * thickness
            if value is not None:
                body.append(
                    _hbar(
                        frame,
                        y,
                        thickness - 1,
                        value,
                        key.colour,
                        f"{_clean(label)}, {_clean(name)}: {text}",
                    )
                )
            body.append(_value_text(frame, y + thickness / 2, value, text))
            parts.append(f"{_clean(name)} {text}")
        rows.append(f"{_clean(label)}: {', '.join(parts)}")
    desc = f"Grouped bar chart of {', '.join(map(_clean, groups))}. " + _listing(rows)
    return _document(title, desc, width, frame.height, body)


def stacked_bar(
    labels: Sequence[str],
    parts: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    value_format: Format | None = None,
    width: int = 640,
) -> str:
    """A row per label whose bar stacks its parts, total written after it (bottleneck causes).

    Missing parts count as zero. Raises ValueError if a part's length differs from the labels'
    or a part is negative (a stack of signed parts has no meaningful length).
    """
    for name, series in parts.items():
        _same_length(f"part {_clean(name)!r}", series, len(labels))
    numbers = {name: [_num(v) for v in series] for name, series in parts.items()}
    negative = [(n, v) for n, series in numbers.items() for v in series if v is not None and v < 0]
    if negative:
        raise ValueError(
            f"part {_clean(negative[0][0])!r} has {negative[0][1]}; stacked parts must be >= 0"
        )
    if not labels or not any(v is not None for series in numbers.values() for v in series):
        return _no_data(title, width)
    fmt = value_format or _auto
    totals = [sum(series[i] or 0.0 for series in numbers.values()) for i in range(len(labels))]
    keys = [_Key(name, PALETTE[k % len(PALETTE)]) for k, name in enumerate(parts)]
    legend, legend_h = _legend(keys, _TOP, width)
    texts = [fmt(total) for total in totals]
    frame, body = _rows(
        labels,
        totals,
        width=width,
        top=_TOP + legend_h,
        pitch=_ROW,
        value_w=_texts_width(texts),
        fmt=value_format,
    )
    body = legend + body
    rows = []
    for i, label in enumerate(labels):
        start, pieces = 0.0, []
        y = frame.centre(i) - _BAR_H / 2
        for key, name in zip(keys, parts, strict=True):
            value = numbers[name][i] or 0.0
            if value > 0:
                share = f" ({100 * value / totals[i]:.0f}%)"
                x0, x1 = frame.scale(start), frame.scale(start + value)
                tip = f"{_clean(label)}, {_clean(name)}: {fmt(value)}{share}"
                body.append(
                    f'<rect class="bar" x="{_n(x0)}" y="{_n(y)}" width="{_n(x1 - x0)}" height="{_BAR_H}" '
                    f'fill="{key.colour}" stroke="#ffffff" stroke-width="0.5"><title>{_esc(tip)}</title></rect>'
                )
                start += value
            pieces.append(f"{_clean(name)} {fmt(value)}")
        body.append(_value_text(frame, frame.centre(i), totals[i], texts[i]))
        rows.append(f"{_clean(label)}: total {texts[i]} ({', '.join(pieces)})")
    desc = f"Stacked bar chart of {', '.join(map(_clean, parts))}. " + _listing(rows)
    return _document(title, desc, width, frame.height, body)


def interval_chart(
    labels: Sequence[str],
    means: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    *,
    title: str,
    baseline: float | None = 0,
    value_format: Format | None = None,
    width: int = 640,
) -> str:
    """A point per label with a whisker from low to high (scenario change % and its 95% CI).

    A line marks `baseline` (no change) so a reader sees which intervals cross it; the right
    column spells out `mean (low to high)`. A missing low or high draws the point alone; a
    missing mean draws nothing and says n/a. Raises ValueError if the lengths differ.
    """
    for what, series in (("means", means), ("lows", lows), ("highs", highs)):
        _same_length(what, series, len(labels))
    mid, low, high = ([_num(v) for v in s] for s in (means, lows, highs))
    finite = [v for v in (*mid, *low, *high) if v is not None]
    if not any(v is not None for v in mid):
        return _no_data(title, width)
    base = _num(baseline)
    reach = [*finite, base] if base is not None else finite
    fmt = value_format or _auto
    texts = []
    for m, lo, hi in zip(mid, low, high, strict=True):
        if m is None:
            texts.append("n/a")
        else:
            spread = f" ({fmt(lo)} to {fmt(hi)})" if lo is not None and hi is not None else ""
            texts.append(fmt(m) + spread)
    value_w = _texts_width(texts) + 4
    frame, body = _rows(
        labels,
        finite,
        width=width - value_w,
        top=_TOP,
        pitch=_ROW,
        value_w=0.0,
        fmt=value_format,
        bounds=(min(reach), max(reach)),
    )
    if base is not None:
        x = _n(frame.scale(base))
        body.append(
            f'<line class="baseline" x1="{x}" y1="{_n(frame.top)}" x2="{x}" y2="{_n(frame.bottom)}" '
            f'stroke="{_INK}" stroke-width="1.5"/>'
        )
    for i, (label, m, lo, hi) in enumerate(zip(labels, mid, low, high, strict=True)):
        centre = frame.centre(i)
        if m is not None:
            tip = _esc(f"{_clean(label)}: {texts[i]}")
            if lo is not None and hi is not None:
                xl, xh, c = _n(frame.scale(lo)), _n(frame.scale(hi)), centre
                body.append(
                    f'<g class="whisker" stroke="{PALETTE[0]}" stroke-width="1.5"><title>{tip}</title>'
                    f'<line x1="{xl}" y1="{_n(c)}" x2="{xh}" y2="{_n(c)}"/>'
                    f'<line x1="{xl}" y1="{_n(c - 5)}" x2="{xl}" y2="{_n(c + 5)}"/>'
                    f'<line x1="{xh}" y1="{_n(c - 5)}" x2="{xh}" y2="{_n(c + 5)}"/></g>'
                )
            body.append(
                f'<circle class="point" cx="{_n(frame.scale(m))}" cy="{_n(centre)}" r="4" '
                f'fill="{PALETTE[0]}"><title>{tip}</title></circle>'
            )
        fill = _INK if m is not None else _MUTED
        body.append(
            f'<text class="value" x="{_n(width - _PAD - value_w + _GAP + 4)}" y="{_n(_baseline(centre))}" '
            f'fill="{fill}">{_esc(texts[i])}</text>'
        )
    line = f" A line marks {fmt(base)}." if base is not None else ""
    desc = (
        "Interval chart: mean (low to high)."
        + line
        + " "
        + _listing([f"{_clean(lab)}: {t}" for lab, t in zip(labels, texts, strict=True)])
    )
    return _document(title, desc, width, frame.height, body)


# --- charts over x: lines and histogram -------------------------------------------------------


def line_chart(
    series: Mapping[str, Sequence[float | None]],
    x_labels: Sequence[str],
    *,
    title: str,
    y_label: str,
    y_format: Format | None = None,
    width: int = 640,
    height: int = 240,
) -> str:
    """One line per series over the x labels (weekly arrivals, throughput, WIP, cycle median).

    The y axis starts at zero (it reaches below for negative values): every trend in the report
    is a quantity, and a cut axis would exaggerate small changes. Missing values break a line;
    an isolated value is a dot. Points get markers when there are few (16 or fewer). More than
    seven series reuse colours with other dashes. Raises ValueError if a series' length
    differs from the x labels'.
    """
    for name, values in series.items():
        _same_length(f"series {_clean(name)!r}", values, len(x_labels))
    numbers = {name: [_num(v) for v in values] for name, values in series.items()}
    finite = [v for values in numbers.values() for v in values if v is not None]
    if not x_labels or not finite:
        return _no_data(title, width)
    fmt = y_format or _auto
    keys = [
        _Key(name, PALETTE[k % len(PALETTE)], _DASHES[(k + k // len(PALETTE)) % len(_DASHES)])
        for k, name in enumerate(series)
    ]
    body, legend_h = _legend(keys, _TOP, width) if len(series) > 1 else ([], 0.0)
    top, bottom = _TOP + legend_h + 8, height - _PAD - 18
    ticks = nice_ticks(min(0.0, *finite), max(0.0, *finite), _max_ticks(bottom - top, 30))
    fmt_tick = y_format or _tick_format(ticks)
    left = _PAD + _SIZE + 6 + max(_width(_clean(fmt_tick(t))) for t in ticks) + 8
    right = width - _PAD - 8
    y = _Scale(ticks[0], ticks[-1], bottom, top)
    count = len(x_labels)
    span = (right - left) / (count - 1) if count > 1 else 0.0

    def x(i: int) -> float:
        return left + i * span if count > 1 else (left + right) / 2

    body += _grid_y(y, ticks, left, right, fmt_tick)
    mid = (top + bottom) / 2
    body.append(
        _label(
            y_label,
            0,
            0,
            bottom - top,
            anchor="middle",
            attrs=f' transform="translate({_n(_PAD + _SIZE)} {_n(mid)}) rotate(-90)" fill="{_MUTED}"',
        )
    )
    every = _thinning([_clean(label) for label in x_labels], span or right - left)
    for i, label in enumerate(x_labels):
        if i % every == 0:
            body.append(
                f'<line class="tick" x1="{_n(x(i))}" y1="{_n(bottom)}" x2="{_n(x(i))}" y2="{_n(bottom + 4)}" stroke="{_AXIS}"/>'
            )
            body.append(
                _label(
                    label,
                    x(i),
                    bottom + 16,
                    min(90.0, (span or right - left) * every - 4),
                    anchor="middle",
                    attrs=f' fill="{_MUTED}"',
                )
            )
    markers = count <= 16
    summaries = []
    for key, values in zip(keys, numbers.values(), strict=True):
        dash = f' stroke-dasharray="{key.dash}"' if key.dash else ""
        body.append(
            f'<g class="series" stroke="{key.colour}" fill="{key.colour}"><title>{_esc(key.name)}</title>'
        )
        run: list[int] = []
        for i in [*range(count), count]:  # the sentinel `count` flushes the last run
            if i < count and values[i] is not None:
                run.append(i)
                continue
            if len(run) > 1:
                points = " ".join(f"{_n(x(j))},{_n(y(values[j] or 0.0))}" for j in run)
                body.append(
                    f'<polyline points="{points}" fill="none" stroke-width="2" stroke-linejoin="round"{dash}/>'
                )
            for j in run if markers or len(run) == 1 else []:
                tip = _esc(f"{_clean(key.name)}, {_clean(x_labels[j])}: {fmt(values[j] or 0.0)}")
                body.append(
                    f'<circle class="point" cx="{_n(x(j))}" cy="{_n(y(values[j] or 0.0))}" r="3" stroke="none"><title>{tip}</title></circle>'
                )
            run = []
        body.append("</g>")
        summaries.append(_series_summary(key.name, values, x_labels, fmt))
    desc = (
        f"Line chart of {_clean(y_label)} by {count} periods from {_clean(x_labels[0])} to {_clean(x_labels[-1])}. "
        + " ".join(summaries)
    )
    return _document(title, desc, width, height, body)


def _series_summary(
    name: str, values: Sequence[float | None], labels: Sequence[str], fmt: Format
) -> str:
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if not known:
        return f"{_clean(name)}: no values."
    (i0, v0), (i1, v1) = known[0], known[-1]
    low, high = min(v for _, v in known), max(v for _, v in known)
    return (
        f"{_clean(name)}: {len(known)} of {len(values)} values, {fmt(v0)} at {_clean(labels[i0])}, "
        f"{fmt(v1)} at {_clean(labels[i1])}, lowest {fmt(low)}, highest {fmt(high)}."
    )


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def histogram(
    observed: Sequence[float | None],
    simulated: Sequence[float | None] | None,
    *,
    bins: int = 30,
    title: str,
    x_label: str,
    y_label: str = "% of cases",
    clip_quantile: float | None = 0.99,
    width: int = 640,
    height: int = 240,
) -> str:
    """Distribution of observed values (filled bars) and simulated ones (an outline) over shared bins.

    Bar heights are percentages of each sample, so samples of different sizes compare. Cycle
    times have long tails: the axis stops at the `clip_quantile` of either sample (None: at
    the maximum), and the values beyond it are counted in a note rather than squeezing every
    other bin into one. Raises ValueError if bins < 1 or clip_quantile is not in (0, 1].
    """
    if bins < 1:
        raise ValueError(f"bins is {bins}; expected at least 1")
    if clip_quantile is not None and not 0 < clip_quantile <= 1:
        raise ValueError(f"clip_quantile is {clip_quantile}; expected a share in (0, 1]")
    samples = {"Observed": sorted(_finite(observed))}
    if simulated is not None:
        samples["Simulated"] = sorted(_finite(simulated))
    samples = {name: values for name, values in samples.items() if values}
    if not samples:
        return _no_data(title, width)
    q = clip_quantile or 1.0
    lo_v = min(values[0] for values in samples.values())
    hi_v = max(_quantile(values, q) for values in samples.values())
    keys = [
        _Key(
            name, PALETTE[0] if name == "Observed" else _ACCENT, None if name == "Observed" else ""
        )
        for name in samples
    ]
    body, legend_h = _legend(keys, _TOP, width)
    top, bottom = _TOP + legend_h + 8, float(height - _PAD - 36)
    left_guess = _PAD + _SIZE + 6 + 40
    x_ticks = nice_ticks(lo_v, hi_v, _max_ticks(width - _PAD - left_guess, 70))
    lo, hi = x_ticks[0], x_ticks[-1]
    edges = [lo + (hi - lo) * b / bins for b in range(bins + 1)]
    shares, beyond = {}, {}
    for name, values in samples.items():
        counts = [0] * bins
        for v in values:
            if v <= hi:
                counts[min(int((v - lo) / (hi - lo) * bins), bins - 1)] += 1
        shares[name] = [100 * c / len(values) for c in counts]
        beyond[name] = len(values) - sum(counts)
    y_ticks = nice_ticks(0.0, max(max(s) for s in shares.values()), _max_ticks(bottom - top, 30))
    fmt_y = _tick_format(y_ticks)
    left = _PAD + _SIZE + 6 + max(_width(fmt_y(t)) for t in y_ticks) + 8
    right = width - _PAD - 8
    x, y = _Scale(lo, hi, left, right), _Scale(y_ticks[0], y_ticks[-1], bottom, top)
    fmt_x = _tick_format(x_ticks)
    body += _grid_y(y, y_ticks, left, right, fmt_y)
    for tick in x_ticks:
        body.append(
            f'<text class="tick" x="{_n(x(tick))}" y="{_n(bottom + 16)}" text-anchor="middle" '
            f'fill="{_MUTED}">{_esc(fmt_x(tick))}</text>'
        )
    body.append(
        _label(
            x_label,
            (left + right) / 2,
            bottom + 32,
            right - left,
            anchor="middle",
            attrs=f' fill="{_MUTED}"',
        )
    )
    body.append(
        _label(
            y_label,
            0,
            0,
            bottom - top,
            anchor="middle",
            attrs=f' transform="translate({_n(_PAD + _SIZE)} {_n((top + bottom) / 2)}) rotate(-90)" fill="{_MUTED}"',
        )
    )

    def span(b: int) -> str:
        return f"{fmt_x(edges[b])} to {fmt_x(edges[b + 1])}"

    if "Observed" in shares:
        for b, share in enumerate(shares["Observed"]):
            if share > 0:
                tip = _esc(f"{span(b)}: observed {share:.1f}%")
                body.append(
                    f'<rect class="bar" x="{_n(x(edges[b]))}" y="{_n(y(share))}" '
                    f'width="{_n(x(edges[b + 1]) - x(edges[b]))}" height="{_n(bottom - y(share))}" '
                    f'fill="{PALETTE[0]}" fill-opacity="0.45"><title>{tip}</title></rect>'
                )
    if "Simulated" in shares:
        points = [(x(lo), bottom)]
        for b, share in enumerate(shares["Simulated"]):
            points += [(x(edges[b]), y(share)), (x(edges[b + 1]), y(share))]
        points.append((x(hi), bottom))
        path = " ".join(f"{_n(px)},{_n(py)}" for px, py in points)
        body.append(
            f'<polyline class="outline" points="{path}" fill="none" stroke="{_ACCENT}" stroke-width="2"><title>Simulated</title></polyline>'
        )
    body.append(
        f'<line class="axis" x1="{_n(left)}" y1="{_n(bottom)}" x2="{_n(right)}" y2="{_n(bottom)}" stroke="{_AXIS}"/>'
    )
    cut = [f"{name.lower()} {100 * n / len(samples[name]):.1f}%" for name, n in beyond.items() if n]
    note = f"Beyond {fmt_x(hi)} (not shown): {', '.join(cut)}." if cut else ""
    if note:  # top right: the tail, where bars are lowest
        body.append(
            f'<text class="note" x="{_n(right)}" y="{_n(top + 10)}" text-anchor="end" font-size="10" fill="{_MUTED}">{_esc(note)}</text>'
        )
    facts = [
        f"{name}: {len(v)} values, median {_auto(_quantile(v, 0.5))}" for name, v in samples.items()
    ]
    desc = (
        f"Histogram of {_clean(x_label)}, {bins} bins from {fmt_x(lo)} to {fmt_x(hi)}, bar heights in "
        f"{_clean(y_label)}. " + "; ".join(facts) + ". " + note
    ).strip()
    return _document(title, desc, width, height, body)
