"""One prepared analysis: the log after filters, its per-event table and its cases.

Every mining command (discover, bottlenecks, funnel, kpis, and the full report) starts the
same way: apply the Disco-style filters, measure in clock or working hours, find the end
activities. Doing it here once keeps the commands thin and makes every output record the same
filters and calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from processmine.errors import ConfigError
from processmine.log import EventLog
from processmine.mining.calendar import Calendar
from processmine.mining.events import Events, enrich
from processmine.mining.filters import FilterResult, FilterSpec, apply_filters
from processmine.mining.stats import Cases, case_table


@dataclass(frozen=True)
class AnalysisOptions:
    """What the user chose for every analysis: filters, calendar, end activities."""

    filters: FilterSpec = field(default_factory=FilterSpec)
    calendar: Calendar | None = None
    end_activities: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Prepared:
    """The filtered log (`log`), the log as read (`original`), what the filters did, the
    per-event table and the per-case table."""

    log: EventLog
    original: EventLog
    filtered: FilterResult
    events: Events
    cases: Cases
    options: AnalysisOptions

    def context(self) -> dict[str, Any]:
        """What every JSON output records about how the figures were made."""
        return {
            "source": self.original.source,
            "filters": self.filtered.describe(),
            "calendar": None if self.options.calendar is None else self.options.calendar.describe(),
            "hours": "working hours" if self.options.calendar is not None else "clock hours",
            "end_activities": list(self.cases.end_activities),
            "end_activities_inferred": self.cases.end_activities_inferred,
        }


def prepare(log: EventLog, options: AnalysisOptions | None = None) -> Prepared:
    """Filter, enrich and build the case table (raises `ConfigError` for bad filters, and
    for filters that keep no case)."""
    options = options or AnalysisOptions()
    spec = options.filters
    if options.end_activities is not None and spec.end_activities is None:
        spec = FilterSpec(**{**_fields(spec), "end_activities": options.end_activities})
    filtered = apply_filters(log, spec)
    if filtered.applied and filtered.applied[-1].cases_after == 0:
        # Every figure would be empty or undefined: say which filter emptied the log.
        steps = "; ".join(filtered.describe())
        hint = ("a --where value must match the log's exactly, capitals included (and, with "
                "--pseudonymize, it is compared as its pseudonym)"
                if filtered.applied[-1].description.startswith("Where ") else
                "loosen the filters")
        raise ConfigError(f"{log.source}: the filters keep no cases ({steps}); expected at "
                          f"least one case: {hint}")
    events = enrich(filtered.log, options.calendar)
    cases = case_table(events, options.end_activities)
    return Prepared(filtered.log, log, filtered, events, cases, options)


def _fields(spec: FilterSpec) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in spec.__dataclass_fields__}


__all__ = ["AnalysisOptions", "Prepared", "prepare"]
