"""The report's charts, built from the summary dictionary with `reports.charts`.

Charts read summary.json only, like the templates, so a chart never shows a figure the JSON
lacks; their value labels use the report's formatters (`reports.html.FORMATS`), so a bar reads
'16 h' exactly where the table beside it does. A chart whose data is absent from the summary
(no funnel, no simulation, no causes without start times) is left out of the result rather
than drawn empty: the section then shows its note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reports import charts as c
from reports.html import (
    bottleneck_label,
    fmt_hours,
    fmt_int,
    fmt_pct,
    fmt_signed_pct,
    scenario_order,
)

#: Variants drawn in the share chart (the table lists all of summary["variants"]["top"]).
CHART_VARIANTS = 10
#: Characters of a variant's activity sequence kept in its chart label.
VARIANT_LABEL = 60
CAUSES = (("contention", "Busy (contention)"), ("unavailability", "Off shift (unavailability)"),
          ("extraneous", "Outside the team (extraneous)"))


def charts(summary: Mapping[str, Any]) -> dict[str, str]:
    """Chart name -> inline SVG for every chart the summary has data for.

    Names: trend_volume, trend_cycle, bottleneck_impact, bottleneck_causes, variants, funnel,
    funnel_segments, validation_cycle, validation_waits, scenarios.
    """
    out: dict[str, str] = {}
    out.update(_trends(summary["kpis"]))
    out.update(_bottlenecks(summary["bottlenecks"]))
    out.update(_variants(summary["variants"]))
    if summary.get("funnel"):
        out.update(_funnel(summary["funnel"]))
    simulation = summary.get("simulation") or {}
    if simulation.get("validation"):
        out.update(_validation(simulation["validation"]))
    if simulation.get("experiment"):
        out.update(_scenarios(simulation["experiment"], scenario_order(summary)))
    return out


def _trends(kpis: Mapping[str, Any]) -> dict[str, str]:
    weekly: Sequence[Mapping[str, Any]] = kpis.get("weekly") or []
    if not weekly:
        return {}
    weeks = [str(w["week"]) for w in weekly]
    return {
        "trend_volume": c.line_chart(
            {"Arrivals": [w["arrivals"] for w in weekly],
             "Completed": [w["completed"] for w in weekly],
             "In progress at week end": [w["wip_at_week_end"] for w in weekly]},
            weeks, title="Cases per week", y_label="cases", y_format=fmt_int),
        "trend_cycle": c.line_chart(
            {"Median": [w["cycle_median_h"] for w in weekly],
             "Mean": [w["cycle_mean_h"] for w in weekly]},
            weeks, title="Cycle time of the cases completed each week", y_label="cycle time",
            y_format=fmt_hours),
    }


def _bottlenecks(report: Mapping[str, Any]) -> dict[str, str]:
    ranked: Sequence[Mapping[str, Any]] = report.get("bottlenecks") or []
    if not ranked:
        return {}
    labels = [f"#{b['rank']} {bottleneck_label(b)}" for b in ranked]
    out = {"bottleneck_impact": c.bar_chart(
        labels, [b["impact_hours"] for b in ranked], title="Cycle time lost at each bottleneck",
        value_format=fmt_hours, highlight=range(min(3, len(ranked))))}
    with_causes = [i for i, b in enumerate(ranked) if b.get("causes")]
    if report.get("causes_available") and with_causes:
        out["bottleneck_causes"] = c.stacked_bar(
            [labels[i] for i in with_causes],
            {title: [ranked[i]["causes"].get(key) for i in with_causes] for key, title in CAUSES},
            title="Why cases wait: hours by cause", value_format=fmt_hours)
    return out


def _variants(variants: Mapping[str, Any]) -> dict[str, str]:
    top: Sequence[Mapping[str, Any]] = (variants.get("top") or [])[:CHART_VARIANTS]
    if not top:
        return {}
    labels = [_cut(f"#{v['rank']} " + " → ".join(map(str, v["activities"])), VARIANT_LABEL)
              for v in top]
    return {"variants": c.bar_chart(labels, [v["share_pct"] for v in top],
                                    title="Share of cases following each variant",
                                    value_format=fmt_pct)}


def _funnel(funnel: Mapping[str, Any]) -> dict[str, str]:
    stages: Sequence[Mapping[str, Any]] = funnel.get("stages") or []
    out: dict[str, str] = {}
    if stages:
        out["funnel"] = c.bar_chart([str(s["stage"]) for s in stages],
                                    [s["reached"] for s in stages],
                                    title="Cases reaching each stage", value_format=fmt_int)
    segments: Mapping[str, Mapping[str, Any]] = funnel.get("segments") or {}
    if stages and segments:
        names = [str(s["stage"]) for s in stages]
        groups = {str(label): _by_stage(seg.get("stages") or [], names, "conversion_pct")
                  for label, seg in segments.items()}
        out["funnel_segments"] = c.grouped_bars(
            names, groups, title="Conversion from the previous stage, by segment",
            value_format=fmt_pct)
    return out


def _by_stage(stages: Sequence[Mapping[str, Any]], names: Sequence[str],
              field: str) -> list[float | None]:
    """A segment's figure per overall stage (None where the segment lacks the stage)."""
    found = {str(s["stage"]): s.get(field) for s in stages}
    return [found.get(name) for name in names]


def _validation(v: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    cycle = v.get("cycle_time_hours") or {}
    stats = [(key, title) for key, title in (("mean", "Mean"), ("median", "Median"), ("p90", "p90"))
             if key in cycle]
    if stats:
        out["validation_cycle"] = c.grouped_bars(
            [title for _, title in stats],
            {"Observed": [cycle[k]["observed"] for k, _ in stats],
             "Simulated": [cycle[k]["simulated"] for k, _ in stats]},
            title="Cycle time: observed and simulated", value_format=fmt_hours)
    waits = {name: pair for name, pair in (v.get("waiting_hours") or {}).items()
             if pair.get("observed") is not None or pair.get("simulated") is not None}
    if waits:
        out["validation_waits"] = c.grouped_bars(
            list(waits),
            {"Observed": [p["observed"] for p in waits.values()],
             "Simulated": [p["simulated"] for p in waits.values()]},
            title="Mean wait before each activity: observed and simulated",
            value_format=fmt_hours)
    return out


def _scenarios(experiment: Mapping[str, Any], order: Sequence[int]) -> dict[str, str]:
    scenarios: Sequence[Mapping[str, Any]] = experiment.get("scenarios") or []
    if not scenarios:
        return {}
    shown = [scenarios[i] for i in order]
    changes = [s.get("change_pct") or {} for s in shown]
    cis = [ch.get("ci95") or [None, None] for ch in changes]
    return {"scenarios": c.interval_chart(
        [str(s["name"]) for s in shown], [ch.get("mean") for ch in changes],
        [ci[0] for ci in cis], [ci[1] for ci in cis],
        title="Change in mean cycle time against the baseline (95% CI)", baseline=0,
        value_format=fmt_signed_pct)}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


__all__ = ["CAUSES", "CHART_VARIANTS", "VARIANT_LABEL", "charts"]
