"""What kind of file a log is, decided from its bytes, with the checks every file gets first.

The name's extension is only a hint: exports arrive renamed (`.txt`, `.csv` that is really
gzip), so the first bytes decide. Missing, empty and binary files stop here with a one-line
error instead of failing somewhere deep in a parser.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

from processmine.errors import LogReadError

_HEAD = 65_536


@dataclass(frozen=True, slots=True)
class SourceKind:
    """`kind` is `csv`, `parquet` or `xes`; `gzip` says whether the bytes are compressed."""

    kind: str
    gzip: bool


def identify(path: Path) -> SourceKind:
    """Classify `path`; raise `LogReadError` for a missing, empty or binary file."""
    if not path.exists():
        raise LogReadError(f"{path}: no such file")
    if path.is_dir():
        raise LogReadError(f"{path}: is a folder, expected a log file (CSV, Parquet or XES)")
    if path.stat().st_size == 0:
        raise LogReadError(f"{path}: the file is empty")
    raw = _read_head(path, 8)
    if raw.startswith(b"PAR1"):
        return SourceKind("parquet", gzip=False)
    compressed = raw.startswith(b"\x1f\x8b")
    head = head_bytes(path, compressed)
    if not head.strip():
        raise LogReadError(f"{path}: the file is empty")
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        return SourceKind("xes", gzip=compressed)
    if b"\x00" in head:
        raise LogReadError(
            f"{path}: looks like a binary file (NUL bytes in its first {len(head):,} bytes), "
            "expected CSV, Parquet or XES"
        )
    return SourceKind("csv", gzip=compressed)


def head_bytes(path: Path, compressed: bool, size: int = _HEAD) -> bytes:
    """The first `size` bytes of the (decompressed) content."""
    if not compressed:
        return _read_head(path, size)
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(size)
    except EOFError:
        # A truncated gzip still yields its beginning; the full read reports the damage.
        with gzip.open(path, "rb") as handle:
            return _read_partial(handle, size)
    except (OSError, zlib.error) as err:
        raise LogReadError(f"{path}: corrupt gzip data: {err}") from err


def _read_partial(handle: gzip.GzipFile, size: int) -> bytes:
    chunks: list[bytes] = []
    try:
        while sum(len(c) for c in chunks) < size:
            chunk = handle.read(4096)
            if not chunk:
                break
            chunks.append(chunk)
    except (EOFError, OSError, zlib.error):
        pass
    return b"".join(chunks)[:size]


def _read_head(path: Path, size: int) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as err:
        raise LogReadError(f"{path}: cannot be read: {err.strerror or err}") from err
