"""`processmine analyze`: the whole pipeline into one report folder, and `processmine map`.

Process owners never run the CLI: what they get is the report. This command reads and checks
the log, mines it, ranks bottlenecks, builds the funnel and KPIs, validates the simulation,
runs the scenarios (and suggestions), and writes report.html, report.md, summary.json and
maps/, with a progress bar; it ends by printing where the report is.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from processmine.cli import app, console, load, user_errors
from processmine.cli_mining import analysis_options
from processmine.cli_options import ByOpt, FilterOpts, LogArg, ReadOpts, option_groups

_R = "Report"
_S = "Simulation"
ActivitiesPctOpt = Annotated[float, typer.Option("--activities", help="Maps show the most frequent activities, this % of the distinct activities (Disco's activity slider).", min=1, max=100, rich_help_panel=_R)]
PathsPctOpt = Annotated[float, typer.Option("--paths", help="Maps show the most important paths, this % of them (Disco's path slider).", min=1, max=100, rich_help_panel=_R)]
PseudoOpt = Annotated[str | None, typer.Option("--pseudonymize", help="Replace these values in every output: resources, cases and/or attribute names, comma-separated.", rich_help_panel=_R, show_default=False)]
PseudoKeyOpt = Annotated[str | None, typer.Option("--pseudonym-key", help="Key for stable pseudonyms across reports (default: a random key, never written).", rich_help_panel=_R, show_default=False)]


@app.command()
@option_groups
def analyze(
    log: LogArg,
    out: Annotated[Path, typer.Option("--out", help="Report folder.", rich_help_panel=_R)] = Path("out/report"),
    scenarios: Annotated[Path | None, typer.Option("--scenarios", help="TOML file of what-if scenarios.", rich_help_panel=_S, show_default=False)] = None,
    suggest: Annotated[bool, typer.Option("--suggest/--no-suggest", help="Also simulate scenarios suggested by the bottlenecks.", rich_help_panel=_S)] = True,
    simulation: Annotated[bool, typer.Option("--simulation/--no-simulation", help="Validate a simulation and run scenarios.", rich_help_panel=_S)] = True,
    replications: Annotated[int, typer.Option("--replications", help="Runs per scenario.", min=1, rich_help_panel=_S)] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random draw.", rich_help_panel=_S)] = 0,
    workers: Annotated[int | None, typer.Option("--workers", help="Parallel simulation processes (default: one per core).", rich_help_panel=_S, show_default=False)] = None,
    sla: Annotated[str | None, typer.Option("--sla", help="Service level for cycle time, e.g. 48h.", rich_help_panel=_R, show_default=False)] = None,
    by: ByOpt = None,
    top: Annotated[int, typer.Option("--top", help="Bottlenecks listed.", min=1, rich_help_panel=_R)] = 10,
    activities_pct: ActivitiesPctOpt = 100.0, paths_pct: PathsPctOpt = 100.0,
    pseudonymize: PseudoOpt = None, pseudonym_key: PseudoKeyOpt = None,
    *, read: ReadOpts, filters: FilterOpts,
) -> None:
    """Run the whole analysis and write one self-contained report (HTML, Markdown, JSON, maps).

    Example: processmine analyze sample_logs/support_tickets.csv.gz --scenarios sample_logs/scenarios.toml
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from processmine.mining.kpis import parse_duration
    from processmine.privacy import PseudonymSpec
    from processmine.privacy import pseudonymize as pseudonymize_log
    from reports.pipeline import AnalyzeOptions
    from reports.pipeline import analyze as run_analysis
    from reports.writer import MapOptions, write_report

    with user_errors():
        sla_hours = parse_duration(sla) if sla is not None else None
        analysis = analysis_options(filters)
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("reading the log", total=7)
            event_log = load(log, read)
            privacy = None
            shown: dict[str, str] = {}
            if pseudonymize is not None:
                done = pseudonymize_log(event_log, PseudonymSpec.parse(pseudonymize), pseudonym_key)
                event_log, privacy = done.log, done.describe()
                # Filter values typed as names select the same cases by their pseudonyms,
                # and only the pseudonyms are recorded (filters and command line alike).
                where = analysis.filters.where
                shown = dict(zip(where, done.where(where), strict=True))
                analysis = replace(analysis, filters=replace(
                    analysis.filters, where=tuple(shown[w] for w in where)))
            options = AnalyzeOptions(
                analysis=analysis, scenarios=scenarios, suggest=suggest,
                simulate=simulation, replications=replications, seed=seed, workers=workers,
                sla_hours=sla_hours, by=by, top=top, command=_command_line(shown),
            )
            bar.update(task, completed=1)

            def advance(stage: str, i: int, n: int) -> None:
                bar.update(task, description=stage, completed=1 + i)

            result = run_analysis(event_log, options, progress=advance)
            bar.update(task, description="writing the report", completed=6)
            files = write_report(result, out, maps=MapOptions(activities_pct, paths_pct),
                                 privacy=privacy)
            bar.update(task, completed=7)
    for note in result.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    console.print(f"Report written to {files.html}", markup=False, highlight=False)
    console.print(f"(also {files.markdown}, {files.summary} and {files.folder / 'maps'})",
                  markup=False, highlight=False)


def _command_line(where: Mapping[str, str] | None = None) -> str:
    """The command as typed (for the appendix): the key of --pseudonym-key is masked, and each
    --where condition is shown as `where` rewrites it (with pseudonyms instead of names)."""
    args = list(sys.argv[1:])
    where = where or {}
    for i, a in enumerate(args):
        if a == "--pseudonym-key" and i + 1 < len(args):
            args[i + 1] = "***"
        elif a.startswith("--pseudonym-key="):
            args[i] = "--pseudonym-key=***"
        elif a == "--where" and i + 1 < len(args):
            args[i + 1] = where.get(args[i + 1], args[i + 1])
        elif a.startswith("--where="):
            args[i] = "--where=" + where.get(a[len("--where="):], a[len("--where="):])
    return "processmine " + " ".join(shlex.quote(a) for a in args)
