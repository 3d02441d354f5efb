"""Bottlenecks, ranked by the hours they add to cycle time, with their causes explained.

A consultant does not want the activity with the longest mean wait: a rare step that waits
a week matters less than a common one that waits a day. So each candidate (the waiting before
an activity, an edge's waiting, an activity's processing, a rework loop, a hand-off between
teams) is scored by its *total* hours over the cases in the analysis, and by that total's share
of all cycle time. Candidates overlap by nature (the waiting on an edge is part of the waiting
before its target), so an edge or hand-off that carries nearly all of a larger candidate's hours
(`REDUNDANT`) is left out rather than listed twice.

Where the log has start times and resources, the waiting before an activity is split into its
causes (see `processmine.mining.causes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from processmine import backend
from processmine.mining import causes as causes_mod
from processmine.mining.causes import Causes
from processmine.mining.events import Events
from processmine.mining.stats import Cases, summarize_cases

#: An edge (or hand-off) whose hours are at least this share of the waiting before its target
#: (or of one edge) says nothing the larger candidate does not: it is not listed separately.
REDUNDANT = 0.9
#: Candidates seen in fewer cases than this are noise, however long they took.
MIN_CASES = 2

KINDS = ("wait", "edge", "processing", "rework", "handoff")


@dataclass(frozen=True, slots=True)
class Bottleneck:
    """One ranked candidate. Hours are per occurrence (median, p90) or in total (impact)."""

    rank: int
    kind: str
    activity: str | None
    source: str | None
    target: str | None
    impact_hours: float
    share_pct: float
    median_hours: float | None
    p90_hours: float | None
    cases: int
    occurrences: int
    causes: Causes | None
    explanation: str

    def to_json(self) -> dict[str, object]:
        """The JSON shape of `processmine bottlenecks --json`."""
        return {
            "rank": self.rank, "kind": self.kind, "activity": self.activity,
            "source": self.source, "target": self.target,
            "impact_hours": round(self.impact_hours, 3), "share_pct": round(self.share_pct, 2),
            "median_hours": _round(self.median_hours), "p90_hours": _round(self.p90_hours),
            "cases": self.cases, "occurrences": self.occurrences,
            "causes": None if self.causes is None else self.causes.to_json(),
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class BottleneckReport:
    """The ranking, and what it was measured against."""

    bottlenecks: tuple[Bottleneck, ...]
    cases: int
    total_cycle_hours: float
    candidates: int
    causes_available: bool
    note: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "cases": self.cases, "total_cycle_hours": round(self.total_cycle_hours, 3),
            "candidates": self.candidates, "causes_available": self.causes_available,
            "note": self.note, "bottlenecks": [b.to_json() for b in self.bottlenecks],
        }


def rank_bottlenecks(events: Events, cases: Cases, *, top: int = 10,
                     with_causes: bool = True) -> BottleneckReport:
    """Score every candidate by its total hours, rank, split the top waits into causes and
    explain each in one sentence."""
    summary = summarize_cases(cases, include_open=True)
    total, n_cases = summary.cycle_total_h, summary.cases
    frame = candidates(events)
    frame = frame[frame.cases >= MIN_CASES]
    frame = _drop_redundant(frame)
    n_candidates = len(frame)
    frame = frame.sort_values(["impact_hours", "kind", "activity", "source", "target"],
                              ascending=[False, True, True, True, True], na_position="first")
    frame = frame.head(top).reset_index(drop=True)
    log = events.log
    can_split = with_causes and log.has_start and _has_resources(events)
    teams = causes_mod.teams(log) if can_split else {}
    out = []
    splits: dict[str, dict[str | None, Causes]] = {}
    if can_split:
        targets = [str(row.activity if row.kind == "wait" else row.target)
                   for row in frame.itertuples(index=False) if row.kind in ("wait", "edge")]
        splits = causes_mod.split_waits(events, targets, teams=teams)
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        split: Causes | None = None
        if can_split and row.kind in ("wait", "edge"):
            target = str(row.activity if row.kind == "wait" else row.target)
            found = splits[target].get(None if row.kind == "wait" else _opt(row.source))
            split = None if found is None or found.measured == 0 else found.scaled(float(row.impact_hours))
        share = 100.0 * float(row.impact_hours) / total if total > 0 else 0.0
        b = Bottleneck(
            rank=i, kind=str(row.kind), activity=_opt(row.activity), source=_opt(row.source),
            target=_opt(row.target), impact_hours=float(row.impact_hours), share_pct=share,
            median_hours=_num(row.median_hours), p90_hours=_num(row.p90_hours),
            cases=int(row.cases), occurrences=int(row.occurrences), causes=split,
            explanation="",
        )
        out.append(_with_explanation(b, teams, has_start=log.has_start))
    note = None
    if not log.has_start:
        note = ("The log has no start times, so the time before an activity includes the work "
                "on it, and waiting cannot be split into its causes.")
    elif not can_split and with_causes:
        note = "The log has no resources, so waiting cannot be split into its causes."
    return BottleneckReport(tuple(out), n_cases, total, n_candidates, can_split, note)


def candidates(events: Events) -> pd.DataFrame:
    """Every candidate with `kind`, `activity`, `source`, `target`, `impact_hours`,
    `median_hours`, `p90_hours`, `cases`, `occurrences` (one aggregate query per kind)."""
    e = events.table
    con = events.log.backend
    frames = []

    waited = e.filter(e.wait_h.notnull())
    frames.append(_agg(con, waited, waited.wait_h, "wait", activity=waited.activity))
    frames.append(_agg(con, waited, waited.wait_h, "edge", source=waited.prev_activity,
                       target=waited.activity))
    worked = e.filter(e.proc_h.notnull())
    frames.append(_agg(con, worked, worked.proc_h, "processing", activity=worked.activity))
    again = e.filter(e.occurrence > 1)
    frames.append(_agg(con, again, again.wait_h.fill_null(0) + again.proc_h.fill_null(0),
                       "rework", activity=again.activity))
    if _has_resources(events):
        # Joined once (two queries read it): only hand-offs between teams, a small table.
        passed = backend.materialize(con, causes_mod.team_handoffs(events))
        try:
            handoffs = _agg(con, passed, passed.wait_h.fill_null(0), "handoff",
                            source=passed.source_team, target=passed.target_team)
            frames.append(handoffs.merge(_main_activity(con, passed), on=["source", "target"],
                                         how="left"))
        finally:
            backend.release(con, passed)
    parts = [f for f in frames if len(f)]
    if not parts:  # e.g. every case has one event: nothing waits, works or repeats
        return pd.DataFrame(columns=["kind", "activity", "source", "target", "impact_hours",
                                     "median_hours", "p90_hours", "cases", "occurrences"])
    frame = pd.concat(parts, ignore_index=True)
    for col in ("activity", "source", "target"):
        if col not in frame:
            frame[col] = None
    return frame[frame.impact_hours > 0].reset_index(drop=True)


def _agg(con: ibis.BaseBackend, table: ir.Table, value: ir.NumericValue, kind: str,
         **keys: ir.Value) -> pd.DataFrame:
    t = table.select(table.case_id, _v=value, **keys)
    agg = t.group_by(list(keys)).aggregate(
        impact_hours=t._v.sum(), median_hours=t._v.median(), p90_hours=t._v.quantile(0.9),
        cases=t.case_id.nunique(), occurrences=t.count(),
    )
    frame = con.execute(agg)
    frame.insert(0, "kind", kind)
    return frame


def _main_activity(con: ibis.BaseBackend, passed: ir.Table) -> pd.DataFrame:
    """Per team hand-off, the activity that receives most of its waiting, and those hours."""
    per = passed.group_by(source=passed.source_team, target=passed.target_team,
                          main_activity=passed.activity).aggregate(
        main_hours=passed.wait_h.fill_null(0).sum())
    frame = con.execute(per).sort_values(["main_hours", "main_activity"], ascending=[False, True])
    return frame.drop_duplicates(["source", "target"])


def _drop_redundant(frame: pd.DataFrame) -> pd.DataFrame:
    """Leave out an edge carrying >= REDUNDANT of its target's waiting, and a hand-off whose
    hours are nearly all (>= REDUNDANT) the waiting before one activity and nearly all of that
    waiting: each repeats a candidate already listed."""
    waits = frame[frame.kind == "wait"].set_index("activity").impact_hours
    keep = []
    for row in frame.to_dict("records"):
        if row["kind"] == "edge":
            whole = float(waits.get(row["target"], 0.0))
            keep.append(not (whole > 0 and row["impact_hours"] >= REDUNDANT * whole))
        elif row["kind"] == "handoff":
            main = float(row.get("main_hours") or 0.0)
            whole = float(waits.get(row.get("main_activity"), 0.0))
            keep.append(not (main >= REDUNDANT * row["impact_hours"]
                             and whole > 0 and main >= REDUNDANT * whole))
        else:
            keep.append(True)
    return frame[pd.Series(keep, index=frame.index, dtype=bool)]


def _has_resources(events: Events) -> bool:
    e = events.table
    n = events.log.backend.execute(e.resource.notnull().sum())
    return bool(n)


# --- explanations -------------------------------------------------------------------------

def _with_explanation(b: Bottleneck, teams: dict[str, causes_mod.Team], *,
                      has_start: bool) -> Bottleneck:
    return Bottleneck(b.rank, b.kind, b.activity, b.source, b.target, b.impact_hours,
                      b.share_pct, b.median_hours, b.p90_hours, b.cases, b.occurrences,
                      b.causes, explain(b, teams, has_start=has_start))


def explain(b: Bottleneck, teams: dict[str, causes_mod.Team], *, has_start: bool) -> str:
    """One sentence a process owner understands, with the numbers that back it."""
    figures = (f"(p90 {duration(b.p90_hours)}, {b.cases:,} cases, "
               f"{b.share_pct:.0f}% of all cycle time)")
    if b.kind in ("wait", "edge"):
        target = b.activity if b.kind == "wait" else b.target
        where = (f"before '{target}'" if b.kind == "wait"
                 else f"between '{b.source}' and '{target}'")
        if not has_start:
            head = (f"Cases take a median {duration(b.median_hours)} from the previous step to "
                    f"'{target}'" if b.kind == "wait" else
                    f"Cases take a median {duration(b.median_hours)} from '{b.source}' to "
                    f"'{target}'")
            return f"{head} {figures}; the log has no start times, so this includes the work itself."
        sentence = f"Cases wait a median {duration(b.median_hours)} {where} {figures}"
        if b.causes is not None:
            team = teams.get(str(target))
            sentence += ", " + b.causes.phrase(team)
        return sentence + "."
    if b.kind == "processing":
        return (f"'{b.activity}' takes a median {duration(b.median_hours)} from start to end "
                f"{figures}.")
    if b.kind == "rework":
        return (f"'{b.activity}' is repeated {b.occurrences:,} times in {b.cases:,} cases; each "
                f"repeat costs a median {duration(b.median_hours)} of waiting and work "
                f"(p90 {duration(b.p90_hours)}, {b.share_pct:.0f}% of all cycle time).")
    return (f"Work handed from {b.source} to {b.target} waits a median "
            f"{duration(b.median_hours)} {figures}.")


def duration(hours: float | None) -> str:
    """Hours for a reader: '35 min', '16 h', '3.2 d'."""
    if hours is None:
        return "n/a"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h" if hours < 10 else f"{hours:.0f} h"
    return f"{hours / 24:.1f} d"


def _opt(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):  # noqa: PLR0124
        return None
    return str(value)


def _num(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if number != number else number  # noqa: PLR0124 - NaN check


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


__all__ = ["KINDS", "MIN_CASES", "REDUNDANT", "Bottleneck", "BottleneckReport", "candidates",
           "duration", "explain", "rank_bottlenecks"]
