"""Who does the work and when they are at work: resource pools and their observed hours.

Bottleneck causes ("was everyone busy, or was nobody on shift?") and the simulation's
resource pools both need the same two facts, which an export never states: which resources
can do an activity, and in which hours of the week they work. Both are inferred from the log.

Working hours are the hours of the week (0 = Monday 00:00-01:00 ... 167 = Sunday 23:00-24:00)
in which the resources are *observed* starting or finishing work. Instants are used rather than
the spans of activity instances, because an instance that pauses at the end of the shift and
resumes next morning spans the night without anybody working in it. An hour counts as working
when work was seen in it in at least `MIN_WEEK_SHARE` of the weeks the resources were seen at
all (and in two weeks at least): a few late evenings do not make a night shift, while the last
hour of a short shift, in which the queue is often already empty, still counts. Counting
weeks rather than instants keeps a burst at the start of a shift from hiding its quieter end.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import ibis
import ibis.expr.types as ir

from processmine import backend
from processmine.log import EventLog
from processmine.mining.calendar import Calendar

T = TypeVar("T")

#: An hour of the week is a working hour when work was seen in it in at least this share of
#: the weeks in which the resources were seen at all (see the module docstring) ...
MIN_WEEK_SHARE = 0.1
#: ... and in at least this many distinct weeks.
MIN_WEEKS = 2
#: Gaps of up to this many hours inside a working day are working hours too.
GAP_FILL = 2


@dataclass(frozen=True, slots=True)
class Pool:
    """Resources that perform the same set of activities, and the hours they are seen working.

    `capacity` is the number of distinct resources: the most that can work at one time.
    """

    name: str
    activities: tuple[str, ...]
    resources: tuple[str, ...]
    working_hours: tuple[int, ...]

    @property
    def capacity(self) -> int:
        return len(self.resources)

    def calendar(self) -> Calendar:
        """The pool's working week (24/7 when nothing was observed)."""
        return hours_calendar(self.working_hours)


def hour_of_week(ts: ir.TimestampValue) -> ir.IntegerValue:
    """0 for Monday 00:00-01:00 up to 167 for Sunday 23:00-24:00."""
    return ts.day_of_week.index().cast("int64") * 24 + ts.hour().cast("int64")


def hours_calendar(hours: Iterable[int]) -> Calendar:
    """A calendar from working hours of the week; 24/7 when there are none."""
    chosen = sorted(set(hours))
    return Calendar.from_hours_of_week(chosen) if chosen else Calendar.always()


def _instants(log: EventLog) -> ir.Table:
    """One row per observed moment of work: (resource, ts) for each start and each end."""
    t = log.table.filter(log.table.resource.notnull())
    ends = t.select(resource=t.resource, ts=t.end)
    if not log.has_start:
        return ends
    with_start = t.filter(t.start.notnull())
    return ends.union(with_start.select(resource=with_start.resource, ts=with_start.start),
                      distinct=False)


def _resource_weeks(log: EventLog) -> ir.Table:
    """The instants of work counted per (resource, hour of the week, week): `n`.

    Materialised once per log table: the calendars of the activities, of the pools and of
    each team all start from it, and scanning the two million instants of a million-event log
    is most of what each of them costs."""
    def compute() -> ir.Table:
        inst = _instants(log)
        inst = inst.select("resource", how=hour_of_week(inst.ts), week=inst.ts.truncate("W"))
        counts = inst.group_by(["resource", "how", "week"]).aggregate(n=inst.count())
        return backend.materialize(log.backend, counts)
    return _memo(log, "resource_weeks", compute)


@dataclass(frozen=True, slots=True)
class Observed:
    """When a resource (or a team) was seen at work: per hour of the week, the number of
    instants and of distinct weeks; and the number of weeks it was seen at all."""

    hours: dict[int, tuple[int, int]]
    weeks: int


def observed_hours(log: EventLog, by: str = "resource",
                   groups: Mapping[str, str] | None = None) -> dict[str, Observed]:
    """When work was seen, per resource; per activity (`by="activity"`: the instants of
    everybody who performs it); or per group of resources (`groups`: resource -> group).

    Weeks are counted as rows of a (key, hour, week) aggregate rather than with a distinct
    count, which the engine runs slowly. Every grouping starts from the instants counted per
    (resource, hour, week) (`_resource_weeks`, a few hundred thousand rows for a million
    events, computed once per log): joining the instants themselves to the activities would
    copy each one for every activity its resource performs.
    """
    base = _resource_weeks(log)
    if groups is not None:
        table = ibis.memtable({"resource": list(groups), "_key": list(groups.values())})
        keyed = base.join(table, "resource").select(key=table._key, how=base.how,
                                                    week=base.week, n=base.n)
    elif by == "activity":
        members = performers_table(log)
        keyed = base.join(members, "resource").select(key=members.activity, how=base.how,
                                                      week=base.week, n=base.n)
    else:
        keyed = base.select(key=base.resource, how=base.how, week=base.week, n=base.n)
    # One row per (key, hour, week), computed once for both queries below: the weeks of an
    # hour, and the weeks of a key, are then plain counts.
    con = log.backend
    per_week = keyed.group_by(["key", "how", "week"]).aggregate(n=keyed.n.sum())
    per_week = backend.materialize(con, per_week)
    try:
        agg = per_week.group_by(["key", "how"]).aggregate(n=per_week.n.sum(),
                                                          weeks=per_week.count())
        seen_weeks = per_week.select("key", "week").distinct()
        active = seen_weeks.group_by("key").aggregate(weeks=seen_weeks.count())
        frame, totals = con.execute(agg), con.execute(active)
    finally:
        backend.release(con, per_week)
    out: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
    for k, how, n, weeks in zip(frame["key"], frame["how"], frame["n"], frame["weeks"], strict=True):
        out[str(k)][int(how)] = (int(n), int(weeks))
    seen = dict(zip(totals["key"].astype(str), totals["weeks"].astype(int), strict=True))
    return {k: Observed(v, seen[k]) for k, v in out.items()}


def working_hours(observed: Observed) -> tuple[int, ...]:
    """The hours of the week that count as working hours (see `MIN_WEEK_SHARE`, `MIN_WEEKS`).

    A gap of up to `GAP_FILL` hours between two working hours of the same day is filled: a
    task started at 09:10 and finished at 11:30 leaves no instant in the 10:00 hour, yet the
    person was at work.
    """
    need = max(MIN_WEEKS, MIN_WEEK_SHARE * observed.weeks)
    chosen = {h for h, (_, weeks) in observed.hours.items() if weeks >= need}
    for h in sorted(chosen):
        for gap in range(1, GAP_FILL + 1):
            nxt = h + gap + 1
            if nxt // 24 == h // 24 and nxt in chosen:
                chosen.update(range(h + 1, nxt))
                break
    return tuple(sorted(chosen))


def performers_table(log: EventLog) -> ir.Table:
    """(activity, resource) pairs observed in the log, in the engine."""
    t = log.table.filter(log.table.resource.notnull())
    return t.select("activity", "resource").distinct()


def performers(log: EventLog) -> dict[str, tuple[str, ...]]:
    """Activity -> the resources observed performing it (sorted)."""
    frame = log.backend.execute(performers_table(log))
    out: dict[str, list[str]] = defaultdict(list)
    for activity, resource in zip(frame["activity"], frame["resource"], strict=True):
        out[str(activity)].append(str(resource))
    return {a: tuple(sorted(rs)) for a, rs in sorted(out.items())}


def infer_pools(log: EventLog) -> tuple[Pool, ...]:
    return _memo(log, "pools", lambda: _infer_pools(log))


def activity_calendars(log: EventLog) -> dict[str, Calendar]:
    """Per activity, the working week of the resources who perform it (24/7 when unknown);
    computed once per log table."""
    return dict(_memo(log, "calendars", lambda: {
        a: hours_calendar(working_hours(o)) for a, o in observed_hours(log, by="activity").items()}))


_CACHE: dict[tuple[int, str], tuple[object, object]] = {}


def _memo(log: EventLog, what: str, compute: Callable[[], T]) -> T:
    """`compute()` once per (log table, what). The table object is kept with the result, so a
    recycled `id` of a dropped table can never return a stale answer."""
    key = (id(log.table), what)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is log.table:
        return hit[1]  # type: ignore[return-value]
    value = compute()
    if len(_CACHE) > 64:
        for _, old in _CACHE.values():  # an engine table (`_resource_weeks`) is freed too
            if isinstance(old, ir.Table):
                backend.release(old.get_backend(), old)
        _CACHE.clear()
    _CACHE[key] = (log.table, value)
    return value


def _infer_pools(log: EventLog) -> tuple[Pool, ...]:
    """Group resources by the exact set of activities they perform (computed once per log
    table: bottleneck causes, hand-offs and calibration all ask for the same pools).

    Each pool's working hours pool the observations of its members, so a team's shift shows
    even when each member works only some of its hours. Pools are ordered by size, then name.
    """
    by_activity = performers(log)
    skills: dict[str, set[str]] = defaultdict(set)
    for activity, resources in by_activity.items():
        for r in resources:
            skills[r].add(activity)
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for resource, skill in skills.items():
        groups[tuple(sorted(skill))].append(resource)
    titled: dict[str, tuple[tuple[str, ...], list[str]]] = {}
    for group, members in sorted(groups.items()):
        name, n = pool_name(group), 2
        while name in titled:
            name, n = f"{pool_name(group)} ({n})", n + 1
        titled[name] = (group, members)
    seen = observed_hours(log, groups={r: name for name, (_, ms) in titled.items() for r in ms})
    pools = []
    for name, (group, members) in titled.items():
        hours = working_hours(seen[name]) if name in seen else ()
        pools.append(Pool(name, group, tuple(sorted(members)), hours))
    return tuple(sorted(pools, key=lambda p: (-p.capacity, p.name)))


def pool_name(activities: tuple[str, ...]) -> str:
    """A readable name from the activities: 'Diagnose + Apply fix', 'Categorise +3 more'."""
    if len(activities) <= 2:
        return " + ".join(activities)
    return f"{activities[0]} +{len(activities) - 1} more"




__all__ = [
    "GAP_FILL", "MIN_WEEKS", "MIN_WEEK_SHARE", "Observed", "Pool", "activity_calendars",
    "hour_of_week", "hours_calendar", "infer_pools", "observed_hours", "performers", "performers_table", "pool_name",
    "working_hours",
]
