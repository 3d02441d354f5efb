"""Business calendars: durations in working hours instead of clock hours.

A ticket that waits from Friday 16:00 to Monday 09:00 waited 65 clock hours but only 2 working
hours under "Mon-Fri 08:00-17:00"; comparing teams or activities in clock hours punishes
whoever happens to receive work on a Friday. The same calendars, inferred from the hours of
the week in which resources are seen working, let the simulation pause work off shift.

Two implementations of the same arithmetic live here on purpose: `hours_between` is an Ibis
expression the engine evaluates per event, `working_hours` walks the days in plain Python for
the simulation (and as the test's reference). They share no code beyond the calendar itself.

Working intervals are half-open ([start, end)), in minutes of the day; holidays are whole
calendar days without work. Timestamps are naive UTC.
"""

from __future__ import annotations

import csv
import math
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import cast

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from processmine.errors import ConfigError

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_MIN = 1440
_EXPECTED = ("expected e.g. 'Mon-Fri 08:00-17:00', "
             "'Mon-Fri 08:00-12:00,13:00-17:00; Sat 09:00-13:00' or '24/7'")
_TIME_RANGE = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_HOLIDAY_SUFFIX = re.compile(r"\+\s*(\d+)\s+holidays?", re.IGNORECASE)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EPOCH = date(1970, 1, 1)  # a Thursday: weekday index 3

Intervals = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Calendar:
    """A working week plus holidays.

    `weekly` has 7 entries, Monday to Sunday, each a sorted tuple of non-overlapping,
    non-adjacent `(start_minute, end_minute)` intervals within 0..1440. `holidays` are whole
    days off. Build one with `parse`, `from_hours_of_week` or `always`.

    Raises ConfigError when `weekly` is malformed.
    """

    weekly: tuple[Intervals, ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ConfigError(f"a calendar needs 7 days of intervals, found {len(self.weekly)}")
        for day, intervals in zip(_DAYS, self.weekly, strict=True):
            previous_end = -1
            for start, end in intervals:
                if not 0 <= start < end <= _DAY_MIN or start <= previous_end:
                    raise ConfigError(f"{day}: intervals {intervals!r} must be sorted, "
                                      "non-overlapping, merged, within minutes 0..1440")
                previous_end = end

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def parse(cls, spec: str, holidays: Iterable[date] = ()) -> Calendar:
        """Read a calendar such as "Mon-Fri 08:00-17:00".

        Segments are separated by ';', each "DAYS TIMES": days are names (Mon or Monday, any
        case) and ranges, comma-separated ("Mon,Wed,Fri", "Fri-Mon" wraps over the weekend);
        times are comma-separated "HH:MM-HH:MM" ranges, "24:00" allowed as an end. A range that
        ends before it starts ("22:00-06:00") runs past midnight into the next day. "24/7" is
        the whole week. A trailing "+ N holidays" (as `describe` writes it) must match the
        number of `holidays` given.

        Raises ConfigError naming the bad part and the expected form.
        """
        days_off = _as_dates(holidays)
        text = spec.strip()
        suffix = _HOLIDAY_SUFFIX.search(text)
        if suffix is not None and not text[suffix.end():].strip():
            if int(suffix.group(1)) != len(days_off):
                raise ConfigError(f"calendar {spec!r} mentions {suffix.group(1)} holidays but "
                                  f"{len(days_off)} were given; give them with --holidays FILE")
            text = text[:suffix.start()].strip()
        if re.fullmatch(r"24\s*/\s*7", text):
            return cls.always(days_off)
        minutes: list[set[int]] = [set() for _ in range(7)]
        segments = [s.strip() for s in text.split(";")]
        if not any(segments):
            raise ConfigError(f"calendar {spec!r} is empty; {_EXPECTED}")
        for segment in segments:
            if not segment:
                continue
            first_digit = next((i for i, ch in enumerate(segment) if ch.isdigit()), len(segment))
            day_text, time_text = segment[:first_digit], segment[first_digit:]
            if not day_text.strip():
                raise ConfigError(f"calendar {spec!r}: days are missing in {segment!r}; {_EXPECTED}")
            days = _parse_days(day_text, spec)
            for start, end in _parse_times(time_text, spec):
                for day in days:
                    if end > start:
                        minutes[day].update(range(start, end))
                    else:  # past midnight: the rest of this day, the start of the next
                        minutes[day].update(range(start, _DAY_MIN))
                        minutes[(day + 1) % 7].update(range(0, end))
        return cls(tuple(_runs(sorted(m)) for m in minutes), days_off)

    @classmethod
    def from_hours_of_week(cls, hours: Iterable[int], holidays: Iterable[date] = ()) -> Calendar:
        """The calendar whose working time is the given hours of the week.

        0 is Monday 00:00-01:00 ... 167 Sunday 23:00-24:00; adjacent hours merge into one
        interval. This is how calendars are inferred from when resources are seen working.

        Raises ConfigError for an hour outside 0..167.
        """
        minutes: list[set[int]] = [set() for _ in range(7)]
        for raw in hours:
            hour = operator.index(raw)
            if not 0 <= hour < 168:
                raise ConfigError(f"found hour of the week {hour}, expected 0..167 "
                                  "(0 = Monday 00:00-01:00)")
            day, h = divmod(hour, 24)
            minutes[day].update(range(h * 60, h * 60 + 60))
        return cls(tuple(_runs(sorted(m)) for m in minutes), _as_dates(holidays))

    @classmethod
    def always(cls, holidays: Iterable[date] = ()) -> Calendar:
        """24/7: working hours equal clock hours (except on `holidays`, if any)."""
        return cls(tuple(((0, _DAY_MIN),) for _ in range(7)), _as_dates(holidays))

    @staticmethod
    def read_holidays(path: Path) -> tuple[date, ...]:
        """Read holiday dates, sorted and without repeats, from a text or CSV file.

        A text file holds one ISO date per line; blank lines and '#' comments are skipped. A
        CSV (a line with ',', ';' or a tab) takes the column headed date or holiday, else the
        first column; a header row is recognised by not being a date.

        Raises ConfigError "FILE, line N: found 'x', expected a date like 2024-12-25", or when
        the file cannot be read.
        """
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"{path}: cannot read the holidays file ({err})") from err
        numbered = [(n, line.split("#", 1)[0].strip()) for n, line in enumerate(lines, 1)]
        numbered = [(n, line) for n, line in numbered if line]
        delimiter = next((d for d in (",", ";", "\t") if numbered and d in numbered[0][1]), None)
        found: set[date] = set()
        if delimiter is None:
            for n, line in numbered:
                found.add(_parse_date(line, path, n))
            return tuple(sorted(found))
        rows = [(n, [c.strip() for c in next(csv.reader([line], delimiter=delimiter))])
                for n, line in numbered]
        column = 0
        header = [c.lower() for c in rows[0][1]]
        named = [i for i, c in enumerate(header) if c in ("date", "holiday", "holidays")]
        if named:
            column, rows = named[0], rows[1:]
        elif not _ISO_DATE.fullmatch(rows[0][1][0]):
            rows = rows[1:]
        for n, cells in rows:
            found.add(_parse_date(cells[column] if column < len(cells) else "", path, n))
        return tuple(sorted(found))

    # --- description ----------------------------------------------------------------------

    @property
    def weekly_hours(self) -> float:
        """Working hours in a week without holidays."""
        return sum(end - start for day in self.weekly for start, end in day) / 60

    def describe(self) -> str:
        """Canonical text, e.g. "Mon-Fri 08:00-17:00 + 3 holidays"; `parse` reads it back.

        A calendar without any working time is described as "no working time", which `parse`
        refuses (such a calendar only arises from `from_hours_of_week` with no hours).
        """
        suffix = ""
        if self.holidays:
            n = len(self.holidays)
            suffix = f" + {n} holiday" + ("s" if n != 1 else "")
        if all(day == ((0, _DAY_MIN),) for day in self.weekly):
            return "24/7" + suffix
        groups: dict[Intervals, list[int]] = {}
        for i, day in enumerate(self.weekly):
            if day:
                groups.setdefault(day, []).append(i)
        if not groups:
            return "no working time" + suffix
        parts = []
        for intervals, days in groups.items():
            times = ",".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in intervals)
            parts.append(f"{_day_list(days)} {times}")
        return "; ".join(parts) + suffix

    # --- in the engine --------------------------------------------------------------------

    def hours_between(self, start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
        """Working hours in [start, end) as an Ibis expression, counted in whole seconds.

        0 when end <= start, NULL when either is NULL. Computed as F(end) - F(start), where
        F(t) counts working seconds since Monday 1969-12-29 (whole weeks times the weekly
        seconds, plus the week so far, minus the working time of holidays before t), so the
        expression is the same however far apart the timestamps are; it grows with the number
        of holidays on working days (a few hundred still run fine). Portable Ibis: no SQL
        text, no engine-specific functions. Fractions of a second are dropped.
        """
        diff = self._seconds_to(end) - self._seconds_to(start)
        return cast(ir.FloatingValue, ibis.ifelse(
            end <= start, ibis.literal(0.0), diff.cast(dt.float64) / 3600.0))

    def _seconds_to(self, t: ir.TimestampValue) -> ir.IntegerValue:
        """F(t): working seconds from Monday 1969-12-29 00:00 to t (whole seconds)."""
        day = t.date().epoch_days().cast(dt.int64)              # 0 = Thursday 1970-01-01
        weekday = t.day_of_week.index().cast(dt.int64)          # 0 = Monday
        tod = (t.hour().cast(dt.int64) * 3600 + t.minute().cast(dt.int64) * 60
               + t.second().cast(dt.int64))
        weeks = (day + 3 - weekday) // 7                          # exact: a multiple of 7
        before = [0]                                              # working seconds before each weekday
        for intervals in self.weekly[:-1]:
            before.append(before[-1] + sum(b - a for a, b in intervals) * 60)

        def so_far_today(i: int) -> ir.IntegerValue:
            # the week up to weekday i's midnight, plus each interval of that day clipped to tod
            total: ir.IntegerValue = ibis.literal(before[i], dt.int64)
            for a, b in self.weekly[i]:
                clipped = cast(ir.IntegerValue, ibis.least(tod, b * 60)) - a * 60
                total = total + cast(ir.IntegerValue, ibis.greatest(clipped, 0))
            return total

        # One CASE over the weekday: each row evaluates only its own day's branch.
        within = cast(ir.IntegerValue, weekday.cases(
            *[(ibis.literal(i, dt.int64), so_far_today(i)) for i in range(6)],
            else_=so_far_today(6)))
        week_seconds = before[-1] + sum(b - a for a, b in self.weekly[-1]) * 60
        lost = sorted((h, self._day_seconds(h)) for h in self.holidays)
        lost = [(h, seconds) for h, seconds in lost if seconds > 0]
        if not lost:
            return weeks * week_seconds + within
        # Holidays: on one, nothing of that day counts; before t, each holiday's working time
        # is taken off (a step function of t: `_step`).
        on_holiday = day.isin([(h - _EPOCH).days for h, _ in lost])
        within = cast(ir.IntegerValue, ibis.ifelse(on_holiday, _per_weekday(weekday, before), within))
        cumulative = [0]
        for _, seconds in lost:
            cumulative.append(cumulative[-1] + seconds)
        ends = [ibis.literal(datetime.combine(h + timedelta(days=1), time()), t.type())
                for h, _ in lost]
        return weeks * week_seconds + within - _step(t, ends, cumulative)

    def _day_seconds(self, d: date) -> int:
        return sum(b - a for a, b in self.weekly[d.weekday()]) * 60

    # --- in Python (the simulation) -------------------------------------------------------

    def working_hours(self, start: datetime, end: datetime) -> float:
        """Working hours in [start, end), walking the days: the reference for `hours_between`."""
        if end <= start:
            return 0.0
        seconds = 0.0
        day = start.date()
        while day <= end.date():
            midnight = datetime.combine(day, time())
            for a, b in self._intervals_on(day):
                lo = max(start, midnight + timedelta(minutes=a))
                hi = min(end, midnight + timedelta(minutes=b))
                if hi > lo:
                    seconds += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return seconds / 3600

    def is_working_time(self, t: datetime) -> bool:
        """Whether `t` falls inside a working interval (and not on a holiday)."""
        minute = (t - datetime.combine(t.date(), time())).total_seconds() / 60
        return any(a <= minute < b for a, b in self._intervals_on(t.date()))

    def next_working_time(self, t: datetime) -> datetime:
        """`t` itself when it is working time, else the start of the next working interval.

        Raises ConfigError when the calendar has no working time at all.
        """
        self._require_work()
        day = t.date()
        while True:  # ends: past the last holiday, every week has working time
            midnight = datetime.combine(day, time())
            for a, b in self._intervals_on(day):
                if midnight + timedelta(minutes=b) > t:
                    return max(t, midnight + timedelta(minutes=a))
            day += timedelta(days=1)

    def add_working_hours(self, t: datetime, hours: float) -> datetime:
        """The instant at which `hours` of working time, started at `t`, are done.

        Work pauses outside working intervals; a task that fits exactly ends at the close of
        an interval, not at the next opening. 0 hours return `t`.

        Raises ConfigError for negative or non-finite hours, or a calendar without working time.
        """
        if not math.isfinite(hours) or hours < 0:
            raise ConfigError(f"found {hours} working hours to add, expected a number >= 0")
        remaining = hours * 3600
        if remaining == 0:
            return t
        self._require_work()
        day = t.date()
        while True:
            midnight = datetime.combine(day, time())
            for a, b in self._intervals_on(day):
                lo = max(t, midnight + timedelta(minutes=a))
                hi = midnight + timedelta(minutes=b)
                if hi <= lo:
                    continue
                available = (hi - lo).total_seconds()
                if remaining <= available:
                    return lo + timedelta(seconds=remaining)
                remaining -= available
            day += timedelta(days=1)

    def _intervals_on(self, d: date) -> Intervals:
        return () if d in self.holidays else self.weekly[d.weekday()]

    def _require_work(self) -> None:
        if not any(self.weekly):
            raise ConfigError("the calendar has no working time, so work can never be done")


# --- helpers ------------------------------------------------------------------------------


def _as_dates(values: Iterable[date]) -> frozenset[date]:
    """Dates as dates: a datetime (a subclass of date) would never equal a day."""
    return frozenset(v.date() if isinstance(v, datetime) else v for v in values)


def _runs(minutes: Sequence[int]) -> Intervals:
    """Sorted minutes -> merged half-open intervals."""
    out: list[tuple[int, int]] = []
    for m in minutes:
        if out and out[-1][1] == m:
            out[-1] = (out[-1][0], m + 1)
        else:
            out.append((m, m + 1))
    return tuple(out)


def _parse_days(text: str, spec: str) -> list[int]:
    compact = re.sub(r"\s+", "", text)
    days: list[int] = []
    for item in compact.split(","):
        ends = item.split("-")
        if len(ends) > 2:
            raise ConfigError(f"calendar {spec!r}: found {item!r}, expected a day or a range "
                              f"like 'Mon-Fri'; {_EXPECTED}")
        first, last = _day_index(ends[0], spec), _day_index(ends[-1], spec)
        days.extend((first + i) % 7 for i in range((last - first) % 7 + 1))
    return sorted(set(days))


def _day_index(name: str, spec: str) -> int:
    low = name.lower()
    for i, full in enumerate(_FULL_DAYS):
        if len(low) >= 3 and full.startswith(low):
            return i
    raise ConfigError(f"calendar {spec!r}: found {name!r}, expected a day name (Mon..Sun); "
                      f"{_EXPECTED}")


def _parse_times(text: str, spec: str) -> list[tuple[int, int]]:
    out = []
    for item in re.sub(r"\s+", "", text).split(","):
        match = _TIME_RANGE.fullmatch(item)
        if match is None:
            raise ConfigError(f"calendar {spec!r}: found {item!r}, expected a time range like "
                              f"'08:00-17:00'; {_EXPECTED}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 > 0):
            raise ConfigError(f"calendar {spec!r}: found {item!r}, expected times from 00:00 to "
                              "23:59 (24:00 only as an end)")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end:
            raise ConfigError(f"calendar {spec!r}: found {item!r}, an empty time range; "
                              "expected a start before the end, e.g. '08:00-17:00'")
        out.append((start, _DAY_MIN if end == 0 else end))
    return out


def _parse_date(text: str, path: Path, line: int) -> date:
    if _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ConfigError(f"{path}, line {line}: found {text!r}, expected a date like 2024-12-25")


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _day_list(days: list[int]) -> str:
    """[0,1,2,3,4] -> "Mon-Fri"; [5,6] -> "Sat,Sun"; [0,2,4] -> "Mon,Wed,Fri"."""
    runs: list[list[int]] = []
    for d in days:
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    names = []
    for run in runs:
        if len(run) >= 3:
            names.append(f"{_DAYS[run[0]]}-{_DAYS[run[-1]]}")
        else:
            names.extend(_DAYS[d] for d in run)
    return ",".join(names)


def _per_weekday(weekday: ir.IntegerValue, values: list[int]) -> ir.IntegerValue:
    """One value per weekday (Mon..Sun) as a single CASE, or a literal when all are equal."""
    if len(set(values)) == 1:
        return cast(ir.IntegerValue, ibis.literal(values[0], dt.int64))
    common = max(sorted(set(values)), key=values.count)
    branches = [(ibis.literal(i, dt.int64), ibis.literal(v, dt.int64))
                for i, v in enumerate(values) if v != common]
    return cast(ir.IntegerValue,
                weekday.cases(*branches, else_=ibis.literal(common, dt.int64)))


def _step(t: ir.TimestampValue, ends: list[ir.TimestampValue],
          cumulative: list[int]) -> ir.IntegerValue:
    """cumulative[i] where i = how many of the sorted holidays end at or before t.

    `ends[k]` is the midnight after holiday k. A balanced tree of comparisons on the raw
    timestamp, so each row makes log2(n) cheap comparisons, not n.
    """
    if not ends:
        return cast(ir.IntegerValue, ibis.literal(cumulative[0], dt.int64))
    mid = len(ends) // 2
    # t before the end of holiday `mid`: at most `mid` holidays are over; else at least mid + 1.
    return cast(ir.IntegerValue, ibis.ifelse(
        t < ends[mid],
        _step(t, ends[:mid], cumulative[:mid + 1]),
        _step(t, ends[mid + 1:], cumulative[mid + 1:])))


__all__ = ["Calendar"]
