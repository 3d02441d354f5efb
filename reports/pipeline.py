"""`processmine analyze`: every stage, once, in order: the inputs of the report.

Read and check, mine (statistics, variants, model), rank bottlenecks, funnel (when the log is
a pipeline) and KPIs, validate the simulation, run the scenarios (or the suggestions). Each
stage is the library function the single-purpose commands call, so the report shows exactly
what `bottlenecks`, `funnel`, `kpis`, `validate` and `simulate` would print. Stages that
cannot apply to this log (no funnel in a ticket log, no simulation without enough cases) are
skipped with a note that the report shows, never silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from processmine.analysis import AnalysisOptions, Prepared, prepare
from processmine.discovery import Discovery, discover
from processmine.errors import ProcessMineError
from processmine.log import EventLog
from processmine.mining.bottlenecks import BottleneckReport, rank_bottlenecks
from processmine.mining.funnel import Funnel, build_funnel
from processmine.mining.kpis import KpiReport, compute_kpis
from processmine.summary import LogSummary, summarize

#: The report replays at most this many variants (the most frequent) for fitness and
#: precision: on logs with thousands of variants the rest add seconds and move the figures
#: little; the coverage is stated with the figures (`conformance_cases`).
CONFORMANCE_VARIANTS = 500
#: Simulated before the measured span and discarded, so queues start as full as they were.
WARMUP = timedelta(weeks=2)
#: Called with (stage name, stage number, number of stages) as the pipeline advances.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class AnalyzeOptions:
    """What `analyze` does beyond the shared analysis options."""

    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    scenarios: Path | None = None
    suggest: bool = True
    simulate: bool = True
    replications: int = 10
    seed: int = 0
    workers: int | None = None
    sla_hours: float | None = None
    by: str | None = None
    top: int = 10
    noise_threshold: float = 0.2
    command: str = ""


@dataclass(frozen=True)
class Analysis:
    """Everything the report shows. Optional parts are None with a `notes` entry saying why."""

    log: EventLog
    summary: LogSummary
    prepared: Prepared
    discovery: Discovery
    bottlenecks: BottleneckReport
    kpis: KpiReport
    funnel: Funnel | None
    validation: object | None     # simulation.validate.Validation
    experiment: object | None     # simulation.experiment.Experiment
    model: object | None          # simulation.model.SimulationModel
    scenario_edges: tuple[str, pd.DataFrame, pd.DataFrame] | None   # best scenario, base, scenario
    options: AnalyzeOptions
    notes: tuple[str, ...]
    started: datetime
    seconds: float


STAGES = ("mine", "bottlenecks", "kpis and funnel", "validate simulation", "scenarios")


def analyze(log: EventLog, options: AnalyzeOptions | None = None,
            progress: Progress | None = None) -> Analysis:
    """Run every stage on `log` (see the module docstring)."""
    options = options or AnalyzeOptions()
    began = datetime.now()
    notes: list[str] = []

    def step(i: int) -> None:
        if progress is not None:
            progress(STAGES[i], i + 1, len(STAGES))

    step(0)
    prepared = prepare(log, options.analysis)
    summary = summarize(prepared.log)
    found = discover(prepared, noise_threshold=options.noise_threshold,
                     max_conformance_variants=CONFORMANCE_VARIANTS, resources=False)
    step(1)
    ranking = rank_bottlenecks(prepared.events, prepared.cases, top=options.top)
    step(2)
    kpis = compute_kpis(prepared.events, prepared.cases, sla_hours=options.sla_hours,
                        by=options.by)
    funnel = _funnel(prepared, options.by, notes)
    step(3)
    validation = experiment = model = edges = None
    if options.simulate:
        validation, experiment, model = _simulation(prepared, ranking, options, notes, step)
        if experiment is not None and model is not None:
            edges = _scenario_edges(prepared.log, model, experiment, options)
    else:
        notes.append("Simulation was not run (--no-simulation).")
    seconds = (datetime.now() - began).total_seconds()
    return Analysis(log, summary, prepared, found, ranking, kpis, funnel, validation,
                    experiment, model, edges, options, tuple(notes), began, seconds)


def _scenario_edges(log: EventLog, model: object, experiment: object,
                    options: AnalyzeOptions) -> tuple[str, pd.DataFrame, pd.DataFrame] | None:
    """Edge counts and waits of the baseline and of the best scenario, from one run each on
    the same seed (common random numbers), for the scenario map."""
    import numpy as np

    from processmine.mining.events import enrich
    from processmine.mining.stats import edge_stats
    from simulation.engine import simulate, to_event_log
    from simulation.scenarios import apply

    ranked = experiment.ranked()  # type: ignore[attr-defined]
    if not ranked:
        return None
    best = ranked[0]
    scenario = next(s for s in experiment.scenario_specs if s.name == best.name)  # type: ignore[attr-defined]
    start, end = log.span()
    start -= WARMUP
    frames = []
    for m in (model, apply(model, scenario)):  # type: ignore[arg-type]
        run = simulate(m, start=start, end=end, seed=np.random.SeedSequence(options.seed),  # type: ignore[arg-type]
                       warmup=WARMUP)
        if run.events.empty:
            return None
        frames.append(edge_stats(enrich(to_event_log(run))))
    return best.name, frames[0], frames[1]


def _funnel(prepared: Prepared, by: str | None, notes: list[str]) -> Funnel | None:
    """The funnel when the log looks like a pipeline: its outcomes can be told won from lost."""
    try:
        segment = by if by in prepared.log.case_attributes else None
        return build_funnel(prepared.events, prepared.cases, by=segment)
    except ProcessMineError as err:
        notes.append(f"No funnel: the end activities do not read as won and lost outcomes "
                     f"({_first_sentence(str(err))}). Use `processmine funnel` with --won/--lost.")
        return None


def _simulation(prepared: Prepared, ranking: BottleneckReport, options: AnalyzeOptions,
                notes: list[str], step: Callable[[int], None]) -> tuple[object, object, object]:
    from simulation.calibrate import calibrate
    from simulation.experiment import run_experiment
    from simulation.scenarios import load_scenarios
    from simulation.suggest import suggest
    from simulation.validate import validate

    log = prepared.log
    try:
        model = calibrate(log, seed=options.seed)
    except ProcessMineError as err:
        notes.append(f"No simulation: the model could not be calibrated ({err}).")
        return None, None, None
    try:
        validation = validate(log, model=model, replications=min(options.replications, 3),
                              seed=options.seed)
    except ProcessMineError as err:
        notes.append(f"No simulation: the calibrated model could not be run ({err}).")
        return None, None, model
    step(4)
    chosen = list(load_scenarios(options.scenarios)) if options.scenarios is not None else []
    if options.suggest:
        taken = {s.name for s in chosen}
        chosen += [s for s in suggest(model, ranking) if s.name not in taken]
    if not chosen:
        notes.append("No scenario was simulated: none was given and the bottlenecks suggested none.")
        return validation, None, model
    start, end = log.span()
    start -= WARMUP  # simulated before the measured span, not taken out of it
    try:
        experiment = run_experiment(model, chosen, start=start, end=end,
                                    replications=options.replications, seed=options.seed,
                                    warmup=WARMUP, workers=options.workers)
    except ProcessMineError as err:
        notes.append(f"No scenario was simulated: {err}")
        return validation, None, model
    return validation, experiment, model


def _first_sentence(text: str) -> str:
    """The funnel's error up to its advice ('; name them with --won/--lost'), whatever
    punctuation the activity names it quotes contain."""
    for tail in ("; name them", "; give --won"):
        if tail in text:
            return text.split(tail, maxsplit=1)[0]
    return text


__all__ = ["STAGES", "Analysis", "AnalyzeOptions", "Progress", "analyze"]
