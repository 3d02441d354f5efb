"""Write the report folder: report.html, report.md, summary.json and maps/.

The only module of `reports` that touches the disk. Maps are drawn once: written as SVG files
(for the Markdown report and for slides) and inlined into the HTML from the same source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from processmine.errors import ProcessMineError
from reports.pipeline import Analysis
from reports.summary import build_summary

MAP_TITLES = {
    "frequency": "Process map: how often",
    "performance": "Process map: where the time goes",
    "bpmn": "Discovered model (BPMN)",
    "scenario": "Best scenario against the baseline",
}


@dataclass(frozen=True)
class ReportFiles:
    """What was written."""

    folder: Path
    html: Path
    markdown: Path
    summary: Path
    maps: dict[str, Path]


@dataclass(frozen=True)
class MapOptions:
    """Disco-style abstraction of the maps (percent of activities and of paths kept)."""

    activities_pct: float = 100.0
    paths_pct: float = 100.0


def draw_maps(a: Analysis, options: MapOptions) -> dict[str, Any]:
    """The report's Graphviz maps, by name (frequency, performance, bpmn, scenario)."""
    from reports import maps as m

    d = a.discovery  # the same frames the report's tables show: not computed twice
    data = m.MapData(d.activities, d.edges, d.start_end, tuple(a.bottlenecks.bottlenecks),
                     int(d.start_end["starts"].sum()) if len(d.start_end) else 0)
    abstraction = m.Abstraction(options.activities_pct, options.paths_pct)
    shown, note = m.abstract(data, abstraction, events=a.prepared.events)
    graphs: dict[str, Any] = {
        "frequency": m.frequency_map(shown, title=MAP_TITLES["frequency"], note=note),
        "performance": m.performance_map(shown, title=MAP_TITLES["performance"], note=note),
        "bpmn": m.bpmn_map(a.discovery.model),
    }
    if a.scenario_edges is not None:
        name, base, scenario = a.scenario_edges
        graphs["scenario"] = m.scenario_map(base, scenario, title=f"{name}: against the baseline")
    return graphs


def write_report(a: Analysis, out: Path, *, maps: MapOptions | None = None,
                 privacy: str | None = None) -> ReportFiles:
    """Render and write everything into `out` (created if needed)."""
    from reports import maps as m
    from reports.html import render_html
    from reports.markdown import render_markdown

    graphs = draw_maps(a, maps or MapOptions())
    try:
        (out / "maps").mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ProcessMineError(f"{out}: cannot create the report folder: {err.strerror or err}") from err
    paths: dict[str, Path] = {}
    inline: dict[str, str] = {}
    for name, graph in graphs.items():
        paths[name] = m.render(graph, out / "maps" / f"{name}.svg")
        inline[name] = m.svg_inline(graph)
    relative = {name: f"maps/{p.name}" for name, p in paths.items()}
    summary = build_summary(a, maps=relative, privacy=privacy)
    files = ReportFiles(out, out / "report.html", out / "report.md", out / "summary.json", paths)
    try:
        files.summary.write_text(json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False)
                                 + "\n", encoding="utf-8")
        files.html.write_text(render_html(summary, maps=inline), encoding="utf-8")
        files.markdown.write_text(render_markdown(summary, maps=relative), encoding="utf-8")
    except OSError as err:
        raise ProcessMineError(f"{out}: cannot write the report: {err.strerror or err}") from err
    return files


__all__ = ["MAP_TITLES", "MapOptions", "ReportFiles", "draw_maps", "write_report"]
