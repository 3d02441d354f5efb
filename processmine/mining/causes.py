"""Why cases wait: resource contention, resource unavailability, or something else.

Waiting-time analysis in the process-mining literature (e.g. Lashkevich et al., "Why am I
waiting?", 2023) splits the waiting before an activity by what held it up. With start times and
resources in the log, each waiting interval [previous end, start) is divided into:

- **unavailability**: hours outside the working hours of the team that performs the activity
  (the hours of the week in which its members are observed working, see
  `processmine.mining.resources`);
- **contention**: working hours in which every member of that team who works in that week was
  busy on some activity (an activity instance occupies its resource from start to end);
- **extraneous**: the remaining working hours, when somebody could have picked the case up and
  nobody did: waiting for the customer, a third party, a batch.

Everything runs in the engine. The contention hours of many intervals are found in one pass:
the team's busy periods and the intervals' ends are put on one timeline, a running sum of +1/-1
gives how many members are busy between two consecutive points, and a running sum of the
"everybody busy" working hours gives a cumulative C(t); an interval's contention is
C(end) - C(start).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from processmine.log import EventLog
from processmine.mining.calendar import Calendar
from processmine.mining.events import Events, hours
from processmine.mining.resources import (
    activity_calendars,
    infer_pools,
    observed_hours,
    performers,
    working_hours,
)

#: A cause "dominates" when it holds at least this share of the waiting.
DOMINANT = 0.6


@dataclass(frozen=True, slots=True)
class Team:
    """The resources observed performing an activity and their inferred working week."""

    activity: str
    resources: tuple[str, ...]
    calendar: Calendar

    def who(self) -> str:
        n = len(self.resources)
        return "the one person who does it" if n == 1 else f"the {n:,} people who do it"


@dataclass(frozen=True, slots=True)
class Causes:
    """Hours of waiting by cause, scaled to the candidate's total; `measured` waits were split."""

    contention: float
    unavailability: float
    extraneous: float
    measured: int

    @property
    def total(self) -> float:
        return self.contention + self.unavailability + self.extraneous

    def scaled(self, hours: float) -> Causes:
        """The same split, scaled so the causes add up to `hours` (a candidate's total, which
        also counts the waits that could not be measured)."""
        t = self.total
        f = hours / t if t > 0 else 0.0
        return Causes(self.contention * f, self.unavailability * f, self.extraneous * f,
                      self.measured)

    def shares(self) -> dict[str, float]:
        t = self.total
        parts = {"contention": self.contention, "unavailability": self.unavailability,
                 "extraneous": self.extraneous}
        return {k: (v / t if t > 0 else 0.0) for k, v in parts.items()}

    def dominant(self) -> str | None:
        """The cause holding at least `DOMINANT` of the waiting, if one does."""
        name, share = max(self.shares().items(), key=lambda kv: kv[1])
        return name if share >= DOMINANT else None

    def to_json(self) -> dict[str, float]:
        return {"contention": round(self.contention, 3),
                "unavailability": round(self.unavailability, 3),
                "extraneous": round(self.extraneous, 3)}

    def phrase(self, team: Team | None) -> str:
        """The clause of the explanation that says why ('mostly outside the working hours of
        the one person who does it')."""
        who = team.who() if team is not None else "the people who do it"
        texts = {
            "unavailability": f"outside the working hours of {who}"
                              + (f" ({team.calendar.describe()})" if team is not None else ""),
            "contention": f"while all of {who} are busy",
            "extraneous": f"while {who} could have taken it: waiting on something outside the "
                          "team (the customer, a third party)",
        }
        main = self.dominant()
        if main is not None:
            return f"mostly ({self.shares()[main]:.0%}) {texts[main]}"
        ranked = sorted(self.shares().items(), key=lambda kv: -kv[1])
        (a, sa), (b, sb) = ranked[0], ranked[1]
        return f"partly {texts[a]} ({sa:.0%}) and partly {texts[b]} ({sb:.0%})"


def teams(log: EventLog) -> dict[str, Team]:
    """Per activity with resources: who performs it and their working week."""
    calendars = activity_calendars(log)
    return {a: Team(a, rs, calendars.get(a, Calendar.always()))
            for a, rs in performers(log).items()}


def team_calendar(log: EventLog, activity: str) -> Calendar:
    """The working week of the resources who perform `activity`."""
    seen = observed_hours(log, by="activity").get(activity)
    chosen = working_hours(seen) if seen is not None else ()
    return Calendar.from_hours_of_week(chosen) if chosen else Calendar.always()


def team_handoffs(events: Events) -> ir.Table:
    """Events whose work came from a resource of another team (pool), with `source_team`,
    `target_team` and the `activity` handed over.

    Hand-offs inside a team are left out: they are ordinary work sharing. So are resources
    that never spend time on an activity (a `system` that logs creation, a `customer` who
    replies): passing a case to them is waiting on them, which the waiting candidates cover.
    """
    e = events.table
    doers = e.filter(e.proc_h > 0).select("resource").distinct()
    workers = set(events.log.backend.execute(doers)["resource"].astype(str))
    pools = infer_pools(events.log)
    names = {r: p.name for p in pools for r in p.resources if r in workers}
    if not names:
        names = {"": ""}
    mapping = ibis.memtable({"_r": list(names), "_team": list(names.values())})
    e = events.table.filter(events.table.handoff)
    src = mapping.rename(_r_src="_r", source_team="_team")
    tgt = mapping.rename(_r_tgt="_r", target_team="_team")
    j = e.join(src, e.prev_resource == src._r_src).join(tgt, e.resource == tgt._r_tgt)
    j = j.filter(j.source_team != j.target_team)
    return j.select("case_id", "activity", "wait_h", "source_team", "target_team")


def split_waiting(events: Events, activity: str, *, team: Team | None = None,
                  ) -> dict[str | None, Causes]:
    """Split the waiting before `activity` into causes: in total (key None) and per preceding
    activity (key: the source of the edge), from one pass over the engine.

    Waits without a start time cannot be split and are left out of the measurement (the
    `measured` count says how many were split). Hours are clock hours of the measured waits;
    `Causes.scaled` fits them to a candidate's total.
    """
    teams_given = {activity: team} if team is not None else None
    return split_waits(events, [activity], teams=teams_given)[activity]


def split_waits(events: Events, activities: Sequence[str], *,
                teams: Mapping[str, Team] | None = None,
                ) -> dict[str, dict[str | None, Causes]]:
    """`split_waiting` for several activities at once (their team from `teams`, else inferred).

    Activities whose teams have the same members and working week (one pool doing several
    steps) share one contention timeline: it is the same for all of them, and building it
    (merging each member's busy periods, a running sum over the team's whole history) is
    most of the work.
    """
    log = events.log
    known = dict(teams or {})
    missing = [a for a in activities if a not in known]
    if missing:
        doers = performers(log)
        for a in missing:
            known[a] = Team(a, doers.get(a, ()), team_calendar(log, a))
    shared: dict[tuple[tuple[str, ...], Calendar], list[str]] = {}
    for a in dict.fromkeys(activities):
        shared.setdefault((known[a].resources, known[a].calendar), []).append(a)
    out: dict[str, dict[str | None, Causes]] = {}
    for (members, calendar), names in shared.items():
        out.update(_split(events, names, members, calendar))
    return out


def _split(events: Events, activities: list[str], members: tuple[str, ...],
           calendar: Calendar) -> dict[str, dict[str | None, Causes]]:
    """The causes of the waiting before each of `activities`, all done by one team."""
    e = events.table
    cond = (e.activity.isin(activities) & e.start.notnull() & e.prev_end.notnull()
            & (e.start > e.prev_end))
    waits = e.filter(cond).select(wid=e.row_id, act=e.activity, src=e.prev_activity,
                                  a=e.prev_end, b=e.start)
    contention = _contention(e, waits, members, calendar)
    w = waits.left_join(contention, "wid").select("wid", "act", "src", "a", "b", "cont")
    clock = hours(w.a, w.b)
    w = w.mutate(clock=clock,
                 working=ibis.least(calendar.hours_between(w.a, w.b).cast(dt.float64), clock))
    # A step of its own, so the (long) calendar expression is computed once, not again here.
    w = w.mutate(cont=ibis.least(w.cont.fill_null(0.0), w.working))
    per_source = w.group_by(["act", "src"]).aggregate(
        n=w.count(), clock=w.clock.sum(), working=w.working.sum(), cont=w.cont.sum())
    frame = events.log.backend.execute(per_source)
    out: dict[str, dict[str | None, Causes]] = {}
    for activity in activities:
        mine = frame[frame["act"] == activity]
        split: dict[str | None, Causes] = {}
        for row in mine.to_dict("records"):
            split[str(row["src"])] = _causes(row)
        total = {k: mine[k].sum() for k in ("n", "clock", "working", "cont")}
        split[None] = _causes(total)
        out[activity] = split
    return out


def _causes(row: dict[str, object]) -> Causes:
    clock_h, working_h, cont_h = (float(row[k] or 0.0) for k in ("clock", "working", "cont"))  # type: ignore[arg-type]
    return Causes(cont_h, max(clock_h - working_h, 0.0), max(working_h - cont_h, 0.0),
                  int(row["n"] or 0))  # type: ignore[call-overload]


def _contention(e: ir.Table, waits: ir.Table, members: tuple[str, ...],
                calendar: Calendar) -> ir.Table:
    """Per wait (`wid`), the working hours `cont` in which every active member was busy."""
    if not members:
        return waits.select("wid", cont=ibis.literal(0.0))
    work = e.filter(e.resource.isin(list(members)) & e.start.notnull() & (e.end > e.start))
    busy = merge_intervals(work.select("resource", s=work.start, f=work.end))
    # Members who work in a week: the team's size that week (holidays, joiners, leavers).
    active = e.filter(e.resource.isin(list(members)))
    active = active.mutate(week=active.end.truncate("W"))
    size = active.group_by("week").aggregate(size=active.resource.nunique())

    points = (
        busy.select(t=busy.s, d=ibis.literal(1), wid=ibis.null(dt.int64), side=ibis.literal(0))
        .union(busy.select(t=busy.f, d=ibis.literal(-1), wid=ibis.null(dt.int64),
                           side=ibis.literal(0)), distinct=False)
        .union(waits.select(t=waits.a, d=ibis.literal(0), wid=waits.wid.cast(dt.int64),
                            side=ibis.literal(1)), distinct=False)
        .union(waits.select(t=waits.b, d=ibis.literal(0), wid=waits.wid.cast(dt.int64),
                            side=ibis.literal(2)), distinct=False)
    )
    order = [points.t, points.d, points.wid, points.side]
    running = ibis.cumulative_window(order_by=order)
    whole = ibis.window(order_by=order)
    p = points.mutate(busy=points.d.sum().over(running), nxt=points.t.lead().over(whole),
                      week=points.t.truncate("W"))
    p = p.left_join(size, p.week == size.week).select(p, size.size)
    full = (p.busy >= p.size.fill_null(0)) & (p.size.fill_null(0) > 0)
    seg = ibis.ifelse(full & p.nxt.notnull(),
                      calendar.hours_between(p.t, p.nxt).cast(dt.float64), 0.0)
    p = p.mutate(seg=seg)
    order2 = [p.t, p.d, p.wid, p.side]
    p = p.mutate(c=p.seg.sum().over(ibis.cumulative_window(order_by=order2)) - p.seg)
    q = p.filter(p.wid.notnull())
    return q.group_by("wid").aggregate(
        cont=q.c.max(where=q.side == 2) - q.c.max(where=q.side == 1))


def merge_intervals(work: ir.Table) -> ir.Table:
    """Each resource's busy periods with overlaps merged (gaps and islands), so a resource
    working on two cases at once counts as one busy member, not two. An interval starts a new
    island when it starts after every earlier one (in start order) has ended."""
    earlier = ibis.window(group_by="resource", order_by=[work.s, work.f], rows=(None, -1))
    t = work.mutate(reach=work.f.max().over(earlier))
    t = t.mutate(new=(t.reach.isnull() | (t.s > t.reach)).cast(dt.int64))
    w = ibis.cumulative_window(group_by="resource", order_by=[t.s, t.f])
    t = t.mutate(island=t.new.sum().over(w))
    return t.group_by(["resource", "island"]).aggregate(s=t.s.min(), f=t.f.max())


__all__ = ["DOMINANT", "Causes", "Team", "merge_intervals", "split_waiting", "split_waits", "team_calendar",
           "team_handoffs", "teams"]
