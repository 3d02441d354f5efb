"""What a process map draws (`MapData`), and Disco-style abstraction of it.

A log with 10 to 100 activities gives a map nobody can read. As in Disco, two sliders make
it readable: `activities_pct` keeps the most frequent activities, `paths_pct` the most
frequent paths between them, and the map states what it leaves out.

Activities. With n activities, the k = ceil(n * activities_pct / 100) most frequent ones are
kept (at least 1; ranked by events, ties by name). As in Disco, the events of the others are
removed and the directly-follows relation is recomputed by the engine on what is left, so
`A -> X -> B` with `X` hidden becomes a path `A -> B` whose waiting spans `X`, and a case whose
events were all hidden leaves the map. (Without the events, `abstract` can only keep the paths
whose both ends are kept, and says so on the map.)

Paths. The paths are the directly-follows edges among the kept activities plus the arcs from
Start and to End (cases starting / ending with an activity), p of them. Kept are:

1. the m = ceil(p * paths_pct / 100) most frequent paths (ties by source, then target; Start
   before and End after the activities);
2. for every activity, its most frequent incoming and its most frequent outgoing path, so no
   activity is left dangling;
3. then, while an activity cannot be reached from Start on the kept paths, the most frequent
   path from a reachable node to an unreachable one; and likewise towards End. Every case goes
   from Start to End, so such a path exists, and on the result every activity lies on a
   route from Start to End (Disco's promise that the map stays connected).

The activity counts of a kept activity never change with `paths_pct`: hiding a path hides the
line, not the cases that took it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from processmine import backend
from processmine.errors import ConfigError
from processmine.mining.bottlenecks import Bottleneck
from processmine.mining.events import Events, enrich
from processmine.mining.stats import activity_stats, edge_stats, start_end_counts


@dataclass(frozen=True, eq=False)
class MapData:
    """The figures a map draws, one frame per element, as `processmine.mining.stats` makes
    them: `activities` (activity, count, cases, proc_*_h, wait_*_h, ...), `edges` (source,
    target, count, cases, wait_*_h), `start_end` (activity, starts, ends: the arcs from Start
    and to End), the ranked `bottlenecks` to mark, and `cases` (None: the sum of `starts`;
    set when abstraction hid some arcs from Start)."""

    activities: pd.DataFrame
    edges: pd.DataFrame
    start_end: pd.DataFrame
    bottlenecks: tuple[Bottleneck, ...] = ()
    cases: int | None = None

    @property
    def case_count(self) -> int:
        """The cases on the map: each starts once."""
        if self.cases is not None:
            return self.cases
        return int(self.start_end["starts"].sum()) if len(self.start_end) else 0


def map_data(events: Events, *, bottlenecks: Iterable[Bottleneck] = ()) -> MapData:
    """The frequency and performance figures of `events` (three aggregate queries)."""
    se = start_end_counts(events)
    return MapData(activity_stats(events), edge_stats(events), se, tuple(bottlenecks),
                   int(se["starts"].sum()) if len(se) else 0)


@dataclass(frozen=True, slots=True)
class Abstraction:
    """How much of the map to show: percentages of the activities and of the paths (see the
    module docstring). 100 and 100 show everything. Raises ConfigError for a percentage that
    is not above 0 and at most 100."""

    activities_pct: float = 100.0
    paths_pct: float = 100.0

    def __post_init__(self) -> None:
        for option, pct in (("--activities", self.activities_pct), ("--paths", self.paths_pct)):
            if not 0 < pct <= 100:  # also false for NaN
                raise ConfigError(f"{option} {pct:g}: not a percentage of the map to keep; "
                                  "expected a number above 0 and at most 100, e.g. 80")


class Abstracted(NamedTuple):
    """The abstracted map and the sentence saying what it hides (None when nothing is)."""

    data: MapData
    note: str | None


# A node of the path graph: (0, "") is Start, (1, name) an activity, (2, "") End, so tuples
# sort Start first and End last and no activity name can collide with them.
_Node = tuple[int, str]
_START: _Node = (0, "")
_END: _Node = (2, "")


class _Arc(NamedTuple):
    cases: int
    source: _Node
    target: _Node

    @property
    def rank(self) -> tuple[int, _Node, _Node]:
        return (-self.cases, self.source, self.target)


def abstract(data: MapData, abstraction: Abstraction, *,
             events: Events | None = None) -> Abstracted:
    """Keep the most frequent activities and paths of `data` (see the module docstring).

    `events` are the events `data` was computed from: with them, the paths among the kept
    activities are recomputed on the log without the hidden ones (Disco's semantics);
    without them, paths through a hidden activity are dropped. Bottlenecks are kept as they
    are (ranked on the whole log); the map says which it cannot show.
    """
    acts = data.activities.sort_values(["count", "activity"], ascending=[False, True])
    total = len(acts)
    keep_n = min(total, max(1, math.ceil(total * abstraction.activities_pct / 100 - 1e-9)))
    kept = [str(a) for a in acts["activity"].iloc[:keep_n]]
    shown = data
    if keep_n < total:
        shown = (_recomputed(events, kept, data.bottlenecks) if events is not None
                 else _restricted(data, kept))
    arcs = _arcs(shown)
    chosen = _paths(arcs, [(1, a) for a in kept], abstraction.paths_pct)
    if len(chosen) < len(arcs):
        shown = _with_paths(shown, chosen)
    if keep_n == total and len(chosen) == len(arcs):
        return Abstracted(data, None)
    all_events = float(acts["count"].sum())
    share = 100.0 * float(acts["count"].iloc[:keep_n].sum()) / all_events if all_events else 0.0
    note = (f"Showing {keep_n:,} of {total:,} activities ({share:.1f}% of events) and "
            f"{len(chosen):,} of their {len(arcs):,} paths "
            f"(activities {abstraction.activities_pct:g}%, paths {abstraction.paths_pct:g}%)")
    if keep_n < total and events is None:
        note += "; paths through hidden activities are left out"
    return Abstracted(shown, note)


def _recomputed(events: Events, kept: Sequence[str], bottlenecks: tuple[Bottleneck, ...]
                ) -> MapData:
    """The map of the log without the events of hidden activities, recomputed by the engine."""
    log = events.log
    t = log.table
    narrowed = enrich(log.with_table(t.filter(t.activity.isin(list(kept)))), events.calendar)
    try:
        return map_data(narrowed, bottlenecks=bottlenecks)
    finally:
        backend.release(log.backend, narrowed.table)


def _restricted(data: MapData, kept: Sequence[str]) -> MapData:
    """Without events: the kept activities and the paths whose both ends are kept."""
    keep = set(kept)
    e = data.edges
    se = data.start_end
    return MapData(data.activities[data.activities["activity"].isin(keep)],
                   e[e["source"].isin(keep) & e["target"].isin(keep)],
                   se[se["activity"].isin(keep)], data.bottlenecks, data.case_count)


def _arcs(data: MapData) -> list[_Arc]:
    arcs = [_Arc(int(c), (1, str(s)), (1, str(t)))
            for s, t, c in zip(data.edges["source"], data.edges["target"], data.edges["count"],
                               strict=True)]
    for a, starts, ends in zip(data.start_end["activity"], data.start_end["starts"],
                               data.start_end["ends"], strict=True):
        if starts > 0:
            arcs.append(_Arc(int(starts), _START, (1, str(a))))
        if ends > 0:
            arcs.append(_Arc(int(ends), (1, str(a)), _END))
    return sorted(arcs, key=lambda arc: arc.rank)


def _paths(arcs: list[_Arc], activities: list[_Node], pct: float) -> list[_Arc]:
    """The paths kept at `pct` (rules 1-3 of the module docstring), most frequent first."""
    if pct >= 100:
        return arcs
    chosen = set(arcs[:math.ceil(len(arcs) * pct / 100 - 1e-9)])
    present = {arc.source for arc in arcs} | {arc.target for arc in arcs}
    for node in activities:
        for side in ([a for a in arcs if a.target == node], [a for a in arcs if a.source == node]):
            if side:  # empty only without events, when a hidden activity held the arc
                chosen.add(min(side, key=lambda a: a.rank))
    for forward in (True, False):
        while True:
            reached = _reached(chosen, _START if forward else _END, forward=forward)
            missing = [n for n in activities if n in present and n not in reached]
            if not missing:
                break
            bridges = [a for a in arcs if a not in chosen
                       and ((a.source in reached and a.target in missing) if forward
                            else (a.target in reached and a.source in missing))]
            if not bridges:  # only without events: hidden activities cut the route
                break
            chosen.add(min(bridges, key=lambda a: a.rank))
    return sorted(chosen, key=lambda arc: arc.rank)


def _reached(arcs: Iterable[_Arc], origin: _Node, *, forward: bool) -> set[_Node]:
    step: dict[_Node, list[_Node]] = {}
    for arc in arcs:
        a, b = (arc.source, arc.target) if forward else (arc.target, arc.source)
        step.setdefault(a, []).append(b)
    seen, todo = {origin}, [origin]
    while todo:
        for nxt in step.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _with_paths(data: MapData, chosen: list[_Arc]) -> MapData:
    """`data` with only the chosen paths: other edges dropped, other Start/End arcs zeroed."""
    pairs = {(a.source[1], a.target[1]) for a in chosen if a.source[0] == 1 == a.target[0]}
    starts = {a.target[1] for a in chosen if a.source == _START}
    ends = {a.source[1] for a in chosen if a.target == _END}
    e = data.edges
    keep = [(str(s), str(t)) in pairs for s, t in zip(e["source"], e["target"], strict=True)]
    se = data.start_end.copy()
    se["starts"] = [n if str(a) in starts else 0 for a, n in zip(se["activity"], se["starts"],
                                                                  strict=True)]
    se["ends"] = [n if str(a) in ends else 0 for a, n in zip(se["activity"], se["ends"],
                                                              strict=True)]
    return MapData(data.activities, e[keep], se, data.bottlenecks, data.case_count)


__all__ = ["Abstracted", "Abstraction", "MapData", "abstract", "map_data"]
