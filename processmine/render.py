"""Terminal tables and JSON for `inspect` (rich renders; log text is never markup)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from processmine.log import EventLog
from processmine.mapping import ROLE_LABEL
from processmine.summary import LogSummary


def show_inspection(console: Console, log: EventLog, summary: LogSummary) -> None:
    """Mapping, summary and quality report as three tables."""
    mapping = Table(title=f"Mapping of {log.source}", title_justify="left")
    for col in ("role", "column", "how", "format"):
        mapping.add_column(col)
    for role, column, how in log.mapping.describe():
        if column == "-" and role in ("lifecycle",):
            continue
        mapping.add_row(ROLE_LABEL[role], Text(column), how, log.formats.get(column, ""))
    console.print(mapping)
    if log.cached:
        console.print("(read from the ingest cache)")

    facts = Table(title="Summary", title_justify="left", show_header=False)
    facts.add_column("figure")
    facts.add_column("value", justify="right")
    rows: list[tuple[str, str | Text]] = [
        ("events", f"{summary.events:,}"), ("cases", f"{summary.cases:,}"),
        ("activities", f"{summary.activities:,}"), ("resources", f"{summary.resources:,}"),
        ("first timestamp (UTC)", f"{summary.start:%Y-%m-%d %H:%M:%S}"),
        ("last timestamp (UTC)", f"{summary.end:%Y-%m-%d %H:%M:%S}"),
        ("events per case (mean / median)",
         f"{summary.events_per_case_mean:.2f} / {summary.events_per_case_median:g}"),
        ("events per case (min - max)",
         f"{summary.events_per_case_min} - {summary.events_per_case_max}"),
        ("events with a start time", f"{summary.start_time_share:.1%}"),
        ("case attributes", Text(", ".join(log.case_attributes) or "-")),
        ("event attributes", Text(", ".join(log.event_attributes) or "-")),
    ]
    for name, value in rows:
        facts.add_row(name, value)
    console.print(facts)

    q = log.quality
    quality = Table(
        title=f"Data quality: {q.rows_read:,} rows read, {q.rows_kept:,} kept, "
              f"{q.rows_excluded:,} excluded", title_justify="left",
    )
    for col in ("problem", "count", "action", "examples (row: value)"):
        quality.add_column(col, justify="right" if col == "count" else "left")
    for issue in q.issues:
        examples = "; ".join(f"{e.row}: {e.value!r}" if e.value is not None else f"{e.row}"
                             for e in issue.examples)
        quality.add_row(Text(issue.description), f"{issue.count:,}", issue.action, Text(examples))
    if not q.issues:
        quality.add_row("no problems found", "", "", "")
    console.print(quality)
    for note in q.notes:
        console.print(Text(f"note: {note}"))


def inspection_json(log: EventLog, summary: LogSummary) -> dict[str, Any]:
    """The same content as `show_inspection`, with stable keys."""
    data = summary.to_dict()
    data["source"] = log.source
    data["mapping"] = {role: column if column != "-" else None
                       for role, column, _ in log.mapping.describe()}
    data["mapping_how"] = dict(log.mapping.how)
    data["timestamp_formats"] = dict(log.formats)
    data["case_attributes"] = list(log.case_attributes)
    data["event_attributes"] = list(log.event_attributes)
    data["quality"] = log.quality.to_dict()
    return data
