"""The data-quality report: every row that was skipped, repaired or looks wrong, counted.

A consultant must be able to tell the client "we dropped 41 rows, here are five of them"; so
each problem carries its count and up to five example source rows with the raw value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from processmine.errors import LogQualityError

#: What happened to the rows of a problem.
EXCLUDED = "excluded"  # the row is not in the log
REPAIRED = "repaired"  # the row is in the log with a value changed (said how)
MERGED = "merged"  # the row is folded into another (a start event into its complete event)
FLAGGED = "flagged"  # the row is in the log unchanged; the problem is worth knowing
NOTE = "note"  # a decision the reader made that the user should be able to check

_EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class Example:
    """One source row showing a problem: its 1-based row number and the raw value."""

    row: int | None
    value: str | None
    case_id: str | None = None


@dataclass(frozen=True, slots=True)
class QualityIssue:
    """One kind of problem: a stable `code`, what it means, how many rows, what was done."""

    code: str
    description: str
    count: int
    action: str
    column: str | None = None
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Rows read and kept, and the problems found, for one read of one source.

    Row numbers are 1-based data records of the source (the header is not counted; for XES,
    the n-th event in the file).
    """

    rows_read: int
    rows_kept: int
    issues: tuple[QualityIssue, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def rows_excluded(self) -> int:
        """Rows of the source that are not in the log, for whatever reason."""
        return sum(i.count for i in self.issues if i.action == EXCLUDED)

    def issue(self, code: str) -> QualityIssue | None:
        """The issue with this code, if the read found any."""
        return next((i for i in self.issues if i.code == code), None)

    def count(self, code: str) -> int:
        """How many rows (or cases) the issue `code` affects; 0 if none."""
        found = self.issue(code)
        return found.count if found else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with stable keys."""
        return {
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_excluded": self.rows_excluded,
            "issues": [asdict(i) for i in self.issues],
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityReport:
        """Inverse of `to_dict` (the ingest cache stores reports as JSON)."""
        issues = tuple(
            QualityIssue(
                code=i["code"], description=i["description"], count=i["count"],
                action=i["action"], column=i.get("column"),
                examples=tuple(Example(**e) for e in i.get("examples", ())),
            )
            for i in data.get("issues", ())
        )
        return cls(data["rows_read"], data["rows_kept"], issues, tuple(data.get("notes", ())))

    def raise_if_strict(self, source: str) -> None:
        """`--strict`: any excluded row is an error that lists what was excluded."""
        excluded = [i for i in self.issues if i.action == EXCLUDED and i.count]
        if not excluded:
            return
        parts = []
        for issue in excluded:
            where = f" (e.g. row {issue.examples[0].row})" if issue.examples else ""
            parts.append(f"{issue.count:,} {issue.description}{where}")
        raise LogQualityError(
            f"{source}: --strict: {self.rows_excluded:,} rows would be excluded: " + "; ".join(parts)
        )


@dataclass(frozen=True, slots=True)
class Check:
    """A row-level check: rows where `flag` holds have the problem; `value` is shown for them."""

    code: str
    description: str
    action: str
    flag: ir.BooleanValue
    value: ir.Value | None = None
    column: str | None = None


def run_checks(
    con: ibis.BaseBackend, table: ir.Table, checks: Sequence[Check], *, row: str = "row_id",
    case: str | None = None,
) -> list[QualityIssue]:
    """Count every check in one aggregate query, then fetch examples for those that fired."""
    if not checks:
        return []
    counts = con.execute(
        table.aggregate(**{f"c{i}": c.flag.sum() for i, c in enumerate(checks)})
    ).iloc[0]
    issues = []
    for i, check in enumerate(checks):
        n = int(counts[f"c{i}"] or 0)
        if n == 0:
            continue
        issues.append(
            QualityIssue(
                check.code, check.description, n, check.action, check.column,
                examples_of(con, table, check, row, case),
            )
        )
    return issues


def examples_of(
    con: ibis.BaseBackend, table: ir.Table, check: Check, row: str, case: str | None
) -> tuple[Example, ...]:
    """Up to five rows where `check` holds, first in source order."""
    cols: dict[str, ir.Value] = {"row": table[row]}
    if check.value is not None:
        cols["value"] = check.value.cast("string")
    if case is not None:
        cols["case_id"] = table[case].cast("string")
    hits = table.filter(check.flag).select(**cols).order_by("row").limit(_EXAMPLES)
    frame = con.execute(hits)
    out = []
    for rec in frame.to_dict("records"):
        out.append(
            Example(
                row=_int_or_none(rec.get("row")),
                value=_str_or_none(rec.get("value")),
                case_id=_str_or_none(rec.get("case_id")),
            )
        )
    return tuple(out)


def _is_missing(value: Any) -> bool:
    """None, NaN or NaT (pandas' missing values all differ from themselves)."""
    return value is None or bool(value != value)  # noqa: PLR0124


def _int_or_none(value: Any) -> int | None:
    try:
        return None if _is_missing(value) else int(value)
    except (TypeError, ValueError):
        return None


def _str_or_none(value: Any) -> str | None:
    return None if _is_missing(value) else str(value)
