"""The mining commands: discover, bottlenecks, funnel, kpis, map.

Each reads the log with the mapping options of `inspect`, applies the shared filter and
calendar options (`processmine.analysis.prepare`), calls one library function and prints or
writes its result. Every JSON output carries a `context` block: source, filters, calendar.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from processmine.cli import (
    DEFAULT_DB,
    ActivityOpt,
    CaseOpt,
    ConfigOpt,
    DayFirstOpt,
    DbOpt,
    FormatOpt,
    JsonOpt,
    LifecycleOpt,
    LogArg,
    NoCacheOpt,
    ResourceOpt,
    StartOpt,
    StrictOpt,
    TimestampOpt,
    ZoneOpt,
    app,
    console,
    load,
    user_errors,
    write_json,
)

if TYPE_CHECKING:
    from processmine.analysis import AnalysisOptions, Prepared

_F = "Filters"
_T = "Time"
TopVariantsOpt = Annotated[float | None, typer.Option("--top-variants", help="Keep the most frequent variants covering this % of cases.", rich_help_panel=_F, show_default=False)]
MinActivityOpt = Annotated[float | None, typer.Option("--min-activity", help="Keep activities occurring in at least this % of cases (others' events removed).", rich_help_panel=_F, show_default=False)]
FromOpt = Annotated[str | None, typer.Option("--from", help="Keep cases starting at or after this date/time (ISO, UTC).", rich_help_panel=_F, show_default=False)]
ToOpt = Annotated[str | None, typer.Option("--to", help="Keep cases starting before this date/time (ISO, UTC).", rich_help_panel=_F, show_default=False)]
WhereOpt = Annotated[list[str] | None, typer.Option("--where", help="Attribute filter, repeatable: channel=email, priority!=P4, channel=email,chat, Amount>=10000.", rich_help_panel=_F, show_default=False)]
StartsWithOpt = Annotated[str | None, typer.Option("--starts-with", help="Keep cases whose first activity is one of these (comma-separated).", rich_help_panel=_F, show_default=False)]
EndsWithOpt = Annotated[str | None, typer.Option("--ends-with", help="Keep cases whose last activity is one of these (comma-separated).", rich_help_panel=_F, show_default=False)]
CompleteOpt = Annotated[bool, typer.Option("--complete-only", help="Keep complete cases only (ending in an end activity).", rich_help_panel=_F)]
EndActsOpt = Annotated[str | None, typer.Option("--end-activities", help="Activities that end a case (comma-separated; default: those ending >= 90% of the cases they occur in).", rich_help_panel=_F, show_default=False)]
CalendarOpt = Annotated[str | None, typer.Option("--calendar", help="Measure durations in working hours, e.g. 'Mon-Fri 08:00-17:00'.", rich_help_panel=_T, show_default=False)]
HolidaysOpt = Annotated[Path | None, typer.Option("--holidays", help="File of holiday dates: one ISO date per line, or a CSV with a date column; for --calendar.", rich_help_panel=_T, show_default=False)]
ByOpt = Annotated[str | None, typer.Option("--by", help="Split by this case attribute (e.g. LeadSource, channel).", show_default=False)]

_READ = ("case", "activity", "timestamp", "start", "resource", "lifecycle", "config",
         "timestamp_format", "timezone", "dayfirst", "strict", "db", "no_cache")


def prepared_from(opts: dict[str, Any]) -> Prepared:
    """Read the log and prepare the analysis from a command's options (its `locals()`)."""
    from processmine.analysis import prepare

    log = load(opts["log"], **{k: opts[k] for k in _READ})
    return prepare(log, analysis_options(opts))


def analysis_options(opts: dict[str, Any]) -> AnalysisOptions:
    """The filters, calendar and end activities of a command's options (its `locals()`)."""
    from processmine.analysis import AnalysisOptions
    from processmine.errors import ConfigError
    from processmine.mining.calendar import Calendar
    from processmine.mining.filters import FilterSpec

    calendar = None
    if opts["holidays"] is not None and opts["calendar"] is None:
        raise ConfigError("--holidays needs --calendar (the working hours the holidays interrupt)")
    if opts["calendar"] is not None:
        holidays = Calendar.read_holidays(opts["holidays"]) if opts["holidays"] else ()
        calendar = Calendar.parse(opts["calendar"], holidays)
    ends = _names(opts["end_activities"])
    spec = FilterSpec(
        variants_pct=opts["top_variants"], activities_pct=opts["min_activity"],
        start_from=_moment(opts["start_from"], "--from"), start_to=_moment(opts["start_to"], "--to"),
        where=tuple(opts["where"] or ()), starts_with=_names(opts["starts_with"]) or (),
        ends_with=_names(opts["ends_with"]) or (), complete_only=opts["complete_only"],
        end_activities=ends,
    )
    return AnalysisOptions(spec, calendar, ends)


def _names(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _moment(text: str | None, option: str) -> datetime | None:
    from processmine.errors import ConfigError

    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"{option} {text!r}: expected a date or date-time like 2024-03-01 "
                          "or 2024-03-01T08:00") from None


@app.command()
def bottlenecks(
    log: LogArg,
    top: Annotated[int, typer.Option("--top", help="How many bottlenecks to list.", min=1)] = 10,
    json_out: JsonOpt = None,
    case: CaseOpt = None, activity: ActivityOpt = None, timestamp: TimestampOpt = None,
    start: StartOpt = None, resource: ResourceOpt = None, lifecycle: LifecycleOpt = None,
    config: ConfigOpt = None, timestamp_format: FormatOpt = None, timezone: ZoneOpt = "UTC",
    dayfirst: DayFirstOpt = None, strict: StrictOpt = False, db: DbOpt = DEFAULT_DB,
    no_cache: NoCacheOpt = False,
    top_variants: TopVariantsOpt = None, min_activity: MinActivityOpt = None,
    start_from: FromOpt = None, start_to: ToOpt = None, where: WhereOpt = None,
    starts_with: StartsWithOpt = None, ends_with: EndsWithOpt = None,
    complete_only: CompleteOpt = False, end_activities: EndActsOpt = None,
    calendar: CalendarOpt = None, holidays: HolidaysOpt = None,
) -> None:
    """Rank bottlenecks by the hours they add to cycle time, with causes and explanations.

    Example: processmine bottlenecks sample_logs/support_tickets.csv.gz --top 5
    """
    from processmine.mining.bottlenecks import rank_bottlenecks
    from processmine.render_mining import show_bottlenecks, show_context

    with user_errors():
        p = prepared_from(locals())
        report = rank_bottlenecks(p.events, p.cases, top=top)
    show_context(console, p)
    show_bottlenecks(console, report)
    if json_out is not None:
        write_json(json_out, {"context": p.context(), **report.to_json()})


@app.command()
def funnel(
    log: LogArg,
    by: ByOpt = None,
    stages: Annotated[str | None, typer.Option("--stages", help="Stages in order, comma-separated (default: inferred from their median position).", show_default=False)] = None,
    won: Annotated[str | None, typer.Option("--won", help="Won outcomes, comma-separated (default: inferred from end activities).", show_default=False)] = None,
    lost: Annotated[str | None, typer.Option("--lost", help="Lost outcomes, comma-separated.", show_default=False)] = None,
    json_out: JsonOpt = None,
    case: CaseOpt = None, activity: ActivityOpt = None, timestamp: TimestampOpt = None,
    start: StartOpt = None, resource: ResourceOpt = None, lifecycle: LifecycleOpt = None,
    config: ConfigOpt = None, timestamp_format: FormatOpt = None, timezone: ZoneOpt = "UTC",
    dayfirst: DayFirstOpt = None, strict: StrictOpt = False, db: DbOpt = DEFAULT_DB,
    no_cache: NoCacheOpt = False,
    top_variants: TopVariantsOpt = None, min_activity: MinActivityOpt = None,
    start_from: FromOpt = None, start_to: ToOpt = None, where: WhereOpt = None,
    starts_with: StartsWithOpt = None, ends_with: EndsWithOpt = None,
    complete_only: CompleteOpt = False, end_activities: EndActsOpt = None,
    calendar: CalendarOpt = None, holidays: HolidaysOpt = None,
) -> None:
    """The pipeline funnel: stages reached, conversion, drop-off, win rate, per segment.

    Example: processmine funnel sample_logs/crm_pipeline.csv.gz --by LeadSource
    """
    from processmine.mining.funnel import build_funnel, funnel_json
    from processmine.render_mining import show_context, show_funnel

    with user_errors():
        p = prepared_from(locals())
        result = build_funnel(p.events, p.cases, stages=_names(stages), won=_names(won),
                              lost=_names(lost), by=by)
    show_context(console, p)
    show_funnel(console, result)
    if json_out is not None:
        write_json(json_out, {"context": p.context(), **funnel_json(result)})


@app.command()
def kpis(
    log: LogArg,
    by: ByOpt = None,
    sla: Annotated[str | None, typer.Option("--sla", help="Service level for cycle time, e.g. 48h, 2d, 90m.", show_default=False)] = None,
    json_out: JsonOpt = None,
    case: CaseOpt = None, activity: ActivityOpt = None, timestamp: TimestampOpt = None,
    start: StartOpt = None, resource: ResourceOpt = None, lifecycle: LifecycleOpt = None,
    config: ConfigOpt = None, timestamp_format: FormatOpt = None, timezone: ZoneOpt = "UTC",
    dayfirst: DayFirstOpt = None, strict: StrictOpt = False, db: DbOpt = DEFAULT_DB,
    no_cache: NoCacheOpt = False,
    top_variants: TopVariantsOpt = None, min_activity: MinActivityOpt = None,
    start_from: FromOpt = None, start_to: ToOpt = None, where: WhereOpt = None,
    starts_with: StartsWithOpt = None, ends_with: EndsWithOpt = None,
    complete_only: CompleteOpt = False, end_activities: EndActsOpt = None,
    calendar: CalendarOpt = None, holidays: HolidaysOpt = None,
) -> None:
    """Cycle time, throughput, arrivals, work in progress, rework and SLA breaches, weekly.

    Example: processmine kpis sample_logs/support_tickets.csv.gz --by priority --sla 48h
    """
    from processmine.mining.kpis import compute_kpis, kpis_json, parse_duration
    from processmine.render_mining import show_context, show_kpis

    with user_errors():
        sla_hours = parse_duration(sla) if sla is not None else None
        p = prepared_from(locals())
        report = compute_kpis(p.events, p.cases, sla_hours=sla_hours, by=by)
    show_context(console, p)
    show_kpis(console, report)
    if json_out is not None:
        write_json(json_out, {"context": p.context(), **kpis_json(report)})


@app.command()
def discover(
    log: LogArg,
    out: Annotated[Path, typer.Option("--out", help="Folder for model.bpmn, model.pnml, variants.csv and statistics.json.")] = Path("out/discover"),
    noise: Annotated[float, typer.Option("--noise", help="Noise threshold of the inductive miner (0 keeps every path).", min=0.0, max=1.0)] = 0.2,
    case: CaseOpt = None, activity: ActivityOpt = None, timestamp: TimestampOpt = None,
    start: StartOpt = None, resource: ResourceOpt = None, lifecycle: LifecycleOpt = None,
    config: ConfigOpt = None, timestamp_format: FormatOpt = None, timezone: ZoneOpt = "UTC",
    dayfirst: DayFirstOpt = None, strict: StrictOpt = False, db: DbOpt = DEFAULT_DB,
    no_cache: NoCacheOpt = False,
    top_variants: TopVariantsOpt = None, min_activity: MinActivityOpt = None,
    start_from: FromOpt = None, start_to: ToOpt = None, where: WhereOpt = None,
    starts_with: StartsWithOpt = None, ends_with: EndsWithOpt = None,
    complete_only: CompleteOpt = False, end_activities: EndActsOpt = None,
    calendar: CalendarOpt = None, holidays: HolidaysOpt = None,
) -> None:
    """Discover the process: model (BPMN, PNML), variants (CSV) and statistics (JSON).

    Example: processmine discover sample_logs/support_tickets.csv.gz --out out/discover
    """
    from processmine.discovery import discover as run_discovery
    from processmine.discovery import write_discovery
    from processmine.render_mining import show_context, show_discovery

    with user_errors():
        p = prepared_from(locals())
        result = run_discovery(p, noise_threshold=noise)
        written = write_discovery(result, out)
    show_context(console, p)
    show_discovery(console, result.summary, result.variants, result.model_summary)
    for path in written:
        console.print(f"wrote {path}")


class MapKind(StrEnum):
    """What `processmine map` draws."""

    frequency = "frequency"
    performance = "performance"


MapActivitiesOpt = Annotated[float, typer.Option("--activities", help="Show the most frequent activities, this % of the distinct activities (Disco's activity slider; hidden activities' events are removed).", rich_help_panel="Map")]
MapPathsOpt = Annotated[float, typer.Option("--paths", help="Show the most frequent paths, this % of them, keeping every activity connected from Start to End (Disco's path slider).", rich_help_panel="Map")]


@app.command("map")
def map_cmd(
    log: LogArg,
    kind: Annotated[MapKind, typer.Option("--kind", help="frequency: counts of activities and paths; performance: waiting and processing times, bottlenecks marked.")] = MapKind.frequency,
    out: Annotated[Path, typer.Option("--out", help="Map file: .svg, .png, .pdf, or .dot for the Graphviz source.")] = Path("out/map.svg"),
    activities_pct: MapActivitiesOpt = 100.0, paths_pct: MapPathsOpt = 100.0,
    case: CaseOpt = None, activity: ActivityOpt = None, timestamp: TimestampOpt = None,
    start: StartOpt = None, resource: ResourceOpt = None, lifecycle: LifecycleOpt = None,
    config: ConfigOpt = None, timestamp_format: FormatOpt = None, timezone: ZoneOpt = "UTC",
    dayfirst: DayFirstOpt = None, strict: StrictOpt = False, db: DbOpt = DEFAULT_DB,
    no_cache: NoCacheOpt = False,
    top_variants: TopVariantsOpt = None, min_activity: MinActivityOpt = None,
    start_from: FromOpt = None, start_to: ToOpt = None, where: WhereOpt = None,
    starts_with: StartsWithOpt = None, ends_with: EndsWithOpt = None,
    complete_only: CompleteOpt = False, end_activities: EndActsOpt = None,
    calendar: CalendarOpt = None, holidays: HolidaysOpt = None,
) -> None:
    """Draw the process map (frequency or performance) as SVG, PNG or PDF.

    Example: processmine map sample_logs/support_tickets.csv.gz --kind performance --activities 80 --out map.svg
    """
    from processmine.mining.bottlenecks import rank_bottlenecks
    from processmine.render_mining import show_context
    from reports.dot import output_format
    from reports.maps import Abstraction, abstract, frequency_map, map_data, performance_map, render

    with user_errors():
        output_format(out)
        abstraction = Abstraction(activities_pct, paths_pct)
        p = prepared_from(locals())
        performance = kind is MapKind.performance
        ranked = rank_bottlenecks(p.events, p.cases, with_causes=False).bottlenecks if performance else ()
        shown, note = abstract(map_data(p.events, bottlenecks=ranked), abstraction, events=p.events)
        draw = performance_map if performance else frequency_map
        notes = "\n".join([*p.filtered.describe(), *([note] if note else [])])
        written = render(draw(shown, title=f"{kind.value.capitalize()} map of {log.name}", note=notes), out)
    show_context(console, p)
    if note:
        console.print(note, markup=False)
    console.print(f"wrote {written}", markup=False)
