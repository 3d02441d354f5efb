"""Mapping detection and counts on the shipped samples and on real logs nobody here wrote.

Expected counts come from an independent reading: pandas for CSV, pm4py's XES reader for XES,
with exact duplicate rows dropped and start events folded into their completes by pandas.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from processmine import read_log

from .conftest import REAL_LOGS, SAMPLES

XES_KEYS = ("case:concept:name", "concept:name", "time:timestamp")


def _xes_expected(path: Path) -> tuple[int, int]:
    import pm4py

    df = pm4py.read_xes(str(path), return_legacy_log_object=False)
    df = df.drop_duplicates()
    if "lifecycle:transition" in df.columns:
        life = df["lifecycle:transition"].fillna("complete").str.lower()
        df = df[life == "complete"]
    return len(df), df["case:concept:name"].nunique()


REAL = ["helpdesk.xes.gz", "receipt_phase_wabo.xes.gz", "production.xes.gz",
        pytest.param("bpic2017_w_two_ts_filtered.xes.gz", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name", REAL)
def test_real_xes_logs(name: str) -> None:
    path = REAL_LOGS / name
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    log = read_log(path)
    m = log.mapping.mapping
    assert (m.case_id, m.activity, m.end) == XES_KEYS
    events, cases = _xes_expected(path)
    df = log.table.aggregate(n=log.table.count(), c=log.table.case_id.nunique()).execute()
    assert (int(df.n[0]), int(df.c[0])) == (events, cases)
    assert log.quality.rows_kept == events


def test_helpdesk_copy_in_samples_is_the_real_log() -> None:
    log = read_log(SAMPLES / "helpdesk.xes.gz")
    # PROVENANCE.md: 21,348 events and 4,580 cases; 127 of the events are exact duplicates.
    assert log.quality.rows_read == 21_348
    assert log.quality.count("duplicate_row") == 127
    assert log.table.case_id.nunique().execute() == 4_580


@pytest.mark.parametrize(
    ("name", "columns", "start"),
    [
        ("crm_pipeline.csv.gz", ("OpportunityId", "StageName", "CreatedDate", "OwnerEmail"), None),
        ("support_tickets.csv.gz", ("ticket_id", "activity", "completed_at", "agent"), "started_at"),
    ],
)
def test_sample_csv_logs(name: str, columns: tuple[str, str, str, str], start: str | None) -> None:
    path = SAMPLES / name
    log = read_log(path)
    m = log.mapping.mapping
    assert (m.case_id, m.activity, m.end, m.resource, m.start) == (*columns, start)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw = raw.drop_duplicates().replace("", None).dropna(subset=list(columns[:3]))
    df = log.table.aggregate(n=log.table.count(), c=log.table.case_id.nunique()).execute()
    assert (int(df.n[0]), int(df.c[0])) == (len(raw), raw[columns[0]].nunique())
    assert log.has_start == (start is not None)
