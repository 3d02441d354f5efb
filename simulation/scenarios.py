"""What-if scenarios: named lists of changes to a SimulationModel, read from TOML.

A scenario is what a process owner would try: automate a step, hire one more engineer, drop
an approval, take 10% more tickets. Each change is a small frozen dataclass that knows how to
change a model (`apply` runs them in order and returns a new model; the input is never
changed) and how to say what it does in one line for a report (`describe`).

The file form (`processmine simulate LOG --scenarios FILE`)::

    version = 1                     # optional; 1 is the only version
    [[scenario]]
    name = "Automate categorisation"
    description = "A classifier tags the ticket"     # optional
    changes = [{ kind = "automate", activity = "Categorise", duration_factor = 0.05,
                 resource = false }]

Kinds and their keys (activity and pool names are checked against the model by `apply`,
which lists the closest names when one does not match):

- `automate`: `activity`; `duration_factor` (every draw times this) or `duration` (a fixed
  duration such as "30s"); `resource = false` when no pool is needed any more.
- `remove`: `activity`; cases skip it (routing is reconnected, see `Remove`).
- `capacity`: `pool` or `activity` (its pool); `delta` (+1, -2) or `resources` (the new size).
- `demand`: `factor` multiplies the arrival rate (1.1 is +10%).
- `routing`: `source`, `target`, `factor` (see `Reroute`).
- `wait`: `activity`, `factor` (and `source` for one edge): the extraneous waiting before the
  activity (the customer, a third party; a stage's time in a CRM history) times `factor`.
- `queue`: `activity`, `priority`: its queue priority in its pool (see `QueueOrder`).
- `calendar`: `pool` or `activity`; `hours` such as "Mon-Fri 08:00-20:00"; `add = true` adds
  the hours to the pool's calendar instead of replacing it.
- `cost`: `hourly` for the pool named by `pool` (or else the pool that performs `activity`)
  and/or `per_execution` for `activity`, so the experiment reports a cost per case.

`suggest` (simulation/suggest.py, re-exported here) turns the top bottlenecks of a log into
candidate scenarios of the same kinds.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from processmine.errors import ConfigError
from processmine.mining.calendar import Calendar
from processmine.mining.kpis import parse_duration
from simulation.model import (
    END,
    START,
    Activity,
    Delay,
    Distribution,
    SimulationModel,
    check,
    normalised,
)

if TYPE_CHECKING:
    from simulation.suggest import APPROVAL, SMALL_POOL, suggest

FORMAT_VERSION = 1
_TABLE = dict[str, dict[str, float]]


# --- the changes ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Automate:
    """The activity gets faster (`duration_factor` times every draw, so the fitted shape stays)
    or takes a fixed `duration` in hours; with `resource` False it needs no pool any more."""

    KIND: ClassVar[str] = "automate"
    activity: str
    duration_factor: float | None = None
    duration: float | None = None
    resource: bool = True

    def __post_init__(self) -> None:
        if self.duration_factor is not None and self.duration is not None:
            raise ConfigError("give duration_factor or duration, not both")
        if self.duration_factor is None and self.duration is None and self.resource:
            raise ConfigError("automate needs duration_factor (e.g. 0.05), duration (e.g. "
                              "\"30s\") or resource = false")
        _non_negative("duration_factor", self.duration_factor)
        if self.duration is not None and not (self.duration > 0 and math.isfinite(self.duration)):
            raise ConfigError(f"duration is {self.duration} h; expected more than 0 (for an "
                              "instant step use duration_factor = 0)")

    def applied_to(self, model: SimulationModel) -> SimulationModel:
        act = _activity(model, self.activity)
        duration = act.duration
        if self.duration_factor is not None:
            duration = duration.scaled(self.duration_factor)
        elif self.duration is not None:
            duration = Distribution.fixed(self.duration)
        changed = replace(act, duration=duration, pool=act.pool if self.resource else None)
        return replace(model, activities={**model.activities, self.activity: changed})

    def describe(self) -> str:
        parts = []
        if self.duration_factor is not None:
            parts.append(f"{_pct(self.duration_factor)} of its duration")
        if self.duration is not None:
            parts.append(f"takes {_human(self.duration)}")
        if not self.resource:
            parts.append("no resource needed")
        return f"{self.activity}: " + ", ".join(parts)


@dataclass(frozen=True)
class Remove:
    """Cases skip the activity.

    First-order routing: every predecessor p inherits X's exits, P(p->s) += P(p->X) * P'(X->s),
    where P' is X's row without its self-loop, renormalised (repeats of X go with X); X's row
    and column are dropped. A conditioned table without a row for X uses the main table's
    exits; an X without exits ends the case. Variant routing: X is taken out of every path and
    paths that become identical are merged (paths left empty are dropped, the rest
    renormalised). Delays into X are dropped (the waiting was for X); a delay out of X, which
    is waiting for its target, moves to each predecessor's edge to that target unless that
    edge has a delay of its own. X's pool stays in the model.
    """

    KIND: ClassVar[str] = "remove"
    activity: str

    def applied_to(self, model: SimulationModel) -> SimulationModel:
        x = self.activity
        _activity(model, x)
        routing = model.routing
        base_exits = _exits(routing.transitions, x) or {END: 1.0}
        transitions = _without(routing.transitions, x, base_exits)
        conditioned = {value: _without(table, x, _exits(table, x) or base_exits)
                       for value, table in routing.conditioned.items()}
        variants = routing.variants
        if variants:
            variants = _variants_without(variants, x)
            if not variants:
                raise ConfigError(f"removing {x!r} leaves no activity in any variant")
        before = {src for table in (routing.transitions, *routing.conditioned.values())
                  for src, row in table.items() if src != x and row.get(x, 0.0) > 0}
        for path, _ in routing.variants:
            full = (START, *path)
            before |= {full[i - 1] for i in range(1, len(full)) if full[i] == x}
        before.discard(x)
        return replace(
            model,
            routing=replace(routing, transitions=transitions, conditioned=conditioned,
                            variants=variants),
            activities={k: v for k, v in model.activities.items() if k != x},
            delays=_delays_without(model.delays, x, sorted(before)),
        )

    def describe(self) -> str:
        return f"{self.activity}: removed, cases skip it"


@dataclass(frozen=True)
class Capacity:
    """The pool named `pool`, or the one that performs `activity`, gains or loses `delta`
    members or is set to `resources` members. A pool needs at least one member: to need no
    pool, automate with `resource = false`."""

    KIND: ClassVar[str] = "capacity"
    pool: str | None = None
    activity: str | None = None
    delta: int | None = None
    resources: int | None = None

    def __post_init__(self) -> None:
        _one_of(("pool", self.pool), ("activity", self.activity))
        _one_of(("delta", self.delta), ("resources", self.resources))
        if self.delta == 0:
            raise ConfigError("delta is 0; expected a whole number such as 1 or -1")
        if self.resources is not None and self.resources < 1:
            raise ConfigError(f"resources is {self.resources}; expected at least 1")

    def applied_to(self, model: SimulationModel) -> SimulationModel:
        key = _pool_key(model, self.pool, self.activity)
        pool = model.pools[key]
        size = self.resources if self.resources is not None else pool.capacity + (self.delta or 0)
        if size < 1:
            raise ConfigError(f"pool {key!r} has {pool.capacity} members and delta {self.delta:+d} "
                              f"leaves {size}; expected at least 1 (to need no pool, use "
                              "kind = \"automate\" with resource = false)")
        return replace(model, pools={**model.pools, key: replace(pool, capacity=size)})

    def describe(self) -> str:
        if self.resources is not None:
            return f"{_pool_label(self.pool, self.activity)}: {self.resources} members"
        n = abs(self.delta or 0)
        more = "more" if (self.delta or 0) > 0 else "fewer"
        return f"{_pool_label(self.pool, self.activity)}: {n} {more} member" + ("s" if n != 1 else "")


@dataclass(frozen=True)
class Demand:
    """Arrivals times `factor` (1.1 is 10% more cases), whatever their weekly pattern."""

    KIND: ClassVar[str] = "demand"
    factor: float

    def __post_init__(self) -> None:
        if not (self.factor > 0 and math.isfinite(self.factor)):
            raise ConfigError(f"factor is {self.factor}; expected a number > 0 such as 1.1")

    def applied_to(self, model: SimulationModel) -> SimulationModel:
        arrivals = replace(model.arrivals, factor=model.arrivals.factor * self.factor)
        return replace(model, arrivals=arrivals)

    def describe(self) -> str:
        return f"demand: arrivals x{self.factor:g} ({self.factor - 1:+.0%})"


@dataclass(frozen=True)
class Reroute:
    """The probability that `target` follows `source` times `factor`; the other exits of
    `source` are scaled so the row still sums to 1 (a product above 1 is capped at 1, the
    others then 0). `source` may be "__start__" and `target` "__end__".

    The edge must exist in the model (a scenario cannot invent a path it has no durations or
    delays for), and an edge that is the only way out of `source` cannot be made rarer. Tables
    conditioned on a case attribute change where they can and are left alone where the edge is
    absent or the only exit. Variant routing: paths taking the edge k times are weighted by
    factor**k and the other paths through `source` absorb the difference, so the share of
    cases reaching `source` is unchanged.
    """

    KIND: ClassVar[str] = "routing"
    source: str
    target: str
    factor: float

    def __post_init__(self) -> None:
        _non_negative("factor", self.factor)

    def applied_to(self, model: SimulationModel) -> SimulationModel:
        if self.source != START:
            _activity(model, self.source, extra=(START,))
        if self.target != END:
            _activity(model, self.target, extra=(END,))
        routing = model.routing
        if routing.mode == "variants":
            variants = _variants_rerouted(routing.variants, self.source, self.target, self.factor)
            transitions = _table_rerouted(routing.transitions, self.source, self.target,
                                          self.factor, strict=False)
        else:
            variants = routing.variants
            transitions = _table_rerouted(routing.transitions, self.source, self.target,
                                          self.factor, strict=True)
        conditioned = {v: _table_rerouted(t, self.source, self.target, self.factor, strict=False)
                       for v, t in routing.conditioned.items()}
        return replace(model, routing=replace(routing, transitions=transitions,
                                              conditioned=conditioned, variants=variants))

    def describe(self) -> str:
        return (f"{self.source} -> {self.target}: probability x{self.factor:g}, "
                f"the other exits of {self.source} renormalised")


@dataclass(frozen=True)
class Wait:
    """The extraneous waiting before `activity` (the calibrated delays on the edges into it;
    with `source`, on that edge only) times `factor`: 0.5 halves it (customers who answer
    sooner after an automatic reminder, a deal stage that moves on in half the time), 0
    removes it. Queueing for a pool is not a delay: capacity and calendar changes address it,
    and a model without a delay into `activity` is refused, naming the edges that have one.
    """

    KIND: ClassVar[str] = "wait"
    activity: str
    factor: float
    source: str | None = None

    def __post_init__(self) -> None:
        _non_negative("factor", self.factor)

    def applied_to(self, model: SimulationModel) -> SimulationModel:
        _activity(model, self.activity)
        if self.source is not None and self.source != START:
            _activity(model, self.source, extra=(START,))

        def hit(d: Delay) -> bool:
            return d.target == self.activity and self.source in (None, d.source)

        if not any(hit(d) for d in model.delays):
            edges = ", ".join(f"{d.source} -> {d.target}" for d in model.delays) or "none"
            where = f"{self.source} -> {self.activity}" if self.source else f"before {self.activity!r}"
            raise ConfigError(f"the model has no extraneous waiting {where} to change (edges "
                              f"with waiting: {edges}); queueing for a pool changes with its "
                              "capacity or calendar")
        delays = tuple(replace(d, distribution=d.distribution.scaled(self.factor)) if hit(d)
                       else d for d in model.delays)
        return replace(model, delays=delays)

    def describe(self) -> str:
        edge = f"{self.source} -> {self.activity}" if self.source else f"before {self.activity}"
        return f"waiting {edge} x{self.factor:g}"


@dataclass(frozen=True)
class QueueOrder:
    """`activity`'s `queue_priority` set to `priority`: its waiting instances are served
    before every instance with a lower value in its pool (all 0: first come, first served,
    within the case priority). What if tier 2 finished approved fixes before new diagnoses,
    or the other way round?"""

    KIND: ClassVar[str] = "queue"
    activity: str
    priority: int

    def __post_init__(self) -> None:
        if self.priority < 0:
            raise ConfigError(f"priority is {self.priority}; expected a whole number >= 0 "
                              "(0 is first come, first served)")

    def applied_to(self, model: SimulationModel) -> SimulationModel:
        act = _activity(model, self.activity)
        if act.pool is None:
            raise ConfigError(f"{self.activity!r} needs no resource, so it never queues")
        changed = replace(act, queue_priority=self.priority)
        return replace(model, activities={**model.activities, self.activity: changed})

    def describe(self) -> str:
        if self.priority == 0:
            return f"{self.activity}: first come, first served in its pool"
        return f"{self.activity}: served first in its pool (queue priority {self.priority})"


@dataclass(frozen=True)
class WorkingHours:
    """The working hours of the pool named `pool`, or of the one that performs `activity`.

    `hours` is calendar text (`processmine.mining.calendar.Calendar.parse`), kept in its
    canonical form; with `add` the hours are added to the pool's calendar.
    """

    KIND: ClassVar[str] = "calendar"
    hours: str
    pool: str | None = None
    activity: str | None = None
    add: bool = False

    def __post_init__(self) -> None:
        _one_of(("pool", self.pool), ("activity", self.activity))
        object.__setattr__(self, "hours", Calendar.parse(self.hours).describe())

    def applied_to(self, model: SimulationModel) -> SimulationModel:
        key = _pool_key(model, self.pool, self.activity)
        pool = model.pools[key]
        hours = self.hours
        if self.add:
            try:
                current = Calendar.parse(pool.calendar).describe()
            except ConfigError as err:
                raise ConfigError(f"pool {key!r}: {err}") from None
            hours = _union(current, hours)
        return replace(model, pools={**model.pools, key: replace(pool, calendar=hours)})

    def describe(self) -> str:
        verb = "also works" if self.add else "works"
        return f"{_pool_label(self.pool, self.activity)} {verb} {self.hours}"


@dataclass(frozen=True)
class Cost:
    """Prices for the cost per case: `hourly` per working hour of the pool named `pool` (or
    else the pool that performs `activity`), and/or `per_execution` of `activity`."""

    KIND: ClassVar[str] = "cost"
    pool: str | None = None
    activity: str | None = None
    hourly: float | None = None
    per_execution: float | None = None

    def __post_init__(self) -> None:
        if self.hourly is None and self.per_execution is None:
            raise ConfigError("cost needs hourly (with pool or activity) and/or per_execution "
                              "(with activity)")
        if self.hourly is not None and self.pool is None and self.activity is None:
            raise ConfigError("hourly needs pool (or activity, for the pool that performs it)")
        if self.per_execution is not None and self.activity is None:
            raise ConfigError("per_execution needs activity")
        if self.hourly is None and self.pool is not None:
            raise ConfigError("pool is given without hourly")
        if self.pool is not None and self.activity is not None and self.per_execution is None:
            raise ConfigError("activity is given with pool but without per_execution")
        _non_negative("hourly", self.hourly)
        _non_negative("per_execution", self.per_execution)

    def applied_to(self, model: SimulationModel) -> SimulationModel:
        pools, activities = dict(model.pools), dict(model.activities)
        if self.hourly is not None:
            key = _pool_key(model, self.pool, None if self.pool else self.activity)
            pools[key] = replace(pools[key], hourly_cost=self.hourly)
        if self.per_execution is not None and self.activity is not None:
            act = _activity(model, self.activity)
            activities[self.activity] = replace(act, cost=self.per_execution)
        return replace(model, pools=pools, activities=activities)

    def describe(self) -> str:
        parts = []
        if self.hourly is not None:
            label = _pool_label(self.pool, None if self.pool else self.activity)
            parts.append(f"{label} costs {self.hourly:g} per working hour")
        if self.per_execution is not None:
            parts.append(f"{self.activity} costs {self.per_execution:g} per execution")
        return "; ".join(parts)


Change: TypeAlias = (Automate | Remove | Capacity | Demand | Reroute | Wait | QueueOrder
                      | WorkingHours | Cost)
KINDS: dict[str, type[Change]] = {c.KIND: c for c in (Automate, Remove, Capacity, Demand, Reroute,
                                                      Wait, QueueOrder, WorkingHours, Cost)}


@dataclass(frozen=True)
class Scenario:
    """A named list of changes, applied in order. `origin` says where it was read from
    ("scenarios.toml, scenario 2 ('X')") so errors found later, against a model, can say it."""

    name: str
    changes: tuple[Change, ...]
    description: str = ""
    origin: str = ""


def describe(change: Change) -> str:
    """One line for a report: "Categorise: 5% of its duration, no resource needed"."""
    return change.describe()


def apply(model: SimulationModel, scenario: Scenario) -> SimulationModel:
    """The model with the scenario's changes made, in order (a later change sees the earlier
    ones); `model` is not changed.

    Raises ConfigError naming the scenario and change, e.g. for an activity or pool the model
    does not have (with the closest names), or when the result could not run.
    """
    label = scenario.origin or f"scenario {scenario.name!r}"
    out = model
    for i, change in enumerate(scenario.changes, start=1):
        try:
            out = change.applied_to(out)
        except ConfigError as err:
            raise ConfigError(f"{label}, change {i} ({change.KIND}): {err}") from None
    try:
        check(out)
    except ConfigError as err:
        raise ConfigError(f"{label}: the changed model cannot run: {err}") from None
    return out


# --- reading and writing TOML ----------------------------------------------------------------

_EXPECT = {
    "activity": "an activity name such as \"Categorise\"",
    "pool": "a pool name",
    "source": "an activity name (or \"__start__\")",
    "target": "an activity name (or \"__end__\")",
    "duration_factor": "a number >= 0 such as 0.05",
    "factor": "a number such as 1.1",
    "hourly": "a cost per working hour such as 45",
    "per_execution": "a cost per execution such as 2.5",
    "delta": "a whole number such as 1 or -1",
    "resources": "a whole number of members such as 4",
    "priority": "a whole number >= 0 such as 1 (0 is first come, first served)",
    "resource": "true or false",
    "add": "true or false",
    "duration": "a duration such as \"30s\", \"5m\" or \"2h\"",
    "hours": "working hours such as \"Mon-Fri 08:00-18:00\"",
}
_NUMBERS = {"duration_factor", "factor", "hourly", "per_execution"}
_WHOLE = {"delta", "resources", "priority"}
_FLAGS = {"resource", "add"}
_WHAT = ("pool", "activity", "source", "target")


def load_scenarios(path: Path) -> list[Scenario]:
    """Read the `[[scenario]]` tables of a TOML file (see the module docstring).

    Raises ConfigError with the file, the scenario's number and name, the change's number,
    what was found and what was expected.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the scenarios file ({err})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    return scenarios_from(data, where=str(path))


def scenarios_from(data: Mapping[str, Any], *, where: str = "scenarios") -> list[Scenario]:
    """The scenarios in already-parsed TOML (or JSON) data; `where` prefixes every error."""
    _known_keys(data, ("version", "scenario"), where)
    version = data.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ConfigError(f"{where}: version is {version!r}; expected {FORMAT_VERSION}")
    tables = data.get("scenario")
    if not isinstance(tables, list) or not tables:
        found = "nothing" if tables is None else _found(tables)
        raise ConfigError(f"{where}: found {found} for scenario; expected at least one "
                          "[[scenario]] table with name and changes")
    out: list[Scenario] = []
    for i, table in enumerate(tables, start=1):
        scenario = _scenario(table, f"{where}, scenario {i}")
        if scenario.name.casefold() in {s.name.casefold() for s in out} | {"baseline"}:
            taken = "is kept for the unchanged model" if scenario.name.casefold() == "baseline" \
                else "is used twice"
            raise ConfigError(f"{scenario.origin}: the name {scenario.name!r} {taken}; "
                              "expected a unique name")
        out.append(scenario)
    return out


def _scenario(table: Any, where: str) -> Scenario:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: found {_found(table)}; expected a table with name and changes")
    _known_keys(table, ("name", "description", "changes"), where)
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name is {_found(name)}; expected a non-empty text")
    where = f"{where} ({name.strip()!r})"
    description = table.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{where}: description is {_found(description)}; expected a text")
    changes = table.get("changes")
    if not isinstance(changes, list) or not changes:
        raise ConfigError(f"{where}: changes is {_found(changes)}; expected a list of at least one "
                          "change such as [{ kind = \"demand\", factor = 1.1 }]")
    parsed = tuple(_change(c, f"{where}, change {j}") for j, c in enumerate(changes, start=1))
    return Scenario(name.strip(), parsed, description.strip(), where)


def _change(table: Any, where: str) -> Change:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: found {_found(table)}; expected a table such as "
                          "{ kind = \"demand\", factor = 1.1 }")
    kind = table.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ConfigError(f"{where}: kind is {_found(kind)}; expected one of {', '.join(KINDS)}"
                          + _near(str(kind), KINDS))
    cls = KINDS[kind]
    where = f"{where} ({kind})"
    keys = [f.name for f in fields(cls)]
    _known_keys(table, ("kind", *keys), where)
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in table:
            if f.default is MISSING:
                raise ConfigError(f"{where}: {f.name} is missing; expected {_EXPECT[f.name]}")
            continue
        values[f.name] = _value(f.name, table[f.name], where)
    try:
        return cls(**values)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None


def _value(key: str, value: Any, where: str) -> Any:
    wrong = ConfigError(f"{where}: {key} is {_found(value)}; expected {_EXPECT[key]}")
    if key in _FLAGS:
        if not isinstance(value, bool):
            raise wrong
        return value
    if key in _NUMBERS or key in _WHOLE:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise wrong
        if key in _WHOLE:
            if not float(value).is_integer():
                raise wrong
            return int(value)
        return float(value)
    if not isinstance(value, str) or not value.strip():
        raise wrong
    if key == "duration":
        try:
            return parse_duration(value)
        except ConfigError as err:
            raise ConfigError(f"{where}: {err}") from None
    if key == "hours":
        try:
            Calendar.parse(value)
        except ConfigError as err:
            raise ConfigError(f"{where}: hours: {err}") from None
    return value.strip() if key == "hours" else value


def to_toml(scenarios: Sequence[Scenario]) -> str:
    """The scenarios as a file `load_scenarios` reads back (to edit `--suggest`'s output)."""
    import tomli_w

    tables = []
    for s in scenarios:
        table: dict[str, Any] = {"name": s.name}
        if s.description:
            table["description"] = s.description
        table["changes"] = [_change_dict(c) for c in s.changes]
        tables.append(table)
    return str(tomli_w.dumps({"version": FORMAT_VERSION, "scenario": tables}))


def _change_dict(change: Change) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": change.KIND}
    for f in sorted(fields(change), key=lambda f: f.name not in _WHAT):  # what is changed first
        value = getattr(change, f.name)
        if value is None or value == f.default:
            continue
        out[f.name] = _duration_text(value) if f.name == "duration" else value
    return out


def _known_keys(table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r}; expected {', '.join(allowed)}"
                              + _near(str(key), allowed))


def _found(value: Any) -> str:
    kinds = {bool: "true/false", int: "a whole number", float: "a number", str: "text",
             list: "a list", dict: "a table"}
    if value is None:
        return "missing"
    return f"{value!r} ({kinds.get(type(value), type(value).__name__)})"


# --- names --------------------------------------------------------------------------------

def _near(name: str, names: Iterable[str]) -> str:
    """" (did you mean 'x'?)" or ""."""
    close = _closest(name, names)
    return f" (did you mean {', '.join(map(repr, close))}?)" if close else ""


def _closest(name: str, names: Iterable[str], n: int = 3) -> list[str]:
    """Names containing `name` (any case) first, then the most similar ones."""
    pool = sorted(set(names))
    lowered = {x.casefold(): x for x in pool}
    key = name.casefold()
    found = [x for x in pool if key and key in x.casefold()]
    found += [lowered[m] for m in difflib.get_close_matches(key, list(lowered), n=n, cutoff=0.6)]
    return list(dict.fromkeys(found))[:n]


def _unknown(what: str, name: str, names: Iterable[str]) -> ConfigError:
    known = sorted(set(names))
    close = _closest(name, known)
    if close:
        hint = "closest: " + ", ".join(map(repr, close))
    elif known:
        hint = "known: " + ", ".join(map(repr, known[:12])) + (
            f" and {len(known) - 12} more" if len(known) > 12 else "")
    else:
        hint = f"the model has no {what}s"
    return ConfigError(f"no {what} {name!r} in the model; {hint}")


def _activity(model: SimulationModel, name: str, extra: Sequence[str] = ()) -> Activity:
    if name not in model.activities:
        raise _unknown("activity", name, [*model.activities, *extra])
    return model.activities[name]


def _pool_key(model: SimulationModel, pool: str | None, activity: str | None) -> str:
    if pool is not None:
        if pool not in model.pools:
            raise _unknown("pool", pool, model.pools)
        return pool
    name = str(activity)
    act = _activity(model, name)
    if act.pool is None:
        raise ConfigError(f"{name!r} needs no pool (it is automated or instant), so it has no "
                          "pool to change")
    return str(act.pool)


def _pool_label(pool: str | None, activity: str | None) -> str:
    return f"pool {pool}" if pool is not None else f"the pool doing {activity}"


def _one_of(*pairs: tuple[str, object]) -> None:
    given = [k for k, v in pairs if v is not None]
    if len(given) != 1:
        names = " or ".join(k for k, _ in pairs)
        raise ConfigError(f"give {names}, not both" if given else f"give {names}")


def _non_negative(key: str, value: float | None) -> None:
    if value is not None and not (value >= 0 and math.isfinite(value)):
        raise ConfigError(f"{key} is {value}; expected {_EXPECT.get(key, 'a number >= 0')}")


# --- routing arithmetic -------------------------------------------------------------------

def _exits(table: Mapping[str, Mapping[str, float]], x: str) -> dict[str, float]:
    """X's exits without its self-loop, renormalised."""
    return normalised({s: p for s, p in table.get(x, {}).items() if s != x})


def _without(table: Mapping[str, Mapping[str, float]], x: str,
             exits: Mapping[str, float]) -> _TABLE:
    out: _TABLE = {}
    for src, row in table.items():
        if src == x:
            continue
        new = {t: p for t, p in row.items() if t != x}
        through = row.get(x, 0.0)
        if through > 0:
            for s, p in exits.items():
                new[s] = new.get(s, 0.0) + through * p
        out[src] = new
    return out


def _variants_without(variants: Sequence[tuple[tuple[str, ...], float]],
                      x: str) -> tuple[tuple[tuple[str, ...], float], ...]:
    merged: dict[tuple[str, ...], float] = {}
    dropped = False
    for path, p in variants:
        short = tuple(a for a in path if a != x)
        if short:
            merged[short] = merged.get(short, 0.0) + p
        else:
            dropped = True
    total = sum(merged.values())
    scale = 1.0 / total if dropped and total > 0 else 1.0
    return tuple((path, p * scale) for path, p in merged.items())


def _delays_without(delays: Sequence[Delay], x: str, before: Sequence[str]) -> tuple[Delay, ...]:
    kept = [d for d in delays if x not in (d.source, d.target)]
    taken = {(d.source, d.target) for d in kept}
    for d in delays:
        if d.source != x or d.target == x:
            continue
        for p in before:
            if (p, d.target) not in taken:
                kept.append(replace(d, source=p))
                taken.add((p, d.target))
    return tuple(kept)


def _table_rerouted(table: Mapping[str, Mapping[str, float]], source: str, target: str,
                    factor: float, *, strict: bool) -> _TABLE:
    out = {s: dict(row) for s, row in table.items()}
    row = table.get(source, {})
    total = sum(row.values())
    p = row.get(target, 0.0) / total if total > 0 else 0.0
    if p <= 0:
        if strict:
            exits = ", ".join(f"{t!r} ({q / total:.2f})" for t, q in row.items() if q > 0) \
                if total > 0 else "nowhere"
            raise ConfigError(f"the model has no transition {source!r} -> {target!r}; from "
                              f"{source!r} cases go to {exits}")
        return out
    new = min(p * factor, 1.0)
    if p >= 1 and new < 1:
        if strict:
            raise ConfigError(f"{target!r} is the only way out of {source!r}, so it cannot "
                              "become rarer; change another edge")
        return out
    scale = (1 - new) / (1 - p) if p < 1 else 0.0
    changed = {t: (new if t == target else q / total * scale) for t, q in row.items()}
    out[source] = {t: q for t, q in changed.items() if q > 0}
    return out


def _variants_rerouted(variants: Sequence[tuple[tuple[str, ...], float]], source: str,
                       target: str, factor: float) -> tuple[tuple[tuple[str, ...], float], ...]:
    def taken(path: tuple[str, ...]) -> int:
        full = (START, *path, END)
        return sum(1 for a, b in zip(full, full[1:], strict=False) if (a, b) == (source, target))

    through = [source == START or source in path for path, _ in variants]
    counts = [taken(path) for path, _ in variants]
    group = sum(p for (_, p), t in zip(variants, through, strict=True) if t)
    edge = sum(p for (_, p), k in zip(variants, counts, strict=True) if k)
    if edge <= 0:
        raise ConfigError(f"no variant goes from {source!r} to {target!r}")
    weighted = sum(p * factor ** k for (_, p), k in zip(variants, counts, strict=True) if k)
    new_edge = min(weighted, group)
    rest = group - edge
    if rest <= 1e-12 and new_edge < edge - 1e-12:
        raise ConfigError(f"every variant through {source!r} goes on to {target!r}, so that "
                          "step cannot become rarer; change another edge")
    edge_scale = new_edge / weighted if weighted > 0 else 0.0
    rest_scale = (group - new_edge) / rest if rest > 1e-12 else 0.0
    out = []
    for (path, p), k, t in zip(variants, counts, through, strict=True):
        q = p * factor ** k * edge_scale if k else (p * rest_scale if t else p)
        if q > 0:
            out.append((path, q))
    return tuple(out)


# --- calendars ------------------------------------------------------------------------------

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _minutes(spec: str) -> list[set[int]]:
    cal = Calendar.parse(spec)
    return [{m for a, b in day for m in range(a, b)} for day in cal.weekly]


def _spec(days: Sequence[set[int]]) -> str | None:
    """Canonical calendar text for minutes of each day (None when there are none)."""
    parts = []
    for name, minutes in zip(_DAY_NAMES, days, strict=True):
        runs, start, prev = [], None, None
        for m in sorted(minutes):
            if start is None or prev is None or m != prev + 1:
                if start is not None and prev is not None:
                    runs.append((start, prev + 1))
                start = m
            prev = m
        if start is not None and prev is not None:
            runs.append((start, prev + 1))
        if runs:
            parts.append(f"{name} " + ",".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in runs))
    return Calendar.parse("; ".join(parts)).describe() if parts else None


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _union(a: str, b: str) -> str:
    days = [x | y for x, y in zip(_minutes(a), _minutes(b), strict=True)]
    return _spec(days) or a


# --- text -----------------------------------------------------------------------------------

def _pct(factor: float) -> str:
    return f"{factor * 100:.3g}%"


def _human(hours: float) -> str:
    if hours < 1 / 60:
        return f"{hours * 3600:.3g} s"
    if hours < 1:
        return f"{hours * 60:.3g} min"
    return f"{hours:.3g} h"


_UNITS = (("w", 168.0), ("d", 24.0), ("h", 1.0), ("m", 1 / 60), ("s", 1 / 3600))


def _duration_text(hours: float) -> str:
    """Text `parse_duration` reads back to the same number of hours."""
    for unit, per in _UNITS:
        n = round(hours / per)
        if n > 0 and n * per == hours:
            return f"{n}{unit}"
    return f"{hours:.17f}".rstrip("0").rstrip(".") + "h"


# `suggest` lives in simulation/suggest.py, which imports this module; it is re-exported here,
# on first use, so `from simulation.scenarios import suggest` keeps working in either order.
_MOVED = ("APPROVAL", "SMALL_POOL", "suggest")


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from simulation import suggest as moved
        return getattr(moved, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "APPROVAL", "FORMAT_VERSION", "KINDS", "SMALL_POOL", "Automate", "Capacity", "Change", "Cost",
    "Demand", "QueueOrder", "Remove", "Reroute", "Scenario", "Wait", "WorkingHours", "apply",
    "describe",
    "load_scenarios", "scenarios_from", "suggest", "to_toml",
]
