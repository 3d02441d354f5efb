"""The SimPy engine: runs a `SimulationModel` and writes a simulated event log.

The engine moves time and writes one flat record per activity instance; every figure, map and
report then reads the result as an ordinary `EventLog` (`to_event_log`), so whatever mining
says about a real log it says about a simulated one.

How time works. The clock counts hours from the Monday 00:00 of the week in which the run
starts, so the weekly arrival profile and the calendars are plain arithmetic on it. A pool's
members start work only inside the pool's calendar: a request made off shift queues, and at the
next opening the queue is served in priority order (so a P1 that arrived at night goes before
the P3s that arrived earlier). Work in progress pauses at the end of the working day and
resumes, with the same member, at the next start (processing times are working hours).
Extraneous delays, inter-arrival times and the durations of activities without a pool are
clock hours. A case routed straight from an activity with no routing row ends there.

Random numbers (common random numbers). Independent streams are derived from the seed, each
under a fixed key: arrivals, attributes, routing, one stream per activity's durations (keyed
by a CRC-32 of its name) and one per delayed edge. Every draw is made when the case arrives,
in arrival order: its attributes, its whole path, each step's delay and processing time. So a
scenario that changes one activity changes neither the arrivals nor the paths nor any other
activity's draws of any case; only the queues differ, which is what makes the difference
between two scenarios less noisy than two independent runs.

This module holds the run itself (the SimPy processes) and the summary of its records; the
pools and their calendar clock are in `simulation.pools`, the random streams and the plan of
each case in `simulation.draws`.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Generator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import simpy
from simpy.events import Timeout

from processmine.errors import ConfigError
from processmine.mining.calendar import Calendar
from simulation.draws import (
    _ARRIVALS,
    _ATTRIBUTES,
    EVENT_COLUMNS,
    Step,
    _activity_ranks,
    _arrival_times,
    _attribute_codes,
    _Planner,
    _ranks,
    _root,
    _stream,
)
from simulation.model import SimulationModel, check
from simulation.pools import _WEEK, Floats, _Clock, _pools

if TYPE_CHECKING:
    from processmine.log import EventLog

Record = tuple[int, int, float, float, float, int, float]


@dataclass(frozen=True, eq=False)
class SimResult:
    """One simulation run: the simulated log and the figures of its measured window.

    `events` has one row per activity instance finished before `end`, ordered by case and then
    by the order of the case's steps: `case_id` ("SIM-000001", numbered in arrival order over
    the whole run), `activity`, `start`, `end` (naive UTC), `resource` (a member name, None
    without a pool), then one column per case attribute. Cases that arrived during the warm-up
    (before `measured_from`) are left out of `events` and of every figure; pool figures count
    the working time inside [`measured_from`, `end`).

    `busy_hours` are the pool's working hours spent on work, `available_hours` its members'
    on-shift hours, `utilisation` their ratio (None without on-shift hours). `cycle_hours` are
    the completed cases' first start to last end in clock hours (as `case_table` measures a
    log); a case routed straight to END has no events and a cycle of 0. `waits` is the mean
    queue plus extraneous delay, in clock hours, before each activity starts. `cost_per_case`
    is the mean over completed cases of the activities' costs plus the pool's hourly cost of
    their working hours, None when the model has no costs or no case completed. `instances`
    counts every activity instance simulated (warm-up and unfinished ones too): the engine's
    throughput.
    """

    events: pd.DataFrame
    arrivals: int
    completed: int
    open_cases: int
    busy_hours: dict[str, float]
    available_hours: dict[str, float]
    utilisation: dict[str, float | None]
    cost_per_case: float | None
    cycle_hours: Floats
    waits: dict[str, float]
    start: datetime
    end: datetime
    measured_from: datetime
    instances: int
    in_progress_hours: float = 0.0


def simulate(
    model: SimulationModel, *, start: datetime, end: datetime,
    seed: int | np.random.SeedSequence, warmup: timedelta | None = None,
) -> SimResult:
    """Run `model` with arrivals from `start` to `end`; stop the clock at `end`.

    Activity instances not finished by `end` are left out and their cases stay open. With
    `warmup`, cases arriving before `start + warmup` are simulated (they fill the queues) but
    left out of the result, so measurement does not begin with an empty system. The same
    `seed` gives the same result. Aware datetimes are converted to naive UTC.

    Raises ConfigError for a model the engine cannot run (naming the problem) or a window
    that is empty.
    """
    start, end = _naive(start), _naive(end)
    warm = warmup if warmup is not None else timedelta(0)
    if end <= start:
        raise ConfigError(f"simulation end {end} is not after its start {start}")
    if warm < timedelta(0) or start + warm >= end:
        raise ConfigError(f"warm-up {warm} must be >= 0 and shorter than the run ({end - start})")
    check(model)
    names = list(model.activities)
    index = {name: i for i, name in enumerate(names)}
    root = _root(seed)
    monday = datetime.combine(start.date() - timedelta(days=start.weekday()), time())
    first, horizon = _hours(start - monday), _hours(end - monday)
    measured = _hours(start + warm - monday)

    times = _arrival_times(model, _stream(root, _ARRIVALS), first, horizon)
    codes = _attribute_codes(model, _stream(root, _ATTRIBUTES), len(times))
    env = simpy.Environment(initial_time=first)
    pools, members, member_pool = _pools(model, env)
    planner = _Planner(model, index, codes, pools, root)
    ranks = _ranks(model, codes, len(times))
    act_ranks = _activity_ranks(model, names)
    records: list[Record] = []
    done = [math.inf] * len(times)
    env.process(_arrive(env, times, planner, ranks, act_ranks, records, done))
    _run(env, horizon)
    return _summarise(model, names, members, member_pool, times, codes, records, done,
                      _Window(monday, measured, horizon, start, end, len(times)))


def to_event_log(result: SimResult, source: str = "simulation") -> EventLog:
    """The simulated events as a processmine EventLog, so every mining function applies."""
    import ibis

    from processmine.mapping import ColumnMapping
    from processmine.reader import read_log

    if result.events.empty:
        raise ConfigError("the simulation finished no activity in its measured window, so there "
                          "is no log to mine; run it longer or check the arrivals")
    mapping = ColumnMapping(case_id="case_id", activity="activity", end="end", start="start",
                            resource="resource")
    log = read_log(ibis.memtable(result.events), mapping)
    return replace(log, source=source)


# --- the SimPy processes ------------------------------------------------------------------------


def _arrive(env: simpy.Environment, times: list[float], planner: _Planner, ranks: list[int],
            act_ranks: list[int], records: list[Record],
            done: list[float]) -> Generator[simpy.Event, Any, None]:
    process, steps = env.process, planner.steps
    for case, at in enumerate(times):
        if at > env.now:
            yield Timeout(env, at - env.now)
        process(_case(env, case, at, steps(case), ranks[case], act_ranks, records, done))


def _case(env: simpy.Environment, case: int, t: float, steps: list[Step], rank: int,
          act_ranks: list[int], records: list[Record],
          done: list[float]) -> Generator[simpy.Event, Any, None]:
    """One case: its steps in order. Steps without a pool need no event: their times follow
    from the case's own clock `t`, which the process catches up with before it queues. A
    step waits in its pool's queue with the case's rank plus its activity's (`_activity_ranks`)."""
    append = records.append
    for act, pool, work, delay in steps:
        ready = t
        t += delay
        if pool is None:
            append((case, act, ready, t, t + work, -1, work))
            t += work
            continue
        now = env.now
        if t > now:
            yield Timeout(env, t - now)
        member = pool.take()
        if member < 0:
            member = yield pool.wait(rank + act_ranks[act])
        begin = env.now
        clock = pool.clock
        t = begin + work if clock is None else clock.add(begin, work)
        append((case, act, ready, begin, t, member, work))
        yield Timeout(env, t - begin)
        pool.give(member)
    done[case] = t


def _run(env: simpy.Environment, until: float) -> None:
    """`env.run(until)` with Python's cyclic garbage collector paused (and then restored).

    A run allocates an event, a generator or a tuple for every step, so the collector kicks
    in dozens to hundreds of times, and its full passes walk every live object (the planned
    steps of all queued cases, and every module loaded). On the support sample that was a
    few percent of a 26-week run's CPU time, 13% at four times its demand and staff, and 45%
    when overloaded queues keep many cases alive (benchmarks/simulation.py). The engine makes
    almost no reference cycles (400 garbage objects in that 26-week run, 1,500 at four times
    the demand), so pausing the collector costs no memory to speak of. Reference counting,
    which frees everything else, is unaffected; results are the same.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        env.run(until=until)
    finally:
        if collecting:
            gc.enable()


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    monday: datetime        # the clock's origin
    measured: float         # start of measurement (after the warm-up)
    horizon: float          # run end
    start: datetime
    end: datetime
    cases: int              # arrivals over the whole run (for the width of case ids)


def _summarise(model: SimulationModel, names: list[str], members: list[str],
               member_pool: list[str], times: list[float], codes: list[list[int]],
               records: list[Record], done: list[float], w: _Window) -> SimResult:
    rec = np.array(records, dtype=float).reshape(-1, 7)
    case, act = rec[:, 0].astype(np.int64), rec[:, 1].astype(np.int64)
    ready, begin, finish, member, work = rec[:, 2], rec[:, 3], rec[:, 4], rec[:, 5], rec[:, 6]
    member_i = member.astype(np.int64)
    arrival = np.asarray(times, dtype=float)
    in_window = arrival >= w.measured
    finished_at = np.asarray(done, dtype=float)
    complete = in_window & (finished_at < w.horizon)

    kept = in_window[case] & (finish < w.horizon) if len(rec) else np.zeros(0, dtype=bool)
    order = np.argsort(case[kept], kind="stable")
    events = _events(model, names, members, codes, w,
                     case[kept][order], act[kept][order], begin[kept][order],
                     finish[kept][order], member_i[kept][order])

    first_start = np.full(len(times), np.inf)
    np.minimum.at(first_start, case[kept], begin[kept])
    first_start = np.where(np.isinf(first_start), finished_at, first_start)
    cycle = finished_at[complete] - first_start[complete]

    waits: dict[str, float] = {}
    delay = (begin - ready)[kept]
    for i, name in enumerate(names):
        sel = act[kept] == i
        if sel.any():
            waits[name] = float(delay[sel].mean())

    busy, available, utilisation = _pool_hours(model, member_pool, member_i, begin, finish, w)
    return SimResult(
        events=events, arrivals=int(in_window.sum()), completed=int(complete.sum()),
        open_cases=int(in_window.sum() - complete.sum()), busy_hours=busy,
        available_hours=available, utilisation=utilisation,
        cost_per_case=_cost(model, names, member_pool, case, act, member_i, work, complete),
        cycle_hours=np.asarray(cycle, dtype=float), waits=waits, start=w.start, end=w.end,
        measured_from=w.monday + timedelta(hours=w.measured), instances=len(rec),
        # Hours the measured cases spent in the process (arrival to finish, or to the end of
        # the run when still open): the time-weighted work in progress, open cases included.
        in_progress_hours=float((np.minimum(finished_at[in_window], w.horizon)
                                 - arrival[in_window]).clip(min=0).sum()),
    )


def _events(model: SimulationModel, names: list[str], members: list[str],
            codes: list[list[int]], w: _Window, case: npt.NDArray[np.int64],
            act: npt.NDArray[np.int64], begin: Floats, finish: Floats,
            member: npt.NDArray[np.int64]) -> pd.DataFrame:
    width = max(6, len(str(w.cases)))
    seen, where = np.unique(case, return_inverse=True)
    ids = np.char.add("SIM-", np.char.zfill((seen + 1).astype(str), width)) if len(seen) else seen
    origin = np.datetime64(w.monday, "us")
    resource = np.array([None, *members], dtype=object)
    frame: dict[str, Any] = {
        "case_id": _text(np.asarray(ids)[where]),
        "activity": _text(np.array(names, dtype=object)[act]),
        "start": origin + np.rint(begin * 3.6e9).astype("timedelta64[us]"),
        "end": origin + np.rint(finish * 3.6e9).astype("timedelta64[us]"),
        "resource": _text(resource[member + 1]),
    }
    for attr, attr_codes in zip(model.attributes, codes, strict=True):
        values = np.array(attr.values, dtype=object)
        frame[attr.name] = _text(values[np.asarray(attr_codes, dtype=np.int64)[case]])
    return pd.DataFrame(frame)


def _text(values: npt.NDArray[Any]) -> Any:
    """A string column, typed as text even when empty (so the engine can hold it)."""
    return pd.array(values.astype(object), dtype="str")


def _pool_hours(model: SimulationModel, member_pool: list[str], member: npt.NDArray[np.int64],
                begin: Floats, finish: Floats, w: _Window
                ) -> tuple[dict[str, float], dict[str, float], dict[str, float | None]]:
    busy: dict[str, float] = {}
    available: dict[str, float] = {}
    utilisation: dict[str, float | None] = {}
    if not model.has_resources:
        return busy, available, utilisation
    pool_of = np.array(member_pool + [""], dtype=object)[member]   # -1 (no pool) -> ""
    for key, pool in model.pools.items():
        clock = _Clock(Calendar.parse(pool.calendar))
        sel = pool_of == key
        lo = np.maximum(begin[sel], w.measured)
        hi = np.minimum(finish[sel], w.horizon)
        if clock.week >= _WEEK:
            hours = np.maximum(hi - lo, 0.0)
            on_shift = w.horizon - w.measured
        elif clock.week == 0:
            hours, on_shift = np.zeros(0), 0.0
        else:
            hours = np.maximum(clock.worked_many(hi) - clock.worked_many(lo), 0.0)
            on_shift = clock.worked(w.horizon) - clock.worked(w.measured)
        busy[key] = float(hours.sum())
        available[key] = float(pool.capacity * on_shift)
        utilisation[key] = busy[key] / available[key] if available[key] > 0 else None
    return busy, available, utilisation


def _cost(model: SimulationModel, names: list[str], member_pool: list[str],
          case: npt.NDArray[np.int64], act: npt.NDArray[np.int64],
          member: npt.NDArray[np.int64], work: Floats, complete: npt.NDArray[np.bool_]
          ) -> float | None:
    per_run = np.array([model.activities[n].cost for n in names] or [0.0], dtype=float)
    hourly = np.array([model.pools[p].hourly_cost for p in member_pool] + [0.0], dtype=float)
    if not (per_run.any() or hourly.any()) or not complete.any():
        return None
    cost = per_run[act] + hourly[member] * work
    per_case = np.bincount(case, weights=cost, minlength=len(complete))
    return float(per_case[complete].mean())


def _naive(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo is not None else t


def _hours(span: timedelta) -> float:
    return span.total_seconds() / 3600


__all__ = ["EVENT_COLUMNS", "SimResult", "simulate", "to_event_log"]
