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

if TYPE_CHECKING:
    from processmine.log import EventLog

app = typer.Typer(
    help="Process mining and what-if simulation for CRM and support event logs.",
    no_args_is_help=True, add_completion=False, rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

DEFAULT_DB = Path(".processmine") / "processmine.duckdb"

LogArg = Annotated[Path, typer.Argument(help="Event log: CSV/TSV (optionally .gz), Parquet, XES or XES.gz.", show_default=False)]
CaseOpt = Annotated[str | None, typer.Option("--case", help="Column holding the case id.", rich_help_panel="Mapping")]
ActivityOpt = Annotated[str | None, typer.Option("--activity", help="Column holding the activity.", rich_help_panel="Mapping")]
TimestampOpt = Annotated[str | None, typer.Option("--timestamp", help="Column holding the completion time.", rich_help_panel="Mapping")]
StartOpt = Annotated[str | None, typer.Option("--start", help="Column holding the start time.", rich_help_panel="Mapping")]
ResourceOpt = Annotated[str | None, typer.Option("--resource", help="Column holding the resource (agent, owner).", rich_help_panel="Mapping")]
LifecycleOpt = Annotated[str | None, typer.Option("--lifecycle", help="Column holding start/complete transitions.", rich_help_panel="Mapping")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="A processmine.toml with [columns] and [read] (default: the one next to the log).", rich_help_panel="Mapping")]
FormatOpt = Annotated[str | None, typer.Option("--timestamp-format", help="strptime format of the timestamps, e.g. '%d.%m.%Y %H:%M'.", rich_help_panel="Reading")]
ZoneOpt = Annotated[str, typer.Option("--timezone", help="Zone of timestamps written without an offset.", rich_help_panel="Reading")]
DayFirstOpt = Annotated[bool | None, typer.Option("--dayfirst/--monthfirst", help="Order of day and month in dates like 03/04/2016 (default: decided from the values).", show_default=False, rich_help_panel="Reading")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Fail when any row has to be excluded.", rich_help_panel="Reading")]
DbOpt = Annotated[Path, typer.Option("--db", help="Ingest cache (a DuckDB file).", rich_help_panel="Reading")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Parse the file without reading or writing the cache.", rich_help_panel="Reading")]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Also write the result as JSON to this file.")]


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


def load(
    log: Path, *, case: str | None, activity: str | None, timestamp: str | None,
    start: str | None, resource: str | None, lifecycle: str | None, config: Path | None,
    timestamp_format: str | None, timezone: str, dayfirst: bool | None, strict: bool,
    db: Path, no_cache: bool,
) -> EventLog:
    """Read a log from the shared command-line options (used by every command)."""
    from processmine.canonical import ReadOptions
    from processmine.mapping import ColumnMapping
    from processmine.reader import open_log

    mapping = ColumnMapping(case, activity, timestamp, start, resource, lifecycle)
    options = ReadOptions(timestamp_format=timestamp_format, timezone=timezone, dayfirst=dayfirst,
                          strict=strict, latest=datetime.now(UTC).replace(tzinfo=None))
    return open_log(log, mapping, options=options, config=config,
                    cache_db=None if no_cache else db)


@app.command()
def inspect(
    log: LogArg,
    case: CaseOpt = None, activity: ActivityOpt = None, timestamp: TimestampOpt = None,
    start: StartOpt = None, resource: ResourceOpt = None, lifecycle: LifecycleOpt = None,
    config: ConfigOpt = None, timestamp_format: FormatOpt = None, timezone: ZoneOpt = "UTC",
    dayfirst: DayFirstOpt = None, strict: StrictOpt = False, db: DbOpt = DEFAULT_DB,
    no_cache: NoCacheOpt = False, json_out: JsonOpt = None,
) -> None:
    """Read and check a log: the mapping used, its size and span, and every data problem.

    Example: processmine inspect sample_logs/support_tickets.csv.gz --json inspect.json
    """
    from processmine.render import inspection_json, show_inspection
    from processmine.summary import summarize

    with user_errors():
        event_log = load(log, case=case, activity=activity, timestamp=timestamp, start=start,
                         resource=resource, lifecycle=lifecycle, config=config,
                         timestamp_format=timestamp_format, timezone=timezone, dayfirst=dayfirst,
                         strict=strict, db=db, no_cache=no_cache)
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
