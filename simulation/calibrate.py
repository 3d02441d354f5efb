"""EventLog -> SimulationModel, from mined aggregates and bounded samples.

What is measured, and how (the rules a reader of a calibrated model needs):

- **Arrivals**: the first timestamp of each case. When the arrivals span at least
  `PROFILE_WEEKS` weeks, a weekly profile: rate[h] = arrivals in hour-of-week h / number of
  hours h in the span (a non-homogeneous Poisson process); otherwise the fitted distribution of
  the gaps between successive arrivals.
- **Case attributes**: observed frequencies of each case attribute with at most
  `MAX_ATTRIBUTE_VALUES` values (more is an id or an amount: skipped, with a note).
- **Routing**: first-order transition counts, `START` -> first activity of every case and last
  activity -> `END` of *complete* cases only (an open case has not ended, it is censored);
  optionally per value of a case attribute; or the complete cases' variants.
- **Resource pools** (`processmine.mining.resources.infer_pools`): resources grouped by the set
  of activities they perform; capacity = members; calendar = the hours of the week in which
  members are seen working. Resources that never spend time on anything (a `system` that logs
  creation, a `customer` who replies) belong to no pool, and an activity none of whose
  executions takes time is instant (fixed 0, no pool). An activity done by several pools goes
  to the pool that does most of its executions (a note says so): the model gives an activity
  one pool.
- **Processing times**: working hours of the activity's pool calendar (end - start measured on
  that calendar, as the engine pauses work off shift), fitted by `simulation.fitting`; clock
  hours for an activity with start times but no resources.
- **Extraneous delays**, per edge a -> b: what of each wait the pool's contention and calendar
  do not explain (the engine reproduces those), measured and fitted by `simulation.delays`
  (its docstring has the rule and its biases).
- **No start times** (a CRM stage history): processing and waiting cannot be separated, so
  activities take no time, nothing queues, and every edge carries the fitted distribution of
  the whole gap between the two stages; the model's notes say so.

Per-event work runs in the engine (Ibis); pandas receives aggregates and, for fitting, at most
`sample_cap` values per activity, edge or arrival stream, chosen by systematic sampling in
source-row order (deterministic, and spread over the whole period).
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from processmine.errors import ConfigError, ProcessMineError
from processmine.log import EventLog
from processmine.mining.calendar import Calendar
from processmine.mining.events import Events, enrich, hours
from processmine.mining.resources import Pool as MinedPool
from processmine.mining.resources import hour_of_week, infer_pools
from processmine.mining.stats import Cases, case_table, variant_stats
from simulation.delays import (
    DELAY_MIN_H,
    IDLE_MIN_H,
    MIN_DELAYS,
    _engine_calendar,
    _py_time,
    _systematic,
    delays_without_pool,
    pool_delays,
)
from simulation.discipline import queue_priorities
from simulation.fitting import ZERO_H, fit_distribution
from simulation.model import (
    END,
    START,
    Activity,
    Arrivals,
    CaseAttribute,
    Delay,
    Distribution,
    Pool,
    Routing,
    SimulationModel,
    check,
)

#: A weekly arrival profile needs at least this many weeks of arrivals.
PROFILE_WEEKS = 4
#: Case attributes with more distinct values are not sampled (ids, amounts).
MAX_ATTRIBUTE_VALUES = 50
#: A value of the `by` attribute gets its own routing table from this many cases up.
MIN_CONDITION_CASES = 30
#: Attribute names that mean "serve this first".
PRIORITY_NAME = re.compile(r"prio|urgen|severity", re.IGNORECASE)
#: Words for priority levels, most urgent first.
PRIORITY_WORDS = ("critical", "urgent", "highest", "very high", "high", "medium", "normal",
                  "moderate", "low", "lowest", "very low", "minor", "trivial")
ROUTING_MODES = ("first_order", "variants")
PROCESSING_NOTE = ("Processing times are working hours of each pool's calendar; delays and "
                   "inter-arrival times are clock hours.")
NO_START_NOTE = (
    "The log has no start times, so processing and waiting cannot be told apart: activities "
    "take no time, nothing queues for resources, and each transition waits the fitted time "
    "between the two stages. Resource pools, utilisation and staffing changes do not apply.")


def calibrate(log: EventLog, *, by: str | None = None, routing_mode: str = "first_order",
              sample_cap: int = 5000, seed: int = 0) -> SimulationModel:
    """Build a SimulationModel from `log` (rules: module docstring).

    `by` conditions the first-order routing on a case attribute; `routing_mode` is
    "first_order" or "variants" (replay whole observed paths); `sample_cap` bounds the values
    per activity, edge or arrival stream brought out of the engine for fitting.
    Deterministic: the same log gives the same model. `seed` is accepted so that callers can
    pass their run's seed, but nothing here is drawn at random (samples are systematic), so
    the model does not depend on it.

    Raises ConfigError for an unknown `by`, routing mode or a `sample_cap` below 1, and
    ProcessMineError for a log with fewer than two cases.
    """
    del seed  # see the docstring: no random draws
    _check_options(log, by, routing_mode, sample_cap)
    events = enrich(log)
    cases = case_table(events)
    c = cases.table
    span = log.backend.execute(c.aggregate(n=c.count(), first=c["first"].min(), last=c["last"].max()))
    if int(span["n"][0]) < 2:
        raise ProcessMineError(f"{log.source}: found {int(span['n'][0])} case(s); calibration "
                               "needs at least two cases to estimate arrivals")
    notes = [PROCESSING_NOTE if log.has_start else NO_START_NOTE]
    arrivals = _arrivals(cases, sample_cap, notes)
    attributes = _attributes(log, cases, by, notes)
    priority, order = _priority(attributes, notes)
    routing = _routing(events, cases, by, routing_mode, notes)
    if log.has_start:
        pools, activities, delays = _with_resources(events, sample_cap, notes)
        activities = _queue_order(events, pools, activities, delays, sample_cap, notes)
    else:
        activities = {a: Activity(a, Distribution.fixed(0.0)) for a in _activities(events)}
        pools, delays = {}, delays_without_pool(events, set(activities), sample_cap)
    delays = sorted(delays, key=lambda d: (d.source, d.target))
    model = SimulationModel(
        arrivals=arrivals, routing=routing, activities=dict(sorted(activities.items())), pools=pools,
        delays=tuple(delays), attributes=attributes, priority=priority, priority_order=order,
        has_resources=bool(pools), source=log.source,
        calibrated_from=_py_time(span["first"][0]), calibrated_to=_py_time(span["last"][0]),
        notes=tuple(notes))
    check(model)
    return model


def _check_options(log: EventLog, by: str | None, routing_mode: str, sample_cap: int) -> None:
    if routing_mode not in ROUTING_MODES:
        raise ConfigError(f"routing mode {routing_mode!r}: expected one of {', '.join(ROUTING_MODES)}")
    if by is not None and by not in log.case_attributes:
        close = difflib.get_close_matches(by, list(log.case_attributes), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        known = ", ".join(log.case_attributes) or "none"
        raise ConfigError(f"routing by {by!r}: not a case attribute of the log (case attributes: "
                          f"{known}).{hint}")
    if by is not None and routing_mode != "first_order":
        raise ConfigError(f"routing by {by!r} needs first_order routing, found {routing_mode!r}")
    if sample_cap < 1:
        raise ConfigError(f"sample cap {sample_cap}: expected a number of samples >= 1")


# --- arrivals and attributes -------------------------------------------------------------


def _arrivals(cases: Cases, cap: int, notes: list[str]) -> Arrivals:
    """Weekly profile of arrival rates, or an inter-arrival distribution for short logs."""
    t = cases.table
    con = t.get_backend()
    first = t["first"]
    counts = con.execute(t.group_by(how=hour_of_week(first)).aggregate(n=t.count()))
    bounds = con.execute(t.aggregate(lo=first.min(), hi=first.max(), n=t.count()))
    lo, hi = _py_time(bounds["lo"][0]), _py_time(bounds["hi"][0])
    n = int(bounds["n"][0])
    if lo is None or hi is None:
        raise ProcessMineError("the log has no timestamps to calibrate arrivals from")
    weeks = (hi - lo) / timedelta(weeks=1)
    if weeks >= PROFILE_WEEKS:
        start = lo.replace(minute=0, second=0, microsecond=0)
        n_hours = int((hi - start) // timedelta(hours=1)) + 1
        first_how = start.weekday() * 24 + start.hour
        exposure = np.bincount((first_how + np.arange(n_hours)) % 168, minlength=168)
        seen = np.zeros(168)
        seen[counts["how"].to_numpy(dtype=int)] = counts["n"].to_numpy(dtype=float)
        rate = tuple(float(r) for r in seen / np.maximum(exposure, 1))
        notes.append(f"Arrivals: weekly profile from {n:,} cases over {weeks:.1f} weeks "
                     f"({sum(rate):.1f} cases per week).")
        return Arrivals(weekly_rate=rate)
    w = ibis.window(order_by=[first, t.case_id])
    gaps = t.mutate(gap_h=hours(first.lag().over(w), first), row_id=ibis.row_number().over(w))
    gaps = gaps.filter(gaps.gap_h.notnull()).mutate(key=ibis.literal("arrivals"))
    frame = con.execute(_systematic(gaps.select("key", "row_id", "gap_h"), ["key"], cap))
    fit = fit_distribution(frame["gap_h"].to_numpy(dtype=float))
    notes.append(f"Arrivals: the log spans {weeks * 7:.1f} days (< {PROFILE_WEEKS} weeks), too "
                 f"short for a weekly profile: inter-arrival times fitted ({fit.reason}).")
    return Arrivals(interarrival=fit.distribution)


def _attributes(log: EventLog, cases: Cases, by: str | None,
                notes: list[str]) -> tuple[CaseAttribute, ...]:
    """Observed frequencies of the case attributes with few values."""
    t = cases.table
    out = []
    for name in log.case_attributes:
        known = t.filter(t[name].notnull())
        frame = log.backend.execute(known.group_by(value=known[name]).aggregate(n=known.count()))
        if len(frame) > MAX_ATTRIBUTE_VALUES:
            if name == by:
                raise ConfigError(f"routing by {by!r}: it has {len(frame):,} values; expected a "
                                  f"case attribute with at most {MAX_ATTRIBUTE_VALUES}")
            notes.append(f"Case attribute {name!r} not simulated: {len(frame):,} distinct values "
                         "(an id or an amount, not a category).")
            continue
        if frame.empty:
            continue
        frame["value"] = [_text(v) for v in frame["value"]]
        frame = frame.sort_values(["n", "value"], ascending=[False, True])
        total = float(frame["n"].sum())
        out.append(CaseAttribute(name, tuple(frame["value"]),
                                 tuple(float(n) / total for n in frame["n"])))
    return tuple(out)


def _priority(attributes: tuple[CaseAttribute, ...],
              notes: list[str]) -> tuple[str | None, tuple[str, ...]]:
    """The attribute named like a priority and its values, most urgent first."""
    for attr in attributes:
        if not PRIORITY_NAME.search(attr.name):
            continue
        order = _priority_order(attr.values)
        if order is None:
            notes.append(f"Case attribute {attr.name!r} looks like a priority, but the order of "
                         "its values is unclear: cases are served first come, first served.")
            return None, ()
        notes.append(f"Priority: {attr.name!r}, served in the order {', '.join(order)}.")
        return attr.name, order
    return None, ()


def _priority_order(values: tuple[str, ...]) -> tuple[str, ...] | None:
    """Values ordered most urgent first: by the number in them (P1 before P2, 1 before 2) or
    by the usual words (critical, high, medium, low); None when neither orders them all."""
    numbers = [re.search(r"\d+(\.\d+)?", v) for v in values]
    if all(m is not None for m in numbers):
        keyed = {v: float(m.group()) for v, m in zip(values, numbers, strict=True) if m is not None}
        if len(set(keyed.values())) == len(values):
            return tuple(sorted(values, key=keyed.__getitem__))
    words = {v: v.strip().lower() for v in values}
    if all(w in PRIORITY_WORDS for w in words.values()):
        return tuple(sorted(values, key=lambda v: PRIORITY_WORDS.index(words[v])))
    return None


# --- routing -----------------------------------------------------------------------------


def _routing(events: Events, cases: Cases, by: str | None, mode: str,
             notes: list[str]) -> Routing:
    counts = _transition_counts(events, cases, by)
    if not mostly_complete(cases):
        notes.append("Most cases do not end in an end activity (one that ends at least 90% of "
                     "the cases it occurs in), so routing ends cases where the log's cases last "
                     "stopped, open ones included.")
    overall = _table(counts.groupby(["source", "target"], as_index=False)["n"].sum())
    missing = sorted(set(_activities(events)) - set(overall))
    for activity in missing:
        overall[activity] = {END: 1.0}
    if missing:
        notes.append(f"Never seen finishing or followed in a complete case, so routed to the "
                     f"end: {', '.join(missing)}.")
    if mode == "variants":
        frame = variant_stats(cases, include_open=False)
        total = float(frame["cases"].sum())
        if total == 0:
            raise ProcessMineError("variant routing replays complete cases, and no case of the "
                                   "log is complete; use first_order routing")
        variants = tuple((tuple(v), float(c) / total) for v, c in zip(frame["variant"], frame["cases"], strict=True))
        notes.append(f"Routing: {len(variants):,} variants of the complete cases replayed whole.")
        return Routing(overall, mode="variants", variants=variants)
    conditioned: dict[str, dict[str, dict[str, float]]] = {}
    if by is not None:
        per_case = counts[counts.source == START].groupby("value")["n"].sum()
        small = sorted(str(v) for v, n in per_case.items() if n < MIN_CONDITION_CASES)
        for value, frame in counts.groupby("value"):
            if str(value) not in small:
                table = _table(frame)
                conditioned[str(value)] = {a: table.get(a, row) for a, row in overall.items()}
        if small:
            notes.append(f"Routing by {by!r}: values with fewer than {MIN_CONDITION_CASES} cases "
                         f"use the overall table ({', '.join(small)}).")
    return Routing(overall, mode="first_order", by=by, conditioned=conditioned)


def mostly_complete(cases: Cases) -> bool:
    """Whether at least half of the cases end in an end activity. Only then do complete cases
    alone teach where cases end: when most are "open", the inferred end activities are too
    few to trust (or there are none), and learning the end from them alone would route almost
    every simulated case round the process for far too long."""
    t = cases.table
    row = t.get_backend().execute(t.aggregate(done=t.complete.sum(), n=t.count())).iloc[0]
    return int(row["n"]) > 0 and int(row["done"] or 0) >= 0.5 * int(row["n"])


def _transition_counts(events: Events, cases: Cases, by: str | None) -> pd.DataFrame:
    """Counts `n` per (`value` of `by`, `source`, `target`), with START and END rows; END
    only from complete cases."""
    e, c = events.table, cases.table

    def key(t: ir.Table) -> ir.Value:
        return t[by] if by is not None else ibis.literal("")

    pairs = e.filter(e.prev_activity.notnull())
    edges = pairs.group_by(value=key(pairs), source=pairs.prev_activity,
                           target=pairs.activity).aggregate(n=pairs.count())
    starts = c.group_by(value=key(c), source=ibis.literal(START),
                        target=c.start_activity).aggregate(n=c.count())
    # Open cases have not ended, so complete ones teach where cases end, unless most cases are
    # not complete (see `mostly_complete`): then every case's last activity ends it.
    done = c.filter(c.complete) if mostly_complete(cases) else c
    ends = done.group_by(value=key(done), source=done.end_activity,
                         target=ibis.literal(END)).aggregate(n=done.count())
    frame = events.log.backend.execute(edges.union(starts, distinct=False).union(ends, distinct=False))
    # a case without a value counts in the overall table only (groupby drops None keys)
    frame["value"] = [None if pd.isna(v) else _text(v) for v in frame["value"]]
    return frame.sort_values(["value", "source", "target"], ignore_index=True)


def _table(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    totals: dict[str, float] = defaultdict(float)
    for source, n in zip(frame["source"], frame["n"], strict=True):
        totals[str(source)] += float(n)
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for source, target, n in zip(frame["source"], frame["target"], frame["n"], strict=True):
        out[str(source)][str(target)] = float(n) / totals[str(source)]
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


# --- pools and processing times ---------------------------------------------------------


def _with_resources(events: Events, cap: int,
                    notes: list[str]) -> tuple[dict[str, Pool], dict[str, Activity], list[Delay]]:
    log, e = events.log, events.table
    con = log.backend
    workers = e.filter(e.resource.notnull() & (e.proc_h > ZERO_H)).select("resource").distinct()
    has_workers = int(con.execute(workers.count())) > 0
    mined = infer_pools(log.with_table(log.table.semi_join(workers, "resource"))) if has_workers else ()
    per_activity = con.execute(e.group_by("activity").aggregate(
        with_start=e.proc_h.count(), worked=(e.proc_h > ZERO_H).sum()))
    chosen = _activity_pools(events, mined, notes)
    calendars = {p.name: _engine_calendar(p.calendar()) for p in mined}
    activities: dict[str, Activity] = {}
    timed: dict[str, Calendar | None] = {}
    instant, unmeasured = [], []
    for row in per_activity.sort_values("activity").itertuples():
        name = str(row.activity)
        if int(row.with_start) == 0:
            unmeasured.append(name)
        elif int(row.worked or 0) == 0:
            instant.append(name)
        else:
            pool = chosen.get(name)
            timed[name] = calendars[pool] if pool is not None else None
            continue
        activities[name] = Activity(name, Distribution.fixed(0.0))
    for name, fit in _fit_processing(events, timed, cap).items():
        activities[name] = Activity(name, fit, chosen.get(name))
    used = {a.pool for a in activities.values() if a.pool is not None}
    pools = {p.name: Pool(p.name, p.capacity, p.calendar().describe(), p.resources)
             for p in mined if p.name in used}
    if instant:
        notes.append(f"Instant activities (no time spent, no resource needed): {', '.join(instant)}.")
    if unmeasured:
        notes.append(f"No start times for {', '.join(unmeasured)}: taken as instant.")
    unpooled = [a for a in timed if chosen.get(a) is None]
    if unpooled:
        notes.append(f"No resources for {', '.join(unpooled)}: processing in clock hours, "
                     "nothing queues.")
    by_pool = {p: [a for a, act in activities.items() if act.pool == p] for p in pools}
    delays = [d for p in mined if p.name in pools
              for d in pool_delays(events, p, p.calendar(), by_pool[p.name], cap)]
    free = {a for a, act in activities.items() if act.pool is None}
    delays += delays_without_pool(events, free, cap)
    return pools, activities, delays


def _queue_order(events: Events, pools: Mapping[str, Pool], activities: dict[str, Activity],
                 delays: list[Delay], cap: int, notes: list[str]) -> dict[str, Activity]:
    """Activities with the queue priority their pool gives them in the log (`discipline`)."""
    by_pool = {p: sorted(a for a, act in activities.items() if act.pool == p) for p in pools}
    delayed = {(d.source, d.target) for d in delays}
    found, said = queue_priorities(events, by_pool, delayed, cap)
    notes.extend(said)
    return {a: replace(act, queue_priority=found.get(a, 0)) for a, act in activities.items()}


def _activity_pools(events: Events, mined: tuple[MinedPool, ...],
                    notes: list[str]) -> dict[str, str]:
    """Activity -> the pool whose members perform most of its executions."""
    if not mined:
        return {}
    members = {r: p.name for p in mined for r in p.resources}
    table = ibis.memtable({"resource": list(members), "pool": list(members.values())})
    e = events.table
    j = e.join(table, "resource")
    frame = events.log.backend.execute(j.group_by(["activity", "pool"]).aggregate(n=j.count()))
    out: dict[str, str] = {}
    for activity, group in frame.sort_values(["activity", "n", "pool"], ascending=[True, False, True]).groupby("activity"):
        out[str(activity)] = str(group["pool"].iloc[0])
        if len(group) > 1:
            share = float(group["n"].iloc[0]) / float(group["n"].sum())
            notes.append(f"{activity} is done by {len(group)} pools; modelled in "
                         f"{out[str(activity)]!r}, which does {share:.0%} of it.")
    return out


def _fit_processing(events: Events, timed: Mapping[str, Calendar | None],
                    cap: int) -> dict[str, Distribution]:
    """Per activity, the fitted processing time in working hours of its pool's calendar."""
    if not timed:
        return {}
    e = events.table
    groups: dict[Calendar | None, list[str]] = defaultdict(list)
    for activity, calendar in timed.items():
        groups[calendar].append(activity)
    parts = []
    for calendar, names in groups.items():  # one calendar expression per pool, not per activity
        s = e.filter(e.activity.isin(names) & e.start.notnull())
        parts.append(s.select(key=s.activity, row_id=s.row_id, h=hours(s.start, s.end, calendar)))
    union = parts[0]
    for part in parts[1:]:
        union = union.union(part, distinct=False)
    frame = events.log.backend.execute(_systematic(union, ["key"], cap))
    return {str(k): fit_distribution(g["h"].to_numpy(dtype=float).clip(min=0)).distribution
            for k, g in frame.groupby("key")}


# --- helpers -----------------------------------------------------------------------------


def _activities(events: Events) -> list[str]:
    frame = events.log.backend.execute(events.table.select("activity").distinct())
    return sorted(str(a) for a in frame["activity"])


def _text(value: Any) -> str:
    """A category as text: 2 rather than 2.0 for whole numbers stored as floats."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


__all__ = [
    "DELAY_MIN_H", "IDLE_MIN_H", "MAX_ATTRIBUTE_VALUES", "MIN_CONDITION_CASES", "MIN_DELAYS",
    "NO_START_NOTE", "PROCESSING_NOTE", "PROFILE_WEEKS", "calibrate",
]
