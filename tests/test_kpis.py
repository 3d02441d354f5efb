"""KPIs on a hand-built log (every figure worked out below) and on the support sample.

Weeks W1 = Mon 2024-01-01, W2 = Mon 01-08 (no events at all), W3 = Mon 01-15. Times are
00:00 unless given; Close ends every case it occurs in, so it is the end activity.

case  channel  arrives (first)        completes (last)   cycle   in progress (h)
c1    email    Jan  1 (W1)            Jan  2 (W1)          24 h   24
c2    web      Jan  2 (W1)            Jan  4 12:00 (W1)    60 h   60    Work twice: rework
c3    email    Jan  5 (W1)            Jan 16 (W3)         264 h  264
c4    web      Jan  6 (W1)            Jan 15 00:00 (W3)   216 h  216   completes as W2 ends
c5    email    Jan 15 12:00 (W3)*     Jan 17 (W3)          36 h   36   * the start of Open
c6    web      Jan 16 (W3)            open (last Work Jan 18 12:00)   60 h to the log end

Log end = Jan 18 12:00 (c6's Work); span = Jan 1 -> Jan 18 12:00 = 420 h = 2.5 weeks.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime

import pandas as pd
import pytest

from processmine import read_log
from processmine.errors import ConfigError
from processmine.mining.events import Events, enrich
from processmine.mining.kpis import (
    MISSING,
    WeekFigures,
    compute_kpis,
    kpis_json,
    parse_duration,
)
from processmine.mining.stats import Cases, case_table
from tests.conftest import SAMPLES

LOG = """case,activity,start,end,resource,channel
c1,Open,,2024-01-01 00:00,ann,email
c1,Work,,2024-01-01 12:00,bob,email
c1,Close,,2024-01-02 00:00,ann,email
c2,Open,,2024-01-02 00:00,ann,web
c2,Work,,2024-01-03 00:00,bob,web
c2,Work,,2024-01-04 00:00,bob,web
c2,Close,,2024-01-04 12:00,ann,web
c3,Open,,2024-01-05 00:00,ann,email
c3,Work,,2024-01-06 00:00,bob,email
c3,Close,,2024-01-16 00:00,ann,email
c4,Open,,2024-01-06 00:00,ann,web
c4,Work,,2024-01-07 00:00,bob,web
c4,Close,,2024-01-15 00:00,ann,web
c5,Open,2024-01-15 12:00,2024-01-15 13:00,ann,email
c5,Work,,2024-01-16 12:00,bob,email
c5,Close,,2024-01-17 00:00,ann,email
c6,Open,,2024-01-16 00:00,ann,web
c6,Work,,2024-01-18 12:00,bob,web
"""
approx = pytest.approx


@pytest.fixture(scope="module")
def mined(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("kpis") / "log.csv"
    path.write_text(LOG)
    events = enrich(read_log(path))
    return events, case_table(events)


def test_overall(mined: tuple[Events, Cases]) -> None:
    report = compute_kpis(*mined, sla_hours=48)
    o = report.overall
    assert (report.start, report.end) == (datetime(2024, 1, 1), datetime(2024, 1, 18, 12))
    assert report.span_weeks == approx(2.5)
    assert (o.cases, o.complete, o.open) == (6, 5, 1)
    # complete cycles sorted: 24, 36, 60, 216, 264 -> mean 600/5 = 120, median 60,
    # p90 at position 0.9 * 4 = 3.6: 216 + 0.6 * (264 - 216) = 244.8
    assert (o.cycle_mean_h, o.cycle_median_h, o.cycle_p90_h) == approx((120, 60, 244.8))
    # 5 completions and 6 arrivals over 2.5 weeks
    assert (o.throughput_per_week, o.arrivals_per_week) == approx((2.0, 2.4))
    # in progress 24 + 60 + 264 + 216 + 36 + 60 (c6 to the log end) = 660 h over 420 h
    assert o.wip_mean == approx(660 / 420)
    assert o.rework_rate == approx(1 / 6)  # c2 only
    # cycles over 48 h: c2 60, c3 264, c4 216 -> 3 of 5; c6 is 60 h old at the log end
    assert (o.sla_hours, o.sla_breach_rate, o.open_breaching) == (48.0, approx(0.6), 1)
    assert report.by is None and report.segments == {}


def test_weekly(mined: tuple[Events, Cases]) -> None:
    report = compute_kpis(*mined, sla_hours=48)
    # W1: arrive c1-c4, complete c1 (24 h) and c2 (60 h, reworked, over 48 h) -> WIP c3, c4
    # W2: nothing happens; c3 and c4 are still in progress (c4 completes at 01-15 00:00)
    # W3: arrive c5, c6; complete c4 (216), c3 (264), c5 (36): mean 516/3 = 172, median
    #     216, none reworked, c3 and c4 over 48 h -> WIP 2 + 2 - 3 = 1 (c6)
    assert report.weekly == (
        WeekFigures(date(2024, 1, 1), 4, 2, 2, 42.0, 42.0, 0.5, 0.5),
        WeekFigures(date(2024, 1, 8), 0, 0, 2, None, None, None, None),
        WeekFigures(date(2024, 1, 15), 2, 3, 1, approx(172.0), 216.0, 0.0, approx(2 / 3)),
    )


def test_sla_boundary_and_no_sla(mined: tuple[Events, Cases]) -> None:
    at_60 = compute_kpis(*mined, sla_hours=60)
    # c2's 60 h equals the SLA: within it. Over 60 h: c3, c4 -> 2 of 5; c6 is exactly 60 h old
    assert (at_60.overall.sla_breach_rate, at_60.overall.open_breaching) == (approx(0.4), 0)
    assert [w.sla_breach_rate for w in at_60.weekly] == [0.0, None, approx(2 / 3)]
    none = compute_kpis(*mined)
    assert (none.overall.sla_hours, none.overall.sla_breach_rate, none.overall.open_breaching) == (
        None, None, None)
    assert [w.sla_breach_rate for w in none.weekly] == [None, None, None]


def test_segments(mined: tuple[Events, Cases]) -> None:
    report = compute_kpis(*mined, sla_hours=48, by="channel")
    assert report.by == "channel" and list(report.segments) == ["email", "web"]  # tie: by name
    email, web = report.segments["email"], report.segments["web"]
    # email: c1 24, c3 264, c5 36, all complete -> mean 108, median 36,
    # p90 at 0.9 * 2 = 1.8: 36 + 0.8 * (264 - 36) = 218.4; 324 h in progress of 420
    assert (email.cases, email.complete, email.open) == (3, 3, 0)
    assert (email.cycle_mean_h, email.cycle_median_h, email.cycle_p90_h) == approx((108, 36, 218.4))
    assert (email.throughput_per_week, email.arrivals_per_week) == approx((1.2, 1.2))
    assert email.wip_mean == approx(324 / 420)
    assert (email.rework_rate, email.sla_breach_rate, email.open_breaching) == (0.0, approx(1 / 3), 0)
    # web: c2 60, c4 216 complete, c6 open -> mean = median 138, p90 60 + 0.9 * 156 = 200.4;
    # 60 + 216 + 60 = 336 h in progress; c2 reworked; both complete ones over 48 h
    assert (web.cases, web.complete, web.open) == (3, 2, 1)
    assert (web.cycle_mean_h, web.cycle_median_h, web.cycle_p90_h) == approx((138, 138, 200.4))
    assert (web.throughput_per_week, web.arrivals_per_week) == approx((0.8, 1.2))
    assert web.wip_mean == approx(0.8)
    assert (web.rework_rate, web.sla_breach_rate, web.open_breaching) == (approx(1 / 3), 1.0, 1)
    # segments share the log's span, so their per-week rates and WIP add up to the whole
    o = report.overall
    assert email.wip_mean + web.wip_mean == approx(o.wip_mean)  # 324/420 + 336/420 = 660/420
    assert email.throughput_per_week + web.throughput_per_week == approx(o.throughput_per_week)
    # the weekly trend and the overall figures do not depend on the split
    assert report.weekly == compute_kpis(*mined, sla_hours=48).weekly


def test_missing_segment_and_bad_by(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "log.csv"
    path.write_text("case,activity,end,channel\n"
                    "a,X,2024-01-01 08:00,web\na,Y,2024-01-01 09:00,web\n"
                    "b,X,2024-01-01 08:00,\nb,Y,2024-01-01 10:00,\n"
                    "c,X,2024-01-01 09:00,\nc,Y,2024-01-01 12:00,\n")
    events = enrich(read_log(path))
    report = compute_kpis(events, case_table(events), by="channel")
    # b and c have no channel: 2 cases, cycles 2 h and 3 h; they come first (more cases)
    assert list(report.segments) == [MISSING, "web"]
    assert report.segments[MISSING].cases == 2
    assert report.segments[MISSING].cycle_mean_h == approx(2.5)
    with pytest.raises(ConfigError, match=r"'resource' is not a case attribute.*channel"):
        compute_kpis(events, case_table(events), by="resource")


@pytest.mark.parametrize("sla", [0.0, -1.0, math.nan, math.inf])
def test_bad_sla_hours(mined: tuple[Events, Cases], sla: float) -> None:
    with pytest.raises(ConfigError, match="positive duration"):
        compute_kpis(*mined, sla_hours=sla)


def test_json(mined: tuple[Events, Cases]) -> None:
    data = kpis_json(compute_kpis(*mined, sla_hours=48, by="channel"))
    text = json.dumps(data, allow_nan=False)  # no NaN, no dates left
    back = json.loads(text)
    assert list(back) == ["by", "sla_hours", "start", "end", "span_weeks", "overall", "weekly",
                          "segments"]
    assert (back["start"], back["end"]) == ("2024-01-01T00:00:00", "2024-01-18T12:00:00")
    assert back["weekly"][1] == {
        "week": "2024-01-08", "arrivals": 0, "completed": 0, "wip_at_week_end": 2,
        "cycle_mean_h": None, "cycle_median_h": None, "rework_rate": None,
        "sla_breach_rate": None}
    assert back["overall"]["cycle_median_h"] == 60.0 and back["overall"]["open_breaching"] == 1
    assert back["segments"]["web"]["wip_mean"] == approx(0.8)


@pytest.mark.parametrize(("text", "hours"), [
    ("48h", 48.0), ("2d", 48.0), ("90m", 1.5), ("1.5h", 1.5), ("3w", 504.0),
    ("2d 4h", 52.0), ("2d4h", 52.0), ("45s", 0.0125), (" 1H 30M ", 1.5), (".5d", 12.0),
])
def test_parse_duration(text: str, hours: float) -> None:
    assert parse_duration(text) == approx(hours)


@pytest.mark.parametrize(("text", "message"), [
    ("48", "not understood"), ("h", "not understood"), ("2 days", "not understood"),
    ("-2h", "not understood"), ("2h x", "not understood"), ("1,5h", "not understood"),
    ("", "empty"), ("   ", "empty"), ("0h", "zero"), ("0d 0m", "zero"),
])
def test_parse_duration_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        parse_duration(text)
    assert "e.g. 48h" in str(err.value)


def test_support_sample() -> None:
    events = enrich(read_log(SAMPLES / "support_tickets.csv.gz"))
    report = compute_kpis(events, case_table(events), sla_hours=parse_duration("48h"))
    o = report.overall
    # generator README: about 255 tickets per week (Jan 1 - Jul 1 2024, 26 weeks)
    assert o.arrivals_per_week == approx(255, rel=0.05)
    assert len(report.weekly) == 26 and report.weekly[0].week == date(2024, 1, 1)
    assert sum(w.arrivals for w in report.weekly) == o.cases == 6859
    assert sum(w.completed for w in report.weekly) == o.complete
    assert report.weekly[-1].wip_at_week_end == o.open

    # Independently, from the raw file: a ticket is complete when its last row (the file is
    # in completion order) is Close ticket; cycle = first start -> last completion.
    raw = pd.read_csv(SAMPLES / "support_tickets.csv.gz", parse_dates=["started_at", "completed_at"])
    per = raw.groupby("ticket_id").agg(first=("started_at", "min"), last=("completed_at", "max"),
                                       end=("activity", "last"))
    done = per[per.end == "Close ticket"]
    cycle = (done["last"] - done["first"]).dt.total_seconds() / 3600
    assert o.complete == len(done)
    assert (o.cycle_mean_h, o.cycle_median_h, o.cycle_p90_h) == approx(
        (cycle.mean(), cycle.median(), cycle.quantile(0.9)))
    assert o.sla_breach_rate == approx((cycle > 48).mean())
    # Little's law on the whole log: hours in progress / span hours, from the raw file
    log_end = per["last"].max()
    closes = per["last"].where(per.end == "Close ticket", log_end)
    in_progress_h = (closes - per["first"]).dt.total_seconds().sum() / 3600
    span_h = (log_end - per["first"].min()).total_seconds() / 3600
    assert o.wip_mean == approx(in_progress_h / span_h)
