"""Terminal tables for the mining commands (rich; text from the log is never markup)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from processmine.analysis import Prepared
from processmine.mining.bottlenecks import BottleneckReport, duration
from processmine.mining.funnel import Funnel, FunnelStage
from processmine.mining.kpis import KpiFigures, KpiReport
from processmine.mining.stats import CaseSummary


def show_context(console: Console, prepared: Prepared) -> None:
    """Filters applied and the unit of time, so no figure is read out of context."""
    for line in prepared.filtered.describe():
        console.print(Text(f"filter: {line}"))
    if prepared.options.calendar is not None:
        console.print(Text(f"durations in working hours of {prepared.options.calendar.describe()}"))


def show_bottlenecks(console: Console, report: BottleneckReport) -> None:
    table = Table(title=f"Bottlenecks: {report.cases:,} cases, "
                        f"{duration(report.total_cycle_hours)} of cycle time in all",
                  title_justify="left")
    for col, just in (("#", "right"), ("kind", "left"), ("where", "left"),
                      ("total", "right"), ("share", "right"), ("median", "right"),
                      ("p90", "right"), ("cases", "right"), ("contention / unavailable / "
                                                               "extraneous", "right")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for b in report.bottlenecks:
        where = b.activity if b.activity is not None else f"{b.source} -> {b.target}"
        split = "-"
        if b.causes is not None:
            s = b.causes.shares()
            split = f"{s['contention']:.0%} / {s['unavailability']:.0%} / {s['extraneous']:.0%}"
        table.add_row(str(b.rank), b.kind, Text(where), duration(b.impact_hours),
                      f"{b.share_pct:.1f}%", duration(b.median_hours), duration(b.p90_hours),
                      f"{b.cases:,}", split)
    console.print(table)
    for b in report.bottlenecks:
        console.print(Text(f"{b.rank}. {b.explanation}"))
    if report.note:
        console.print(Text(f"note: {report.note}"))


def show_funnel(console: Console, funnel: Funnel) -> None:
    how = "inferred" if funnel.stages_inferred else "given"
    console.print(Text(f"Stages ({how}): {' > '.join(s.stage for s in funnel.stages)}"))
    console.print(Text(f"Won: {', '.join(funnel.won)}; lost: {', '.join(funnel.lost)}"
                       + (" (inferred)" if funnel.outcomes_inferred else "")))
    console.print(_funnel_table("Funnel", funnel.stages, funnel.cases, funnel.win_rate_pct,
                                funnel.won_conversion_pct))
    for label, seg in funnel.segments.items():
        console.print(_funnel_table(f"{funnel.by} = {label}", seg.stages, seg.cases,
                                    seg.win_rate_pct, seg.won_conversion_pct))


def _funnel_table(title: str, stages: Sequence[FunnelStage], cases: int,
                  win_rate: float | None, won_conversion: float | None) -> Table:
    table = Table(title=Text(f"{title}: {cases:,} cases, win rate {_pct(win_rate)}"),
                  title_justify="left")
    for col in ("stage", "reached", "conversion", "drop-off", "still open", "median to reach"):
        table.add_column(col, justify="left" if col == "stage" else "right")
    for s in stages:
        table.add_row(Text(s.stage), f"{s.reached:,}", _pct(s.conversion_pct),
                      f"{s.drop_off:,} ({_pct(s.drop_off_pct)})", f"{s.still_open:,}",
                      duration(s.median_hours_to_reach))
    table.add_row("won", "", _pct(won_conversion), "", "", "")
    return table


def show_kpis(console: Console, report: KpiReport) -> None:
    rows = [("all cases", report.overall)] + [(k, v) for k, v in report.segments.items()]
    table = Table(title="KPIs" + (f" by {report.by}" if report.by else ""), title_justify="left")
    cols = ["segment", "cases", "complete", "open", "cycle mean", "median", "p90",
            "throughput/wk", "arrivals/wk", "WIP (mean)", "rework"]
    if report.sla_hours is not None:
        cols += [f"SLA {duration(report.sla_hours)} breached", "open breaching"]
    for col in cols:
        table.add_column(col, justify="left" if col == "segment" else "right")
    for name, k in rows:
        table.add_row(Text(name), *_kpi_cells(k, report.sla_hours is not None))
    console.print(table)
    weekly = Table(title="Weekly trend", title_justify="left")
    for col in ("week", "arrivals", "completed", "WIP at end", "cycle median", "rework",
                *(("SLA breached",) if report.sla_hours is not None else ())):
        weekly.add_column(col, justify="left" if col == "week" else "right")
    for w in report.weekly:
        cells = [w.week.isoformat(), f"{w.arrivals:,}", f"{w.completed:,}",
                 f"{w.wip_at_week_end:,}", duration(w.cycle_median_h), _rate(w.rework_rate)]
        if report.sla_hours is not None:
            cells.append(_rate(w.sla_breach_rate))
        weekly.add_row(*cells)
    console.print(weekly)


def _kpi_cells(k: KpiFigures, sla: bool) -> list[str]:
    cells = [f"{k.cases:,}", f"{k.complete:,}", f"{k.open:,}", duration(k.cycle_mean_h),
             duration(k.cycle_median_h), duration(k.cycle_p90_h), _num(k.throughput_per_week),
             _num(k.arrivals_per_week), _num(k.wip_mean), _rate(k.rework_rate)]
    if sla:
        cells += [_rate(k.sla_breach_rate), "" if k.open_breaching is None else f"{k.open_breaching:,}"]
    return cells


def show_discovery(console: Console, summary: CaseSummary, variants: pd.DataFrame,
                   model: dict[str, object], top: int = 10) -> None:
    console.print(f"{summary.cases:,} cases ({summary.complete:,} complete, {summary.open:,} open); "
                  f"{len(variants):,} variants; cycle time median {duration(summary.cycle_median_h)}, "
                  f"p90 {duration(summary.cycle_p90_h)}")
    table = Table(title="Most frequent variants", title_justify="left")
    for col in ("#", "cases", "share", "cumulative", "median cycle", "path"):
        table.add_column(col, justify="left" if col == "path" else "right")
    for i, row in enumerate(variants.head(top).itertuples(index=False), start=1):
        table.add_row(str(i), f"{row.cases:,}", f"{row.share:.1%}", f"{row.cum_share:.1%}",
                      duration(row.cycle_median_h), Text(" > ".join(row.variant)))
    console.print(table)
    fit = model.get("fitness")
    prec = model.get("precision")
    console.print(f"model ({model['miner']}, noise threshold {model['noise_threshold']}): "
                  f"{model['places']} places, {model['transitions']} transitions; "
                  f"fitness {_fraction(fit)}, precision {_fraction(prec)}")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _fraction(value: object) -> str:
    return "-" if not isinstance(value, float) else f"{value:.3f}"


__all__ = ["show_bottlenecks", "show_context", "show_discovery", "show_funnel", "show_kpis"]
