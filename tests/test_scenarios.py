"""Scenarios: every change kind on hand-built models, the TOML reader's errors, suggestions."""

from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from processmine.errors import ConfigError
from processmine.mining.bottlenecks import Bottleneck, BottleneckReport
from processmine.mining.causes import Causes
from simulation.model import (
    END,
    START,
    Activity,
    Arrivals,
    Delay,
    Distribution,
    Pool,
    Routing,
    SimulationModel,
)
from simulation.scenarios import (
    Automate,
    Capacity,
    Cost,
    Demand,
    QueueOrder,
    Remove,
    Reroute,
    Scenario,
    Wait,
    WorkingHours,
    apply,
    describe,
    load_scenarios,
    scenarios_from,
    suggest,
    to_toml,
)
from tests.conftest import SAMPLES

approx = pytest.approx


def small_model() -> SimulationModel:
    """START -> A or X; A -> X or B; X repeats, or goes to B or ends; B ends or loops to A."""
    return SimulationModel(
        arrivals=Arrivals(interarrival=Distribution("exponential", {"mean": 0.5})),
        routing=Routing(
            transitions={
                START: {"A": 0.8, "X": 0.2},
                "A": {"X": 0.6, "B": 0.4},
                "X": {"X": 0.2, "B": 0.4, END: 0.4},
                "B": {END: 0.9, "A": 0.1},
            },
            by="priority",
            conditioned={
                "P1": {START: {"A": 1.0}, "A": {"X": 1.0}, "X": {"B": 1.0}, "B": {END: 1.0}},
                "P2": {START: {"A": 1.0}, "A": {"X": 0.5, "B": 0.5}, "B": {END: 1.0}},
            },
        ),
        activities={
            "A": Activity("A", Distribution("exponential", {"mean": 2.0}), "team"),
            "X": Activity("X", Distribution.fixed(1.0), "approver"),
            "B": Activity("B", Distribution("lognormal", {"mu": 0.0, "sigma": 0.5}), "team"),
        },
        pools={
            "team": Pool("team", 3, "Mon-Fri 08:00-18:00", ("ann", "bob", "cy")),
            "approver": Pool("approver", 1, "Tue,Thu 14:00-16:00", ("approver",)),
        },
        delays=(
            Delay("A", "X", 0.5, Distribution.fixed(3.0)),
            Delay("X", "B", 0.3, Distribution.fixed(5.0)),
            Delay("A", "B", 0.2, Distribution.fixed(1.0)),
        ),
    )


def variant_model(variants: tuple[tuple[tuple[str, ...], float], ...],
                  names: tuple[str, ...]) -> SimulationModel:
    return SimulationModel(
        arrivals=Arrivals(interarrival=Distribution("exponential", {"mean": 1.0})),
        routing=Routing(transitions={}, mode="variants", variants=variants),
        activities={a: Activity(a, Distribution.fixed(1.0)) for a in names},
    )


def run(model: SimulationModel, *changes: object) -> SimulationModel:
    return apply(model, Scenario("test", tuple(changes)))  # type: ignore[arg-type]


def error(model: SimulationModel, *changes: object) -> str:
    with pytest.raises(ConfigError) as info:
        run(model, *changes)
    return str(info.value)


# --- remove ---------------------------------------------------------------------------------

def test_remove_reconnects_first_order_routing() -> None:
    # X's exits without its self-loop: B 0.4, END 0.4 -> renormalised B 0.5, END 0.5.
    # START: A 0.8, X 0.2 -> A 0.8, B 0.2*0.5 = 0.1, END 0.1.
    # A: X 0.6, B 0.4 -> B 0.4 + 0.6*0.5 = 0.7, END 0.3.  B is unchanged; X's row is gone.
    out = run(small_model(), Remove("X"))
    t = out.routing.transitions
    assert set(t) == {START, "A", "B"}
    assert t[START] == approx({"A": 0.8, "B": 0.1, END: 0.1})
    assert t["A"] == approx({"B": 0.7, END: 0.3})
    assert t["B"] == {END: 0.9, "A": 0.1}
    assert set(out.activities) == {"A", "B"}
    assert set(out.pools) == {"team", "approver"}  # the pool stays


def test_remove_in_conditioned_tables() -> None:
    # P1 has an X row: A -> X 1.0, X -> B 1.0  => A -> B 1.0.
    # P2 has no X row: the main table's exits (B 0.5, END 0.5) are used:
    #   A: X 0.5, B 0.5 -> B 0.5 + 0.25 = 0.75, END 0.25.
    cond = run(small_model(), Remove("X")).routing.conditioned
    assert cond["P1"] == {START: {"A": 1.0}, "A": {"B": 1.0}, "B": {END: 1.0}}
    assert cond["P2"]["A"] == approx({"B": 0.75, END: 0.25})
    assert "X" not in cond["P2"]


def test_remove_moves_delays_out_and_drops_delays_in() -> None:
    # A -> X (into X): dropped. X -> B (out of X, waiting for B) moves to the predecessors of X
    # (START and A), except where that edge has its own delay: A -> B keeps its 1 h delay.
    delays = run(small_model(), Remove("X")).delays
    assert {(d.source, d.target, d.probability, d.distribution.mean) for d in delays} == {
        ("A", "B", 0.2, 1.0), (START, "B", 0.3, 5.0)}


def test_remove_in_variants_merges_paths() -> None:
    # (A,X,B) .5 + (A,B) .3 -> (A,B) .8; (A,X) .1 -> (A,) .1; (X,) .1 -> empty, dropped:
    # renormalised by 0.9: (A,B) 8/9, (A,) 1/9.
    model = variant_model(((("A", "X", "B"), 0.5), (("A", "B"), 0.3), (("A", "X"), 0.1),
                           (("X",), 0.1)), ("A", "B", "X"))
    out = run(model, Remove("X")).routing.variants
    assert [path for path, _ in out] == [("A", "B"), ("A",)]
    assert [p for _, p in out] == approx([8 / 9, 1 / 9])


def test_remove_every_variant_empty_is_refused() -> None:
    model = variant_model(((("X",), 1.0),), ("X",))
    assert "leaves no activity" in error(model, Remove("X"))


# --- routing ----------------------------------------------------------------------------------

def test_reroute_renormalises_the_other_exits() -> None:
    # A: X 0.6, B 0.4. X x0.5 -> 0.3; B takes the rest: 0.4 * (1 - 0.3) / (1 - 0.6) = 0.7.
    out = run(small_model(), Reroute("A", "X", 0.5)).routing
    assert out.transitions["A"] == approx({"X": 0.3, "B": 0.7})
    # P1: X is A's only exit, so that table is left alone; P2: X 0.5 -> 0.25, B 0.75.
    assert out.conditioned["P1"]["A"] == {"X": 1.0}
    assert out.conditioned["P2"]["A"] == approx({"X": 0.25, "B": 0.75})
    assert out.transitions["X"] == {"X": 0.2, "B": 0.4, END: 0.4}


def test_reroute_caps_at_one_and_zero_removes_the_edge() -> None:
    # 0.6 x 2 = 1.2 -> capped at 1, B gets 0 (and is dropped). x0 drops X, B gets 1.
    assert run(small_model(), Reroute("A", "X", 2)).routing.transitions["A"] == {"X": 1.0}
    assert run(small_model(), Reroute("A", "X", 0)).routing.transitions["A"] == approx({"B": 1.0})
    # From START and to END: X 0.4 -> 0.6 at END, B 0.4 -> 0.4 * 0.4 / 0.6 = 0.2667, X 0.1333.
    out = run(small_model(), Reroute("X", END, 1.5)).routing.transitions["X"]
    assert out == approx({"X": 0.2 * 0.4 / 0.6, "B": 0.4 * 0.4 / 0.6, END: 0.6})


def test_reroute_errors() -> None:
    msg = error(small_model(), Reroute("A", END, 0.5))
    assert "no transition 'A' -> '__end__'" in msg and "'X' (0.60), 'B' (0.40)" in msg
    model = replace(small_model(), routing=replace(small_model().routing,
                                                  transitions={**small_model().routing.transitions,
                                                               START: {"A": 1.0}}))
    assert "the only way out of '__start__'" in error(model, Reroute(START, "A", 0.5))
    assert "closest: 'A'" in error(small_model(), Reroute("a", "X", 0.5))


def test_reroute_in_variants() -> None:
    # Paths through A: (A,B) .5 takes A->B once, (A,C) .3 never, (A,B,A,B) .2 twice.
    # Weighted: .5*.5 + .2*.25 = .3; the rest (A,C) absorbs 1 - .3 = .7.
    model = variant_model(((("A", "B"), 0.5), (("A", "C"), 0.3), (("A", "B", "A", "B"), 0.2)),
                          ("A", "B", "C"))
    out = run(model, Reroute("A", "B", 0.5)).routing.variants
    assert [p for _, p in out] == approx([0.25, 0.7, 0.05])
    assert "no variant goes from 'C' to 'A'" in error(model, Reroute("C", "A", 0.5))
    only = variant_model(((("A", "B"), 1.0),), ("A", "B"))
    assert "cannot become rarer" in error(only, Reroute("A", "B", 0.5))


# --- automate, capacity, demand, calendar, cost --------------------------------------------

def test_automate() -> None:
    out = run(small_model(), Automate("A", duration_factor=0.05, resource=False))
    a = out.activities["A"]
    assert (a.duration.kind, a.duration.params, a.duration.factor) == ("exponential",
                                                                       {"mean": 2.0}, 0.05)
    assert a.duration.mean == approx(0.1)  # 2 h mean x 0.05
    assert a.pool is None
    fixed = run(small_model(), Automate("B", duration=30 / 3600)).activities["B"]
    assert (fixed.duration.kind, fixed.duration.mean, fixed.pool) == ("fixed", 30 / 3600, "team")
    assert "closest: 'A'" in error(small_model(), Automate("AA", duration_factor=0.5))
    with pytest.raises(ConfigError, match="not both"):
        Automate("A", duration_factor=0.5, duration=1.0)
    with pytest.raises(ConfigError, match="needs duration_factor"):
        Automate("A")
    with pytest.raises(ConfigError, match="duration_factor is -1"):
        Automate("A", duration_factor=-1)
    with pytest.raises(ConfigError, match="duration_factor = 0"):
        Automate("A", duration=0.0)
    instant = run(small_model(), Automate("A", duration_factor=0)).activities["A"]
    assert instant.duration.mean == 0


def test_capacity_delta_set_and_floor() -> None:
    m = small_model()
    plus = run(m, Capacity(activity="B", delta=1)).pools["team"]  # B is done by team (3)
    assert plus.capacity == 4
    assert plus.member_names() == ["ann", "bob", "cy", "team #4"]
    assert run(m, Capacity(pool="team", resources=5)).pools["team"].capacity == 5
    assert run(m, Capacity(pool="team", delta=-2)).pools["team"].capacity == 1
    assert "has 3 members and delta -3 leaves 0; expected at least 1" in error(
        m, Capacity(pool="team", delta=-3))
    assert "no pool 'tem' in the model; closest: 'team'" in error(m, Capacity(pool="tem", delta=1))
    automated = run(m, Automate("A", duration_factor=0.1, resource=False))
    assert "'A' needs no pool" in error(automated, Capacity(activity="A", delta=1))
    with pytest.raises(ConfigError, match="give pool or activity, not both"):
        Capacity(pool="team", activity="A", delta=1)
    with pytest.raises(ConfigError, match="give delta or resources"):
        Capacity(pool="team")


def test_demand_multiplies() -> None:
    # Interarrival mean 0.5 h: 336 cases a week; x1.1 then x2 -> factor 2.2, 739.2 a week.
    out = run(small_model(), Demand(1.1), Demand(2.0))
    assert out.arrivals.factor == approx(2.2)
    assert out.arrivals.per_week == approx(739.2)
    with pytest.raises(ConfigError, match="expected a number > 0"):
        Demand(0)


def test_calendar_replace_and_add() -> None:
    out = run(small_model(), WorkingHours("mon-fri 14:00-16:00", activity="X"))
    assert out.pools["approver"].calendar == "Mon-Fri 14:00-16:00"
    # Tue,Thu 14-16 plus Mon,Wed,Fri 14-16 is every weekday 14-16.
    added = run(small_model(), WorkingHours("Mon,Wed,Fri 14:00-16:00", pool="approver", add=True))
    assert added.pools["approver"].calendar == "Mon-Fri 14:00-16:00"
    evening = run(small_model(), WorkingHours("Mon-Fri 18:00-20:00", pool="team", add=True))
    assert evening.pools["team"].calendar == "Mon-Fri 08:00-20:00"
    with pytest.raises(ConfigError, match="expected a time range"):
        WorkingHours("Mon-Fri 8-18", pool="team")


def test_cost_fields() -> None:
    out = run(small_model(), Cost(activity="A", hourly=40),
              Cost(pool="approver", hourly=90, activity="X", per_execution=5),
              Cost(activity="B", per_execution=2.5))
    assert out.pools["team"].hourly_cost == 40  # the pool that does A
    assert out.pools["approver"].hourly_cost == 90
    assert (out.activities["X"].cost, out.activities["B"].cost, out.activities["A"].cost) == (
        5, 2.5, 0)
    for bad, text in [({"pool": "team", "activity": "A", "per_execution": 1.0}, "without hourly"), ({"per_execution": 1.0},
                      "per_execution needs activity"), ({}, "cost needs hourly"),
                      ({"pool": "team", "activity": "A", "hourly": 1.0}, "without per_execution")]:
        with pytest.raises(ConfigError, match=text):
            Cost(**bad)  # type: ignore[arg-type]


def test_describe_each_kind() -> None:
    assert describe(Automate("Categorise", duration_factor=0.05, resource=False)) == (
        "Categorise: 5% of its duration, no resource needed")
    assert describe(Automate("Categorise", duration=30 / 3600)) == "Categorise: takes 30 s"
    assert describe(Remove("Approve fix")) == "Approve fix: removed, cases skip it"
    assert describe(Capacity(activity="Diagnose", delta=1)) == "the pool doing Diagnose: 1 more member"
    assert describe(Capacity(pool="tier 1", delta=-2)) == "pool tier 1: 2 fewer members"
    assert describe(Capacity(pool="tier 1", resources=4)) == "pool tier 1: 4 members"
    assert describe(Demand(1.1)) == "demand: arrivals x1.1 (+10%)"
    assert describe(Reroute("Close", "Reopen", 0.5)) == (
        "Close -> Reopen: probability x0.5, the other exits of Close renormalised")
    assert describe(WorkingHours("Mon-Fri 14:00-16:00", activity="Approve fix", add=True)) == (
        "the pool doing Approve fix also works Mon-Fri 14:00-16:00")
    assert describe(Cost(activity="Approve fix", hourly=90, per_execution=5)) == (
        "the pool doing Approve fix costs 90 per working hour; Approve fix costs 5 per execution")


def test_apply_is_pure_and_names_the_change() -> None:
    model = small_model()
    before = copy.deepcopy(model)
    scenario = Scenario("everything", (
        Automate("A", duration_factor=0.5, resource=False), Remove("X"), Capacity(pool="team", delta=2),
        Demand(1.5), Reroute("B", "A", 0.5), WorkingHours("24/7", pool="team"),
        Cost(pool="approver", hourly=10)))
    changed = apply(model, scenario)
    assert model == before
    assert changed != model
    with pytest.raises(ConfigError) as info:
        apply(model, Scenario("S", (Demand(1.1), Remove("Y")), origin="f.toml, scenario 3 ('S')"))
    assert str(info.value).startswith("f.toml, scenario 3 ('S'), change 2 (remove): no activity 'Y'")
    with pytest.raises(ConfigError, match=r"^scenario 'S', change 1 \(capacity\)"):
        apply(model, Scenario("S", (Capacity(pool="nobody", delta=1),)))


# --- TOML -----------------------------------------------------------------------------------

def load_text(tmp_path: Path, text: str) -> list[Scenario]:
    path = tmp_path / "sc.toml"
    path.write_text(text, encoding="utf-8")
    return load_scenarios(path)


def load_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, text)
    return str(info.value)


ONE = '[[scenario]]\nname = "S"\nchanges = [{change}]\n'


def test_load_reads_every_kind(tmp_path: Path) -> None:
    text = """
[[scenario]]
name = "All"
description = "every kind"
changes = [
  { kind = "automate", activity = "A", duration = "30s" },
  { kind = "remove", activity = "X" },
  { kind = "capacity", pool = "team", resources = 4 },
  { kind = "demand", factor = 1.1 },
  { kind = "routing", source = "A", target = "B", factor = 0.5 },
  { kind = "calendar", activity = "B", hours = "mon-fri 08:00-20:00" },
  { kind = "cost", pool = "team", hourly = 40 },
]
"""
    (s,) = load_text(tmp_path, text)
    assert (s.name, s.description) == ("All", "every kind")
    assert s.origin == f"{tmp_path / 'sc.toml'}, scenario 1 ('All')"
    assert s.changes == (Automate("A", duration=30 / 3600), Remove("X"),
                         Capacity(pool="team", resources=4), Demand(1.1), Reroute("A", "B", 0.5),
                         WorkingHours("Mon-Fri 08:00-20:00", activity="B"),
                         Cost(pool="team", hourly=40.0))
    assert load_text(tmp_path, ONE.format(change='{ kind = "capacity", pool = "t", delta = 2.0 }')
                     )[0].changes == (Capacity(pool="t", delta=2),)


@pytest.mark.parametrize(("change", "expected"), [
    ('{ kind = "automat", activity = "A" }',
     "change 1: kind is 'automat' (text); expected one of automate, remove, capacity, demand, "
     "routing, wait, queue, calendar, cost (did you mean 'automate'?)"),
    ('{ activity = "A" }', "change 1: kind is missing; expected one of automate"),
    ('{ kind = "remove" }',
     "change 1 (remove): activity is missing; expected an activity name such as \"Categorise\""),
    ('{ kind = "capacity", activity = "A" }', "change 1 (capacity): give delta or resources"),
    ('{ kind = "automate", activity = "A", duration = "soon" }',
     "change 1 (automate): duration 'soon' not understood"),
    ('{ kind = "automate", activity = "A", duration = 30 }',
     "change 1 (automate): duration is 30 (a whole number); expected a duration such as \"30s\""),
    ('{ kind = "demand", factr = 1.1 }',
     "change 1 (demand): unknown key 'factr'; expected kind, factor (did you mean 'factor'?)"),
    ('{ kind = "capacity", pool = "t", delta = "one" }',
     "change 1 (capacity): delta is 'one' (text); expected a whole number such as 1 or -1"),
    ('{ kind = "capacity", pool = "t", delta = 1.5 }', "delta is 1.5 (a number); expected a whole"),
    ('{ kind = "automate", activity = "A", resource = "no" }',
     "resource is 'no' (text); expected true or false"),
    ('{ kind = "demand", factor = true }', "factor is True (true/false); expected a number"),
    ('{ kind = "demand", factor = -1 }', "change 1 (demand): factor is -1.0; expected a number > 0"),
    ('{ kind = "calendar", pool = "t", hours = "Mon-Fri 8-18" }',
     "change 1 (calendar): hours: calendar 'Mon-Fri 8-18': found '8-18'"),
    ('"demand"', "change 1: found 'demand' (text); expected a table"),
])
def test_load_errors_name_file_scenario_and_change(tmp_path: Path, change: str,
                                                   expected: str) -> None:
    msg = load_error(tmp_path, ONE.format(change=change))
    assert msg.startswith(f"{tmp_path / 'sc.toml'}, scenario 1 ('S'), ")
    assert expected in msg


@pytest.mark.parametrize(("text", "expected"), [
    ("", "found nothing for scenario; expected at least one [[scenario]] table"),
    ("[scenario]\nname = 'S'\n", "found {'name': 'S'} (a table) for scenario"),
    ("scenarios = []\n", "unknown key 'scenarios'; expected version, scenario (did you mean "
                         "'scenario'?)"),
    ("version = 2\n" + ONE.format(change='{ kind = "demand", factor = 1.1 }'),
     "version is 2; expected 1"),
    ("[[scenario]]\nchanges = []\n", "scenario 1: name is missing; expected a non-empty text"),
    ("[[scenario]]\nname = 'S'\nchanges = []\n", "scenario 1 ('S'): changes is [] (a list); "
                                                  "expected a list of at least one change"),
    ("[[scenario]]\nname = 'S'\nchange = []\n", "scenario 1: unknown key 'change'"),
    (ONE.format(change='{ kind = "demand", factor = 1.1 }') * 2,
     "scenario 2 ('S'): the name 'S' is used twice"),
    (ONE.format(change='{ kind = "demand", factor = 1.1 }').replace('"S"', '"baseline"'),
     "the name 'baseline' is kept for the unchanged model"),
    ("[[scenario]\n", "not valid TOML"),
])
def test_load_file_level_errors(tmp_path: Path, text: str, expected: str) -> None:
    msg = load_error(tmp_path, text)
    assert msg.startswith(f"{tmp_path / 'sc.toml'}")
    assert expected in msg


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the scenarios file"):
        load_scenarios(tmp_path / "nope.toml")


# --- the support sample -----------------------------------------------------------------------

SUPPORT = ("Ticket created", "Categorise", "Request customer info", "Customer replied",
           "Resolve (tier 1)", "Diagnose (tier 2)", "Approve fix", "Apply fix (tier 2)",
           "Close ticket", "Reopen")
TIER1, TIER2, APPROVER = "Categorise +3 more", "Apply fix (tier 2) + Diagnose (tier 2)", "Approve fix"


def support_model() -> SimulationModel:
    """The support process of sample_logs/README.md, with pools named as infer_pools names
    them; Ticket created, Customer replied and Reopen are instant and need nobody."""
    pool_of = {"Categorise": TIER1, "Request customer info": TIER1, "Resolve (tier 1)": TIER1,
               "Close ticket": TIER1, "Diagnose (tier 2)": TIER2, "Apply fix (tier 2)": TIER2,
               "Approve fix": APPROVER}
    t = {
        START: {"Ticket created": 1.0},
        "Ticket created": {"Categorise": 1.0},
        "Categorise": {"Diagnose (tier 2)": 0.31, "Request customer info": 0.207,
                       "Resolve (tier 1)": 0.483},
        "Request customer info": {"Customer replied": 1.0},
        "Customer replied": {"Resolve (tier 1)": 1.0},
        "Diagnose (tier 2)": {"Approve fix": 0.5, "Apply fix (tier 2)": 0.5},
        "Approve fix": {"Apply fix (tier 2)": 1.0},
        "Apply fix (tier 2)": {"Close ticket": 1.0},
        "Resolve (tier 1)": {"Close ticket": 1.0},
        "Close ticket": {END: 0.92, "Reopen": 0.08},
        "Reopen": {"Resolve (tier 1)": 1.0},
    }
    return SimulationModel(
        arrivals=Arrivals(interarrival=Distribution("exponential", {"mean": 168 / 255})),
        routing=Routing(t),
        activities={a: Activity(a, Distribution.fixed(0.0) if a not in pool_of
                                else Distribution("lognormal", {"mu": -2.0, "sigma": 0.5}),
                                pool_of.get(a)) for a in SUPPORT},
        pools={TIER1: Pool(TIER1, 9, "Mon-Fri 08:00-18:00"),
               TIER2: Pool(TIER2, 3, "Mon-Fri 08:00-19:00"),
               APPROVER: Pool(APPROVER, 1, "Tue,Thu 14:00-16:00", ("approver",))},
        delays=(Delay("Request customer info", "Customer replied", 1.0,
                      Distribution("lognormal", {"mu": math.log(18), "sigma": 0.9})),
                Delay("Close ticket", "Reopen", 1.0,
                      Distribution("lognormal", {"mu": math.log(36), "sigma": 0.8}))),
    )


def test_sample_scenarios_apply_to_the_support_model() -> None:
    scenarios = load_scenarios(SAMPLES / "scenarios.toml")
    assert 4 <= len(scenarios) <= 6
    model = support_model()
    out = {s.name: apply(model, s) for s in scenarios}
    auto = out["Automate categorisation"].activities["Categorise"]
    assert (auto.pool, auto.duration.factor) == (None, 0.05)
    assert out["One more tier-2 engineer"].pools[TIER2].capacity == 4
    assert out["Approver every weekday 14:00-16:00"].pools[APPROVER].calendar == "Mon-Fri 14:00-16:00"
    assert out["10% more tickets"].arrivals.factor == approx(1.1)
    costed = out["Current staffing, costed"]
    assert {p.name: p.hourly_cost for p in costed.pools.values()} == {TIER1: 35, TIER2: 55,
                                                                      APPROVER: 90}
    assert costed.activities["Approve fix"].cost == 5
    more = out["One more tier-2 engineer, costed"]
    assert (more.pools[TIER2].capacity, more.pools[TIER2].hourly_cost) == (4, 55)
    for s in scenarios:
        assert all(describe(c) for c in s.changes)


def test_sample_commented_kinds_apply_too() -> None:
    # The commented examples at the end of the file must work when uncommented.
    lines = (SAMPLES / "scenarios.toml").read_text(encoding="utf-8").splitlines()
    changes = [line.strip("# ").removeprefix("changes = ") for line in lines
               if line.startswith("#   changes = ")]
    assert len(changes) == 6
    text = "".join(f'[[scenario]]\nname = "c{i}"\nchanges = {c}\n' for i, c in enumerate(changes))
    model = support_model()
    out = [apply(model, s) for s in scenarios_from(tomllib.loads(text))]
    # Remove Approve fix: Diagnose -> Apply fix 0.5 + 0.5 * 1.0 = 1.0.
    assert out[0].routing.transitions["Diagnose (tier 2)"] == {"Apply fix (tier 2)": 1.0}
    # Reopen 0.08 x 0.5 = 0.04; END 0.92 x 0.96 / 0.92 = 0.96.
    assert out[1].routing.transitions["Close ticket"] == approx({END: 0.96, "Reopen": 0.04})
    assert out[2].pools[TIER2].capacity == 5
    assert out[3].pools[TIER2].calendar == "Mon-Fri 08:00-21:00"
    (before,) = [d for d in model.delays if d.target == "Customer replied"]
    (after,) = [d for d in out[4].delays if d.target == "Customer replied"]
    assert after.distribution.mean == approx(0.5 * before.distribution.mean)
    assert out[5].activities["Diagnose (tier 2)"].queue_priority == 2


def test_unknown_activity_lists_the_closest_names() -> None:
    scenario = Scenario("S", (Automate("Categorize", duration_factor=0.1),), origin="f, scenario 1")
    with pytest.raises(ConfigError) as info:
        apply(support_model(), scenario)
    assert str(info.value) == ("f, scenario 1, change 1 (automate): no activity 'Categorize' in "
                               "the model; closest: 'Categorise'")
    with pytest.raises(ConfigError, match="closest: 'Diagnose \\(tier 2\\)'"):
        apply(support_model(), Scenario("S", (Capacity(activity="diagnose", delta=1),)))


def test_to_toml_round_trip() -> None:
    scenarios = load_scenarios(SAMPLES / "scenarios.toml") + [Scenario("More", (
        Automate("A", duration=1.5, resource=False), Remove("X"), Reroute(START, "A", 0.5),
        WorkingHours("Sat 09:00-13:00", pool="p", add=True), Capacity(pool="p", delta=-1)))]
    again = scenarios_from(tomllib.loads(to_toml(scenarios)))
    assert [replace(s, origin="") for s in again] == [replace(s, origin="") for s in scenarios]


# --- suggestions ------------------------------------------------------------------------------

def bottleneck(rank: int, kind: str, activity: str | None, causes: Causes | None = None,
               source: str | None = None, target: str | None = None) -> Bottleneck:
    return Bottleneck(rank, kind, activity, source, target, 100.0 - rank, 10.0, 1.0, 2.0, 50,
                      60, causes, f"explanation {rank}")


def test_suggest_from_bottlenecks() -> None:
    report = BottleneckReport((
        bottleneck(1, "wait", "Diagnose (tier 2)", Causes(60.0, 40.0, 0.0, 10)),
        bottleneck(2, "wait", "Approve fix", Causes(0.0, 99.0, 1.0, 10)),
        bottleneck(3, "wait", "Customer replied", Causes(0.0, 0.0, 50.0, 10)),  # extraneous
        bottleneck(4, "edge", None, Causes(50.0, 10.0, 0.0, 5), "Categorise", "Diagnose (tier 2)"),
        bottleneck(5, "wait", "Categorise", Causes(0.0, 30.0, 5.0, 10)),  # tier 1 has 9 people
        bottleneck(6, "handoff", None, None, "tier 1", "tier 2"),
        bottleneck(7, "processing", "Diagnose (tier 2)"),
        bottleneck(8, "rework", "Resolve (tier 1)"),
        bottleneck(9, "processing", "Close ticket"),
    ), 1000, 5000.0, 20, True, None)
    model = support_model()
    found = suggest(model, report, limit=6)
    assert [(s.name, s.changes) for s in found] == [
        ("One more person for 'Diagnose (tier 2)'", (Capacity(activity="Diagnose (tier 2)", delta=1),)),
        # The approver works Tue and Thu: the same hours on the other weekdays.
        ("Longer hours for 'Approve fix'",
         (WorkingHours("Mon,Wed,Fri 14:00-16:00", activity="Approve fix", add=True),)),
        ("Skip 'Approve fix'", (Remove("Approve fix"),)),
        # Waiting for the customer: the model's delay before the reply, halved.
        ("Halve the waiting before 'Customer replied'", (Wait("Customer replied", 0.5),)),
        ("Halve the work of 'Diagnose (tier 2)'",
         (Automate("Diagnose (tier 2)", duration_factor=0.5),)),
        # Cycle Resolve -> Close (1.0) -> Reopen (0.08) -> Resolve (1.0): halve Close -> Reopen.
        ("Halve the rework of 'Resolve (tier 1)'", (Reroute("Close ticket", "Reopen", 0.5),)),
    ]
    assert found[0].description == "Suggested by bottleneck #1: explanation 1"
    for s in found:
        apply(model, s)
    assert [s.name for s in suggest(model, report, limit=2)] == [found[0].name, found[1].name]
    # Round trip through TOML, as `--suggest` output a user edits.
    again = scenarios_from(tomllib.loads(to_toml(found)))
    assert [(s.name, s.changes) for s in again] == [(s.name, s.changes) for s in found]


def test_suggest_longer_hours_for_a_pool_that_works_every_weekday() -> None:
    model = support_model()
    small = replace(model, pools={**model.pools, TIER2: replace(model.pools[TIER2], capacity=2)})
    report = BottleneckReport((bottleneck(1, "wait", "Diagnose (tier 2)",
                                          Causes(10.0, 80.0, 10.0, 5)),), 10, 10.0, 1, True, None)
    (s,) = suggest(small, report)
    assert s.changes == (WorkingHours("Mon-Fri 19:00-21:00", activity="Diagnose (tier 2)",
                                      add=True),)
    assert apply(small, s).pools[TIER2].calendar == "Mon-Fri 08:00-21:00"
    big = replace(model, pools={**model.pools, TIER2: replace(model.pools[TIER2], capacity=4)})
    assert suggest(big, report) == []  # 4 members: more hours is not the first lever


def test_suggest_rework_in_variant_routing() -> None:
    # Lead, Proposal, Negotiation, Won, revised 0, 1 or 2 times. Edges implied by the mix:
    # P -> N always; N is left 1.5 times per case (.6*1 + .3*2 + .1*3): to W 1.0, to P .3 + .1*2
    # = .5, so P(N -> P) = 1/3. The cycle P -> N -> P; its rarer step N -> P is halved:
    # paths taking it k times weigh x0.5**k: .3*.5 + .1*.25 = .175; the path without it takes
    # the rest, .825.
    model = variant_model(((("L", "P", "N", "W"), 0.6), (("L", "P", "N", "P", "N", "W"), 0.3),
                           (("L", "P", "N", "P", "N", "P", "N", "W"), 0.1)), ("L", "P", "N", "W"))
    report = BottleneckReport((bottleneck(1, "rework", "P"),), 10, 10.0, 1, False, None)
    (s,) = suggest(model, report)
    assert s.changes == (Reroute("N", "P", 0.5),)
    assert [p for _, p in apply(model, s).routing.variants] == approx([0.825, 0.15, 0.025])


def test_wait_scales_the_delays_before_an_activity() -> None:
    # support_model: Request customer info -> Customer replied waits a calibrated delay.
    model = support_model()
    (before,) = [d for d in model.delays if d.target == "Customer replied"]
    halved = apply(model, Scenario("s", (Wait("Customer replied", 0.5),)))
    (after,) = [d for d in halved.delays if d.target == "Customer replied"]
    assert after.distribution.mean == approx(0.5 * before.distribution.mean)
    assert after.probability == before.probability
    assert [d for d in halved.delays if d.target != "Customer replied"] == [
        d for d in model.delays if d.target != "Customer replied"]
    one_edge = apply(model, Scenario("s", (Wait("Customer replied", 0.0,
                                                source="Request customer info"),)))
    assert [d.distribution.mean for d in one_edge.delays if d.target == "Customer replied"] == [0.0]
    assert describe(Wait("Customer replied", 0.5)) == "waiting before Customer replied x0.5"


def test_wait_refuses_what_is_queueing_not_a_delay() -> None:
    with pytest.raises(ConfigError, match="no extraneous waiting before 'Diagnose .tier 2.'"):
        apply(support_model(), Scenario("s", (Wait("Diagnose (tier 2)", 0.5),)))
    with pytest.raises(ConfigError, match="factor"):
        Wait("Customer replied", -1.0)


def test_suggest_shorter_stages_without_start_times() -> None:
    # A stage history: no pools, every edge a delay, no causes. The longest wait is halved.
    model = SimulationModel(
        arrivals=Arrivals(interarrival=Distribution.fixed(1.0)),
        routing=Routing({START: {"Lead": 1.0}, "Lead": {"Won": 1.0}, "Won": {END: 1.0}}),
        activities={a: Activity(a, Distribution.fixed(0.0)) for a in ("Lead", "Won")},
        delays=(Delay("Lead", "Won", 1.0, Distribution.fixed(48.0)),), has_resources=False)
    report = BottleneckReport((bottleneck(1, "wait", "Won"),
                               bottleneck(2, "edge", None, None, "Lead", "Won")), 10, 480.0, 2,
                              False, None)
    found = suggest(model, report)
    # The edge's candidate halves the same (only) delay into 'Won': one scenario, not two.
    assert [(s.name, s.changes) for s in found] == [
        ("Halve the waiting before 'Won'", (Wait("Won", 0.5),))]
    assert apply(model, found[0]).delays[0].distribution.mean == approx(24.0)
    # With a second way into 'Won', the edge's own candidate is a different change.
    two = replace(model, routing=Routing({START: {"Lead": 0.5, "Won": 0.5}, "Lead": {"Won": 1.0},
                                          "Won": {END: 1.0}}),
                  delays=(*model.delays, Delay(START, "Won", 1.0, Distribution.fixed(1.0))))
    assert [s.changes for s in suggest(two, report)] == [
        (Wait("Won", 0.5),), (Wait("Won", 0.5, source="Lead"),)]


def test_queue_order_sets_an_activitys_queue_priority() -> None:
    model = support_model()
    fix_first = apply(model, Scenario("s", (QueueOrder("Diagnose (tier 2)", 1),)))
    assert fix_first.activities["Diagnose (tier 2)"].queue_priority == 1
    assert {a: x.queue_priority for a, x in fix_first.activities.items() if a != "Diagnose (tier 2)"} \
        == {a: x.queue_priority for a, x in model.activities.items() if a != "Diagnose (tier 2)"}
    assert describe(QueueOrder("Diagnose (tier 2)", 1)) == (
        "Diagnose (tier 2): served first in its pool (queue priority 1)")
    with pytest.raises(ConfigError, match="never queues"):
        apply(model, Scenario("s", (QueueOrder("Customer replied", 1),)))
    with pytest.raises(ConfigError, match=">= 0"):
        QueueOrder("Diagnose (tier 2)", -1)
    text = to_toml([Scenario("Diagnose first", (QueueOrder("Diagnose (tier 2)", 2),))])
    (again,) = scenarios_from(tomllib.loads(text))
    assert again.changes == (QueueOrder("Diagnose (tier 2)", 2),)
    with pytest.raises(ConfigError, match=r"priority is 1.5 \(a number\); expected a whole number"):
        scenarios_from(tomllib.loads(text.replace("priority = 2", "priority = 1.5")))
