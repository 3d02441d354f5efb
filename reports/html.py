"""report.html: the summary dictionary through Jinja2 templates into one self-contained page.

The page is rendered from summary.json alone, never from analysis objects, and every figure in
it goes through one set of formatters (`FORMATS`, shared with the Markdown report). The
template never formats a value itself: it names the value by its path in the summary
(`n("hours", "kpis.overall.cycle_mean_h")`), and the page shows it as

    <span class="num" data-key="kpis.overall.cycle_mean_h" data-fmt="hours">27 h</span>

so a test (or a reader with the JSON open) can check every figure against summary.json with
`FORMATS[data-fmt](lookup(summary, data-key))`. Sentences that arrive as text in the summary
(bottleneck explanations, verdicts, notes) are text, not figures, and carry no span.

Paths (`data-key`): keys and list indices joined by dots, e.g.
`bottlenecks.bottlenecks.0.impact_hours`. Dictionary keys that are names from the log (activity,
pool and segment names) may contain dots themselves, so inside a key `~` is written `~0` and
`.` is written `~1`, as in JSON Pointer (RFC 6901).

Everything from the log is untrusted (names come from customers' systems): autoescaping is on,
and only SVG produced by our own modules (`reports.maps`, `reports.charts`, both of which
escape every text they draw) is inserted unescaped. The page fetches nothing: CSS is inline,
charts and maps are inline SVG, links point only at the page's own sections.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from processmine.mining.bottlenecks import duration
from reports.writer import MAP_TITLES

#: Shown for a figure the summary leaves null (undefined, e.g. an SLA breach rate without SLA).
NA = "n/a"

#: Durations of at least this many days are shown as whole days ('1,793 d').
_MANY_DAYS = 100

#: The report's sections in order: (id, title). The ids are stable anchors (`report.html#kpis`).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Executive summary"),
    ("quality", "Data quality"),
    ("maps", "Process maps"),
    ("variants", "Variants"),
    ("bottlenecks", "Bottlenecks and their causes"),
    ("funnel", "Funnel"),
    ("kpis", "KPI trends"),
    ("validation", "Simulation validation"),
    ("scenarios", "Scenario comparison"),
    ("recommendations", "Recommendations"),
    ("appendix", "Appendix"),
)

#: How each bottleneck kind (processmine.mining.bottlenecks.KINDS) is named in the report.
KIND_LABELS = {"wait": "waiting before", "edge": "path", "processing": "work",
               "rework": "rework", "handoff": "hand-off between teams"}

# Which entries of summary["notes"] explain an absent part. The pipeline writes these notes
# (reports/pipeline.py); they are matched by their opening words.
_NOTE_PREFIXES: dict[str, tuple[str, ...]] = {
    "funnel": ("No funnel",),
    "validation": ("No simulation", "Simulation was not run"),
    "scenarios": ("No scenario", "No simulation", "Simulation was not run"),
}
_NOTE_FALLBACK = {
    "funnel": "The log was not analysed as a pipeline, so there is no funnel.",
    "validation": "The simulation was not run, so there is nothing to validate.",
    "scenarios": "No scenario was simulated.",
}


# --- formatters: the only place a figure becomes text ------------------------------------------


def _number(value: object) -> float | None:
    """The value as a float, None for null; anything else is a template bug, raised loudly."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number or null in the summary, found {value!r}")
    return float(value)


def fmt_int(value: object) -> str:
    """A count: '6,859'."""
    v = _number(value)
    return NA if v is None else f"{round(v):,}"


def fmt_num(value: object) -> str:
    """A rate or mean with one decimal: '261.5', '1,234.5'."""
    v = _number(value)
    return NA if v is None else f"{v:,.1f}"


def fmt_dec(value: object) -> str:
    """A score between 0 and 1 (fitness, precision, correlation, probability): '0.99'."""
    v = _number(value)
    return NA if v is None else f"{v:.2f}"


def fmt_pct(value: object) -> str:
    """A percentage the summary already holds in percent: 23.24 -> '23.2%'."""
    v = _number(value)
    return NA if v is None else f"{v:.1f}%"


def fmt_share(value: object) -> str:
    """A fraction shown as a whole percentage: 0.08 -> '8%'.

    Whole percent because summary.json keeps fractions to two decimals: '8.0%' would claim a
    precision the JSON does not hold.
    """
    v = _number(value)
    return NA if v is None else f"{100 * v:.0f}%"


def _signed(text: str) -> str:
    """A change that rounds to zero reads '+0%', never '-0%'."""
    if text.startswith("-") and not any(c in "123456789" for c in text):
        return "+" + text[1:]
    return text


def fmt_signed_pct(value: object) -> str:
    """A change in percent, always signed: -22.2 -> '-22.2%', 3 -> '+3.0%'."""
    v = _number(value)
    return NA if v is None else _signed(f"{v:+.1f}%")


def fmt_signed_share(value: object) -> str:
    """A relative difference held as a fraction, signed, whole percent: 0.06 -> '+6%'."""
    v = _number(value)
    return NA if v is None else _signed(f"{100 * v:+.0f}%")


def fmt_hours(value: object) -> str:
    """A duration given in hours, in the unit a reader takes in: '35 min', '16 h', '3.2 d'.

    The same wording as the bottleneck explanations (`processmine.mining.bottlenecks.duration`),
    so a figure in a table reads like the one in the sentence beside it. Negative durations
    (a scenario that makes cases slower 'saves' negative hours) keep their sign. From
    `_MANY_DAYS` days on, whole days with thousands separators.
    """
    v = _number(value)
    if v is None:
        return NA
    if abs(v) >= _MANY_DAYS * 24:  # totals over many cases: '27,022 d', not '27021.5 d'
        return f"{v / 24:,.0f} d"
    return "-" + duration(-v) if v < 0 else duration(v)


#: data-fmt name -> formatter. Templates name a format; they never format a figure themselves.
FORMATS: dict[str, Callable[[object], str]] = {
    "int": fmt_int,
    "num": fmt_num,
    "dec": fmt_dec,
    "pct": fmt_pct,
    "share": fmt_share,
    "signed_pct": fmt_signed_pct,
    "signed_share": fmt_signed_share,
    "hours": fmt_hours,
}


def fmt_time(value: object) -> str:
    """An ISO 8601 date or time from the summary as 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM' (UTC).

    Dates are not figures: they are shown in <time> elements, without a span.
    """
    if value is None:
        return NA
    text = str(value)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment.strftime("%Y-%m-%d" if len(text) <= 10 else "%Y-%m-%d %H:%M")


# --- paths into the summary --------------------------------------------------------------------


def key_path(base: str, *parts: str | int) -> str:
    """`base` (a dotted path written in a template) extended by raw keys or indices.

    The raw parts may be names from the log: '~' and '.' in them are escaped (see the module
    docstring), so `lookup` finds them again.
    """
    escaped = [str(p).replace("~", "~0").replace(".", "~1") for p in parts]
    return ".".join([base, *escaped]) if base else ".".join(escaped)


def lookup(summary: Mapping[str, Any], key: str) -> Any:
    """The value at a dotted `key` (as written in data-key) in the summary.

    Raises KeyError (or IndexError) when the path does not exist: a template naming a figure
    that summary.json lacks is a bug to be seen, not a blank to be shown.
    """
    value: Any = summary
    for raw in key.split("."):
        part = raw.replace("~1", ".").replace("~0", "~")
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


class Figures:
    """`n(fmt, path, *parts)` for the templates: look a figure up, format it, show it.

    The HTML report wraps it in its span; the Markdown report (`html=False`) shows the text.
    """

    def __init__(self, summary: Mapping[str, Any], *, html: bool) -> None:
        self._summary = summary
        self._html = html

    def __call__(self, fmt: str, base: str, *parts: str | int) -> str:
        key = key_path(base, *parts)
        text = FORMATS[fmt](lookup(self._summary, key))
        if not self._html:
            return text
        return Markup('<span class="num" data-key="{}" data-fmt="{}">{}</span>').format(
            key, fmt, text)


# --- what the templates are given ----------------------------------------------------------------


def section_notes(summary: Mapping[str, Any]) -> dict[str, list[str]]:
    """For each optional section, the notes saying why its part is absent (at least one)."""
    notes = [str(n) for n in summary.get("notes", [])]
    return {
        section: [n for n in notes if n.startswith(prefixes)] or [_NOTE_FALLBACK[section]]
        for section, prefixes in _NOTE_PREFIXES.items()
    }


def scenario_order(summary: Mapping[str, Any]) -> list[int]:
    """Indices into simulation.experiment.scenarios, largest cut in mean cycle time first.

    The page lists scenarios in this order while its paths keep the summary's indices.
    """
    experiment = (summary.get("simulation") or {}).get("experiment")
    if not experiment:
        return []
    scenarios: Sequence[Mapping[str, Any]] = experiment["scenarios"]

    def change(i: int) -> tuple[bool, float]:
        mean = (scenarios[i].get("change_pct") or {}).get("mean")
        return (mean is None, 0.0 if mean is None else float(mean))

    return sorted(range(len(scenarios)), key=change)


def scenario_rows(summary: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(path, figures) of the baseline, then of each scenario in `scenario_order`."""
    experiment = (summary.get("simulation") or {}).get("experiment")
    if not experiment:
        return []
    base = "simulation.experiment"
    return [(f"{base}.baseline", experiment["baseline"])] + [
        (f"{base}.scenarios.{i}", experiment["scenarios"][i]) for i in scenario_order(summary)]


def bottleneck_label(b: Mapping[str, Any]) -> str:
    """Where a bottleneck is: its activity, or 'source → target' for a hand-off or path."""
    if b.get("activity"):
        return str(b["activity"])
    return f"{b.get('source') or '?'} → {b.get('target') or '?'}"


def template_context(summary: Mapping[str, Any], *, html: bool) -> dict[str, Any]:
    """The names both templates use (the HTML one adds maps and charts)."""
    return {
        "s": summary,
        "n": Figures(summary, html=html),
        "sections": SECTIONS,
        "notes_for": section_notes(summary),
        "scenario_rows": scenario_rows(summary),
        "where": bottleneck_label,
        "kind_labels": KIND_LABELS,
        "map_titles": MAP_TITLES,
    }


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["time"] = fmt_time
    return env


def render_html(summary: Mapping[str, Any], *, maps: Mapping[str, str],
                charts: Mapping[str, str] | None = None) -> str:
    """report.html as one string: every section, the maps and charts inline.

    `maps` maps a map name (frequency, performance, bpmn, scenario) to its inline SVG from
    `reports.maps`; `charts` maps a chart name to inline SVG from `reports.charts` (default:
    `reports.figures.charts(summary)`). Both are trusted markup: only pass SVG our modules made.
    Raises KeyError when the summary lacks a figure the template shows (a schema mismatch).
    """
    if charts is None:
        from reports.figures import charts as build_charts  # figures imports our formatters

        charts = build_charts(summary)
    template = _environment().get_template("report.html.j2")
    return template.render(**template_context(summary, html=True),
                           maps=list(maps.items()), charts=dict(charts))


__all__ = ["FORMATS", "KIND_LABELS", "NA", "SECTIONS", "Figures", "bottleneck_label",
           "fmt_dec", "fmt_hours", "fmt_int", "fmt_num", "fmt_pct", "fmt_share",
           "fmt_signed_pct", "fmt_signed_share", "fmt_time", "key_path", "lookup",
           "render_html", "scenario_order", "scenario_rows", "section_notes", "template_context"]
