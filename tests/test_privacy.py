"""Pseudonymisation on a hand-built log; every figure worked out by hand below.

T-1001: Open ann, Fix bob, Close ann                         customer alice, priority 2
T-1002: Open ann, Fix (no resource), Fix bob, Close cy       customer carol, priority 1
T-1003: Open (resource 'NULL': a marker, read as missing), Fix bob, and an exact duplicate of
        that Fix row (row 10, excluded)                      customer alice, priority 2
T-1004: one row whose timestamp does not parse (row 11, excluded): Dan Brown, dave, priority 3

Kept: 9 events, 3 cases, 3 resources (Ann Smith, Bob Jones, Cy Lee), 2 NULL resources
(rows 5 and 8), 2 customers. The quality report shows 'NULL' (row 8, resource column),
'T-1003' (row 10, duplicate: value and case id) and 'not a date' (row 11, case T-1004).
Expected pseudonyms are computed here with hmac directly: "<Prefix>-" + the first six hex
digits (upper case) of HMAC-SHA256(key, field NUL value); six because each field has few values.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace

import pandas as pd
import pytest

from processmine import read_log
from processmine.errors import ConfigError
from processmine.log import EventLog
from processmine.mining.events import enrich
from processmine.mining.stats import case_table, edge_stats, handoff_stats, variant_stats
from processmine.privacy import PseudonymSpec, pseudonymize
from processmine.quality import Example, QualityIssue, QualityReport

LOG = """case,activity,start,end,resource,customer,channel,priority
T-1001,Open,2024-01-01 08:00,2024-01-01 08:30,Ann Smith,alice@example.com,email,2
T-1001,Fix,2024-01-01 09:00,2024-01-01 10:00,Bob Jones,alice@example.com,email,2
T-1001,Close,2024-01-01 10:00,2024-01-01 10:15,Ann Smith,alice@example.com,email,2
T-1002,Open,2024-01-01 08:00,2024-01-01 09:00,Ann Smith,carol@example.com,phone,1
T-1002,Fix,2024-01-01 11:00,2024-01-01 11:30,,carol@example.com,phone,1
T-1002,Fix,2024-01-01 12:00,2024-01-01 12:30,Bob Jones,carol@example.com,phone,1
T-1002,Close,2024-01-01 13:00,2024-01-01 13:30,Cy Lee,carol@example.com,phone,1
T-1003,Open,2024-01-01 09:00,2024-01-01 09:10,NULL,alice@example.com,email,2
T-1003,Fix,,2024-01-01 10:10,Bob Jones,alice@example.com,email,2
T-1003,Fix,,2024-01-01 10:10,Bob Jones,alice@example.com,email,2
T-1004,Open,2024-01-01 09:00,not a date,Dan Brown,dave@example.com,email,3
"""
RESOURCES = ["Ann Smith", "Bob Jones", "Cy Lee"]
CASES = ["T-1001", "T-1002", "T-1003"]
CUSTOMERS = ["alice@example.com", "carol@example.com"]
SECRETS = [*RESOURCES, *CASES, *CUSTOMERS, "T-1004", "Dan Brown", "dave@example.com"]
KEY = "correct horse battery staple"
ALL = PseudonymSpec(("resources", "cases", "customer"))


def expected(prefix: str, field: str, value: str, key: str = KEY) -> str:
    digest = hmac.new(key.encode(), f"{field}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:6].upper()}"


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> EventLog:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("privacy") / "log.csv"
    path.write_text(LOG)
    return read_log(path)


def rows(log: EventLog) -> pd.DataFrame:
    return log.table.execute().sort_values("row_id", ignore_index=True)


def test_values_replaced_by_keyed_hashes(log: EventLog) -> None:
    result = pseudonymize(log, ALL, KEY)
    df = rows(result.log)
    assert df.row_id.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    ann, bob, cy = (expected("Resource", "resources", r) for r in RESOURCES)
    assert df.resource.tolist()[:4] + df.resource.tolist()[5:7] + df.resource.tolist()[8:] == [
        ann, bob, ann, ann, bob, cy, bob]
    # Rows 5 and 8 had no resource: still NULL.
    assert df.resource.isna().tolist() == [False] * 4 + [True] + [False] * 2 + [True, False]
    t1, t2, t3 = (expected("Case", "cases", c) for c in CASES)
    assert df.case_id.tolist() == [t1] * 3 + [t2] * 4 + [t3] * 2
    alice, carol = (expected("customer", "customer", c) for c in CUSTOMERS)
    assert df.customer.tolist() == [alice] * 3 + [carol] * 4 + [alice] * 2
    # Fields not asked for are untouched.
    assert df.channel.tolist() == ["email"] * 3 + ["phone"] * 4 + ["email"] * 2
    assert df.activity.tolist() == ["Open", "Fix", "Close", "Open", "Fix", "Fix", "Close",
                                    "Open", "Fix"]
    assert df.end.tolist() == rows(log).end.tolist()
    assert result.fields == ("resources", "cases", "customer")
    assert result.counts == {"resources": 3, "cases": 3, "customer": 2}
    assert result.key_source == "given"
    assert result.log.case_attributes == log.case_attributes
    assert result.log.source == log.source and result.log.mapping == log.mapping
    text = df.to_string()
    assert [s for s in SECRETS if s in text] == []
    # The input log is not changed.
    assert sorted(rows(log).resource.dropna().unique()) == RESOURCES


def test_attribute_that_is_not_text(log: EventLog) -> None:
    # priority is read as an integer; its pseudonyms hash the text "2" and "1".
    df = rows(pseudonymize(log, PseudonymSpec(("priority",)), KEY).log)
    two, one = expected("priority", "priority", "2"), expected("priority", "priority", "1")
    assert df.priority.tolist() == [two] * 3 + [one] * 4 + [two] * 2
    assert df.case_id.tolist() == ["T-1001"] * 3 + ["T-1002"] * 4 + ["T-1003"] * 2


def test_same_key_same_pseudonyms_other_key_others(log: EventLog) -> None:
    first = rows(pseudonymize(log, ALL, KEY).log)
    again = rows(pseudonymize(log, ALL, KEY.encode()).log)  # bytes of the same passphrase
    other = rows(pseudonymize(log, ALL, "another key").log)
    assert first.equals(again)
    for column in ("case_id", "resource", "customer"):
        a, b = set(first[column].dropna()), set(other[column].dropna())
        assert a.isdisjoint(b), column


def test_generated_key_differs_per_call(log: EventLog) -> None:
    one, two = pseudonymize(log, ALL), pseudonymize(log, ALL)
    assert (one.key_source, two.key_source) == ("generated", "generated")
    assert set(rows(one.log).resource.dropna()).isdisjoint(set(rows(two.log).resource.dropna()))


def test_mapping_is_one_to_one_and_case_structure_kept(log: EventLog) -> None:
    result = pseudonymize(log, ALL, KEY)
    pairs = rows(log).merge(rows(result.log), on="row_id", suffixes=("", "_p"))
    for column in ("resource", "case_id", "customer"):
        known = pairs.dropna(subset=[column])
        # A function (one pseudonym per value) that is injective (one value per pseudonym).
        assert (known.groupby(column)[f"{column}_p"].nunique() == 1).all()
        assert (known.groupby(f"{column}_p")[column].nunique() == 1).all()
    before, after = enrich(log), enrich(result.log)
    sizes = sorted(case_table(before).table.execute().events)
    assert sizes == [2, 3, 4] == sorted(case_table(after).table.execute().events)
    v0, v1 = variant_stats(case_table(before)), variant_stats(case_table(after))
    assert v1.equals(v0) and v0.cases.tolist() == [1, 1, 1]
    e0, e1 = edge_stats(before), edge_stats(after)
    assert e1.equals(e0)
    # Open->Fix in all 3 cases, Fix->Close in 2, Fix->Fix once.
    counts = dict(zip(zip(e0.source, e0.target, strict=True), e0["count"], strict=True))
    assert counts == {("Open", "Fix"): 3, ("Fix", "Close"): 2, ("Fix", "Fix"): 1}
    # Hand-offs between resources are the same pairs under their pseudonyms.
    names = {r: expected("Resource", "resources", r) for r in RESOURCES}
    h0, h1 = handoff_stats(before), handoff_stats(after)
    mapped = {(names[s], names[t], n) for s, t, n in zip(h0.source, h0.target, h0["count"],
                                                             strict=True)}
    assert mapped == set(zip(h1.source, h1.target, h1["count"], strict=True))
    # ann->bob in T-1001, bob->ann in T-1001, bob->cy in T-1002.
    assert len(mapped) == 3


def test_quality_examples_pseudonymised(log: EventLog) -> None:
    before = log.quality.to_dict()
    raw = json.dumps(before)
    assert "T-1004" in raw and "T-1003" in raw  # the report does hold raw case ids
    report = pseudonymize(log, ALL, KEY).log.quality
    found = {i.code: i.examples for i in report.issues}
    assert found["missing_value_marker"] == (Example(8, "NULL", None),)  # a marker, kept
    t3 = expected("Case", "cases", "T-1003")
    assert found["duplicate_row"] == (Example(10, t3, t3),)  # the value is the case id
    # T-1004 is only in the report (its one row was excluded): hashed all the same.
    assert found["unparseable_timestamp"] == (
        Example(11, "not a date", expected("Case", "cases", "T-1004")),)
    assert (report.rows_read, report.rows_kept, report.rows_excluded) == (11, 9, 2)
    text = json.dumps(report.to_dict())
    assert [s for s in SECRETS if s in text] == []


def test_quality_values_by_column(log: EventLog) -> None:
    """A value is replaced when its column is pseudonymised, kept when the column is known
    and not, kept when it is a marker or an activity, dropped when its column is unknown."""
    issues = (
        QualityIssue("a", "a", 1, "flagged", "resource", (Example(1, " Ann Smith ", "T-1001"),)),
        QualityIssue("b", "b", 1, "flagged", "customer", (Example(2, "dave@example.com", None),)),
        QualityIssue("c", "c", 1, "flagged", "channel", (Example(3, "email", "T-1002"),)),
        QualityIssue("d", "d", 2, "flagged", None, (Example(4, "Bob Jones", "T-1002"),
                                                     Example(5, "Fix", None))),
        QualityIssue("e", "e", 1, "repaired", "resource", (Example(6, "N/A", None),)),
        QualityIssue("f", "f", 1, "flagged", "no_such_column", (Example(7, "Cy Lee", None),)),
    )
    made = replace(log, quality=QualityReport(11, 9, issues))
    result = pseudonymize(made, PseudonymSpec(("resources", "customer")), KEY)
    found = {i.code: i.examples for i in result.log.quality.issues}
    assert found == {
        "a": (Example(1, expected("Resource", "resources", "Ann Smith"), "T-1001"),),
        "b": (Example(2, expected("customer", "customer", "dave@example.com"), None),),
        "c": (Example(3, "email", "T-1002"),),
        "d": (Example(4, None, "T-1002"), Example(5, "Fix", None)),
        "e": (Example(6, "N/A", None),),
        "f": (Example(7, None, None),),
    }
    assert result.examples_dropped == 2


def test_describe(log: EventLog) -> None:
    result = pseudonymize(log, PseudonymSpec.parse("resources,cases,customer"), KEY)
    assert result.describe() == (
        "Resources (3 values), case ids (3) and customer (2) were replaced by keyed-hash "
        "pseudonyms; the key is not in this report. The same key gives the same pseudonyms in "
        "other reports. Activity names, timestamps, other attributes and the log's file name "
        "(log.csv) are shown as they are."
    )
    one = pseudonymize(log, PseudonymSpec(("customer",)))
    assert one.describe().startswith(
        "customer (2 values) was replaced by keyed-hash pseudonyms; the key is not in this "
        "report. The key was generated for this run and not kept, so other runs give other "
        "pseudonyms.")
    assert KEY not in result.describe()


def test_parse() -> None:
    assert PseudonymSpec.parse(" Resources, cases ,customer,resources").fields == (
        "resources", "cases", "customer")
    for bad in ("", " ", "resources,,cases", "resources,"):
        with pytest.raises(ConfigError, match="comma-separated"):
            PseudonymSpec.parse(bad)


def test_unknown_fields(log: EventLog) -> None:
    with pytest.raises(ConfigError, match=r"'custmer' is not a field.*did you mean 'customer'"
                       r".*resources, cases, customer, channel, priority"):
        pseudonymize(log, PseudonymSpec(("custmer",)), KEY)
    with pytest.raises(ConfigError, match="'activity' is the activity column"):
        pseudonymize(log, PseudonymSpec(("activity",)), KEY)
    with pytest.raises(ConfigError, match="--pseudonym-key is empty"):
        pseudonymize(log, ALL, "")


def test_role_column_named_by_its_source_name(log: EventLog) -> None:
    # 'resource' and 'case' are the source columns of the resource and case roles here.
    result = pseudonymize(log, PseudonymSpec(("resource", "resources", "case")), KEY)
    assert result.fields == ("resources", "cases")
    assert result.counts == {"resources": 3, "cases": 3}


def test_pseudonyms_lengthen_on_collision() -> None:
    from processmine.privacy import _codebook, _Field

    field = _Field("resources", "resource", "Resource", frozenset())
    # Find two names whose HMACs share the first six hex digits (about 12 such pairs are
    # expected among 20,000 names: 20,000^2 / 2 / 16^6).
    seen: dict[str, str] = {}
    pair: tuple[str, str] | None = None
    for i in range(20_000):
        name = f"agent {i}"
        head = hmac.new(b"k", f"resources\x00{name}".encode(), hashlib.sha256).hexdigest()[:6]
        if head in seen:
            pair = (seen[head], name)
            break
        seen[head] = name
    assert pair is not None
    book = _codebook(b"k", field, pair)
    assert book.length == 7
    assert len(set(book.table.values())) == 2
    # Bigger fields start longer: 7,000 values need 8 digits to keep collisions unlikely
    # (7,000^2 / 2 / 16^7 = 0.09 expected, above the 1% aimed at; 16^8 gives 0.006).
    assert _codebook(b"k", field, [str(i) for i in range(7_000)]).length == 8


def test_where_values_become_pseudonyms(log: EventLog) -> None:
    # A filter typed with a name selects by its pseudonym; one typed with the pseudonym (from
    # an earlier report, same key) is kept; other columns are untouched. priority is numeric:
    # "2.0" is the logged 2, hashed as the text "2".
    done = pseudonymize(log, PseudonymSpec(("resources", "priority")), KEY)
    ann = expected("Resource", "resources", "Ann Smith")
    two = expected("priority", "priority", "2")
    assert done.where(["resource=Ann Smith,Cy Lee", f"resource!={ann}", "channel=email",
                       "priority=2.0"]) == (
        f"resource={ann},{expected('Resource', 'resources', 'Cy Lee')}", f"resource!={ann}",
        "channel=email", f"priority={two}")
