"""Replications, common random numbers and confidence intervals for what-if scenarios.

One simulation run is one sample of a noisy system; a 5% gain seen in one run may be luck. So
the baseline and every scenario run `replications` times, and replication r of every scenario
uses the same seed: the same arrivals, the same routing draws and the same work content
wherever the scenario did not change them (the engine keeps one random stream per purpose).
The difference between a scenario and the baseline is then measured replication by replication,
which removes most of the noise the two share (common random numbers), and reported as a mean
with a 95% Student-t confidence interval.

Runs are spread over the CPU cores with a process pool; results do not depend on the number
of workers, because each run's randomness depends only on (seed, replication).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from scipy import stats

from simulation.engine import SimResult, simulate
from simulation.model import SimulationModel
from simulation.scenarios import Scenario, apply, describe


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean over replications with its 95% confidence interval (None with one replication)."""

    mean: float | None
    ci95: tuple[float, float] | None
    n: int

    def to_json(self) -> dict[str, Any]:
        return {"mean": _r(self.mean), "ci95": None if self.ci95 is None else [_r(self.ci95[0]), _r(self.ci95[1])],
                "n": self.n}


@dataclass(frozen=True, slots=True)
class RunFigures:
    """What one replication measured (clock hours; per week = per 168 hours)."""

    cycle_mean: float | None
    cycle_median: float | None
    cycle_p90: float | None
    throughput_per_week: float
    wip_mean: float
    arrivals: int
    completed: int
    utilisation: Mapping[str, float]
    waiting: Mapping[str, float]
    cost_per_case: float | None
    open_share: float = 0.0


@dataclass(frozen=True)
class Outcome:
    """One scenario (or the baseline) over all replications."""

    name: str
    changes: tuple[str, ...]
    runs: tuple[RunFigures, ...]
    cycle_time_hours: Mapping[str, Estimate]
    throughput_per_week: Estimate
    wip: Estimate
    utilisation: Mapping[str, Estimate]
    waiting_hours: Mapping[str, Estimate]
    cost_per_case: Estimate | None
    change_pct: Mapping[str, Estimate] = field(default_factory=dict)
    open_pct: Estimate = field(default_factory=lambda: Estimate(None, None, 0))
    unstable: bool = False

    def to_json(self) -> dict[str, Any]:
        """`ci95` is the interval of the mean; `median_ci95` and `p90_ci95` those of the others."""
        data: dict[str, Any] = {
            "name": self.name, "changes": list(self.changes),
            "cycle_time_hours": _with_ci(self.cycle_time_hours),
            "throughput_per_week": self.throughput_per_week.to_json(),
            "wip": self.wip.to_json(),
            "utilisation": {k: v.to_json() for k, v in self.utilisation.items()},
            "waiting_hours": {k: v.to_json() for k, v in self.waiting_hours.items()},
            "cost_per_case": None if self.cost_per_case is None else self.cost_per_case.to_json(),
            "open_pct": self.open_pct.to_json(),
            "unstable": self.unstable,
        }
        if self.change_pct:
            data["change_pct"] = _with_ci(self.change_pct)
        return data


def _with_ci(figures: Mapping[str, Estimate]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, est in figures.items():
        out[key] = _r(est.mean)
        ci = est.to_json()["ci95"]
        out["ci95" if key == "mean" else f"{key}_ci95"] = ci
    return out


@dataclass(frozen=True)
class Experiment:
    """The baseline and the scenarios, run on the same seeds over the same horizon."""

    replications: int
    seed: int
    start: datetime
    end: datetime
    warmup_hours: float
    baseline: Outcome
    scenarios: tuple[Outcome, ...]
    notes: tuple[str, ...] = ()
    scenario_specs: tuple[Scenario, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The JSON of `processmine simulate --json` (schema in docs/simulation.md)."""
        return {
            "replications": self.replications, "seed": self.seed,
            "start": self.start.isoformat(), "end": self.end.isoformat(),
            "warmup_hours": self.warmup_hours, "notes": list(self.notes),
            "baseline": self.baseline.to_json(),
            "scenarios": [s.to_json() for s in self.scenarios],
        }

    def ranked(self) -> list[Outcome]:
        """Scenarios by mean cycle-time change, best (most negative) first; unstable ones
        (see `UNSTABLE_PP`) last, because their change counts only the cases that finished."""
        def key(o: Outcome) -> tuple[bool, float]:
            est = o.change_pct.get("mean")
            return o.unstable, est.mean if est is not None and est.mean is not None else math.inf
        return sorted(self.scenarios, key=key)


def figures(result: SimResult, hours: float) -> RunFigures:
    """Reduce one run to its figures (`hours`: the length of the measured window)."""
    cycles = np.asarray(result.cycle_hours, dtype=float)
    weeks = hours / 168.0 if hours > 0 else math.nan
    return RunFigures(
        cycle_mean=float(cycles.mean()) if cycles.size else None,
        cycle_median=float(np.median(cycles)) if cycles.size else None,
        cycle_p90=float(np.quantile(cycles, 0.9)) if cycles.size else None,
        throughput_per_week=result.completed / weeks if math.isfinite(weeks) else math.nan,
        wip_mean=_wip_mean(result, hours),
        arrivals=result.arrivals, completed=result.completed,
        utilisation={p: u for p, u in result.utilisation.items() if u is not None},
        waiting=dict(result.waits),
        cost_per_case=result.cost_per_case,
        open_share=result.open_cases / result.arrivals if result.arrivals else 0.0,
    )


def _wip_mean(result: SimResult, hours: float) -> float:
    """Time-weighted cases in progress: the hours the measured cases spent between arrival and
    finish (or the end of the run, for those still open) over the window's hours."""
    return result.in_progress_hours / hours if hours > 0 else 0.0


def _run(args: tuple[SimulationModel, datetime, datetime, int, int, timedelta | None]) -> RunFigures:
    model, start, end, seed, replication, warmup = args
    seq = np.random.SeedSequence(seed, spawn_key=(replication,))
    result = simulate(model, start=start, end=end, seed=seq, warmup=warmup)
    measured = (end - start - (warmup or timedelta())).total_seconds() / 3600.0
    return figures(result, measured)


def run_experiment(
    model: SimulationModel, scenarios: Sequence[Scenario], *, start: datetime, end: datetime,
    replications: int = 20, seed: int = 0, warmup: timedelta | None = None,
    workers: int | None = None, progress: Callable[[int, int], None] | None = None,
) -> Experiment:
    """Run the baseline and each scenario `replications` times with common random numbers."""
    from processmine.errors import ConfigError

    if replications < 1:
        raise ConfigError(f"--replications {replications}: expected at least 1")
    models = [model] + [apply(model, s) for s in scenarios]
    tasks = [(m, start, end, seed, r, warmup) for m in models for r in range(replications)]
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    done: list[RunFigures] = []
    if workers == 1:
        for i, task in enumerate(tasks, start=1):
            done.append(_run(task))
            if progress:
                progress(i, len(tasks))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for i, fig in enumerate(pool.map(_run, tasks), start=1):
                done.append(fig)
                if progress:
                    progress(i, len(tasks))
    per_model = [tuple(done[k * replications:(k + 1) * replications]) for k in range(len(models))]
    baseline = _outcome("Baseline", (), per_model[0], None)
    outcomes = tuple(
        _outcome(s.name, tuple(describe(c) for c in s.changes), runs, per_model[0])
        for s, runs in zip(scenarios, per_model[1:], strict=True)
    )
    warm = (warmup or timedelta()).total_seconds() / 3600.0
    return Experiment(replications, seed, start, end, warm, baseline, outcomes, model.notes,
                      tuple(scenarios))


def _outcome(name: str, changes: tuple[str, ...], runs: tuple[RunFigures, ...],
             base: tuple[RunFigures, ...] | None) -> Outcome:
    pools = sorted({p for r in runs for p in r.utilisation})
    acts = sorted({a for r in runs for a in r.waiting})
    costs = [r.cost_per_case for r in runs]
    change: dict[str, Estimate] = {}
    if base is not None:
        for key in ("mean", "median", "p90"):
            pairs = [(_cycle(r, key), _cycle(b, key)) for r, b in zip(runs, base, strict=True)]
            change[key] = estimate([100.0 * (s - b) / b for s, b in pairs
                                    if s is not None and b is not None and b > 0])
    open_pct = estimate([100.0 * r.open_share for r in runs])
    unstable = False
    if base is not None:
        base_open = estimate([100.0 * r.open_share for r in base]).mean or 0.0
        unstable = (open_pct.mean or 0.0) > base_open + UNSTABLE_PP
    return Outcome(
        name=name, changes=changes, runs=runs, open_pct=open_pct, unstable=unstable,
        cycle_time_hours={k: estimate([v for r in runs if (v := _cycle(r, k)) is not None])
                          for k in ("mean", "median", "p90")},
        throughput_per_week=estimate([r.throughput_per_week for r in runs]),
        wip=estimate([r.wip_mean for r in runs]),
        utilisation={p: estimate([r.utilisation[p] for r in runs if p in r.utilisation]) for p in pools},
        waiting_hours={a: estimate([r.waiting[a] for r in runs if a in r.waiting]) for a in acts},
        cost_per_case=None if all(c is None for c in costs)
        else estimate([c for c in costs if c is not None]),
        change_pct=change,
    )


#: A scenario leaves this many percentage points more of its cases unfinished at the end of
#: the run than the baseline: the process no longer keeps up with its demand, and a cycle-time
#: change measured on the cases that did finish would flatter it.
UNSTABLE_PP = 5.0


def _cycle(r: RunFigures, key: str) -> float | None:
    return {"mean": r.cycle_mean, "median": r.cycle_median, "p90": r.cycle_p90}[key]


def estimate(values: Sequence[float]) -> Estimate:
    """Mean and 95% Student-t interval of independent replications."""
    xs = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    n = int(xs.size)
    if n == 0:
        return Estimate(None, None, 0)
    mean = float(xs.mean())
    if n == 1:
        return Estimate(mean, None, 1)
    half = float(stats.t.ppf(0.975, n - 1) * xs.std(ddof=1) / math.sqrt(n))
    return Estimate(mean, (mean - half, mean + half), n)


def _r(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 4)


__all__ = ["Estimate", "Experiment", "Outcome", "RunFigures", "estimate", "figures", "run_experiment"]
