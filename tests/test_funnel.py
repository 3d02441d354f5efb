"""The funnel: a hand-built pipeline worked out by hand, then the CRM sample against its generator.

Hand-built pipeline (hours after the case's first event; stages L, Q, P, N; outcomes Won / Lost,
Disqualified). Web: w1..w5, Partner: p1..p3.

  w1 Web      L 0, Q 24, P 72, N 120, Won 168            won
  w2 Web      L 0, Q 48, Disqualified 72                 lost, furthest Q
  w3 Web      L 0, Disqualified 10                       lost, furthest L
  w4 Web      L 0, Q 12, P 36, N 60, P 84, N 108, Lost 132   rework; lost, furthest N
  w5 Web      L 0, Q 30                                  open at Q
  p1 Partner  L 0, P 20, N 50, Won 80                    skips Q; won
  p2 Partner  L 0, Q 6, P 40                             open at P
  p3 Partner  L 0, Q 18, P 54, Lost 70                   lost, furthest P

Overall: 8 cases, won 2 (w1 p1), lost 4 (w2 w3 w4 p3), open 2 (w5 p2); win rate 2/6.
  reached   L 8; Q 7 (all but w3; p1 passed Q by reaching P); P 5 (w1 w4 p1 p2 p3);
            N 3 (w1 w4 p1). w4's second P and N count once.
  open      Q 1 (w5), P 1 (p2);  drop-off L 1 (w3), Q 1 (w2), P 1 (p3), N 1 (w4)
  decided   L 8-0=8, Q 7-1=6, P 5-1=4, N 3-0=3
  conversion Q 7/8, P 5/6, N 3/4, won 2/3 (P would be 5/7 with the open w5 counted)
  drop-off % L 1/8, Q 1/6, P 1/4, N 1/3
  median h  L 0; Q of 6 12 18 24 30 48 -> 21; P of 20 36 40 54 72 -> 40 (w4's first
            visit, 36); N of 50 60 120 -> 60
Web: 5 cases, won 1, lost 3, open 1, win 1/4.
  reached L 5, Q 4, P 2, N 2; open Q 1; drop L 1, Q 1, N 1
  conversion Q 4/5, P 2/(4-1), N 2/2, won 1/2; median h Q of 12 24 30 48 -> 27, P 54, N 90
Partner: 3 cases, won 1, lost 1, open 1, win 1/2.
  reached L 3, Q 3, P 3, N 1; open P 1; drop P 1
  conversion Q 3/3, P 3/3, N 1/(3-1), won 1/1; median h Q of 6 18 -> 12, P 40, N 50
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from processmine import read_log
from processmine.errors import ConfigError
from processmine.mining.events import Events, enrich
from processmine.mining.funnel import Funnel, FunnelStage, build_funnel, funnel_json
from processmine.mining.funnel import _outcome_kind as outcome_kind
from tests.conftest import SAMPLES

approx = pytest.approx
STAGES = ("L", "Q", "P", "N")
PIPELINE = {
    ("w1", "Web"): [("L", 0), ("Q", 24), ("P", 72), ("N", 120), ("Won", 168)],
    ("w2", "Web"): [("L", 0), ("Q", 48), ("Disqualified", 72)],
    ("w3", "Web"): [("L", 0), ("Disqualified", 10)],
    ("w4", "Web"): [("L", 0), ("Q", 12), ("P", 36), ("N", 60), ("P", 84), ("N", 108), ("Lost", 132)],
    ("w5", "Web"): [("L", 0), ("Q", 30)],
    ("p1", "Partner"): [("L", 0), ("P", 20), ("N", 50), ("Won", 80)],
    ("p2", "Partner"): [("L", 0), ("Q", 6), ("P", 40)],
    ("p3", "Partner"): [("L", 0), ("Q", 18), ("P", 54), ("Lost", 70)],
}


def pipeline_csv(rename: dict[str, str] | None = None) -> str:
    """The pipeline above as a CSV; each case starts on its own day at 08:00."""
    rows = ["case,activity,end,channel"]
    for day, ((case, channel), steps) in enumerate(PIPELINE.items(), start=1):
        for activity, h in steps:
            at = datetime(2024, 3, day, 8) + timedelta(hours=h)
            rows.append(f"{case},{(rename or {}).get(activity, activity)},{at:%Y-%m-%d %H:%M},{channel}")
    return "\n".join(rows) + "\n"


def events_of(path: Path, text: str) -> Events:
    path.write_text(text)
    return enrich(read_log(path))


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Events:
    return events_of(tmp_path_factory.mktemp("funnel") / "pipeline.csv", pipeline_csv())


@pytest.fixture(scope="module")
def crm() -> Funnel:
    return build_funnel(enrich(read_log(SAMPLES / "crm_pipeline.csv.gz")), by="LeadSource")


def figures(stages: tuple[FunnelStage, ...]) -> list[tuple[object, ...]]:
    return [(s.stage, s.reached, s.conversion_pct, s.drop_off, s.drop_off_pct, s.still_open,
             s.median_hours_to_reach) for s in stages]


def test_hand_built_funnel_overall(pipeline: Events) -> None:
    f = build_funnel(pipeline, stages=STAGES, won=["Won"], lost=["Lost", "Disqualified"])
    assert (f.cases, f.won_cases, f.lost_cases, f.open_cases) == (8, 2, 4, 2)
    assert (f.win_rate_pct, f.won_conversion_pct) == approx((100 * 2 / 6, 100 * 2 / 3))
    assert figures(f.stages) == [
        ("L", 8, None, 1, approx(100 / 8), 0, approx(0.0)),
        ("Q", 7, approx(100 * 7 / 8), 1, approx(100 / 6), 1, approx(21.0)),
        ("P", 5, approx(100 * 5 / 6), 1, approx(100 / 4), 1, approx(40.0)),
        ("N", 3, approx(100 * 3 / 4), 1, approx(100 / 3), 0, approx(60.0)),
    ]
    assert (f.won, f.lost, f.by, f.segments) == (("Won",), ("Lost", "Disqualified"), None, {})
    assert not f.stages_inferred and not f.outcomes_inferred


def test_hand_built_funnel_per_channel(pipeline: Events) -> None:
    f = build_funnel(pipeline, stages=STAGES, won=["Won"], lost=["Lost", "Disqualified"],
                     by="channel")
    assert list(f.segments) == ["Web", "Partner"]  # largest first
    web, partner = f.segments["Web"], f.segments["Partner"]
    assert (web.cases, web.won_cases, web.lost_cases, web.open_cases) == (5, 1, 3, 1)
    assert (web.win_rate_pct, web.won_conversion_pct) == approx((25.0, 50.0))
    assert figures(web.stages) == [
        ("L", 5, None, 1, approx(20.0), 0, approx(0.0)),
        ("Q", 4, approx(80.0), 1, approx(100 / 3), 1, approx(27.0)),
        ("P", 2, approx(100 * 2 / 3), 0, approx(0.0), 0, approx(54.0)),
        ("N", 2, approx(100.0), 1, approx(50.0), 0, approx(90.0)),
    ]
    assert (partner.cases, partner.won_cases, partner.lost_cases, partner.open_cases) == (3, 1, 1, 1)
    assert (partner.win_rate_pct, partner.won_conversion_pct) == approx((50.0, 100.0))
    assert figures(partner.stages) == [
        ("L", 3, None, 0, approx(0.0), 0, approx(0.0)),
        ("Q", 3, approx(100.0), 0, approx(0.0), 0, approx(12.0)),
        ("P", 3, approx(100.0), 1, approx(50.0), 1, approx(40.0)),
        ("N", 1, approx(50.0), 0, approx(0.0), 0, approx(50.0)),
    ]


def test_inference_on_the_hand_built_log(pipeline: Events) -> None:
    # End activities: Won, Lost, Disqualified end every case they occur in; Q ends 1 of 6.
    # Median first position: L 0; Q 1 (six times); P of 2 2 1 2 2 -> 2; N of 3 3 2 -> 3.
    given = build_funnel(pipeline, stages=STAGES, won=["Won"], lost=["Disqualified", "Lost"])
    f = build_funnel(pipeline)
    assert [s.stage for s in f.stages] == list(STAGES)
    assert (f.won, f.lost) == (("Won",), ("Disqualified", "Lost"))
    assert f.stages_inferred and f.outcomes_inferred
    assert f.stages == given.stages and f.win_rate_pct == given.win_rate_pct


def test_funnel_json(pipeline: Events) -> None:
    f = build_funnel(pipeline, stages=STAGES, won=["Won"], lost=["Lost", "Disqualified"],
                     by="channel")
    out = json.loads(json.dumps(funnel_json(f)))  # plain JSON types only
    assert out["stages"][2] == {"stage": "P", "reached": 5, "conversion_pct": 83.3, "drop_off": 1,
                                "drop_off_pct": 25.0, "still_open": 1, "median_hours_to_reach": 40.0}
    assert out["stages"][0]["conversion_pct"] is None
    assert (out["win_rate_pct"], out["won_conversion_pct"], out["cases"]) == (33.3, 66.7, 8)
    assert list(out["segments"]) == ["Web", "Partner"]
    assert out["segments"]["Partner"]["win_rate_pct"] == 50.0
    assert [s["reached"] for s in out["segments"]["Web"]["stages"]] == [5, 4, 2, 2]


def test_reopened_deal_is_open_and_later_steps_are_ignored(tmp_path: Path) -> None:
    # r1 was lost, then reopened at Lead: open again. r2 won, then onboarded: Onboarding is
    # neither stage nor outcome, so r2 stays won.
    events = events_of(tmp_path / "r.csv", "case,activity,end\n"
                       "r1,Lead,2024-01-01 08:00\nr1,Closed Lost,2024-01-02 08:00\n"
                       "r1,Lead,2024-01-03 08:00\nr2,Lead,2024-01-01 09:00\n"
                       "r2,Qualified,2024-01-01 10:00\nr2,Closed Won,2024-01-01 11:00\n"
                       "r2,Onboarding,2024-01-01 12:00\n")
    f = build_funnel(events, stages=["Lead", "Qualified"], won=["Closed Won"], lost=["Closed Lost"])
    assert (f.cases, f.won_cases, f.lost_cases, f.open_cases, f.win_rate_pct) == (2, 1, 0, 1, 100.0)
    assert [(s.reached, s.still_open, s.drop_off) for s in f.stages] == [(2, 1, 0), (1, 0, 0)]


def test_one_outcome_side_given_and_names_that_say_neither(tmp_path: Path) -> None:
    events = events_of(tmp_path / "done.csv", pipeline_csv({"Won": "Done"}))
    with pytest.raises(ConfigError, match=r"'Done' is neither won nor lost.*--won"):
        build_funnel(events)
    # --won alone: the other end activities (Disqualified, Lost) are the lost outcomes.
    f = build_funnel(events, won=["Done"])
    assert (f.won, f.lost, f.outcomes_inferred) == (("Done",), ("Disqualified", "Lost"), True)
    assert (f.won_cases, f.lost_cases, f.open_cases) == (2, 4, 2)


@pytest.mark.parametrize(("name", "kind"), [
    ("Closed Won", "won"), ("ClosedWon", "won"), ("closed_lost", "lost"), ("Converted", "won"),
    ("Contract signed", "won"), ("Lead disqualified", "lost"), ("Cancelled", "lost"),
    ("Churned", "lost"), ("Rejected", "lost"), ("Unsuccessful", None), ("Done", None),
    ("Won then lost", None),
])
def test_outcome_names(name: str, kind: str | None) -> None:
    assert outcome_kind(name) == kind


@pytest.mark.parametrize(("options", "message"), [
    ({"stages": ["L", "q"]}, r"--stages: no activity 'q' in the log; closest: 'Q'"),
    ({"lost": ["Disqualifed"]}, r"--lost: no activity 'Disqualifed'.*closest: 'Disqualified'"),
    ({"stages": ["L", "Proposal"]}, r"no activity 'Proposal'"),
    ({"won": ["Wonn"]}, r"--won: no activity 'Wonn'.*closest: 'Won'"),
    ({"stages": ["L", "Q", "L"]}, r"--stages names 'L' more than once"),
    ({"stages": []}, r"--stages is empty"),
    ({"stages": STAGES, "won": ["N", "Won"]}, r"'N' given in both --stages and --won"),
    ({"won": ["Won"], "lost": ["Won", "Lost"]}, r"'Won' given in both --won and --lost"),
    ({"by": "chanel"}, r"--by 'chanel' is not a case attribute.*'channel'"),
])
def test_bad_options(pipeline: Events, options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_funnel(pipeline, **options)  # type: ignore[arg-type]


def test_by_an_event_attribute(tmp_path: Path) -> None:
    events = events_of(tmp_path / "e.csv", "case,activity,end,medium\n"
                       "a,Lead,2024-01-01 08:00,email\na,Won,2024-01-01 09:00,call\n")
    with pytest.raises(ConfigError, match=r"--by 'medium' varies within cases"):
        build_funnel(events, by="medium")


# --- The CRM sample against sample_logs/ground_truth.json --------------------------------

def truth() -> Any:
    return json.loads((SAMPLES / "ground_truth.json").read_text())["crm_pipeline"]


def test_crm_stages_and_outcomes_inferred(crm: Funnel) -> None:
    assert [s.stage for s in crm.stages] == ["Lead", "Qualified", "Discovery", "Proposal",
                                             "Negotiation"]
    assert (crm.won, crm.lost) == (("Closed Won",), ("Closed Lost", "Disqualified"))
    outcomes = truth()["realised"]["outcomes"]
    # 823 won, 1,691 + 4,094 lost, 343 open
    assert (crm.won_cases, crm.lost_cases, crm.open_cases) == (
        outcomes["Closed Won"], outcomes["Closed Lost"] + outcomes["Disqualified"], outcomes["open"])
    assert crm.cases == 6951 and crm.stages[0].reached == 6951


def test_crm_conversion_per_lead_source_matches_the_generator(crm: Funnel) -> None:
    gt = truth()
    planted = gt["continuation_probability"]
    realised = gt["realised"]["conversion_by_source_stage"]
    assert set(crm.segments) == set(planted)
    for source, seg in crm.segments.items():
        assert seg.cases == gt["realised"]["deals_by_source"][source]
        stages = seg.stages
        # The continuation from stage i is the conversion into stage i+1; from Negotiation
        # it is the won conversion.
        rates = {s.stage: nxt.conversion_pct for s, nxt in zip(stages, stages[1:], strict=False)}
        rates["Negotiation"] = seg.won_conversion_pct
        for s in stages:
            cell = realised[source][s.stage]
            assert rates[s.stage] == approx(100 * planted[source][s.stage], abs=2.0), (source, s.stage)
            # Same definition as the generator's measurement: equal up to its 4-decimal rounding,
            # over the same decided deals, with the same deals still open.
            assert rates[s.stage] == approx(100 * cell["rate"], abs=0.006), (source, s.stage)
            assert (s.reached - s.still_open, s.still_open) == (cell["n_resolved"], cell["n_open"])


def test_crm_win_rate_per_source_and_funnel_identity(crm: Funnel) -> None:
    win = truth()["realised"]["win_rate_by_source"]
    for source, seg in crm.segments.items():
        assert seg.won_cases + seg.lost_cases == win[source]["n_closed"]
        assert seg.win_rate_pct == approx(100 * win[source]["won_over_closed"], abs=0.006)
        # Every case that reached a stage went on, dropped there or is still there.
        for s, nxt in zip(seg.stages, seg.stages[1:], strict=False):
            assert s.reached == nxt.reached + s.drop_off + s.still_open
        last = seg.stages[-1]
        assert last.reached == seg.won_cases + last.drop_off + last.still_open


def test_crm_median_time_to_reach_matches_pandas(crm: Funnel) -> None:
    raw = pd.read_csv(SAMPLES / "crm_pipeline.csv.gz").drop_duplicates().dropna(subset=["StageName"])
    raw["when"] = pd.to_datetime(raw.CreatedDate, utc=True)
    since_start = raw.when - raw.groupby("OpportunityId").when.transform("min")
    raw["h"] = since_start.dt.total_seconds() / 3600
    first_visit = raw.groupby(["OpportunityId", "StageName"]).h.min()
    expected = first_visit.groupby("StageName").median()
    for s in crm.stages:
        assert s.median_hours_to_reach == approx(expected[s.stage], abs=1e-6), s.stage
