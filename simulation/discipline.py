"""Queue discipline from the log: which activities a pool serves before others.

A team often puts some work ahead of the rest: fixes that are already approved before new
diagnoses, closing a ticket before opening the next. A first-come-first-served simulation of
such a team gets the waits of both wrong (the approved fix waits hours behind new work it
never queues behind in reality), so calibration reads the order from the log.

The evidence is a *contest*: an instance of activity X becomes ready (its predecessor in the
case ends) while an instance of Y of the same pool is already waiting. Under first come,
first served Y starts first; if X starts first, X *overtook* Y. Individuals and case
priorities make some overtaking in both directions normal, so an order is read only when it
is near strict: X overtook Y in at least `STRICT` of at least `MIN_CONTESTS` contests, and Y
overtook X in at most 1 - `STRICT` of theirs, give or take one case (however few they are:
a production log's machine that overtook its neighbour 43 times of 43, but was overtaken 6
times of 8, has no queue order, just two machines).
The levels then follow from those pairs: an activity one step above every activity it
overtakes (`queue_priority`, higher served first; 0 for the rest).

Waits that may not be queueing are left out: instances that follow an edge with a calibrated
extraneous delay (waiting for the customer looks like queueing without a start of the
pool's work to show it), and instances without a start time. At most `cap` waiting instances
per activity are read (spread over the whole log), which bounds the join on large logs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from processmine.mining.events import Events
from simulation.delays import _systematic

#: Contests needed before an order between two activities is read.
MIN_CONTESTS = 30
#: Share of contests the earlier-served activity must win (and the other lose).
STRICT = 0.9


@dataclass(frozen=True, slots=True)
class Contest:
    """How often `later` (ready while `waiting` already waited) started first."""

    later: str
    waiting: str
    contests: int
    overtakes: int

    @property
    def share(self) -> float:
        return self.overtakes / self.contests if self.contests else 0.0


def contests(events: Events, activities: Sequence[str],
             delayed: Collection[tuple[str, str]] = (), cap: int = 5000) -> list[Contest]:
    """Every ordered pair of different `activities` with its contests and overtakes, computed
    by the engine (one inequality join of the waiting instances with the later arrivals)."""
    e = events.table
    steps = e.filter(e.activity.isin(list(activities)) & e.start.notnull()
                     & e.prev_end.notnull() & (e.start >= e.prev_end))
    for source, target in delayed:
        steps = steps.filter(~((steps.prev_activity == source) & (steps.activity == target)))
    steps = steps.select("row_id", act=steps.activity, ready=steps.prev_end, began=steps.start)
    waiting = _systematic(steps.filter(steps.began > steps.ready), ["act"], cap)
    y = waiting.select(y_act=waiting.act, y_ready=waiting.ready, y_began=waiting.began)
    x = steps.select(x_act=steps.act, x_ready=steps.ready, x_began=steps.began)
    j = y.join(x, [x.x_ready > y.y_ready, x.x_ready < y.y_began, x.x_act != y.y_act])
    agg = j.group_by(["x_act", "y_act"]).aggregate(
        n=j.count(), first=(j.x_began < j.y_began).sum())
    frame = events.log.backend.execute(agg)
    return sorted((Contest(str(r.x_act), str(r.y_act), int(r.n), int(r.first))
                   for r in frame.itertuples(index=False)),
                  key=lambda c: (c.later, c.waiting))


def served_before(pairs: Sequence[Contest]) -> list[tuple[Contest, Contest | None]]:
    """The pairs read as a strict order (see the module), each with its reverse, if any."""
    by_key = {(c.later, c.waiting): c for c in pairs}
    out = []
    for c in pairs:
        if c.contests < MIN_CONTESTS or c.share < STRICT:
            continue
        back = by_key.get((c.waiting, c.later))
        if back is not None and back.overtakes > (1 - STRICT) * back.contests + 1:
            continue  # overtaking both ways (beyond one stray case): not an order
        out.append((c, back))
    return out


def levels(orders: Sequence[tuple[Contest, Contest | None]]) -> dict[str, int]:
    """`queue_priority` per activity: one above the highest activity it is served before.
    A cycle in the orders (A before B before A) is not an order: the activities on it, and
    those above them, stay 0."""
    above: dict[str, set[str]] = {}
    for c, _ in orders:
        above.setdefault(c.later, set()).add(c.waiting)
    memo: dict[str, int] = {}

    def level(a: str, path: frozenset[str]) -> int:
        if a in path:
            raise _Cycle
        if a not in memo:
            memo[a] = max((level(b, path | {a}) + 1 for b in above.get(a, ())), default=0)
        return memo[a]

    out: dict[str, int] = {}
    for a in sorted(above):
        try:
            out[a] = level(a, frozenset())
        except _Cycle:
            out[a] = 0
    return {a: n for a, n in out.items() if n > 0}


def consistent(found: Mapping[str, int], pairs: Sequence[Contest],
               activities: Sequence[str]) -> dict[str, int]:
    """`found` without the levels the log contradicts. A level puts an activity before every
    activity of the pool below it, not only those it was seen overtaking; where the log shows
    it overtaken by one of those beyond stray cases, or not overtaking it when it had the
    chance, it is not served first after all (level 0), and the check runs again."""
    by_key = {(c.later, c.waiting): c for c in pairs}
    out = dict(found)
    changed = True
    while changed:
        changed = False
        for a in sorted(out):
            for y in activities:
                if y == a or out.get(y, 0) >= out[a]:
                    continue
                ahead, back = by_key.get((a, y)), by_key.get((y, a))
                if ((back is not None and back.overtakes > (1 - STRICT) * back.contests + 1)
                        or (ahead is not None and ahead.contests >= MIN_CONTESTS
                            and ahead.share < STRICT)):
                    out[a] = 0
                    changed = True
                    break
    return {a: n for a, n in out.items() if n > 0}


class _Cycle(Exception):
    pass


def queue_priorities(events: Events, by_pool: Mapping[str, Sequence[str]],
                     delayed: Collection[tuple[str, str]] = (), cap: int = 5000,
                     ) -> tuple[dict[str, int], list[str]]:
    """Activity -> `queue_priority` (only those above 0) for every pool of two or more
    activities, and a note per order found, with its evidence."""
    chosen: dict[str, int] = {}
    notes: list[str] = []
    for pool, activities in sorted(by_pool.items()):
        if len(activities) < 2:
            continue
        pairs = contests(events, activities, delayed, cap)
        orders = served_before(pairs)
        found = consistent(levels(orders), pairs, activities)
        chosen.update(found)
        for c, back in orders:
            if c.later not in found:
                continue
            reverse = (f"the reverse {back.overtakes:,} of {back.contests:,}" if back is not None
                       else "never the reverse")
            notes.append(
                f"Queue order in pool {pool!r}: {c.later!r} is served before {c.waiting!r} "
                f"(it started first {c.overtakes:,} times of {c.contests:,} that it became "
                f"ready while {c.waiting!r} waited; {reverse}).")
    return chosen, notes


__all__ = ["MIN_CONTESTS", "STRICT", "Contest", "consistent", "contests", "levels",
           "queue_priorities", "served_before"]
