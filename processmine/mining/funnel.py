"""The sales funnel: how many deals reach each stage, convert, drop out and win, per segment.

Definitions (those of a Salesforce funnel report, made honest about deals still open):

- **Stages** are ordered activities (`Lead, Qualified, ...`). **Outcomes** (won, lost) are not
  stages: they close a deal.
- A case's **furthest stage** is the highest stage it visited; a won case has passed every
  stage, so its furthest position is past the last one. Repeating a stage (a revised
  proposal) changes nothing: each case counts once per stage.
- A case **reached** a stage when it visited it or any later stage: a deal that goes from
  Lead straight to Proposal has passed Qualified without a recorded change. So `reached`
  never grows down the funnel.
- A case's **outcome** is its last stage-or-outcome event: won, lost, or (a stage) open.
  A deal reopened after a loss is open again; activities that are neither stage nor outcome
  (an onboarding step after the win) are ignored.
- **Still open** at a stage: open cases whose furthest stage it is. They have neither
  converted nor dropped yet, so they are left out of the stage's decided cases.
- **Drop-off** at a stage: lost cases whose furthest stage it is. Without a lost outcome a
  stalled deal cannot be told from a slow one: it stays open, however old.
- **Conversion** into a stage: cases that reached it over the decided cases of the previous
  stage (reached it, minus still open there). Counting the open ones in the denominator
  would read every deal in progress as a loss. So conversion into stage i+1 and drop-off
  share at stage i add up to 100%; the **won conversion** does the same for the last stage.
- **Win rate**: won over decided (won + lost) cases.
- **Time to reach** a stage: hours from the case's first event to the start (or, without
  start times, the end) of its first visit, median over the cases that visited it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from processmine.errors import ConfigError
from processmine.mining.events import Events, hours
from processmine.mining.stats import Cases, case_table

#: Label of the segment of cases whose `by` attribute is empty.
MISSING = "(missing)"
_SEGMENT = "_pm_segment"

# Name heuristics for inferred outcomes, matched on words ("Closed Won", "closed_lost").
_WON = re.compile(r"\b(won|win|success|successful|converted|signed)\b")
_LOST = re.compile(r"\b(lost|disqualif\w*|reject\w*|cancel\w*|churn\w*)\b")


@dataclass(frozen=True, slots=True)
class FunnelStage:
    """One stage: `reached` (visited it or a later stage), `conversion_pct` (into it from the
    previous stage, over decided cases; None for the first stage), `drop_off` and
    `drop_off_pct` (lost with this as furthest stage, of the decided cases here),
    `still_open` (open with this as furthest stage), `median_hours_to_reach` (from case
    start to the first visit; None when no case visited it)."""

    stage: str
    reached: int
    conversion_pct: float | None
    drop_off: int
    drop_off_pct: float | None
    still_open: int
    median_hours_to_reach: float | None


@dataclass(frozen=True, slots=True)
class SegmentFunnel:
    """The funnel of the cases sharing one value of the `by` attribute."""

    cases: int
    won_cases: int
    lost_cases: int
    open_cases: int
    win_rate_pct: float | None
    won_conversion_pct: float | None
    stages: tuple[FunnelStage, ...]


@dataclass(frozen=True)
class Funnel:
    """The funnel over all cases, and per value of `by` in `segments` (largest first).

    `won_conversion_pct` is the last stage's conversion into a win (decided cases only);
    `win_rate_pct` is won over all decided cases, wherever they stopped."""

    stages: tuple[FunnelStage, ...]
    won: tuple[str, ...]
    lost: tuple[str, ...]
    stages_inferred: bool
    outcomes_inferred: bool
    cases: int
    won_cases: int
    lost_cases: int
    open_cases: int
    win_rate_pct: float | None
    won_conversion_pct: float | None
    by: str | None = None
    segments: dict[str, SegmentFunnel] = field(default_factory=dict)


def build_funnel(events: Events, cases: Cases | None = None, *, stages: Sequence[str] | None = None,
                 won: Sequence[str] | None = None, lost: Sequence[str] | None = None,
                 by: str | None = None) -> Funnel:
    """Build the funnel (see the module docstring for every definition), per `by` segment.

    Without `stages`, the stages are the non-outcome activities ordered by the median
    position of their first occurrence in a case. Without `won`/`lost`, the outcomes are the
    end activities (those of `cases`, else inferred: ending >= 90% of the cases they occur
    in), told apart by name ("Closed Won", "Converted" / "Closed Lost", "Disqualified");
    given one side only, the other is the remaining end activities.

    Raises ConfigError for an unknown activity (naming the closest ones), a name given as
    both stage and outcome, outcomes that cannot be told apart by name, or a `by` that is
    not a case attribute.
    """
    names = _activities(events)
    given_stages = _checked("--stages", stages, names)
    given_won = _checked("--won", won, names)
    given_lost = _checked("--lost", lost, names)
    _check_disjoint(given_stages, given_won, given_lost)
    _check_by(events, by)
    outcomes_inferred = given_won is None or given_lost is None
    if outcomes_inferred:
        ends = (cases if cases is not None else case_table(events)).end_activities
        won_t, lost_t = _infer_outcomes(ends, given_stages or (), given_won, given_lost)
    else:
        won_t, lost_t = given_won or (), given_lost or ()
    stage_t = given_stages or _infer_stages(events, won_t + lost_t)
    if not stage_t:
        raise ConfigError("no funnel stages: every activity is an outcome; name them with --stages")
    counts = _case_counts(events, stage_t, won_t, lost_t, by)
    # A median does not add up over segments: the overall one is a query of its own.
    overall = _segment(counts, _median_reach(events, stage_t, None), stage_t)
    segments: dict[str, SegmentFunnel] = {}
    if by is not None:
        medians = _median_reach(events, stage_t, by)
        found = {label: _segment(counts[counts.segment == label],
                                 medians[medians.segment == label], stage_t)
                 for label in sorted(set(counts.segment))}
        segments = dict(sorted(found.items(), key=lambda kv: (-kv[1].cases, kv[0])))
    return Funnel(
        stages=overall.stages, won=won_t, lost=lost_t, stages_inferred=given_stages is None,
        outcomes_inferred=outcomes_inferred, cases=overall.cases, won_cases=overall.won_cases,
        lost_cases=overall.lost_cases, open_cases=overall.open_cases,
        win_rate_pct=overall.win_rate_pct, won_conversion_pct=overall.won_conversion_pct,
        by=by, segments=segments,
    )


def funnel_json(f: Funnel) -> dict[str, Any]:
    """The funnel as plain JSON types; percentages and hours rounded to 0.1."""
    return {
        "stages": [_stage_json(s) for s in f.stages], "won": list(f.won), "lost": list(f.lost),
        "stages_inferred": f.stages_inferred, "outcomes_inferred": f.outcomes_inferred,
        **_counts_json(f.cases, f.won_cases, f.lost_cases, f.open_cases, f.win_rate_pct,
                       f.won_conversion_pct),
        "by": f.by,
        "segments": {
            label: {**_counts_json(s.cases, s.won_cases, s.lost_cases, s.open_cases,
                                   s.win_rate_pct, s.won_conversion_pct),
                    "stages": [_stage_json(st) for st in s.stages]}
            for label, s in f.segments.items()
        },
    }


def _activities(events: Events) -> list[str]:
    e = events.table
    frame = events.log.backend.execute(e.select("activity").distinct())
    return sorted(str(a) for a in frame.activity)


def _checked(option: str, given: Sequence[str] | None, names: list[str]) -> tuple[str, ...] | None:
    if given is None:
        return None
    chosen = tuple(given)
    if not chosen:
        raise ConfigError(f"{option} is empty; expected at least one activity name")
    for name in chosen:
        if name not in names:
            close = _closest(name, names)
            hint = f"closest: {', '.join(map(repr, close))}" if close else (
                f"activities: {', '.join(map(repr, names[:12]))}")
            raise ConfigError(f"{option}: no activity {name!r} in the log; {hint}")
    repeated = sorted({n for n in chosen if chosen.count(n) > 1})
    if repeated:
        raise ConfigError(f"{option} names {', '.join(map(repr, repeated))} more than once")
    return chosen


def _closest(name: str, names: Sequence[str]) -> list[str]:
    """Up to three names like `name`, ignoring case ("lead" finds "Lead")."""
    lower = {n.lower(): n for n in names}
    return [lower[m] for m in difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.5)]


def _check_disjoint(*groups: tuple[str, ...] | None) -> None:
    labels = ("--stages", "--won", "--lost")
    for i in range(3):
        for j in range(i + 1, 3):
            both = sorted(set(groups[i] or ()) & set(groups[j] or ()))
            if both:
                raise ConfigError(f"{', '.join(map(repr, both))} given in both {labels[i]} and "
                                  f"{labels[j]}; a name is a stage or an outcome, not both")


def _check_by(events: Events, by: str | None) -> None:
    log = events.log
    if by is None or by in log.case_attributes:
        return
    if by in log.event_attributes:
        raise ConfigError(f"--by {by!r} varies within cases; expected a case attribute: "
                          f"{', '.join(map(repr, log.case_attributes)) or '(none)'}")
    close = _closest(by, log.case_attributes)
    raise ConfigError(f"--by {by!r} is not a case attribute; expected one of "
                      f"{', '.join(map(repr, close or log.case_attributes)) or '(none in this log)'}")


def _infer_outcomes(ends: Sequence[str], stages: Sequence[str], won: tuple[str, ...] | None,
                    lost: tuple[str, ...] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    candidates = [a for a in ends if a not in stages]
    if won is not None:
        return won, tuple(a for a in candidates if a not in won)
    if lost is not None:
        return tuple(a for a in candidates if a not in lost), lost
    kinds = {a: _outcome_kind(a) for a in candidates}
    found_won = tuple(a for a in candidates if kinds[a] == "won")
    found_lost = tuple(a for a in candidates if kinds[a] == "lost")
    unclear = [a for a in candidates if kinds[a] is None]
    if unclear or not found_won or not found_lost:
        why = (f"{', '.join(map(repr, unclear))} is neither won nor lost by name" if unclear
               else "need at least one won and one lost")
        listed = ", ".join(map(repr, candidates)) or "(none)"
        raise ConfigError(f"cannot tell won from lost among the end activities {listed} ({why}); "
                          'name them, e.g. --won "Closed Won" --lost "Closed Lost"')
    return found_won, found_lost


def _outcome_kind(name: str) -> str | None:
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)          # ClosedWon -> Closed Won
    words = re.sub(r"[^0-9a-z]+", " ", words.lower())
    is_won, is_lost = bool(_WON.search(words)), bool(_LOST.search(words))
    if is_won == is_lost:
        return None
    return "won" if is_won else "lost"


def _infer_stages(events: Events, outcomes: Sequence[str]) -> tuple[str, ...]:
    e = events.table
    firsts = e.filter((e.occurrence == 1) & ~e.activity.isin(list(outcomes)))
    agg = firsts.group_by("activity").aggregate(position=firsts.pos.median(), cases=firsts.count())
    frame = events.log.backend.execute(agg)
    frame = frame.sort_values(["position", "cases", "activity"], ascending=[True, False, True])
    return tuple(str(a) for a in frame.activity)


def _with_segment(e: ir.Table, by: str | None) -> tuple[ir.Table, list[str]]:
    """`e` with a `_pm_segment` column (the `by` value as text) and the group keys it adds.

    Columns added to the event table carry the `_pm_` prefix: DuckDB matches names without
    regard to case, so `segment` would clash with a `Segment` attribute."""
    if by is None:
        return e, []
    return e.mutate(_pm_segment=e[by].cast(dt.string).fill_null(MISSING)), [_SEGMENT]


def _frame(events: Events, expr: ir.Table, keys: list[str]) -> pd.DataFrame:
    frame = events.log.backend.execute(expr)
    return frame.rename(columns={_SEGMENT: "segment"}) if keys else frame.assign(segment="")


def _case_counts(events: Events, stages: tuple[str, ...], won: tuple[str, ...],
                 lost: tuple[str, ...], by: str | None) -> pd.DataFrame:
    """Cases per (segment, furthest stage, outcome); furthest -1 = no stage, len(stages) = won."""
    e, keys = _with_segment(events.table, by)
    index = e.activity.cases(*((s, i) for i, s in enumerate(stages)), else_=None).cast(dt.int64)
    relevant = e.activity.isin([*stages, *won, *lost])
    per_case = e.group_by(["case_id", *keys]).aggregate(   # a case attribute: one per case
        visited=index.max(), current=e.activity.argmax(e.pos, where=relevant))
    outcome = ibis.cases((per_case.current.isin(list(won)), "won"),
                         (per_case.current.isin(list(lost)), "lost"), else_="open")
    per_case = per_case.mutate(outcome=outcome)
    furthest = ibis.ifelse(per_case.outcome == "won", len(stages), per_case.visited.fill_null(-1))
    per_case = per_case.mutate(furthest=furthest)
    agg = per_case.group_by([*keys, "furthest", "outcome"]).aggregate(n=per_case.count())
    frame = _frame(events, agg, keys)
    frame["furthest"] = frame.furthest.astype("int64")
    return frame


def _median_reach(events: Events, stages: tuple[str, ...], by: str | None) -> pd.DataFrame:
    """Median hours from case start to the first visit, per (segment, stage)."""
    e, keys = _with_segment(events.table, by)
    arrival = ibis.coalesce(e.start, e.end)
    # The case start is taken over all its events, before keeping the stage visits.
    e = e.mutate(_pm_arrival=arrival,
                 _pm_case_start=arrival.min().over(ibis.window(group_by="case_id")))
    visits = e.filter(e.activity.isin(list(stages)))
    first = visits.group_by(["case_id", *keys, "activity"]).aggregate(
        reach=visits._pm_arrival.min(), case_start=visits._pm_case_start.min())
    first = first.mutate(h=hours(first.case_start, first.reach, events.calendar))
    agg = first.group_by([*keys, "activity"]).aggregate(median_h=first.h.median())
    return _frame(events, agg, keys)


def _segment(counts: pd.DataFrame, medians: pd.DataFrame, stages: tuple[str, ...]) -> SegmentFunnel:
    def n(mask: pd.Series[bool]) -> int:
        return int(counts.n[mask].sum())

    level, outcome = counts.furthest, counts.outcome
    median = {str(a): float(h) for a, h in zip(medians.activity, medians.median_h, strict=True)
              if not pd.isna(h)}
    won, lost, still = n(outcome == "won"), n(outcome == "lost"), n(outcome == "open")
    rows: list[FunnelStage] = []
    previous_decided: int | None = None
    for i, name in enumerate(stages):
        reached = n(level >= i)
        here_open, dropped = n((level == i) & (outcome == "open")), n((level == i) & (outcome == "lost"))
        decided = reached - here_open
        conversion = None if previous_decided is None else _pct(reached, previous_decided)
        rows.append(FunnelStage(name, reached, conversion, dropped, _pct(dropped, decided),
                                here_open, median.get(name)))
        previous_decided = decided
    return SegmentFunnel(cases=int(counts.n.sum()), won_cases=won, lost_cases=lost, open_cases=still,
                         win_rate_pct=_pct(won, won + lost),
                         won_conversion_pct=_pct(won, previous_decided or 0), stages=tuple(rows))


def _pct(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _stage_json(s: FunnelStage) -> dict[str, Any]:
    return {"stage": s.stage, "reached": s.reached, "conversion_pct": _round(s.conversion_pct),
            "drop_off": s.drop_off, "drop_off_pct": _round(s.drop_off_pct),
            "still_open": s.still_open, "median_hours_to_reach": _round(s.median_hours_to_reach)}


def _counts_json(cases: int, won: int, lost: int, still: int, win_rate: float | None,
                 won_conversion: float | None) -> dict[str, Any]:
    return {"cases": cases, "won_cases": won, "lost_cases": lost, "open_cases": still,
            "win_rate_pct": _round(win_rate), "won_conversion_pct": _round(won_conversion)}


__all__ = ["MISSING", "Funnel", "FunnelStage", "SegmentFunnel", "build_funnel", "funnel_json"]
