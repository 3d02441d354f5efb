"""Extraneous delays: the part of a wait between two activities that queueing does not explain.

This is the most involved measurement of calibration (an event timeline per pool, run in the
engine) and it changes for its own reasons, so it lives apart from `simulation.calibrate`,
which calls `pool_delays` and `delays_without_pool` and keeps the model's other parts. The
sampling and time helpers at the end are shared with calibrate.py.

The rule, per edge a -> b: the engine itself makes a case wait for a free member
on shift, so a delay must hold only what the pool's contention and calendar do not explain.
For each wait [end of a, start of b) the *ready moment* is taken as the end of the last
stretch of at least `IDLE_MIN_H` working hours, before b starts, in which the pool was on
shift and not every member (active that week) was busy: had the case been ready then, a free
member would have taken it. Everything after the ready moment is queueing and off-shift time,
which the engine reproduces; everything before it is the delay. The ready moment is pulled
back to the end of that stretch's working time (`Calendar.add_working_hours`), the earliest
moment that explains the observed start, so off-shift hours stay out of the delay (under
another calendar the true ready moment, somewhere in that off-shift gap, is unknown). Delays
of at least `DELAY_MIN_H` give the edge's `probability` (share of its transitions) and a
fitted clock-hour distribution; an edge needs `MIN_DELAYS` of them. Two biases, both small
when the pool is not saturated: a delay that ends while every member is busy is cut back to
the start of that busy stretch; a member who is free but leaves a case waiting (batching,
cherry-picking) makes that wait a delay, which is what extraneous means here. Before an
activity that needs no pool (a customer's reply) the whole wait is the delay.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from processmine import backend
from processmine.mining.calendar import Calendar
from processmine.mining.causes import merge_intervals
from processmine.mining.events import Events, hours
from processmine.mining.resources import Pool as MinedPool
from simulation.fitting import fit_distribution
from simulation.model import Delay

#: A delay shorter than this (one minute) is the log's timing noise, not a wait for someone.
DELAY_MIN_H = 1 / 60
#: A pool counts as idle only for stretches of at least this many working hours (a minute):
#: the seconds between one task's end and the next one's start are switching, not idleness.
IDLE_MIN_H = 1 / 60
#: An edge gets a delay only when at least this many of its transitions were delayed.
MIN_DELAYS = 5


def pool_delays(events: Events, pool: MinedPool, calendar: Calendar,
                 targets: list[str], cap: int) -> list[Delay]:
    """Delays on the edges into the pool's activities (the ready-moment rule of the module
    docstring). The engine finds each wait's last idle stretch; Python measures the delay of
    at most `cap` candidate waits per edge on the calendar, and the share of candidates that
    hold a delay of at least `DELAY_MIN_H` scales their count (exact up to `cap`)."""
    e = events.table
    measured = e.filter(e.activity.isin(targets) & e.prev_end.notnull() & e.start.notnull())
    waits = measured.filter(measured.start > measured.prev_end).select(
        wid=measured.row_id, src=measured.prev_activity, tgt=measured.activity,
        a=measured.prev_end, b=measured.start)
    w = waits.join(_ready(e, waits, list(pool.resources), calendar), "wid")
    w = w.mutate(s=ibis.greatest(w.a, w.x))
    w = w.filter(w.r_end > w.s).select(key=w.src + "\x1f" + w.tgt, row_id=w.wid, a=w.a, s=w.s,
                                       r_end=w.r_end)
    con = events.log.backend
    candidates = backend.materialize(con, w)  # the timeline is computed once
    totals = con.execute(measured.group_by(src=measured.prev_activity, tgt=measured.activity)
                         .aggregate(n=measured.count()))
    counts = con.execute(candidates.group_by("key").aggregate(n=candidates.count()))
    sample = con.execute(_systematic(candidates, ["key"], cap))
    backend.release(con, candidates)
    hours_of: dict[str, list[float]] = defaultdict(list)
    tried: Counter[str] = Counter()
    for key, a, s_, r_end in zip(sample["key"], sample["a"], sample["s"], sample["r_end"], strict=True):
        begin, until, since = _py_time(s_), _py_time(r_end), _py_time(a)
        if begin is None or until is None or since is None:  # not possible for a candidate
            continue
        tried[str(key)] += 1
        idle = calendar.working_hours(begin, until)
        if idle >= DELAY_MIN_H:
            ready_at = calendar.add_working_hours(begin, idle)
            hours_of[str(key)].append((ready_at - since) / timedelta(hours=1))
    n_delayed = {str(k): round(int(n) * len(hours_of[str(k)]) / tried[str(k)])
                 for k, n in zip(counts["key"], counts["n"], strict=True) if tried[str(k)]}
    return _delays(totals, n_delayed, hours_of)


def _ready(e: ir.Table, waits: ir.Table, members: list[str], calendar: Calendar) -> ir.Table:
    """Per wait `wid`: the last idle stretch of the pool before the wait ends, as `x` (its
    start) and `r_end` (its end, cut at the wait's end); NULL when there is none.

    The pool's busy periods and the waits' ends go on one timeline; a running sum of +1/-1
    gives how many members are busy. Between two consecutive changes ("runs") the pool is idle
    when fewer than the members active that week are busy and the run holds at least
    `IDLE_MIN_H` working hours. A running maximum over the runs carries the last idle one
    forward to every wait end.
    """
    work = e.filter(e.resource.isin(members) & e.start.notnull() & (e.end > e.start))
    busy = merge_intervals(work.select("resource", s=work.start, f=work.end))
    active = e.filter(e.resource.isin(members))
    active = active.mutate(week=active.end.truncate("W"))
    size = active.group_by("week").aggregate(size=active.resource.nunique())
    null_id = ibis.null(dt.int64)
    points = (
        busy.select(t=busy.s, d=ibis.literal(1), wid=null_id)
        .union(busy.select(t=busy.f, d=ibis.literal(-1), wid=null_id), distinct=False)
        .union(waits.select(t=waits.b, d=ibis.literal(0), wid=waits.wid.cast(dt.int64)),
               distinct=False)
    )
    order = [points.t, points.d, points.wid]
    running = ibis.cumulative_window(order_by=order)
    p = points.mutate(busy=points.d.sum().over(running), nxt=points.t.lead().over(ibis.window(order_by=order)),
                      rid=(points.d != 0).cast(dt.int64).sum().over(running))
    runs = p.group_by("rid").aggregate(rstart=p.t.min(), rend=p.nxt.max(), busy=p.busy.max())
    runs = runs.mutate(week=runs.rstart.truncate("W"))
    runs = runs.left_join(size, runs.week == size.week).select(runs, size.size)
    idle = ((runs.busy < runs.size.fill_null(0)) & runs.rend.notnull()
            & (_working(calendar, runs.rstart, runs.rend) >= IDLE_MIN_H))
    upto = ibis.cumulative_window(order_by=runs.rid)
    runs = runs.mutate(
        x=ibis.ifelse(idle, runs.rstart, ibis.null(dt.timestamp)).max().over(upto),
        last_end=ibis.ifelse(idle, runs.rend, ibis.null(dt.timestamp)).max().over(upto))
    ends = p.filter(p.wid.notnull())
    j = ends.join(runs, "rid")
    r_end = ibis.ifelse(j.last_end.isnull(), ibis.null(dt.timestamp), ibis.least(j.last_end, j.t))
    return j.select(wid=j.wid, x=j.x, r_end=r_end)


def delays_without_pool(events: Events, targets: set[str], cap: int) -> list[Delay]:
    """Delays on edges into activities that need nobody: the whole wait (clock hours)."""
    if not targets:
        return []
    e = events.table
    into = e.filter(e.activity.isin(sorted(targets)) & e.prev_activity.notnull())
    into = into.mutate(key=into.prev_activity + "\x1f" + into.activity)
    delayed = into.filter(into.wait_h >= DELAY_MIN_H)
    con = events.log.backend
    totals = con.execute(into.group_by(src=into.prev_activity, tgt=into.activity)
                         .aggregate(n=into.count()))
    counts = con.execute(delayed.group_by("key").aggregate(n=delayed.count()))
    sample = con.execute(_systematic(delayed.select("key", "row_id", "wait_h"), ["key"], cap))
    hours_of = {str(k): list(g["wait_h"].astype(float)) for k, g in sample.groupby("key")}
    n_delayed = dict(zip(counts["key"].astype(str), counts["n"].astype(int), strict=True))
    return _delays(totals, n_delayed, hours_of)


def _delays(totals: pd.DataFrame, n_delayed: Mapping[str, int],
            hours_of: Mapping[str, list[float]]) -> list[Delay]:
    """One Delay per edge with at least `MIN_DELAYS` delayed transitions."""
    out = []
    for src, tgt, n in zip(totals["src"], totals["tgt"], totals["n"], strict=True):
        key = f"{src}\x1f{tgt}"
        k = n_delayed.get(key, 0)
        values = np.array([h for h in hours_of.get(key, ()) if h >= DELAY_MIN_H])
        if k < MIN_DELAYS or values.size == 0:
            continue
        fit = fit_distribution(values)
        out.append(Delay(str(src), str(tgt), min(k / int(n), 1.0) * (1 - fit.zero_share), fit.positive))
    return out


# --- helpers, shared with calibrate.py ---------------------------------------------------


def _engine_calendar(calendar: Calendar) -> Calendar | None:
    """None (clock hours) for a 24/7 calendar: the same numbers from a far smaller expression."""
    return None if calendar == Calendar.always() else calendar


def _working(calendar: Calendar, start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
    """Working hours in [start, end) (0 when end <= start), clock hours for 24/7."""
    return ibis.ifelse(end > start, hours(start, end, _engine_calendar(calendar)), 0.0)


def _systematic(t: ir.Table, keys: list[str], cap: int) -> ir.Table:
    """At most `cap` rows per group of `keys`: every (n/cap)-th row in `row_id` order, which
    is deterministic, portable, and spread over the whole period (unlike the first `cap`)."""
    w = ibis.window(group_by=keys, order_by="row_id")
    t = t.mutate(_i=ibis.row_number().over(w), _n=t.row_id.count().over(ibis.window(group_by=keys)))
    keep = (t._n <= cap) | ((t._i * cap) // t._n < ((t._i + 1) * cap) // t._n)
    return t.filter(keep).drop("_i", "_n").order_by([*keys, "row_id"])


def _py_time(value: Any) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    stamp = value if isinstance(value, datetime) else pd.Timestamp(value)
    if isinstance(stamp, pd.Timestamp):
        stamp = stamp.to_pydatetime()
    return stamp if isinstance(stamp, datetime) else None


__all__ = ["DELAY_MIN_H", "IDLE_MIN_H", "MIN_DELAYS", "delays_without_pool", "pool_delays"]
