"""Business calendars: parsing, description, working hours in the engine and in Python.

Dates used below (2024): Mon 1 Jan, Fri 5 Jan, Mon 8 Jan, Fri 12 Jan, Fri 19 Jan, Mon 22 Jan,
Tue 24 Dec, Wed 25 Dec (the holiday), Thu 26 Dec. 1969-12-31 was a Wednesday.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from processmine import backend, read_log
from processmine.errors import ConfigError
from processmine.mining.calendar import Calendar
from processmine.mining.events import enrich

approx = pytest.approx
NINE_TO_FIVE = ((480, 1020),)  # 08:00-17:00 in minutes
OFFICE = Calendar.parse("Mon-Fri 08:00-17:00")
XMAS = date(2024, 12, 25)


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- parse ---------------------------------------------------------------------------------


def test_parse_simple_week() -> None:
    assert OFFICE.weekly == (NINE_TO_FIVE,) * 5 + ((), ())
    assert OFFICE.holidays == frozenset()
    # 5 days x 9 h
    assert OFFICE.weekly_hours == 45.0


def test_parse_lunch_break_and_saturday() -> None:
    cal = Calendar.parse("Mon-Fri 08:00-12:00,13:00-17:00; Sat 09:00-13:00")
    assert cal.weekly == ((((480, 720), (780, 1020)),) * 5 + (((540, 780),), ()))
    # 5 x 8 h + 4 h
    assert cal.weekly_hours == 44.0


def test_parse_day_lists_names_and_case() -> None:
    assert Calendar.parse("Mon,Wed,Fri 09:00-17:00").weekly == (
        ((540, 1020),), (), ((540, 1020),), (), ((540, 1020),), (), ())
    assert Calendar.parse("monday-FRIDAY 08:00-17:00") == OFFICE
    assert Calendar.parse("Mon - Fri  08:00 - 17:00") == OFFICE
    assert Calendar.parse("Mon,Tue,Wed,Thu,Fri 08:00-17:00") == OFFICE


def test_parse_wrapping_day_range() -> None:
    # Fri-Mon = Fri, Sat, Sun, Mon
    w = Calendar.parse("Fri-Mon 10:00-14:00").weekly
    assert w == (((600, 840),), (), (), (), ((600, 840),), ((600, 840),), ((600, 840),))


def test_parse_midnight_crossing_and_24h_end() -> None:
    # Mon 22:00-06:00 = Mon 22-24 + Tue 0-6
    assert Calendar.parse("Mon 22:00-06:00").weekly == (
        ((1320, 1440),), ((0, 360),), (), (), (), (), ())
    # Sunday's night shift ends on Monday morning
    assert Calendar.parse("Sun 22:00-06:00").weekly == (
        ((0, 360),), (), (), (), (), (), ((1320, 1440),))
    assert Calendar.parse("Mon 16:00-24:00").weekly[0] == ((960, 1440),)
    # "00:00" as an end is midnight too
    assert Calendar.parse("Mon 16:00-00:00").weekly[0] == ((960, 1440),)
    # Mon-Tue nights: Mon 22-24, Tue 0-6 and 22-24, Wed 0-6
    assert Calendar.parse("Mon-Tue 22:00-06:00").weekly[:3] == (
        ((1320, 1440),), ((0, 360), (1320, 1440)), ((0, 360),))


def test_parse_merges_adjacent_and_overlapping() -> None:
    assert Calendar.parse("Mon 08:00-12:00,12:00-17:00").weekly[0] == ((480, 1020),)
    assert Calendar.parse("Mon 08:00-12:00; Mon 11:00-13:00").weekly[0] == ((480, 780),)
    # Sun 20-24 and the Mon 0-2 of a Sunday night shift stay on their own days
    w = Calendar.parse("Sun 20:00-02:00; Mon 02:00-04:00").weekly
    assert (w[0], w[6]) == (((0, 240),), ((1200, 1440),))


def test_parse_24_7() -> None:
    assert Calendar.parse("24/7") == Calendar.always()
    assert Calendar.always().weekly == (((0, 1440),),) * 7
    assert Calendar.always().weekly_hours == 168.0
    assert Calendar.parse(" 24 / 7 ", [XMAS]).holidays == frozenset({XMAS})


@pytest.mark.parametrize(("spec", "bad"), [
    ("", "is empty"),
    (" ; ", "is empty"),
    ("Mon-Fri", "found ''"),
    ("Mox 08:00-17:00", "'Mox'"),
    ("Mo 08:00-17:00", "'Mo'"),
    ("08:00-17:00", "days are missing"),
    ("Mon-Fri 8-17", "'8-17'"),
    ("Mon 25:00-26:00", "'25:00-26:00'"),
    ("Mon 08:60-09:00", "'08:60-09:00'"),
    ("Mon 20:00-24:30", "'20:00-24:30'"),
    ("Mon 24:00-02:00", "'24:00-02:00'"),
    ("Mon 08:00-08:00", "empty time range"),
    ("Mon-Tue-Wed 08:00-17:00", "'Mon-Tue-Wed'"),
    ("Mon-Fri 08:00-17:00; Sat", "found ''"),
])
def test_parse_errors_name_the_bad_part(spec: str, bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        Calendar.parse(spec)
    message = str(err.value)
    assert bad in message and "expected" in message and "\n" not in message


def test_parse_holiday_count_must_match() -> None:
    with pytest.raises(ConfigError, match="mentions 2 holidays but 1 were given"):
        Calendar.parse("Mon-Fri 08:00-17:00 + 2 holidays", [XMAS])


def test_invalid_weekly_rejected() -> None:
    with pytest.raises(ConfigError, match="7 days"):
        Calendar(((),) * 6)
    with pytest.raises(ConfigError, match="Mon"):
        Calendar((((480, 720), (720, 900)),) + ((),) * 6)  # adjacent: should be merged


# --- describe ------------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "text"), [
    ("Mon-Fri 08:00-17:00", "Mon-Fri 08:00-17:00"),
    ("monday-friday 8:00-17:00", "Mon-Fri 08:00-17:00"),
    ("Mon-Fri 08:00-12:00,13:00-17:00; Sat 09:00-13:00",
     "Mon-Fri 08:00-12:00,13:00-17:00; Sat 09:00-13:00"),
    ("Mon,Wed,Fri 09:00-17:00", "Mon,Wed,Fri 09:00-17:00"),
    ("Fri-Mon 10:00-14:00", "Mon,Fri-Sun 10:00-14:00"),
    ("Sat-Sun 10:00-14:00", "Sat,Sun 10:00-14:00"),
    ("24/7", "24/7"),
    ("Mon-Sun 00:00-24:00", "24/7"),
    ("Mon-Fri 22:00-06:00",
     "Mon 22:00-24:00; Tue-Fri 00:00-06:00,22:00-24:00; Sat 00:00-06:00"),
])
def test_describe_round_trip(spec: str, text: str) -> None:
    cal = Calendar.parse(spec)
    assert cal.describe() == text
    assert Calendar.parse(text) == cal


def test_describe_mentions_holidays() -> None:
    one = Calendar.parse("Mon-Fri 08:00-17:00", [XMAS])
    two = Calendar.parse("Mon-Fri 08:00-17:00", [XMAS, date(2024, 12, 26)])
    assert one.describe() == "Mon-Fri 08:00-17:00 + 1 holiday"
    assert two.describe() == "Mon-Fri 08:00-17:00 + 2 holidays"
    assert Calendar.parse(two.describe(), two.holidays) == two
    # a datetime counts as its day
    assert Calendar.parse("24/7", [datetime(2024, 12, 25, 10)]).holidays == frozenset({XMAS})


# --- from_hours_of_week --------------------------------------------------------------------


def test_from_hours_of_week() -> None:
    # 8..16 = Mon 08:00-17:00; 32..40 = Tue 08:00-17:00; 167 = Sun 23-24; 0 = Mon 0-1
    cal = Calendar.from_hours_of_week([*range(8, 17), *range(32, 41), 167, 0])
    assert cal.weekly == (((0, 60), (480, 1020)), NINE_TO_FIVE, (), (), (), (), ((1380, 1440),))
    # 9 + 9 + 1 + 1 hours
    assert cal.weekly_hours == 20.0
    assert cal.describe() == "Mon 00:00-01:00,08:00-17:00; Tue 08:00-17:00; Sun 23:00-24:00"
    every = Calendar.from_hours_of_week(range(168), [XMAS])
    assert every == Calendar.always([XMAS])
    assert Calendar.from_hours_of_week(np.arange(8, 17, dtype=np.int64)).weekly[0] == NINE_TO_FIVE
    with pytest.raises(ConfigError, match="found hour of the week 168"):
        Calendar.from_hours_of_week([168])


def test_no_working_time() -> None:
    never = Calendar.from_hours_of_week([])
    assert never.weekly_hours == 0.0 and never.describe() == "no working time"
    assert never.working_hours(dt("2024-01-01"), dt("2024-02-01")) == 0.0
    with pytest.raises(ConfigError, match="no working time"):
        never.next_working_time(dt("2024-01-01"))
    with pytest.raises(ConfigError, match="no working time"):
        never.add_working_hours(dt("2024-01-01"), 1)


# --- read_holidays -------------------------------------------------------------------------


def test_read_holidays_text(tmp_path: Path) -> None:
    path = tmp_path / "holidays.txt"
    path.write_text("# public holidays\n2024-12-25\n\n2024-12-26  # boxing day\n2024-01-01\n"
                    "2024-12-25\n")
    # sorted, the repeated Christmas once
    assert Calendar.read_holidays(path) == (date(2024, 1, 1), XMAS, date(2024, 12, 26))


def test_read_holidays_csv(tmp_path: Path) -> None:
    named = tmp_path / "named.csv"
    named.write_text("name,Date\nChristmas,2024-12-25\nNew year,2025-01-01\n")
    assert Calendar.read_holidays(named) == (XMAS, date(2025, 1, 1))
    headed = tmp_path / "headed.csv"
    headed.write_text("day;name\n2024-12-25;Christmas\n")
    assert Calendar.read_holidays(headed) == (XMAS,)
    bare = tmp_path / "bare.csv"
    bare.write_text("2024-12-25,Christmas\n2024-12-26,Boxing day\n")
    assert Calendar.read_holidays(bare) == (XMAS, date(2024, 12, 26))


def test_read_holidays_errors(tmp_path: Path) -> None:
    text = tmp_path / "h.txt"
    text.write_text("2024-12-25\n# comment\n25/12/2024\n")
    with pytest.raises(ConfigError) as err:
        Calendar.read_holidays(text)
    assert str(err.value) == (f"{text}, line 3: found '25/12/2024', "
                              "expected a date like 2024-12-25")
    csv_file = tmp_path / "h.csv"
    csv_file.write_text("name,holiday\nXmas,2024-12-25\nBad,2024-02-30\n")
    with pytest.raises(ConfigError, match=r"h.csv, line 3: found '2024-02-30', expected a date"):
        Calendar.read_holidays(csv_file)
    with pytest.raises(ConfigError, match="cannot read the holidays file"):
        Calendar.read_holidays(tmp_path / "missing.txt")


# --- hours_between in the engine, against hand-worked figures ------------------------------

HOLIDAY_OFFICE = Calendar.parse("Mon-Fri 08:00-17:00", [XMAS])
NIGHTS = Calendar.parse("Mon-Fri 22:00-06:00")

# (calendar, start, end, working hours worked out by hand)
HAND = [
    # Fri 16-17 (1 h) + Mon 08-09 (1 h)
    (OFFICE, "2024-01-05 16:00", "2024-01-08 09:00", 2.0),
    # before opening on the same day
    (OFFICE, "2024-01-08 06:00", "2024-01-08 07:30", 0.0),
    # 06:00 -> 10:00 counts 08-10 only
    (OFFICE, "2024-01-08 06:00", "2024-01-08 10:00", 2.0),
    # after closing to midnight
    (OFFICE, "2024-01-08 17:00", "2024-01-09 00:00", 0.0),
    # Sat -> Sun: weekend
    (OFFICE, "2024-01-06 10:00", "2024-01-07 10:00", 0.0),
    # exactly three weeks from Monday opening: 3 x 45
    (OFFICE, "2024-01-01 08:00", "2024-01-22 08:00", 135.0),
    # Wed 3rd 12-17 (5) + Thu 9 + Fri 9 = 23; weeks of the 8th and 15th: 90;
    # Mon 22nd 9 + Tue 23rd 08-10 (2) = 11; total 124
    (OFFICE, "2024-01-03 12:00", "2024-01-23 10:00", 124.0),
    # seconds count: 08:00:00 -> 08:00:30 is 30 s
    (OFFICE, "2024-01-08 08:00:00", "2024-01-08 08:00:30", 30 / 3600),
    # end before start, and end equal to start
    (OFFICE, "2024-01-08 10:00", "2024-01-08 09:00", 0.0),
    (OFFICE, "2024-01-08 10:00", "2024-01-08 10:00", 0.0),
    # before 1970: Wed 31 Dec 1969 16-17 (1) + Thu 9 + Fri 2 Jan 08-09 (1)
    (OFFICE, "1969-12-31 16:00", "1970-01-02 09:00", 11.0),
    # Tue 24 Dec 16-17 (1) + Christmas (0) + Thu 26th 08-09 (1); without the holiday it is 11
    (HOLIDAY_OFFICE, "2024-12-24 16:00", "2024-12-26 09:00", 2.0),
    (OFFICE, "2024-12-24 16:00", "2024-12-26 09:00", 11.0),
    # inside the holiday: nothing; from the holiday to the next day: Thu 08-10
    (HOLIDAY_OFFICE, "2024-12-25 10:00", "2024-12-25 15:00", 0.0),
    (HOLIDAY_OFFICE, "2024-12-25 10:00", "2024-12-26 10:00", 2.0),
    # to the midnight ending the holiday: Tue 16-17 only; from the midnight starting it: Thu 08-09
    (HOLIDAY_OFFICE, "2024-12-24 16:00", "2024-12-26 00:00", 1.0),
    (HOLIDAY_OFFICE, "2024-12-25 00:00", "2024-12-26 09:00", 1.0),
    # a week holding the holiday: 45 - 9
    (HOLIDAY_OFFICE, "2024-12-23 00:00", "2024-12-30 00:00", 36.0),
    # night shift: Mon 23:00 -> Tue 02:00
    (NIGHTS, "2024-01-08 23:00", "2024-01-09 02:00", 3.0),
    # Fri 22-24 (2) + Sat 00-06 (6) + Mon 22-23 (1); no Monday morning shift (Sun not listed)
    (NIGHTS, "2024-01-12 20:00", "2024-01-15 23:00", 9.0),
    # Lunch break: Mon 11:00 -> 14:00 is 11-12 and 13-14
    (Calendar.parse("Mon-Fri 08:00-12:00,13:00-17:00"), "2024-01-08 11:00", "2024-01-08 14:00",
     2.0),
    # 24/7 equals clock hours: 2 days and 3 h
    (Calendar.always(), "2024-01-05 16:00", "2024-01-07 19:00", 51.0),
]


@cache
def _engine() -> ibis.BaseBackend:
    return backend.connect()


def _engine_hours(cal: Calendar, pairs: list[tuple[datetime | None, datetime | None]]) -> list[float]:
    frame = pd.DataFrame({"i": range(len(pairs)),
                          "s": [p[0] for p in pairs], "e": [p[1] for p in pairs]})
    t = ibis.memtable(frame, schema={"i": "int64", "s": "timestamp", "e": "timestamp"})
    expr = t.select("i", h=cal.hours_between(t.s, t.e)).order_by("i")
    return list(_engine().execute(expr)["h"])


@pytest.mark.parametrize(("cal", "start", "end", "expected"), HAND)
def test_hours_by_hand(cal: Calendar, start: str, end: str, expected: float) -> None:
    assert cal.working_hours(dt(start), dt(end)) == approx(expected, abs=1e-12)
    assert _engine_hours(cal, [(dt(start), dt(end))]) == approx([expected], abs=1e-12)


def test_hours_between_null() -> None:
    h = _engine_hours(OFFICE, [(None, dt("2024-01-08 09:00")), (dt("2024-01-08 09:00"), None),
                               (dt("2024-01-08 08:00"), dt("2024-01-08 09:00"))])
    assert pd.isna(h[0]) and pd.isna(h[1]) and h[2] == 1.0


def test_hours_between_on_read_log(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "case,activity,start,end,resource\n"
        "c1,A,2024-01-05 15:00,2024-01-05 16:00,ann\n"   # Fri 15-16: 1 h
        "c1,B,2024-01-08 09:00,2024-01-08 10:30,bob\n"   # Mon 09:00-10:30: 1.5 h
        "c2,A,2024-01-02 16:30,2024-01-03 08:30,ann\n"   # Tue 16:30-17 + Wed 08-08:30: 1 h
        "c2,B,2024-12-24 16:00,2024-12-26 09:00,bob\n"   # 1 + holiday 0 + 1: 2 h
    )
    t = read_log(path).table
    df = t.mutate(h=HOLIDAY_OFFICE.hours_between(t.start, t.end)).execute()
    got = dict(zip(df.case_id + df.activity, df.h, strict=True))
    assert got == approx({"c1A": 1.0, "c1B": 1.5, "c2A": 1.0, "c2B": 2.0})


def test_enrich_in_working_hours(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "case,activity,start,end,resource\n"
        "c1,A,2024-01-05 15:00,2024-01-05 16:00,ann\n"
        "c1,B,2024-01-08 09:00,2024-01-08 10:30,bob\n"
        "c1,C,,2024-01-08 18:00,ann\n"
        "c2,A,2024-01-02 16:30,2024-01-03 08:30,ann\n"
        "c2,B,2024-01-03 07:00,2024-01-03 09:00,bob\n"
    )
    df = enrich(read_log(path), OFFICE).table.order_by(["case_id", "pos"]).execute()
    rows = {(c, a): (w, p) for c, a, w, p in
            zip(df.case_id, df.activity, df.wait_h, df.proc_h, strict=True)}
    # c1 A: first event, no wait; proc Fri 15-16 = 1
    # c1 B: waits Fri 16:00 -> Mon 09:00 = 1 + 1 = 2 (65 clock hours); proc 1.5
    # c1 C: no start; waits 10:30 -> its end 18:00, office closes at 17:00: 6.5; no proc
    # c2 A: proc Tue 16:30-17:00 + Wed 08:00-08:30 = 1 (16 clock hours)
    # c2 B: starts 07:00 before A ends 08:30: overlap, wait 0; proc 07:00-09:00 counts 08-09 = 1
    assert pd.isna(rows["c1", "A"][0]) and rows["c1", "A"][1] == approx(1.0)
    assert rows["c1", "B"] == approx((2.0, 1.5))
    assert rows["c1", "C"][0] == approx(6.5) and pd.isna(rows["c1", "C"][1])
    assert pd.isna(rows["c2", "A"][0]) and rows["c2", "A"][1] == approx(1.0)
    assert rows["c2", "B"] == approx((0.0, 1.0))


# --- the engine against the Python reference on random pairs -------------------------------


def _random_holidays(rng: np.random.Generator, n: int) -> list[date]:
    return [date(2023, 6, 1) + timedelta(days=int(d)) for d in rng.integers(0, 900, n)]


def test_engine_matches_python_on_random_pairs() -> None:
    rng = np.random.default_rng(20240601)
    calendars = [
        Calendar.parse("Mon-Fri 08:00-12:00,13:00-17:30; Sat 09:00-13:00",
                       _random_holidays(rng, 40)),
        Calendar.parse("Mon-Fri 22:00-06:00; Sun 20:00-23:00", _random_holidays(rng, 25)),
        Calendar.from_hours_of_week([*range(7, 19), *range(31, 43), 100, 101, 167]),
    ]
    base = datetime(2023, 6, 1)
    for cal in calendars:
        starts = rng.integers(0, 900 * 86400, 2000)
        # mixed spans: minutes, days, months, and some negative ones
        spans = np.concatenate([rng.integers(-3600, 4 * 3600, 500),
                                rng.integers(0, 5 * 86400, 700),
                                rng.integers(0, 120 * 86400, 700),
                                rng.integers(-5 * 86400, 0, 100)])
        pairs: list[tuple[datetime | None, datetime | None]] = [
            (base + timedelta(seconds=int(s)), base + timedelta(seconds=int(s + d)))
            for s, d in zip(starts, spans, strict=True)]
        expected = [cal.working_hours(s, e) for s, e in pairs]
        assert sum(h > 0 for h in expected) > 1200  # the sample is not mostly zeros
        assert _engine_hours(cal, pairs) == approx(expected, abs=1e-9)


# --- Python: is_working_time, next_working_time, add_working_hours -------------------------

LUNCH = Calendar.parse("Mon-Fri 08:00-12:00,13:00-17:00", [XMAS])


def test_is_working_time() -> None:
    assert LUNCH.is_working_time(dt("2024-01-08 08:00"))
    assert LUNCH.is_working_time(dt("2024-01-08 11:59:59"))
    assert not LUNCH.is_working_time(dt("2024-01-08 12:00"))       # intervals are half-open
    assert not LUNCH.is_working_time(dt("2024-01-08 07:59:59"))
    assert not LUNCH.is_working_time(dt("2024-01-06 10:00"))       # Saturday
    assert not LUNCH.is_working_time(dt("2024-12-25 10:00"))       # holiday
    assert NIGHTS.is_working_time(dt("2024-01-09 05:00"))          # Tue morning, Mon's shift


@pytest.mark.parametrize(("t", "expected"), [
    ("2024-01-08 10:00", "2024-01-08 10:00"),   # working: itself
    ("2024-01-08 12:30", "2024-01-08 13:00"),   # lunch: reopening
    ("2024-01-08 06:00", "2024-01-08 08:00"),   # early morning
    ("2024-01-12 17:00", "2024-01-15 08:00"),   # Friday closing -> Monday
    ("2024-12-24 18:00", "2024-12-26 08:00"),   # Christmas skipped
])
def test_next_working_time(t: str, expected: str) -> None:
    assert LUNCH.next_working_time(dt(t)) == dt(expected)


@pytest.mark.parametrize(("t", "hours", "expected"), [
    ("2024-01-08 11:00", 2, "2024-01-08 14:00"),    # 11-12, lunch, 13-14
    ("2024-01-12 16:00", 1, "2024-01-12 17:00"),    # fits exactly: ends at closing
    ("2024-01-12 16:00", 1.5, "2024-01-15 08:30"),  # 1 h Friday, 0.5 h Monday
    ("2024-01-06 10:00", 0.5, "2024-01-08 08:30"),  # from Saturday: Monday 08:00 + 0.5 h
    ("2024-01-06 10:00", 0, "2024-01-06 10:00"),    # nothing to do: done at once
    ("2024-12-24 16:00", 2, "2024-12-26 09:00"),    # 16-17, Christmas off, 08-09
    ("2024-01-08 08:00", 80, "2024-01-19 17:00"),   # 40 h a week: two full weeks
    ("2024-01-08 08:00", 1 / 3600, "2024-01-08 08:00:01"),
])
def test_add_working_hours(t: str, hours: float, expected: str) -> None:
    assert LUNCH.add_working_hours(dt(t), hours) == dt(expected)


def test_add_working_hours_night_shift_and_errors() -> None:
    # Mon 23:00 + 3 h: 23-24 Monday, 00-02 Tuesday
    assert NIGHTS.add_working_hours(dt("2024-01-08 23:00"), 3) == dt("2024-01-09 02:00")
    with pytest.raises(ConfigError, match="found -1 working hours"):
        LUNCH.add_working_hours(dt("2024-01-08 08:00"), -1)
    with pytest.raises(ConfigError, match="found nan"):
        LUNCH.add_working_hours(dt("2024-01-08 08:00"), float("nan"))


def test_add_then_measure_gives_the_hours_back() -> None:
    rng = np.random.default_rng(7)
    cal = Calendar.parse("Mon-Fri 22:00-06:00; Sat 09:00-13:00", _random_holidays(rng, 30))
    for s, h in zip(rng.integers(0, 800 * 86400, 300), rng.uniform(0, 200, 300), strict=True):
        t = datetime(2023, 6, 1) + timedelta(seconds=int(s))
        done = cal.add_working_hours(t, float(h))
        assert cal.working_hours(t, done) == approx(h, abs=1e-6)
        assert done == t or cal.is_working_time(done - timedelta(microseconds=1))
