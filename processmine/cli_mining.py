"""The mining commands: discover, bottlenecks, funnel, kpis, map.

Each reads the log with the mapping options of `inspect`, applies the shared filter and
calendar options (`processmine.analysis.prepare`), calls one library function and prints or
writes its result. Every JSON output carries a `context` block: source, filters, calendar.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from processmine.cli import app, console, load, user_errors, write_json
from processmine.cli_options import ByOpt, FilterOpts, JsonOpt, LogArg, ReadOpts, option_groups

if TYPE_CHECKING:
    from processmine.analysis import AnalysisOptions, Prepared


def prepared_from(log: Path, read: ReadOpts, filters: FilterOpts) -> Prepared:
    """Read the log and prepare the analysis from a command's shared options."""
    from processmine.analysis import prepare

    return prepare(load(log, read), analysis_options(filters))


def analysis_options(filters: FilterOpts) -> AnalysisOptions:
    """The filters, calendar and end activities of a command's options."""
    from processmine.analysis import AnalysisOptions
    from processmine.errors import ConfigError
    from processmine.mining.calendar import Calendar
    from processmine.mining.filters import FilterSpec

    f = filters
    calendar = None
    if f.holidays is not None and f.calendar is None:
        raise ConfigError("--holidays needs --calendar (the working hours the holidays interrupt)")
    if f.calendar is not None:
        holidays = Calendar.read_holidays(f.holidays) if f.holidays else ()
        calendar = Calendar.parse(f.calendar, holidays)
    ends = _names(f.end_activities)
    spec = FilterSpec(
        variants_pct=f.top_variants, activities_pct=f.min_activity,
        start_from=_moment(f.start_from, "--from"), start_to=_moment(f.start_to, "--to"),
        where=tuple(f.where or ()), starts_with=_names(f.starts_with) or (),
        ends_with=_names(f.ends_with) or (), complete_only=f.complete_only,
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
@option_groups
def bottlenecks(
    log: LogArg,
    top: Annotated[int, typer.Option("--top", help="How many bottlenecks to list.", min=1)] = 10,
    json_out: JsonOpt = None,
    *, read: ReadOpts, filters: FilterOpts,
) -> None:
    """Rank bottlenecks by the hours they add to cycle time, with causes and explanations.

    Example: processmine bottlenecks sample_logs/support_tickets.csv.gz --top 5
    """
    from processmine.mining.bottlenecks import rank_bottlenecks
    from processmine.render_mining import show_bottlenecks, show_context

    with user_errors():
        p = prepared_from(log, read, filters)
        report = rank_bottlenecks(p.events, p.cases, top=top)
    show_context(console, p)
    show_bottlenecks(console, report)
    if json_out is not None:
        write_json(json_out, {"context": p.context(), **report.to_json()})


@app.command()
@option_groups
def funnel(
    log: LogArg,
    by: ByOpt = None,
    stages: Annotated[str | None, typer.Option("--stages", help="Stages in order, comma-separated (default: inferred from their median position).", show_default=False)] = None,
    won: Annotated[str | None, typer.Option("--won", help="Won outcomes, comma-separated (default: inferred from end activities).", show_default=False)] = None,
    lost: Annotated[str | None, typer.Option("--lost", help="Lost outcomes, comma-separated.", show_default=False)] = None,
    json_out: JsonOpt = None,
    *, read: ReadOpts, filters: FilterOpts,
) -> None:
    """The pipeline funnel: stages reached, conversion, drop-off, win rate, per segment.

    Example: processmine funnel sample_logs/crm_pipeline.csv.gz --by LeadSource
    """
    from processmine.mining.funnel import build_funnel, funnel_json
    from processmine.render_mining import show_context, show_funnel

    with user_errors():
        p = prepared_from(log, read, filters)
        result = build_funnel(p.events, p.cases, stages=_names(stages), won=_names(won),
                              lost=_names(lost), by=by)
    show_context(console, p)
    show_funnel(console, result)
    if json_out is not None:
        write_json(json_out, {"context": p.context(), **funnel_json(result)})


@app.command()
@option_groups
def kpis(
    log: LogArg,
    by: ByOpt = None,
    sla: Annotated[str | None, typer.Option("--sla", help="Service level for cycle time, e.g. 48h, 2d, 90m.", show_default=False)] = None,
    json_out: JsonOpt = None,
    *, read: ReadOpts, filters: FilterOpts,
) -> None:
    """Cycle time, throughput, arrivals, work in progress, rework and SLA breaches, weekly.

    Example: processmine kpis sample_logs/support_tickets.csv.gz --by priority --sla 48h
    """
    from processmine.mining.kpis import compute_kpis, kpis_json, parse_duration
    from processmine.render_mining import show_context, show_kpis

    with user_errors():
        sla_hours = parse_duration(sla) if sla is not None else None
        p = prepared_from(log, read, filters)
        report = compute_kpis(p.events, p.cases, sla_hours=sla_hours, by=by)
    show_context(console, p)
    show_kpis(console, report)
    if json_out is not None:
        write_json(json_out, {"context": p.context(), **kpis_json(report)})


@app.command()
@option_groups
def discover(
    log: LogArg,
    out: Annotated[Path, typer.Option("--out", help="Folder for model.bpmn, model.pnml, variants.csv and statistics.json.")] = Path("out/discover"),
    noise: Annotated[float, typer.Option("--noise", help="Noise threshold of the inductive miner (0 keeps every path).", min=0.0, max=1.0)] = 0.2,
    *, read: ReadOpts, filters: FilterOpts,
) -> None:
    """Discover the process: model (BPMN, PNML), variants (CSV) and statistics (JSON).

    Example: processmine discover sample_logs/support_tickets.csv.gz --out out/discover
    """
    from processmine.discovery import discover as run_discovery
    from processmine.discovery import write_discovery
    from processmine.render_mining import show_context, show_discovery

    with user_errors():
        p = prepared_from(log, read, filters)
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
@option_groups
def map_cmd(
    log: LogArg,
    kind: Annotated[MapKind, typer.Option("--kind", help="frequency: counts of activities and paths; performance: waiting and processing times, bottlenecks marked.")] = MapKind.frequency,
    out: Annotated[Path, typer.Option("--out", help="Map file: .svg, .png, .pdf, or .dot for the Graphviz source.")] = Path("out/map.svg"),
    activities_pct: MapActivitiesOpt = 100.0, paths_pct: MapPathsOpt = 100.0,
    *, read: ReadOpts, filters: FilterOpts,
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
        p = prepared_from(log, read, filters)
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
