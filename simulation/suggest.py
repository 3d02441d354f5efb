"""Candidate scenarios from a log's bottlenecks: `suggest`.

This module exists apart from `simulation.scenarios` because the two change for different
reasons: scenarios.py defines what a change *is* (its kinds, TOML form and effect on a model),
while this module holds the heuristics that decide which change to *propose* for which kind of
bottleneck; tuning those heuristics should not touch the file format. `suggest` is still
importable from `simulation.scenarios`.
"""

from __future__ import annotations

import heapq
import math
import re
from typing import TYPE_CHECKING

from processmine.errors import ConfigError
from simulation.model import END, START, SimulationModel, normalised
from simulation.scenarios import (
    Automate,
    Capacity,
    Remove,
    Reroute,
    Scenario,
    Wait,
    WorkingHours,
    _minutes,
    _spec,
    apply,
)

if TYPE_CHECKING:
    from processmine.mining.bottlenecks import Bottleneck, BottleneckReport

#: Pools of at most this many members get longer hours suggested when their work waits for
#: them to come on shift; for a large team a shift change is rarely the first lever.
SMALL_POOL = 3
#: Activity names that read as an approval, which `suggest` proposes to remove.
APPROVAL = re.compile(r"approv|sign[- ]?off|review|authori[sz]", re.IGNORECASE)
_TABLE = dict[str, dict[str, float]]
_WEEK = 7 * 1440


def suggest(model: SimulationModel, report: BottleneckReport, *, limit: int = 5) -> list[Scenario]:
    """Candidate scenarios for the top bottlenecks, in rank order, at most `limit`.

    - waiting mostly in contention (all members busy): one more member for the pool;
    - waiting mostly for a small pool (<= SMALL_POOL members) to come on shift: longer hours
      (`_extra_hours`);
    - an approval-like activity (`APPROVAL`) whose waiting is not extraneous: skip the step;
    - long processing: halve the work (duration_factor 0.5);
    - rework: halve the loop: on the most probable cycle back to the activity, the least
      probable step is where cases choose to go round again; its probability is halved.
    - extraneous waiting (the customer, a third party), and waiting that could not be split
      into causes (a log without start times, such as a CRM stage history): halve the waiting
      the model carries as a delay before the activity (on the edge, for an edge bottleneck);
      what a reminder, an automatic chase or a faster stage would do.
    Team hand-offs get no suggestion: no single change of the model addresses them.
    Candidates the model cannot take (an activity without a pool, a loop without another way
    out) are left out, and so are repeats (candidates that change the model the same way).
    """
    out: list[Scenario] = []
    seen: set[str] = set()
    for b in report.bottlenecks:
        for scenario in _candidates(model, b):
            changed = _applied(model, scenario)
            # Two candidates that change the model the same way (halving the only delay
            # into a stage, asked for by its wait and by its one edge) are one scenario.
            key = None if changed is None else repr(changed.to_dict())
            if key is None or key in seen:
                continue
            seen.add(key)
            out.append(scenario)
            if len(out) >= limit:
                return out
    return out


def _candidates(model: SimulationModel, b: Bottleneck) -> list[Scenario]:
    why = f"Suggested by bottleneck #{b.rank}" + (f": {b.explanation}" if b.explanation else ".")
    activity = b.target if b.kind == "edge" else b.activity
    if activity is None or activity not in model.activities:
        return []
    act = model.activities[activity]
    if b.kind in ("wait", "edge"):
        source = b.source if b.kind == "edge" else None
        if b.causes is None or act.pool is None or b.causes.total <= 0:
            # No split into causes (no start times or resources): what the model carries
            # as waiting is a delay, which is what can be shortened.
            return _shorter_wait(activity, source, why)
        shares = b.causes.shares()
        main = max(shares, key=lambda k: shares[k])
        found = []
        if main == "extraneous":
            found += _shorter_wait(activity, source, why)
        if main == "contention":
            found.append(Scenario(f"One more person for '{activity}'",
                                  (Capacity(activity=activity, delta=1),), why))
        if main == "unavailability" and model.pools[act.pool].capacity <= SMALL_POOL:
            extra = _extra_hours(model.pools[act.pool].calendar)
            if extra is not None:
                found.append(Scenario(f"Longer hours for '{activity}'",
                                      (WorkingHours(extra, activity=activity, add=True),), why))
        if main != "extraneous" and APPROVAL.search(activity):
            found.append(Scenario(f"Skip '{activity}'", (Remove(activity),), why))
        return found
    if b.kind == "processing" and act.duration.mean > 0:
        return [Scenario(f"Halve the work of '{activity}'",
                         (Automate(activity, duration_factor=0.5),), why)]
    if b.kind == "rework":
        edge = _loop_edge(_first_order(model), activity)
        if edge is not None:
            return [Scenario(f"Halve the rework of '{activity}'",
                             (Reroute(edge[0], edge[1], 0.5),), why)]
    return []


def _shorter_wait(activity: str, source: str | None, why: str) -> list[Scenario]:
    """Halve the waiting before `activity` (on the edge from `source`): candidates the model
    has no delay for are dropped by `_applied`."""
    where = f"'{source}' -> '{activity}'" if source else f"before '{activity}'"
    return [Scenario(f"Halve the waiting {where}", (Wait(activity, 0.5, source=source),), why)]



def _applied(model: SimulationModel, scenario: Scenario) -> SimulationModel | None:
    """The changed model, or None when the model cannot take the scenario."""
    try:
        return apply(model, scenario)
    except ConfigError:
        return None


def _first_order(model: SimulationModel) -> _TABLE:
    """Transition probabilities; for variant routing, those the variant mix implies."""
    if model.routing.mode != "variants":
        return {s: normalised(row) for s, row in model.routing.transitions.items()}
    counts: _TABLE = {}
    for path, p in model.routing.variants:
        full = (START, *path, END)
        for a, b in zip(full, full[1:], strict=False):
            counts.setdefault(a, {})
            counts[a][b] = counts[a].get(b, 0.0) + p
    return {s: normalised(row) for s, row in counts.items()}


def _loop_edge(table: _TABLE, activity: str) -> tuple[str, str] | None:
    """The least probable step on the most probable cycle from `activity` back to itself."""
    heap: list[tuple[float, str, str]] = []
    parent: dict[str, str] = {}

    def push(cost: float, node: str) -> None:
        for nxt, p in sorted(table.get(node, {}).items()):
            if nxt != END and p > 0 and nxt not in parent:
                heapq.heappush(heap, (cost - math.log(p), nxt, node))

    push(0.0, activity)
    while heap:
        cost, node, via = heapq.heappop(heap)
        if node in parent:
            continue
        parent[node] = via
        if node == activity:
            break
        push(cost, node)
    if activity not in parent:
        return None
    edges, node = [], activity
    while True:
        via = parent[node]
        edges.append((via, node))
        node = via
        if node == activity:
            break
    edges.reverse()
    source, target = min(edges, key=lambda e: table[e[0]][e[1]])
    return (source, target) if table[source][target] < 1 else None


def _extra_hours(spec: str) -> str | None:
    """Hours a pool could add: the times it works on any day, on every weekday it does not
    work yet; or, when it already works every weekday, two more hours after each shift (a gap
    under four hours is a break inside a shift, not its end). None for 24/7."""
    days = _minutes(spec)
    if any(not days[d] for d in range(5)):
        anywhere = set().union(*days)
        return _spec([(anywhere - days[d]) if d < 5 else set() for d in range(7)])
    week = {d * 1440 + m for d, minutes in enumerate(days) for m in minutes}
    extra: set[int] = set()
    for minute in week:
        if (minute + 1) % _WEEK in week:
            continue  # not the end of a run
        gap = next((g for g in range(1, _WEEK) if (minute + g) % _WEEK in week), _WEEK)
        if gap > 240:
            extra |= {(minute + g) % _WEEK for g in range(1, 121)}
    return _spec([{m - d * 1440 for m in extra if m // 1440 == d} for d in range(7)])


__all__ = ["APPROVAL", "SMALL_POOL", "suggest"]
