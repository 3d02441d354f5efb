"""Delimited text exports (CSV, TSV, semicolon or pipe separated, optionally gzipped).

DuckDB's scanner does the reading (see `backend.read_csv_strings`); this module decides the
delimiter and the encoding. UTF-8 (with or without BOM) is tried first; bytes that are not UTF-8
are read as Latin-1, the usual encoding of older Excel exports, and the report says so.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir

from processmine import backend
from processmine.errors import LogReadError
from processmine.ingest.source import head_bytes

_DELIMITERS = ",;\t|"
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True, slots=True)
class CsvRead:
    """The raw string table of a delimited file and how it was read."""

    table: ir.Table
    delimiter: str
    encoding: str


def read_csv(con: ibis.BaseBackend, path: Path, *, gzip: bool) -> CsvRead:
    """Read a delimited file into a table of strings in file order (see module doc)."""
    head = head_bytes(path, gzip)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        raise LogReadError(
            f"{path}: the file has a header but no data rows" if lines
            else f"{path}: the file is empty"
        )
    delimiter = sniff_delimiter(text)
    names = header_names(head, delimiter)
    try:
        table = backend.read_csv_strings(
            con, path, names, delimiter=delimiter, encoding="utf-8", gzip=gzip)
        encoding = "utf-8"
    except UnicodeError:
        try:
            table = backend.read_csv_strings(
                con, path, names, delimiter=delimiter, encoding="latin-1", gzip=gzip
            )
        except UnicodeError as err:
            raise LogReadError(f"{path}: the text is neither UTF-8 nor Latin-1") from err
        encoding = "latin-1"
    if len(table.columns) < 2:
        raise LogReadError(
            f"{path}: found a single column {table.columns[0]!r}; expected at least case id, "
            "activity and timestamp columns separated by comma, semicolon, tab or pipe"
        )
    return CsvRead(table, delimiter, encoding)


def header_names(head: bytes, delimiter: str) -> list[str]:
    """Column names from the header line, made unique and non-empty.

    We read the header ourselves rather than let the scanner guess it: a scanner that sniffs
    can take a ragged data row for the header and report nonsense columns.
    """
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip(b"\r")
    try:
        line = first.decode("utf-8")
    except UnicodeDecodeError:
        line = first.decode("latin-1")
    fields = next(csv.reader([line], delimiter=delimiter), [])
    names: list[str] = []
    for i, raw in enumerate(fields, start=1):
        name = raw.strip() or f"column_{i}"
        base, n = name, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def sniff_delimiter(text: str) -> str:
    """The delimiter of the sample `text`: the csv module's sniffer, else the most common one.

    The sniffer can be fooled by commas inside free-text fields; the fallback counts each
    candidate on the header line, where free text rarely is.
    """
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        header = text.splitlines()[0]
        return max(_DELIMITERS, key=header.count)


def delimiter_name(delimiter: str) -> str:
    """`comma`, `tab`...: for notes, where a literal tab would be invisible."""
    return _NAMES.get(delimiter, repr(delimiter))
