"""Timestamp formats, offsets, zones and the day/month decision, each checked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from processmine import ReadOptions, read_log


def _ends(log) -> list[pd.Timestamp]:  # type: ignore[no-untyped-def]
    return log.table.order_by("row_id").execute().end.tolist()


def _log(csv_file, values: list[str], **options):  # type: ignore[no-untyped-def]
    rows = "".join(f"c{i // 2},a{i},{v}\n" for i, v in enumerate(values))
    return read_log(csv_file("case,activity,timestamp\n" + rows),
                    options=ReadOptions(**options))



def test_offsets_normalised_to_utc(csv_file) -> None:  # type: ignore[no-untyped-def]
    values = ["2024-01-01T08:18:13.000+0000",  # Salesforce
              "2024-01-01T10:00:00+02:00", "2024-01-01T03:00:00-05:00", "2024-01-01T08:00:00Z"]
    log = _log(csv_file, values)
    assert _ends(log) == [pd.Timestamp("2024-01-01 08:18:13")] + [pd.Timestamp("2024-01-01 08:00")] * 3
    assert log.formats["timestamp"] == "ISO 8601"


def test_naive_times_read_in_the_given_zone(csv_file) -> None:  # type: ignore[no-untyped-def]
    # Amsterdam is UTC+1 in January and UTC+2 in July; a value with an offset keeps its own.
    values = ["2024-01-01 09:00:00", "2024-07-01 10:00:00", "2024-07-01T10:00:00+00:00"]
    log = _log(csv_file, values, timezone="Europe/Amsterdam")
    assert _ends(log) == [pd.Timestamp("2024-01-01 08:00"), pd.Timestamp("2024-07-01 08:00"),
                          pd.Timestamp("2024-07-01 10:00")]


def test_epoch_seconds_and_milliseconds(csv_file) -> None:  # type: ignore[no-untyped-def]
    # 2024-01-01 00:00 UTC is 1704067200; eight hours later is 1704096000.
    assert _ends(_log(csv_file, ["1704096000", "1704096060"])) == [
        pd.Timestamp("2024-01-01 08:00"), pd.Timestamp("2024-01-01 08:01")]
    log = _log(csv_file, ["1704096000000", "1704096000500"])
    assert _ends(log) == [pd.Timestamp("2024-01-01 08:00"), pd.Timestamp("2024-01-01 08:00:00.5")]
    assert log.formats["timestamp"] == "epoch milliseconds"


def test_day_first_decided_by_a_day_above_12(csv_file) -> None:  # type: ignore[no-untyped-def]
    log = _log(csv_file, ["03/04/2016 10:00", "13/04/2016 11:00"])
    assert _ends(log) == [pd.Timestamp("2016-04-03 10:00"), pd.Timestamp("2016-04-13 11:00")]
    assert any("day/month" in note and "--monthfirst" in note for note in log.quality.notes)


def test_month_first_decided_by_a_day_above_12(csv_file) -> None:  # type: ignore[no-untyped-def]
    log = _log(csv_file, ["04/03/2016 10:00", "04/13/2016 11:00"])
    assert _ends(log) == [pd.Timestamp("2016-04-03 10:00"), pd.Timestamp("2016-04-13 11:00")]
    assert any("month/day" in note and "--dayfirst" in note for note in log.quality.notes)


def test_ambiguous_order_reported_and_settled_by_option(csv_file) -> None:  # type: ignore[no-untyped-def]
    values = ["03/04/2016 10:00", "05/06/2016 11:00"]
    log = _log(csv_file, values)
    assert _ends(log) == [pd.Timestamp("2016-03-04 10:00"), pd.Timestamp("2016-05-06 11:00")]
    assert any("ambiguous" in note for note in log.quality.notes)
    log = _log(csv_file, values, dayfirst=True)
    assert _ends(log) == [pd.Timestamp("2016-04-03 10:00"), pd.Timestamp("2016-06-05 11:00")]


def test_named_format_and_unparseable_values(csv_file) -> None:  # type: ignore[no-untyped-def]
    log = _log(csv_file, ["03.04.2016 10h00", "04.04.2016 11h30", "yesterday"],
               timestamp_format="%d.%m.%Y %Hh%M")
    assert _ends(log) == [pd.Timestamp("2016-04-03 10:00"), pd.Timestamp("2016-04-04 11:30")]
    issue = log.quality.issue("unparseable_timestamp")
    assert issue is not None and issue.count == 1 and issue.examples[0].value == "yesterday"
    assert issue.examples[0].row == 3


def test_us_twelve_hour_clock(csv_file) -> None:  # type: ignore[no-untyped-def]
    log = _log(csv_file, ["4/13/2016 2:05 PM", "4/14/2016 9:00 AM"])
    assert _ends(log) == [pd.Timestamp("2016-04-13 14:05"), pd.Timestamp("2016-04-14 09:00")]


@pytest.mark.parametrize("zone", ["Mars/Olympus"])
def test_unknown_zone_is_a_user_error(csv_file, zone: str) -> None:  # type: ignore[no-untyped-def]
    from processmine.errors import ConfigError

    with pytest.raises(ConfigError, match="Mars/Olympus"):
        _log(csv_file, ["2024-01-01 08:00"], timezone=zone)
