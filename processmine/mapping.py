"""Which export column plays which role, given by the user or detected from names and values.

Detection is conservative: a role is filled from a column name that exports commonly use
(ranked, so `completed_at` beats `created_at`), and only failing that from the values. When two
columns are equally good for one role we stop and ask, because a wrong guess silently changes
every number downstream.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from processmine.errors import LogSchemaError

ROLES = ("case_id", "activity", "end", "start", "resource", "lifecycle")

#: The CLI option that sets each role, quoted in error messages.
ROLE_OPTION = {
    "case_id": "--case",
    "activity": "--activity",
    "end": "--timestamp",
    "start": "--start",
    "resource": "--resource",
    "lifecycle": "--lifecycle",
}

ROLE_LABEL = {
    "case_id": "case id",
    "activity": "activity",
    "end": "timestamp (completion time)",
    "start": "start time",
    "resource": "resource",
    "lifecycle": "lifecycle transition",
}


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which export column plays which role. Applied once, at ingest.

    Any field may be left `None` when given by a user: the reader detects the rest. After
    reading, `EventLog.mapping` has `case_id`, `activity` and `end` filled.
    """

    case_id: str | None = None
    activity: str | None = None
    end: str | None = None
    start: str | None = None
    resource: str | None = None
    lifecycle: str | None = None

    def roles(self) -> dict[str, str]:
        """The roles that are set, as role -> column."""
        return {role: col for role in ROLES if (col := getattr(self, role)) is not None}

    def merged_over(self, base: ColumnMapping) -> ColumnMapping:
        """This mapping, with the roles it leaves unset taken from `base`."""
        return replace(base, **self.roles())


@dataclass(frozen=True, slots=True)
class ResolvedMapping:
    """The mapping used for a read, and how each role was decided (for the printout)."""

    mapping: ColumnMapping
    how: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> list[tuple[str, str, str]]:
        """(role, column, how it was chosen) for every role, `-` for unset roles."""
        rows = []
        for role in ROLES:
            column = getattr(self.mapping, role)
            rows.append((role, column if column is not None else "-", self.how.get(role, "")))
        return rows


# Column names by role, most specific first. Each inner tuple is one rank: two columns matching
# the same best rank are ambiguous. Names are compared after `_normalise`.
_NAMES: dict[str, tuple[tuple[str, ...], ...]] = {
    "case_id": (
        ("case:concept:name",),  # the XES standard key outranks every look-alike
        ("case_id", "caseid", "case"),
        ("ticket_id", "ticketid", "incident_id", "incidentid", "opportunity_id", "opportunityid",
         "deal_id", "dealid", "case_number", "casenumber", "incident_number", "request_id",
         "issue_id", "issue_key", "order_id", "application_id", "work_item_id", "process_id",
         "trace_id", "instance_id"),
        ("ticket", "incident", "opportunity", "deal", "issue", "number", "key", "id"),
    ),
    "activity": (
        ("concept:name",),
        ("activity", "activity_name", "activityname", "stagename", "stage_name",
         "event_name", "eventname", "task_name"),
        ("event", "stage", "status", "task", "action", "step", "state", "new_status",
         "to_status", "tostring"),
    ),
    "end": (
        ("time:timestamp",),
        ("timestamp", "end", "end_time", "endtime", "end_timestamp",
         "complete_timestamp", "completed", "completed_at", "completion_time", "complete_time",
         "completed_date", "end_date", "enddate", "createddate", "event_time", "timestamp_utc",
         "time_complete", "finished_at", "ended_at"),
        ("created", "created_at", "created_date", "changed_at", "changed", "updated_at",
         "modified", "modified_date", "date", "datetime", "time", "event_timestamp", "sys_created_on"),
    ),
    "start": (
        ("start", "start_time", "starttime", "start_timestamp", "started_at", "start_date",
         "startdate", "started", "time_start", "begin", "begin_time"),
    ),
    "resource": (
        ("org:resource",),
        ("resource", "agent", "owner", "assignee", "owneremail", "owner_email",
         "assigned_to", "performer", "user", "user_name", "username", "employee", "handler",
         "actor", "resource_name"),
        ("owner_id", "ownerid", "assignee_id", "agent_id", "user_id", "created_by", "createdby",
         "changed_by", "author", "org:group", "team"),
    ),
    "lifecycle": (
        ("lifecycle:transition",),
        ("lifecycle", "transition", "event_type", "lifecycle_transition"),
    ),
}


def _normalise(name: str) -> str:
    """Lower case, spaces and dashes as underscores; keeps `:` so XES keys stay distinct."""
    return re.sub(r"[\s\-./]+", "_", name.strip().lower())


def names_for(role: str, columns: Sequence[str]) -> list[list[str]]:
    """The columns whose names fit `role`, grouped by rank (best first), empty ranks dropped."""
    normalised = {col: _normalise(col) for col in columns}
    ranks = []
    for rank in _NAMES.get(role, ()):
        hits = [col for col in columns if normalised[col] in rank]
        if hits:
            ranks.append(hits)
    return ranks


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """What the values of one column look like, from one aggregate query (for detection)."""

    name: str
    non_null: int
    distinct: int
    timestamp_share: float  # share of non-null values that parse as a timestamp
    is_text: bool


def resolve_mapping(
    columns: Sequence[str],
    given: ColumnMapping,
    how_given: str,
    profile: Callable[[], Mapping[str, ColumnProfile]],
    *,
    source: str,
) -> ResolvedMapping:
    """Fill the roles the user left open, from names first and values second.

    `profile` is called only when names alone do not settle a required role, since profiling
    costs a scan of the log. Raises `LogSchemaError` naming the candidates and the option that
    settles an ambiguity, or the columns present when nothing fits a required role.
    """
    chosen: dict[str, str] = {}
    how: dict[str, str] = {}
    for role, column in given.roles().items():
        if column not in columns:
            raise LogSchemaError(
                f"{source}: the {ROLE_LABEL[role]} column {column!r} ({ROLE_OPTION[role]}) is "
                f"not in the log. Columns: {_listing(columns)}"
                f"{_closest_hint(column, columns)}"
            )
        chosen[role] = column
        how[role] = how_given
    for role in ROLES:
        if role in chosen:
            continue
        free = [c for c in columns if c not in chosen.values()]
        for rank in names_for(role, free):
            if len(rank) > 1:
                raise _ambiguous(source, role, rank)
            chosen[role] = rank[0]
            how[role] = "detected from its name"
            break
    missing = [r for r in ("case_id", "activity", "end") if r not in chosen]
    if missing:
        profiles = profile()
        for role in missing:
            free = [c for c in columns if c not in chosen.values()]
            candidates = _by_values(role, [profiles[c] for c in free if c in profiles], chosen)
            if len(candidates) > 1:
                raise _ambiguous(source, role, candidates)
            if not candidates:
                raise LogSchemaError(
                    f"{source}: no column is usable as the {ROLE_LABEL[role]}. "
                    f"Columns: {_listing(columns)}. Name it with {ROLE_OPTION[role]} COLUMN."
                )
            chosen[role] = candidates[0]
            how[role] = "detected from its values"
    return ResolvedMapping(ColumnMapping(**chosen), how)


def _by_values(role: str, profiles: list[ColumnProfile], chosen: Mapping[str, str]) -> list[str]:
    """Columns whose values fit `role`: datetimes for the timestamp, ids and labels otherwise.

    More than one name back means the values cannot decide and the user must.
    """
    if role == "end":
        return [p.name for p in profiles if p.non_null and p.timestamp_share >= 0.9]
    # Text that repeats (a case has several events; an activity occurs in many cases).
    text = [p for p in profiles
            if p.is_text and p.non_null and p.timestamp_share < 0.5 and 2 <= p.distinct < p.non_null]
    if role == "case_id":
        ids = sorted((p for p in text if p.distinct / p.non_null >= 0.0005),
                     key=lambda p: p.distinct, reverse=True)
        if len(ids) >= 2 and ids[0].distinct < 2 * ids[1].distinct:
            return [ids[0].name, ids[1].name]  # no clear winner: ask
        return [ids[0].name] if ids else []
    # An activity label: a small vocabulary, each label repeated.
    return [p.name for p in text if p.distinct <= 500 and p.distinct / p.non_null <= 0.5]


def _ambiguous(source: str, role: str, candidates: Sequence[str]) -> LogSchemaError:
    quoted = " and ".join(repr(c) for c in candidates)
    return LogSchemaError(
        f"{source}: {quoted} could each be the {ROLE_LABEL[role]}. "
        f"Choose one with {ROLE_OPTION[role]} {candidates[0]}."
    )


def _listing(columns: Sequence[str]) -> str:
    shown = ", ".join(repr(c) for c in columns[:30])
    return shown + (f" and {len(columns) - 30} more" if len(columns) > 30 else "")


def _closest_hint(name: str, options: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(options), n=3, cutoff=0.5)
    return f". Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
