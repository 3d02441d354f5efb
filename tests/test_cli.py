"""The command line: exit code 2 and a one-line message for every kind of bad input."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from processmine.cli import app

runner = CliRunner()
GOOD = "case_id,activity,timestamp\n1,a,2024-01-01 08:00\n1,b,2024-01-01 09:00\n2,a,2024-01-02 08:00\n"


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args])


def _fails_with(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    text = result.output
    assert "Traceback" not in text
    for fragment in fragments:
        assert fragment in text, text


def test_version_and_help() -> None:
    assert _run("--version").output.strip() == "processmine 0.1.0"
    result = _run("inspect", "--help")
    assert result.exit_code == 0
    assert "--timestamp-format" in result.output and "--dayfirst" in result.output


def test_help_does_not_import_the_engine_or_pm4py() -> None:
    code = ("import sys, processmine.cli; "
            "print(sorted(m for m in ('pm4py', 'ibis', 'duckdb', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_inspect_prints_and_writes_json(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(GOOD)
    out = tmp_path / "inspect.json"
    result = _run("inspect", str(log), "--db", str(tmp_path / "c.duckdb"), "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "case_id" in result.output and "Data quality" in result.output
    data = json.loads(out.read_text())
    for key in ("events", "cases", "activities", "resources", "start", "end", "mapping", "quality"):
        assert key in data
    assert (data["events"], data["cases"], data["activities"], data["resources"]) == (3, 2, 2, 0)
    assert data["start"] == "2024-01-01T08:00:00Z" and data["end"] == "2024-01-02T08:00:00Z"
    assert data["mapping"]["case_id"] == "case_id" and data["mapping"]["resource"] is None
    assert data["quality"]["rows_read"] == 3
    assert data["quality"]["issues"][0]["code"] == "single_event_case"


@pytest.mark.parametrize(
    ("name", "content", "fragments"),
    [
        ("empty.csv", b"", ["empty.csv", "the file is empty"]),
        ("blank.csv", b"\n\n  \n", ["blank.csv", "the file is empty"]),
        ("header.csv", b"case_id,activity,timestamp\n", ["header.csv", "header but no data rows"]),
        ("binary.csv", bytes(range(256)) * 4, ["binary.csv", "binary"]),
        ("utf16.csv", GOOD.encode("utf-16"), ["utf16.csv", "binary"]),
        ("broken.csv.gz", b"\x1f\x8b\x08\x00garbage-not-deflate", ["broken.csv.gz", "gzip"]),
        ("ragged.csv", b"case_id,activity,timestamp\n1,a,2024-01-01 08:00\n1,b,2024-01-01,x,y\n",
         ["ragged.csv", "Line: 3"]),
        ("bad.xes", b"<?xml version='1.0'?><log><trace><event>", ["bad.xes", "line"]),
        ("notes.csv", b"case_id,activity,note\n1,a,x\n1,b,y\n",
         ["notes.csv", "no column is usable as the timestamp", "--timestamp"]),
        ("words.csv", b"case_id,activity,timestamp\n1,a,soon\n1,b,later\n",
         ["words.csv", "'timestamp' does not hold timestamps", "--timestamp-format"]),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, name: str, content: bytes,
                                         fragments: list[str]) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = _run("inspect", str(path), "--no-cache")
    _fails_with(result, *fragments)


def test_missing_file(tmp_path: Path) -> None:
    _fails_with(_run("inspect", str(tmp_path / "nope.csv")), "nope.csv", "no such file")


def test_strict_and_bad_options(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(GOOD + ",a,2024-01-03 08:00\n")
    _fails_with(_run("inspect", str(path), "--no-cache", "--strict"),
                "--strict", "1 rows would be excluded", "row 4")
    assert _run("inspect", str(path), "--no-cache").exit_code == 0
    _fails_with(_run("inspect", str(path), "--no-cache", "--case", "ticket"),
                "'ticket' (--case) is not in the log")
    _fails_with(_run("inspect", str(path), "--no-cache", "--timezone", "Nowhere/City"),
                "unknown time zone 'Nowhere/City'")
    _fails_with(_run("inspect", str(path), "--config", str(tmp_path / "missing.toml")),
                "missing.toml", "no such config file")


def test_gzipped_log_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(gzip.compress(GOOD.encode()))
    result = _run("inspect", str(path), "--no-cache")
    assert result.exit_code == 0, result.output
