"""Terminal tables for calibrate, validate and simulate (rich; log text is never markup)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from processmine.mining.bottlenecks import duration
from simulation.experiment import Estimate, Experiment, Outcome
from simulation.model import SimulationModel
from simulation.validate import Figure, Validation


def show_model(console: Console, model: SimulationModel) -> None:
    console.print(f"arrivals: {model.arrivals.per_week:,.1f} cases per week"
                  + (" (weekly profile)" if model.arrivals.weekly_rate is not None else ""))
    if model.pools:
        pools = Table(title="Resource pools", title_justify="left")
        for col in ("pool", "capacity", "working hours", "activities"):
            pools.add_column(col, justify="right" if col == "capacity" else "left")
        for pool in model.pools.values():
            acts = ", ".join(a.name for a in model.activities.values() if a.pool == pool.name)
            pools.add_row(Text(pool.name), str(pool.capacity), Text(pool.calendar), Text(acts))
        console.print(pools)
    table = Table(title="Activities", title_justify="left")
    for col in ("activity", "pool", "duration", "mean"):
        table.add_column(col)
    for a in model.activities.values():
        table.add_row(Text(a.name), Text(a.pool or "-"), a.duration.kind, duration(a.duration.mean))
    console.print(table)
    for note in model.notes:
        console.print(Text(f"note: {note}"))


def show_validation(console: Console, v: Validation) -> None:
    lo, hi, n = v.compared_on
    console.print(Text(f"Compared {lo:%Y-%m-%d} to {hi:%Y-%m-%d} ({n:,} cases), "
                       f"{v.replications} replications, seed {v.seed}"
                       + (f", holdout {v.holdout:.0%}" if v.holdout else "")))
    table = Table(title="Simulated against observed", title_justify="left")
    for col in ("figure", "observed", "simulated", "error"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    for f in v.cycle:
        _row(table, f"cycle time {f.name}", f, hours=True)
    if v.wasserstein_hours is not None:
        table.add_row("cycle time distribution (Wasserstein)", "", duration(v.wasserstein_hours), "")
    _row(table, "arrivals per week", v.arrivals_per_week)
    if v.arrival_profile_correlation is not None:
        table.add_row("arrival profile (correlation by hour of week)", "",
                      f"{v.arrival_profile_correlation:.2f}", "")
    for f in v.waiting_hours:
        _row(table, f"wait before {f.name}", f, hours=True)
    for f in v.activity_share:
        table.add_row(Text(f"share of events: {f.name}"), _pct(f.observed), _pct(f.simulated), "")
    for f in v.utilisation:
        table.add_row(Text(f"utilisation: {f.name}"), _pct(f.observed), _pct(f.simulated), "")
    console.print(table)
    for note in v.notes:
        console.print(Text(f"note: {note}"))
    console.print(Text(f"Verdict: {v.verdict}", style="bold"))


def _row(table: Table, name: str, f: Figure, *, hours: bool = False) -> None:
    fmt = duration if hours else (lambda x: "-" if x is None else f"{x:,.1f}")
    err = "-" if f.error is None else f"{f.error:+.0%}"
    table.add_row(Text(name), fmt(f.observed), fmt(f.simulated), err)


def show_experiment(console: Console, e: Experiment) -> None:
    console.print(f"{e.replications} replications per scenario, seed {e.seed}, "
                  f"{e.start:%Y-%m-%d} to {e.end:%Y-%m-%d} (after {e.warmup_hours / 168:.0f} weeks of warm-up)")
    table = Table(title="Scenarios against the baseline (mean cycle time and its change with 95% "
                        "confidence intervals; all intervals in the JSON)", title_justify="left")
    for col in ("scenario", "cycle mean", "change", "median", "p90", "throughput/wk", "cost/case"):
        table.add_column(col, justify="left" if col == "scenario" else "right")
    for o in [e.baseline, *e.ranked()]:
        table.add_row(Text(o.name), _est(o.cycle_time_hours["mean"], hours=True),
                      _change(o), _est(o.cycle_time_hours["median"], hours=True, ci=False),
                      _est(o.cycle_time_hours["p90"], hours=True, ci=False),
                      _est(o.throughput_per_week, ci=False),
                      "-" if o.cost_per_case is None else _est(o.cost_per_case, ci=False))
    console.print(table)
    pools = sorted({p for o in [e.baseline, *e.scenarios] for p in o.utilisation})
    if pools:
        util = Table(title="Pool utilisation", title_justify="left")
        util.add_column("scenario")
        for p in pools:
            util.add_column(Text(p), justify="right")
        for o in [e.baseline, *e.scenarios]:
            util.add_row(Text(o.name), *[_pct(o.utilisation[p].mean) if p in o.utilisation else "-"
                                         for p in pools])
        console.print(util)
    for o in e.scenarios:
        for line in o.changes:
            console.print(Text(f"{o.name}: {line}"))
    for o in e.scenarios:
        if o.unstable:
            console.print(Text(
                f"warning: {o.name}: {_pct_value(o.open_pct.mean)} of its cases are still open at "
                f"the end of the run (baseline {_pct_value(e.baseline.open_pct.mean)}): the "
                "process does not keep up, and its cycle time counts only the cases that "
                "finished. Ranked last.", style="bold"))
    for note in e.notes:
        console.print(Text(f"note: {note}"))


def _est(est: Estimate, *, hours: bool = False, ci: bool = True) -> str:
    if est.mean is None:
        return "-"
    fmt = duration if hours else (lambda x: f"{x:,.1f}")
    if est.ci95 is None or not ci:
        return fmt(est.mean)
    return f"{fmt(est.mean)} [{fmt(est.ci95[0])}, {fmt(est.ci95[1])}]"


def _change(o: Outcome) -> str:
    est = o.change_pct.get("mean")
    if est is None or est.mean is None:
        return ""
    if est.ci95 is None:
        return f"{est.mean:+.1f}%"
    return f"{est.mean:+.1f}% [{est.ci95[0]:+.1f}, {est.ci95[1]:+.1f}]"


def _pct_value(x: float | None) -> str:
    return "-" if x is None else f"{x:.0f}%"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


__all__ = ["show_experiment", "show_model", "show_validation"]
