"""The performance layer on a hand-built log; every figure worked out by hand below.

c1: A 08:00-08:30 ann, B 09:00-10:00 bob, C 10:00-10:15 ann           (complete)
c2: A 08:00-09:00 ann, B 11:00-11:30 ann, B 12:00-12:30 bob, C 13:00-13:30 cy   (rework)
c3: A 09:00-09:10 bob, B (no start)-10:10 bob                          (open: ends in B)
"""

from __future__ import annotations

import pandas as pd
import pytest

from processmine import read_log
from processmine.mining.events import enrich
from processmine.mining.stats import (
    activity_stats,
    case_table,
    edge_stats,
    resource_stats,
    rework_stats,
    summarize_cases,
    variant_stats,
)

LOG = """case,activity,start,end,resource
c1,A,2024-01-01 08:00,2024-01-01 08:30,ann
c1,B,2024-01-01 09:00,2024-01-01 10:00,bob
c1,C,2024-01-01 10:00,2024-01-01 10:15,ann
c2,A,2024-01-01 08:00,2024-01-01 09:00,ann
c2,B,2024-01-01 11:00,2024-01-01 11:30,ann
c2,B,2024-01-01 12:00,2024-01-01 12:30,bob
c2,C,2024-01-01 13:00,2024-01-01 13:30,cy
c3,A,2024-01-01 09:00,2024-01-01 09:10,bob
c3,B,,2024-01-01 10:10,bob
"""
approx = pytest.approx


@pytest.fixture(scope="module")
def events(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("stats") / "log.csv"
    path.write_text(LOG)
    return enrich(read_log(path))


def test_cases_and_end_activities(events) -> None:  # type: ignore[no-untyped-def]
    cases = case_table(events)
    # C ends both cases it occurs in (100% >= 90%); B ends 1 of its 3 cases.
    assert cases.end_activities == ("C",) and cases.end_activities_inferred
    df = cases.table.order_by("case_id").execute()
    assert df.complete.tolist() == [True, True, False]
    assert df.cycle_h.tolist() == approx([2.25, 5.5, 70 / 60])
    assert df.events.tolist() == [3, 4, 2]
    assert [v.split("\x1f") for v in df.variant] == [["A", "B", "C"], ["A", "B", "B", "C"], ["A", "B"]]
    s = summarize_cases(cases)
    assert (s.cases, s.complete, s.open) == (3, 2, 1)
    # Complete cases only: 2.25 h and 5.5 h.
    assert (s.cycle_mean_h, s.cycle_median_h, s.cycle_max_h, s.cycle_total_h) == approx(
        (3.875, 3.875, 5.5, 7.75))
    assert s.cycle_p90_h == approx(2.25 + 0.9 * 3.25)  # linear interpolation, as numpy
    assert summarize_cases(cases, include_open=True).cycle_total_h == approx(7.75 + 70 / 60)
    given = case_table(events, ["B", "C"])
    assert given.table.complete.sum().execute() == 3 and not given.end_activities_inferred


def test_edges(events) -> None:  # type: ignore[no-untyped-def]
    df = edge_stats(events).set_index(["source", "target"])
    assert df["count"].to_dict() == {("A", "B"): 3, ("B", "C"): 2, ("B", "B"): 1}
    ab = df.loc[("A", "B")]
    # waits: c1 08:30->09:00 0.5 h; c2 09:00->11:00 2 h; c3 09:10->10:10 (B has no start) 1 h
    assert (ab.cases, ab.wait_mean_h, ab.wait_median_h, ab.wait_max_h, ab.wait_total_h) == approx(
        (3, 3.5 / 3, 1.0, 2.0, 3.5))
    assert ab.wait_p90_h == approx(1.8)
    bc = df.loc[("B", "C")]
    assert (bc.wait_mean_h, bc.wait_total_h, bc.wait_max_h) == approx((0.25, 0.5, 0.5))
    assert df.loc[("B", "B")].wait_total_h == approx(0.5)


def test_activities(events) -> None:  # type: ignore[no-untyped-def]
    df = activity_stats(events).set_index("activity")
    assert df["count"].to_dict() == {"A": 3, "B": 4, "C": 2}
    assert df["cases"].to_dict() == {"A": 3, "B": 3, "C": 2}
    assert df.loc["A", "proc_total_h"] == approx(0.5 + 1.0 + 10 / 60)
    assert df.loc["A", "proc_median_h"] == approx(0.5)
    assert df.loc["B", "with_start"] == 3
    assert (df.loc["B", "proc_total_h"], df.loc["B", "proc_mean_h"]) == approx((2.0, 2 / 3))
    # waits before B: 0.5, 2, 1 (c3) and 0.5 (the repeat in c2)
    assert (df.loc["B", "wait_total_h"], df.loc["B", "wait_median_h"]) == approx((4.0, 0.75))
    assert df.loc["C", "wait_total_h"] == approx(0.5)
    assert pd.isna(df.loc["A", "wait_mean_h"])  # A always starts its case


def test_resources(events) -> None:  # type: ignore[no-untyped-def]
    df = resource_stats(events).set_index("resource")
    assert df["events"].to_dict() == {"ann": 4, "bob": 4, "cy": 1}
    assert df.loc["ann", "busy_h"] == approx(0.5 + 0.25 + 1.0 + 0.5)
    assert df.loc["bob", "busy_h"] == approx(1.0 + 0.5 + 10 / 60)
    assert df["activities"].to_dict() == {"ann": 3, "bob": 2, "cy": 1}
    # hand-offs: c1 ann->bob, bob->ann; c2 ann->bob, bob->cy
    assert df["handoffs_in"].to_dict() == {"ann": 1, "bob": 2, "cy": 1}
    assert df["handoffs_out"].to_dict() == {"ann": 2, "bob": 2, "cy": 0}


def test_rework_and_variants(events) -> None:  # type: ignore[no-untyped-def]
    rework = rework_stats(events)
    assert rework.activity.tolist() == ["B"]
    # the repeat of B in c2 waited 0.5 h and took 0.5 h
    assert (rework.repeats[0], rework.cases[0], rework.rework_h[0]) == (1, 1, approx(1.0))
    variants = variant_stats(case_table(events))
    assert variants.variant.tolist() == [("A", "B"), ("A", "B", "B", "C"), ("A", "B", "C")]
    assert variants.cases.tolist() == [1, 1, 1]
    assert variants.cum_share.tolist() == approx([1 / 3, 2 / 3, 1.0])
    assert variants.cycle_mean_h.tolist() == approx([70 / 60, 5.5, 2.25])


def test_attributes_named_like_working_columns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An export with columns `Events`, `Last`, `Source` and `Variant` (any case: the engine
    may match names without case) keeps them as renamed attributes and mines as usual."""
    from processmine.mining.bottlenecks import rank_bottlenecks
    from processmine.mining.kpis import compute_kpis

    path = tmp_path / "clash.csv"
    path.write_text("case,activity,start,end,resource,Events,Last,Source,Variant\n"
                    "c1,A,2024-01-01 08:00,2024-01-01 09:00,ann,3,x,web,v1\n"
                    "c1,B,2024-01-01 10:00,2024-01-01 11:00,bob,3,x,web,v1\n"
                    "c2,A,2024-01-01 08:00,2024-01-01 08:30,ann,5,y,mail,v2\n"
                    "c2,B,2024-01-01 12:00,2024-01-01 13:00,ann,5,y,mail,v2\n")
    log = read_log(path)
    assert log.case_attributes == ("attr_Events", "attr_Last", "attr_Source", "attr_Variant")
    events = enrich(log)
    cases = case_table(events)
    assert cases.table.order_by("case_id").execute().events.tolist() == [2, 2]
    top = rank_bottlenecks(events, cases, with_causes=False).bottlenecks[0]
    assert (top.kind, top.activity, top.impact_hours) == ("wait", "B", approx(4.5))  # 1 + 3.5
    assert compute_kpis(events, cases, by="attr_Source").segments["web"].cases == 1
