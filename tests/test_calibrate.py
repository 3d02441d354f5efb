"""Calibration recovers known parameters from logs whose generator we control.

The main log comes from a small generator written here (plain Python and numpy, not the
project's engine or calendar code), with every parameter stated below; the shipped support
and CRM samples are checked against `sample_logs/ground_truth.json`.
"""

from __future__ import annotations

import csv
import heapq
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from processmine import read_log
from processmine.errors import ConfigError
from simulation.calibrate import NO_START_NOTE, calibrate
from simulation.model import END, START, Distribution, SimulationModel
from tests.conftest import SAMPLES

# --- the generator's parameters (the ground truth) ---------------------------------------
T0 = datetime(2024, 1, 1)  # a Monday
WEEKS = 12
PEAK_RATE, BASE_RATE = 6.0, 1.0  # cases per hour: Mon-Fri 09-17, and every other hour
CHANNELS = {"web": 0.6, "phone": 0.4}
P_INVESTIGATE = {"web": 0.2, "phone": 0.45}  # Triage -> Investigate; else Quick fix
P_INVESTIGATE_ALL = 0.6 * 0.2 + 0.4 * 0.45  # = 0.30
# processing in working hours: lognormal (median hours, sigma of the log)
PROC = {"Triage": (0.10, 0.5), "Investigate": (0.50, 0.4), "Quick fix": (0.15, 0.5),
        "Close": (0.10, 0.4)}
POOL_OF = {"Triage": "ops", "Quick fix": "ops", "Close": "ops", "Investigate": "experts"}
MEMBERS = {"ops": ("Olga", "Omar", "Otto"), "experts": ("Erin", "Emil")}
OFFICE = "Mon-Fri 09:00-17:00"  # the experts' shift; ops work 24/7
P_DELAY, DELAY_MEDIAN, DELAY_SIGMA = 0.4, 6.0, 0.6  # Quick fix -> Close, clock hours


def _office(t: datetime) -> bool:
    return t.weekday() < 5 and 9 <= t.hour < 17


def _next_office(t: datetime) -> datetime:
    while not _office(t):
        t = (t + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return t


def _add_office(t: datetime, hours: float) -> datetime:
    """`hours` of work from `t`, pausing outside Mon-Fri 09:00-17:00."""
    left = hours
    while True:
        t = _next_office(t)
        closing = t.replace(hour=17, minute=0, second=0, microsecond=0)
        if left * 3600 <= (closing - t).total_seconds():
            return t + timedelta(hours=left)
        left -= (closing - t).total_seconds() / 3600
        t = closing


@dataclass
class _Agent:
    name: str
    free: datetime


def generate(path: Path, seed: int = 7) -> None:
    """Write the log: FIFO pools (requests served in order of readiness by the agent who can
    start first), work pausing off shift, instant `Register` by `system` at arrival."""
    rng = np.random.default_rng(seed)
    ready: list[tuple[datetime, int, str, str]] = []  # (ready time, seq, case, activity)
    channel: dict[str, str] = {}
    seq = 0
    rows: list[tuple[str, str, datetime, datetime, str]] = []
    for hour in range(WEEKS * 168):
        start = T0 + timedelta(hours=hour)
        rate = PEAK_RATE if _office(start) else BASE_RATE
        for offset in np.sort(rng.uniform(0, 3600, rng.poisson(rate))):
            case = f"c{len(channel) + 1:05d}"
            channel[case] = "web" if rng.random() < CHANNELS["web"] else "phone"
            at = start + timedelta(seconds=float(offset))
            rows.append((case, "Register", at, at, "system"))
            heapq.heappush(ready, (at, seq, case, "Triage"))
            seq += 1
    agents = {p: [_Agent(n, T0) for n in names] for p, names in MEMBERS.items()}
    while ready:
        at, _, case, activity = heapq.heappop(ready)
        pool = POOL_OF[activity]
        median, sigma = PROC[activity]
        work = float(rng.lognormal(math.log(median), sigma))
        starts = [max(at, a.free) if pool == "ops" else _next_office(max(at, a.free))
                  for a in agents[pool]]
        first = min(starts)
        chosen = int(rng.choice([i for i, s in enumerate(starts) if s == first]))
        begin = starts[chosen]
        end = begin + timedelta(hours=work) if pool == "ops" else _add_office(begin, work)
        agents[pool][chosen].free = end
        rows.append((case, activity, begin, end, agents[pool][chosen].name))
        if activity == "Triage":
            nxt = "Investigate" if rng.random() < P_INVESTIGATE[channel[case]] else "Quick fix"
            heapq.heappush(ready, (end, seq, case, nxt))
        elif activity in ("Investigate", "Quick fix"):
            wait = 0.0
            if activity == "Quick fix" and rng.random() < P_DELAY:
                wait = float(rng.lognormal(math.log(DELAY_MEDIAN), DELAY_SIGMA))
            heapq.heappush(ready, (end + timedelta(hours=wait), seq, case, "Close"))
        seq += 1
    stamp = "%Y-%m-%d %H:%M:%S"  # floored to the second, so no end lands on 17:00:00 by rounding
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["case", "activity", "start", "end", "resource", "channel"])
        for case, activity, begin, end, who in sorted(rows, key=lambda r: (r[3], r[0])):
            out.writerow([case, activity, begin.strftime(stamp), end.strftime(stamp), who,
                          channel[case]])


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> SimulationModel:
    path = tmp_path_factory.mktemp("gen") / "log.csv"
    generate(path)
    return calibrate(read_log(path), by="channel")


@pytest.fixture(scope="module")
def support() -> SimulationModel:
    return calibrate(read_log(SAMPLES / "support_tickets.csv.gz"))


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / "ground_truth.json").read_text())
    return data


def _pool_of(model: SimulationModel, activity: str) -> tuple[int, str]:
    pool = model.activities[activity].pool
    assert pool is not None
    return model.pools[pool].capacity, model.pools[pool].calendar


def _median(model: SimulationModel, activity: str) -> float:
    d = model.activities[activity].duration
    assert d.kind == "lognormal", d
    return math.exp(d.params["mu"])


# --- the generated log -------------------------------------------------------------------


def test_weekly_arrival_profile(generated: SimulationModel) -> None:
    rate = generated.arrivals.weekly_rate
    assert rate is not None
    peak = [h for h in range(168) if h // 24 < 5 and 9 <= h % 24 < 17]  # 40 hours
    base = [h for h in range(168) if h not in peak]
    # 12 weeks x 40 peak hours x 6/h = 2,880 arrivals: sd 1.9%; base 1,536: sd 2.6%
    assert np.mean([rate[h] for h in peak]) == pytest.approx(PEAK_RATE, rel=0.08)
    assert np.mean([rate[h] for h in base]) == pytest.approx(BASE_RATE, rel=0.1)


def test_routing_probabilities(generated: SimulationModel) -> None:
    t = generated.routing.transitions
    # ~4,400 cases: sd of the 0.30 share is 0.007; 4 sd
    assert t["Triage"]["Investigate"] == pytest.approx(P_INVESTIGATE_ALL, abs=0.028)
    assert t["Triage"]["Quick fix"] == pytest.approx(1 - P_INVESTIGATE_ALL, abs=0.028)
    assert t[START] == {"Register": 1.0}
    assert t["Register"] == {"Triage": 1.0}
    assert t["Investigate"] == {"Close": 1.0}
    assert t["Close"] == {END: 1.0}
    # by channel: web ~2,640 cases (sd 0.008), phone ~1,760 (sd 0.012)
    by = generated.routing.conditioned
    assert generated.routing.by == "channel"
    assert by["web"]["Triage"]["Investigate"] == pytest.approx(0.2, abs=0.032)
    assert by["phone"]["Triage"]["Investigate"] == pytest.approx(0.45, abs=0.048)


def test_case_attributes(generated: SimulationModel) -> None:
    (channel,) = generated.attributes
    assert channel.name == "channel"
    freq = dict(zip(channel.values, channel.probabilities, strict=True))
    assert freq["web"] == pytest.approx(0.6, abs=0.03)
    assert generated.priority is None


def test_pools_and_calendars(generated: SimulationModel) -> None:
    assert _pool_of(generated, "Triage") == (3, "24/7")
    assert _pool_of(generated, "Investigate") == (2, OFFICE)
    assert generated.activities["Quick fix"].pool == generated.activities["Triage"].pool
    assert sorted(generated.pools[generated.activities["Investigate"].pool or ""].resources) == \
        sorted(MEMBERS["experts"])
    # `system` spends no time: Register needs nobody and takes none
    register = generated.activities["Register"]
    assert register.pool is None and register.duration.kind == "fixed"
    assert register.duration.params["value"] == 0.0
    assert len(generated.pools) == 2
    assert generated.has_resources


def test_processing_times_in_working_hours(generated: SimulationModel) -> None:
    # Investigate pauses overnight; its fitted median is in working hours (0.5), not clock hours
    for activity, (median, sigma) in PROC.items():
        assert _median(generated, activity) == pytest.approx(median, rel=0.1), activity
        assert generated.activities[activity].duration.params["sigma"] == \
            pytest.approx(sigma, rel=0.1), activity


def test_extraneous_delay(generated: SimulationModel) -> None:
    delays = {(d.source, d.target): d for d in generated.delays}
    # Only the planted delay: waits behind busy agents or for the experts' shift are left to
    # the engine, so Triage -> Investigate and Investigate -> Close carry none.
    assert set(delays) == {("Quick fix", "Close")}
    d = delays["Quick fix", "Close"]
    # ~3,100 Quick fix -> Close transitions: sd of the 0.4 share is 0.009
    assert d.probability == pytest.approx(P_DELAY, abs=0.04)
    assert d.distribution.kind == "lognormal"
    assert math.exp(d.distribution.params["mu"]) == pytest.approx(DELAY_MEDIAN, rel=0.15)
    assert d.distribution.params["sigma"] == pytest.approx(DELAY_SIGMA, rel=0.15)


def test_provenance(generated: SimulationModel) -> None:
    assert generated.calibrated_from is not None and generated.calibrated_from >= T0
    assert generated.calibrated_to is not None
    assert generated.calibrated_to <= T0 + timedelta(weeks=WEEKS + 1)
    assert any("working hours" in n for n in generated.notes)
    assert generated.source.endswith("log.csv")


# --- the support sample ------------------------------------------------------------------


def test_support_pools(support: SimulationModel, truth: dict[str, Any]) -> None:
    agents = truth["support_tickets"]["realised"]["agents"]
    assert _pool_of(support, "Categorise") == (9, "Mon-Fri 08:00-18:00")
    assert _pool_of(support, "Diagnose (tier 2)") == (3, "Mon-Fri 08:00-19:00")
    assert _pool_of(support, "Approve fix") == (1, "Tue,Thu 14:00-16:00")
    tier1 = support.pools[support.activities["Close ticket"].pool or ""]
    assert sorted(tier1.resources) == sorted(agents["tier1"])
    assert support.pools[support.activities["Approve fix"].pool or ""].resources == ("approver",)
    for instant in ("Ticket created", "Customer replied", "Reopen"):
        assert support.activities[instant].pool is None
        assert support.activities[instant].duration.mean == 0.0
    assert len(support.pools) == 3


def test_support_processing_times(support: SimulationModel, truth: dict[str, Any]) -> None:
    for activity, spec in truth["support_tickets"]["processing_minutes"].items():
        assert _median(support, activity) * 60 == pytest.approx(spec["median"], rel=0.05), activity


def test_support_routing_and_mix(support: SimulationModel, truth: dict[str, Any]) -> None:
    realised = truth["support_tickets"]["realised"]["routing_realised"]
    t = support.routing.transitions
    assert t["Categorise"]["Diagnose (tier 2)"] == pytest.approx(
        realised["escalated_share_of_routed_tickets"], abs=0.005)
    assert t["Diagnose (tier 2)"]["Approve fix"] == pytest.approx(
        realised["approval_share_of_tickets_with_apply_fix"], abs=0.005)
    assert t["Close ticket"]["Reopen"] == pytest.approx(realised["reopen_per_close"], abs=0.005)
    mix = {a.name: dict(zip(a.values, a.probabilities, strict=True)) for a in support.attributes}
    for value, p in truth["support_tickets"]["priority_mix"].items():
        assert mix["priority"][value] == pytest.approx(p, abs=0.02)
    assert support.priority == "priority"
    assert support.priority_order == ("P1", "P2", "P3", "P4")


def test_support_arrivals(support: SimulationModel, truth: dict[str, Any]) -> None:
    true_rate = truth["support_tickets"]["arrival"]["rates_per_hour_of_week"]
    rate = support.arrivals.weekly_rate
    assert rate is not None
    for level in (4.4, 0.8):  # 26 weeks x 50 hours x 4.4 = 5,720 arrivals at the peak
        hours = [h for h in range(168) if true_rate[h] == level]
        assert np.mean([rate[h] for h in hours]) == pytest.approx(level, rel=0.06)


def test_support_delays(support: SimulationModel, truth: dict[str, Any]) -> None:
    delays = {(d.source, d.target): d for d in support.delays}
    # Only the customer's delays; the waits before Diagnose (contention) and Approve fix
    # (the approver's 4 hours a week) are explained by the pools and left to the engine.
    assert set(delays) == {("Request customer info", "Customer replied"), ("Close ticket", "Reopen")}
    spec = truth["support_tickets"]["extraneous_delays_hours"]
    reply = delays["Request customer info", "Customer replied"]
    assert reply.probability == 1.0
    assert reply.distribution.kind == "lognormal"
    true_reply = spec["customer reply (before 'Customer replied')"]
    assert reply.distribution.params["mu"] == pytest.approx(true_reply["mu"], abs=0.1)
    true_reopen = spec["reopen delay (Close ticket -> 'Reopen')"]
    reopen = delays["Close ticket", "Reopen"].distribution
    assert math.exp(reopen.params["mu"]) == pytest.approx(true_reopen["median"], rel=0.1)


# --- the CRM sample (no start times) and serialisation ----------------------------------


def test_crm_stage_history(truth: dict[str, Any], tmp_path: Path) -> None:
    model = calibrate(read_log(SAMPLES / "crm_pipeline.csv.gz"), by="LeadSource")
    assert not model.has_resources
    assert model.pools == {}
    assert NO_START_NOTE in model.notes
    assert all(a.duration.mean == 0.0 and a.pool is None for a in model.activities.values())
    # every stage change carries the time spent in the stage
    edges = {(s, t) for s, row in model.routing.transitions.items() for t in row
             if s != START and t != END}
    assert {(d.source, d.target) for d in model.delays} == edges
    assert all(d.probability == pytest.approx(1.0) for d in model.delays)
    # first-order rates by lead source match the balanced draws (realised within 0.9 points)
    realised = truth["crm_pipeline"]["realised"]["conversion_by_source_stage"]
    for source in ("Web", "Referral"):
        row = model.routing.conditioned[source]
        assert row["Lead"]["Qualified"] == pytest.approx(realised[source]["Lead"]["rate"], abs=0.01)
    assert any("Amount" in n for n in model.notes)  # an amount is not a category
    assert model.arrivals.weekly_rate is not None
    model.save(tmp_path / "crm.toml")  # empirical delays survive the round trip
    assert SimulationModel.load(tmp_path / "crm.toml") == model


def test_round_trip(support: SimulationModel, generated: SimulationModel, tmp_path: Path) -> None:
    # support: priorities, instant activities, three calendars; generated: routing by channel
    for model in (support, generated):
        for name in ("model.toml", "model.json"):
            model.save(tmp_path / name)
            assert SimulationModel.load(tmp_path / name) == model


def test_variants_mode_and_short_log(tmp_path: Path) -> None:
    # Three cases over two days: too short for a weekly profile. Variants: <a,b> twice, <a,c>.
    text = ("case,activity,start,end,resource\n"
            "1,a,2024-01-01 08:00,2024-01-01 09:00,r1\n1,b,2024-01-01 10:00,2024-01-01 11:00,r2\n"
            "2,a,2024-01-01 20:00,2024-01-01 21:00,r1\n2,b,2024-01-01 22:00,2024-01-01 23:00,r2\n"
            "3,a,2024-01-02 08:00,2024-01-02 09:00,r1\n3,c,2024-01-02 09:00,2024-01-02 10:00,r2\n")
    path = tmp_path / "short.csv"
    path.write_text(text)
    model = calibrate(read_log(path), routing_mode="variants")
    assert model.routing.mode == "variants"
    assert dict(model.routing.variants) == {("a", "b"): pytest.approx(2 / 3),
                                            ("a", "c"): pytest.approx(1 / 3)}
    # arrivals at 08:00, 20:00 and 08:00 next day: gaps of 12 h and 12 h, a fixed 12 h
    assert model.arrivals.weekly_rate is None
    assert model.arrivals.interarrival is not None
    assert model.arrivals.interarrival == Distribution.fixed(12.0)
    model.save(tmp_path / "v.toml")
    assert SimulationModel.load(tmp_path / "v.toml") == model


def test_bad_options(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("case,activity,end,channel\n1,a,2024-01-01 08:00,web\n"
                    "2,a,2024-01-02 08:00,phone\n")
    log = read_log(path)
    with pytest.raises(ConfigError, match="chanel.*Did you mean 'channel'"):
        calibrate(log, by="chanel")
    with pytest.raises(ConfigError, match="routing mode"):
        calibrate(log, routing_mode="second_order")
    with pytest.raises(ConfigError, match="sample cap"):
        calibrate(log, sample_cap=0)


@pytest.mark.parametrize(("column", "values", "order"), [
    ("severity", ["Low", "High", "Medium"], ("High", "Medium", "Low")),
    ("urgency", ["10", "2", "1"], ("1", "2", "10")),  # by number, not as text
    ("Prio", ["P3", "P1", "P2"], ("P1", "P2", "P3")),
])
def test_priority_order(tmp_path: Path, column: str, values: list[str],
                        order: tuple[str, ...]) -> None:
    lines = [f"case,activity,end,{column}"]
    lines += [f"{i},a,2024-01-0{i + 1} 08:00,{v}" for i, v in enumerate(values)]
    path = tmp_path / "p.csv"
    path.write_text("\n".join(lines) + "\n")
    model = calibrate(read_log(path))
    assert model.priority == column
    assert model.priority_order == order


def test_routing_when_most_cases_are_not_complete(tmp_path: Path) -> None:
    """No activity ends >= 90% of its cases, so no case is "complete": the cases' last
    activities must still end simulated cases (else a case could never leave the process).

    Paths, 10 cases each: A,B / A,B,A / A,C / A,C,B. B occurs in 30 cases and ends 20 of them
    (67%), A ends 10 of 40, C ends 10 of 20: none is an end activity. Routing from all cases:
    B -> END 20/30, B -> A 10/30; C -> END 10/20, C -> B 10/20; A -> END 10/50 (A occurs 50
    times: 40 starts + 10 returns), A -> B 20/50, A -> C 20/50.
    """
    from simulation.engine import simulate

    rows = [["case", "activity", "start", "end", "resource"]]
    paths = [("A", "B"), ("A", "B", "A"), ("A", "C"), ("A", "C", "B")]
    t0 = datetime(2024, 1, 1, 9)
    n = 0
    for k in range(10):
        for p, path in enumerate(paths):
            n += 1
            t = t0 + timedelta(days=k, hours=2 * p)
            for i, act in enumerate(path):
                s = t + timedelta(minutes=30 * i)
                rows.append([f"c{n}", act, f"{s:%Y-%m-%d %H:%M}",
                             f"{s + timedelta(minutes=20):%Y-%m-%d %H:%M}", f"r{act}"])
    path = tmp_path / "open.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    model = calibrate(read_log(path))
    r = model.routing.transitions
    assert r["B"][END] == pytest.approx(20 / 30) and r["B"]["A"] == pytest.approx(10 / 30)
    assert r["C"][END] == pytest.approx(0.5) and r["A"][END] == pytest.approx(0.2)
    assert any("Most cases do not end in an end activity" in n for n in model.notes)
    run = simulate(model, start=t0, end=t0 + timedelta(weeks=2), seed=1)
    assert run.completed > 0
