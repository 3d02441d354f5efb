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
"""

from __future__ import annotations

import gc
import math
import zlib
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import simpy
from simpy.events import Timeout

from processmine.errors import ConfigError
from processmine.mining.calendar import Calendar
from simulation.model import END, START, Distribution, SimulationModel, check, normalised

if TYPE_CHECKING:
    from processmine.log import EventLog

Floats = npt.NDArray[np.float64]
#: Columns of `SimResult.events` before the case attributes.
EVENT_COLUMNS = ("case_id", "activity", "start", "end", "resource")

_WEEK = 168.0
_EPS = 1e-9           # hours (3.6 microseconds): float noise at calendar boundaries
_BLOCK = 512          # draws fetched from a stream per numpy call
_ROUTE_BLOCK = 8      # routing draws reserved per case (longer paths use an overflow stream)
_MAX_STEPS = 10_000   # a path longer than this means END cannot be reached
# Stream keys under the seed; never reorder (the same seed must give the same run).
_ARRIVALS, _ATTRIBUTES, _ROUTING, _DURATIONS, _DELAYS = range(5)

Step = tuple[int, "_Pool | None", float, float]   # activity, pool, work hours, delay hours
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
    records: list[Record] = []
    done = [math.inf] * len(times)
    env.process(_arrive(env, times, planner, ranks, records, done))
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


# --- random streams ---------------------------------------------------------------------------


def _root(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    try:
        return np.random.SeedSequence(seed)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"seed {seed!r}: expected an integer >= 0") from err


def _stream(root: np.random.SeedSequence, *key: int) -> np.random.Generator:
    """The generator under `key`, built without `spawn` (which would change `root`)."""
    child = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, *key),
                                   pool_size=root.pool_size)
    return np.random.default_rng(child)


def _name_key(text: str) -> int:
    """A key that is the same in every process (Python's `hash` of a str is not)."""
    return zlib.crc32(text.encode("utf-8"))


class _Draws:
    """One stream's values fetched a block at a time: one numpy call per block, not per draw."""

    __slots__ = ("_fill", "_next", "_size", "_values")

    def __init__(self, fill: Callable[[int], Floats], size: int = _BLOCK) -> None:
        self._fill, self._size = fill, size
        self._values: list[float] = []
        self._next = 0

    def __call__(self) -> float:
        i = self._next
        if i == len(self._values):
            self._values, i = self._fill(self._size).tolist(), 0
        self._next = i + 1
        return self._values[i]

    def take(self, k: int) -> list[float]:
        """The next `k` values (the block size must be a multiple of `k`)."""
        i = self._next
        if i == len(self._values):
            self._values, i = self._fill(self._size).tolist(), 0
        self._next = i + k
        return self._values[i:i + k]


def _sampler(dist: Distribution, rng: np.random.Generator, what: str) -> Callable[[int], Floats]:
    """`Distribution.sample` for n draws at once: same kinds, floored at 0, times `factor`."""
    p, factor = dist.params, dist.factor
    values = np.asarray(dist.values, dtype=float)

    def draw(n: int) -> Floats:
        if dist.kind == "exponential":
            x = rng.exponential(p["mean"], n)
        elif dist.kind == "lognormal":
            x = rng.lognormal(p["mu"], p["sigma"], n)
        elif dist.kind == "gamma":
            x = rng.gamma(p["shape"], p["scale"], n)
        elif dist.kind == "weibull":
            x = p["scale"] * rng.weibull(p["shape"], n)
        elif dist.kind == "fixed":
            x = np.full(n, p["value"])
        else:
            x = values[rng.integers(len(values), size=n)]
        return np.asarray(np.maximum(x, 0.0) * factor, dtype=float)

    try:
        dist.sample(np.random.default_rng(0))
    except ValueError as err:
        raise ConfigError(f"{what}: {dist.kind} distribution {dict(p)}: {err}") from None
    return draw


# --- arrivals and attributes ------------------------------------------------------------------


def _arrival_times(model: SimulationModel, rng: np.random.Generator, first: float,
                   horizon: float) -> list[float]:
    """Arrival instants in (first, horizon), on the engine clock.

    A weekly profile is a Poisson process whose rate is constant within each hour of the week:
    unit exponential gaps on the cumulative rate, mapped back through its inverse.
    """
    arrivals = model.arrivals
    factor = arrivals.factor
    if not (factor >= 0 and math.isfinite(factor)):
        raise ConfigError(f"arrivals.factor {factor}: expected a number >= 0")
    if factor == 0:
        return []
    if arrivals.weekly_rate is not None:
        rate = np.asarray(arrivals.weekly_rate, dtype=float) * factor
        if not np.all(np.isfinite(rate)) or np.any(rate < 0):
            raise ConfigError("arrivals.weekly_rate: expected 168 numbers >= 0 (cases per hour)")
        cum = np.concatenate(([0.0], np.cumsum(rate)))
        week = float(cum[-1])
        if week == 0:
            return []

        def total(u: float) -> float:
            k, r = divmod(u, _WEEK)
            h = min(int(r), 167)
            return float(k * week + cum[h] + (r - h) * rate[h])

        lo, hi = total(first), total(horizon)
        x = lo + _cumulative(rng.standard_exponential, hi - lo)
        k = np.floor(x / week)
        rem = x - k * week
        hour = np.clip(np.searchsorted(cum, rem, side="right") - 1, 0, 167)
        inside = np.divide(rem - cum[hour], rate[hour], out=np.zeros_like(rem),
                           where=rate[hour] > 0)
        times = k * _WEEK + hour + np.clip(inside, 0.0, 1.0)
        return [float(t) for t in times if first < t < horizon]
    gaps_dist = arrivals.interarrival
    if gaps_dist is None:  # Arrivals refuses this; kept for the type checker
        return []
    if gaps_dist.mean <= 0:
        raise ConfigError("arrivals.interarrival has mean 0: cases would arrive without end")
    gaps = _sampler(gaps_dist, rng, "arrivals.interarrival")
    span = (horizon - first) * factor
    x = _cumulative(gaps, span, mean=gaps_dist.mean)
    return [float(t) for t in first + x / factor if t < horizon]


def _cumulative(draw: Callable[[int], Floats], span: float, mean: float = 1.0) -> Floats:
    """Running sums of draws, until they pass `span` (the last one is past it)."""
    expected = span / mean
    size = int(expected + 5 * math.sqrt(expected) + 16)
    parts: list[Floats] = []
    total = 0.0
    while total <= span:
        part = total + np.cumsum(draw(size))
        parts.append(part)
        total = float(part[-1])
    return np.concatenate(parts)


def _attribute_codes(model: SimulationModel, rng: np.random.Generator, n: int) -> list[list[int]]:
    """Per attribute (model order), the index of each case's value."""
    codes = []
    seen: set[str] = set()
    for attr in model.attributes:
        if attr.name in EVENT_COLUMNS or attr.name in seen:
            raise ConfigError(f"case attribute {attr.name!r}: the name is used twice or is one of "
                              f"{', '.join(EVENT_COLUMNS)}; rename it")
        seen.add(attr.name)
        if len(attr.values) != len(attr.probabilities) or not attr.values:
            raise ConfigError(f"case attribute {attr.name!r}: {len(attr.values)} values and "
                              f"{len(attr.probabilities)} probabilities; expected as many of each")
        cdf = _cdf(attr.probabilities, f"case attribute {attr.name!r}")
        drawn = np.searchsorted(cdf, rng.random(n), side="right")
        codes.append(np.minimum(drawn, len(cdf) - 1).tolist())
    return codes


def _ranks(model: SimulationModel, codes: list[list[int]], n: int) -> list[int]:
    """Queue rank of each case: its priority value's place in `priority_order` (lower first)."""
    if model.priority is None:
        return [0] * n
    names = [a.name for a in model.attributes]
    if model.priority not in names:
        raise ConfigError(f"priority attribute {model.priority!r} is not a case attribute; "
                          f"expected one of {', '.join(names) or '(none)'}")
    attr = model.attributes[names.index(model.priority)]
    order = {v: i for i, v in enumerate(model.priority_order)}
    rank_of = [order.get(v, len(order)) for v in attr.values]
    return [rank_of[c] for c in codes[names.index(model.priority)]]


# --- routing and the plan of each case ----------------------------------------------------------


class _Planner:
    """Draws each case's path, delays and processing times when it arrives (see the module)."""

    def __init__(self, model: SimulationModel, index: dict[str, int], codes: list[list[int]],
                 pools: dict[str, _Pool], root: np.random.SeedSequence) -> None:
        n = len(index)
        self._start, self._variant_mode = n, model.routing.mode == "variants"
        self._uniforms = _Draws(_stream(root, _ROUTING, 0).random, _BLOCK * _ROUTE_BLOCK)
        self._overflow = _Draws(_stream(root, _ROUTING, 1).random)
        self._pool: list[_Pool | None] = [
            pools[a.pool] if a.pool is not None and model.has_resources else None
            for a in model.activities.values()]
        self._work = [_Draws(_sampler(a.duration, _stream(root, _DURATIONS, _name_key(name)),
                                      f"activity {name!r}"))
                      for name, a in model.activities.items()]
        self._delays: dict[tuple[int, int], tuple[float, _Draws, _Draws]] = {}
        for d in model.delays:
            edge = (self._node(index, d.source, "delay source"), self._node(index, d.target,
                                                                            "delay target"))
            if edge[1] < 0:
                continue  # a delay before END delays nothing that the log could show
            if not 0 <= d.probability <= 1:
                raise ConfigError(f"delay {d.source!r} -> {d.target!r}: probability "
                                  f"{d.probability} is not within 0..1")
            key = _name_key(f"{d.source}\x1f{d.target}")
            hours = _sampler(d.distribution, _stream(root, _DELAYS, key, 1),
                             f"delay {d.source!r} -> {d.target!r}")
            self._delays[edge] = (d.probability, _Draws(_stream(root, _DELAYS, key, 0).random),
                                  _Draws(hours))
        self._table_of: Callable[[int], int] = lambda case: 0
        if self._variant_mode:
            self._variants = [tuple(self._node(index, a, "variant step") for a in path)
                              for path, _ in model.routing.variants]
            self._variant_cdf = _cdf([p for _, p in model.routing.variants], "routing.variants")
            return
        routing = model.routing
        self._tables = [self._table(index, routing.transitions)]
        if routing.by is not None:
            names = [a.name for a in model.attributes]
            if routing.by not in names:
                raise ConfigError(f"routing.by {routing.by!r} is not a case attribute; expected "
                                  f"one of {', '.join(names) or '(none)'}")
            attr = model.attributes[names.index(routing.by)]
            table_of_value = []
            for value in attr.values:
                if value in routing.conditioned:
                    self._tables.append(self._table(index, {**routing.transitions,
                                                            **routing.conditioned[value]}))
                    table_of_value.append(len(self._tables) - 1)
                else:
                    table_of_value.append(0)
            by_codes = codes[names.index(routing.by)]
            self._table_of = lambda case: table_of_value[by_codes[case]]

    def _node(self, index: dict[str, int], name: str, what: str) -> int:
        if name == START:
            return self._start
        if name == END:
            return -1
        if name not in index:
            raise ConfigError(f"{what} {name!r} is not an activity of the model")
        return index[name]

    def _table(self, index: dict[str, int], rows: Any) -> dict[int, tuple[list[int], list[float]]]:
        table = {}
        for source, row in rows.items():
            p = normalised(row)
            if p:
                targets = [self._node(index, t, "routing target") for t in p]
                table[self._node(index, source, "routing source")] = (
                    targets, _cdf(list(p.values()), f"routing from {source!r}"))
        return table

    def steps(self, case: int) -> list[Step]:
        """The case's steps in order: (activity, pool, working hours, delay hours before it)."""
        pool, work = self._pool, self._work
        if not self._delays:
            return [(act, pool[act], work[act](), 0.0) for act in self._path(case)]
        previous = self._start
        steps: list[Step] = []
        for act in self._path(case):
            delay = 0.0
            spec = self._delays.get((previous, act))
            if spec is not None:
                hit, hours = spec[1]() < spec[0], spec[2]()   # both drawn: CRN across scenarios
                delay = hours if hit else 0.0
            steps.append((act, pool[act], work[act](), delay))
            previous = act
        return steps

    def _path(self, case: int) -> Sequence[int]:
        u = self._uniforms.take(_ROUTE_BLOCK)
        if self._variant_mode:
            return self._variants[bisect_right(self._variant_cdf, u[0])]
        table = self._tables[self._table_of(case)]
        path: list[int] = []
        current = self._start
        while (row := table.get(current)) is not None:
            j = len(path)
            targets = row[0]
            if len(targets) == 1:
                current = targets[0]   # its draw is skipped but still reserved for this case
            else:
                x = u[j] if j < _ROUTE_BLOCK else self._overflow()
                current = targets[bisect_right(row[1], x)]
            if current < 0:
                break
            path.append(current)
            if j > _MAX_STEPS:
                raise ConfigError(f"routing: a case made {_MAX_STEPS} steps without reaching "
                                  "END; check that every loop can be left")
        return path


def _cdf(weights: Sequence[float], what: str) -> list[float]:
    total = float(sum(weights))
    if not (total > 0 and math.isfinite(total)) or any(not (w >= 0) for w in weights):
        raise ConfigError(f"{what}: probabilities must be >= 0 and not all 0")
    cdf = np.cumsum(np.asarray(weights, dtype=float) / total).tolist()
    cdf[-1] = 1.0
    return [float(c) for c in cdf]


# --- pools and their calendars ----------------------------------------------------------------


class _Clock:
    """A calendar's working time on the engine clock, by bisection on one week's intervals.

    Parsed once per pool. `worked(u)` counts working hours from the clock's origin, so working
    time between two instants is a difference, and adding working hours is its inverse.
    """

    def __init__(self, calendar: Calendar) -> None:
        spans: list[list[float]] = []
        for day, intervals in enumerate(calendar.weekly):
            for a, b in intervals:
                lo, hi = day * 24 + a / 60, day * 24 + b / 60
                if spans and spans[-1][1] == lo:   # across midnight: one interval
                    spans[-1][1] = hi
                else:
                    spans.append([lo, hi])
        self.starts = [s[0] for s in spans]
        self.ends = [s[1] for s in spans]
        self.before = [0.0]
        for lo, hi in spans:
            self.before.append(self.before[-1] + hi - lo)
        self.week = self.before.pop()
        self.done_by = [b + hi - lo for b, (lo, hi) in zip(self.before, spans, strict=True)]

    def is_open(self, u: float) -> bool:
        r = u % _WEEK
        i = bisect_right(self.starts, r + _EPS) - 1
        return i >= 0 and r < self.ends[i] - _EPS

    def next_open(self, u: float) -> float:
        """`u` when open, else the next opening; infinity for a calendar without work."""
        if not self.starts:
            return math.inf
        if self.is_open(u):
            return u
        k, r = divmod(u, _WEEK)
        i = bisect_right(self.starts, r + _EPS)
        if i < len(self.starts) and self.starts[i] > r:
            return k * _WEEK + self.starts[i]
        return (k + 1) * _WEEK + self.starts[0]

    def worked(self, u: float) -> float:
        k, r = divmod(u, _WEEK)
        i = bisect_right(self.starts, r) - 1
        inside = 0.0 if i < 0 else self.before[i] + min(r, self.ends[i]) - self.starts[i]
        return k * self.week + inside

    def worked_many(self, u: Floats) -> Floats:
        k = np.floor(u / _WEEK)
        r = u - k * _WEEK
        i = np.searchsorted(np.asarray(self.starts), r, side="right") - 1
        j = np.maximum(i, 0)
        inside = (np.asarray(self.before)[j] + np.minimum(r, np.asarray(self.ends)[j])
                  - np.asarray(self.starts)[j])
        return np.asarray(k * self.week + np.where(i >= 0, inside, 0.0), dtype=float)

    def add(self, u: float, hours: float) -> float:
        """The instant at which `hours` of work started at `u` are done; work that fits exactly
        ends at the close of an interval, not at the next opening."""
        if hours <= 0:
            return u
        k, rem = divmod(self.worked(u) + hours, self.week)
        if rem < _EPS:
            k, rem = k - 1, rem + self.week
        i = min(bisect_left(self.done_by, rem - _EPS), len(self.done_by) - 1)
        return k * _WEEK + self.starts[i] + (rem - self.before[i])


class _Pool:
    """Interchangeable members who start work only on shift; waiting requests in rank, then
    arrival order. Members are handed out least recently released first."""

    __slots__ = ("_seq", "_wake_pending", "clock", "env", "free", "waiting")

    def __init__(self, env: simpy.Environment, clock: _Clock | None, members: range) -> None:
        self.env, self.clock = env, clock
        self.free: deque[int] = deque(members)
        self.waiting: list[tuple[int, int, simpy.Event]] = []
        self._seq = 0
        self._wake_pending = False

    def take(self) -> int:
        """A free member when one can start now and nobody waits, else -1."""
        if self.free and not self.waiting and (self.clock is None
                                               or self.clock.is_open(self.env.now)):
            return self.free.popleft()
        return -1

    def wait(self, rank: int) -> simpy.Event:
        """An event whose value is the member, once one is free and on shift."""
        event = simpy.Event(self.env)
        heappush(self.waiting, (rank, self._seq, event))
        self._seq += 1
        if self.free:   # closed: members are idle until the next opening
            self._wake()
        return event

    def give(self, member: int) -> None:
        clock = self.clock
        if self.waiting and (clock is None or clock.is_open(self.env.now)):
            heappop(self.waiting)[2].succeed(member)
            return
        self.free.append(member)
        if self.waiting:
            self._wake()

    def _wake(self) -> None:
        if self._wake_pending or self.clock is None:
            return
        at = self.clock.next_open(self.env.now)
        if math.isinf(at):
            return  # a pool without working time never serves
        self._wake_pending = True
        self.env.timeout(max(at - self.env.now, 0.0)).callbacks.append(self._open)

    def _open(self, _: simpy.Event) -> None:
        self._wake_pending = False
        while self.free and self.waiting:
            if self.clock is not None and not self.clock.is_open(self.env.now):
                self._wake()
                return
            heappop(self.waiting)[2].succeed(self.free.popleft())


def _pools(model: SimulationModel, env: simpy.Environment
           ) -> tuple[dict[str, _Pool], list[str], list[str]]:
    """The pools, every member's name, and each member's pool (members numbered globally)."""
    pools: dict[str, _Pool] = {}
    members: list[str] = []
    member_pool: list[str] = []
    if not model.has_resources:
        return pools, members, member_pool
    clocks: dict[str, _Clock | None] = {}
    for key, pool in model.pools.items():
        if pool.calendar not in clocks:
            clock = _Clock(Calendar.parse(pool.calendar))
            clocks[pool.calendar] = None if clock.week >= _WEEK else clock   # 24/7: no arithmetic
        names = pool.member_names()
        pools[key] = _Pool(env, clocks[pool.calendar], range(len(members), len(members) + len(names)))
        members += names
        member_pool += [key] * len(names)
    return pools, members, member_pool


# --- the SimPy processes ------------------------------------------------------------------------


def _arrive(env: simpy.Environment, times: list[float], planner: _Planner, ranks: list[int],
            records: list[Record], done: list[float]) -> Generator[simpy.Event, Any, None]:
    process, steps = env.process, planner.steps
    for case, at in enumerate(times):
        if at > env.now:
            yield Timeout(env, at - env.now)
        process(_case(env, case, at, steps(case), ranks[case], records, done))


def _case(env: simpy.Environment, case: int, t: float, steps: list[Step], rank: int,
          records: list[Record], done: list[float]) -> Generator[simpy.Event, Any, None]:
    """One case: its steps in order. Steps without a pool need no event: their times follow
    from the case's own clock `t`, which the process catches up with before it queues."""
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
            member = yield pool.wait(rank)
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
