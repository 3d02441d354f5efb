"""The figures `processmine inspect` shows: how big the log is and what it covers."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from processmine.log import EventLog


@dataclass(frozen=True, slots=True)
class LogSummary:
    """Size and span of a log. `start`/`end` are the first and last timestamps (UTC);
    `start_time_share` is the share of events that have a start time (0 for stage histories).
    """

    events: int
    cases: int
    activities: int
    resources: int
    start: datetime
    end: datetime
    events_per_case_mean: float
    events_per_case_median: float
    events_per_case_min: int
    events_per_case_max: int
    start_time_share: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, timestamps as ISO 8601 with `Z`."""
        data = asdict(self)
        data["start"] = self.start.isoformat() + "Z"
        data["end"] = self.end.isoformat() + "Z"
        return data


def summarize(log: EventLog) -> LogSummary:
    """Count events, cases, activities and resources, in two aggregate queries."""
    t = log.table
    first = t.start.min()
    totals = t.aggregate(
        events=t.count(), cases=t.case_id.nunique(), activities=t.activity.nunique(),
        resources=t.resource.nunique(), with_start=t.start.count(),
        first_end=t.end.min(), first_start=first, last=t.end.max(),
    )
    row = log.backend.execute(totals).iloc[0]
    sizes = t.group_by("case_id").aggregate(n=t.count())
    per_case = log.backend.execute(sizes.aggregate(
        mean=sizes.n.mean(), median=sizes.n.median(), lo=sizes.n.min(), hi=sizes.n.max())).iloc[0]
    events = int(row["events"])
    begin = row["first_end"]
    if row["first_start"] is not None and row["first_start"] == row["first_start"]:
        begin = min(begin, row["first_start"])
    return LogSummary(
        events=events, cases=int(row["cases"]), activities=int(row["activities"]),
        resources=int(row["resources"]), start=_py(begin), end=_py(row["last"]),
        events_per_case_mean=float(per_case["mean"]),
        events_per_case_median=float(per_case["median"]),
        events_per_case_min=int(per_case["lo"]), events_per_case_max=int(per_case["hi"]),
        start_time_share=int(row["with_start"]) / events if events else 0.0,
    )


def _py(value: Any) -> datetime:
    """pandas Timestamp -> datetime (naive UTC)."""
    to_py = getattr(value, "to_pydatetime", None)
    result = to_py() if to_py else value
    if not isinstance(result, datetime):
        raise TypeError(f"expected a timestamp, got {value!r}")
    return result
