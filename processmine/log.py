"""EventLog: the canonical event log every analysis reads, held by the engine as an Ibis table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import ibis
import ibis.expr.types as ir
import pandas as pd

from processmine.mapping import ResolvedMapping
from processmine.quality import QualityReport

#: Columns every EventLog table has, in this order, before its attributes.
CANONICAL = ("case_id", "activity", "start", "end", "resource", "row_id")
#: Names the mining layer gives to the columns it adds to the event and case tables. An
#: attribute with one of these names (in any letter case: the engine may not tell `Events` from
#: `events`) is renamed `attr_<name>` at ingest, so it can never collide with them.
RESERVED = CANONICAL + (
    "pos", "prev_activity", "prev_end", "prev_resource", "next_activity", "wait_h", "proc_h",
    "occurrence", "handoff", "first", "last", "events", "variant", "start_activity",
    "end_activity", "cycle_h", "complete", "source", "target", "week",
)


@dataclass(frozen=True)
class EventLog:
    """One row per activity instance: `case_id`, `activity`, `start` (nullable), `end`,
    `resource` (nullable), `row_id` (the source row, 1-based), then the attributes.

    Timestamps are naive and in UTC. `case_attributes` are the attributes constant within
    every case (lead source, priority); `event_attributes` vary within a case. The table may
    live in memory or in the ingest cache; either way only aggregates should leave it.
    """

    table: ir.Table
    source: str
    mapping: ResolvedMapping
    quality: QualityReport
    case_attributes: tuple[str, ...] = ()
    event_attributes: tuple[str, ...] = ()
    has_start: bool = False
    cached: bool = False
    formats: dict[str, str] = field(default_factory=dict)

    @property
    def attributes(self) -> tuple[str, ...]:
        """All attribute columns, case-level first."""
        return self.case_attributes + self.event_attributes

    @property
    def backend(self) -> ibis.BaseBackend:
        """The engine that holds the table (DuckDB by default)."""
        return self.table.get_backend()

    @staticmethod
    def case_window() -> ibis.expr.builders.LegacyWindowBuilder:
        """Event order inside a case: by end, then start, then source row.

        Source row breaks ties of equal timestamps (minute-precision exports have many) the
        way the source system listed them, so results are stable from run to run.
        """
        return ibis.window(group_by="case_id", order_by=["end", "start", "row_id"])

    def span(self) -> tuple[datetime, datetime]:
        """The first timestamp (a start, or an end without one) and the last end: the window
        the log covers, which simulations replay."""
        t = self.table
        row = self.backend.execute(
            t.aggregate(lo=ibis.coalesce(t.start, t.end).min(), hi=t.end.max())).iloc[0]
        return pd.Timestamp(row["lo"]).to_pydatetime(), pd.Timestamp(row["hi"]).to_pydatetime()

    def with_table(self, table: ir.Table) -> EventLog:
        """The same log metadata over another table (a filtered view of this one)."""
        return EventLog(
            table, self.source, self.mapping, self.quality, self.case_attributes,
            self.event_attributes, self.has_start, self.cached, self.formats,
        )
