"""KPIs: cycle time, throughput, arrivals, work in progress, rework and SLA breaches, overall,
per ISO week and per value of a case attribute.

Definitions (all used below and in the tests):

- A case *arrives* at its first timestamp (`Cases.first`: the earliest start, or end when the
  event has no start) and, if it is complete (`Cases.complete`), *completes* at its last
  timestamp (`Cases.last`). Open cases never complete; cycle figures leave them out.
- The *span* runs from the first arrival to the log end (the latest timestamp in the log, when
  the export was taken); per-week rates divide by its length in weeks (hours / 168), so a log
  of ten days is not counted as two or three calendar weeks.
- A case is *in progress* from its arrival until it completes; an open case stays in
  progress to the log end and beyond. `wip_mean` is the time-weighted average over the span:
  the hours cases were in progress divided by the span's hours (Little's law holds for it).
- Weeks are ISO weeks, Monday 00:00 to the next Monday 00:00 (UTC, as the log).
  `wip_at_week_end` counts the cases in progress just before the week ends: those that
  arrived before the week's end and had not completed by then, so from week to week
  `wip(w) = wip(w - 1) + arrivals(w) - completed(w)`.
- A case is *reworked* when some activity occurs in it more than once.
- A complete case *breaches* the SLA when its cycle time is longer than the SLA (equal is
  within); an open case *is breaching* when its age at the log end is already longer.

Cycle times and ages are in the hours of the events' calendar (clock hours without one), as
everywhere in mining; time in progress is always clock hours, because WIP counts cases over
wall-clock time.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from processmine import backend
from processmine.errors import ConfigError
from processmine.mining.events import Events, hours
from processmine.mining.stats import Cases

#: Label of the segment of cases whose attribute is empty.
MISSING = "(missing)"
_HOURS_PER = {"s": 1 / 3600, "m": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([smhdw])", re.IGNORECASE)
_DURATION_FORM = "a number and a unit s, m, h, d or w, e.g. 48h, 2d, 90m, 1.5h or 2d 4h"


def parse_duration(text: str) -> float:
    """Hours in a duration such as `48h`, `2d`, `90m`, `1.5h`, `3w`, `2d 4h` or `45s`.

    Units: s(econds), m(inutes), h(ours), d(ays = 24 h), w(eeks = 7 d); parts add up. A bare
    number is refused rather than guessed (is `48` hours or days?).

    Raises ConfigError when the text is not of that form or the duration is zero.
    """
    rest, total, matched = text.strip(), 0.0, False
    while rest:
        part = _PART.match(rest)
        if part is None:
            raise ConfigError(f"duration {text!r} not understood: expected {_DURATION_FORM}.")
        total += float(part.group(1)) * _HOURS_PER[part.group(2).lower()]
        rest, matched = rest[part.end():].lstrip(), True
    if not matched:
        raise ConfigError(f"duration {text!r} is empty: expected {_DURATION_FORM}.")
    if total <= 0:
        raise ConfigError(f"duration {text!r} is zero: expected a positive {_DURATION_FORM}.")
    return total


@dataclass(frozen=True, slots=True)
class KpiFigures:
    """The KPIs of a set of cases (the whole log, or one segment). See the module docstring
    for the definitions. Rates and shares are fractions (0 to 1); `None` where the figure is
    undefined (no complete cases, a span of zero length, no SLA given)."""

    cases: int
    complete: int
    open: int
    cycle_mean_h: float | None
    cycle_median_h: float | None
    cycle_p90_h: float | None
    throughput_per_week: float | None   # complete cases / span weeks
    arrivals_per_week: float | None     # cases / span weeks
    wip_mean: float | None              # hours in progress / span hours
    rework_rate: float | None           # reworked cases / cases (open ones included)
    sla_hours: float | None
    sla_breach_rate: float | None       # complete cases with cycle > SLA / complete cases
    open_breaching: int | None          # open cases older than the SLA at the log end


@dataclass(frozen=True, slots=True)
class WeekFigures:
    """One ISO week: `week` is its Monday. The cycle, rework and SLA figures are those of the
    cases completed in the week (`None` when none completed)."""

    week: date
    arrivals: int
    completed: int
    wip_at_week_end: int
    cycle_mean_h: float | None
    cycle_median_h: float | None
    rework_rate: float | None
    sla_breach_rate: float | None


@dataclass(frozen=True)
class KpiReport:
    """KPIs overall, per week (every week of the span, empty ones included, in order) and per
    value of the case attribute `by` (most cases first; rates per week use the whole log's
    span, so segments' throughput, arrivals and WIP add up to the overall figures)."""

    overall: KpiFigures
    weekly: tuple[WeekFigures, ...]
    by: str | None
    segments: Mapping[str, KpiFigures]
    sla_hours: float | None
    start: datetime | None       # first arrival
    end: datetime | None         # log end: the latest timestamp
    span_weeks: float


def compute_kpis(events: Events, cases: Cases, *, sla_hours: float | None = None,
                 by: str | None = None) -> KpiReport:
    """KPIs of the cases, overall, per ISO week and per value of the case attribute `by`.

    `cases` is `case_table(events)` (its `complete` flag decides which cases completed).
    Segment values are text; cases without a value form the segment "(missing)".

    Raises ConfigError when `by` is not a case attribute of the log or `sla_hours` is not a
    positive number.
    """
    if sla_hours is not None and not (math.isfinite(sla_hours) and sla_hours > 0):
        raise ConfigError(f"SLA of {sla_hours} hours: expected a positive duration such as 48h.")
    attrs = events.log.case_attributes
    if by is not None and by not in attrs:
        known = ", ".join(attrs) if attrs else "none in this log"
        raise ConfigError(f"--by {by!r} is not a case attribute; case attributes: {known}.")
    sla_hours = None if sla_hours is None else float(sla_hours)
    con = events.log.backend
    t = cases.table
    bounds = con.execute(t.aggregate(start=t["first"].min(), end=t["last"].max())).iloc[0]
    start, end = _timestamp(bounds["start"]), _timestamp(bounds["end"])
    span_h = (end - start).total_seconds() / 3600 if start and end else 0.0
    k = backend.materialize(con, _per_case(events, cases, end, by))
    try:
        metrics = _metrics(k, sla_hours)
        overall = _figures(con.execute(k.aggregate(**metrics)).iloc[0], span_h, sla_hours)
        segments: dict[str, KpiFigures] = {}
        if by is not None:
            frame = con.execute(k.group_by("segment").aggregate(**metrics))
            frame = frame.sort_values(["cases", "segment"], ascending=[False, True])
            segments = {str(r["segment"]): _figures(r, span_h, sla_hours)
                        for _, r in frame.iterrows()}
        weekly = _weekly(con, k, start, end, sla_hours)
    finally:
        backend.release(con, k)
    return KpiReport(overall, weekly, by, segments, sla_hours, start, end, span_h / 168)


def _per_case(events: Events, cases: Cases, end: datetime | None, by: str | None) -> ir.Table:
    """One row per case with what every KPI needs: arrival and completion weeks, cycle (NULL
    when open), clock hours in progress up to completion or the log end, age at the log end,
    whether some activity repeats, and the segment."""
    e, t = events.table, cases.table
    reworked = e.group_by("case_id").aggregate(reworked=(e.occurrence > 1).any())
    j = t.join(reworked, "case_id")
    log_end = ibis.literal(end, type=dt.timestamp) if end else ibis.null(dt.timestamp)
    segment = (ibis.coalesce(j[by].cast(dt.string), ibis.literal(MISSING)) if by
               else ibis.literal(MISSING))
    return j.select(
        "case_id", "complete",
        cycle_h=ibis.ifelse(j.complete, j.cycle_h, ibis.null(dt.float64)),
        arrived=j["first"].truncate("W"),
        done=ibis.ifelse(j.complete, j["last"].truncate("W"), ibis.null(dt.timestamp)),
        open_h=hours(j["first"], ibis.ifelse(j.complete, j["last"], log_end)),
        age_h=hours(j["first"], log_end, events.calendar),
        reworked=j.reworked.fill_null(False),
        segment=segment,
    )


def _metrics(k: ir.Table, sla_hours: float | None) -> dict[str, ir.Value]:
    """The aggregates behind `KpiFigures`, for one group of per-case rows."""
    metrics: dict[str, ir.Value] = {
        "cases": k.count(), "complete": k.count(where=k.complete),
        "cycle_mean": k.cycle_h.mean(), "cycle_median": k.cycle_h.median(),
        "cycle_p90": k.cycle_h.quantile(0.9), "open_h": k.open_h.sum(),
        "reworked": k.count(where=k.reworked),
    }
    if sla_hours is not None:
        metrics["breached"] = k.count(where=k.cycle_h > sla_hours)
        metrics["open_breaching"] = k.count(where=~k.complete & (k.age_h > sla_hours))
    return metrics


def _figures(row: pd.Series[Any], span_h: float, sla_hours: float | None) -> KpiFigures:
    n, complete = _int(row["cases"]), _int(row["complete"])
    weeks = span_h / 168

    def per_week(count: float) -> float | None:
        return count / weeks if weeks > 0 else None

    has_sla = sla_hours is not None
    return KpiFigures(
        cases=n, complete=complete, open=n - complete,
        cycle_mean_h=_float(row["cycle_mean"]), cycle_median_h=_float(row["cycle_median"]),
        cycle_p90_h=_float(row["cycle_p90"]),
        throughput_per_week=per_week(complete), arrivals_per_week=per_week(n),
        wip_mean=(_float(row["open_h"]) or 0.0) / span_h if span_h > 0 else None,
        rework_rate=_int(row["reworked"]) / n if n else None,
        sla_hours=sla_hours,
        sla_breach_rate=_int(row["breached"]) / complete if has_sla and complete else None,
        open_breaching=_int(row["open_breaching"]) if has_sla else None,
    )


def _weekly(con: ibis.BaseBackend, k: ir.Table, start: datetime | None, end: datetime | None,
            sla_hours: float | None) -> tuple[WeekFigures, ...]:
    """Every ISO week from the first arrival's to the log end's, with zeros in empty weeks.

    The calendar is made here rather than in the engine: it is a few hundred rows at most,
    and the engine only knows the weeks that have events.
    """
    if start is None or end is None:
        return ()
    arrivals = con.execute(k.group_by(week=k.arrived).aggregate(arrivals=k.count()))
    done = k.filter(k.complete)
    completions = con.execute(done.group_by(week=done.done).aggregate(
        completed=done.count(), cycle_mean=done.cycle_h.mean(),
        cycle_median=done.cycle_h.median(), reworked=done.count(where=done.reworked),
        breached=done.count(where=done.cycle_h > (sla_hours or 0.0)),
    ))
    first, last = _monday(start), _monday(end)
    weeks = [first + timedelta(days=7 * i) for i in range((last - first).days // 7 + 1)]
    frame = pd.DataFrame({"week": weeks})
    for part in (arrivals, completions):
        part["week"] = pd.to_datetime(part["week"]).dt.date
        frame = frame.merge(part, on="week", how="left")
    frame[["arrivals", "completed"]] = frame[["arrivals", "completed"]].fillna(0).astype("int64")
    frame["wip"] = (frame.arrivals - frame.completed).cumsum()
    rows = []
    for r in frame.itertuples(index=False):
        n = int(r.completed)
        rows.append(WeekFigures(
            week=r.week, arrivals=int(r.arrivals), completed=n, wip_at_week_end=int(r.wip),
            cycle_mean_h=_float(r.cycle_mean), cycle_median_h=_float(r.cycle_median),
            rework_rate=_int(r.reworked) / n if n else None,
            sla_breach_rate=_int(r.breached) / n if n and sla_hours is not None else None,
        ))
    return tuple(rows)


def kpis_json(report: KpiReport) -> dict[str, Any]:
    """The report as JSON-ready data with stable keys: dates and times as ISO 8601 strings,
    undefined figures as null."""
    return {
        "by": report.by,
        "sla_hours": report.sla_hours,
        "start": report.start.isoformat() if report.start else None,
        "end": report.end.isoformat() if report.end else None,
        "span_weeks": report.span_weeks,
        "overall": _jsonable(dataclasses.asdict(report.overall)),
        "weekly": [_jsonable(dataclasses.asdict(w)) for w in report.weekly],
        "segments": {name: _jsonable(dataclasses.asdict(f))
                     for name, f in report.segments.items()},
    }


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in fields.items()}


def _json_value(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _monday(moment: datetime) -> date:
    return moment.date() - timedelta(days=moment.weekday())


def _timestamp(value: Any) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    moment: datetime = pd.Timestamp(value).to_pydatetime()
    return moment


def _float(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


def _int(value: Any) -> int:
    if value is None or pd.isna(value):
        return 0
    return int(value)


__all__ = ["MISSING", "KpiFigures", "KpiReport", "WeekFigures", "compute_kpis", "kpis_json",
           "parse_duration"]
