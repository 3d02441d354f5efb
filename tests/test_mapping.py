"""Column mapping: options, processmine.toml, detection from names and from values."""

from __future__ import annotations

import pytest

from processmine import ColumnMapping, read_log
from processmine.errors import ConfigError, LogSchemaError
from processmine.reader import open_log

ZENDESK = """ticket_id,status,created_at,assignee,via
101,new,2024-01-01 08:00:00,ann,email
101,open,2024-01-01 09:00:00,bob,email
102,new,2024-01-02 08:00:00,ann,web
"""


def test_detected_from_export_names(csv_file) -> None:  # type: ignore[no-untyped-def]
    log = read_log(csv_file(ZENDESK))
    m = log.mapping.mapping
    assert (m.case_id, m.activity, m.end, m.start, m.resource) == (
        "ticket_id", "status", "created_at", None, "assignee")
    assert log.mapping.how["case_id"] == "detected from its name"
    assert log.case_attributes == ("via",)


def test_completion_name_beats_creation_name(csv_file) -> None:  # type: ignore[no-untyped-def]
    text = ("incident_id,state,created_at,completed_at\n"
            "1,a,2024-01-01 08:00,2024-01-01 09:00\n1,b,2024-01-01 08:00,2024-01-01 10:00\n")
    assert read_log(csv_file(text)).mapping.mapping.end == "completed_at"


def test_two_candidates_stop_with_the_option_to_choose(csv_file) -> None:  # type: ignore[no-untyped-def]
    text = "ticket_id,incident_id,activity,timestamp\n1,2,a,2024-01-01 08:00\n"
    with pytest.raises(LogSchemaError) as err:
        read_log(csv_file(text))
    message = str(err.value)
    assert "'ticket_id' and 'incident_id'" in message and "--case ticket_id" in message
    # The option settles it.
    log = read_log(csv_file(text), ColumnMapping(case_id="incident_id"))
    assert log.mapping.mapping.case_id == "incident_id"
    assert log.mapping.how["case_id"] == "given by option or config"
    assert "ticket_id" in log.event_attributes + log.case_attributes


def test_detected_from_values_when_names_say_nothing(csv_file) -> None:  # type: ignore[no-untyped-def]
    rows = []
    for case in range(10):
        for step, label in enumerate(["alpha", "beta", "gamma", "delta"]):
            rows.append(f"K{case:03d},{label},2024-01-{case + 1:02d} {8 + step:02d}:00:00")
    log = read_log(csv_file("x,y,z\n" + "\n".join(rows) + "\n"))
    m = log.mapping.mapping
    assert (m.case_id, m.activity, m.end) == ("x", "y", "z")
    assert log.mapping.how["end"] == "detected from its values"
    assert log.quality.rows_kept == 40


def test_no_usable_column_names_the_option(csv_file) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LogSchemaError, match=r"no column is usable as the timestamp.*--timestamp"):
        read_log(csv_file("case_id,activity,note\n1,a,x\n1,b,y\n"))


def test_unknown_column_lists_close_names(csv_file) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LogSchemaError, match=r"'ticket' \(--case\) is not in the log.*Did you mean 'ticket_id'"):
        read_log(csv_file(ZENDESK), ColumnMapping(case_id="ticket"))


def test_config_next_to_the_log(csv_file, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = csv_file("a,b,c,d\n1,x,2024-01-01 08:00,ann\n1,y,2024-01-01 09:00,bob\n")
    (tmp_path / "processmine.toml").write_text(
        'version = 1\n[columns]\ncase = "a"\nactivity = "b"\ntimestamp = "c"\nresource = "d"\n'
    )
    log = open_log(path)
    m = log.mapping.mapping
    assert (m.case_id, m.activity, m.end, m.resource) == ("a", "b", "c", "d")
    # An option given beside the file wins over it.
    log = open_log(path, ColumnMapping(resource=None, activity="d"))
    assert log.mapping.mapping.activity == "d"


def test_config_read_options_and_unknown_keys(csv_file, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = csv_file("case,activity,timestamp\n1,a,03/04/2016 10:00\n1,b,05/04/2016 10:00\n")
    config = tmp_path / "other.toml"
    config.write_text('version = 1\n[read]\ndayfirst = true\n')
    ends = open_log(path, config=config).table.order_by("row_id").execute().end
    assert [str(t) for t in ends] == ["2016-04-03 10:00:00", "2016-04-05 10:00:00"]
    config.write_text('version = 1\n[columns]\nactivty = "activity"\n')
    with pytest.raises(ConfigError, match=r"unknown key 'columns.activty'; did you mean columns.activity"):
        open_log(path, config=config)
    config.write_text('version = 1\n[columns\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        open_log(path, config=config)
