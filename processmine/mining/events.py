"""The per-event working table every statistic reads: order, predecessor, waiting, processing.

Computed once per analysis by the engine and materialised, because edges, activities,
resources, rework, bottlenecks and the funnel all need the same window functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from processmine import backend
from processmine.log import EventLog

if TYPE_CHECKING:
    from processmine.mining.calendar import Calendar


def hours(start: ir.TimestampValue, end: ir.TimestampValue,
          calendar: Calendar | None = None) -> ir.FloatingValue:
    """Hours from `start` to `end`: clock hours, or working hours of `calendar`."""
    if calendar is not None:
        return calendar.hours_between(start, end).cast(dt.float64)
    seconds = end.epoch_seconds().cast(dt.float64) - start.epoch_seconds().cast(dt.float64)
    return seconds / 3600.0


@dataclass(frozen=True)
class Events:
    """The log's events with, per event (columns of `table`):

    - `pos`: 0-based position in its case (order: end, start, source row);
    - `prev_activity`, `prev_end`, `prev_resource`: the event before it in the case;
    - `next_activity`: the event after it;
    - `wait_h`: hours from the previous event's end to this one's start (its end when it has
      no start), never negative: overlapping work is not waiting (as pm4py computes it);
    - `proc_h`: hours from start to end, NULL without a start time;
    - `occurrence`: 1 for the first time the activity happens in the case, 2 for its repeat...
    - `handoff`: the previous event was done by another (known) resource.
    """

    table: ir.Table
    log: EventLog
    calendar: Calendar | None = None


def enrich(log: EventLog, calendar: Calendar | None = None) -> Events:
    """Compute the per-event working table once, in the engine (see `Events`)."""
    t = log.table
    w = log.case_window()
    per_activity = ibis.window(group_by=["case_id", "activity"], order_by=["end", "start", "row_id"])
    e = t.mutate(
        pos=ibis.row_number().over(w),
        prev_activity=t.activity.lag().over(w),
        prev_end=t.end.lag().over(w),
        prev_resource=t.resource.lag().over(w),
        next_activity=t.activity.lead().over(w),
        occurrence=ibis.row_number().over(per_activity) + 1,
    )
    arrival = ibis.coalesce(e.start, e.end)
    ready = ibis.greatest(arrival, e.prev_end)
    e = e.mutate(
        wait_h=ibis.ifelse(e.prev_end.isnull(), ibis.null(dt.float64),
                           hours(e.prev_end, ready, calendar)),
        proc_h=ibis.ifelse(e.start.isnull(), ibis.null(dt.float64),
                           hours(e.start, e.end, calendar)),
        handoff=(e.prev_resource.notnull() & e.resource.notnull()
                 & (e.prev_resource != e.resource)).fill_null(False),
    )
    return Events(backend.materialize(log.backend, e), log, calendar)
