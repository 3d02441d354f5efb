"""The SimPy engine against queueing theory, hand-worked calendars and its own draws.

Queues are checked three ways: against closed forms (M/M/1, Erlang C), against a FIFO
multi-server recursion replayed on the engine's own arrival and service times, and against a
priority queue replayed in the test. Calendars are checked against hand-worked instants and
against `Calendar` (the independent Python implementation in processmine).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from processmine.errors import ConfigError
from processmine.mining.calendar import Calendar
from processmine.mining.events import enrich
from processmine.mining.stats import case_table, edge_stats, summarize_cases
from simulation.engine import SimResult, simulate, to_event_log
from simulation.model import (
    END,
    START,
    Activity,
    Arrivals,
    CaseAttribute,
    Delay,
    Distribution,
    Pool,
    Routing,
    SimulationModel,
)

T0 = datetime(2024, 1, 1)   # a Monday
H = timedelta(hours=1)
ZERO = Distribution.fixed(0)


def exponential(mean: float) -> Distribution:
    return Distribution("exponential", {"mean": mean})


def every(hours: float) -> Arrivals:
    """Deterministic arrivals: case k (1-based) arrives at start + k * hours."""
    return Arrivals(interarrival=Distribution.fixed(hours))


def chain(*names: str) -> dict[str, dict[str, float]]:
    """START -> names[0] -> ... -> END with probability 1."""
    nodes = [START, *names, END]
    return {a: {b: 1.0} for a, b in zip(nodes, nodes[1:], strict=False)}


def hours_since(t: pd.Series, origin: datetime = T0) -> np.ndarray:
    return np.asarray((t - origin) / H, dtype=float)


def mmc(lam: float, c: int, *, marker: bool = False) -> SimulationModel:
    """Poisson arrivals (lam per hour), exponential service (mean 1 h), c servers, 24/7.

    With `marker`, an instant pool-less "Arrive" step records each arrival time.
    """
    steps = ("Arrive", "Serve") if marker else ("Serve",)
    activities = {"Serve": Activity("Serve", exponential(1.0), "desk")}
    if marker:
        activities["Arrive"] = Activity("Arrive", ZERO)
    return SimulationModel(
        arrivals=Arrivals(interarrival=exponential(1 / lam)), routing=Routing(chain(*steps)),
        activities=activities, pools={"desk": Pool("desk", c)})


def traces(events: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Each case's activities in the order of `events` (by case, then by step)."""
    out: dict[str, list[str]] = {}
    for case, activity in zip(events.case_id.tolist(), events.activity.tolist(), strict=True):
        out.setdefault(case, []).append(activity)
    return {k: tuple(v) for k, v in out.items()}


# --- queueing theory ----------------------------------------------------------------------------


def test_mm1_mean_wait_matches_theory() -> None:
    # M/M/1, lambda 0.8/h, mu 1/h: rho 0.8, Wq = rho / (mu - lambda) = 0.8 / 0.2 = 4 h; the
    # server is busy rho = 80% of the time. Over 300,000 h (~240,000 customers) the estimate of
    # Wq varies by about 2.2% from seed to seed (12 seeds tried), so 5% is ~2.3 sd; utilisation
    # varies by ~0.3%.
    r = simulate(mmc(0.8, 1), start=T0, end=T0 + 300_000 * H, seed=0, warmup=200 * H)
    assert r.waits["Serve"] == pytest.approx(4.0, rel=0.05)
    assert r.utilisation["desk"] == pytest.approx(0.8, rel=0.015)
    assert r.arrivals == pytest.approx(0.8 * (300_000 - 200), rel=0.01)


def test_mmc_mean_wait_matches_erlang_c() -> None:
    # M/M/3, lambda 2.4/h, mu 1/h: a = 2.4, rho = 0.8. Erlang C:
    # P(wait) = (a^c/c! * c/(c-a)) / (sum_{k<c} a^k/k! + a^c/c! * c/(c-a)) = 11.52/17.8 = 0.647,
    # Wq = P(wait) / (c*mu - lambda) = 0.647 / 0.6 = 1.079 h.
    lam, c = 2.4, 3
    a = lam
    tail = a**c / math.factorial(c) * c / (c - a)
    p_wait = tail / (sum(a**k / math.factorial(k) for k in range(c)) + tail)
    wq = p_wait / (c - lam)
    assert wq == pytest.approx(1.0787, abs=1e-4)
    r = simulate(mmc(lam, c), start=T0, end=T0 + 100_000 * H, seed=0, warmup=200 * H)
    # ~240,000 customers; the seed-to-seed sd of this estimate is ~2.5% (12 seeds tried)
    assert r.waits["Serve"] == pytest.approx(wq, rel=0.06)
    assert r.utilisation["desk"] == pytest.approx(0.8, rel=0.015)


def test_fifo_servers_equal_the_recursion_on_the_engines_own_draws() -> None:
    # FIFO with c = 3 identical servers: customer n starts at max(arrival_n, earliest time a
    # server frees up), and frees it at start_n + service_n. Replaying that recursion on the
    # arrival and service times the engine drew must give its start times exactly.
    r = simulate(mmc(2.6, 3, marker=True), start=T0, end=T0 + 3000 * H, seed=5)
    ev = r.events
    arrive = ev[ev.activity == "Arrive"].set_index("case_id")
    serve = ev[ev.activity == "Serve"].set_index("case_id")
    arrival = hours_since(arrive.end)
    served = serve.reindex(arrive.index)
    service = ((served.end - served.start) / H).to_numpy(dtype=float)
    free = [0.0] * 3
    expected = []
    for a, s in zip(arrival, service, strict=True):
        if math.isnan(s):
            break   # still waiting or in service at the end of the run
        begin = max(a, heapq.heappop(free))
        heapq.heappush(free, begin + s)
        expected.append(begin)
    got = hours_since(served.start)[: len(expected)]
    assert len(expected) > 7000
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert (got - arrival[: len(expected)] > 1e-6).mean() > 0.3   # the queue was really used


# --- calendars ----------------------------------------------------------------------------------


def office(capacity: int, hours: float, gap: float) -> SimulationModel:
    return SimulationModel(
        arrivals=every(gap), routing=Routing(chain("Work")),
        activities={"Work": Activity("Work", Distribution.fixed(hours), "office")},
        pools={"office": Pool("office", capacity, "Mon-Fri 09:00-17:00")})


def test_calendar_pool_works_only_on_shift() -> None:
    # Jobs of 2 working hours arrive every 8 h from Mon 2024-01-01 08:00; 10 members, so nobody
    # queues for a member: each job starts at the next working time after its arrival and its
    # 2 hours elapse in Mon-Fri 09:00-17:00.
    r = simulate(office(10, 2.0, 8.0), start=T0, end=T0 + 180 * H, seed=1)
    ev = r.events.set_index("case_id")
    day = datetime(2024, 1, 1)

    def at(days: int, hour: int) -> pd.Timestamp:
        return pd.Timestamp(day + timedelta(days=days, hours=hour))

    # SIM-000001: arrives Mon 08:00 -> 09:00..11:00
    assert (ev.start["SIM-000001"], ev.end["SIM-000001"]) == (at(0, 9), at(0, 11))
    # SIM-000002: arrives Mon 16:00 -> 1 h on Monday, paused overnight, 1 h Tuesday: Tue 10:00
    assert (ev.start["SIM-000002"], ev.end["SIM-000002"]) == (at(0, 16), at(1, 10))
    # SIM-000003: arrives Tue 00:00 (night) -> starts Tue 09:00, ends 11:00
    assert (ev.start["SIM-000003"], ev.end["SIM-000003"]) == (at(1, 9), at(1, 11))
    # SIM-000014: arrives Fri 16:00 (14 * 8 h = 112 h) -> 1 h Friday, 1 h Monday: Mon 10:00
    assert (ev.start["SIM-000014"], ev.end["SIM-000014"]) == (at(4, 16), at(7, 10))
    # SIM-000015: arrives Sat 00:00 -> waits for Monday 09:00
    assert (ev.start["SIM-000015"], ev.end["SIM-000015"]) == (at(7, 9), at(7, 11))
    # Every job, against processmine's Calendar: arrivals at 8 h * k for k = 1..22 (< 180 h)
    calendar = Calendar.parse("Mon-Fri 09:00-17:00")
    assert len(ev) == 22 and r.completed == 22 and r.open_cases == 0
    for k in range(1, 23):
        row = ev.loc[f"SIM-{k:06d}"]
        begin = calendar.next_working_time(T0 + 8 * k * H)
        assert row.start == begin and row.end == calendar.add_working_hours(begin, 2.0)
        assert row.resource.startswith("office #")
    # 22 jobs x 2 h busy; on shift: 10 members x (5 days x 8 h + Mon 8 Jan 09:00-12:00) = 430 h
    assert r.busy_hours == {"office": pytest.approx(44.0)}
    assert r.available_hours == {"office": pytest.approx(430.0)}
    assert r.utilisation["office"] == pytest.approx(44 / 430)


@pytest.mark.parametrize(("work", "ends"), [
    (2.0, datetime(2024, 1, 8, 10)),    # 1 h Friday, 1 h Monday
    (1.0, datetime(2024, 1, 5, 17)),    # fits exactly: ends at Friday's close, not Monday 09:00
    (0.5, datetime(2024, 1, 5, 16, 30)),
    (9.0, datetime(2024, 1, 8, 17)),    # 1 h Friday + a whole Monday
])
def test_work_started_friday_afternoon(work: float, ends: datetime) -> None:
    # One job arrives Fri 2024-01-05 16:00 (112 h after Monday 00:00) and starts at once.
    r = simulate(office(1, work, 112.0), start=T0, end=T0 + 200 * H, seed=1)
    row = r.events.iloc[0]
    assert (row.start, row.end) == (pd.Timestamp(2024, 1, 5, 16), pd.Timestamp(ends))
    assert r.busy_hours["office"] == pytest.approx(work)


def test_queue_at_night_is_served_in_the_morning_by_priority() -> None:
    # One member, Mon-Fri 09:00-17:00, 1-hour jobs arriving every 2 h from Mon 00:00: those
    # of 02:00, 04:00, 06:00 and 08:00 queue overnight. At 09:00 the member must take the
    # first P1 among them, not the first arrival: the order is replayed below.
    model = with_marker(SimulationModel(
        arrivals=every(2.0), routing=Routing(chain("Work")),
        activities={"Work": Activity("Work", Distribution.fixed(1.0), "office")},
        pools={"office": Pool("office", 1, "Mon-Fri 09:00-17:00")},
        attributes=(CaseAttribute("priority", ("P3", "P1"), (0.6, 0.4)),),
        priority="priority", priority_order=("P1", "P3")))
    r = simulate(model, start=T0, end=T0 + 17 * H, seed=3)
    arrival, prio, served = arrivals_priorities_and_service(r.events)
    # the seed puts a P1 behind an earlier P3 in the night queue (else the test shows nothing)
    night = [c for c in arrival if arrival[c] < 9]
    assert [prio[c] for c in night][0] == "P3" and "P1" in [prio[c] for c in night]
    assert served == _replay_priority_queue(arrival, prio, first_free=9.0, work=1.0, until=17.0)
    assert prio[served[0]] == "P1"


def with_marker(model: SimulationModel) -> SimulationModel:
    """The model with an instant pool-less "Created" step first, recording each arrival."""
    first = model.routing.transitions[START]
    transitions = {**model.routing.transitions, START: {"Created": 1.0}, "Created": first}
    return replace(model, routing=Routing(transitions),
                   activities={"Created": Activity("Created", ZERO), **model.activities})


def arrivals_priorities_and_service(ev: pd.DataFrame
                                    ) -> tuple[dict[str, float], dict[str, str], list[str]]:
    created = ev[ev.activity == "Created"]
    arrival = dict(zip(created.case_id, hours_since(created.end), strict=True))
    prio = dict(zip(created.case_id, created.priority, strict=True))
    served = list(ev[ev.activity == "Work"].sort_values("start").case_id)
    return arrival, prio, served


def _replay_priority_queue(arrival: dict[str, float], prio: dict[str, str], *,
                           first_free: float, work: float, until: float) -> list[str]:
    """Service order of one server: at each free moment, the waiting case with the best
    priority (P1 before P3), earliest arrival first."""
    order: list[str] = []
    free = first_free
    pending = sorted(arrival, key=arrival.get)   # type: ignore[arg-type]
    while pending:
        ready = [c for c in pending if arrival[c] <= free]
        if not ready:
            free = min(arrival[c] for c in pending)
            continue
        pick = min(ready, key=lambda c: (prio[c] != "P1", arrival[c]))
        if free + work >= until:
            break
        order.append(pick)
        pending.remove(pick)
        free += work
    return order


# --- routing, attributes, delays -----------------------------------------------------------------


def test_priority_queue_serves_p1_before_earlier_p3() -> None:
    # One member 24/7, jobs of 0.73 h every 0.5 h: the queue grows. At each start the member
    # must take the waiting P1 that arrived first, else the P3 that arrived first (replayed
    # below). 0.73 is chosen so that no arrival coincides with a service end within the 30 h.
    model = with_marker(SimulationModel(
        arrivals=every(0.5), routing=Routing(chain("Work")),
        activities={"Work": Activity("Work", Distribution.fixed(0.73), "desk")},
        pools={"desk": Pool("desk", 1)},
        attributes=(CaseAttribute("priority", ("P3", "P1"), (0.7, 0.3)),),
        priority="priority", priority_order=("P1", "P3")))
    r = simulate(model, start=T0, end=T0 + 30 * H, seed=11)
    arrival, prio, served = arrivals_priorities_and_service(r.events)
    assert served == _replay_priority_queue(arrival, prio, first_free=0.5, work=0.73, until=30.0)
    # and concretely: some P1 started before a P3 that had arrived earlier
    position = {c: i for i, c in enumerate(served)}
    jumped = [(p1, p3) for p1 in served for p3 in served if prio[p1] == "P1"
              and prio[p3] == "P3" and arrival[p3] < arrival[p1] and position[p1] < position[p3]]
    assert jumped


def instant(names: tuple[str, ...]) -> dict[str, Activity]:
    return {n: Activity(n, ZERO) for n in names}


def test_first_order_routing_frequencies_and_conditioned_tables() -> None:
    # A -> B 0.3 / C 0.7 in general; for phone cases A -> B 0.9 / C 0.1. 20,000 cases, about
    # 16,000 email (sd of the share 0.0036) and 4,000 phone (sd 0.0047): tolerances ~4 sd.
    transitions = {START: {"A": 1.0}, "A": {"B": 0.3, "C": 0.7}, "B": {END: 1.0},
                   "C": {END: 1.0}}
    model = SimulationModel(
        arrivals=every(1.0), activities=instant(("A", "B", "C")),
        routing=Routing(transitions, by="channel", conditioned={"phone": {"A": {"B": 0.9, "C": 0.1}}}),
        attributes=(CaseAttribute("channel", ("email", "phone"), (0.8, 0.2)),))
    r = simulate(model, start=T0, end=T0 + 20_000 * H, seed=2)
    ev = r.events
    t = traces(ev)
    assert set(t.values()) == {("A", "B"), ("A", "C")}
    channel = ev.groupby("case_id").channel.first()
    to_b = pd.Series({k: v == ("A", "B") for k, v in t.items()})
    assert to_b[channel == "email"].mean() == pytest.approx(0.3, abs=0.015)
    assert to_b[channel == "phone"].mean() == pytest.approx(0.9, abs=0.02)
    assert r.completed == r.arrivals == 19_999   # arrivals at 1..19,999 h; instant steps


def test_delays_apply_with_their_probability() -> None:
    # A -> B waits 10 h with probability 0.25 (else not at all); B -> C always waits an
    # exponential of mean 5 h. 20,000 cases: share sd 0.0031 (tolerance 0.0125), mean of the
    # exponential sd 5/sqrt(n) = 0.035 (tolerance 0.15).
    model = SimulationModel(
        arrivals=every(1.0), activities=instant(("A", "B", "C")), routing=Routing(chain("A", "B", "C")),
        delays=(Delay("A", "B", 0.25, Distribution.fixed(10.0)), Delay("B", "C", 1.0, exponential(5.0))))
    r = simulate(model, start=T0, end=T0 + 20_100 * H, seed=4, warmup=100 * H)
    ev = r.events
    wide = ev.pivot(index="case_id", columns="activity", values="end")
    wide = wide.dropna()
    ab = ((wide.B - wide.A) / H).to_numpy(dtype=float)
    bc = ((wide.C - wide.B) / H).to_numpy(dtype=float)
    assert set(np.round(ab, 6)) == {0.0, 10.0}
    assert (ab > 5).mean() == pytest.approx(0.25, abs=0.0125)
    assert bc.mean() == pytest.approx(5.0, abs=0.15)
    # waits: A none (instant after arrival); B 0.25 * 10 = 2.5 h on average; C the exponential
    assert r.waits["A"] == 0.0
    assert r.waits["B"] == pytest.approx(2.5, abs=0.15)


def test_variant_replay() -> None:
    # Each case replays one whole variant: A,B with 0.6, A,C,C with 0.4 (10,000 cases, sd of
    # the share 0.0049).
    model = SimulationModel(
        arrivals=every(1.0), activities=instant(("A", "B", "C")),
        routing=Routing({}, mode="variants", variants=((("A", "B"), 0.6), (("A", "C", "C"), 0.4))))
    r = simulate(model, start=T0, end=T0 + 10_000 * H, seed=6)
    shares = pd.Series(traces(r.events)).value_counts(normalize=True)
    assert set(shares.index) == {("A", "B"), ("A", "C", "C")}
    assert shares[("A", "B")] == pytest.approx(0.6, abs=0.02)


def test_case_attributes_follow_their_frequencies() -> None:
    # channel: email 0.5, web 0.3, phone 0.2 over 20,000 cases (sd <= 0.0036); constant per case.
    model = SimulationModel(
        arrivals=every(1.0), activities=instant(("A", "B")), routing=Routing(chain("A", "B")),
        attributes=(CaseAttribute("channel", ("email", "web", "phone"), (5.0, 3.0, 2.0)),))
    r = simulate(model, start=T0, end=T0 + 20_000 * H, seed=8)
    ev = r.events
    assert (ev.groupby("case_id").channel.nunique() == 1).all()
    shares = ev.groupby("case_id").channel.first().value_counts(normalize=True)
    assert shares["email"] == pytest.approx(0.5, abs=0.015)
    assert shares["web"] == pytest.approx(0.3, abs=0.015)
    assert shares["phone"] == pytest.approx(0.2, abs=0.015)


def test_weekly_arrival_profile() -> None:
    # 10 cases/h on Mondays 09:00-10:00 and 2/h on Sundays 12:00-13:00, nothing else: over 40
    # weeks, 400 expected in the Monday hour (sd 20) and 80 on Sunday (sd 9), none elsewhere.
    rate = [0.0] * 168
    rate[9], rate[6 * 24 + 12] = 10.0, 2.0
    model = SimulationModel(arrivals=Arrivals(weekly_rate=tuple(rate)),
                            activities=instant(("A",)), routing=Routing(chain("A")))
    r = simulate(model, start=T0, end=T0 + timedelta(weeks=40), seed=9)
    when = pd.to_datetime(r.events.end)
    slot = when.dt.day_of_week * 24 + when.dt.hour
    counts = slot.value_counts()
    assert set(counts.index) == {9, 6 * 24 + 12}
    assert counts[9] == pytest.approx(400, abs=80)
    assert counts[6 * 24 + 12] == pytest.approx(80, abs=36)
    # factor doubles the demand
    doubled = simulate(SimulationModel(arrivals=Arrivals(weekly_rate=tuple(rate), factor=2.0),
                                       activities=instant(("A",)), routing=Routing(chain("A"))),
                       start=T0, end=T0 + timedelta(weeks=40), seed=9)
    assert doubled.arrivals == pytest.approx(2 * 480, abs=4 * math.sqrt(960))


@pytest.mark.parametrize("dist", [
    exponential(2.0),
    Distribution("lognormal", {"mu": 0.0, "sigma": 0.5}),
    Distribution("gamma", {"shape": 2.0, "scale": 1.5}),
    Distribution("weibull", {"shape": 1.5, "scale": 2.0}),
    Distribution("empirical", values=(1.0, 2.0, 6.0)),
    Distribution("exponential", {"mean": 2.0}, factor=0.25),
    Distribution.fixed(1.25),
])
def test_durations_follow_their_distribution(dist: Distribution) -> None:
    # Pool-less steps take their draw in clock hours: the mean of ~5,000 draws is within 4 sd
    # of the distribution's mean (the sd of each kind here is at most its mean).
    model = SimulationModel(arrivals=every(1.0), routing=Routing(chain("A")),
                            activities={"A": Activity("A", dist)})
    r = simulate(model, start=T0, end=T0 + 5_001 * H, seed=10)
    took = ((r.events.end - r.events.start) / H).to_numpy(dtype=float)
    assert len(took) >= 4990   # the last few may end after the run
    assert took.mean() == pytest.approx(dist.mean, rel=4 / math.sqrt(len(took)))


def test_stage_history_without_resources() -> None:
    # has_resources False: pools are ignored (even one with no member), steps take their
    # duration (0 here) and delays carry the time: B 5 h after A, C 2 h after B, always.
    model = SimulationModel(
        arrivals=every(3.0), routing=Routing(chain("A", "B", "C")),
        activities={"A": Activity("A", ZERO, "nobody"), "B": Activity("B", ZERO, "nobody"),
                    "C": Activity("C", ZERO)},
        pools={"nobody": Pool("nobody", 0)}, has_resources=False,
        delays=(Delay("A", "B", 1.0, Distribution.fixed(5.0)),
                Delay("B", "C", 1.0, Distribution.fixed(2.0))))
    r = simulate(model, start=T0, end=T0 + 100 * H, seed=1)
    ev = r.events
    # arrivals at 3, 6, ..., 99 h: 33 cases; complete when C (arrival + 7 h) is before 100 h:
    # arrivals up to 90 h, i.e. 30 cases; of the others, 93 h shows A and B (98 h), 96 and 99
    # h only A.
    assert r.arrivals == 33 and r.completed == 30 and r.open_cases == 3
    assert len(ev) == 30 * 3 + 2 + 1 + 1
    assert ev.resource.isna().all() and (ev.start == ev.end).all()
    wide = ev.pivot(index="case_id", columns="activity", values="end").dropna()
    assert ((wide.B - wide.A) / H == 5.0).all() and ((wide.C - wide.B) / H == 2.0).all()
    assert r.busy_hours == {} and r.utilisation == {}
    np.testing.assert_allclose(r.cycle_hours, 7.0)


# --- the run window, figures and costs ------------------------------------------------------------


def queue_of_three_hour_jobs(cost: bool) -> SimulationModel:
    return SimulationModel(
        arrivals=every(1.0), routing=Routing(chain("Work")),
        activities={"Work": Activity("Work", Distribution.fixed(3.0), "desk", cost=5.0 if cost else 0)},
        pools={"desk": Pool("desk", 1, hourly_cost=30.0 if cost else 0.0)})


def test_run_stops_at_end_and_leaves_cases_open() -> None:
    # Jobs of 3 h, one member, arrivals at 1, 2, ..., 10 h; the run ends at 10.5 h. Served:
    # case 1 1-4 h, case 2 4-7 h, case 3 7-10 h; case 4 started at 10 h, unfinished: omitted.
    r = simulate(queue_of_three_hour_jobs(cost=True), start=T0, end=T0 + 10.5 * H, seed=1)
    assert list(r.events.case_id) == ["SIM-000001", "SIM-000002", "SIM-000003"]
    assert list(hours_since(r.events.start)) == [1.0, 4.0, 7.0]
    assert (r.arrivals, r.completed, r.open_cases) == (10, 3, 7)
    # busy 3 x 3 h + case 4's half hour; available 10.5 h
    assert r.busy_hours["desk"] == pytest.approx(9.5)
    assert r.available_hours["desk"] == pytest.approx(10.5)
    # waits: case 1 none, case 2 2 h (arrived 2, started 4), case 3 4 h: mean 2 h
    assert r.waits == {"Work": pytest.approx(2.0)}
    # cycle (first start to last end) 3 h each; cost 5 + 30/h x 3 h = 95 per case
    np.testing.assert_allclose(r.cycle_hours, [3.0, 3.0, 3.0])
    assert r.cost_per_case == pytest.approx(95.0)
    assert r.events.end.max() < pd.Timestamp(T0 + 10.5 * H)


def test_warmup_excludes_early_cases_but_keeps_their_load() -> None:
    # As above with a 2.5 h warm-up: cases 1 and 2 (arrived 1 h, 2 h) are left out; case 3
    # still waits for them (arrived 3 h, starts 7 h: 4 h). Busy in [2.5, 10.5): case 1's
    # 2.5-4, case 2's 4-7, case 3's 7-10, case 4's 10-10.5 = 1.5 + 3 + 3 + 0.5 = 8 h of 8.
    r = simulate(queue_of_three_hour_jobs(cost=False), start=T0, end=T0 + 10.5 * H, seed=1,
                 warmup=2.5 * H)
    assert list(r.events.case_id) == ["SIM-000003"]
    assert (r.arrivals, r.completed, r.open_cases) == (8, 1, 7)
    assert r.waits == {"Work": pytest.approx(4.0)}
    assert r.busy_hours["desk"] == pytest.approx(8.0)
    assert r.utilisation["desk"] == pytest.approx(1.0)
    assert r.cost_per_case is None   # the model has no costs
    assert r.measured_from == T0 + 2.5 * H


# --- random numbers ---------------------------------------------------------------------------


def small_process(c_work: Distribution | None = None) -> SimulationModel:
    """Created (instant, marks the arrival) -> A -> B or C, two members on weekdays 08-18.

    Demand: 0.4 cases/h x (0.5 + 0.5 x 0.4 + 0.5 x 0.3) h = 0.34 member-hours per hour, of
    2 x 50/168 = 0.6 on shift: utilisation ~0.57 (~0.77 with C three times slower).
    """
    return SimulationModel(
        arrivals=Arrivals(interarrival=exponential(2.5)),
        routing=Routing({START: {"Created": 1.0}, "Created": {"A": 1.0},
                         "A": {"B": 0.5, "C": 0.5}, "B": {END: 1.0}, "C": {END: 1.0}}),
        activities={"Created": Activity("Created", ZERO),
                    "A": Activity("A", exponential(0.5), "team"),
                    "B": Activity("B", exponential(0.4), "team"),
                    "C": Activity("C", c_work or exponential(0.3), "team")},
        pools={"team": Pool("team", 2, "Mon-Fri 08:00-18:00", ("ann", "bob"))},
        delays=(Delay("A", "C", 0.3, exponential(2.0)),),
        attributes=(CaseAttribute("priority", ("high", "low"), (0.2, 0.8)),),
        priority="priority", priority_order=("high", "low"))


def run(model: SimulationModel, seed: int | np.random.SeedSequence) -> SimResult:
    return simulate(model, start=T0, end=T0 + timedelta(weeks=8), seed=seed)


def test_same_seed_same_run_and_different_seed_different_run() -> None:
    a, b = run(small_process(), 7), run(small_process(), 7)
    pd.testing.assert_frame_equal(a.events, b.events)
    seq = np.random.SeedSequence(7)
    pd.testing.assert_frame_equal(a.events, run(small_process(), seq).events)
    pd.testing.assert_frame_equal(a.events, run(small_process(), seq).events)   # not consumed
    assert set(a.events.resource.dropna()) == {"ann", "bob"}
    other = run(small_process(), 8)
    assert not other.events.equals(a.events)


def test_common_random_numbers_survive_a_change_to_one_activity() -> None:
    # Tripling C's processing times changes the queues, but not the arrivals, the paths, the
    # delays or the processing time any other activity draws for any case.
    base = run(small_process(), 21)
    slower = run(small_process(exponential(0.3).scaled(3.0)), 21)
    b, s = base.events, slower.events
    arrivals_b = b[b.activity == "Created"].set_index("case_id").end
    arrivals_s = s[s.activity == "Created"].set_index("case_id").end
    assert len(arrivals_b) > 500
    pd.testing.assert_series_equal(arrivals_b, arrivals_s)
    # the same path: where a case is unfinished in one run, its steps are a prefix of the other's
    tb, ts = traces(b), traces(s)
    assert tb.keys() == ts.keys()
    assert all(min(tb[c], ts[c], key=len) == max(tb[c], ts[c], key=len)[: len(min(tb[c], ts[c], key=len))]
               for c in tb)
    calendar = Calendar.parse("Mon-Fri 08:00-18:00")

    def work(events: pd.DataFrame, activity: str) -> pd.Series:
        """Working hours of each case's `activity`, for the cases finished in both runs."""
        rows = events[(events.activity == activity) & events.case_id.isin(both)]
        return pd.Series([calendar.working_hours(x.start, x.end) for x in rows.itertuples()],
                         index=rows.case_id.to_numpy(), dtype=float)

    both = [c for c in tb if len(tb[c]) == len(ts[c]) == 3]
    assert len(both) > 400   # of ~540
    pd.testing.assert_series_equal(work(b, "A"), work(s, "A"), rtol=0, atol=1e-8)
    pd.testing.assert_series_equal(work(b, "B"), work(s, "B"), rtol=0, atol=1e-8)
    assert len(work(b, "C")) > 100
    pd.testing.assert_series_equal(3 * work(b, "C"), work(s, "C"), rtol=0, atol=1e-8)
    assert not b.start.equals(s.start)   # the queues did change


# --- the simulated log in processmine ------------------------------------------------------------


def test_to_event_log_mines_like_any_log() -> None:
    r = run(small_process(), 3)
    log = to_event_log(r)
    assert log.source == "simulation"
    assert log.has_start and log.case_attributes == ("priority",)
    events = enrich(log)
    cases = case_table(events, end_activities=["B", "C"])
    summary = summarize_cases(cases)
    ev = r.events
    # every simulated case with an event is a case of the log; complete ones are those ending
    # in B or C, which the engine counted as completed (no case goes straight to END)
    assert summary.cases == ev.case_id.nunique()
    assert summary.complete == r.completed
    assert summary.cycle_mean_h == pytest.approx(float(np.mean(r.cycle_hours)), rel=1e-9)
    edges = edge_stats(events).set_index(["source", "target"])["count"]
    nxt = ev.groupby("case_id").activity.shift(-1)
    counted = pd.DataFrame({"source": ev.activity, "target": nxt}).dropna().value_counts()
    assert edges.sort_index().to_dict() == counted.sort_index().to_dict()


@pytest.mark.parametrize(("change", "message"), [
    ({"priority": "tier"}, "priority attribute 'tier'"),
    ({"routing": Routing({}, mode="variants", variants=((("A", "Z"), 1.0),))}, "'Z'"),
    ({"routing": Routing({START: {"A": 1.0}, "A": {"A": 1.0}})}, "without reaching END"),
    ({"attributes": (CaseAttribute("start", ("x",), (1.0,)),)}, "'start'"),
])
def test_models_the_engine_cannot_run_are_refused(change: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"arrivals": every(1.0), "routing": Routing(chain("A")),
                                 "activities": instant(("A",))}
    model = SimulationModel(**{**fields, **change})   # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=message):
        simulate(model, start=T0, end=T0 + 10 * H, seed=1)


def test_a_run_without_arrivals_is_empty_but_typed() -> None:
    # 5-hour gaps and a 4-hour run: nobody arrives.
    model = SimulationModel(arrivals=every(5.0), routing=Routing(chain("A")),
                            activities=instant(("A",)),
                            attributes=(CaseAttribute("x", ("a",), (1.0,)),))
    r = simulate(model, start=T0, end=T0 + 4 * H, seed=1)
    assert (r.arrivals, r.completed, r.open_cases, r.instances) == (0, 0, 0, 0)
    assert list(r.events.columns) == ["case_id", "activity", "start", "end", "resource", "x"]
    assert r.cost_per_case is None and r.waits == {} and len(r.cycle_hours) == 0
    with pytest.raises(ConfigError, match="no log to mine"):
        to_event_log(r)


def test_window_must_be_positive() -> None:
    model = SimulationModel(arrivals=every(1.0), routing=Routing(chain("A")),
                            activities=instant(("A",)))
    with pytest.raises(ConfigError, match="not after its start"):
        simulate(model, start=T0, end=T0, seed=1)
    with pytest.raises(ConfigError, match="warm-up"):
        simulate(model, start=T0, end=T0 + H, seed=1, warmup=2 * H)


def _two_step_desk(b_first: int) -> SimulationModel:
    """One member 24/7; every 0.5 h a case needs A (0.3 h) then B (0.4 h): 1.4 times the
    member's time, so the queue grows all run. `b_first` is B's queue priority."""
    return SimulationModel(
        arrivals=every(0.5), routing=Routing(chain("A", "B")),
        activities={"A": Activity("A", Distribution.fixed(0.3), "desk"),
                    "B": Activity("B", Distribution.fixed(0.4), "desk", queue_priority=b_first)},
        pools={"desk": Pool("desk", 1)})


def _a_started_while_b_waited(ev: pd.DataFrame) -> int:
    """How many A starts fall strictly inside some B's wait (its A's end to its start)."""
    a = ev[ev.activity == "A"].set_index("case_id")
    b = ev[ev.activity == "B"].set_index("case_id")
    ready, began = hours_since(a.loc[b.index, "end"]), hours_since(b.start)
    starts = hours_since(a.start)
    return sum(int(((starts > r + 1e-9) & (starts < s - 1e-9)).sum())
               for r, s in zip(ready, began, strict=True))


def test_an_activity_with_queue_priority_is_served_before_the_queue() -> None:
    # With B first, no A may start while a B waits, and a B waits at most the one service
    # that took the member at the instant B became ready (<= 0.4 h). First come, first served,
    # the growing queue of A's is served ahead of each B.
    first = simulate(_two_step_desk(1), start=T0, end=T0 + 30 * H, seed=0).events
    fifo = simulate(_two_step_desk(0), start=T0, end=T0 + 30 * H, seed=0).events
    assert _a_started_while_b_waited(first) == 0
    b = first[first.activity == "B"].set_index("case_id")
    a_end = first[first.activity == "A"].set_index("case_id").loc[b.index, "end"]
    assert float(((b.start - a_end) / H).max()) <= 0.4 + 1e-9
    assert _a_started_while_b_waited(fifo) > 10
