"""Turning exported timestamp text into UTC instants, inside the engine.

Exports disagree on how to write a time: ISO 8601 with or without offsets, Salesforce's
`2024-01-01T08:18:13.000+0000`, epoch seconds or milliseconds, `03/04/2016 10:00` in either
day order. We pick one format per column by trying every candidate on a sample (one aggregate
query), settle the day/month order on the whole column (a field above 12 decides it), and then
parse every value with that one format, so a value that does not fit is counted as unparseable
rather than guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from processmine import backend

_UTC = dt.Timestamp(timezone="UTC")
_NAIVE = dt.Timestamp()

#: Offsets at the end of a value: `Z`, `+02:00`, `+0200`, `+02`.
_OFFSET = r"(Z|[+-]\d{2}(:?\d{2})?)$"
_EPOCH_S = r"^\d{9,10}(\.\d+)?$"
_EPOCH_MS = r"^\d{12,13}$"
_SAMPLE = 5000


@dataclass(frozen=True, slots=True)
class TimestampFormat:
    """How one column's timestamps are written.

    `kind` is `iso` (ISO 8601, any offset), `epoch_s`, `epoch_ms`, `strptime` (with `fmt`) or
    `native` (the column is already a timestamp). `note` says what was decided and why, for the
    quality report (e.g. the day/month order).
    """

    kind: str
    fmt: str | None = None
    note: str | None = None

    def describe(self) -> str:
        """A short label for the printout: `ISO 8601`, `%d/%m/%Y %H:%M`, `epoch seconds`."""
        labels = {"iso": "ISO 8601", "epoch_s": "epoch seconds", "epoch_ms": "epoch milliseconds",
                  "native": "typed timestamp"}
        return self.fmt if self.kind == "strptime" and self.fmt else labels.get(self.kind, self.kind)


def _dmy_formats() -> list[tuple[str, str]]:
    """(day-first, month-first) strptime pairs for the numeric date styles exports use."""
    pairs = []
    for sep in ("/", "-", "."):
        for year in ("%Y", "%y"):
            for clock in (" %H:%M:%S", " %H:%M", "", " %I:%M:%S %p", " %I:%M %p", " %H:%M:%S.%f"):
                pairs.append((f"%d{sep}%m{sep}{year}{clock}", f"%m{sep}%d{sep}{year}{clock}"))
    return pairs


_DMY_PAIRS = _dmy_formats()
#: Unambiguous textual and year-first formats beyond what ISO casting accepts.
_OTHER_FORMATS = (
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y%m%d%H%M%S", "%Y%m%d %H:%M:%S",
    "%d-%b-%Y %H:%M:%S", "%d-%b-%Y %H:%M", "%d-%b-%Y", "%d %b %Y %H:%M:%S", "%d %b %Y %H:%M",
    "%d %b %Y", "%b %d, %Y %I:%M %p", "%b %d, %Y %H:%M", "%b %d, %Y", "%d %B %Y %H:%M",
    "%B %d, %Y %I:%M %p", "%a %b %d %H:%M:%S %Y", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S %z",
)


def _candidates() -> list[TimestampFormat]:
    out = [TimestampFormat("iso"), TimestampFormat("epoch_s"), TimestampFormat("epoch_ms")]
    for day_first, month_first in _DMY_PAIRS:
        out += [TimestampFormat("strptime", day_first), TimestampFormat("strptime", month_first)]
    out += [TimestampFormat("strptime", fmt) for fmt in _OTHER_FORMATS]
    return out


def parse(value: ir.StringValue, fmt: TimestampFormat, zone: str) -> ir.TimestampValue:
    """The expression that parses `value` with `fmt` into a naive UTC timestamp (NULL if not).

    Values with an offset are converted to UTC; values without one are read in `zone`.
    """
    text = backend.trim(value)
    has_offset = text.re_search(_OFFSET)
    if fmt.kind == "iso":
        aware = text.try_cast(_UTC).cast(_NAIVE)
        naive = backend.localize(text.try_cast(_NAIVE), zone)
        # A date-only ISO value matches the offset pattern on its day ("-01"), so require a time.
        return ibis.ifelse(has_offset & text.contains(":"), aware, naive)
    if fmt.kind in ("epoch_s", "epoch_ms"):
        pattern = _EPOCH_S if fmt.kind == "epoch_s" else _EPOCH_MS
        number = text.try_cast(dt.float64)
        scale = 1000 if fmt.kind == "epoch_s" else 1
        millis = (number * scale).round().cast(dt.int64)
        return ibis.ifelse(text.re_search(pattern), millis.as_timestamp("ms"), ibis.null(_NAIVE))
    if fmt.kind == "strptime" and fmt.fmt is not None:
        parsed = backend.strptime_or_null(text, fmt.fmt)
        if "%z" in fmt.fmt or "%Z" in fmt.fmt:
            return parsed
        return backend.localize(parsed, zone)
    raise ValueError(f"unknown timestamp format {fmt!r}")  # our bug, not the user's


def from_native(value: ir.Value, zone: str) -> ir.TimestampValue:
    """A column that is already a timestamp (Parquet, a warehouse table) as naive UTC."""
    dtype = value.type()
    if dtype.is_timestamp() and getattr(dtype, "timezone", None):
        return value.cast(_NAIVE)
    if dtype.is_date():
        return backend.localize(value.cast(_NAIVE), zone)
    return backend.localize(value.cast(_NAIVE), zone)


def custom(fmt: str) -> TimestampFormat:
    """The format a user named with `--timestamp-format` (C strptime codes)."""
    return TimestampFormat("strptime", fmt, note=f"format {fmt!r} given by the user")


def detect(
    con: ibis.BaseBackend, table: ir.Table, column: str, dayfirst: bool | None, *,
    row: str | None = None, step: int = 1,
) -> tuple[TimestampFormat | None, float]:
    """The best format for `column` and the share of sampled values it parses.

    Tries every candidate on up to 5,000 distinct non-null values (from every `step`-th row,
    numbered by `row`, so a large log is sampled evenly without hashing all of it).
    When a day-first and a month-first format parse equally well on the sample, the whole
    column decides (a field above 12 rules one out); if it still cannot, `dayfirst` does, and
    failing that month-first is assumed and the note says so.
    """
    spread = table.filter(table[row] % step == 0) if row is not None and step > 1 else table
    col = backend.trim(spread[column])
    sample = (
        spread.select(v=col).filter(lambda t: t.v.notnull() & (t.v != ""))
        .distinct().limit(_SAMPLE)
    )
    sample = backend.materialize(con, sample)
    # ISO and epoch first: one cheap query settles most exports.
    candidates = _candidates()[:3]
    counts = _parse_counts(con, sample, "v", candidates)
    total = counts.pop("__total__")
    if total == 0:
        return None, 0.0
    if max(counts.values()) < total:
        candidates = _candidates()
        counts = _parse_counts(con, sample, "v", candidates)
        counts.pop("__total__")
    best_score = max(counts.values())
    if best_score == 0:
        return None, 0.0
    best = [c for c in candidates if counts[_key(c)] == best_score]
    chosen = best[0]
    pair = _dayfirst_pair(chosen)
    if pair is not None:
        chosen = _settle_day_order(con, table, column, pair, dayfirst)
    return chosen, best_score / total


def _key(fmt: TimestampFormat) -> str:
    return f"{fmt.kind}|{fmt.fmt}"


def _parse_counts(
    con: ibis.BaseBackend, table: ir.Table, column: str, candidates: list[TimestampFormat]
) -> dict[str, int]:
    value = table[column]
    aggs = {f"c{i}": parse(value, c, "UTC").notnull().sum() for i, c in enumerate(candidates)}
    aggs["total"] = value.count()
    row = con.execute(table.aggregate(**aggs)).iloc[0]
    result = {_key(c): int(row[f"c{i}"] or 0) for i, c in enumerate(candidates)}
    result["__total__"] = int(row["total"] or 0)
    return result


def _dayfirst_pair(fmt: TimestampFormat) -> tuple[str, str] | None:
    for pair in _DMY_PAIRS:
        if fmt.kind == "strptime" and fmt.fmt in pair:
            return pair
    return None


def _settle_day_order(
    con: ibis.BaseBackend, table: ir.Table, column: str, pair: tuple[str, str],
    dayfirst: bool | None,
) -> TimestampFormat:
    day_fmt, month_fmt = pair
    if dayfirst is not None:
        fmt = day_fmt if dayfirst else month_fmt
        order = "day-first" if dayfirst else "month-first"
        return TimestampFormat("strptime", fmt, note=f"{column}: {order} order given by the user")
    value = backend.trim(table[column])
    counts = con.execute(
        table.aggregate(
            day=backend.strptime_or_null(value, day_fmt).notnull().sum(),
            month=backend.strptime_or_null(value, month_fmt).notnull().sum(),
        )
    ).iloc[0]
    day, month = int(counts["day"] or 0), int(counts["month"] or 0)
    if day > month:
        note = (f"{column}: read as day/month ({day_fmt}): {day - month:,} values have a first "
                "field above 12; pass --monthfirst if that is wrong")
        return TimestampFormat("strptime", day_fmt, note=note)
    if month > day:
        note = (f"{column}: read as month/day ({month_fmt}): {month - day:,} values have a second "
                "field above 12; pass --dayfirst if that is wrong")
        return TimestampFormat("strptime", month_fmt, note=note)
    note = (f"{column}: the day/month order is ambiguous (no field above 12); read as month/day "
            f"({month_fmt}). Pass --dayfirst if the dates are day-first")
    return TimestampFormat("strptime", month_fmt, note=note)


def timestamp_share(con: ibis.BaseBackend, table: ir.Table, columns: list[str]) -> dict[str, float]:
    """For value-based mapping detection: share of sampled values of each column that parse.

    Only the cheap, unambiguous formats are tried (ISO and epoch), on a 2,000-row sample.
    """
    if not columns:
        return {}
    sample = table.limit(2000)
    aggs = {}
    for i, name in enumerate(columns):
        text = backend.trim(sample[name].cast(dt.string))
        ok = parse(text, TimestampFormat("iso"), "UTC").notnull()
        for fmt in ("%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M",
                    "%d.%m.%Y %H:%M"):
            ok = ok | backend.strptime_or_null(text, fmt).notnull()
        aggs[f"ok{i}"] = ok.sum()
        aggs[f"n{i}"] = text.count()
    row = con.execute(sample.aggregate(**aggs)).iloc[0]
    out = {}
    for i, name in enumerate(columns):
        n = int(row[f"n{i}"] or 0)
        out[name] = (int(row[f"ok{i}"] or 0) / n) if n else 0.0
    return out
