"""Process maps as Graphviz graphs: frequency, performance, and a scenario against the baseline.

Each map is a pure function of its figures returning a `graphviz.Digraph`; `render` writes it
as SVG, PNG, PDF or DOT and `svg_inline` gives the SVG for an HTML page. Maps run left to
right, with explicit Start and End nodes (arcs: cases starting / ending with an activity),
and state their scales, the abstraction and any note in the label at the top left. Colours
are ColorBrewer steps that print and read in grey as well (darker means more).

Log text only reaches DOT through `reports.dot.text`; nodes are named by us (`n0`, `n1`, ...).
This module also gathers the rest of the maps' public surface (`MapData`, `map_data`,
`Abstraction`, `abstract`, `bpmn_map`, `render`, `svg_inline`), so callers import one module.
"""

from __future__ import annotations

from collections.abc import Callable

import graphviz
import pandas as pd

from processmine.mining.bottlenecks import Bottleneck, duration
from reports.abstraction import Abstracted, Abstraction, MapData, abstract, map_data
from reports.bpmn import bpmn_map
from reports.dot import count, digraph, label, render, step, svg_inline, text, width

#: Activity shades of the frequency map (events), light to dark (ColorBrewer Blues).
FREQUENCY_FILL = ("#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd")
#: Activity shades of the performance map (median processing time; Oranges).
PROCESSING_FILL = ("#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d")
#: Path colours of the performance map (total waiting hours; Reds, from a visible step).
WAITING_LINE = ("#fcbba1", "#fc9272", "#fb6a4a", "#de2d26", "#a50f15")
#: Scenario colours (RdBu): less waiting (strong, medium, slight), no change, more waiting.
LESS = ("#2166ac", "#4393c3", "#92c5de")
SAME = "#969696"
MORE = ("#f4a582", "#d6604d", "#b2182b")
#: A relative change smaller than this is "no change"; then the slight and medium bands end.
CHANGE_STEPS = (0.05, 0.20, 0.50)

_START, _END = "start", "end"
_KIND_WORDS = {"wait": "waiting before", "processing": "processing", "rework": "rework"}

# (the node label lines, already escaped, and the node's extra attributes) for one activity
_Style = Callable[[pd.Series], tuple[list[str], dict[str, str]]]


def frequency_map(data: MapData, *, title: str | None = None,
                  note: str | None = None) -> graphviz.Digraph:
    """Activities with their event counts (shaded by frequency), paths with how often one
    activity directly followed another (width by frequency), Start and End arcs with the
    cases starting and ending there. `title` heads the map (default "Frequency map");
    `note` (lines) goes under the legend, e.g. the filters and the abstraction."""
    acts = data.activities
    top = float(acts["count"].max()) if len(acts) else 0.0
    legend = [f"Activities: events; shade in 5 steps of 20% of the most frequent ({count(top)})",
              "Paths: times one activity directly followed the other; width by frequency",
              "Start, End: cases starting or ending with the activity", *_notes(note)]
    graph = digraph("frequency_map", title or "Frequency map", legend)

    def style(row: pd.Series) -> tuple[list[str], dict[str, str]]:
        shade = step(float(row["count"]), top)
        return [text(row["activity"]), count(row["count"])], _fill(FREQUENCY_FILL, shade)

    ids = _nodes(graph, data, style)
    widest = _widest(data)
    for row in data.edges.itertuples(index=False):
        graph.edge(ids[str(row.source)], ids[str(row.target)], label=label(count(row.count)),
                   penwidth=width(float(row.count), widest))
    _start_end(graph, data, ids, widest, labelled=True)
    return graph


def performance_map(data: MapData, *, title: str | None = None,
                    note: str | None = None) -> graphviz.Digraph:
    """Activities shaded by median processing time, paths labelled with their median waiting
    time and coloured (and widened) by their total waiting hours, the ranked bottlenecks
    marked `#rank` where they are (a bold border for an activity). Bottlenecks the map cannot
    show (hand-offs between teams, or hidden by the abstraction) are listed in the legend."""
    acts, edges = data.activities, data.edges
    proc = pd.to_numeric(acts["proc_median_h"], errors="coerce").astype(float)
    proc_top = float(proc.max()) if proc.notna().any() else 0.0
    wait_top = float(edges["wait_total_h"].max()) if len(edges) else 0.0
    marks, missing = _marks(data)
    legend = [
        (f"Activities: median processing time; shade in 5 steps of 20% of the longest "
         f"({duration(proc_top)})" if proc.notna().any() else
         "Activities: the log has no start times, so processing time is not known and the "
         "waiting on a path includes the work"),
        "Paths: median waiting time; colour and width by total waiting hours, in 5 steps of "
        f"20% of the largest ({_hours(wait_top)})",
    ]
    if data.bottlenecks:
        legend.append("#n: the n-th bottleneck by hours added to cycle time")
    if missing:
        legend.append("Bottlenecks not on this map: " + "; ".join(missing))
    graph = digraph("performance_map", title or "Performance map", [*legend, *_notes(note)])

    def style(row: pd.Series) -> tuple[list[str], dict[str, str]]:
        median = _float(row["proc_median_h"])
        lines = [text(row["activity"])]
        if median is not None:
            lines.append(f"median {duration(median)}")
        attrs = _fill(PROCESSING_FILL, step(median, proc_top))
        mine = marks.get((str(row["activity"]), None), [])
        if mine:
            lines.append(", ".join(mine))
            attrs.update(penwidth="2.5", color="#67000d")
        return lines, attrs

    ids = _nodes(graph, data, style)
    for row in edges.itertuples(index=False):
        total = _float(row.wait_total_h)
        shade = WAITING_LINE[step(total, wait_top)]
        rank = marks.get((str(row.source), str(row.target)), [])
        words = [*rank, duration(_float(row.wait_median_h))]
        graph.edge(ids[str(row.source)], ids[str(row.target)], label=label(" ".join(words)),
                   color=shade, fontcolor="#67000d" if rank else "#262626",
                   penwidth=width(total, wait_top))
    _start_end(graph, data, ids, 0.0, labelled=False)
    return graph


def scenario_map(base_edges: pd.DataFrame, scenario_edges: pd.DataFrame, *,
                 title: str | None = None) -> graphviz.Digraph:
    """The paths of a simulated scenario against the simulated baseline (two `edge_stats`
    frames of runs over the same period, ideally on the same seed).

    Each path is labelled with its traversals and median wait, baseline -> scenario, and
    coloured by the relative change of its total waiting hours: that figure moves with the
    traversals (routing, demand, removed steps) and with the wait per traversal (capacity,
    calendars), so every kind of scenario shows. Blue is less waiting, red more, grey within
    5%; a dashed path is no longer taken, a bold one is new. Width follows the scenario's
    traversals.
    """
    keys = ["source", "target"]
    cols = [*keys, "count", "wait_median_h", "wait_total_h"]
    both = base_edges[cols].merge(scenario_edges[cols], on=keys, how="outer",
                                  suffixes=("_base", "_scen"))
    for col in ("count_base", "count_scen", "wait_total_h_base", "wait_total_h_scen"):
        both[col] = both[col].fillna(0)
    through: dict[str, float] = {}
    for row in both.itertuples(index=False):
        for name in (str(row.source), str(row.target)):
            through[name] = through.get(name, 0.0) + row.count_base + row.count_scen
    legend = [
        "Paths: traversals and median waiting time, baseline -> scenario",
        "Colour: change in the path's total waiting hours; blue less, red more (steps at 5%, "
        "20%, 50%), grey within 5%",
        "Dashed: no longer taken; bold: a new path; width by the scenario's traversals",
    ]
    graph = digraph("scenario_map", title or "Scenario against the baseline", legend)
    ids: dict[str, str] = {}
    for i, name in enumerate(sorted(through, key=lambda n: (-through[n], n))):
        ids[name] = f"n{i}"
        graph.node(ids[name], label=label(text(name)))
    widest = float(both[["count_base", "count_scen"]].max().max()) if len(both) else 0.0
    both = both.sort_values(["count_scen", "count_base", "source", "target"],
                            ascending=[False, False, True, True])
    for row in both.itertuples(index=False):
        colour, change, style = _change(row.count_base, row.count_scen, row.wait_total_h_base,
                                        row.wait_total_h_scen)
        lines = [f"{count(row.count_base)} -> {count(row.count_scen)}",
                 f"wait {duration(_float(row.wait_median_h_base))} -> "
                 f"{duration(_float(row.wait_median_h_scen))}", change]
        graph.edge(ids[str(row.source)], ids[str(row.target)], label=label(*lines),
                   color=colour, fontcolor=colour if colour != SAME else "#262626", style=style,
                   penwidth=width(row.count_scen, widest))
    return graph


def _change(base: float, scen: float, base_wait: float, scen_wait: float) -> tuple[str, str, str]:
    """(colour, the change as text, line style) of one path."""
    if scen == 0:
        return LESS[0], "no longer taken", "dashed"
    if base == 0:
        return MORE[-1], "new path", "bold"
    if base_wait <= 0:
        return (SAME, "waiting 0 -> 0", "solid") if scen_wait <= 0 else \
            (MORE[-1], "waiting from 0", "solid")
    rel = (scen_wait - base_wait) / base_wait
    size = abs(rel)
    if size < CHANGE_STEPS[0]:
        return SAME, f"waiting {rel:+.0%}", "solid"
    band = 0 if size >= CHANGE_STEPS[2] else 1 if size >= CHANGE_STEPS[1] else 2
    colour = LESS[band] if rel < 0 else MORE[2 - band]
    return colour, f"waiting {rel:+.0%}", "solid"


def _nodes(graph: graphviz.Digraph, data: MapData, style: _Style) -> dict[str, str]:
    """One node per activity, in the frame's order, named n0, n1, ...; returns name -> id."""
    ids: dict[str, str] = {}
    for i, (_, row) in enumerate(data.activities.iterrows()):
        ids[str(row["activity"])] = f"n{i}"
        lines, attrs = style(row)
        graph.node(f"n{i}", label=label(*lines), **attrs)
    return ids


def _start_end(graph: graphviz.Digraph, data: MapData, ids: dict[str, str], widest: float, *,
               labelled: bool) -> None:
    """Start and End nodes with the number of cases (each starts and ends once, whichever
    arcs the abstraction hides), and their dashed arcs (counted and widened
    by cases in the frequency map, plain in the performance map)."""
    se = data.start_end
    with graph.subgraph() as first:
        first.attr(rank="source")
        first.node(_START, label=label("Start", count(data.case_count)), shape="circle",
                   fillcolor="#e5f5e0", color="#31a354", style="filled")
    with graph.subgraph() as last:
        last.attr(rank="sink")
        last.node(_END, label=label("End", count(data.case_count)), shape="doublecircle",
                  fillcolor="#fee0d2", color="#de2d26", style="filled")
    for row in se.itertuples(index=False):
        name = str(row.activity)
        for n, (tail, head) in ((row.starts, (_START, ids[name])), (row.ends, (ids[name], _END))):
            if n <= 0:
                continue
            if labelled:
                graph.edge(tail, head, label=label(count(n)), style="dashed",
                           penwidth=width(float(n), widest))
            else:
                graph.edge(tail, head, style="dashed", color="#969696")


def _marks(data: MapData) -> tuple[dict[tuple[str, str | None], list[str]], list[str]]:
    """Where each bottleneck goes: (activity, None) or (source, target) -> ["#1 waiting before"
    ...]; and those the map cannot show, as legend text."""
    on_map = set(data.activities["activity"].astype(str))
    edges = {(str(s), str(t)) for s, t in zip(data.edges["source"], data.edges["target"],
                                                strict=True)}
    marks: dict[tuple[str, str | None], list[str]] = {}
    missing: list[str] = []
    for b in sorted(data.bottlenecks, key=lambda b: b.rank):
        key: tuple[str, str | None] | None = None
        words = f"#{b.rank}"
        if b.kind in _KIND_WORDS and b.activity in on_map:
            key, words = (str(b.activity), None), f"#{b.rank} {_KIND_WORDS[b.kind]}"
        elif b.kind == "edge" and (str(b.source), str(b.target)) in edges:
            key = (str(b.source), str(b.target))
        if key is None:
            missing.append(_where(b))
        else:
            marks.setdefault(key, []).append(words)
    return marks, missing


def _where(b: Bottleneck) -> str:
    if b.kind == "handoff":
        return f"#{b.rank} hand-off {text(b.source)} -> {text(b.target)}"
    if b.kind == "edge":
        return f"#{b.rank} path {text(b.source)} -> {text(b.target)} (hidden)"
    return f"#{b.rank} {_KIND_WORDS.get(b.kind, b.kind)} {text(b.activity)} (hidden)"


def _hours(total: float) -> str:
    """A total for the legend: whole hours once it is large ('43,031 h'), else `duration`."""
    return f"{total:,.0f} h" if total >= 48 else duration(total)


def _widest(data: MapData) -> float:
    se = data.start_end
    values = [*data.edges["count"], *se["starts"], *se["ends"]]
    return float(max(values)) if values else 0.0


def _fill(palette: tuple[str, ...], shade: int) -> dict[str, str]:
    # White text on the darkest step, where black would not read.
    return {"fillcolor": palette[shade], "fontcolor": "white" if shade == len(palette) - 1
            else "black"}


def _notes(note: str | None) -> list[str]:
    return [text(line) for line in (note or "").splitlines() if line.strip()]


def _float(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if number != number else number  # noqa: PLR0124 - NaN check


__all__ = [
    "CHANGE_STEPS", "FREQUENCY_FILL", "LESS", "MORE", "PROCESSING_FILL", "SAME",
    "WAITING_LINE", "Abstracted", "Abstraction", "MapData", "abstract", "bpmn_map",
    "frequency_map", "map_data", "performance_map", "render", "scenario_map", "svg_inline",
]
