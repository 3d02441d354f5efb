"""IEEE 1849 XES event logs (plain or gzipped) read into a table of strings, one row per event.

The file is streamed with `lxml.etree.iterparse`: each `<event>` is turned into a dict as soon as
it closes and is then dropped from the tree, and each `<trace>` is dropped once its events have
been emitted, so memory holds the columns being built plus one trace, not the whole document.

Every value is kept as the text of its `value` attribute; typing (dates, numbers) is done later
by the same code that types CSV columns, so both formats behave alike. Trace attributes become
`case:<key>` columns, the names pm4py uses. `<global>` declarations are applied as defaults, as
the standard defines them. Nested attributes (lists, containers, children of attributes) and
log-level attributes are not part of any row and are skipped.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
from lxml import etree

from processmine.errors import LogReadError

_GZIP_MAGIC = b"\x1f\x8b"
_CASE_PREFIX = "case:"
# `{*}` matches the name in any namespace or none, so namespaced files need no special case.
_TAGS = ("{*}trace", "{*}event", "{*}global")

_Row = dict[str, str]


class _Columns:
    """Column lists built row by row; a column first seen at row n starts with n `None`s.

    Padding is lazy (done when a column is next written, and once at the end) so that the cost
    is proportional to the number of values, not rows times columns.
    """

    def __init__(self) -> None:
        self.rows = 0
        self.case: dict[str, list[str | None]] = {}
        self.event: dict[str, list[str | None]] = {}

    def add_trace(self, case_attrs: _Row, events: list[_Row]) -> None:
        """Append the rows of one trace: its events, each repeating the trace's attributes."""
        count = len(events)
        if count == 0:
            return
        for key, value in case_attrs.items():
            column = self._column(self.case, _CASE_PREFIX + key)
            column.extend([value] * count)
        # Hot loop (one pass per value): the padding is inlined rather than calling `_column`.
        event_columns = self.event
        row = self.rows
        for event in events:
            for key, value in event.items():
                known = event_columns.get(key)
                if known is None:
                    known = event_columns[key] = [None] * row
                elif len(known) != row:
                    known.extend([None] * (row - len(known)))
                known.append(value)
            row += 1
        self.rows += count

    def _column(self, columns: dict[str, list[str | None]], name: str) -> list[str | None]:
        """The list for `name`, padded with `None` up to the rows already written."""
        column = columns.setdefault(name, [])
        if len(column) < self.rows:
            column.extend([None] * (self.rows - len(column)))
        return column

    def to_table(self) -> pa.Table:
        """`source_row`, then case columns, then event columns, each in first-seen order."""
        arrays: dict[str, pa.Array] = {
            "source_row": pa.array(range(1, self.rows + 1), type=pa.int64())
        }
        for columns in (self.case, self.event):
            for name, column in columns.items():
                if name in arrays:
                    # An event attribute literally named like a case column; keep the case one.
                    continue
                column.extend([None] * (self.rows - len(column)))
                arrays[name] = pa.array(column, type=pa.string())
        return pa.table(arrays)


def read_xes_events(path: Path) -> pa.Table:
    """Read the XES file at `path` into one string row per event, in file order.

    Raises `LogReadError` for a file that cannot be opened, a corrupt gzip stream, malformed
    XML, a root element other than `log`, an event outside a trace, or a log without events.
    """
    columns = _Columns()
    with _open(path) as stream:
        try:
            _parse(path, stream, columns)
        except etree.XMLSyntaxError as err:
            raise LogReadError(_syntax_message(path, err)) from err
        except (EOFError, zlib.error, gzip.BadGzipFile) as err:
            raise LogReadError(f"{path}: the gzip data is corrupt or truncated: {err}") from err
        except LogReadError:
            raise
        except OSError as err:
            raise LogReadError(f"{path}: cannot read the file: {err}") from err
    if columns.rows == 0:
        raise LogReadError(f"{path}: the XES file holds no events")
    return columns.to_table()


@contextmanager
def _open(path: Path) -> Iterator[io.BufferedIOBase]:
    """Open `path` as bytes, decompressing when it starts with the gzip magic (whatever its name)."""
    try:
        raw = open(path, "rb")  # closed in `finally`, after the gzip wrapper
    except OSError as err:
        raise LogReadError(f"{path}: cannot open the file: {err.strerror or err}") from err
    try:
        is_gzip = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if is_gzip:
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield unzipped
        else:
            yield raw
    finally:
        raw.close()


def _parse(path: Path, stream: io.BufferedIOBase, columns: _Columns) -> None:
    """Stream the document into `columns`, checking the structure on the way."""
    # Entities are not resolved and the network is not used: a log file must not reach out.
    context = etree.iterparse(
        stream, events=("end",), tag=_TAGS, resolve_entities=False, no_network=True
    )
    event_defaults: _Row = {}
    trace_defaults: _Row = {}
    pending: list[_Row] = []  # events of the trace being read
    root_checked = False
    for _, element in context:
        if not root_checked:
            _check_root(path, element.getroottree().getroot())
            root_checked = True
        name = _local(element.tag)
        parent = element.getparent()
        if name == "event":
            if parent is None or _local(parent.tag) != "trace":
                raise LogReadError(
                    f"{path}: event at line {element.sourceline} is not inside a trace"
                )
            pending.append(_with_defaults(_attributes(element), event_defaults))
            parent.remove(element)
        elif name == "trace":
            if parent is None or parent.getparent() is not None:
                raise LogReadError(
                    f"{path}: trace at line {element.sourceline} is not a child of the log"
                )
            columns.add_trace(_with_defaults(_attributes(element), trace_defaults), pending)
            pending = []
            element.clear()
            parent.remove(element)
        elif parent is not None and parent.getparent() is None:  # a log-level <global>
            scope = element.get("scope", "event")
            target = trace_defaults if scope == "trace" else event_defaults
            target.update(_attributes(element))
    if not root_checked:
        _check_root(path, context.root)


def _check_root(path: Path, root: etree._Element) -> None:
    """Refuse documents whose root is not `<log>` (an XES file, in any namespace)."""
    tag = root.tag
    if not isinstance(tag, str) or _local(tag) != "log":
        shown = _local(tag) if isinstance(tag, str) else "?"
        raise LogReadError(
            f"{path}: the root element is <{shown}>, not <log>; is this an XES file?"
        )


def _attributes(element: etree._Element) -> _Row:
    """The top-level single-valued attributes of a trace, event or global, key -> value text.

    An XES attribute is a child element with both `key` and `value`; this skips comments,
    nested `list`/`container` attributes (which have no `value`) and the children of
    attributes. The tag name is not checked, which keeps this hot loop short. A key repeated
    in one element keeps its last value.
    """
    return {
        key: value
        for child in element
        if (key := child.get("key")) is not None and (value := child.get("value")) is not None
    }


def _with_defaults(attributes: _Row, defaults: _Row) -> _Row:
    """`attributes` completed with the `<global>` defaults for the keys it lacks."""
    if defaults.keys() <= attributes.keys():  # the usual case, checked at C speed
        return attributes
    for key, value in defaults.items():
        if key not in attributes:
            attributes[key] = value
    return attributes


def _local(tag: str) -> str:
    """The tag name without its `{namespace}` part."""
    return tag.rpartition("}")[2]


def _syntax_message(path: Path, err: etree.XMLSyntaxError) -> str:
    """A one-line message for malformed XML, with the line number when lxml knows it."""
    message = " ".join(str(err.msg or err).split())
    line = err.lineno or (err.position[0] if err.position else None)
    where = f" at line {line}" if line else ""
    return f"{path}: malformed XES{where}: {message}"


__all__ = ["read_xes_events"]
