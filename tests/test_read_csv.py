"""Reading a tiny hand-built CSV: every kept row, every counted problem, worked out by hand."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from processmine import ColumnMapping, ReadOptions, read_log, summarize

TINY = """case_id,activity,timestamp,start,resource,channel,amount
c1,Open,2024-01-01 08:00:00,2024-01-01 07:50:00,ann,email,10
c1,Fix,2024-01-01 09:30:00,2024-01-01 09:00:00,bob,email,10
c2,Open,2024-01-02 10:00:00,,ann,phone,20
c2,Fix,NULL,,bob,phone,20
c2,Close,notadate,,bob,phone,20
c1,Open,2024-01-01 08:00:00,2024-01-01 07:50:00,ann,email,10
,Open,2024-01-03 10:00:00,,ann,web,5
c3,,2024-01-03 10:00:00,,ann,web,5
c3,Open,1970-01-01 00:00:00,,ann,web,5
c3,Fix,2024-01-03 11:00:00,2024-01-03 12:00:00,N/A,web,5
c3,Close,2024-01-03 10:30:00,,cy,web,5
c4,Open,2099-01-01 00:00:00,,ann,web,7
"""
OPTIONS = ReadOptions(latest=datetime(2025, 1, 1))


@pytest.fixture
def tiny(csv_file):  # type: ignore[no-untyped-def]
    return read_log(csv_file(TINY), options=OPTIONS)


def _rows(log) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return log.table.order_by("row_id").execute()


def test_kept_rows_and_canonical_columns(tiny) -> None:  # type: ignore[no-untyped-def]
    df = _rows(tiny)
    # Rows 1, 2, 3, 10, 11 survive; 4-9 and 12 are excluded (see the quality test).
    assert list(df.row_id) == [1, 2, 3, 10, 11]
    assert list(df.columns[:6]) == ["case_id", "activity", "start", "end", "resource", "row_id"]
    assert list(df.case_id) == ["c1", "c1", "c2", "c3", "c3"]
    assert list(df.activity) == ["Open", "Fix", "Open", "Fix", "Close"]
    assert df.end.tolist() == [pd.Timestamp(s) for s in (
        "2024-01-01 08:00", "2024-01-01 09:30", "2024-01-02 10:00", "2024-01-03 11:00",
        "2024-01-03 10:30")]
    # Row 10 ends (11:00) before it starts (12:00): its start is dropped, the event kept.
    assert df.start.isna().tolist() == [False, False, True, True, True]
    assert df.start.iloc[0] == pd.Timestamp("2024-01-01 07:50")
    # 'N/A' is a missing-value marker.
    assert df.resource.tolist()[:3] == ["ann", "bob", "ann"]
    assert pd.isna(df.resource.iloc[3])
    assert df.amount.tolist() == [10, 10, 20, 5, 5]
    assert str(df.amount.dtype).startswith("int")


def test_quality_report_counts_every_row(tiny) -> None:  # type: ignore[no-untyped-def]
    q = tiny.quality
    assert (q.rows_read, q.rows_kept, q.rows_excluded) == (12, 5, 7)
    assert q.count("duplicate_row") == 1  # row 6 repeats row 1
    assert q.count("missing_case_id") == 1  # row 7
    assert q.count("missing_activity") == 1  # row 8
    assert q.count("missing_timestamp") == 1  # row 4 ('NULL')
    assert q.count("unparseable_timestamp") == 1  # row 5
    assert q.count("timestamp_out_of_range") == 2  # row 9 (1970) and row 12 (2099)
    assert q.count("end_before_start") == 1  # row 10
    assert q.count("single_event_case") == 1  # c2 keeps only row 3
    assert q.count("source_order_disagrees") == 1  # row 11 (10:30) listed after row 10 (11:00)
    assert q.issue("duplicate_row").examples[0].row == 6
    assert q.issue("unparseable_timestamp").examples[0].value == "notadate"
    assert q.issue("unparseable_timestamp").column == "timestamp"
    assert [e.row for e in q.issue("timestamp_out_of_range").examples] == [9, 12]
    assert q.issue("source_order_disagrees").examples[0].row == 11
    markers = [i for i in q.issues if i.code == "missing_value_marker"]
    assert {(i.column, i.count, i.examples[0].row) for i in markers} == {
        ("timestamp", 1, 4), ("resource", 1, 10)}


def test_attributes_typed_and_case_level(tiny) -> None:  # type: ignore[no-untyped-def]
    assert tiny.case_attributes == ("channel", "amount")
    assert tiny.event_attributes == ()
    assert tiny.has_start


def test_summary(tiny) -> None:  # type: ignore[no-untyped-def]
    s = summarize(tiny)
    assert (s.events, s.cases, s.activities, s.resources) == (5, 3, 3, 3)
    assert s.start == datetime(2024, 1, 1, 7, 50)  # the earliest start
    assert s.end == datetime(2024, 1, 3, 11, 0)
    # events per case: c1 2, c2 1, c3 2
    assert s.events_per_case_mean == pytest.approx(5 / 3)
    assert (s.events_per_case_median, s.events_per_case_min, s.events_per_case_max) == (2, 1, 2)
    assert s.start_time_share == pytest.approx(2 / 5)


def test_strict_fails_on_excluded_rows(csv_file) -> None:  # type: ignore[no-untyped-def]
    from processmine.errors import LogQualityError

    with pytest.raises(LogQualityError, match=r"7 rows would be excluded.*row 6"):
        read_log(csv_file(TINY), options=ReadOptions(latest=datetime(2025, 1, 1), strict=True))


def test_semicolon_bom_and_latin1(csv_file) -> None:  # type: ignore[no-untyped-def]
    text = "\ufeffid;Aktivität;Zeit\nA1;Prüfung;2024-01-01 08:00\nA1;Ende;2024-01-01 09:00\n"
    by_name = ColumnMapping(activity="Aktivität")
    log = read_log(csv_file(text, "semi.csv"), by_name, options=ReadOptions(latest=None))
    assert log.mapping.mapping.case_id == "id"
    df = _rows(log)
    assert df.activity.tolist() == ["Prüfung", "Ende"]
    assert "delimiter: semicolon" in log.quality.notes
    latin = csv_file(text.replace("\ufeff", ""), "latin.csv", encoding="latin-1")
    log = read_log(latin, by_name)
    assert _rows(log).activity.tolist() == ["Prüfung", "Ende"]
    assert any("latin-1" in n for n in log.quality.notes)


def test_tab_separated_and_gzip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import gzip

    text = "case\tactivity\ttimestamp\n1\ta\t2024-01-01 08:00\n1\tb\t2024-01-01 09:00\n"
    path = tmp_path / "log.tsv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    log = read_log(path)
    assert _rows(log).activity.tolist() == ["a", "b"]
    assert "delimiter: tab" in log.quality.notes


def test_parquet_and_ibis_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import ibis

    frame = pd.DataFrame({
        "case_id": ["x", "x", "y"], "activity": ["a", "b", "a"],
        "timestamp": pd.to_datetime(["2024-01-01 08:00", "2024-01-01 09:00", "2024-01-02 08:00"]),
        "cost": [1.5, 2.5, 3.0],
    })
    path = tmp_path / "log.parquet"
    frame.to_parquet(path)
    from_file = read_log(path)
    from_table = read_log(ibis.memtable(frame))
    for log in (from_file, from_table):
        df = _rows(log)
        assert df.case_id.tolist() == ["x", "x", "y"]
        assert df.end.tolist() == frame.timestamp.tolist()
        assert df.cost.tolist() == [1.5, 2.5, 3.0]
        assert log.event_attributes == ("cost",)


def test_missing_value_markers_are_counted(csv_file) -> None:  # type: ignore[no-untyped-def]
    text = ("case,activity,timestamp,agent\n1,a,2024-01-01 08:00,-\n1,b,2024-01-01 09:00,none\n"
            "1,c,2024-01-01 10:00,(null)\n2,a,2024-01-01 08:00,kim\n")
    log = read_log(csv_file(text))
    issue = log.quality.issue("missing_value_marker")
    assert issue is not None and issue.column == "agent" and issue.count == 3
    assert [e.value for e in issue.examples] == ["-", "none", "(null)"]
    assert _rows(log).resource.isna().tolist() == [True, True, True, False]


def test_event_order_in_a_case_is_end_then_start_then_source_row(csv_file) -> None:  # type: ignore[no-untyped-def]
    import ibis

    text = ("case,activity,start,end\n"
            "c1,B,2024-01-01 09:00,2024-01-01 10:00\n"
            "c1,A,2024-01-01 08:00,2024-01-01 10:00\n"
            "c1,C,,2024-01-01 09:00\n"
            "c1,D,2024-01-01 08:00,2024-01-01 10:00\n")
    log = read_log(csv_file(text))
    t = log.table
    ranked = t.mutate(pos=ibis.row_number().over(log.case_window())).order_by("pos")
    # C ends first; A and D end and start together, so file order decides; B starts last.
    assert ranked.activity.execute().tolist() == ["C", "A", "D", "B"]
