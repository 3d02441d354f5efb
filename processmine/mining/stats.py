"""The performance layer: cases, directly-follows edges, activities, resources, rework, variants.

Each function runs one or two aggregate queries over the `Events` table and returns one row
per edge, activity, resource or variant. Durations are hours (clock hours, or working hours
when the events were enriched with a calendar).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from processmine import backend
from processmine.mining.events import Events, hours

#: Separator of activities in a variant key; a control character no export puts in a name.
VARIANT_SEP = "\x1f"
#: An activity is an end activity when it ends at least this share of the cases it occurs in.
END_SHARE = 0.9


@dataclass(frozen=True)
class Cases:
    """One row per case, in the engine: `case_id`, `first`, `last`, `cycle_h`, `events`,
    `variant` (activities joined by `VARIANT_SEP`), `start_activity`, `end_activity`,
    `complete` (its last activity is an end activity), and the case attributes.
    """

    table: ir.Table
    end_activities: tuple[str, ...]
    end_activities_inferred: bool


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """Counts and cycle-time figures (hours) over complete cases (open ones are excluded)."""

    cases: int
    complete: int
    open: int
    cycle_mean_h: float | None
    cycle_median_h: float | None
    cycle_p90_h: float | None
    cycle_max_h: float | None
    cycle_total_h: float


def case_table(events: Events, end_activities: Sequence[str] | None = None) -> Cases:
    """Per-case facts, with open cases told apart from complete ones (see `Cases`).

    Without `end_activities`, the end activities are those that end at least 90% of the
    cases in which they occur: a stage that most cases pass through but few stop at is where
    the open cases are waiting, not where the process ends.
    """
    e = events.table
    attrs = list(events.log.case_attributes)
    # `pos` and `next_activity` already encode the case order (end, start, source row), so
    # the first and last activities are plain filtered aggregates, and the variant is the
    # case's (pos, activity) pairs collected in any order, then sorted: the engine's ordered
    # aggregates (`collect(order_by=...)`, `first`/`last`) took three times as long.
    per_case = e.group_by("case_id").aggregate(
        first=ibis.coalesce(e.start, e.end).min(),
        last=e.end.max(),
        events=e.count(),
        _pm_steps=collect_steps(e.pos, e.activity),
        start_activity=e.activity.max(where=e.pos == 0),
        end_activity=e.activity.max(where=e.next_activity.isnull()),
        **{a: e[a].max() for a in attrs},
    )
    variant = variant_of(per_case._pm_steps)
    per_case = per_case.select(
        "case_id", "first", "last", "events", variant.name("variant"), "start_activity",
        "end_activity", *attrs,
        cycle_h=hours(per_case.first, per_case.last, events.calendar))
    per_case = backend.materialize(events.log.backend, per_case)
    inferred = end_activities is None
    if end_activities is None:
        end_activities = infer_end_activities(events, per_case)
    ends = list(end_activities)
    table = per_case.mutate(complete=per_case.end_activity.isin(ends) if ends else ibis.literal(False))
    return Cases(table, tuple(ends), inferred)


def collect_steps(pos: ir.IntegerValue, activity: ir.StringValue) -> ir.ArrayValue:
    """Per group (a case), its (position, activity) pairs in any order: an aggregate that every
    engine has (ordered aggregates are slower in DuckDB and missing in Ibis for Spark)."""
    return ibis.struct({"pos": pos, "activity": activity}).collect()


def variant_of(steps: ir.ArrayValue) -> ir.StringValue:
    """The variant key of `collect_steps`: the activities sorted by position, joined."""
    return steps.sort().map(lambda step: step.activity).join(VARIANT_SEP)


def infer_end_activities(events: Events, per_case: ir.Table) -> tuple[str, ...]:
    """Activities that end at least `END_SHARE` of the cases in which they occur."""
    e = events.table
    # The cases an activity occurs in are its first occurrences (no distinct count needed).
    # (A plain log table, as the filters pass, has no `occurrence`: count distinct cases.)
    in_cases = (e.occurrence == 1).sum() if "occurrence" in e.columns else e.case_id.nunique()
    occurs = e.group_by("activity").aggregate(in_cases=in_cases)
    ends = per_case.group_by(activity=per_case.end_activity).aggregate(ending=per_case.count())
    joined = occurs.join(ends, "activity").select("activity", "in_cases", "ending")
    frame = events.log.backend.execute(joined)
    chosen = frame[frame.ending >= END_SHARE * frame.in_cases].activity
    return tuple(sorted(str(a) for a in chosen))


def summarize_cases(cases: Cases, *, include_open: bool = False) -> CaseSummary:
    """Case counts and cycle time (mean, median, p90, max, total hours)."""
    t = cases.table
    # Open cases masked as NULL (which every aggregate skips) rather than `where=`: Ibis
    # compiles a filtered median for Spark into an argument Spark refuses.
    c = t.cycle_h if include_open else ibis.ifelse(t.complete, t.cycle_h, ibis.null(dt.float64))
    row = t.aggregate(
        cases=t.count(), complete=t.complete.sum(), mean=c.mean(), median=c.median(),
        p90=c.quantile(0.9), top=c.max(), total=c.sum(),
    )
    r = cases.table.get_backend().execute(row).iloc[0]
    n, complete = int(r["cases"]), int(r["complete"] or 0)
    return CaseSummary(
        cases=n, complete=complete, open=n - complete, cycle_mean_h=_num(r["mean"]),
        cycle_median_h=_num(r["median"]), cycle_p90_h=_num(r["p90"]), cycle_max_h=_num(r["top"]),
        cycle_total_h=_num(r["total"]) or 0.0,
    )


def _duration_stats(value: ir.NumericValue, prefix: str) -> dict[str, ir.Value]:
    return {
        f"{prefix}_mean_h": value.mean(),
        f"{prefix}_median_h": value.median(),
        f"{prefix}_p90_h": value.quantile(0.9),
        f"{prefix}_max_h": value.max(),
        f"{prefix}_total_h": value.sum(),
    }


def edge_stats(events: Events) -> pd.DataFrame:
    """One row per directly-follows edge: `source`, `target`, `count`, `cases`, and the
    waiting from the source's end to the target's start: `wait_{mean,median,p90,max,total}_h`.
    Sorted by count, most frequent first."""
    e = events.table
    pairs = e.filter(e.prev_activity.notnull())
    edges = pairs.group_by(source=pairs.prev_activity, target=pairs.activity).aggregate(
        count=pairs.count(), cases=pairs.case_id.nunique(), **_duration_stats(pairs.wait_h, "wait"),
    )
    frame = events.log.backend.execute(edges)
    return frame.sort_values(["count", "source", "target"], ascending=[False, True, True],
                             ignore_index=True)


def start_end_counts(events: Events) -> pd.DataFrame:
    """How many cases start and end with each activity: `activity`, `starts`, `ends`."""
    e = events.table
    agg = e.group_by("activity").aggregate(
        starts=(e.pos == 0).sum(), ends=e.next_activity.isnull().sum())
    return events.log.backend.execute(agg).sort_values("activity", ignore_index=True)


def activity_stats(events: Events) -> pd.DataFrame:
    """One row per activity: `activity`, `count`, `cases`, processing time `proc_*_h` (over
    events with a start time; `with_start` says how many) and waiting before it `wait_*_h`
    (over events that have a predecessor). Sorted by count."""
    e = events.table
    # An activity's cases are its first occurrences: a sum, where a distinct count of case
    # ids would cost the engine more than the rest of the query.
    agg = e.group_by("activity").aggregate(
        count=e.count(), cases=(e.occurrence == 1).sum(), with_start=e.proc_h.count(),
        **_duration_stats(e.proc_h, "proc"), **_duration_stats(e.wait_h, "wait"),
    )
    frame = events.log.backend.execute(agg)
    return frame.sort_values(["count", "activity"], ascending=[False, True], ignore_index=True)


def resource_stats(events: Events) -> pd.DataFrame:
    """One row per resource: `resource`, `events`, `busy_h` (sum of processing time),
    `activities` (distinct), `handoffs_in` and `handoffs_out` (work passed between two
    different resources within a case). Sorted by events."""
    e = events.table
    done = e.filter(e.resource.notnull())
    own = done.group_by("resource").aggregate(
        events=done.count(), busy_h=done.proc_h.sum(), activities=done.activity.nunique(),
        handoffs_in=done.handoff.sum(),
    )
    passed = e.filter(e.handoff)
    out = passed.group_by(resource=passed.prev_resource).aggregate(handoffs_out=passed.count())
    con = events.log.backend
    frame = con.execute(own).merge(con.execute(out), on="resource", how="left")
    frame["handoffs_out"] = frame["handoffs_out"].fillna(0).astype("int64")
    frame["handoffs_in"] = frame["handoffs_in"].fillna(0).astype("int64")
    return frame.sort_values(["events", "resource"], ascending=[False, True], ignore_index=True)


def handoff_stats(events: Events) -> pd.DataFrame:
    """One row per resource pair that passes work: `source`, `target`, `count`, `cases` and
    the waiting at the hand-off `wait_*_h`."""
    e = events.table
    passed = e.filter(e.handoff)
    agg = passed.group_by(source=passed.prev_resource, target=passed.resource).aggregate(
        count=passed.count(), cases=passed.case_id.nunique(), **_duration_stats(passed.wait_h, "wait"))
    frame = events.log.backend.execute(agg)
    return frame.sort_values(["count", "source", "target"], ascending=[False, True, True],
                             ignore_index=True)


def rework_stats(events: Events) -> pd.DataFrame:
    """One row per activity repeated within a case: `activity`, `repeats` (occurrences after
    the first), `cases` (with a repeat), `rework_h` (the waiting before and processing of
    the repeats: the time the repetition costs). Sorted by rework hours."""
    e = events.table
    again = e.filter(e.occurrence > 1)
    cost = again.wait_h.fill_null(0) + again.proc_h.fill_null(0)
    agg = again.group_by("activity").aggregate(
        repeats=again.count(), cases=again.case_id.nunique(), rework_h=cost.sum())
    frame = events.log.backend.execute(agg)
    return frame.sort_values(["rework_h", "activity"], ascending=[False, True], ignore_index=True)


def variant_stats(cases: Cases, *, include_open: bool = True) -> pd.DataFrame:
    """One row per variant: `variant` (tuple of activities), `cases`, `share`, `cum_share`,
    `cycle_mean_h`, `cycle_median_h`. Sorted by cases, most frequent first.

    Open cases are included by default (a variant is a path, finished or not); cycle times
    are those of the variant's cases either way.
    """
    t = cases.table if include_open else cases.table.filter(cases.table.complete)
    agg = t.group_by("variant").aggregate(
        cases=t.count(), cycle_mean_h=t.cycle_h.mean(), cycle_median_h=t.cycle_h.median())
    frame = cases.table.get_backend().execute(agg)
    frame = frame.sort_values(["cases", "variant"], ascending=[False, True], ignore_index=True)
    total = frame.cases.sum()
    frame["share"] = frame.cases / total if total else 0.0
    frame["cum_share"] = frame.share.cumsum()
    frame["variant"] = [tuple(v.split(VARIANT_SEP)) for v in frame.variant]
    return frame[["variant", "cases", "share", "cum_share", "cycle_mean_h", "cycle_median_h"]]


def _num(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if number != number else number  # noqa: PLR0124 - NaN check


__all__ = [
    "END_SHARE", "VARIANT_SEP", "CaseSummary", "Cases", "activity_stats", "case_table",
    "edge_stats", "handoff_stats", "infer_end_activities", "resource_stats", "rework_stats",
    "start_end_counts", "summarize_cases", "variant_stats",
]
