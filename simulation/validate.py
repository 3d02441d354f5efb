"""Does the simulated as-is process reproduce the real one? Figures and a plain verdict.

A what-if answer is only worth something when the model first reproduces what happened.
`validate` calibrates a model, simulates the log's own time span and compares the two with the
same mining functions on both sides (the engine writes a canonical event log): cycle time
(mean, median, p90 and the Wasserstein distance between the distributions), how often each
activity happens, the weekly arrival profile, the waiting before each activity and the pools'
utilisation. With `holdout`, the model is calibrated on the earliest cases and judged on the
later ones it never saw.

The simulation starts `warmup` before the compared span and discards the cases that arrive in
it, so queues are as full at the start of the span as they are in reality.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd
from scipy import stats

from processmine import backend
from processmine.errors import ConfigError
from processmine.log import EventLog
from processmine.mining.calendar import Calendar
from processmine.mining.events import enrich
from processmine.mining.resources import hour_of_week
from processmine.mining.stats import activity_stats, case_table
from simulation.calibrate import calibrate
from simulation.engine import simulate, to_event_log
from simulation.model import SimulationModel

#: The verdict calls mean cycle time reproduced within this relative error.
GOOD = 0.10
#: Observed cycle times pulled for the distribution comparison (the figures use all cases).
SAMPLE = 200_000


@dataclass(frozen=True, slots=True)
class Figure:
    """One compared figure; `error` is relative (simulated / observed - 1) unless noted."""

    name: str
    observed: float | None
    simulated: float | None

    @property
    def error(self) -> float | None:
        if self.observed is None or self.simulated is None or self.observed == 0:
            return None
        return self.simulated / self.observed - 1.0

    def to_json(self) -> dict[str, Any]:
        return {"observed": _r(self.observed), "simulated": _r(self.simulated),
                "relative_error": _r(self.error)}


@dataclass(frozen=True)
class Validation:
    """Observed against simulated, and the verdict."""

    calibrated_on: tuple[datetime, datetime, int]
    compared_on: tuple[datetime, datetime, int]
    holdout: float | None
    replications: int
    seed: int
    cycle: tuple[Figure, ...]
    wasserstein_hours: float | None
    activity_share: tuple[Figure, ...]
    arrivals_per_week: Figure
    arrival_profile_correlation: float | None
    waiting_hours: tuple[Figure, ...]
    utilisation: tuple[Figure, ...]
    verdict: str
    reproduced: bool
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        def span(s: tuple[datetime, datetime, int]) -> dict[str, Any]:
            return {"start": s[0].isoformat(), "end": s[1].isoformat(), "cases": s[2]}

        return {
            "verdict": self.verdict, "reproduced": self.reproduced, "holdout": self.holdout,
            "replications": self.replications, "seed": self.seed,
            "calibrated_on": span(self.calibrated_on), "compared_on": span(self.compared_on),
            "cycle_time_hours": {f.name: f.to_json() for f in self.cycle},
            "wasserstein_hours": _r(self.wasserstein_hours),
            "activity_share": {f.name: f.to_json() for f in self.activity_share},
            "arrivals_per_week": self.arrivals_per_week.to_json(),
            "arrival_profile_correlation": _r(self.arrival_profile_correlation),
            "waiting_hours": {f.name: f.to_json() for f in self.waiting_hours},
            "utilisation": {f.name: f.to_json() for f in self.utilisation},
            "notes": list(self.notes),
        }


def validate(log: EventLog, *, holdout: float | None = None, replications: int = 3,
             seed: int = 0, warmup: timedelta = timedelta(weeks=2),
             model: SimulationModel | None = None) -> Validation:
    """Calibrate (unless `model` is given), simulate the compared span, compare (see module)."""
    if holdout is not None and not 0.0 < holdout < 1.0:
        raise ConfigError(f"--holdout {holdout}: expected a share of cases between 0 and 1, e.g. 0.3")
    if replications < 1:
        raise ConfigError(f"--replications {replications}: expected at least 1")
    first, last, cutoff, n_all, n_late = _spans(log, holdout)
    train = log if holdout is None else _cases_starting(log, None, cutoff)
    test = log if holdout is None else _cases_starting(log, cutoff, None)
    if model is None:
        model = calibrate(train, seed=seed)
    start = first if holdout is None else cutoff
    observed = _observed(test, model)
    runs = [simulate(model, start=start - warmup, end=last,
                     seed=np.random.SeedSequence(seed, spawn_key=(r,)), warmup=warmup)
            for r in range(replications)]
    simulated = _simulated(runs, model)
    cycle = tuple(Figure(k, observed["cycle"].get(k), simulated["cycle"].get(k))
                  for k in ("mean", "median", "p90"))
    obs_c, sim_c = observed["cycle_values"], simulated["cycle_values"]
    wasserstein = (float(stats.wasserstein_distance(obs_c, sim_c))
                   if len(obs_c) and len(sim_c) else None)
    acts = sorted(set(observed["share"]) | set(simulated["share"]))
    weeks = max((last - start).total_seconds() / 3600.0 / 168.0, 1e-9)
    profile_obs, profile_sim = observed["profile"], simulated["profile"]
    corr = (float(np.corrcoef(profile_obs, profile_sim)[0, 1])
            if profile_obs.std() > 0 and profile_sim.std() > 0 else None)
    waits = tuple(Figure(a, observed["wait"].get(a), simulated["wait"].get(a)) for a in acts)
    pools = sorted(set(observed["util"]) | set(simulated["util"]))
    result_notes = list(model.notes)
    verdict, ok = _verdict(cycle[0], model)
    return Validation(
        calibrated_on=(first, cutoff if holdout is not None else last, n_all - n_late if holdout else n_all),
        compared_on=(start, last, n_late if holdout else n_all), holdout=holdout,
        replications=replications, seed=seed, cycle=cycle, wasserstein_hours=wasserstein,
        activity_share=tuple(Figure(a, observed["share"].get(a, 0.0), simulated["share"].get(a, 0.0))
                             for a in acts),
        arrivals_per_week=Figure("arrivals_per_week", observed["arrivals"] / weeks,
                                 simulated["arrivals"] / weeks),
        arrival_profile_correlation=corr, waiting_hours=waits,
        utilisation=tuple(Figure(p, observed["util"].get(p), simulated["util"].get(p)) for p in pools),
        verdict=verdict, reproduced=ok, notes=tuple(result_notes),
    )


def _verdict(mean: Figure, model: SimulationModel) -> tuple[str, bool]:
    err = mean.error
    if err is None:
        return "cannot judge: no complete cases to compare", False
    pct = abs(err) * 100
    suffix = ("" if model.has_resources else
              " (stage history without start times: delays between stages, no resource queues)")
    if abs(err) <= GOOD:
        return f"reproduces mean cycle time within {max(math.ceil(pct), 1)}%{suffix}", True
    side = "longer" if err > 0 else "shorter"
    return (f"does not reproduce mean cycle time: simulated cases take {pct:.0f}% {side} "
            f"than observed{suffix}"), False


def _spans(log: EventLog, holdout: float | None) -> tuple[datetime, datetime, datetime, int, int]:
    """First and last timestamp, the holdout cut-off (case start), all cases, later cases."""
    t = log.table
    per_case = t.group_by("case_id").aggregate(first=ibis.coalesce(t.start, t.end).min())
    row = log.backend.execute(per_case.aggregate(
        lo=per_case.first.min(), n=per_case.count(),
        cut=per_case.first.quantile(1.0 - holdout) if holdout else per_case.first.min()))
    last = pd.Timestamp(log.backend.execute(t.end.max())).to_pydatetime()
    r = row.iloc[0]
    lo, cut = pd.Timestamp(r["lo"]).to_pydatetime(), pd.Timestamp(r["cut"]).to_pydatetime()
    n = int(r["n"])
    late = int(log.backend.execute(per_case.filter(per_case.first >= cut).count())) if holdout else n
    return lo, last, cut, n, late


def _cases_starting(log: EventLog, lo: datetime | None, hi: datetime | None) -> EventLog:
    t = log.table
    first = t.group_by("case_id").aggregate(first=ibis.coalesce(t.start, t.end).min())
    keep = first
    if lo is not None:
        keep = keep.filter(keep.first >= lo)
    if hi is not None:
        keep = keep.filter(keep.first < hi)
    table = t.semi_join(keep, "case_id")
    return log.with_table(backend.materialize(log.backend, table))


def _observed(log: EventLog, model: SimulationModel) -> dict[str, Any]:
    from simulation.calibrate import mostly_complete

    events = enrich(log)
    cases = case_table(events)
    # As calibration does: when most cases are not "complete", every case counts as ended
    # where it stopped, and the simulated cases are routed to end there too.
    c = cases.table.filter(cases.table.complete) if mostly_complete(cases) else cases.table
    # The figures come from every case, in the engine; the distribution for the Wasserstein
    # distance from at most SAMPLE cases, always the same ones (ordered by case id).
    row = log.backend.execute(c.aggregate(mean=c.cycle_h.mean(), median=c.cycle_h.median(),
                                          p90=c.cycle_h.quantile(0.9))).iloc[0]
    figures = {k: _f(row[k]) for k in ("mean", "median", "p90")}
    sample = c.order_by("case_id").select("cycle_h").limit(SAMPLE)
    values = log.backend.execute(sample)["cycle_h"].to_numpy(float)
    acts = activity_stats(events)
    total = float(acts["count"].sum()) or 1.0
    profile = _profile(log)
    return {
        "cycle": figures, "cycle_values": values,
        "share": {str(a): float(n) / total for a, n in zip(acts.activity, acts["count"], strict=True)},
        "wait": {str(a): _f(w) for a, w in zip(acts.activity, acts.wait_mean_h, strict=True)},
        "arrivals": float(profile.sum()), "profile": profile,
        "util": _observed_utilisation(log, model),
    }


def _simulated(runs: list[Any], model: SimulationModel) -> dict[str, Any]:
    values = np.concatenate([np.asarray(r.cycle_hours, dtype=float) for r in runs]) if runs else np.array([])
    shares: dict[str, float] = {}
    waits: dict[str, list[float]] = {}
    profiles = []
    util: dict[str, list[float]] = {}
    for r in runs:
        ev = r.events
        counts = ev["activity"].value_counts()
        for a, n in counts.items():
            shares[str(a)] = shares.get(str(a), 0.0) + float(n) / max(len(ev), 1) / len(runs)
        if not ev.empty:
            sim_log = to_event_log(r)
            frame = activity_stats(enrich(sim_log))
            for a, w in zip(frame.activity, frame.wait_mean_h, strict=True):
                if _f(w) is not None:
                    waits.setdefault(str(a), []).append(float(w))
            profiles.append(_profile(sim_log))
        for p, u in r.utilisation.items():
            if u is not None:  # None: the pool had no on-shift hours in the window
                util.setdefault(p, []).append(float(u))
    profile = np.mean(profiles, axis=0) if profiles else np.zeros(168)
    return {
        "cycle": _cycle_figures(values), "cycle_values": values, "share": shares,
        "wait": {a: float(np.mean(v)) for a, v in waits.items()},
        "arrivals": float(profile.sum()), "profile": profile,
        "util": {p: float(np.mean(v)) for p, v in util.items()},
    }


def _profile(log: EventLog) -> np.ndarray:
    """Case arrivals (first timestamps) per hour of the week, 168 counts."""
    t = log.table
    per_case = t.group_by("case_id").aggregate(first=ibis.coalesce(t.start, t.end).min())
    per_case = per_case.mutate(how=hour_of_week(per_case.first))
    frame = log.backend.execute(per_case.group_by("how").aggregate(n=per_case.count()))
    out = np.zeros(168)
    for h, n in zip(frame["how"], frame["n"], strict=True):
        out[int(h)] = float(n)
    return out


def _observed_utilisation(log: EventLog, model: SimulationModel) -> dict[str, float]:
    """Per pool of the model: working hours its members spent on activities (start to end, in
    the pool's calendar) over capacity x the calendar's working hours in the span."""
    if not model.has_resources or not log.has_start:
        return {}
    t = log.table
    lo = pd.Timestamp(log.backend.execute(ibis.coalesce(t.start, t.end).min())).to_pydatetime()
    hi = pd.Timestamp(log.backend.execute(t.end.max())).to_pydatetime()
    out: dict[str, float] = {}
    for pool in model.pools.values():
        if not pool.resources or pool.capacity <= 0:
            continue
        cal = Calendar.parse(pool.calendar)
        mine = t.filter(t.resource.isin(list(pool.resources)) & t.start.notnull())
        busy = log.backend.execute(cal.hours_between(mine.start, mine.end).sum())
        available = cal.working_hours(lo, hi) * pool.capacity
        if available > 0 and busy is not None:
            out[pool.name] = float(busy) / available
    return out


def _cycle_figures(values: np.ndarray) -> dict[str, float | None]:
    if values.size == 0:
        return {"mean": None, "median": None, "p90": None}
    return {"mean": float(values.mean()), "median": float(np.median(values)),
            "p90": float(np.quantile(values, 0.9))}


def _f(value: object) -> float | None:
    if value is None:
        return None
    x = float(value)  # type: ignore[arg-type]
    return x if math.isfinite(x) else None


def _r(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 4)


__all__ = ["GOOD", "Figure", "Validation", "validate"]
