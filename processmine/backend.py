"""The connection layer: the only module that knows the engine is DuckDB.

Everything else builds portable Ibis expressions. What lives here is what Ibis cannot say
portably: opening (and repairing) the cache database, DuckDB's CSV and Parquet scanners, and
the two DuckDB functions the timestamp parser needs (`try_strptime`, `timezone`). A PySpark
backend would provide the same few functions under the same names.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.expr.types.relations import CachedTable

from processmine.errors import ConfigError, LogReadError

_log = logging.getLogger(__name__)

#: Engine errors caused by the data itself (a value that overflows or cannot be converted),
#: as opposed to our own bugs; the reader reports these as the user's input problem.
DATA_ERRORS: tuple[type[Exception], ...] = (
    duckdb.ConversionException, duckdb.InvalidInputException, duckdb.OutOfRangeException,
)

_NAIVE = dt.Timestamp()
_STR = dt.String()
_UTC = dt.Timestamp(timezone="UTC")
#: DuckDB's memory cap, unless PROCESSMINE_MEMORY_LIMIT (e.g. "4GB") says otherwise: half the
#: machine's RAM, and never less than FLOOR_MB. A million-event log needs under 1.5 GB; a cap
#: of 1.5 GB made a 5-million-event analysis spill and take twice as long, while DuckDB's own
#: default (80% of RAM) leaves too little for pandas, pm4py and the simulation beside it.
MEMORY_FLOOR_MB = 1500
MEMORY_ENV = "PROCESSMINE_MEMORY_LIMIT"
#: The smallest cap PROCESSMINE_MEMORY_LIMIT may set: below it DuckDB fails on any real log.
MEMORY_MIN_MB = 100


def connect(db_path: Path | None = None) -> ibis.BaseBackend:
    """Open the engine: an in-memory DuckDB, or the cache database at `db_path`.

    A cache file that DuckDB cannot open (corrupt, truncated, from an incompatible version) is
    deleted and created anew: the cache only ever holds what can be parsed again.
    """
    if db_path is None:
        return _configure(ibis.duckdb.connect())
    db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = ibis.duckdb.connect(str(db_path))
        con.raw_sql("SELECT 1").fetchall()
    except Exception as err:  # noqa: BLE001 - any failure to open means "not trustworthy"
        _log.warning("cache %s could not be opened (%s); rebuilding it", db_path, err)
        for stale in (db_path, db_path.with_name(db_path.name + ".wal")):
            stale.unlink(missing_ok=True)
        con = ibis.duckdb.connect(str(db_path))
    return _configure(con)


def _configure(con: ibis.BaseBackend) -> ibis.BaseBackend:
    # Naive timestamps in the canonical log are UTC; casts between TIMESTAMPTZ and TIMESTAMP
    # use the session zone, so it must be UTC whatever the machine's zone is.
    con.raw_sql("SET TimeZone='UTC'")
    con.raw_sql(f"SET memory_limit='{memory_limit()}'")
    con.raw_sql("SET preserve_insertion_order=true")
    return con


def memory_limit() -> str:
    """The engine's memory cap (see MEMORY_FLOOR_MB), as DuckDB's setting reads it: half of
    what the machine, or the container it runs in, allows."""
    chosen = os.environ.get(MEMORY_ENV, "").strip()
    if chosen:
        found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", chosen,
                             re.IGNORECASE)
        mb = 0.0 if found is None else float(found[1]) * _UNIT_MB[found[2].lower()]
        if mb < MEMORY_MIN_MB:
            raise ConfigError(f"{MEMORY_ENV}={chosen!r}: expected a size of at least "
                              f"{MEMORY_MIN_MB} MB such as 800MB or 4GB")
        return chosen
    return f"{max(MEMORY_FLOOR_MB, _available_mb() // 2)}MB"


_UNIT_MB = {"kb": 1e-3, "mb": 1.0, "gb": 1e3, "tb": 1e6,
            "kib": 1 / 1024, "mib": 1.0, "gib": 1024.0, "tib": 1024.0**2}
_CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"),
                  Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))


def _available_mb() -> int:
    """Physical RAM in MiB, or the container's memory limit when that is lower (0 unknown)."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX: keep the floor
        ram = 0
    for path in _CGROUP_LIMITS:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < (ram or int(text) + 1):
            ram = int(text)
    return int(ram // 2**20)


def is_duckdb(con: ibis.BaseBackend) -> bool:
    """Whether `con` is the DuckDB backend (the cache and the file scanners need it)."""
    return getattr(con, "name", "") == "duckdb"


def read_csv_strings(
    con: ibis.BaseBackend, path: Path, names: Sequence[str], *, delimiter: str, encoding: str,
    gzip: bool,
) -> ir.Table:
    """Scan a delimited file into a table of strings, one row per record, in file order.

    Everything is read as text so that the parser, not the scanner, decides what a timestamp
    is, and every value it cannot use can be counted and shown with its row. Raises
    `LogReadError` (with DuckDB's line number) for a malformed file and `UnicodeError` when the
    bytes are not in `encoding`, so the caller can fall back to Latin-1.
    """
    options: dict[str, Any] = {
        "all_varchar": True,
        "header": True,
        "delim": delimiter,
        "quote": '"',
        "escape": '"',
        "encoding": encoding,
        "auto_detect": False,
        "columns": {name: "VARCHAR" for name in names},
        "strict_mode": True,
    }
    if gzip:
        options["compression"] = "gzip"
    try:
        table = con.read_csv(str(path), **options)
        # Materialise once, numbering the rows in file order (the scan preserves it): every
        # later check reads this table, not the file again.
        numbered = table.mutate(_pm_row=ibis.row_number() + 1)
        return con.create_table(_fresh_name("raw"), numbered, temp=True)
    except Exception as err:  # noqa: BLE001 - DuckDB raises several unrelated classes
        message = str(err)
        if "unicode" in message.lower() or "utf-8" in message.lower():
            raise UnicodeError(message) from err
        raise LogReadError(f"{path}: {_first_csv_error_line(message)}") from err


def read_parquet(con: ibis.BaseBackend, path: Path) -> ir.Table:
    """Scan a Parquet file (typed columns kept), materialised in file order."""
    try:
        table = con.read_parquet(str(path))
        return con.create_table(_fresh_name("raw"), table, temp=True)
    except Exception as err:  # noqa: BLE001
        raise LogReadError(f"{path}: not a readable Parquet file: {_first_line(str(err))}") from err


def load_arrow(con: ibis.BaseBackend, data: Any, *, prefix: str = "raw") -> ir.Table:
    """Hand an in-memory Arrow table to the engine as a temporary table."""
    return con.create_table(_fresh_name(prefix), data, temp=True)


def materialize(con: ibis.BaseBackend, expr: ir.Table, name: str | None = None) -> ir.Table:
    """Compute `expr` once into a table: a named (persistent) one for the cache, else temp.

    DuckDB gets a temporary table; other engines (PySpark has no temporary tables) Ibis's
    portable `cache()`, a persisted DataFrame on Spark."""
    if name is None:
        if is_duckdb(con):
            return con.create_table(_fresh_name("t"), expr, temp=True)
        # Ibis 12's PySpark cache compiles without registering the in-memory tables
        # (`ibis.memtable`) the expression reads; executing does, so do it first.
        register = getattr(con, "_run_pre_execute_hooks", None)
        if register is not None:
            register(expr)
        return expr.cache()
    return con.create_table(name, expr, overwrite=True)


def release(con: ibis.BaseBackend, table: ir.Table) -> None:
    """Drop an intermediate table of ours (never a user's table) to free its memory."""
    if isinstance(table, CachedTable):  # `materialize` on an engine without temp tables
        table.release()
        return
    try:
        name = table.get_name()
    except Exception:  # noqa: BLE001 - an expression, not a table: nothing to free
        return
    if name.startswith("_pm_"):
        con.drop_table(name, force=True)


def drop_table(con: ibis.BaseBackend, name: str) -> None:
    """Remove a table if it exists (stale cache entries)."""
    con.drop_table(name, force=True)


def list_tables(con: ibis.BaseBackend) -> Sequence[str]:
    """Names of the tables in the current database."""
    return list(con.list_tables())


@ibis.udf.scalar.builtin(name="try_strptime")  # type: ignore[untyped-decorator]
def _try_strptime(value: str, fmt: str) -> _NAIVE:  # type: ignore[valid-type]
    """DuckDB's strptime that yields NULL instead of raising on a value it cannot parse."""


@ibis.udf.scalar.builtin(name="timezone")  # type: ignore[untyped-decorator]
def _timezone(zone: str, value: _NAIVE) -> _UTC:  # type: ignore[valid-type]
    """DuckDB's `timezone(zone, naive)`: the instant at which a wall-clock time occurs in zone."""


@ibis.udf.scalar.builtin(name="trim")  # type: ignore[untyped-decorator]
def _trim(value: str) -> _STR:  # type: ignore[valid-type]
    """The engine's plain TRIM (spaces): three times faster than Ibis' `strip()`, which
    trims a list of whitespace characters."""


def trim(value: ir.StringValue) -> ir.StringValue:
    """Leading and trailing spaces removed."""
    return _trim(value)


def strptime_or_null(value: ir.StringValue, fmt: str) -> ir.TimestampValue:
    """Parse text with a C `strptime` format; NULL where it does not match.

    The result is a naive timestamp, or the instant in UTC when the format has `%z`/`%Z`.
    """
    return _try_strptime(value, fmt).cast(_NAIVE)


def localize(value: ir.TimestampValue, zone: str) -> ir.TimestampValue:
    """Read a naive wall-clock timestamp in `zone` and return the naive UTC timestamp."""
    if zone.upper() in {"UTC", "Z", "GMT", "ETC/UTC"}:
        return value
    return _timezone(zone, value).cast(_NAIVE)


def check_timezone(con: ibis.BaseBackend, zone: str) -> bool:
    """Whether the engine knows the time zone name `zone` (e.g. Europe/Amsterdam)."""
    expr = _timezone(zone, ibis.literal("2020-01-01 00:00:00").cast(_NAIVE))
    try:
        con.execute(expr)
    except Exception:  # noqa: BLE001
        return False
    return True


_counter = 0


def _fresh_name(prefix: str) -> str:
    global _counter  # noqa: PLW0603 - a process-wide counter for temp-table names
    _counter += 1
    return f"_pm_{prefix}_{_counter}"


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


def _first_csv_error_line(message: str) -> str:
    """DuckDB's CSV errors span many lines; keep the line number and the reason."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    head = lines[0] if lines else message
    head = re.sub(r"^[A-Za-z ]*Error: ", "", head)
    reason = next(
        (line for line in lines[1:] if line.startswith(("Expected", "Value with", "Invalid"))), ""
    )
    original = next((line for line in lines if line.startswith("Original Line:")), "")
    parts = [head, reason, original.replace("Original Line:", "found:").strip()]
    return "; ".join(p for p in parts if p)
