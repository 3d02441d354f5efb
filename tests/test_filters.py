"""Filters on a hand-built log; every kept case and event count is worked out below.

Ten cases, 27 events (R = Register, C = Check, A = Approve, X = Reject, E = Escalate):

case  path       events  channel  amount  due         first timestamp
c1    R C A      3       email    100     2024-01-15  01-01 07:30
c2    R C A      3       chat     250.5   2024-01-15  01-02 07:30
c3    R C A      3       email    5000    2024-01-15  01-03 07:30
c4    R C X      3       phone    12000   2024-01-15  01-04 08:00 (first event has no start)
c5    R C X      3       email    300     2024-01-15  01-05 07:30
c6    R E C A    4       chat     20000   2024-02-15  01-06 07:30
c7    C R        2       email    50      2024-02-15  01-07 07:30
c8    R C        2       (none)   700     2024-02-15  01-08 07:30
c9    Archive    1       web      10      2024-02-15  01-09 07:30
c10   R C A      3       email    10000   2024-02-15  01-10 07:30

`team` is an event attribute: front for Register, back for Check/Approve/Reject, experts for
Escalate, empty for Archive.

Variants by cases, ties by activity text: RCA 4 (cum 4), RCX 2 (6), then the 1-case variants
"Archive" (7) < "Check,Register" (8) < "Register,Check" (9) < "Register,Escalate,..." (10).
Activities by cases: Register 9, Check 9, Approve 5 (50%), Reject 2, Escalate 1, Archive 1.
Inferred end activities (end >= 90% of the cases they occur in): Approve 5/5, Reject 2/2,
Archive 1/1; not Register (ends 1 of 9), Check (1 of 9), Escalate (0 of 1).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processmine import read_log
from processmine.errors import ConfigError
from processmine.log import EventLog
from processmine.mining.events import enrich
from processmine.mining.filters import (
    AppliedFilter,
    Condition,
    FilterSpec,
    apply_filters,
)
from processmine.mining.stats import case_table

from .conftest import SAMPLES

LOG = """case,activity,start,end,resource,channel,amount,due,team
c1,Register,2024-01-01 07:30,2024-01-01 08:00,ann,email,100,2024-01-15,front
c1,Check,2024-01-01 08:30,2024-01-01 09:00,bob,email,100,2024-01-15,back
c1,Approve,2024-01-01 09:30,2024-01-01 10:00,bob,email,100,2024-01-15,back
c2,Register,2024-01-02 07:30,2024-01-02 08:00,ann,chat,250.5,2024-01-15,front
c2,Check,2024-01-02 08:30,2024-01-02 09:00,bob,chat,250.5,2024-01-15,back
c2,Approve,2024-01-02 09:30,2024-01-02 10:00,bob,chat,250.5,2024-01-15,back
c3,Register,2024-01-03 07:30,2024-01-03 08:00,ann,email,5000,2024-01-15,front
c3,Check,2024-01-03 08:30,2024-01-03 09:00,bob,email,5000,2024-01-15,back
c3,Approve,2024-01-03 09:30,2024-01-03 10:00,bob,email,5000,2024-01-15,back
c4,Register,,2024-01-04 08:00,ann,phone,12000,2024-01-15,front
c4,Check,2024-01-04 08:30,2024-01-04 09:00,bob,phone,12000,2024-01-15,back
c4,Reject,2024-01-04 09:30,2024-01-04 10:00,bob,phone,12000,2024-01-15,back
c5,Register,2024-01-05 07:30,2024-01-05 08:00,ann,email,300,2024-01-15,front
c5,Check,2024-01-05 08:30,2024-01-05 09:00,bob,email,300,2024-01-15,back
c5,Reject,2024-01-05 09:30,2024-01-05 10:00,bob,email,300,2024-01-15,back
c6,Register,2024-01-06 07:30,2024-01-06 08:00,ann,chat,20000,2024-02-15,front
c6,Escalate,2024-01-06 08:30,2024-01-06 09:00,cy,chat,20000,2024-02-15,experts
c6,Check,2024-01-06 09:30,2024-01-06 10:00,bob,chat,20000,2024-02-15,back
c6,Approve,2024-01-06 10:30,2024-01-06 11:00,bob,chat,20000,2024-02-15,back
c7,Check,2024-01-07 07:30,2024-01-07 08:00,bob,email,50,2024-02-15,back
c7,Register,2024-01-07 08:30,2024-01-07 09:00,ann,email,50,2024-02-15,front
c8,Register,2024-01-08 07:30,2024-01-08 08:00,ann,,700,2024-02-15,front
c8,Check,2024-01-08 08:30,2024-01-08 09:00,bob,,700,2024-02-15,back
c9,Archive,2024-01-09 07:30,2024-01-09 08:00,cy,web,10,2024-02-15,
c10,Register,2024-01-10 07:30,2024-01-10 08:00,ann,email,10000,2024-02-15,front
c10,Check,2024-01-10 08:30,2024-01-10 09:00,bob,email,10000,2024-02-15,back
c10,Approve,2024-01-10 09:30,2024-01-10 10:00,bob,email,10000,2024-02-15,back
"""
EVENTS = {"c1": 3, "c2": 3, "c3": 3, "c4": 3, "c5": 3, "c6": 4, "c7": 2, "c8": 2, "c9": 1,
          "c10": 3}


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> EventLog:
    path = tmp_path_factory.mktemp("filters") / "log.csv"
    path.write_text(LOG)
    return read_log(path)


def kept(log: EventLog, spec: FilterSpec) -> tuple[list[str], int, tuple[AppliedFilter, ...]]:
    """Kept case ids (sorted by number), kept events, and the steps."""
    result = apply_filters(log, spec)
    frame = result.log.table.select("case_id").execute()
    ids = sorted(frame.case_id.unique(), key=lambda c: int(c[1:]))
    return ids, len(frame), result.applied


def cases(*numbers: int) -> list[str]:
    return [f"c{n}" for n in numbers]


# --- one filter at a time ---------------------------------------------------------------

def test_no_filter_returns_the_same_log(log: EventLog) -> None:
    result = apply_filters(log, FilterSpec())
    assert result.log is log and result.applied == () and result.describe() == []
    # end activities alone filter nothing
    assert apply_filters(log, FilterSpec(end_activities=("Approve",))).log is log


@pytest.mark.parametrize(("pct", "expected"), [
    (40, cases(1, 2, 3, 10)),                 # 40% of 10 = 4: RCA alone covers it exactly
    (60, cases(1, 2, 3, 4, 5, 10)),           # 6: RCA + RCX
    (65, cases(1, 2, 3, 4, 5, 9, 10)),        # 6.5 -> 7: + "Archive", first of the 1-case ties
    (100, cases(*range(1, 11))),
])
def test_top_variants(log: EventLog, pct: float, expected: list[str]) -> None:
    ids, events, _ = kept(log, FilterSpec(variants_pct=pct))
    assert ids == expected
    assert events == sum(EVENTS[c] for c in expected)


def test_top_variants_description(log: EventLog) -> None:
    result = apply_filters(log, FilterSpec(variants_pct=60))
    assert result.applied == (AppliedFilter(
        "Top variants covering 60% of cases (2 of 6 variants)", 10, 6, 27, 18),)
    assert result.describe() == [
        "Top variants covering 60% of cases (2 of 6 variants): 6 of 10 cases kept (18 of 27 events)"]


def test_activity_frequency_removes_events(log: EventLog) -> None:
    # 20%: Register, Check, Approve, Reject stay; Escalate (c6) and Archive go, and c9 with
    # only Archive is left empty, so it is dropped: 27 - 2 = 25 events, 9 cases.
    ids, events, applied = kept(log, FilterSpec(activities_pct=20))
    assert (ids, events) == (cases(1, 2, 3, 4, 5, 6, 7, 8, 10), 25)
    assert applied[0].description == "Activities in at least 20% of cases (4 of 6 activities)"
    # 50%: Approve is at exactly 50% and stays; Reject (c4, c5) goes too: 27 - 4 = 23.
    ids, events, _ = kept(log, FilterSpec(activities_pct=50))
    assert (ids, events) == (cases(1, 2, 3, 4, 5, 6, 7, 8, 10), 23)


def test_case_start_window(log: EventLog) -> None:
    # c4's first event has no start: the case starts at its end, 08:00, inside the window;
    # c6 starts exactly at 'to' (excluded); c3 starts before 'from'.
    spec = FilterSpec(start_from=datetime(2024, 1, 4, 7, 45), start_to=datetime(2024, 1, 6, 7, 30))
    ids, events, applied = kept(log, spec)
    assert (ids, events) == (cases(4, 5), 6)
    assert applied[0].description == (
        "Cases starting from 2024-01-04 07:45:00 and before 2024-01-06 07:30:00")
    # an aware datetime is converted to UTC: 08:45+01:00 is 07:45 UTC, so the same cases
    aware = FilterSpec(start_from=datetime(2024, 1, 4, 8, 45, tzinfo=timezone(timedelta(hours=1))),
                       start_to=datetime(2024, 1, 6, 7, 30))
    assert kept(log, aware)[:2] == (cases(4, 5), 6)
    # from is inclusive: c3 starts at 01-03 07:30
    ids, _, _ = kept(log, FilterSpec(start_from=datetime(2024, 1, 3, 7, 30)))
    assert ids == cases(3, 4, 5, 6, 7, 8, 9, 10)
    ids, _, _ = kept(log, FilterSpec(start_to=datetime(2024, 1, 3, 7, 30)))
    assert ids == cases(1, 2)


@pytest.mark.parametrize(("where", "expected"), [
    ("channel=email", cases(1, 3, 5, 7, 10)),
    ("channel=email,chat", cases(1, 2, 3, 5, 6, 7, 10)),
    ("channel != email", cases(2, 4, 6, 8, 9)),           # c8's missing channel is not email
    ("channel!=email,chat", cases(4, 8, 9)),
    ("amount>=10000", cases(4, 6, 10)),                    # 12000, 20000, 10000
    ("amount<300", cases(1, 2, 7, 9)),                     # 100, 250.5, 50, 10
    ("amount=250.5", cases(2)),
    ("amount>20000", []),
    ("due<2024-02-01", cases(1, 2, 3, 4, 5)),
    ("due>=2024-02-15 00:00", cases(6, 7, 8, 9, 10)),
    ("team=experts", cases(6)),                            # event attribute: any event
    ("team!=front,back", cases(6, 9)),                     # experts, and c9's missing team
    ("resource=cy", cases(6, 9)),
])
def test_where(log: EventLog, where: str, expected: list[str]) -> None:
    ids, events, _ = kept(log, FilterSpec(where=(where,)))
    assert ids == expected
    assert events == sum(EVENTS[c] for c in expected)  # whole cases are kept


def test_where_descriptions(log: EventLog) -> None:
    result = apply_filters(log, FilterSpec(where=("channel=email,chat", "team=experts")))
    # channel in (email, chat): 7 cases, 21 events; then team: c6 only (4 events)
    assert result.applied == (
        AppliedFilter("Where channel in (email, chat)", 10, 7, 27, 21),
        AppliedFilter("Where team = experts (at least one event)", 7, 1, 21, 4),
    )


def test_start_and_end_activities(log: EventLog) -> None:
    assert kept(log, FilterSpec(starts_with=("Check",)))[:2] == (cases(7), 2)
    ids, events, applied = kept(log, FilterSpec(ends_with=("Reject", "Approve")))
    assert (ids, events) == (cases(1, 2, 3, 4, 5, 6, 10), 22)
    assert applied[0].description == "Cases ending with Approve or Reject"
    # both: start with Register (not c7, c9) and end with Check (c8 only)
    spec = FilterSpec(starts_with=("Register",), ends_with=("Check",))
    ids, events, applied = kept(log, spec)
    assert (ids, events) == (cases(8), 2)
    assert [(a.cases_before, a.cases_after) for a in applied] == [(10, 8), (8, 1)]


def test_complete_only(log: EventLog) -> None:
    # inferred ends Approve, Archive, Reject: c7 (ends Register) and c8 (ends Check) are open
    ids, events, applied = kept(log, FilterSpec(complete_only=True))
    assert (ids, events) == (cases(1, 2, 3, 4, 5, 6, 9, 10), 23)
    assert applied[0].description == (
        "Complete cases only (ending with Approve, Archive or Reject, inferred)")
    # the same end activities as the case table infers
    assert case_table(enrich(log)).end_activities == ("Approve", "Archive", "Reject")
    ids, events, applied = kept(log, FilterSpec(complete_only=True, end_activities=("Approve",)))
    assert (ids, events) == (cases(1, 2, 3, 6, 10), 16)
    assert applied[0].description == "Complete cases only (ending with Approve, given)"


# --- combinations and their order -------------------------------------------------------

def test_variants_before_activities(log: EventLog) -> None:
    # Variants first: 60% keeps c1-c5, c10 (18 events). Then activities among those 6 cases:
    # Register 6, Check 6, Approve 4, Reject 2 (33% < 50%): Reject's 2 events go -> 16.
    # (Activities first would have turned c4, c5 into "Register, Check" like c8.)
    result = apply_filters(log, FilterSpec(activities_pct=50, variants_pct=60))
    assert result.applied == (
        AppliedFilter("Top variants covering 60% of cases (2 of 6 variants)", 10, 6, 27, 18),
        AppliedFilter("Activities in at least 50% of cases (3 of 4 activities)", 6, 6, 18, 16),
    )
    table = result.log.table
    assert sorted(table.activity.execute().unique()) == ["Approve", "Check", "Register"]


def test_case_filters_in_order(log: EventLog) -> None:
    # window [01-01, 01-09): c1-c8 (27 - c9 1 - c10 3 = 23 events); channel != phone drops c4
    # (20); starting with Register drops c7 (18); complete (ends inferred on the whole log)
    # drops c8 (16).
    spec = FilterSpec(complete_only=True, starts_with=("Register",), where=("channel!=phone",),
                      start_to=datetime(2024, 1, 9), start_from=datetime(2024, 1, 1))
    result = apply_filters(log, spec)
    assert [(a.cases_after, a.events_after) for a in result.applied] == [
        (8, 23), (7, 20), (6, 18), (5, 16)]
    assert [a.description.split(" ")[0] for a in result.applied] == [
        "Cases", "Where", "Cases", "Complete"]
    # each step starts where the previous ended
    steps = result.applied
    assert all(b.cases_before == a.cases_after and b.events_before == a.events_after
               for a, b in zip(steps, steps[1:], strict=False))
    frame = result.log.table.execute()
    assert sorted(frame.case_id.unique()) == cases(1, 2, 3, 5, 6)
    assert result.log.case_attributes == log.case_attributes
    assert result.log.event_attributes == ("team",)


def test_where_then_variants(log: EventLog) -> None:
    # email cases c1, c3, c5, c7, c10; among them RCA 3 of 5 covers 50%; nothing below 50%
    # remains among RCA cases, so the activity step keeps all 9 events.
    spec = FilterSpec(where=("channel=email",), variants_pct=50, activities_pct=50)
    ids, events, applied = kept(log, spec)
    assert (ids, events) == (cases(1, 3, 10), 9)
    assert [(a.cases_before, a.cases_after) for a in applied] == [(10, 5), (5, 3), (3, 3)]


@settings(max_examples=8, deadline=None)
@given(
    variants=st.none() | st.sampled_from([10, 33.3, 50, 80, 100]),
    activities=st.none() | st.sampled_from([5, 20, 50, 95]),
    where=st.lists(st.sampled_from(["channel=email,chat", "amount<5000", "team!=back"]),
                   max_size=2, unique=True),
    complete=st.booleans(),
)
def test_filters_never_add(log: EventLog, variants: float | None, activities: float | None,
                           where: list[str], complete: bool) -> None:
    spec = FilterSpec(variants_pct=variants, activities_pct=activities, where=tuple(where),
                      complete_only=complete)
    result = apply_filters(log, spec)
    before = (10, 27)
    for step in result.applied:
        assert (step.cases_before, step.events_before) == before
        assert step.cases_after <= step.cases_before and step.events_after <= step.events_before
        before = (step.cases_after, step.events_after)
    assert result.log.table.count().execute() == before[1]


# --- errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["channel", "=email", "channel=", "channel==email",
                                  "channel=email,,chat", "  <5"])
def test_where_syntax(text: str) -> None:
    with pytest.raises(ConfigError, match="expected ATTRIBUTE=VALUE") as err:
        FilterSpec(where=(text,))
    assert repr(text) in str(err.value)


def test_parse_where() -> None:
    assert FilterSpec.parse_where(" Lead Source = Web , Event ") == Condition(
        "Lead Source", "=", ("Web", "Event"), " Lead Source = Web , Event ")
    assert FilterSpec.parse_where("priority!=P4").op == "!="
    assert FilterSpec.parse_where("Amount<=5000").values == ("5000",)
    with pytest.raises(ConfigError, match=r"'amount>=1,2': >= takes one value, found 2"):
        FilterSpec.parse_where("amount>=1,2")


def test_unknown_attribute(log: EventLog) -> None:
    with pytest.raises(ConfigError) as err:
        apply_filters(log, FilterSpec(where=("chanel=email",)))
    assert str(err.value) == (
        "--where 'chanel=email': no attribute 'chanel' in this log (did you mean channel?); "
        "attributes: channel, amount, due, team, resource")


@pytest.mark.parametrize(("where", "message"), [
    ("amount>=lots", "--where 'amount>=lots': amount is numeric, but 'lots' is not a number"),
    ("amount=1_000", "--where 'amount=1_000': amount is numeric, but '1_000' is not a number"),
    ("amount<nan", "--where 'amount<nan': amount is numeric, but 'nan' is not a number"),
    ("due<soon", "--where 'due<soon': due holds dates, but 'soon' is not a date"),
    ("channel>email", "--where 'channel>email': channel holds text, so only = and != apply"),
])
def test_values_must_fit_the_type(log: EventLog, where: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        apply_filters(log, FilterSpec(where=(where,)))
    assert str(err.value).startswith(message)


def test_unknown_activity(log: EventLog) -> None:
    with pytest.raises(ConfigError) as err:
        apply_filters(log, FilterSpec(starts_with=("Regster",)))
    assert str(err.value) == "start activity 'Regster' is not in this log; did you mean Register?"
    with pytest.raises(ConfigError) as err:
        apply_filters(log, FilterSpec(ends_with=("Approve", "zzz")))
    assert str(err.value) == ("end activity 'zzz' is not in this log; activities: Approve, "
                              "Archive, Check, Escalate, Register, Reject")
    with pytest.raises(ConfigError, match="end activity 'Aprove' .* did you mean Approve"):
        apply_filters(log, FilterSpec(complete_only=True, end_activities=("Aprove",)))


def test_checked_before_any_step(log: EventLog) -> None:
    # a valid window first does not hide the bad name that comes later in the order
    with pytest.raises(ConfigError, match="Regster"):
        apply_filters(log, FilterSpec(start_from=datetime(2024, 1, 1), ends_with=("Regster",)))


@pytest.mark.parametrize(("spec", "message"), [
    ({"variants_pct": 0}, "top variants filter: 0% is not a percentage"),
    ({"activities_pct": 150}, "activity frequency filter: 150% is not a percentage"),
    ({"start_from": datetime(2024, 2, 1), "start_to": datetime(2024, 1, 1)},
     "case start window: from 2024-02-01 00:00:00 is not before to 2024-01-01 00:00:00"),
])
def test_spec_checks(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        FilterSpec(**spec)  # type: ignore[arg-type]
    assert str(err.value).startswith(message)


# --- the support sample against pandas --------------------------------------------------

def test_top_variants_match_pandas() -> None:
    path = SAMPLES / "support_tickets.csv.gz"
    raw = pd.read_csv(path, parse_dates=["started_at", "completed_at"])
    raw["row"] = range(len(raw))
    ordered = raw.sort_values(["completed_at", "started_at", "row"], kind="stable")
    variant = ordered.groupby("ticket_id", sort=False).activity.agg("\x1f".join)
    counts = variant.value_counts().rename_axis("variant").reset_index(name="cases")
    counts = counts.sort_values(["cases", "variant"], ascending=[False, True], ignore_index=True)
    before = counts.cases.cumsum() - counts.cases
    chosen = set(counts.variant[before * 100 < 80 * len(variant)])
    expected = set(variant[variant.isin(chosen)].index)

    result = apply_filters(read_log(path), FilterSpec(variants_pct=80))
    got = result.log.table.select("case_id").execute()
    assert set(got.case_id) == expected
    (step,) = result.applied
    assert (step.cases_before, step.events_before) == (raw.ticket_id.nunique(), len(raw))
    assert step.cases_after == len(expected)
    assert step.events_after == len(got) == int(raw.ticket_id.isin(expected).sum())
    assert step.description == (
        f"Top variants covering 80% of cases ({len(chosen):,} of {len(counts):,} variants)")
    assert step.cases_after >= 0.8 * step.cases_before


def test_complete_only_needs_end_activities(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A ends c1 and B ends c2: each ends 1 of the 2 cases it occurs in, below 90%.
    path = tmp_path / "open.csv"
    path.write_text("case,activity,end\nc1,B,2024-01-01 08:00\nc1,A,2024-01-01 09:00\n"
                    "c2,A,2024-01-01 08:00\nc2,B,2024-01-01 09:00\n")
    with pytest.raises(ConfigError) as err:
        apply_filters(read_log(path), FilterSpec(complete_only=True))
    assert str(err.value) == (
        "complete cases only: no activity ends at least 90% of the cases it occurs in, so none "
        "can be inferred as an end activity; expected the end activities to be named")
    with pytest.raises(ConfigError, match="the list of end activities is empty"):
        FilterSpec(complete_only=True, end_activities=())
