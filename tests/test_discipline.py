"""Queue discipline read from the log: contests and overtakes counted by hand, the rules
that turn them into queue priorities, and the support sample's planted order recovered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from processmine import read_log
from processmine.mining.events import enrich
from simulation import discipline
from simulation.calibrate import calibrate
from simulation.discipline import Contest, consistent, contests, levels, served_before
from simulation.model import SimulationModel

from .conftest import SAMPLES

# One resource r does X and Y; each case starts with an instant "Open" by sys (its ready time).
#   r: X(c2) 09-10, Y(c1) 10-11, X(c3) 11-12, Y(c4) 12-13, X(c5) 13-14
# Y(c1) waits 08:00-10:00: X(c2) ready 09:00 starts first (overtake), X(c3) ready 09:30 does
# not (Y(c1) starts at 10:00, X(c3) at 11:00). Y(c4) waits 10:30-12:00: X(c5) ready 11:30,
# starts 13:00, after it. X(c3) waits 09:30-11:00: Y(c4) ready 10:30 starts 12:00, after it.
# So X over Y: 3 contests, 1 overtake; Y over X: 1 contest, 0 overtakes.
HAND = """case,activity,start,end,resource
c1,Open,2024-01-01 08:00,2024-01-01 08:00,sys
c1,Y,2024-01-01 10:00,2024-01-01 11:00,r
c2,Open,2024-01-01 09:00,2024-01-01 09:00,sys
c2,X,2024-01-01 09:00,2024-01-01 10:00,r
c3,Open,2024-01-01 09:30,2024-01-01 09:30,sys
c3,X,2024-01-01 11:00,2024-01-01 12:00,r
c4,Open,2024-01-01 10:30,2024-01-01 10:30,sys
c4,Y,2024-01-01 12:00,2024-01-01 13:00,r
c5,Open,2024-01-01 11:30,2024-01-01 11:30,sys
c5,X,2024-01-01 13:00,2024-01-01 14:00,r
"""


@pytest.fixture
def hand(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "hand.csv"
    path.write_text(HAND)
    return enrich(read_log(path, cache_db=None))


def test_contests_and_overtakes_counted_by_hand(hand) -> None:  # type: ignore[no-untyped-def]
    assert contests(hand, ["X", "Y"]) == [Contest("X", "Y", 3, 1), Contest("Y", "X", 1, 0)]


def test_waits_after_a_delayed_edge_are_left_out(hand) -> None:  # type: ignore[no-untyped-def]
    # With Open -> Y a customer delay, Y's waits may not be queueing: no Y instance counts.
    assert contests(hand, ["X", "Y"], delayed={("Open", "Y")}) == []


def test_a_strict_order_is_read_and_noise_is_not() -> None:
    strict = [Contest("fix", "diagnose", 4818, 4818), Contest("diagnose", "fix", 1773, 0)]
    assert [c for c, _ in served_before(strict)] == [strict[0]]
    # Overtaking both ways (6 of 8 back) is two machines, not a queue order.
    both = [Contest("turn", "mill", 43, 43), Contest("mill", "turn", 8, 6)]
    assert served_before(both) == []
    # One stray reverse case is allowed: 0.1 * 5 + 1 = 1.5 >= 1.
    stray = [Contest("a", "b", 40, 38), Contest("b", "a", 5, 1)]
    assert [c for c, _ in served_before(stray)] == [stray[0]]
    # Too few contests, or not strict enough (the support sample's tier 1: 69% vs 25%).
    assert served_before([Contest("a", "b", 29, 29)]) == []
    assert served_before([Contest("close", "categorise", 8091, 5596),
                          Contest("categorise", "close", 2226, 565)]) == []


def test_levels_follow_the_orders(monkeypatch: pytest.MonkeyPatch) -> None:
    def order(a: str, b: str) -> tuple[Contest, None]:
        return Contest(a, b, 50, 50), None

    assert levels([order("a", "b"), order("b", "c")]) == {"a": 2, "b": 1}
    assert levels([order("a", "c"), order("b", "c"), order("a", "b")]) == {"a": 2, "b": 1}
    assert levels([order("a", "b"), order("b", "a")]) == {}  # a cycle is no order
    # The thresholds are read when called (so a small log can be tested with lower ones).
    monkeypatch.setattr(discipline, "MIN_CONTESTS", 3)
    assert [c for c, _ in served_before([Contest("X", "Y", 3, 3)])] == [Contest("X", "Y", 3, 3)]


def test_support_sample_recovers_the_planted_queue_order(tmp_path: Path) -> None:
    # The generator serves "Apply fix (tier 2)" before everything else in its pool (a boost
    # of 10 on the queue key) and the tier-1 pool by ticket priority only.
    truth = json.loads((SAMPLES / "ground_truth.json").read_text())["support_tickets"]
    assert truth["queue_priority_boost"] == {"Apply fix (tier 2)": 10}
    model = calibrate(read_log(SAMPLES / "support_tickets.csv.gz"))
    chosen = {a: act.queue_priority for a, act in model.activities.items() if act.queue_priority}
    assert chosen == {"Apply fix (tier 2)": 1}
    assert any("'Apply fix (tier 2)' is served before 'Diagnose (tier 2)'" in n for n in model.notes)
    # The queue priority survives saving and loading the model.
    path = tmp_path / "model.toml"
    model.save(path)
    assert SimulationModel.load(path).activities["Apply fix (tier 2)"].queue_priority == 1


def test_a_level_the_log_contradicts_is_dropped() -> None:
    # a is seen strictly before b, so level 1 would put it before c as well; but c overtakes
    # a 12 times of 40 (30%, well beyond strays): a is not served first after all.
    pairs = [Contest("a", "b", 50, 50), Contest("c", "a", 40, 12), Contest("a", "c", 40, 25)]
    found = levels(served_before(pairs))
    assert found == {"a": 1}
    assert consistent(found, pairs, ["a", "b", "c"]) == {}
    # Without evidence against it (too few contests with c, none of them lost), it stays.
    quiet = [Contest("a", "b", 50, 50), Contest("a", "c", 5, 2)]
    assert consistent(levels(served_before(quiet)), quiet, ["a", "b", "c"]) == {"a": 1}
