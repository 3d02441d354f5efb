"""`read_log`: any supported source to a checked EventLog, through the ingest cache.

The cache stores the canonical table and its quality report in a DuckDB file, keyed by the
source's path, size and modification time and by every option that changes the parse, so the
second analysis of the same export skips parsing altogether.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from processmine import backend, timestamps
from processmine.canonical import ROW, ReadOptions, canonicalize
from processmine.errors import ConfigError, LogReadError
from processmine.ingest.csv import delimiter_name, read_csv
from processmine.ingest.source import identify
from processmine.log import EventLog
from processmine.mapping import (
    ColumnMapping,
    ColumnProfile,
    ResolvedMapping,
    resolve_mapping,
)
from processmine.quality import QualityReport

_log = logging.getLogger(__name__)
#: Bump when the canonical table or the checks change, so old cache entries are not reused.
CACHE_VERSION = 3
_META = "_pm_cache"
CONFIG_NAME = "processmine.toml"


@dataclass(frozen=True, slots=True)
class Config:
    """A `processmine.toml`: the `[columns]` mapping and `[read]` options for a log."""

    mapping: ColumnMapping
    options: dict[str, Any]
    path: Path | None = None


_COLUMN_KEYS = {"case": "case_id", "case_id": "case_id", "activity": "activity",
                "timestamp": "end", "end": "end", "start": "start", "resource": "resource",
                "lifecycle": "lifecycle"}
_READ_KEYS = {"timestamp_format", "start_format", "timezone", "dayfirst"}


def load_config(path: Path) -> Config:
    """Parse a `processmine.toml`; unknown keys are errors that name the closest valid key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot be read: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err
    _check_keys(path, "", data, {"version", "columns", "read"})
    version = data.get("version", 1)
    if version != 1:
        raise ConfigError(f"{path}: version = {version!r} is not supported; expected version = 1")
    columns = data.get("columns", {})
    read = data.get("read", {})
    if not isinstance(columns, dict) or not isinstance(read, dict):
        raise ConfigError(f"{path}: [columns] and [read] must be tables")
    _check_keys(path, "columns.", columns, set(_COLUMN_KEYS))
    _check_keys(path, "read.", read, _READ_KEYS)
    for key, value in columns.items():
        if not isinstance(value, str):
            raise ConfigError(f"{path}: columns.{key} must be a column name (a string)")
    mapping = ColumnMapping(**{_COLUMN_KEYS[k]: v for k, v in columns.items()})
    return Config(mapping, dict(read), path)


def _check_keys(path: Path, prefix: str, data: dict[str, Any], allowed: set[str]) -> None:
    import difflib

    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=2, cutoff=0.4)
            hint = f"; did you mean {' or '.join(prefix + c for c in close)}?" if close else (
                f"; valid keys: {', '.join(prefix + a for a in sorted(allowed))}")
            raise ConfigError(f"{path}: unknown key '{prefix}{key}'{hint}")


def find_config(log_path: Path) -> Path | None:
    """The `processmine.toml` next to the log, if there is one."""
    candidate = log_path.parent / CONFIG_NAME
    return candidate if candidate.is_file() else None


def read_log(
    source: Path | str | ir.Table,
    mapping: ColumnMapping | None = None,
    *,
    options: ReadOptions | None = None,
    cache_db: Path | None = None,
) -> EventLog:
    """Read an export (CSV/TSV, gzip CSV, Parquet, XES, XES.gz) or an Ibis table into an EventLog.

    `mapping` may name any subset of the roles; the rest is detected (names first, then
    values). With `cache_db`, the parsed log is kept in that DuckDB file and reused while the
    file, the mapping and the options stay the same. Raises a `ProcessMineError` subclass for
    every problem with the input, with the file, row and column where there is one.
    """
    options = options or ReadOptions()
    given = mapping or ColumnMapping()
    if not isinstance(source, (str, Path)):
        return _read_table(source, given, options)
    path = Path(source)
    kind = identify(path)
    if cache_db is None:
        log = _parse_file(backend.connect(None), path, kind.kind, kind.gzip, given, options, None)
    else:
        log = _read_cached(path, kind.kind, kind.gzip, given, options, cache_db)
    if options.strict:
        log.quality.raise_if_strict(str(path))
    return log


def _read_cached(
    path: Path, kind: str, gz: bool, given: ColumnMapping, options: ReadOptions, cache_db: Path
) -> EventLog:
    con = backend.connect(cache_db)
    key = _cache_key(path, given, options)
    name = f"log_{key[:20]}"
    hit = _cache_lookup(con, key, name, path)
    if hit is not None:
        return hit
    log = _parse_file(con, path, kind, gz, given, options, name)
    _cache_store(con, key, name, log)
    return log


def _cache_key(path: Path, given: ColumnMapping, options: ReadOptions) -> str:
    stat = path.stat()
    payload = {
        "version": CACHE_VERSION, "path": str(path.resolve()), "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns, "mapping": given.roles(), "options": options.cache_key(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _cache_lookup(con: ibis.BaseBackend, key: str, name: str, path: Path) -> EventLog | None:
    """The cached log for `key`, or None when absent or not trustworthy (then it is dropped)."""
    try:
        if _META not in backend.list_tables(con) or name not in backend.list_tables(con):
            return None
        meta = con.table(_META)
        rows = con.execute(meta.filter(meta.key == key).select("meta"))
        if len(rows) != 1:
            return None
        data = json.loads(rows.meta.iloc[0])
        table = con.table(name)
        if int(con.execute(table.count())) != data["quality"]["rows_kept"]:
            raise ValueError("row count differs from the cache's record")
        return EventLog(
            table=table, source=str(path),
            mapping=ResolvedMapping(ColumnMapping(**data["mapping"]), data["how"]),
            quality=QualityReport.from_dict(data["quality"]),
            case_attributes=tuple(data["case_attributes"]),
            event_attributes=tuple(data["event_attributes"]), has_start=data["has_start"],
            cached=True, formats=data.get("formats", {}),
        )
    except Exception as err:  # noqa: BLE001 - any inconsistency means "parse again"
        _log.warning("ignoring a damaged cache entry for %s: %s", path, err)
        backend.drop_table(con, name)
        return None


def _cache_store(con: ibis.BaseBackend, key: str, name: str, log: EventLog) -> None:
    meta = {
        "mapping": log.mapping.mapping.roles(), "how": dict(log.mapping.how),
        "quality": log.quality.to_dict(), "case_attributes": list(log.case_attributes),
        "event_attributes": list(log.event_attributes), "has_start": log.has_start,
        "formats": log.formats,
    }
    row = ibis.memtable({"key": [key], "table_name": [name], "meta": [json.dumps(meta)]})
    if _META in backend.list_tables(con):
        existing = con.table(_META)
        kept = existing.filter(existing.key != key)
        combined = kept.union(row.cast(existing.schema()))
        con.create_table(_META + "_new", combined, overwrite=True)
        con.create_table(_META, con.table(_META + "_new"), overwrite=True)
        backend.drop_table(con, _META + "_new")
    else:
        con.create_table(_META, row)


def _parse_file(
    con: ibis.BaseBackend, path: Path, kind: str, gz: bool, given: ColumnMapping,
    options: ReadOptions, store_as: str | None,
) -> EventLog:
    notes: list[str] = []
    if kind == "csv":
        read = read_csv(con, path, gzip=gz)
        raw = read.table
        if read.encoding != "utf-8":
            notes.append(f"the file is not valid UTF-8; it was read as {read.encoding}")
        notes.append(f"delimiter: {delimiter_name(read.delimiter)}")
    elif kind == "parquet":
        raw = backend.read_parquet(con, path)
    else:
        from processmine.ingest.xes import read_xes_events

        arrow = read_xes_events(path)
        arrow = arrow.rename_columns([ROW if c == "source_row" else c for c in arrow.column_names])
        raw = backend.load_arrow(con, arrow)
    if ROW not in raw.columns:
        raw = backend.materialize(con, raw.mutate(**{ROW: ibis.row_number() + 1}))
    return _build(con, raw, given, "given by option or config", options, str(path), store_as, notes)


def _read_table(table: ir.Table, given: ColumnMapping, options: ReadOptions) -> EventLog:
    """An Ibis table already in an engine, mined in place (the result stays in that engine)."""
    con = table.get_backend()
    source = f"table {table.get_name()}" if hasattr(table, "get_name") else "Ibis table"
    try:
        source = f"table {table.get_name()!r}"
    except Exception:  # noqa: BLE001 - an unnamed expression has no name
        source = "Ibis table"
    raw = table if ROW in table.columns else table.mutate(**{ROW: ibis.row_number() + 1})
    raw = backend.materialize(con, raw)
    log = _build(con, raw, given, "given", options, source, None, [])
    if options.strict:
        log.quality.raise_if_strict(source)
    return log


def _build(
    con: ibis.BaseBackend, raw: ir.Table, given: ColumnMapping, how_given: str,
    options: ReadOptions, source: str, store_as: str | None, notes: list[str],
) -> EventLog:
    columns = [c for c in raw.columns if c != ROW]

    def profile() -> dict[str, ColumnProfile]:
        return _profile(con, raw, columns)

    resolved = resolve_mapping(columns, given, how_given, profile, source=source)
    try:
        result = canonicalize(con, raw, resolved, options, source=source, store_as=store_as)
    except backend.DATA_ERRORS as err:
        # The engine rejected something in the data (an overflowing number, a broken value).
        raise LogReadError(f"{source}: could not be parsed: {str(err).splitlines()[0]}") from err
    quality = QualityReport(
        rows_read=result.rows_read, rows_kept=result.rows_kept, issues=result.issues,
        notes=tuple(notes) + result.notes,
    )
    return EventLog(
        table=result.table, source=source, mapping=resolved, quality=quality,
        case_attributes=result.case_attributes, event_attributes=result.event_attributes,
        has_start=result.has_start, formats=dict(result.formats),
    )


def _profile(con: ibis.BaseBackend, raw: ir.Table, columns: list[str]) -> dict[str, ColumnProfile]:
    """Distinct counts and timestamp shares of every column, for value-based detection."""
    aggs: dict[str, ir.Value] = {}
    for i, c in enumerate(columns):
        aggs[f"n{i}"] = raw[c].count()
        aggs[f"d{i}"] = raw[c].nunique()
    row = con.execute(raw.aggregate(**aggs)).iloc[0]
    text_cols = [c for c in columns if raw[c].type().is_string()]
    native = [c for c in columns if raw[c].type().is_timestamp() or raw[c].type().is_date()]
    shares = timestamps.timestamp_share(con, raw, text_cols)
    shares.update({c: 1.0 for c in native})
    return {
        c: ColumnProfile(
            name=c, non_null=int(row[f"n{i}"] or 0), distinct=int(row[f"d{i}"] or 0),
            timestamp_share=shares.get(c, 0.0), is_text=raw[c].type().is_string(),
        )
        for i, c in enumerate(columns)
    }





def open_log(
    path: Path,
    mapping: ColumnMapping | None = None,
    *,
    options: ReadOptions | None = None,
    config: Path | None = None,
    cache_db: Path | None = None,
) -> EventLog:
    """`read_log` with a `processmine.toml` (given, or found next to the log) merged in.

    Options given here win over the file: `mapping` roles over `[columns]`, and fields of
    `options` that differ from their defaults over `[read]`.
    """
    options = options or ReadOptions()
    config_path = config if config is not None else find_config(path)
    if config is not None and not config.is_file():
        raise ConfigError(f"{config}: no such config file")
    if config_path is not None:
        loaded = load_config(config_path)
        mapping = (mapping or ColumnMapping()).merged_over(loaded.mapping)
        defaults = ReadOptions()
        overrides = {k: v for k, v in loaded.options.items()
                     if getattr(options, k) == getattr(defaults, k)}
        options = replace(options, **overrides)
    return read_log(path, mapping, options=options, cache_db=cache_db)
__all__ = ["CONFIG_NAME", "Config", "find_config", "load_config", "open_log", "read_log"]
