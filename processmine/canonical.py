"""From a raw export table to the canonical event log, counting every row it cannot use.

The raw table is whatever a reader produced (strings for CSV and XES, typed columns for Parquet
or a warehouse table) plus `_pm_row`, the 1-based source row. All of the work below is Ibis
expressions: per-row cleaning, parsing and checks run in the engine, and only counts, five
examples per problem and a few profile numbers come back to Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from processmine import backend, timestamps
from processmine.errors import ConfigError, LogSchemaError
from processmine.log import RESERVED
from processmine.mapping import ResolvedMapping
from processmine.quality import (
    EXCLUDED,
    FLAGGED,
    MERGED,
    NOTE,
    REPAIRED,
    Check,
    QualityIssue,
    examples_of,
    run_checks,
)

ROW = "_pm_row"

#: Values that exports write for "no value". Compared trimmed and case-insensitively.
MISSING_MARKERS = (
    "", "na", "n/a", "#n/a", "nan", "null", "(null)", "none", "nil", "-", "--", "?", "undefined",
    "#value!", "(blank)", "<null>", "not available",
)
_EPOCH_1990 = datetime(1990, 1, 1)


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read values. Every field has the default a plain `processmine inspect` uses.

    `latest` is the instant after which a timestamp counts as "in the future"; the CLI passes
    the current time. None skips that check (tests, reproducible runs).
    """

    timestamp_format: str | None = None
    start_format: str | None = None
    timezone: str = "UTC"
    dayfirst: bool | None = None
    strict: bool = False
    earliest: datetime = _EPOCH_1990
    latest: datetime | None = None

    def cache_key(self) -> dict[str, object]:
        """The fields that change what is parsed (not `strict`, not `latest`)."""
        return {"timestamp_format": self.timestamp_format, "start_format": self.start_format,
                "timezone": self.timezone, "dayfirst": self.dayfirst,
                "earliest": self.earliest.isoformat()}


@dataclass(frozen=True, slots=True)
class Canonical:
    """The result of `canonicalize`: the table and what the reader learnt on the way."""

    table: ir.Table
    issues: tuple[QualityIssue, ...]
    notes: tuple[str, ...]
    rows_read: int
    rows_kept: int
    case_attributes: tuple[str, ...]
    event_attributes: tuple[str, ...]
    has_start: bool
    formats: Mapping[str, str]


def canonicalize(
    con: ibis.BaseBackend,
    raw: ir.Table,
    resolved: ResolvedMapping,
    options: ReadOptions,
    *,
    source: str,
    store_as: str | None = None,
) -> Canonical:
    """Clean, parse, check and pair `raw` into the canonical columns (see module doc)."""
    if options.timezone.upper() != "UTC" and not backend.check_timezone(con, options.timezone):
        raise ConfigError(f"unknown time zone {options.timezone!r}; use a name such as "
                          "'UTC' or 'Europe/Amsterdam'")
    mapping = resolved.mapping
    columns = [c for c in raw.columns if c != ROW]
    text_cols = [c for c in columns if raw[c].type().is_string()]
    notes: list[str] = []
    issues: list[QualityIssue] = []

    rows_read = int(con.execute(raw.count()))
    # Clean once into a table (trimmed text, markers as NULL, a hash of the whole source row
    # for the duplicate check) so that no later query repeats the string work.
    clean = raw.select(
        ROW, _pm_hash=ibis.struct({c: raw[c] for c in columns}).hash(),
        **{c: _clean(raw[c]) if c in text_cols else raw[c] for c in columns},
    )
    clean = backend.materialize(con, clean)
    issues += _marker_issues(con, raw, clean, text_cols)
    backend.release(con, raw)
    cleaned = {c: clean[c] for c in columns}
    roles = mapping.roles()
    formats: dict[str, str] = {}
    step = max(1, rows_read // 20_000)
    end_expr = _timestamp(con, clean, cleaned, roles["end"], options, options.timestamp_format,
                          notes, formats, source, step)
    start_expr: ir.TimestampValue | None = None
    if "start" in roles:
        start_expr = _timestamp(con, clean, cleaned, roles["start"], options,
                                options.start_format or options.timestamp_format, notes, formats,
                                source, step, required=False)

    null_ts = ibis.null(dt.Timestamp())
    null_str = ibis.null(dt.string)
    # Exact duplicates: rows with the same hash of all columns; the first in file order stays.
    # (A 64-bit hash: a false match among a billion distinct rows is a few-in-ten-billion event.)
    dup = ibis.row_number().over(group_by=clean._pm_hash, order_by=clean[ROW]) > 0
    flagged = clean.mutate(
        _pm_case=_as_text(cleaned[roles["case_id"]]),
        _pm_activity=_as_text(cleaned[roles["activity"]]),
        _pm_end_raw=_as_text(cleaned[roles["end"]]),
        _pm_end=end_expr,
        _pm_start_raw=_as_text(cleaned[roles["start"]]) if "start" in roles else null_str,
        _pm_start=start_expr if start_expr is not None else null_ts,
        _pm_resource=_as_text(cleaned[roles["resource"]]) if "resource" in roles else null_str,
        _pm_lifecycle=(_as_text(cleaned[roles["lifecycle"]]).lower()
                       if "lifecycle" in roles else null_str),
        _pm_dup=dup,
    )
    flagged = backend.materialize(con, flagged)
    f = flagged
    latest = options.latest
    out_of_range = f._pm_end < options.earliest
    if latest is not None:
        out_of_range = out_of_range | (f._pm_end > latest)
    end_col, case_col, act_col = roles["end"], roles["case_id"], roles["activity"]
    exclusions = [
        ("duplicate_row", "exact duplicate rows (removed, first kept)", f._pm_dup, f._pm_case, None),
        ("missing_case_id", f"rows without a case id (column {case_col!r})",
         f._pm_case.isnull(), f[case_col], case_col),
        ("missing_activity", f"rows without an activity (column {act_col!r})",
         f._pm_activity.isnull(), f[act_col], act_col),
        ("missing_timestamp", f"rows without a timestamp (column {end_col!r})",
         f._pm_end_raw.isnull(), f[end_col], end_col),
        ("unparseable_timestamp", f"rows whose timestamp (column {end_col!r}) cannot be parsed",
         f._pm_end.isnull(), f[end_col], end_col),
        ("timestamp_out_of_range",
         f"rows whose timestamp (column {end_col!r}) is before {options.earliest:%Y-%m-%d}"
         + (" or in the future" if latest is not None else ""),
         out_of_range, f._pm_end, end_col),
    ]
    checks, excluded = [], ibis.literal(False)
    for code, description, cond, value, column in exclusions:
        hit = cond.fill_null(False) & ~excluded
        checks.append(Check(code, description, EXCLUDED, hit, value, column))
        excluded = excluded | hit
    if "start" in roles:
        start_col = roles["start"]
        bad_start = f._pm_start_raw.notnull() & f._pm_start.isnull()
        start_range = f._pm_start < options.earliest
        if latest is not None:
            start_range = start_range | (f._pm_start > latest)
        checks += [
            Check("unparseable_start", f"start times (column {start_col!r}) that cannot be parsed "
                  "(start left empty, event kept)", REPAIRED, bad_start & ~excluded,
                  f[start_col], start_col),
            Check("start_out_of_range", f"start times before {options.earliest:%Y-%m-%d}"
                  + (" or in the future" if latest is not None else "")
                  + " (start left empty, event kept)", REPAIRED,
                  start_range.fill_null(False) & ~excluded, f._pm_start, start_col),
        ]
    issues += run_checks(con, f, checks, row=ROW, case="_pm_case")
    keep = f.filter(~excluded)
    if "start" in roles:
        keep = keep.mutate(_pm_start=ibis.ifelse(
            (keep._pm_start < options.earliest).fill_null(False)
            | ((keep._pm_start > latest).fill_null(False) if latest is not None
               else ibis.literal(False)),
            null_ts, keep._pm_start))

    if "lifecycle" in roles:
        keep, pair_issues, has_pairs = _pair_lifecycle(con, keep, roles["lifecycle"])
        issues += pair_issues
        if has_pairs:
            notes.append("start and complete events were paired into activity instances "
                         "(the k-th start of an activity in a case with its k-th complete)")

    inverted = (keep._pm_start > keep._pm_end).fill_null(False)
    issues += run_checks(con, keep, [Check(
        "end_before_start", "events that end before they start (start left empty, event kept)",
        REPAIRED, inverted, keep._pm_start, roles.get("start") or roles.get("lifecycle"))],
        row=ROW, case="_pm_case")
    keep = keep.mutate(_pm_start=ibis.ifelse(inverted, null_ts, keep._pm_start))

    used = set(roles.values())
    attributes = [c for c in columns if c not in used]
    typed = _attribute_types(con, clean, attributes, text_cols)
    final = keep.select(
        case_id=keep._pm_case, activity=keep._pm_activity, start=keep._pm_start,
        end=keep._pm_end, resource=keep._pm_resource, row_id=keep[ROW].cast(dt.int64),
        **{_attr_name(a): expr for a, expr in typed(keep).items()},
    )
    final = backend.materialize(con, final, store_as)
    backend.release(con, flagged)
    backend.release(con, clean)
    rows_kept = int(con.execute(final.count()))
    if rows_kept == 0:
        raise LogSchemaError(
            f"{source}: no usable rows: every one of the {rows_read:,} rows lacks a case id, "
            "activity or parseable timestamp. " + "; ".join(
                f"{i.count:,} {i.description}" for i in issues if i.action == EXCLUDED)
        )
    names = [_attr_name(a) for a in attributes]
    case_level = _case_level(con, final, names)
    issues += _post_checks(con, final)
    has_start = bool(con.execute(final.start.count())) if "start" in roles or "lifecycle" in roles else False
    return Canonical(
        table=final, issues=tuple(issues), notes=tuple(notes), rows_read=rows_read,
        rows_kept=rows_kept, case_attributes=tuple(n for n in names if n in case_level),
        event_attributes=tuple(n for n in names if n not in case_level), has_start=has_start,
        formats=formats,
    )


def _attr_name(name: str) -> str:
    """Attribute columns keep their source names unless they clash with a canonical or a
    working column (`RESERVED`, any letter case)."""
    return f"attr_{name}" if name.lower() in RESERVED or name.startswith("_pm_") else name


def _clean(value: ir.Value) -> ir.StringValue:
    """Trimmed text with the export's missing-value markers as NULL."""
    text = backend.trim(value)
    return ibis.ifelse(text.lower().isin(MISSING_MARKERS), ibis.null(dt.string), text)


def _as_text(value: ir.Value) -> ir.StringValue:
    return value if value.type().is_string() else value.cast(dt.string)


def _marker_issues(
    con: ibis.BaseBackend, raw: ir.Table, clean: ir.Table, text_cols: list[str]
) -> list[QualityIssue]:
    """Markers such as `NULL`, `N/A`, `-` read as missing: counted per column.

    Counted as the non-null values that cleaning turned into NULL (two cheap counts), so the
    string comparison runs again only to find examples, in the columns that have markers.
    """
    if not text_cols:
        return []
    before = con.execute(raw.aggregate(**{f"c{i}": raw[c].count() for i, c in enumerate(text_cols)}))
    after = con.execute(clean.aggregate(**{f"c{i}": clean[c].count() for i, c in enumerate(text_cols)}))
    issues = []
    for i, col in enumerate(text_cols):
        n = int(before[f"c{i}"].iloc[0]) - int(after[f"c{i}"].iloc[0])
        if n == 0:
            continue
        value = backend.trim(raw[col]).lower()
        # Whitespace-only and empty strings count too; a plain empty CSV field is NULL already.
        check = Check(
            "missing_value_marker", f"values of column {col!r} read as missing "
            "(markers such as NULL, N/A, -, or blank)", REPAIRED,
            value.isin(MISSING_MARKERS).fill_null(False), raw[col], col,
        )
        examples = examples_of(con, raw, check, ROW, None)
        issues.append(QualityIssue(check.code, check.description, n, REPAIRED, col, examples))
    return issues


def _timestamp(
    con: ibis.BaseBackend, raw: ir.Table, cleaned: Mapping[str, ir.Value], column: str,
    options: ReadOptions, user_format: str | None, notes: list[str], formats: dict[str, str],
    source: str, step: int, *, required: bool = True,
) -> ir.TimestampValue:
    value = cleaned[column]
    dtype = value.type()
    if dtype.is_timestamp() or dtype.is_date():
        formats[column] = "typed timestamp"
        return timestamps.from_native(value, options.timezone)
    text = _as_text(value)
    if user_format:
        fmt = timestamps.custom(user_format)
    else:
        probe = raw.select(ROW, **{column: text})
        found, share = timestamps.detect(con, probe, column, options.dayfirst, row=ROW, step=step)
        if found is None:
            if not required:
                notes.append(f"{column}: no value parses as a timestamp; start times left empty")
                formats[column] = "none"
                return ibis.null(dt.Timestamp())
            example = con.execute(raw.select(v=text).filter(lambda t: t.v.notnull()).limit(1))
            shown = repr(example.v.iloc[0]) if len(example) else "no values"
            raise LogSchemaError(
                f"{source}: column {column!r} does not hold timestamps (e.g. {shown}); expected "
                "ISO 8601, epoch seconds or a date like 03/04/2016 10:00. Name the format with "
                "--timestamp-format '%d.%m.%Y %H:%M' or choose another column with --timestamp."
            )
        fmt = found
        del share
    formats[column] = fmt.describe()
    if fmt.note:
        notes.append(fmt.note)
    return timestamps.parse(text, fmt, options.timezone)


def _pair_lifecycle(
    con: ibis.BaseBackend, events: ir.Table, column: str
) -> tuple[ir.Table, list[QualityIssue], bool]:
    """Pair `start` with `complete` events into one instance with start and end.

    Events without a transition count as complete. The k-th start of an activity in a case is
    paired with its k-th complete (both in time order): this is how pm4py and Disco pair
    well-nested logs. Starts without a complete and other transitions (schedule, suspend...)
    are excluded and counted.
    """
    life = ibis.coalesce(events._pm_lifecycle, ibis.literal("complete"))
    events = events.mutate(_pm_life=life)
    other = ~events._pm_life.isin(["start", "complete"])
    issues = run_checks(con, events, [Check(
        "other_lifecycle", f"events whose {column!r} is neither start nor complete (ignored)",
        EXCLUDED, other, events._pm_lifecycle, column)], row=ROW, case="_pm_case")
    order = ibis.window(group_by=["_pm_case", "_pm_activity"], order_by=["_pm_end", ROW])
    starts = events.filter(events._pm_life == "start").mutate(_pm_k=ibis.row_number().over(order))
    completes = events.filter(events._pm_life == "complete").mutate(
        _pm_k=ibis.row_number().over(order))
    if int(con.execute(starts.count())) == 0:
        return completes.drop("_pm_k", "_pm_life"), issues, False
    s = starts.select(
        _s_case=starts._pm_case, _s_act=starts._pm_activity, _s_k=starts._pm_k,
        _s_time=starts._pm_end, _s_res=starts._pm_resource, _s_row=starts[ROW],
    )
    s = backend.materialize(con, s)
    keys = [completes._pm_case == s._s_case, completes._pm_activity == s._s_act,
            completes._pm_k == s._s_k]
    paired = completes.left_join(s, keys)
    paired = paired.mutate(
        _pm_start=paired._s_time,
        _pm_resource=ibis.coalesce(paired._pm_resource, paired._s_res),
    ).drop("_s_case", "_s_act", "_s_k", "_s_time", "_s_res", "_s_row", "_pm_k", "_pm_life")
    c = completes.select(_c_case=completes._pm_case, _c_act=completes._pm_activity,
                         _c_k=completes._pm_k)
    matched = s.semi_join(c, [s._s_case == c._c_case, s._s_act == c._c_act, s._s_k == c._c_k])
    issues += run_checks(con, matched, [Check(
        "paired_start", "start events merged with their complete event into one instance",
        MERGED, matched._s_k.notnull(), matched._s_act)], row="_s_row", case="_s_case")
    lonely = s.anti_join(c, [s._s_case == c._c_case, s._s_act == c._c_act, s._s_k == c._c_k])
    issues += run_checks(con, lonely, [Check(
        "start_without_complete", "start events with no matching complete event (excluded)",
        EXCLUDED, lonely._s_k.notnull(), lonely._s_act)], row="_s_row", case="_s_case")
    return paired, issues, True


def _attribute_types(
    con: ibis.BaseBackend, table: ir.Table, attributes: list[str], text_cols: list[str],
) -> Callable[[ir.Table], dict[str, ir.Value]]:
    """Decide a type per text attribute from its cleaned values (one aggregate); return a
    builder of the typed columns.

    Every value must convert for a type to be chosen, so typing never loses a value. Integers
    with leading zeros (`00123`) stay text: they are codes, not numbers.
    """
    text_attrs = [a for a in attributes if a in text_cols]
    kinds = _guess_kinds(con, table.limit(20_000), text_attrs)
    # Confirm each guess on every value: one count of values that do not convert.
    guessed = [a for a in text_attrs if kinds[a] != "string"]
    if guessed:
        misfits = con.execute(table.aggregate(**{
            f"m{i}": (table[a].notnull() & ~_KIND_TESTS[kinds[a]](table[a])).sum()
            for i, a in enumerate(guessed)}))
        for i, name in enumerate(guessed):
            if int(misfits[f"m{i}"].iloc[0] or 0) > 0:
                kinds[name] = "string"

    def build(t: ir.Table) -> dict[str, ir.Value]:
        out: dict[str, ir.Value] = {}
        for name in attributes:
            v = t[name]
            kind = kinds.get(name)
            if kind == "int":
                out[name] = v.cast(dt.int64)
            elif kind == "float":
                out[name] = v.cast(dt.float64)
            elif kind == "bool":
                out[name] = v.lower() == "true"
            elif kind == "timestamp":
                out[name] = timestamps.parse(v, timestamps.TimestampFormat("iso"), "UTC")
            else:
                out[name] = v
        return out

    return build


#: What a text value must look like for its column to get each type.
_KIND_TESTS: dict[str, Callable[[ir.StringValue], ir.BooleanValue]] = {
    "int": lambda v: v.re_search(r"^[+-]?[1-9]\d{0,17}$") | (v == "0"),
    "float": lambda v: v.try_cast(dt.float64).notnull() & ~v.re_search(r"^[+-]?0\d"),
    "bool": lambda v: v.lower().isin(["true", "false"]),
    "timestamp": lambda v: timestamps.parse(v, timestamps.TimestampFormat("iso"), "UTC").notnull(),
}


def _guess_kinds(con: ibis.BaseBackend, sample: ir.Table, names: list[str]) -> dict[str, str]:
    """The first type in int, float, bool, timestamp that all sampled values of a column fit.

    Numbers with leading zeros (`00123`) fit none: they are codes, not numbers.
    """
    if not names:
        return {}
    aggs = {f"n{i}": sample[a].count() for i, a in enumerate(names)}
    for i, a in enumerate(names):
        for kind, test in _KIND_TESTS.items():
            aggs[f"{kind}{i}"] = test(sample[a]).fill_null(False).sum()
    row = con.execute(sample.aggregate(**aggs)).iloc[0]
    kinds = {}
    for i, a in enumerate(names):
        n = int(row[f"n{i}"] or 0)
        fits = [k for k in _KIND_TESTS if n and int(row[f"{k}{i}"] or 0) == n]
        kinds[a] = fits[0] if fits else "string"
    return kinds


def _case_level(con: ibis.BaseBackend, table: ir.Table, names: list[str]) -> set[str]:
    """Attributes with at most one distinct value in every case."""
    if not names:
        return set()
    per_case = table.group_by("case_id").aggregate(
        **{f"d{i}": table[n].nunique() for i, n in enumerate(names)})
    row = con.execute(per_case.aggregate(
        **{f"d{i}": per_case[f"d{i}"].max() for i in range(len(names))})).iloc[0]
    return {n for i, n in enumerate(names) if int(row[f"d{i}"] or 0) <= 1}


def _post_checks(con: ibis.BaseBackend, log: ir.Table) -> list[QualityIssue]:
    """Checks on the kept events: single-event cases and source order against time order."""
    sizes = log.group_by("case_id").aggregate(_n=log.count(), _row=log.row_id.min(),
                                              _act=log.activity.first())
    issues = run_checks(con, sizes, [Check(
        "single_event_case", "cases with a single event (kept)", FLAGGED, sizes._n == 1,
        sizes._act)], row="_row", case="case_id")
    in_source = ibis.window(group_by="case_id", order_by="row_id")
    previous = log.end.lag().over(in_source)
    ordered = log.mutate(_prev=previous)
    issues += run_checks(con, ordered, [Check(
        "source_order_disagrees", "events listed in the source after a later event of their "
        "case (order by timestamp used)", FLAGGED,
        (ordered.end < ordered._prev).fill_null(False), ordered.end)], row="row_id",
        case="case_id")
    return issues


__all__ = ["MISSING_MARKERS", "NOTE", "Canonical", "ReadOptions", "canonicalize"]
