"""XES into the canonical log: start/complete pairing, and a round trip through pm4py's writer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from processmine import read_log

XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <trace>
    <string key="concept:name" value="T1"/>
    <string key="channel" value="email"/>
    <event><string key="concept:name" value="Check"/><string key="lifecycle:transition" value="start"/>
      <string key="org:resource" value="ann"/><date key="time:timestamp" value="2024-01-01T08:00:00.000+01:00"/></event>
    <event><string key="concept:name" value="Check"/><string key="lifecycle:transition" value="complete"/>
      <string key="org:resource" value="ann"/><date key="time:timestamp" value="2024-01-01T08:30:00.000+01:00"/></event>
    <event><string key="concept:name" value="Approve"/><string key="lifecycle:transition" value="complete"/>
      <string key="org:resource" value="bob"/><date key="time:timestamp" value="2024-01-01T09:00:00.000+01:00"/></event>
    <event><string key="concept:name" value="Check"/><string key="lifecycle:transition" value="start"/>
      <string key="org:resource" value="cy"/><date key="time:timestamp" value="2024-01-01T10:00:00.000+01:00"/></event>
    <event><string key="concept:name" value="Check"/><string key="lifecycle:transition" value="schedule"/>
      <date key="time:timestamp" value="2024-01-01T10:05:00.000+01:00"/></event>
    <event><string key="concept:name" value="Check"/><string key="lifecycle:transition" value="complete"/>
      <string key="org:resource" value="cy"/><date key="time:timestamp" value="2024-01-01T10:45:00.000+01:00"/></event>
    <event><string key="concept:name" value="Close"/><string key="lifecycle:transition" value="start"/>
      <date key="time:timestamp" value="2024-01-01T11:00:00.000+01:00"/></event>
  </trace>
</log>
"""


def test_start_and_complete_are_paired(tmp_path: Path) -> None:
    path = tmp_path / "log.xes"
    path.write_text(XES)
    log = read_log(path)
    df = log.table.order_by("row_id").execute()
    # Check (07:00-07:30 UTC), Approve (08:00, no start), Check again (09:00-09:45 UTC).
    assert df.activity.tolist() == ["Check", "Approve", "Check"]
    assert df.start.tolist()[0] == pd.Timestamp("2024-01-01 07:00")
    assert pd.isna(df.start.iloc[1])
    assert df.start.tolist()[2] == pd.Timestamp("2024-01-01 09:00")
    assert df.end.tolist() == [pd.Timestamp(t) for t in
                               ("2024-01-01 07:30", "2024-01-01 08:00", "2024-01-01 09:45")]
    assert df.resource.tolist() == ["ann", "bob", "cy"]
    assert df.row_id.tolist() == [2, 3, 6]  # the complete event's position in the file
    q = log.quality
    assert (q.rows_read, q.rows_kept) == (7, 3)
    assert q.count("other_lifecycle") == 1  # the schedule event (row 5)
    assert q.issue("other_lifecycle").examples[0].row == 5
    assert q.count("start_without_complete") == 1  # Close never completes (row 7)
    assert q.issue("start_without_complete").examples[0].row == 7
    # 7 rows = 3 instances + 2 excluded + 2 starts merged into their completes.
    assert q.rows_excluded == 2
    assert q.count("paired_start") == 2
    assert log.case_attributes == ("case:channel",)
    m = log.mapping.mapping
    assert (m.case_id, m.activity, m.end, m.resource, m.lifecycle) == (
        "case:concept:name", "concept:name", "time:timestamp", "org:resource",
        "lifecycle:transition")


def test_round_trip_through_pm4py(tmp_path: Path) -> None:
    import pm4py

    frame = pd.DataFrame({
        "case:concept:name": ["A", "A", "A", "B", "B"],
        "concept:name": ["Open", "Work", "Close", "Open", "Close"],
        "time:timestamp": pd.to_datetime(["2024-03-01 08:00", "2024-03-01 09:15",
                                          "2024-03-02 10:00", "2024-03-05 12:00",
                                          "2024-03-05 12:30"], utc=True),
        "org:resource": ["ann", "bob", "ann", "cy", "cy"],
        "cost": [1.5, 2.0, 0.5, 3.0, 1.0],
    })
    path = tmp_path / "round.xes"
    pm4py.write_xes(frame, str(path))
    df = read_log(path).table.order_by("row_id").execute()
    assert df.case_id.tolist() == frame["case:concept:name"].tolist()
    assert df.activity.tolist() == frame["concept:name"].tolist()
    assert df.end.tolist() == frame["time:timestamp"].dt.tz_localize(None).tolist()
    assert df.resource.tolist() == frame["org:resource"].tolist()
    assert df.cost.tolist() == frame["cost"].tolist()
