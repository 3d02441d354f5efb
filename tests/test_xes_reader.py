"""Tests of the streaming XES reader: a hand-written log, gzip, errors, and four real logs."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pyarrow as pa
import pytest

from processmine.errors import LogReadError
from processmine.ingest.xes import read_xes_events

REAL_LOGS = Path(__file__).resolve().parents[2] / "shared" / "real_logs"
XES_NS = "http://www.xes-standard.org/"

# Two traces, five events; a trace-level and an event-level <global> default; one start and one
# complete event; nested attributes (a list, a child of an int) and log-level attributes that
# must not turn into columns; a comment between attributes.
TINY_XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <global scope="trace">
    <string key="channel" value="unknown"/>
  </global>
  <global scope="event">
    <string key="org:resource" value="nobody"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="creator" value="by hand"/>
  <trace>
    <string key="concept:name" value="A1"/>
    <string key="channel" value="web"/>
    <event>
      <string key="concept:name" value="Register"/>
      <date key="time:timestamp" value="2010-01-13T08:40:25.000+01:00"/>
      <string key="org:resource" value="Ann"/>
    </event>
    <event>
      <string key="concept:name" value="Check"/>
      <string key="lifecycle:transition" value="start"/>
      <date key="time:timestamp" value="2010-01-13T09:00:00.000+01:00"/>
      <list key="tags"><values><string key="tag" value="x"/></values></list>
    </event>
    <event>
      <string key="concept:name" value="Check"/>
      <string key="lifecycle:transition" value="complete"/>
      <date key="time:timestamp" value="2010-01-13T09:30:00.000+01:00"/>
      <int key="amount" value="12"><string key="currency" value="EUR"/></int>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="A2"/>
    <!-- no channel here: the trace global gives "unknown" -->
    <event>
      <string key="concept:name" value="Register"/>
      <date key="time:timestamp" value="2010-01-14T10:00:00.000+01:00"/>
      <string key="org:resource" value="Bob"/>
    </event>
    <event>
      <string key="concept:name" value="Decide"/>
      <date key="time:timestamp" value="2010-01-15T11:00:00+00:00"/>
    </event>
  </trace>
</log>
"""

EXPECTED_COLUMNS = {
    "source_row": [1, 2, 3, 4, 5],
    "case:concept:name": ["A1", "A1", "A1", "A2", "A2"],
    "case:channel": ["web", "web", "web", "unknown", "unknown"],
    "concept:name": ["Register", "Check", "Check", "Register", "Decide"],
    "time:timestamp": [
        "2010-01-13T08:40:25.000+01:00",
        "2010-01-13T09:00:00.000+01:00",
        "2010-01-13T09:30:00.000+01:00",
        "2010-01-14T10:00:00.000+01:00",
        "2010-01-15T11:00:00+00:00",
    ],
    "org:resource": ["Ann", "nobody", "nobody", "Bob", "nobody"],
    "lifecycle:transition": [None, "start", "complete", None, None],
    "amount": [None, None, "12", None, None],
}


def _default_namespace(text: str) -> str:
    """The tiny log with every element in the XES namespace (as most real files are)."""
    return text.replace("<log ", f'<log xmlns="{XES_NS}" ')


def _prefixed_namespace(text: str) -> str:
    """The tiny log with an `xes:` prefix on every element name."""
    text = re.sub(r"<(/?)([A-Za-z])", r"<\1xes:\2", text)
    return text.replace("<xes:log ", f'<xes:log xmlns:xes="{XES_NS}" ')


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("variant", [str, _default_namespace, _prefixed_namespace])
def test_tiny_log_rows_columns_and_values(tmp_path: Path, variant: object) -> None:
    assert callable(variant)
    table = read_xes_events(_write(tmp_path, "tiny.xes", variant(TINY_XES)))
    assert table.column_names == list(EXPECTED_COLUMNS)
    assert table.to_pydict() == EXPECTED_COLUMNS
    assert table.schema.field("source_row").type == pa.int64()
    for name in table.column_names[1:]:
        assert table.schema.field(name).type == pa.string()


def test_gzip_detected_by_magic_bytes_not_by_name(tmp_path: Path) -> None:
    plain = read_xes_events(_write(tmp_path, "tiny.xes", TINY_XES))
    zipped = tmp_path / "tiny_without_gz_suffix.xes"
    zipped.write_bytes(gzip.compress(TINY_XES.encode("utf-8")))
    assert read_xes_events(zipped).equals(plain)
    named = tmp_path / "tiny.xes.gz"
    named.write_bytes(gzip.compress(TINY_XES.encode("utf-8")))
    assert read_xes_events(named).equals(plain)


def test_trace_without_events_gives_no_rows(tmp_path: Path) -> None:
    text = TINY_XES.replace(
        "</log>", '<trace><string key="concept:name" value="empty"/></trace>\n</log>'
    )
    table = read_xes_events(_write(tmp_path, "empty_trace.xes", text))
    assert table.to_pydict() == EXPECTED_COLUMNS


def test_truncated_xml_names_path_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "cut.xes", TINY_XES[: TINY_XES.index("<int key")])
    with pytest.raises(LogReadError) as caught:
        read_xes_events(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: malformed XES at line 30: ")
    assert "\n" not in message


def test_root_that_is_not_log(tmp_path: Path) -> None:
    path = _write(tmp_path, "other.xml", "<html><trace><event/></trace></html>")
    with pytest.raises(LogReadError) as caught:
        read_xes_events(path)
    assert str(caught.value) == (
        f"{path}: the root element is <html>, not <log>; is this an XES file?"
    )


def test_root_that_is_not_log_without_any_trace(tmp_path: Path) -> None:
    path = _write(tmp_path, "other.xml", '<?xml version="1.0"?>\n<html><body/></html>')
    with pytest.raises(LogReadError, match=r"the root element is <html>, not <log>"):
        read_xes_events(path)


def test_log_without_events(tmp_path: Path) -> None:
    text = '<log><trace><string key="concept:name" value="c"/></trace></log>'
    path = _write(tmp_path, "none.xes", text)
    with pytest.raises(LogReadError) as caught:
        read_xes_events(path)
    assert str(caught.value) == f"{path}: the XES file holds no events"


def test_event_outside_a_trace(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "orphan.xes", '<log>\n<event><string key="a" value="1"/></event>\n</log>'
    )
    with pytest.raises(LogReadError) as caught:
        read_xes_events(path)
    assert str(caught.value) == f"{path}: event at line 2 is not inside a trace"


def test_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.xes.gz"
    path.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 4)
    with pytest.raises(LogReadError) as caught:
        read_xes_events(path)
    assert str(caught.value).startswith(f"{path}: the gzip data is corrupt or truncated: ")


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress(TINY_XES.encode("utf-8") * 1)
    path = tmp_path / "truncated.xes.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(LogReadError) as caught:
        read_xes_events(path)
    assert str(caught.value).startswith(f"{path}: the gzip data is corrupt or truncated: ")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.xes"
    with pytest.raises(LogReadError) as caught:
        read_xes_events(path)
    assert str(caught.value) == f"{path}: cannot open the file: No such file or directory"


# file, events, cases, events per lifecycle:transition (None: the log has no such attribute)
REAL_FIGURES = [
    pytest.param(
        "bpic2017_w_two_ts_filtered.xes.gz",
        127_528,
        8_941,
        {"start": 63_764, "complete": 63_764},
        id="bpic2017",
    ),
    pytest.param("helpdesk.xes.gz", 21_348, 4_580, None, id="helpdesk"),
    pytest.param(
        "production.xes.gz", 9_906, 225, {"start": 4_953, "complete": 4_953}, id="production"
    ),
    pytest.param("receipt_phase_wabo.xes.gz", 8_577, 1_434, {"complete": 8_577}, id="receipt"),
]


def _lifecycle_counts(table: pa.Table) -> dict[str, int] | None:
    if "lifecycle:transition" not in table.column_names:
        return None
    counts = table.column("lifecycle:transition").value_counts().to_pylist()
    return {item["values"]: item["counts"] for item in counts}


@pytest.mark.parametrize(("name", "events", "cases", "lifecycle"), REAL_FIGURES)
def test_real_log_figures(
    name: str, events: int, cases: int, lifecycle: dict[str, int] | None
) -> None:
    table = read_xes_events(REAL_LOGS / name)
    assert table.num_rows == events
    assert table.column("source_row").to_pylist() == list(range(1, events + 1))
    assert len(table.column("case:concept:name").unique()) == cases
    assert table.column("case:concept:name").null_count == 0
    assert _lifecycle_counts(table) == lifecycle


# pm4py takes about 20 s on the 127k-event log, so that comparison is marked slow.
PM4PY_LOGS = [
    pytest.param(
        param.values[0], id=param.id, marks=[pytest.mark.slow] if param.id == "bpic2017" else []
    )
    for param in REAL_FIGURES
]


@pytest.mark.parametrize("name", PM4PY_LOGS)
def test_real_log_agrees_with_pm4py(name: str) -> None:
    pm4py = pytest.importorskip("pm4py")
    path = REAL_LOGS / name
    frame = pm4py.read_xes(str(path))
    table = read_xes_events(path)
    assert table.num_rows == len(frame)
    assert len(table.column("case:concept:name").unique()) == frame["case:concept:name"].nunique()
    expected = (
        {
            str(key): int(value)
            for key, value in frame["lifecycle:transition"].value_counts().items()
        }
        if "lifecycle:transition" in frame.columns
        else None
    )
    assert _lifecycle_counts(table) == expected
