"""Options shared by the commands, defined once: the log argument, mapping and reading
options (`ReadOpts`), filters and calendar (`FilterOpts`).

A command takes a group as one parameter, `read: ReadOpts`, and `@option_groups` shows typer
the group's fields as separate options in that place of the signature, then gathers their
values back into the dataclass. So every command has the same options, help texts and
defaults, written here once.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, get_type_hints

import typer

DEFAULT_DB = Path(".processmine") / "processmine.duckdb"

_M = "Mapping"
_R = "Reading"
_F = "Filters"
_T = "Time"

LogArg = Annotated[Path, typer.Argument(help="Event log: CSV/TSV (optionally .gz), Parquet, XES or XES.gz.", show_default=False)]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Also write the result as JSON to this file.")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Split by this case attribute (e.g. LeadSource, channel).", show_default=False)]

CaseOpt = Annotated[str | None, typer.Option("--case", help="Column holding the case id.", rich_help_panel=_M)]
ActivityOpt = Annotated[str | None, typer.Option("--activity", help="Column holding the activity.", rich_help_panel=_M)]
TimestampOpt = Annotated[str | None, typer.Option("--timestamp", help="Column holding the completion time.", rich_help_panel=_M)]
StartOpt = Annotated[str | None, typer.Option("--start", help="Column holding the start time.", rich_help_panel=_M)]
ResourceOpt = Annotated[str | None, typer.Option("--resource", help="Column holding the resource (agent, owner).", rich_help_panel=_M)]
LifecycleOpt = Annotated[str | None, typer.Option("--lifecycle", help="Column holding start/complete transitions.", rich_help_panel=_M)]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="A processmine.toml with [columns] and [read] (default: the one next to the log).", rich_help_panel=_M)]
FormatOpt = Annotated[str | None, typer.Option("--timestamp-format", help="strptime format of the timestamps, e.g. '%d.%m.%Y %H:%M'.", rich_help_panel=_R)]
ZoneOpt = Annotated[str, typer.Option("--timezone", help="Zone of timestamps written without an offset.", rich_help_panel=_R)]
DayFirstOpt = Annotated[bool | None, typer.Option("--dayfirst/--monthfirst", help="Order of day and month in dates like 03/04/2016 (default: decided from the values).", show_default=False, rich_help_panel=_R)]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Fail when any row has to be excluded.", rich_help_panel=_R)]
DbOpt = Annotated[Path, typer.Option("--db", help="Ingest cache (a DuckDB file).", rich_help_panel=_R)]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Parse the file without reading or writing the cache.", rich_help_panel=_R)]

TopVariantsOpt = Annotated[float | None, typer.Option("--top-variants", help="Keep the most frequent variants covering this % of cases.", rich_help_panel=_F, show_default=False)]
MinActivityOpt = Annotated[float | None, typer.Option("--min-activity", help="Keep activities occurring in at least this % of cases (others' events removed).", rich_help_panel=_F, show_default=False)]
FromOpt = Annotated[str | None, typer.Option("--from", help="Keep cases starting at or after this date/time (ISO, UTC).", rich_help_panel=_F, show_default=False)]
ToOpt = Annotated[str | None, typer.Option("--to", help="Keep cases starting before this date/time (ISO, UTC).", rich_help_panel=_F, show_default=False)]
WhereOpt = Annotated[list[str] | None, typer.Option("--where", help="Attribute filter, repeatable: channel=email, priority!=P4, channel=email,chat, Amount>=10000.", rich_help_panel=_F, show_default=False)]
StartsWithOpt = Annotated[str | None, typer.Option("--starts-with", help="Keep cases whose first activity is one of these (comma-separated).", rich_help_panel=_F, show_default=False)]
EndsWithOpt = Annotated[str | None, typer.Option("--ends-with", help="Keep cases whose last activity is one of these (comma-separated).", rich_help_panel=_F, show_default=False)]
CompleteOpt = Annotated[bool, typer.Option("--complete-only", help="Keep complete cases only (ending in an end activity).", rich_help_panel=_F)]
EndActsOpt = Annotated[str | None, typer.Option("--end-activities", help="Activities that end a case (comma-separated; default: those ending >= 90% of the cases they occur in).", rich_help_panel=_F, show_default=False)]
CalendarOpt = Annotated[str | None, typer.Option("--calendar", help="Measure durations in working hours, e.g. 'Mon-Fri 08:00-17:00'.", rich_help_panel=_T, show_default=False)]
HolidaysOpt = Annotated[Path | None, typer.Option("--holidays", help="File of holiday dates: one ISO date per line, or a CSV with a date column; for --calendar.", rich_help_panel=_T, show_default=False)]


@dataclass(frozen=True, slots=True)
class ReadOpts:
    """How to read the log: which column is which, how timestamps are written, the cache."""

    case: CaseOpt = None
    activity: ActivityOpt = None
    timestamp: TimestampOpt = None
    start: StartOpt = None
    resource: ResourceOpt = None
    lifecycle: LifecycleOpt = None
    config: ConfigOpt = None
    timestamp_format: FormatOpt = None
    timezone: ZoneOpt = "UTC"
    dayfirst: DayFirstOpt = None
    strict: StrictOpt = False
    db: DbOpt = DEFAULT_DB
    no_cache: NoCacheOpt = False


@dataclass(frozen=True, slots=True)
class FilterOpts:
    """Which cases and events to analyse, and the working calendar durations are measured in."""

    top_variants: TopVariantsOpt = None
    min_activity: MinActivityOpt = None
    start_from: FromOpt = None
    start_to: ToOpt = None
    where: WhereOpt = None
    starts_with: StartsWithOpt = None
    ends_with: EndsWithOpt = None
    complete_only: CompleteOpt = False
    end_activities: EndActsOpt = None
    calendar: CalendarOpt = None
    holidays: HolidaysOpt = None


_GROUPS = (ReadOpts, FilterOpts)


def option_groups(command: Callable[..., None]) -> Callable[..., None]:
    """Show typer each `ReadOpts`/`FilterOpts` parameter of `command` as its fields' options.

    Typer reads a command's options from `inspect.signature`, which honours `__signature__`:
    the wrapper's signature has the group's fields, with their `Annotated` option and
    default, where the group parameter was, and the wrapper passes their values to
    `command` as one dataclass. Apply it below `@app.command()`.
    """
    own = inspect.signature(command, eval_str=True)
    params: list[inspect.Parameter] = []
    groups: dict[str, tuple[type[Any], tuple[str, ...]]] = {}
    for param in own.parameters.values():
        group = param.annotation
        if group not in _GROUPS:
            params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY))
            continue
        hints = get_type_hints(group, include_extras=True)
        names = tuple(f.name for f in fields(group))
        params += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY,
                                     default=f.default, annotation=hints[f.name])
                   for f in fields(group)]
        groups[param.name] = (group, names)
    taken = [p.name for p in params]
    if len(set(taken)) != len(taken) or not groups:
        raise TypeError(f"{command.__name__}: option names clash, or no option group to expand")

    @functools.wraps(command)
    def wrapper(**values: Any) -> None:
        for name, (group, names) in groups.items():
            values[name] = group(**{n: values.pop(n) for n in names})
        command(**values)

    wrapper.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params} | {"return": None}
    return wrapper

