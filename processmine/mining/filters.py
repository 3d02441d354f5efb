"""Filters, as in Disco: narrow the log before any analysis, and record what each one kept.

Filters apply in one fixed order, whatever order the options were given in, so the same
options always give the same log:

1. time window on the case start (its first timestamp), `[from, to)`;
2. attribute conditions (`--where`), one step each, in the order given;
3. cases starting with, then cases ending with, given activities;
4. complete cases only;
5. top variants covering N% of the cases;
6. activities occurring in at least N% of the cases.

Case-selecting filters come first and the two frequency filters last, so "the top variants" and
"the frequent activities" are counted among the cases the user chose (email tickets of March),
not in the whole log. Variants before activities: removing an activity's events changes the
paths, and a variant should be a path that was actually followed.

Each step is an Ibis expression (a semi-join of the events on the case ids or activities it
keeps), materialised once so the next step and the counts read a table, not the whole chain.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from processmine import backend
from processmine.errors import ConfigError
from processmine.log import EventLog
from processmine.mining.events import Events
from processmine.mining.stats import (
    END_SHARE,
    collect_steps,
    infer_end_activities,
    variant_of,
)

Op = Literal["=", "!=", "<", "<=", ">", ">="]
_OPS: dict[str, Op] = {"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# The attribute name may not contain an operator character, so "a!=b" splits as a, !=, b.
_WHERE = re.compile(r"^\s*(?P<attr>[^=!<>]*?)\s*(?P<op>!=|>=|<=|=|>|<)\s*(?P<value>.*?)\s*$")
WHERE_FORM = ("expected ATTRIBUTE=VALUE[,VALUE...], ATTRIBUTE!=VALUE[,VALUE...] or "
              "ATTRIBUTE<VALUE (also <=, >, >=), e.g. channel=email,chat or Amount>=10000")


@dataclass(frozen=True, slots=True)
class Condition:
    """One parsed `--where`: `values` has one item for `<`, `<=`, `>`, `>=`; for `=` and `!=`
    it is a set of alternatives (`channel=email,chat` keeps either)."""

    attribute: str
    op: Op
    values: tuple[str, ...]
    text: str

    def describe(self) -> str:
        """`channel = email`, `channel in (email, chat)`, `Amount >= 10000`."""
        if len(self.values) > 1:
            word = "in" if self.op == "=" else "not in"
            return f"{self.attribute} {word} ({', '.join(self.values)})"
        return f"{self.attribute} {self.op} {self.values[0]}"


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """The filters a user asked for; every field is optional and they combine with AND.

    - `variants_pct`: keep the most frequent variants that together cover at least this
      percentage of the cases (the fewest such variants; variants with equal counts are taken
      in order of their activity text, so the choice is deterministic).
    - `activities_pct`: keep the activities that occur in at least this percentage of the
      cases and remove the events of the others (as Disco's activity filter does); a case
      left without events is dropped.
    - `start_from`, `start_to`: the case's first timestamp (start, or end where the start is
      missing) falls in `[start_from, start_to)`. Aware datetimes are converted to UTC.
    - `where`: attribute conditions, see `parse_where`. A case attribute is tested on the
      case's value; an event attribute (or `resource`) keeps the cases with at least one
      matching event. A missing value matches `!=` (it is not the excluded value) and
      nothing else.
    - `starts_with`, `ends_with`: the case's first / last activity is one of these.
    - `complete_only`: the case's last activity is an end activity: one of `end_activities`,
      or, without them, one that ends at least 90% of the cases it occurs in, inferred on the
      unfiltered log so that "complete" does not change meaning with the other filters (when
      no activity qualifies, `apply_filters` asks for them rather than keep no case).

    Percentages and the time window are checked here, and so is the syntax of `where`;
    attribute and activity names are checked against the log by `apply_filters`.
    Raises `ConfigError`.
    """

    variants_pct: float | None = None
    activities_pct: float | None = None
    start_from: datetime | None = None
    start_to: datetime | None = None
    where: tuple[str, ...] = ()
    starts_with: tuple[str, ...] = ()
    ends_with: tuple[str, ...] = ()
    complete_only: bool = False
    end_activities: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for label, pct in (("top variants", self.variants_pct),
                           ("activity frequency", self.activities_pct)):
            if pct is not None and not 0 < pct <= 100:
                raise ConfigError(f"{label} filter: {pct:g}% is not a percentage; "
                                  "expected a number above 0 and at most 100")
        lo, hi = _utc(self.start_from), _utc(self.start_to)
        if lo is not None and hi is not None and lo >= hi:
            raise ConfigError(f"case start window: from {lo} is not before to {hi}; "
                              "expected from < to (to is excluded)")
        if self.complete_only and self.end_activities == ():
            raise ConfigError("complete cases only: the list of end activities is empty; "
                              "expected at least one activity name")
        for text in self.where:
            self.parse_where(text)

    @classmethod
    def parse_where(cls, text: str) -> Condition:
        """Parse `channel=email`, `priority!=P4`, `channel=email,chat` (any of the values),
        `Amount>=10000`, `Amount<5000`. Values cannot contain commas.

        Raises `ConfigError` with the expected form when `text` does not fit it.
        """
        found = _WHERE.match(text)
        if found is None or not found["attr"] or not found["value"]:
            raise ConfigError(f"--where {text!r}: {WHERE_FORM}")
        op = _OPS[found["op"]]
        raw = found["value"]
        if raw[0] in "=<>!":
            raise ConfigError(f"--where {text!r}: {WHERE_FORM}")
        values = tuple(v.strip() for v in raw.split(","))
        if any(not v for v in values):
            raise ConfigError(f"--where {text!r}: an empty value in the list; {WHERE_FORM}")
        if len(values) > 1 and op not in ("=", "!="):
            raise ConfigError(f"--where {text!r}: {op} takes one value, found {len(values)}; "
                              "a list of values works only with = and !=")
        return Condition(found["attr"], op, values, text)

    @property
    def is_empty(self) -> bool:
        """No filter asked for (`end_activities` alone filters nothing)."""
        return (self.variants_pct is None and self.activities_pct is None
                and self.start_from is None and self.start_to is None and not self.where
                and not self.starts_with and not self.ends_with and not self.complete_only)


@dataclass(frozen=True, slots=True)
class AppliedFilter:
    """One filter step and what it kept: cases and events before and after it."""

    description: str
    cases_before: int
    cases_after: int
    events_before: int
    events_after: int

    def describe(self) -> str:
        """One line for reports: what the filter was and how much of the log it kept."""
        return (f"{self.description}: {self.cases_after:,} of {self.cases_before:,} cases kept "
                f"({self.events_after:,} of {self.events_before:,} events)")


@dataclass(frozen=True)
class FilterResult:
    """The filtered log and the steps applied, in order (empty when nothing was asked)."""

    log: EventLog
    applied: tuple[AppliedFilter, ...] = ()

    def describe(self) -> list[str]:
        """One line per step, e.g. `Top variants covering 80% of cases (12 of 340 variants):
        5,012 of 6,859 cases kept (25,101 of 35,065 events)`."""
        return [step.describe() for step in self.applied]


# A planned step: given the current table and its case count, the filtered expression and the
# step's description (some descriptions need counts only known when the step runs). Temporary
# tables the expression reads go in the list, to be dropped once the step is materialised.
_Step = Callable[[ir.Table, int, list[ir.Table]], tuple[ir.Table, str]]


def apply_filters(log: EventLog, spec: FilterSpec) -> FilterResult:
    """Apply the filters of `spec` in the documented order (see the module docstring) and
    record the cases and events before and after each step.

    Without any filter the same `log` comes back with no steps. Everything is checked against
    the log before the first step runs. Raises `ConfigError` for an unknown attribute (listing
    the attributes), a value that does not fit the attribute's type, an ordered comparison on
    a text attribute, an unknown activity name (listing the closest names), and complete
    cases asked for when no end activity can be inferred.
    """
    if spec.is_empty:
        return FilterResult(log, ())
    steps = _plan(log, spec)
    con = log.backend
    table = log.table
    cases, events = _count(con, table)
    applied: list[AppliedFilter] = []
    for step in steps:
        scratch: list[ir.Table] = []
        expr, description = step(table, cases, scratch)
        kept = backend.materialize(con, expr)
        if table is not log.table:
            backend.release(con, table)
        for temp in scratch:
            backend.release(con, temp)
        kept_cases, kept_events = _count(con, kept)
        applied.append(AppliedFilter(description, cases, kept_cases, events, kept_events))
        table, cases, events = kept, kept_cases, kept_events
    return FilterResult(log.with_table(table), tuple(applied))


def _plan(log: EventLog, spec: FilterSpec) -> list[_Step]:
    """Check every option against the log, then list the steps in their fixed order."""
    steps: list[_Step] = []
    if spec.start_from is not None or spec.start_to is not None:
        steps.append(_window_step(_utc(spec.start_from), _utc(spec.start_to)))
    steps.extend(_where_step(_resolve(log, spec.parse_where(text))) for text in spec.where)
    names = spec.starts_with + spec.ends_with
    if spec.complete_only and spec.end_activities is not None:
        names += spec.end_activities
    known = _activities(log) if names else ()
    if spec.starts_with:
        _check_activities(spec.starts_with, known, "start activity")
        steps.append(_endpoint_step(spec.starts_with, first=True))
    if spec.ends_with:
        _check_activities(spec.ends_with, known, "end activity")
        steps.append(_endpoint_step(spec.ends_with, first=False))
    if spec.complete_only:
        if spec.end_activities is None:
            ends, how = _inferred_ends(log), "inferred"
            if not ends:
                # An empty log would only puzzle every analysis after it; ask instead.
                raise ConfigError(
                    f"complete cases only: no activity ends at least {END_SHARE:.0%} of the "
                    "cases it occurs in, so none can be inferred as an end activity; "
                    "expected the end activities to be named")
        else:
            _check_activities(spec.end_activities, known, "end activity")
            ends, how = tuple(sorted(set(spec.end_activities))), "given"
        steps.append(_endpoint_step(
            ends, first=False, description=f"Complete cases only (ending with {_or(ends)}, {how})"))
    if spec.variants_pct is not None:
        steps.append(_variants_step(log, spec.variants_pct))
    if spec.activities_pct is not None:
        steps.append(_activities_step(log, spec.activities_pct))
    return steps


def _positioned(t: ir.Table) -> ir.Table:
    """`t` with `_pm_pos`, each event's place in its case in the order of
    `EventLog.case_window` (end, then start, then source row), for first/last/variant by
    position: ordered aggregates are not portable (Ibis has none for Spark)."""
    return t.mutate(_pm_pos=ibis.row_number().over(EventLog.case_window()))


def _window_step(lo: datetime | None, hi: datetime | None) -> _Step:
    parts = ([f"from {lo}"] if lo is not None else []) + ([f"before {hi}"] if hi is not None else [])
    description = f"Cases starting {' and '.join(parts)}"

    def step(t: ir.Table, _cases: int, _scratch: list[ir.Table]) -> tuple[ir.Table, str]:
        per_case = t.group_by("case_id").aggregate(first=ibis.coalesce(t.start, t.end).min())
        keep: ir.BooleanValue = ibis.literal(True)
        if lo is not None:
            keep &= per_case.first >= lo
        if hi is not None:
            keep &= per_case.first < hi
        return t.semi_join(per_case.filter(keep).select("case_id"), "case_id"), description

    return step


@dataclass(frozen=True, slots=True)
class _Where:
    """A condition checked against the log: whether it is a case attribute, and its values
    typed as the column is."""

    condition: Condition
    case_level: bool
    literals: tuple[object, ...]


def _resolve(log: EventLog, condition: Condition) -> _Where:
    names = (*log.attributes, "resource")
    name = condition.attribute
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3)
        hint = f" (did you mean {_or(close)}?)" if close else ""
        raise ConfigError(f"--where {condition.text!r}: no attribute {name!r} in this log"
                          f"{hint}; attributes: {', '.join(names)}")
    dtype = log.table.schema()[name]
    if dtype.is_string() and condition.op not in ("=", "!="):
        raise ConfigError(f"--where {condition.text!r}: {name} holds text, so only = and != "
                          f"apply; expected e.g. {name}={condition.values[0]}")
    literals = tuple(_typed(v, dtype, condition) for v in condition.values)
    return _Where(condition, name in log.case_attributes, literals)


def _typed(value: str, dtype: dt.DataType, condition: Condition) -> object:
    """`value` as the column's type, so 9 < 10 numerically and dates compare as dates."""
    where = f"--where {condition.text!r}: {condition.attribute}"
    if dtype.is_string():
        return value
    if dtype.is_numeric():
        try:
            number = float(value) if "_" not in value else math.nan  # float() takes 1_000
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ConfigError(f"{where} is numeric, but {value!r} is not a number; "
                              "expected e.g. 10000 or 12.5")
        return int(number) if dtype.is_integer() and number.is_integer() else number
    if dtype.is_timestamp() or dtype.is_date():
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"{where} holds dates, but {value!r} is not a date; expected "
                              "e.g. 2024-03-01 or 2024-03-01 08:00") from None
        naive = _naive_utc(moment)
        return naive.date() if dtype.is_date() else naive
    if dtype.is_boolean():
        if value.lower() not in ("true", "false"):
            raise ConfigError(f"{where} is true or false, but {value!r} is neither; "
                              "expected true or false")
        return value.lower() == "true"
    raise ConfigError(f"{where} has type {dtype}, which --where cannot compare; expected an "
                      "attribute holding text, numbers, dates or true/false")


def _matches(value: ir.Value, where: _Where) -> ir.BooleanValue:
    """The condition on `value`; a missing value matches `!=` and nothing else."""
    op, literals = where.condition.op, list(where.literals)
    if op in ("=", "!="):
        hit = value.isin(literals).fill_null(False)
        return hit if op == "=" else ~hit
    bound = literals[0]
    compare = {"<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound}
    result: ir.BooleanValue = compare[op].fill_null(False)
    return result


def _where_step(where: _Where) -> _Step:
    name = where.condition.attribute
    scope = "" if where.case_level else " (at least one event)"
    description = f"Where {where.condition.describe()}{scope}"

    def step(t: ir.Table, _cases: int, _scratch: list[ir.Table]) -> tuple[ir.Table, str]:
        if where.case_level:
            # A case attribute has one value per case; test that value, not each event.
            per_case = t.group_by("case_id").aggregate(value=t[name].max())
            ids = per_case.filter(_matches(per_case.value, where)).select("case_id")
        else:
            ids = t.filter(_matches(t[name], where)).select("case_id").distinct()
        return t.semi_join(ids, "case_id"), description

    return step


def _endpoint_step(activities: tuple[str, ...], *, first: bool, description: str = "") -> _Step:
    names = sorted(set(activities))
    description = description or f"Cases {'starting' if first else 'ending'} with {_or(names)}"

    def step(t: ir.Table, _cases: int, _scratch: list[ir.Table]) -> tuple[ir.Table, str]:
        p = _positioned(t)
        end = p.activity.argmin(p._pm_pos) if first else p.activity.argmax(p._pm_pos)
        per_case = p.group_by("case_id").aggregate(endpoint=end)
        ids = per_case.filter(per_case.endpoint.isin(names)).select("case_id")
        return t.semi_join(ids, "case_id"), description

    return step


def _variants_step(log: EventLog, pct: float) -> _Step:
    def step(t: ir.Table, cases: int, scratch: list[ir.Table]) -> tuple[ir.Table, str]:
        con = log.backend
        p = _positioned(t)
        steps = p.group_by("case_id").aggregate(_pm_steps=collect_steps(p._pm_pos, p.activity))
        per_case = backend.materialize(con, steps.select(
            "case_id", variant=variant_of(steps._pm_steps)))
        counts = per_case.group_by("variant").aggregate(cases=per_case.count())
        rank = ibis.cumulative_window(order_by=[ibis.desc(counts.cases), counts.variant])
        # Keep a variant while the variants before it cover less than pct of the cases: the
        # fewest variants that reach pct.
        before = counts.cases.sum().over(rank) - counts.cases
        ranked = counts.mutate(keep=before * 100 < pct * cases)
        row = con.execute(ranked.aggregate(kept=ranked.keep.sum(), total=ranked.count())).iloc[0]
        kept, total = int(row["kept"] or 0), int(row["total"])
        scratch.append(per_case)
        ids = per_case.semi_join(ranked.filter(ranked.keep), "variant").select("case_id")
        description = f"Top variants covering {pct:g}% of cases ({kept:,} of {total:,} variants)"
        return t.semi_join(ids, "case_id"), description

    return step


def _activities_step(log: EventLog, pct: float) -> _Step:
    def step(t: ir.Table, cases: int, _scratch: list[ir.Table]) -> tuple[ir.Table, str]:
        freq = t.group_by("activity").aggregate(cases=t.case_id.nunique())
        ranked = freq.mutate(keep=freq.cases * 100 >= pct * cases)
        row = log.backend.execute(
            ranked.aggregate(kept=ranked.keep.sum(), total=ranked.count())).iloc[0]
        kept, total = int(row["kept"] or 0), int(row["total"])
        expr = t.semi_join(ranked.filter(ranked.keep).select("activity"), "activity")
        return expr, f"Activities in at least {pct:g}% of cases ({kept:,} of {total:,} activities)"

    return step


def _inferred_ends(log: EventLog) -> tuple[str, ...]:
    """End activities as `stats.case_table` infers them, on the unfiltered log."""
    t = log.table
    p = _positioned(t)
    per_case = p.group_by("case_id").aggregate(end_activity=p.activity.argmax(p._pm_pos))
    # infer_end_activities reads only case_id and activity of the events table.
    return infer_end_activities(Events(t, log), per_case)


def _activities(log: EventLog) -> tuple[str, ...]:
    t = log.table
    frame = log.backend.execute(t.select("activity").distinct())
    return tuple(sorted(str(a) for a in frame["activity"].dropna()))


def _check_activities(names: Sequence[str], known: Sequence[str], role: str) -> None:
    for name in names:
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=3)
        if close:
            hint = f"did you mean {_or(close)}?"
        else:
            shown = ", ".join(known[:15]) + (", ..." if len(known) > 15 else "")
            hint = f"activities: {shown}"
        raise ConfigError(f"{role} {name!r} is not in this log; {hint}")


def _count(con: ibis.BaseBackend, t: ir.Table) -> tuple[int, int]:
    row = con.execute(t.aggregate(cases=t.case_id.nunique(), events=t.count())).iloc[0]
    return int(row["cases"]), int(row["events"])


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else _naive_utc(moment)


def _naive_utc(moment: datetime) -> datetime:
    """Naive UTC, as the log's timestamps are."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _or(names: Sequence[str]) -> str:
    """`A`, `A or B`, `A, B or C`."""
    items = list(names)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


__all__ = ["WHERE_FORM", "AppliedFilter", "Condition", "FilterResult", "FilterSpec",
           "apply_filters"]
