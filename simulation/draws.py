"""Every random draw of a simulation run: seeded streams, samplers, arrivals and case plans.

Common random numbers (see `simulation.engine`) depend on each value coming from a fixed
stream in a fixed order, so everything that draws lives in this one module and the engine
only consumes the results: arrival instants, case attributes and ranks, and each case's
planned steps (`_Planner.steps`). A change to how numbers are drawn is made here, and it
changes the engine's output for a given seed; a change to how cases queue is not.
"""

from __future__ import annotations

import math
import zlib
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from processmine.errors import ConfigError
from simulation.model import END, START, Distribution, SimulationModel, normalised
from simulation.pools import _WEEK, Floats, _Pool

#: Columns of `SimResult.events` before the case attributes (no case attribute may take one).
EVENT_COLUMNS = ("case_id", "activity", "start", "end", "resource")

_BLOCK = 512          # draws fetched from a stream per numpy call
_ROUTE_BLOCK = 8      # routing draws reserved per case (longer paths use an overflow stream)
_MAX_STEPS = 10_000   # a path longer than this means END cannot be reached
# Stream keys under the seed; never reorder (the same seed must give the same run).
_ARRIVALS, _ATTRIBUTES, _ROUTING, _DURATIONS, _DELAYS = range(5)

Step = tuple[int, _Pool | None, float, float]   # activity, pool, work hours, delay hours


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


def _activity_ranks(model: SimulationModel, names: list[str]) -> list[int]:
    """Per activity (by index), what its `queue_priority` adds to a case's queue rank: a step
    up outranks every case priority, so the activity's level decides first."""
    stride = len(model.priority_order) + 1 if model.priority is not None else 1
    return [-model.activities[name].queue_priority * stride for name in names]


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


__all__ = ["EVENT_COLUMNS", "Step"]
