"""SimulationModel: a plain, typed, serialisable description of a process to simulate.

Calibration writes one from a log (`simulation.calibrate`), a person may edit it by hand (it is
saved as TOML or JSON), scenarios change it (`simulation.scenarios`), and the engine runs it
(`simulation.engine`). Keeping it plain data, with no SimPy or engine objects inside, is what
lets all four work on the same thing.

Units: every duration is in **hours**. Processing times are *working* hours of the activity's
pool (work pauses outside its calendar); extraneous delays and inter-arrival times are clock
hours. Calendars are written in the text form of `processmine.mining.calendar.Calendar`
(`"Mon-Fri 08:00-18:00"`, `"24/7"`).
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from processmine.errors import ConfigError

#: Pseudo-activities that begin and end every case in the routing table.
START = "__start__"
END = "__end__"
KINDS = ("exponential", "lognormal", "gamma", "weibull", "empirical", "fixed")
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Distribution:
    """A distribution of durations in hours.

    `kind` and `params`:
    - `exponential`: `mean`;
    - `lognormal`: `mu`, `sigma` (of the log of the hours);
    - `gamma`: `shape`, `scale`;
    - `weibull`: `shape`, `scale`;
    - `fixed`: `value`;
    - `empirical`: `values` holds the observed hours (or their quantiles), sampled uniformly.
    `factor` multiplies every sample (an automation that makes the step 20x faster sets 0.05),
    so an edited model keeps its fitted shape.
    """

    kind: str
    params: Mapping[str, float] = field(default_factory=dict)
    values: tuple[float, ...] = ()
    factor: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"distribution kind {self.kind!r}: expected one of {', '.join(KINDS)}")
        need = {"exponential": {"mean"}, "lognormal": {"mu", "sigma"}, "gamma": {"shape", "scale"},
                "weibull": {"shape", "scale"}, "fixed": {"value"}, "empirical": set()}[self.kind]
        missing = need - set(self.params)
        if missing:
            raise ConfigError(f"{self.kind} distribution needs {', '.join(sorted(missing))}")
        if self.kind == "empirical" and not self.values:
            raise ConfigError("empirical distribution needs at least one value")
        if not (self.factor >= 0 and math.isfinite(self.factor)):
            raise ConfigError(f"distribution factor {self.factor}: expected a number >= 0")

    @classmethod
    def fixed(cls, hours: float) -> Distribution:
        return cls("fixed", {"value": float(hours)})

    @property
    def mean(self) -> float:
        """The mean in hours (after `factor`)."""
        p = self.params
        base = {
            "exponential": lambda: p["mean"],
            "lognormal": lambda: math.exp(p["mu"] + p["sigma"] ** 2 / 2),
            "gamma": lambda: p["shape"] * p["scale"],
            "weibull": lambda: p["scale"] * math.gamma(1 + 1 / p["shape"]),
            "fixed": lambda: p["value"],
            "empirical": lambda: float(np.mean(self.values)),
        }[self.kind]()
        return float(base) * self.factor

    def sample(self, rng: np.random.Generator) -> float:
        """One draw, in hours, never negative."""
        p = self.params
        if self.kind == "exponential":
            x = rng.exponential(p["mean"])
        elif self.kind == "lognormal":
            x = rng.lognormal(p["mu"], p["sigma"])
        elif self.kind == "gamma":
            x = rng.gamma(p["shape"], p["scale"])
        elif self.kind == "weibull":
            x = p["scale"] * rng.weibull(p["shape"])
        elif self.kind == "fixed":
            x = p["value"]
        else:
            x = self.values[int(rng.integers(len(self.values)))]
        return max(float(x), 0.0) * self.factor

    def scaled(self, factor: float) -> Distribution:
        """The same shape, every sample times `factor`."""
        return replace(self, factor=self.factor * factor)


@dataclass(frozen=True)
class Delay:
    """Extraneous waiting on an edge (for the customer, a third party): with `probability` the
    case waits a draw of `distribution` clock hours before the target can start."""

    source: str
    target: str
    probability: float
    distribution: Distribution


@dataclass(frozen=True)
class Pool:
    """Interchangeable resources: `capacity` members working in `calendar`.

    `resources` names them (the simulated log uses those names; when capacity grows, new
    members are called `<pool> #n`). `hourly_cost` prices their working time for scenarios.
    """

    name: str
    capacity: int
    calendar: str = "24/7"
    resources: tuple[str, ...] = ()
    hourly_cost: float = 0.0

    def member_names(self) -> list[str]:
        names = list(self.resources[: self.capacity])
        names += [f"{self.name} #{i + 1}" for i in range(len(names), self.capacity)]
        return names


@dataclass(frozen=True)
class Activity:
    """One activity: its processing time (working hours of its pool) and who does it.

    `pool` None means no resource is needed (an automated or instant step). `cost` is a cost
    per execution, added to the pool's time cost. `queue_priority` orders the pool's queue:
    a waiting instance of an activity with a higher value is served before every instance
    with a lower one (0, the default, for all activities is first come, first served, with
    the case priority first); calibration reads it from who overtakes whom in the log
    (`simulation.discipline`).
    """

    name: str
    duration: Distribution
    pool: str | None = None
    cost: float = 0.0
    queue_priority: int = 0


@dataclass(frozen=True)
class Arrivals:
    """When cases arrive.

    With `weekly_rate` (168 values: cases per hour in each hour of the week, Monday 00:00
    first) arrivals are a non-homogeneous Poisson process; otherwise successive gaps are draws
    of `interarrival` (clock hours). `factor` scales the demand (a scenario's +10%).
    """

    weekly_rate: tuple[float, ...] | None = None
    interarrival: Distribution | None = None
    factor: float = 1.0

    def __post_init__(self) -> None:
        if self.weekly_rate is None and self.interarrival is None:
            raise ConfigError("arrivals need weekly_rate (168 values) or interarrival")
        if self.weekly_rate is not None and len(self.weekly_rate) != 168:
            raise ConfigError(f"arrivals.weekly_rate has {len(self.weekly_rate)} values; "
                              "expected 168 (one per hour of the week, Monday 00:00 first)")

    @property
    def per_week(self) -> float:
        """Expected cases per week."""
        if self.weekly_rate is not None:
            return float(sum(self.weekly_rate)) * self.factor
        mean = self.interarrival.mean if self.interarrival is not None else math.inf
        return 168.0 / mean * self.factor if mean > 0 else math.inf


@dataclass(frozen=True)
class CaseAttribute:
    """A case attribute sampled at arrival with its observed frequencies."""

    name: str
    values: tuple[str, ...]
    probabilities: tuple[float, ...]


@dataclass(frozen=True)
class Routing:
    """Where a case goes next.

    `mode = "first_order"`: `transitions[a][b]` is the probability that `b` follows `a`
    (`START` and `END` included); with `by`, `conditioned[value]` holds a table per value of
    that case attribute (values not listed use `transitions`). `mode = "variants"`: a case
    draws a whole path from `variants` (path, probability) and replays it.
    """

    transitions: Mapping[str, Mapping[str, float]]
    mode: str = "first_order"
    by: str | None = None
    conditioned: Mapping[str, Mapping[str, Mapping[str, float]]] = field(default_factory=dict)
    variants: tuple[tuple[tuple[str, ...], float], ...] = ()


@dataclass(frozen=True)
class SimulationModel:
    """Everything the engine needs, and where it came from (`source`, `notes`).

    `has_resources` False is the stage-history case (no start times): activities take no time,
    edges carry fitted delays, and nothing queues; every output says so.
    `priority` names a case attribute whose `priority_order` values are served first.
    """

    arrivals: Arrivals
    routing: Routing
    activities: Mapping[str, Activity]
    pools: Mapping[str, Pool] = field(default_factory=dict)
    delays: tuple[Delay, ...] = ()
    attributes: tuple[CaseAttribute, ...] = ()
    priority: str | None = None
    priority_order: tuple[str, ...] = ()
    has_resources: bool = True
    source: str = ""
    calibrated_from: datetime | None = None
    calibrated_to: datetime | None = None
    notes: tuple[str, ...] = ()
    version: int = FORMAT_VERSION

    # --- serialisation ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain data (TOML/JSON-ready): no None values (TOML has no null)."""
        data: dict[str, Any] = _drop_none(asdict(self))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "model") -> SimulationModel:
        """Read back `to_dict`'s output (or a hand-edited file); ConfigError names the field."""
        try:
            return _model_from(data)
        except ConfigError as err:
            raise ConfigError(f"{where}: {err}") from None
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(f"{where}: not a processmine simulation model ({type(err).__name__}: "
                              f"{err})") from None

    def save(self, path: Path) -> None:
        """Write TOML (`.toml`) or JSON (any other suffix)."""
        data = self.to_dict()
        try:
            if path.suffix.lower() == ".toml":
                import tomli_w

                path.write_text(tomli_w.dumps(_toml_safe(data)), encoding="utf-8")
            else:
                path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"{path}: cannot write: {err.strerror or err}") from err

    @classmethod
    def load(cls, path: Path) -> SimulationModel:
        """Read a model saved by `save` (TOML or JSON, by suffix)."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from err
        try:
            data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as err:
            raise ConfigError(f"{path}: not valid {path.suffix.lstrip('.').upper() or 'JSON'}: {err}") from None
        return cls.from_dict(_toml_restore(data), where=str(path))


def _dist(d: Mapping[str, Any]) -> Distribution:
    return Distribution(str(d["kind"]), {k: float(v) for k, v in dict(d.get("params", {})).items()},
                        tuple(float(v) for v in d.get("values", ())), float(d.get("factor", 1.0)))


def _model_from(data: Mapping[str, Any]) -> SimulationModel:
    a = data["arrivals"]
    arrivals = Arrivals(
        weekly_rate=tuple(float(x) for x in a["weekly_rate"]) if a.get("weekly_rate") is not None else None,
        interarrival=_dist(a["interarrival"]) if a.get("interarrival") is not None else None,
        factor=float(a.get("factor", 1.0)),
    )
    r = data["routing"]
    routing = Routing(
        transitions={str(k): {str(t): float(p) for t, p in v.items()} for k, v in r["transitions"].items()},
        mode=str(r.get("mode", "first_order")), by=r.get("by"),
        conditioned={str(val): {str(k): {str(t): float(p) for t, p in v.items()} for k, v in tab.items()}
                     for val, tab in dict(r.get("conditioned", {})).items()},
        variants=tuple((tuple(str(x) for x in path), float(p)) for path, p in r.get("variants", ())),
    )
    activities = {str(k): Activity(str(v["name"]), _dist(v["duration"]), v.get("pool"),
                                   float(v.get("cost", 0.0)), int(v.get("queue_priority", 0)))
                  for k, v in data["activities"].items()}
    pools = {str(k): Pool(str(v["name"]), int(v["capacity"]), str(v.get("calendar", "24/7")),
                          tuple(str(x) for x in v.get("resources", ())),
                          float(v.get("hourly_cost", 0.0)))
             for k, v in dict(data.get("pools", {})).items()}
    delays = tuple(Delay(str(d["source"]), str(d["target"]), float(d["probability"]),
                         _dist(d["distribution"])) for d in data.get("delays", ()))
    attributes = tuple(CaseAttribute(str(c["name"]), tuple(str(x) for x in c["values"]),
                                     tuple(float(x) for x in c["probabilities"]))
                       for c in data.get("attributes", ()))
    model = SimulationModel(
        arrivals=arrivals, routing=routing, activities=activities, pools=pools, delays=delays,
        attributes=attributes, priority=data.get("priority"),
        priority_order=tuple(str(x) for x in data.get("priority_order", ())),
        has_resources=bool(data.get("has_resources", True)), source=str(data.get("source", "")),
        calibrated_from=_time(data.get("calibrated_from")),
        calibrated_to=_time(data.get("calibrated_to")),
        notes=tuple(str(n) for n in data.get("notes", ())),
        version=int(data.get("version", FORMAT_VERSION)),
    )
    check(model)
    return model


def check(model: SimulationModel) -> None:
    """Refuse a model the engine cannot run, naming the first problem found."""
    names = set(model.activities)
    for src, row in model.routing.transitions.items():
        if src != START and src not in names:
            raise ConfigError(f"routing from unknown activity {src!r}")
        for dst, p in row.items():
            if dst != END and dst not in names:
                raise ConfigError(f"routing from {src!r} to unknown activity {dst!r}")
            if not (p >= 0 and math.isfinite(p)):
                raise ConfigError(f"routing {src!r} -> {dst!r}: probability {p} is not >= 0")
    if model.routing.mode not in ("first_order", "variants"):
        raise ConfigError(f"routing mode {model.routing.mode!r}: expected first_order or variants")
    if model.routing.mode == "first_order" and START not in model.routing.transitions:
        raise ConfigError(f"routing has no {START!r} row: no case could begin")
    for act in model.activities.values():
        if act.pool is not None and act.pool not in model.pools:
            raise ConfigError(f"activity {act.name!r} uses unknown pool {act.pool!r}")
    for pool in model.pools.values():
        if pool.capacity < 0:
            raise ConfigError(f"pool {pool.name!r} has capacity {pool.capacity}; expected >= 0")


def _time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _drop_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value]
    return value


# TOML tables need string keys and no empty keys; routing keys such as "__start__" are fine.
# Variant paths are lists of lists, which TOML allows; datetimes are written natively.
def _toml_safe(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    routing = dict(out["routing"])
    routing["variants"] = [{"path": list(path), "probability": p} for path, p in routing.get("variants", [])]
    out["routing"] = routing
    return out


def _toml_restore(data: dict[str, Any]) -> dict[str, Any]:
    routing = dict(data.get("routing", {}))
    variants = routing.get("variants", [])
    if variants and isinstance(variants[0], Mapping):
        routing["variants"] = [(v["path"], v["probability"]) for v in variants]
    return {**data, "routing": routing}


def normalised(row: Mapping[str, float]) -> dict[str, float]:
    """Probabilities scaled to sum to 1 (an all-zero row stays empty)."""
    total = sum(row.values())
    return {k: v / total for k, v in row.items() if v > 0} if total > 0 else {}


__all__ = [
    "END", "FORMAT_VERSION", "KINDS", "START", "Activity", "Arrivals", "CaseAttribute", "Delay",
    "Distribution", "Pool", "Routing", "SimulationModel", "check", "normalised",
]
