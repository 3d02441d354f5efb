"""Pseudonymisation: names of people and customers replaced by keyed-hash pseudonyms.

Reports travel by e-mail and logs hold customers' and employees' names. `pseudonymize` is
applied to the EventLog right after reading and before any analysis, so every later output
(mining tables, maps, reports, simulation pools, JSON) only ever sees pseudonyms. That is
safer than scrubbing each output: a new report cannot forget to do it.

A pseudonym is `<Prefix>-<hex>`, the hex being the start of HMAC-SHA256(key, field NUL value):
the same key gives the same pseudonym for a value in every run (so a consultant can refer to
`Resource-3F9A2C` across monthly reports), a different key gives unrelated ones, and equal
values in different fields (a case id that is also a resource name) get unrelated pseudonyms.
The key is never stored: whoever has it could confirm a guessed name by hashing it.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePath

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from processmine import backend
from processmine.canonical import MISSING_MARKERS
from processmine.errors import ConfigError
from processmine.log import RESERVED, EventLog
from processmine.mapping import ROLE_LABEL
from processmine.quality import Example, QualityReport

RESOURCES = "resources"
CASES = "cases"

PSEUDONYMIZE_HELP = (
    "Replace values by keyed-hash pseudonyms in every output: 'resources', 'cases' and/or "
    "attribute names, comma-separated (e.g. resources,cases,OwnerEmail)."
)
PSEUDONYM_KEY_HELP = (
    "Secret key for --pseudonymize: the same key gives the same pseudonyms in every run. "
    "Without it a random key is used and forgotten. The key is never written to any output."
)

# Pseudonyms have at least this many hex digits (24 bits), and more in big fields so that a
# collision is unlikely (below _COLLISION_ODDS); an actual collision lengthens them further.
_MIN_HEX = 6
_COLLISION_ODDS = 0.01
_STR = dt.String()


@dataclass(frozen=True, slots=True)
class PseudonymSpec:
    """Which fields to pseudonymise: `resources`, `cases`, or attribute names of the log.

    Attribute names can only be checked against a log, so `pseudonymize` does that.
    """

    fields: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> PseudonymSpec:
        """Read `--pseudonymize resources,cases,OwnerEmail`.

        `resources` and `cases` are matched in any letter case; attribute names exactly.
        Repeated names count once. Raises `ConfigError` for an empty list or an empty item.
        """
        items = [item.strip() for item in text.split(",")]
        if not text.strip() or any(not item for item in items):
            raise ConfigError(
                f"--pseudonymize {text!r}: expected a comma-separated list of fields such as "
                f"'{RESOURCES},{CASES},OwnerEmail', without empty items"
            )
        fields: list[str] = []
        for item in items:
            name = item.lower() if item.lower() in (RESOURCES, CASES) else item
            if name not in fields:
                fields.append(name)
        return cls(tuple(fields))


@dataclass(frozen=True, slots=True)
class Pseudonymized:
    """A pseudonymised log and what was done, for the report's appendix.

    `fields` are `resources`, `cases` and the attribute columns of the log, in the order asked;
    `counts` the distinct values replaced in the log per field. `examples_dropped` counts the
    quality-report example values left out because their column could not be told. The key
    itself is deliberately not here, so that no output can carry it.
    """

    log: EventLog
    fields: tuple[str, ...]
    counts: dict[str, int]
    key_source: str  # "given" or "generated"
    examples_dropped: int = 0
    # Log column -> the field's codebook, for `where`. Not shown, compared or serialised.
    books: Mapping[str, _Codebook] = field(default_factory=dict, repr=False, compare=False)

    def where(self, texts: Iterable[str]) -> tuple[str, ...]:
        """`--where` conditions as they apply to the pseudonymised log.

        A consultant filters by the names they know (`resource=Alice Smith`); the log now holds
        pseudonyms, so each value of a pseudonymised column becomes its pseudonym (the same
        keyed hash), and what every output records is the pseudonym, never the name. A value
        that already is one of the log's pseudonyms (copied from an earlier report made with
        the same key) is kept as it is. Other conditions are returned unchanged.
        """
        from processmine.mining.filters import FilterSpec

        out = []
        for text in texts:
            condition = FilterSpec.parse_where(text)
            book = self.books.get(condition.attribute)
            if book is None:
                out.append(text)
                continue
            known = set(book.table.values())
            values = [v if v in known else book.pseudonym(_as_logged(v, book.table))
                      for v in condition.values]
            out.append(f"{condition.attribute}{condition.op}{','.join(values)}")
        return tuple(out)

    def describe(self) -> str:
        """The appendix sentence saying what was pseudonymised and what was not."""
        if not self.fields:
            return "No values were pseudonymised."
        parts = []
        for i, name in enumerate(self.fields):
            n = self.counts.get(name, 0)
            unit = (" value" if n == 1 else " values") if i == 0 else ""
            label = self._label(name)
            if i == 0 and name in (RESOURCES, CASES):
                label = label[0].upper() + label[1:]
            parts.append(f"{label} ({n:,}{unit})")
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        text = (f"{listed} {'was' if len(parts) == 1 else 'were'} replaced by keyed-hash "
                "pseudonyms; the key is not in this report.")
        if self.key_source == "given":
            text += " The same key gives the same pseudonyms in other reports."
        else:
            text += (" The key was generated for this run and not kept, so other runs give "
                     "other pseudonyms.")
        if self.examples_dropped:
            text += (f" {self.examples_dropped:,} example values of data-quality problems were "
                     "left out because their column could not be told.")
        text += (f" Activity names, timestamps, other attributes and the log's file name "
                 f"({PurePath(self.log.source).name}) are shown as they are.")
        return text

    def _label(self, name: str) -> str:
        """`resources in OwnerEmail`: the field, and the source column it came from."""
        role = {RESOURCES: "resource", CASES: "case_id"}.get(name)
        if role is None:
            return name
        label = "resources" if name == RESOURCES else "case ids"
        column = self.log.mapping.mapping.roles().get(role)
        plain = column is None or column.lower().replace("_", "").rstrip("s") in {
            "resource", "case", "caseid"}
        return label if plain else f"{label} in {column}"


@dataclass(frozen=True, slots=True)
class _Field:
    """One field to pseudonymise: its log column, pseudonym prefix and source columns."""

    name: str
    column: str
    prefix: str
    sources: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Codebook:
    """The pseudonyms of one field: digest length, and the value -> pseudonym table."""

    field: _Field
    key: bytes
    length: int
    table: Mapping[str, str]

    def pseudonym(self, value: str) -> str:
        """The pseudonym of any value of the field, also one not in the log (a dropped row)."""
        found = self.table.get(value)
        if found is not None:
            return found
        return f"{self.field.prefix}-{_digest(self.key, self.field.name, value)[:self.length]}"


def pseudonymize(
    log: EventLog, spec: PseudonymSpec, key: bytes | str | None = None
) -> Pseudonymized:
    """Replace the values of `spec`'s fields by pseudonyms, in the table and the quality report.

    `key` is a passphrase (str, UTF-8) or bytes; None generates a random 32-byte key that is
    used once and forgotten. NULLs stay NULL; an attribute that is not text becomes text.
    The replacement is a join in the engine with a table of one row per distinct value, so
    case structure is kept: the same value gets the same pseudonym in every event, different
    values different ones. Quality-report examples show pseudonyms for these fields, and values
    whose column cannot be told are dropped (the row number stays). Raises `ConfigError` for
    an empty key or a field that is neither `resources`, `cases` nor an attribute of the log.
    """
    secret, key_source = _key(key)
    fields: list[_Field] = []
    for name in spec.fields:
        found = _resolve(log, name)
        if all(f.name != found.name for f in fields):
            fields.append(found)
    if not fields:
        return Pseudonymized(log, (), {}, key_source)
    con = log.backend
    values = {f.name: _distinct(con, log.table, f.column) for f in fields}
    extra = _report_values(log.quality, fields)
    books = {
        f.name: _codebook(secret, f, sorted(set(values[f.name]) | extra.get(f.name, set())))
        for f in fields
    }
    table = _replace(con, log.table, fields, books, values)
    quality, dropped = _pseudonymize_report(log, fields, books)
    counts = {f.name: len(values[f.name]) for f in fields}
    out = replace(log, table=table, quality=quality)
    by_column = {f.column: books[f.name] for f in fields}
    return Pseudonymized(out, tuple(f.name for f in fields), counts, key_source, dropped,
                         by_column)


def _as_logged(value: str, logged: Mapping[str, str]) -> str:
    """`value` as the log's text holds it: a number typed as `10000` is the `10000.0` that a
    numeric column became when it was pseudonymised (hashes compare text, not numbers)."""
    if value in logged:
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    for text in logged:
        try:
            if float(text) == number:
                return text
        except ValueError:
            continue
    return value


def _key(key: bytes | str | None) -> tuple[bytes, str]:
    if key is None:
        return secrets.token_bytes(32), "generated"
    secret = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if not secret:
        raise ConfigError("--pseudonym-key is empty; give a passphrase, or leave the option "
                          "out to use a random key for this run")
    return secret, "given"


def _resolve(log: EventLog, name: str) -> _Field:
    """The log column behind a field name, with a message naming the valid ones otherwise."""
    roles = log.mapping.mapping.roles()
    if name == RESOURCES:
        return _Field(name, "resource", "Resource", _sources(roles.get("resource")))
    if name == CASES:
        return _Field(name, "case_id", "Case", _sources(roles.get("case_id")))
    attributes = log.attributes
    # XES trace attributes are `case:<key>`; attributes named like our columns are `attr_<name>`.
    for column in (name, f"case:{name}", f"attr_{name}"):
        if column in attributes:
            sources = {column} | ({name} if column == f"attr_{name}" else set())
            return _Field(name, column, column, frozenset(sources))
    # The resource or case column named by its source name (`OwnerEmail`) means that field.
    if name == roles.get("resource"):
        return _resolve(log, RESOURCES)
    if name == roles.get("case_id"):
        return _resolve(log, CASES)
    for role, column in roles.items():
        if column == name:
            raise ConfigError(f"--pseudonymize: {name!r} is the {ROLE_LABEL[role]} column of "
                              f"{log.source}, which cannot be pseudonymised; expected "
                              f"{RESOURCES}, {CASES} or an attribute")
    valid = [RESOURCES, CASES, *attributes]
    close = difflib.get_close_matches(name, valid, n=3)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    raise ConfigError(f"--pseudonymize: {name!r} is not a field of {log.source}{hint}; expected "
                      f"one of: {', '.join(valid)}")


def _sources(column: str | None) -> frozenset[str]:
    return frozenset() if column is None else frozenset({column})


def _as_text(value: ir.Value) -> ir.StringValue:
    return value if value.type().is_string() else value.cast(_STR)


def _distinct(con: ibis.BaseBackend, table: ir.Table, column: str) -> list[str]:
    """The distinct non-null values of a column as text (one row per value leaves the engine)."""
    expr = table.select(_pm_v=_as_text(table[column])).distinct()
    frame = con.execute(expr.filter(expr._pm_v.notnull()))
    return sorted(str(v) for v in frame["_pm_v"])


def _digest(key: bytes, field: str, value: str) -> str:
    message = f"{field}\x00{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest().upper()


def _codebook(key: bytes, field: _Field, values: Iterable[str]) -> _Codebook:
    """Pseudonyms for `values`, long enough to be unique among them.

    The length depends only on how many values there are (at least six hex digits, more when
    a collision becomes likely), so the same key gives the same pseudonym in logs of similar
    size; a longer pseudonym starts with the shorter one. On an actual collision the digits
    grow until all are distinct.
    """
    digests = {v: _digest(key, field.name, v) for v in values}
    n = len(digests)
    length = _MIN_HEX
    if n > 1:
        # Birthday bound: expected collisions ~ n^2 / (2 * 16^length).
        needed = math.log(n * n / (2 * _COLLISION_ODDS), 16)
        length = max(_MIN_HEX, math.ceil(needed))
    while len({d[:length] for d in digests.values()}) < n:
        length += 1
    table = {v: f"{field.prefix}-{d[:length]}" for v, d in digests.items()}
    return _Codebook(field, key, length, table)


def _replace(
    con: ibis.BaseBackend, table: ir.Table, fields: list[_Field], books: Mapping[str, _Codebook],
    values: Mapping[str, list[str]],
) -> ir.Table:
    """One pass in the engine: a left join per field with its value -> pseudonym table.

    NULL keys match nothing and stay NULL; every non-null value is in its table.
    """
    keyed = table.mutate(**{f"_pm_k{i}": _as_text(table[f.column]) for i, f in enumerate(fields)})
    joined = keyed
    replaced: dict[str, str] = {}
    for i, f in enumerate(fields):
        book = books[f.name]
        codes = pd.DataFrame({
            f"_pm_o{i}": values[f.name],
            f"_pm_p{i}": [book.table[v] for v in values[f.name]],
        })
        mapping = ibis.memtable(codes, schema={f"_pm_o{i}": _STR, f"_pm_p{i}": _STR})
        joined = joined.left_join(mapping, joined[f"_pm_k{i}"] == mapping[f"_pm_o{i}"])
        replaced[f.column] = f"_pm_p{i}"
    out = joined.select(*[joined[replaced.get(c, c)].name(c) for c in table.columns])
    return backend.materialize(con, out.order_by("row_id"))


def _log_column(source: str) -> str:
    """The log column of a source attribute column (the renaming of `canonical._attr_name`)."""
    return f"attr_{source}" if source.lower() in RESERVED or source.startswith("_pm_") else source


def _field_of(column: str | None, fields: list[_Field]) -> _Field | None:
    if column is None:
        return None
    return next((f for f in fields if column in f.sources or _log_column(column) == f.column),
                None)


def _plain(column: str | None, log: EventLog, fields: list[_Field]) -> bool:
    """Whether `column` is a known column of the source whose values are not pseudonymised."""
    if column is None or _field_of(column, fields) is not None:
        return False
    return column in log.mapping.mapping.roles().values() or _log_column(column) in log.attributes


def _is_marker(value: str) -> bool:
    """An export's "no value" marker (NULL, N/A, -): it says nothing about anyone."""
    return value.strip().lower() in MISSING_MARKERS


def _report_values(report: QualityReport, fields: list[_Field]) -> dict[str, set[str]]:
    """Values of the fields shown only in the report (rows not in the log), so that their
    pseudonyms are unique among the log's too."""
    case_field = next((f for f in fields if f.name == CASES), None)
    out: dict[str, set[str]] = {}
    for issue in report.issues:
        field = _field_of(issue.column, fields)
        for ex in issue.examples:
            if case_field is not None and ex.case_id is not None:
                out.setdefault(CASES, set()).add(ex.case_id.strip(" "))
            if field is not None and ex.value is not None and not _is_marker(ex.value):
                out.setdefault(field.name, set()).add(ex.value.strip(" "))
    return out


def _pseudonymize_report(
    log: EventLog, fields: list[_Field], books: Mapping[str, _Codebook]
) -> tuple[QualityReport, int]:
    """The quality report with example values and case ids of the fields pseudonymised.

    A value is kept when its column is known and not pseudonymised (an activity, a timestamp),
    when it is a missing-value marker, or when a check without a column shows an activity
    name of the log; it is replaced when its column is a pseudonymised one, or when it is the
    example's case id (the duplicate-row check shows it); otherwise its column cannot be told
    and it is dropped (the row number stays).
    """
    cases = books.get(CASES)
    dropped = 0
    known: list[set[str]] = []

    def activities() -> set[str]:
        if not known:  # asked only when a check shows an unattributed value
            known.append(set(_distinct(log.backend, log.table, "activity")))
        return known[0]

    def case_of(value: str | None) -> str | None:
        if value is None or cases is None:
            return value
        return cases.pseudonym(value.strip(" "))

    issues = []
    for issue in log.quality.issues:
        field = _field_of(issue.column, fields)
        plain = _plain(issue.column, log, fields)
        examples = []
        for ex in issue.examples:
            value = ex.value
            if value is None or plain or _is_marker(value):
                pass
            elif field is not None:
                value = books[field.name].pseudonym(value.strip(" "))
            elif issue.column is None and value == ex.case_id:
                value = case_of(value)
            elif issue.column is None and value in activities():
                pass  # an activity name: shown in every output anyway
            else:
                value = None
                dropped += 1
            examples.append(Example(ex.row, value, case_of(ex.case_id)))
        issues.append(replace(issue, examples=tuple(examples)))
    return replace(log.quality, issues=tuple(issues)), dropped


__all__ = [
    "CASES", "PSEUDONYMIZE_HELP", "PSEUDONYM_KEY_HELP", "RESOURCES", "PseudonymSpec",
    "Pseudonymized", "pseudonymize",
]
