"""The mining commands end to end: JSON shapes of the issue, filters recorded, clean errors."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from processmine.cli import app
from tests.conftest import SAMPLES

runner = CliRunner()
SUPPORT = str(SAMPLES / "support_tickets.csv.gz")
CRM = str(SAMPLES / "crm_pipeline.csv.gz")
HAND = """case,activity,start,end,resource,channel
c1,A,2024-01-01 08:00,2024-01-01 08:30,ann,email
c1,B,2024-01-01 09:00,2024-01-01 10:00,bob,email
c1,C,2024-01-01 10:00,2024-01-01 10:15,ann,email
c2,A,2024-01-01 08:00,2024-01-01 09:00,ann,web
c2,B,2024-01-01 11:00,2024-01-01 11:30,ann,web
c2,B,2024-01-01 12:00,2024-01-01 12:30,bob,web
c2,C,2024-01-01 13:00,2024-01-01 13:30,cy,web
c3,A,2024-01-01 09:00,2024-01-01 09:10,bob,email
c3,B,,2024-01-01 10:10,bob,email
"""


def _ok(*args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def _fails(args: list[str], *fragments: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


@pytest.fixture
def hand(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "hand.csv"
    path.write_text(HAND)
    return str(path)


def test_bottlenecks_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "b.json"
    result = _ok("bottlenecks", SUPPORT, "--top", "3", "--json", str(out), "--db", str(tmp_path / "c.duckdb"))
    assert "Approve fix" in result.output and "outside the working hours" in result.output
    data = json.loads(out.read_text())
    assert len(data["bottlenecks"]) == 3
    first = data["bottlenecks"][0]
    assert set(first) >= {"rank", "kind", "activity", "source", "target", "impact_hours",
                          "share_pct", "median_hours", "p90_hours", "cases", "causes",
                          "explanation"}
    assert (first["rank"], first["kind"], first["activity"]) == (1, "wait", "Approve fix")
    assert set(first["causes"]) == {"contention", "unavailability", "extraneous"}
    assert sum(first["causes"].values()) == pytest.approx(first["impact_hours"], rel=1e-3)
    assert data["context"]["filters"] == [] and data["context"]["hours"] == "clock hours"


def test_funnel_json_by_lead_source(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "f.json"
    _ok("funnel", CRM, "--by", "LeadSource", "--json", str(out), "--no-cache")
    data = json.loads(out.read_text())
    assert [s["stage"] for s in data["stages"]] == ["Lead", "Qualified", "Discovery", "Proposal",
                                                     "Negotiation"]
    assert set(data["stages"][0]) >= {"stage", "reached", "conversion_pct", "drop_off"}
    assert set(data["segments"]) == {"Web", "Outbound", "Event", "Partner", "Referral"}
    web = data["segments"]["Web"]
    assert set(web) >= {"cases", "win_rate_pct", "stages"}
    # Generator: Web continues from Lead with probability 0.55.
    assert web["stages"][1]["conversion_pct"] == pytest.approx(55, abs=2)
    assert 0 < data["win_rate_pct"] < 100


def test_kpis_json_with_sla_and_segments(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "k.json"
    _ok("kpis", SUPPORT, "--by", "priority", "--sla", "48h", "--json", str(out), "--no-cache")
    data = json.loads(out.read_text())
    assert data["sla_hours"] == 48 and set(data["segments"]) == {"P1", "P2", "P3", "P4"}
    assert sum(s["cases"] for s in data["segments"].values()) == data["overall"]["cases"] == 6859
    assert len(data["weekly"]) >= 26


def test_filters_are_applied_and_recorded(hand, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "k.json"
    result = _ok("kpis", hand, "--where", "channel=email", "--json", str(out), "--no-cache")
    assert "filter: Where channel = email: 2 of 3 cases kept" in result.output
    data = json.loads(out.read_text())
    assert data["overall"]["cases"] == 2
    assert data["context"]["filters"] == ["Where channel = email: 2 of 3 cases kept (5 of 9 events)"]


def test_calendar_changes_the_unit(hand, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "k.json"
    _ok("kpis", hand, "--calendar", "Mon-Fri 09:00-17:00", "--json", str(out), "--no-cache")
    data = json.loads(out.read_text())
    assert data["context"]["calendar"] == "Mon-Fri 09:00-17:00"
    # c1 08:00-10:15 -> working 09:00-10:15 = 1.25 h; c2 08:00-13:30 -> 4.5 h (c3 is open).
    assert data["overall"]["cycle_mean_h"] == pytest.approx((1.25 + 4.5) / 2)


def test_discover_writes_model_variants_statistics(hand, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "d"
    _ok("discover", hand, "--out", str(out), "--no-cache", "--noise", "0")
    ET.parse(out / "model.bpmn")
    ET.parse(out / "model.pnml")
    lines = (out / "variants.csv").read_text().splitlines()
    assert lines[0].startswith("rank,cases,share") and len(lines) == 4
    stats = json.loads((out / "statistics.json").read_text())
    assert stats["cases"]["cases"] == 3 and stats["variants"]["count"] == 3
    assert {(e["source"], e["target"]): e["count"] for e in stats["edges"]} == {
        ("A", "B"): 3, ("B", "C"): 2, ("B", "B"): 1}
    assert stats["model"]["fitness"] == pytest.approx(1.0)


@pytest.mark.parametrize(("args", "fragments"), [
    (["kpis", "{log}", "--by", "nope"], ["nope"]),
    (["kpis", "{log}", "--sla", "48"], ["48", "48h"]),
    (["kpis", "{log}", "--where", "channel~email"], ["channel~email"]),
    (["kpis", "{log}", "--where", "colour=red"], ["colour"]),
    (["bottlenecks", "{log}", "--calendar", "Mon-Fry 08:00-17:00"], ["Fry"]),
    (["bottlenecks", "{log}", "--holidays", "h.txt"], ["--holidays needs --calendar"]),
    (["funnel", "{log}", "--stages", "A,Bee", "--won", "C"], ["Bee"]),
    (["kpis", "{log}", "--from", "yesterday"], ["--from", "2024-03-01"]),
    (["bottlenecks", "{log}", "--starts-with", "Zed"], ["Zed"]),
    # Filters that keep no case: a clear error naming the step, for every command.
    (["bottlenecks", "{log}", "--where", "resource=Ann"], ["keep no cases", "resource = Ann",
                                                           "0 of 3 cases"]),
    (["kpis", "{log}", "--where", "channel=fax"], ["keep no cases", "channel = fax"]),
    (["funnel", "{log}", "--from", "2025-01-01"], ["keep no cases", "0 of 3 cases"]),
    (["discover", "{log}", "--where", "channel=fax", "--out", "{tmp}"], ["keep no cases"]),
    (["analyze", "{log}", "--where", "channel=fax", "--no-simulation", "--out", "{tmp}"],
     ["keep no cases"]),
])
def test_bad_options_exit_2(hand, tmp_path, args, fragments) -> None:  # type: ignore[no-untyped-def]
    _fails([a.replace("{log}", hand).replace("{tmp}", str(tmp_path / "out")) for a in args]
           + ["--no-cache"], *fragments)
