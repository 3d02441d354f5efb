"""The error family for mistakes in the user's input or settings.

The CLI turns any of these into a one-line message and exit code 2; every other exception is
our bug and keeps its traceback.
"""

from __future__ import annotations


class ProcessMineError(Exception):
    """The input or settings are wrong; the message says what to change."""


class LogReadError(ProcessMineError, OSError):
    """A log file is missing, empty, binary, undecodable or malformed."""


class LogSchemaError(ProcessMineError, ValueError):
    """No column (or more than one) fits a role such as case id, activity or timestamp."""


class LogQualityError(ProcessMineError, ValueError):
    """`--strict` was asked for and some rows could not be used."""


class ConfigError(ProcessMineError, ValueError):
    """A `processmine.toml` or an option value is wrong."""


__all__ = ["ConfigError", "LogQualityError", "LogReadError", "LogSchemaError", "ProcessMineError"]
