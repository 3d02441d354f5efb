"""The `processmine` command: parse options, call one library function, show the result.

Library imports happen inside the commands, so `processmine --help` starts in a fraction of
a second (the engine and pm4py take about a second to import).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from processmine import __version__
from processmine.cli_options import JsonOpt, LogArg, ReadOpts, option_groups

if TYPE_CHECKING:
    from processmine.log import EventLog

app = typer.Typer(
    help="Process mining and what-if simulation for CRM and support event logs.",
    no_args_is_help=True, add_completion=False, rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a user's mistake into one line on stderr and exit code 2; our bugs keep tracebacks."""
    from processmine.errors import ProcessMineError

    try:
        yield
    except ProcessMineError as err:
        err_console.print(f"error: {err}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


def _version(value: bool) -> None:
    if value:
        console.print(f"processmine {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    """Process mining and what-if simulation for CRM and support event logs."""


def load(log: Path, read: ReadOpts) -> EventLog:
    """Read a log from the shared mapping and reading options (used by every command)."""
    from processmine.canonical import ReadOptions
    from processmine.mapping import ColumnMapping
    from processmine.reader import open_log

    mapping = ColumnMapping(read.case, read.activity, read.timestamp, read.start, read.resource,
                            read.lifecycle)
    options = ReadOptions(timestamp_format=read.timestamp_format, timezone=read.timezone,
                          dayfirst=read.dayfirst, strict=read.strict,
                          latest=datetime.now(UTC).replace(tzinfo=None))
    return open_log(log, mapping, options=options, config=read.config,
                    cache_db=None if read.no_cache else read.db)


@app.command()
@option_groups
def inspect(log: LogArg, *, read: ReadOpts, json_out: JsonOpt = None) -> None:
    """Read and check a log: the mapping used, its size and span, and every data problem.

    Example: processmine inspect sample_logs/support_tickets.csv.gz --json inspect.json
    """
    from processmine.render import inspection_json, show_inspection
    from processmine.summary import summarize

    with user_errors():
        event_log = load(log, read)
        summary = summarize(event_log)
    show_inspection(console, event_log, summary)
    if json_out is not None:
        write_json(json_out, inspection_json(event_log, summary))


def write_json(path: Path, data: dict[str, Any]) -> None:
    with user_errors():
        from processmine.errors import ProcessMineError

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
        except OSError as err:
            raise ProcessMineError(f"{path}: cannot write: {err.strerror or err}") from err
    console.print(f"wrote {path}")


# The mining and simulation commands live in their own modules; importing them registers
# them on `app` (their heavy imports stay inside the commands).
from processmine import cli_mining as _cli_mining  # noqa: E402
from processmine import cli_report as _cli_report  # noqa: E402
from processmine import cli_simulation as _cli_simulation  # noqa: E402

_ = (_cli_mining, _cli_simulation, _cli_report)
