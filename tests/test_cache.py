"""The ingest cache: reused while file and mapping are unchanged, rebuilt when not trustworthy."""

from __future__ import annotations

import os
from pathlib import Path

from processmine import ColumnMapping, read_log

LOG = "case_id,activity,timestamp,agent\n1,a,2024-01-01 08:00,x\n1,b,2024-01-01 09:00,y\n"


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "log.csv"
    log.write_text(LOG)
    return log, tmp_path / "cache" / "pm.duckdb"


def test_second_read_comes_from_the_cache(tmp_path: Path) -> None:
    log, db = _setup(tmp_path)
    first = read_log(log, cache_db=db)
    second = read_log(log, cache_db=db)
    assert (first.cached, second.cached) == (False, True)
    assert db.exists()
    assert second.quality == first.quality
    assert second.mapping == first.mapping
    assert second.table.execute().equals(first.table.execute())


def test_changed_file_or_mapping_is_read_again(tmp_path: Path) -> None:
    log, db = _setup(tmp_path)
    read_log(log, cache_db=db)
    log.write_text(LOG + "2,a,2024-01-02 08:00,z\n")
    stat = log.stat()
    os.utime(log, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = read_log(log, cache_db=db)
    assert not again.cached and again.quality.rows_kept == 3
    assert read_log(log, cache_db=db).cached
    other = read_log(log, ColumnMapping(resource="agent", activity="agent"), cache_db=db)
    assert not other.cached
    assert other.table.order_by("row_id").activity.execute().tolist() == ["x", "y", "z"]


def test_corrupt_cache_is_rebuilt(tmp_path: Path) -> None:
    log, db = _setup(tmp_path)
    read_log(log, cache_db=db)
    db.write_bytes(b"this is not a database" * 100)
    rebuilt = read_log(log, cache_db=db)
    assert not rebuilt.cached and rebuilt.quality.rows_kept == 2
    assert read_log(log, cache_db=db).cached
