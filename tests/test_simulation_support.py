"""The whole what-if chain on the support sample, judged against what the generator planted.

The generator (sample_logs/generate.py, parameters in ground_truth.json) runs tier 2 (3
engineers) at about 85% utilisation, so: one more tier-2 engineer must cut cycle time a lot;
automating categorisation (a tier-1 step of ~6 minutes, tier 1 at ~32%) only a little; and
10% more tickets must lengthen the wait at the saturated tier by far more than 10% (queueing
near saturation).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from processmine import read_log
from processmine.cli import app
from simulation.calibrate import calibrate
from simulation.experiment import run_experiment
from simulation.model import SimulationModel
from simulation.scenarios import Automate, Capacity, Demand, Scenario
from simulation.validate import validate
from tests.conftest import SAMPLES

SUPPORT = SAMPLES / "support_tickets.csv.gz"
runner = CliRunner()


@pytest.fixture(scope="module")
def log():  # type: ignore[no-untyped-def]
    return read_log(SUPPORT)


@pytest.fixture(scope="module")
def model(log) -> SimulationModel:  # type: ignore[no-untyped-def]
    return calibrate(log, seed=0)


def test_validation_within_ten_percent(log, model) -> None:  # type: ignore[no-untyped-def]
    v = validate(log, model=model, replications=2, seed=1)
    mean = v.cycle[0]
    assert mean.name == "mean" and mean.error is not None
    assert abs(mean.error) <= 0.10, v.verdict
    assert v.reproduced and v.verdict.startswith("reproduces mean cycle time within")
    assert v.arrivals_per_week.error is not None and abs(v.arrivals_per_week.error) < 0.05
    util = {f.name: f for f in v.utilisation}
    tier2 = next(f for name, f in util.items() if "Diagnose" in name)
    # ground_truth.json: tier 2 is busy 84.7% of its on-shift hours.
    assert tier2.observed == pytest.approx(0.847, abs=0.01)
    assert tier2.simulated == pytest.approx(0.847, abs=0.06)


def test_holdout_validation(log) -> None:  # type: ignore[no-untyped-def]
    v = validate(log, holdout=0.3, replications=1, seed=2)
    lo, _, n_late = v.compared_on
    assert v.holdout == 0.3 and n_late == pytest.approx(0.3 * 6859, rel=0.02)
    assert v.calibrated_on[1] == lo  # calibrated on the cases before the cut-off
    assert v.cycle[0].error is not None and abs(v.cycle[0].error) <= 0.15, v.verdict


SCENARIOS = [
    Scenario("tier 2 +1", (Capacity(activity="Diagnose (tier 2)", delta=1),)),
    Scenario("automate categorise", (Automate(activity="Categorise", duration_factor=0.05,
                                              resource=False),)),
    Scenario("demand +10%", (Demand(factor=1.1),)),
]


def test_scenario_effects_follow_the_generator(model) -> None:  # type: ignore[no-untyped-def]
    start = datetime(2024, 1, 1)
    result = run_experiment(model, SCENARIOS, start=start, end=start + timedelta(weeks=16),
                            replications=4, seed=3, warmup=timedelta(weeks=2), workers=2)
    change = {o.name: o.change_pct["mean"] for o in result.scenarios}
    # The truth: the generator itself run with 4 tier-2 engineers instead of 3 (30 paired
    # replications, ground_truth.json): about -3.8% +- 0.4%. The simulated change's 95%
    # interval must reach the generator's within two of its standard errors, and exclude 0.
    # (First come, first served, the simulation made the approved fixes queue behind new
    # diagnoses and overstated the gain; the calibrated queue order fixed that.)
    truth = json.loads((SAMPLES / "ground_truth.json").read_text())[
        "support_tickets"]["scenario_effects"]["tier 2 +1"]
    effect, se = truth["mean_cycle_change_pct"], truth["standard_error_pct"]
    ci, mean = change["tier 2 +1"].ci95, change["tier 2 +1"].mean
    assert ci is not None and ci[0] <= effect + 2 * se and ci[1] >= effect - 2 * se, ci
    assert ci[1] < 0
    # and the estimate itself within 3 standard errors of the truth, plus 1.5 points for
    # what the two runs measure differently (a 16-week window against the generator's 26).
    assert mean is not None and abs(mean - effect) <= 3 * se + 1.5, (mean, effect)
    small = change["automate categorise"].mean
    assert small is not None and -5 < small < 0
    assert change["automate categorise"].mean > change["tier 2 +1"].mean  # type: ignore[operator]
    more = change["demand +10%"]
    assert more.mean is not None and more.ci95 is not None and more.ci95[0] > 0
    # Near saturation the queue grows far more than demand: tier 2 goes from ~85% to ~94%
    # busy, so the wait before Diagnose must grow by much more than 10% (M/M/3 at these loads:
    # about 2.5x). Cycle time as a whole also holds waits no load changes (the customer, the
    # approver's two weekly windows), so its change is smaller.
    demand = next(o for o in result.scenarios if o.name == "demand +10%")
    before = result.baseline.waiting_hours["Diagnose (tier 2)"].mean
    after = demand.waiting_hours["Diagnose (tier 2)"].mean
    assert before is not None and after is not None and after > 1.3 * before
    tier2 = next(p for p in result.baseline.utilisation if "Diagnose" in p)
    with_one_more = next(o for o in result.scenarios if o.name == "tier 2 +1").utilisation[tier2].mean
    assert with_one_more is not None and with_one_more < result.baseline.utilisation[tier2].mean  # type: ignore[operator]
    # Same seed, same numbers (and independent of the number of worker processes).
    again = run_experiment(model, SCENARIOS[:1], start=start, end=start + timedelta(weeks=16),
                           replications=4, seed=3, warmup=timedelta(weeks=2), workers=1)
    assert again.baseline.to_json() == result.baseline.to_json()
    assert again.scenarios[0].to_json() == result.scenarios[0].to_json()


def test_cli_calibrate_validate_simulate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "c.duckdb")
    model_path = tmp_path / "model.toml"
    r = runner.invoke(app, ["calibrate", str(SUPPORT), "--out", str(model_path), "--db", db])
    assert r.exit_code == 0, r.output
    loaded = SimulationModel.load(model_path)
    assert {p.capacity for p in loaded.pools.values()} == {9, 3, 1}
    out = tmp_path / "sim.json"
    r = runner.invoke(app, ["simulate", str(SUPPORT), "--model", str(model_path), "--scenarios",
                            str(SAMPLES / "scenarios.toml"), "--replications", "2", "--weeks", "8",
                            "--json", str(out), "--db", db, "--workers", "1"])
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    assert data["replications"] == 2 and data["seed"] == 0
    assert set(data["baseline"]["cycle_time_hours"]) >= {"mean", "median", "p90", "ci95"}
    first = data["scenarios"][0]
    assert set(first) >= {"name", "cycle_time_hours", "change_pct"}
    assert set(first["change_pct"]) >= {"mean", "ci95"}
    r = runner.invoke(app, ["simulate", str(SUPPORT), "--db", db])
    assert r.exit_code == 2 and "--scenarios" in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[[scenario]]\nname = "x"\nchanges = [{ kind = "automate", activity = "Categorize", duration_factor = 0.5 }]\n')
    r = runner.invoke(app, ["simulate", str(SUPPORT), "--model", str(model_path), "--scenarios",
                            str(bad), "--db", db])
    assert r.exit_code == 2 and "Categorise" in r.output and "Traceback" not in r.output


def test_cli_suggest_ranks_scenarios(tmp_path, model) -> None:  # type: ignore[no-untyped-def]
    """`simulate --suggest` builds scenarios from the bottlenecks and ranks them by the
    simulated change of mean cycle time, best first, each with its confidence interval."""
    model_path = tmp_path / "model.json"
    model.save(model_path)
    out = tmp_path / "suggest.json"
    r = runner.invoke(app, ["simulate", str(SUPPORT), "--model", str(model_path), "--suggest",
                            "--replications", "3", "--weeks", "8", "--json", str(out),
                            "--workers", "2", "--no-cache"])
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    names = [s["name"] for s in data["scenarios"]]
    assert names and any("Approve fix" in n for n in names)  # the top bottleneck gets one
    assert all(len(s["change_pct"]["ci95"]) == 2 for s in data["scenarios"])
    # The table lists the baseline, then the scenarios best first: the best one's mean cycle
    # time is printed before any other scenario's.
    ranked = sorted(data["scenarios"], key=lambda s: s["change_pct"]["mean"])
    best, worst = ranked[0], ranked[-1]
    assert best["change_pct"]["mean"] <= worst["change_pct"]["mean"]
    text = r.output
    assert text.index("Baseline") < text.index(f"{best['change_pct']['mean']:+.1f}%") < text.index(
        f"{worst['change_pct']['mean']:+.1f}%") or best is worst


def test_overloaded_scenario_is_flagged_and_ranked_last(model) -> None:  # type: ignore[no-untyped-def]
    """Three times the demand: tier 2 (85% busy) cannot keep up, so many cases are still open
    at the end of the run. Their cycle times are unknown, so the change measured on the cases
    that finished flatters the scenario: it is flagged unstable and ranked after the others,
    and its work in progress (open cases included) is far above the baseline's."""
    start = datetime(2024, 1, 1)
    scenarios = [Scenario("triple demand", (Demand(factor=3.0),)), SCENARIOS[0]]
    result = run_experiment(model, scenarios, start=start, end=start + timedelta(weeks=8),
                            replications=2, seed=5, warmup=timedelta(weeks=2), workers=1)
    triple = next(o for o in result.scenarios if o.name == "triple demand")
    assert triple.unstable and not result.scenarios[1].unstable
    assert triple.open_pct.mean is not None and result.baseline.open_pct.mean is not None
    assert triple.open_pct.mean > result.baseline.open_pct.mean + 5
    assert [o.name for o in result.ranked()] == ["tier 2 +1", "triple demand"]
    assert triple.wip.mean is not None and result.baseline.wip.mean is not None
    assert triple.wip.mean > 4 * result.baseline.wip.mean
    assert triple.to_json()["unstable"] is True


@pytest.mark.parametrize("weeks", ["nan", "inf", "0"])
def test_simulate_rejects_bad_weeks(tmp_path, weeks) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(app, ["simulate", str(SUPPORT), "--suggest", "--weeks", weeks,
                            "--db", str(tmp_path / "c.duckdb")])
    assert r.exit_code == 2 and "--weeks" in r.output and "Traceback" not in r.output
