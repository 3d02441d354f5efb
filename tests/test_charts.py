"""SVG charts: well-formed, accessible, escaped, self-contained, and drawn where the arithmetic says.

Layout constants used in the hand computations below (reports/charts.py): outer margin 8, the
plot starts 30 below the top (after the title), text is estimated at 0.6 em = 7.2 px per
character at 12 px, rows of horizontal charts are 22 high with 14-high bars, a bar's value
starts 6 after its end, a legend row is 18 high plus 4.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from reports.charts import (
    PALETTE,
    bar_chart,
    grouped_bars,
    histogram,
    interval_chart,
    line_chart,
    nice_ticks,
    stacked_bar,
)

NS = "{http://www.w3.org/2000/svg}"
# The one URL allowed in a chart: the SVG namespace, an identifier that nothing fetches. The
# report's own check for external references allows exactly this attribute and nothing else.
NAMESPACE_ATTR = 'xmlns="http://www.w3.org/2000/svg"'
EVIL = '<script>alert(1)</script> & "quotes"'
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"
APPROX = 0.006  # coordinates are written with 2 decimals


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def find(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    return [el for el in root.iter(NS + tag) if cls is None or el.get("class") == cls]


def num(el: ET.Element, *names: str) -> list[float]:
    return [float(el.get(name, "nan")) for name in names]


def texts(root: ET.Element, cls: str | None = None) -> list[str]:
    return [el.text or "" for el in find(root, "text", cls)]


def grid_x(root: ET.Element) -> dict[str, float]:
    """Tick value text -> x of its vertical gridline (horizontal charts)."""
    return {t.text or "": float(t.get("x", "nan")) for t in find(root, "text", "tick")}


def sample_charts(label: str = "Resolve") -> dict[str, Callable[[], str]]:
    """Every chart type on small ordinary data, with `label` as one of the texts."""
    return {
        "line": lambda: line_chart(
            {label: [1.0, 2.0, None, 4.0], "Throughput": [2.0, 2.0, 3.0, math.nan]},
            ["W1", "W2", label, "W4"],
            title=label,
            y_label=label,
        ),
        "bar": lambda: bar_chart([label, "Close"], [3.0, 1.0], title=label, highlight=[0]),
        "columns": lambda: bar_chart([label, "Close"], [3.0, -1.0], title=label, horizontal=False),
        "grouped": lambda: grouped_bars(
            [label, "Close"], {"Observed": [3.0, 1.0], label: [2.5, None]}, title=label
        ),
        "interval": lambda: interval_chart(
            [label, "Close"], [-5.0, 3.0], [-9.0, 1.0], [-1.0, 5.0], title=label
        ),
        "histogram": lambda: histogram(
            [1.0, 2.0, 2.0, 5.0], [1.5, 2.5, 4.0], bins=4, title=label, x_label=label
        ),
        "stacked": lambda: stacked_bar(
            [label, "Close"], {"Contention": [1.0, 2.0], label: [3.0, None]}, title=label
        ),
    }


EMPTY: dict[str, Callable[[], str]] = {
    "line, no series": lambda: line_chart({}, [], title="T", y_label="y"),
    "line, all missing": lambda: line_chart(
        {"a": [None, math.nan, math.inf]}, ["1", "2", "3"], title="T", y_label="y"
    ),
    "bar, no labels": lambda: bar_chart([], [], title="T"),
    "bar, all missing": lambda: bar_chart(["a", "b"], [None, math.nan], title="T"),
    "columns, all missing": lambda: bar_chart(["a"], [None], title="T", horizontal=False),
    "grouped, no labels": lambda: grouped_bars([], {"o": []}, title="T"),
    "grouped, all missing": lambda: grouped_bars(["a"], {"o": [None]}, title="T"),
    "interval, no means": lambda: interval_chart(["a"], [None], [1.0], [2.0], title="T"),
    "histogram, empty": lambda: histogram([], None, title="T", x_label="x"),
    "histogram, all missing": lambda: histogram([math.nan], [None], title="T", x_label="x"),
    "stacked, all missing": lambda: stacked_bar(["a"], {"p": [None]}, title="T"),
}


# --- every chart ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "title"),
    [*((m, "Resolve") for m in sample_charts().values()), *((m, "T") for m in EMPTY.values())],
)
def test_chart_is_accessible_xml(make: Callable[[], str], title: str) -> None:
    root = parse(make())
    assert root.tag == NS + "svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == title
    first = root[0]
    assert first.tag == NS + "title" and first.text == root.get("aria-label")
    assert root[1].tag == NS + "desc" and root[1].text
    x0, y0, width, height = (float(v) for v in root.get("viewBox", "").split())
    assert (x0, y0) == (0, 0) and width > 0 and height > 0
    assert (float(root.get("width", "0")), float(root.get("height", "0"))) == (width, height)


@pytest.mark.parametrize("name", list(EMPTY))
def test_empty_data_says_no_data(name: str) -> None:
    root = parse(EMPTY[name]())
    assert "No data" in texts(root)
    assert find(root, "rect") == [] and find(root, "polyline") == []


@pytest.mark.parametrize("name", list(sample_charts()))
def test_same_input_same_string(name: str) -> None:
    first, again = sample_charts()[name](), sample_charts()[name]()
    assert first == again


@pytest.mark.parametrize("name", list(sample_charts()))
def test_log_text_is_escaped(name: str) -> None:
    svg = sample_charts(EVIL)[name]()
    root = parse(svg)  # a broken attribute or element would not parse
    assert "<script" not in svg.lower()
    assert all(not el.tag.lower().endswith("script") for el in root.iter())
    assert EVIL_ESCAPED in svg
    assert root.get("aria-label") == EVIL
    assert any(t.text == EVIL for t in root.iter(NS + "title"))


@pytest.mark.parametrize("name", list(sample_charts()))
def test_nothing_refers_outside(name: str) -> None:
    for label in ("Resolve", EVIL):
        svg = sample_charts(label)[name]()
        assert svg.count(NAMESPACE_ATTR) == 1
        rest = svg.replace(NAMESPACE_ATTR, "").lower()
        for banned in ("http", "url(", "href", "@import", "<style", "<image", "<foreignobject"):
            assert banned not in rest, banned
        assert ' id="' not in rest  # two charts in one page must not collide


def test_characters_xml_forbids_are_replaced() -> None:
    # \x1f is the variant separator; \x00 and a lone surrogate cannot appear in XML at all.
    root = parse(bar_chart(["a\x1fb", "c\x00d\ud800"], [1.0, 2.0], title="t\x07"))
    assert texts(root)[-4:] == ["a b", "c d\ufffd", "1", "2"]
    assert root.get("aria-label") == "t "


# --- nice ticks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lo", "hi", "max_ticks", "expected"),
    [
        # span 10, 6 ticks: step 1 needs 11 ticks, step 2 needs 6
        (0, 10, 6, (0, 2, 4, 6, 8, 10)),
        # step 1 gives 8 ticks (0..7); step 2 gives 0..8, 5 ticks
        (0, 7, 6, (0, 2, 4, 6, 8)),
        # steps .01, .02 and .05 give too many; .1 covers 0..0.4
        (0, 0.37, 6, (0, 0.1, 0.2, 0.3, 0.4)),
        # span 15.7: steps 2 (-4..7, 11 ticks) too many; 5 gives -5..15
        (-3.2, 12.5, 6, (-5, 0, 5, 10, 15)),
        # step 20000 gives 0..100000 (6 ticks)
        (1234, 98765, 6, (0, 20000, 40000, 60000, 80000, 100000)),
        # a single value is shown against zero
        (5, 5, 6, (0, 1, 2, 3, 4, 5)),
        (-3, -3, 6, (-3, -2, -1, 0)),
        (0, 0, 6, (0, 0.2, 0.4, 0.6, 0.8, 1)),
        # reversed bounds are the same range; 3 ticks at most: step 5
        (10, 0, 3, (0, 5, 10)),
    ],
)
def test_nice_ticks(lo: float, hi: float, max_ticks: int, expected: tuple[float, ...]) -> None:
    assert nice_ticks(lo, hi, max_ticks) == expected


def test_nice_ticks_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="max_ticks"):
        nice_ticks(0, 1, 1)
    with pytest.raises(ValueError, match="not finite"):
        nice_ticks(0, math.nan)


# --- geometry, by hand ----------------------------------------------------------------------


def test_horizontal_bar_geometry() -> None:
    # Labels "a", "b" are 7.2 wide: plot left = 8 + 7.2 + 8 = 23.2. The widest value "10" is
    # 14.4 wide, plus 6: plot right = 640 - 8 - 20.4 = 611.6. Ticks 0, 2, .., 10, so 10 is
    # the full 588.4 and 5 half of it, 294.2. Rows start at 30, 22 high, bars 14 high centred:
    # y = 30 + 4 = 34 and 56.
    root = parse(bar_chart(["a", "b"], [5.0, 10.0], title="T"))
    bars = find(root, "rect", "bar")
    assert [num(b, "x", "y", "width", "height") for b in bars] == [
        pytest.approx([23.2, 34, 294.2, 14], abs=APPROX),
        pytest.approx([23.2, 56, 588.4, 14], abs=APPROX),
    ]
    assert grid_x(root) == pytest.approx(
        {"0": 23.2, "2": 140.88, "4": 258.56, "6": 376.24, "8": 493.92, "10": 611.6}, abs=APPROX
    )
    values = find(root, "text", "value")
    assert [v.text for v in values] == ["5", "10"]
    assert [float(v.get("x", "nan")) for v in values] == pytest.approx(
        [23.2 + 294.2 + 6, 611.6 + 6]
    )
    assert root[1].text == "Bar chart. a: 5; b: 10"


def test_highlighted_bar_is_vermillion_with_a_bold_label() -> None:
    root = parse(bar_chart(["a", "b", "c"], [1.0, 2.0, 3.0], title="T", highlight=[1]))
    assert [b.get("fill") for b in find(root, "rect", "bar")] == [PALETTE[0], "#D55E00", PALETTE[0]]
    bold = [t.text for t in find(root, "text") if t.get("font-weight") == "bold"]
    assert bold == ["T", "b"]  # the title and the highlighted label


def test_vertical_bar_geometry() -> None:
    # Plot from y 38 (30 + 8) to 214 (240 - 8 - 18), 176 high; 176 // 30 + 1 = 6 ticks at most:
    # 0, 2, .., 10. Left = 8 + 14.4 ("10") + 8 = 30.4, right = 632: two bands of 300.8; a bar
    # is 70% of its band (210.56), centred at 30.4 + 150.4 = 180.8 and 481.6.
    # 5 is half of 176 = 88 high, from y 126; 10 is 176 high from 38.
    root = parse(bar_chart(["a", "b"], [5.0, 10.0], title="T", horizontal=False))
    bars = find(root, "rect", "bar")
    assert [num(b, "x", "y", "width", "height") for b in bars] == [
        pytest.approx([180.8 - 105.28, 126, 210.56, 88], abs=APPROX),
        pytest.approx([481.6 - 105.28, 38, 210.56, 176], abs=APPROX),
    ]


def test_negative_columns_hang_below_zero() -> None:
    # Values 4 and -2: ticks -2..4 by 1 would be 7 > 6 ticks, so by 2: -2, 0, 2, 4 over 38..214,
    # 176 / 6 = 29.33 px per unit. Zero at 214 - 2 * 29.33 = 155.33; -2 reaches 214.
    root = parse(bar_chart(["a", "b"], [4.0, -2.0], title="T", horizontal=False))
    _, negative = find(root, "rect", "bar")
    assert num(negative, "y", "height") == pytest.approx([155.33, 58.67], abs=0.01)


def test_all_zero_bars_have_a_unit_axis() -> None:
    # Nothing but zeros: the axis is 0..1 (ticks by 0.2) and every bar has no length.
    root = parse(bar_chart(["a", "b"], [0.0, 0.0], title="T"))
    assert [b.get("width") for b in find(root, "rect", "bar")] == ["0", "0"]
    assert texts(root, "tick") == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
    assert texts(root, "value") == ["0", "0"]


def test_missing_bar_says_n_a() -> None:
    root = parse(bar_chart(["a", "b"], [2.0, math.nan], title="T"))
    assert len(find(root, "rect", "bar")) == 1
    assert texts(root, "value") == ["2", "n/a"]


def test_line_geometry() -> None:
    # One series, no legend: plot from y 38 to 214, ticks 0..10 by 2. Left = 8 + 12 (rotated
    # y label) + 6 + 14.4 ("10") + 8 = 48.4; right = 640 - 16 = 624. Two points at the ends.
    root = parse(line_chart({"s": [0.0, 10.0]}, ["w1", "w2"], title="T", y_label="cases"))
    (line,) = find(root, "polyline")
    assert line.get("points") == "48.4,214 624,38"
    assert [num(c, "cx", "cy") for c in find(root, "circle", "point")] == [[48.4, 214], [624, 38]]


def test_single_point_is_a_dot_in_the_middle() -> None:
    # 7 on ticks 0..8 by 2 (step 1 would be 8 ticks): y = 214 - 7/8 * 176 = 60. Left = 8 + 12
    # + 6 + 7.2 ("8") + 8 = 41.2, right 624: x in the middle, 332.6.
    root = parse(line_chart({"s": [7.0]}, ["w1"], title="T", y_label="y"))
    assert find(root, "polyline") == []
    (dot,) = find(root, "circle", "point")
    assert num(dot, "cx", "cy") == pytest.approx([332.6, 60], abs=APPROX)


def test_missing_values_break_the_line() -> None:
    # 17 points (too many for markers): a run of two (indices 2, 3) is a line; the value at
    # index 0, alone between gaps, is a dot; NaN and None are both gaps.
    values: list[float | None] = [1.0, None, 2.0, 3.0, math.nan, *[None] * 12]
    root = parse(line_chart({"s": values}, [str(i) for i in range(17)], title="T", y_label="y"))
    (line,) = find(root, "polyline")
    assert len(line.get("points", "").split()) == 2
    assert len(find(root, "circle", "point")) == 1
    # with few points every value gets a marker: 3 here
    few = parse(line_chart({"s": [1.0, None, 2.0, 3.0]}, list("abcd"), title="T", y_label="y"))
    assert len(find(few, "circle", "point")) == 3


def test_x_labels_are_thinned() -> None:
    # 52 weeks, values 10 (left 48.4, right 624): 575.6 / 51 = 11.29 px per week; a label is
    # 8 chars = 57.6 px + 8 = 65.6, needing ceil(5.81) = 6 weeks: weeks 1, 7, .., 49 shown.
    weeks = [f"2024-W{i:02d}" for i in range(1, 53)]
    root = parse(line_chart({"s": [10.0] * 52}, weeks, title="T", y_label="y"))
    shown = [t for t in texts(root) if t.startswith("2024-W")]
    assert shown == weeks[::6]


def test_many_series_stay_distinct_in_colour_or_dash() -> None:
    series = {f"s{k}": [float(k), float(k + 1)] for k in range(9)}
    root = parse(line_chart(series, ["a", "b"], title="T", y_label="y"))
    groups = find(root, "g", "series")
    styles = {
        (g.get("stroke"), next(iter(find(g, "polyline"))).get("stroke-dasharray")) for g in groups
    }
    assert len(groups) == 9 and len(styles) == 9
    assert {g.get("stroke") for g in groups} == set(PALETTE)


def test_interval_geometry_with_negative_values() -> None:
    # Texts "-10 (-20 to 0)" (14 chars) and "5 (-5 to 15)": the value column is
    # 14 * 7.2 + 6 + 4 = 110.8, so the plot runs from 23.2 to 640 - 110.8 - 8 = 521.2 (498 px).
    # Bounds -20..15, at most 6 ticks: step 10, -20..20, 12.45 px per unit; zero at 272.2,
    # -10 at 147.7, 5 at 334.45, -5 at 209.95, 15 at 458.95.
    root = parse(interval_chart(["a", "b"], [-10.0, 5.0], [-20.0, -5.0], [0.0, 15.0], title="T"))
    (base,) = find(root, "line", "baseline")
    assert num(base, "x1", "x2") == pytest.approx([272.2, 272.2])
    points = [num(c, "cx", "cy") for c in find(root, "circle", "point")]
    assert points == [pytest.approx([147.7, 41]), pytest.approx([334.45, 63])]
    spans = [num(g[1], "x1", "x2") for g in find(root, "g", "whisker")]
    assert spans == [pytest.approx([23.2, 272.2]), pytest.approx([209.95, 458.95])]
    values = find(root, "text", "value")
    assert [(v.text, v.get("x")) for v in values] == [
        ("-10 (-20 to 0)", "531.2"),
        ("5 (-5 to 15)", "531.2"),
    ]


def test_interval_without_bounds_or_mean() -> None:
    root = parse(
        interval_chart(
            ["a", "b", "c"],
            [1.0, None, 2.0],
            [0.5, 0.0, None],
            [1.5, 3.0, None],
            title="T",
            baseline=None,
        )
    )
    assert find(root, "line", "baseline") == []
    assert len(find(root, "g", "whisker")) == 1  # c has no bounds: a point alone
    assert len(find(root, "circle", "point")) == 2
    assert texts(root, "value") == ["1 (0.5 to 1.5)", "n/a", "2"]


def test_grouped_bar_geometry() -> None:
    # Widest value "n/a" = 21.6 + 6: plot 23.2..604.4; ticks 0..2 by 0.5, so 2 is the whole
    # 581.2. Legend one row: rows start at 30 + 22 = 52; a row is 2 * 12 + 10 = 34 high, its
    # first bar at 52 + 5 = 57, 11 high.
    root = parse(grouped_bars(["a"], {"o": [2.0], "s": [None]}, title="T"))
    (bar,) = find(root, "rect", "bar")
    assert num(bar, "x", "y", "width", "height") == pytest.approx([23.2, 57, 581.2, 11])
    assert bar.get("fill") == PALETTE[0]
    assert texts(root, "value") == ["2", "n/a"]
    assert root[1].text == "Grouped bar chart of o, s. a: o 2, s n/a"


def test_stacked_bar_geometry() -> None:
    # Total 4 ("4" + 6): plot 23.2..618.8 = 595.6 px, ticks 0..4 by 1: 148.9 px per unit.
    # Legend one row: the row starts at 52, bar at 52 + 4 = 56.
    root = parse(stacked_bar(["a"], {"x": [1.0], "y": [3.0]}, title="T"))
    segments = [num(r, "x", "y", "width") for r in find(root, "rect", "bar")]
    assert segments == [
        pytest.approx([23.2, 56, 148.9]),
        pytest.approx([172.1, 56, 446.7]),
    ]
    assert [t.text for t in root.iter(NS + "title")][1:] == ["a, x: 1 (25%)", "a, y: 3 (75%)"]
    assert texts(root, "value") == ["4"]


def test_histogram_geometry() -> None:
    # Observed 1, 1, 1, 3 and simulated 1, 3, 3, 3 in 2 bins over 1..3: 75% / 25% and the
    # reverse. Legend row: plot from 30 + 22 + 8 = 60 to 240 - 8 - 36 = 196 (136 px, at most 5
    # ticks): 0..80 by 20, 1.7 px per %. Left = 8 + 12 + 6 + 14.4 ("80") + 8 = 48.4, right 624:
    # bins 287.8 wide.
    root = parse(
        histogram(
            [1.0, 1.0, 1.0, 3.0],
            [1.0, 3.0, 3.0, 3.0],
            bins=2,
            title="T",
            x_label="h",
            clip_quantile=None,
        )
    )
    bars = [num(r, "x", "y", "width", "height") for r in find(root, "rect", "bar")]
    assert bars == [
        pytest.approx([48.4, 68.5, 287.8, 127.5]),
        pytest.approx([336.2, 153.5, 287.8, 42.5]),
    ]
    (outline,) = find(root, "polyline", "outline")
    assert outline.get("points") == "48.4,196 48.4,153.5 336.2,153.5 336.2,68.5 624,68.5 624,196"
    assert texts(root, "tick")[-5:] == ["1.0", "1.5", "2.0", "2.5", "3.0"]


def test_histogram_clips_the_long_tail() -> None:
    # 99 ones and a 1000: the 99th percentile is 1 + 999 * 0.01 = 10.99 (linear), the axis
    # ends at the nice 15, and 1 of 100 values (1.0%) lies beyond it.
    root = parse(histogram([1.0] * 99 + [1000.0], None, title="T", x_label="h"))
    assert texts(root, "note") == ["Beyond 15 (not shown): observed 1.0%."]
    assert texts(root, "tick")[-1] == "15"
    whole = parse(
        histogram([1.0] * 99 + [1000.0], None, title="T", x_label="h", clip_quantile=None)
    )
    assert texts(whole, "note") == []


def test_long_labels_are_cut_with_the_full_text_as_tooltip() -> None:
    # The label column is capped at 35% of 640 = 224 px: the ellipsis (7.2) and 30 characters
    # (216) fit, a 31st would not.
    long = "Wait for the customer to reply " * 5
    root = parse(bar_chart([long, "b"], [1.0, 2.0], title="T"))
    (group,) = [g for g in root.iter(NS + "g") if g.find(NS + "title") is not None]
    assert [el.text for el in group] == [long, "Wait for the customer to reply…"]
    assert [el.tag for el in group] == [NS + "title", NS + "text"]
    # a label that fits is drawn whole, without a tooltip
    assert "b" in texts(root) and len(list(root.iter(NS + "g"))) == 1


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: bar_chart(["a", "b"], [1.0], title="T"), "values has 1 values; expected 2"),
        (lambda: bar_chart(["a"], [1.0], title="T", highlight=[1]), "highlight index 1"),
        (lambda: line_chart({"s": [1.0]}, ["a", "b"], title="T", y_label="y"), "series 's'"),
        (lambda: grouped_bars(["a"], {"g": []}, title="T"), "group 'g'"),
        (lambda: interval_chart(["a"], [1.0], [], [2.0], title="T"), "lows"),
        (lambda: stacked_bar(["a"], {"p": [-1.0]}, title="T"), "must be >= 0"),
        (lambda: histogram([1.0], None, bins=0, title="T", x_label="x"), "bins is 0"),
        (lambda: histogram([1.0], None, title="T", x_label="x", clip_quantile=0), "clip_quantile"),
    ],
)
def test_programming_errors_raise(make: Callable[[], str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()
