"""processmine: process mining and what-if simulation for CRM and support event logs.

The public names load lazily, so that `processmine --help` does not pay for importing the
engine (Ibis, DuckDB, pandas): about half a second.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "read_log": "processmine.reader",
    "load_config": "processmine.reader",
    "EventLog": "processmine.log",
    "ColumnMapping": "processmine.mapping",
    "ReadOptions": "processmine.canonical",
    "QualityReport": "processmine.quality",
    "QualityIssue": "processmine.quality",
    "LogSummary": "processmine.summary",
    "summarize": "processmine.summary",
    "ProcessMineError": "processmine.errors",
    "LogReadError": "processmine.errors",
    "LogSchemaError": "processmine.errors",
}

__all__ = [
    "ColumnMapping", "EventLog", "LogReadError", "LogSchemaError", "LogSummary",
    "ProcessMineError", "QualityIssue", "QualityReport", "ReadOptions", "__version__",
    "load_config", "read_log", "summarize",
]

if TYPE_CHECKING:
    from processmine.canonical import ReadOptions
    from processmine.errors import LogReadError, LogSchemaError, ProcessMineError
    from processmine.log import EventLog
    from processmine.mapping import ColumnMapping
    from processmine.quality import QualityIssue, QualityReport
    from processmine.reader import load_config, read_log
    from processmine.summary import LogSummary, summarize


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'processmine' has no attribute {name!r}")
