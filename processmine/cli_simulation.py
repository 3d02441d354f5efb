"""The simulation commands: calibrate, validate, simulate.

Each reads the log like `inspect`, calls one function of the `simulation` package and prints
or writes the result. Long runs show a progress bar (rich).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from processmine.cli import app, console, load, user_errors, write_json
from processmine.cli_options import JsonOpt, LogArg, ReadOpts, option_groups

if TYPE_CHECKING:
    from processmine.log import EventLog
    from simulation.model import SimulationModel

SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of every random draw: the same seed gives the same numbers.")]
ReplicationsOpt = Annotated[int, typer.Option("--replications", help="Runs per scenario (and of the baseline).", min=1)]
ModelOpt = Annotated[Path | None, typer.Option("--model", help="Use this calibrated (possibly edited) model instead of calibrating from the log.", show_default=False)]
ByAttrOpt = Annotated[str | None, typer.Option("--route-by", help="Condition routing on this case attribute.", show_default=False)]
RoutingOpt = Annotated[str, typer.Option("--routing", help="first_order (transition probabilities) or variants (replay observed paths).")]


def _model(log: EventLog, model_path: Path | None, *, route_by: str | None, routing: str,
           seed: int) -> SimulationModel:
    from simulation.calibrate import calibrate
    from simulation.model import SimulationModel

    if model_path is not None:
        return SimulationModel.load(model_path)
    return calibrate(log, by=route_by, routing_mode=routing, seed=seed)


@app.command("calibrate")
@option_groups
def calibrate_cmd(
    log: LogArg,
    out: Annotated[Path, typer.Option("--out", help="Where to save the model: .toml (editable) or .json.")] = Path("model.toml"),
    route_by: ByAttrOpt = None, routing: RoutingOpt = "first_order", seed: SeedOpt = 0,
    *, read: ReadOpts,
) -> None:
    """Calibrate a simulation model from the log and save it (TOML or JSON, editable).

    Example: processmine calibrate sample_logs/support_tickets.csv.gz --out model.toml
    """
    from processmine.render_simulation import show_model

    with user_errors():
        event_log = load(log, read)
        model = _model(event_log, None, route_by=route_by, routing=routing, seed=seed)
        model.save(out)
    show_model(console, model)
    console.print(f"wrote {out}")


@app.command("validate")
@option_groups
def validate_cmd(
    log: LogArg,
    holdout: Annotated[float | None, typer.Option("--holdout", help="Calibrate on the first (1 - share) of cases by start, validate on the rest, e.g. 0.3.", show_default=False)] = None,
    replications: ReplicationsOpt = 3, seed: SeedOpt = 0, model: ModelOpt = None,
    json_out: JsonOpt = None,
    *, read: ReadOpts,
) -> None:
    """Calibrate, simulate the log's own span and compare simulated with observed.

    Example: processmine validate sample_logs/support_tickets.csv.gz --holdout 0.3
    """
    from processmine.render_simulation import show_validation
    from simulation.model import SimulationModel
    from simulation.validate import validate

    with user_errors():
        event_log = load(log, read)
        given = SimulationModel.load(model) if model is not None else None
        result = validate(event_log, holdout=holdout, replications=replications, seed=seed,
                          model=given)
    show_validation(console, result)
    if json_out is not None:
        write_json(json_out, result.to_json())


@app.command("simulate")
@option_groups
def simulate_cmd(
    log: LogArg,
    scenarios: Annotated[Path | None, typer.Option("--scenarios", help="TOML file of named scenarios (see sample_logs/scenarios.toml).", show_default=False)] = None,
    suggest: Annotated[bool, typer.Option("--suggest", help="Also build scenarios from the top bottlenecks and rank them.")] = False,
    replications: ReplicationsOpt = 20, seed: SeedOpt = 0, model: ModelOpt = None,
    weeks: Annotated[float | None, typer.Option("--weeks", help="Simulated weeks (default: the log's span).", show_default=False)] = None,
    warmup_weeks: Annotated[float, typer.Option("--warmup-weeks", help="Weeks simulated first and discarded, so queues start full.")] = 2.0,
    workers: Annotated[int | None, typer.Option("--workers", help="Parallel processes (default: one per CPU core).", show_default=False)] = None,
    route_by: ByAttrOpt = None, routing: RoutingOpt = "first_order",
    json_out: JsonOpt = None,
    *, read: ReadOpts,
) -> None:
    """Run what-if scenarios against the calibrated as-is process, with confidence intervals.

    Example: processmine simulate sample_logs/support_tickets.csv.gz --scenarios sample_logs/scenarios.toml
    """
    from rich.progress import Progress

    from processmine.errors import ConfigError
    from processmine.render_simulation import show_experiment
    from simulation.experiment import run_experiment
    from simulation.scenarios import load_scenarios

    with user_errors():
        if scenarios is None and not suggest:
            raise ConfigError("nothing to simulate: give --scenarios FILE and/or --suggest")
        event_log = load(log, read)
        sim_model = _model(event_log, model, route_by=route_by, routing=routing, seed=seed)
        chosen = load_scenarios(scenarios) if scenarios is not None else []
        if suggest:
            chosen += _suggestions(event_log, sim_model, {s.name for s in chosen})
        if not chosen:
            raise ConfigError("no scenario to run: the bottlenecks suggested none")
        if weeks is not None and not (math.isfinite(weeks) and weeks > 0):
            raise ConfigError(f"--weeks {weeks}: expected a number of weeks above 0, e.g. 12")
        if not (math.isfinite(warmup_weeks) and warmup_weeks >= 0):
            raise ConfigError(f"--warmup-weeks {warmup_weeks}: expected 0 or more weeks, e.g. 2")
        begin, end = _horizon(event_log, weeks)
        # The warm-up is simulated before the measured span, not taken out of it.
        begin -= timedelta(weeks=warmup_weeks)
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("simulating", total=replications * (len(chosen) + 1))
            result = run_experiment(
                sim_model, chosen, start=begin, end=end, replications=replications, seed=seed,
                warmup=timedelta(weeks=warmup_weeks), workers=workers,
                progress=lambda done, total: bar.update(task, completed=done, total=total))
    show_experiment(console, result)
    if json_out is not None:
        write_json(json_out, result.to_json())


def _suggestions(log: EventLog, model: SimulationModel, taken: set[str]) -> list:  # type: ignore[type-arg]
    from processmine.analysis import prepare
    from processmine.mining.bottlenecks import rank_bottlenecks
    from simulation.suggest import suggest

    prepared = prepare(log)
    report = rank_bottlenecks(prepared.events, prepared.cases, top=10)
    return [s for s in suggest(model, report) if s.name not in taken]


def _horizon(log: EventLog, weeks: float | None) -> tuple[datetime, datetime]:
    """The simulated window: the log's span, or `weeks` from the log's start."""
    lo, hi = log.span()
    if weeks is not None:
        hi = lo + timedelta(weeks=weeks)
    return lo, hi
