"""report.html and report.md rendered from summary.json.

Fixtures: tests/data/summary_support.json (support tickets: start times, resource pools,
simulation and scenarios, no funnel) and tests/data/summary_crm.json (CRM pipeline: funnel, no
start times, simulation without scenarios), written by `processmine analyze` on the sample
logs. The maps are tiny stand-in SVGs: drawing them is reports.maps' business.

What is checked, and how:
- the HTML parses into balanced elements (html.parser, void elements aside), ids are unique,
  every section is there and the contents links reach them;
- every figure is a <span class="num" data-key data-fmt> whose text is the summary's value at
  data-key through the named formatter, and table cells or KPI cards carry no digits outside
  such spans, <time> elements or cells/spans marked as names or text;
- a handful of figures are pinned to hand-formatted strings, so a formatter that changed its
  wording would fail here rather than pass against itself;
- no URL is fetched: no <script>, no src, every href is an in-page anchor, no CSS url() or
  @import. The one URL allowed anywhere is an SVG namespace declaration, exactly
  xmlns="http://www.w3.org/2000/svg" or xmlns:xlink="http://www.w3.org/1999/xlink" (a name,
  never fetched);
- report.md shows the same figures in the same order (the lookups of both renders are
  recorded and compared), and its tables keep their shape;
- names carrying markup, quotes, braces, backslashes, pipes and newlines come out escaped.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import reports.html as report_html
from reports.figures import charts
from reports.html import (
    FORMATS,
    SECTIONS,
    fmt_dec,
    fmt_hours,
    fmt_int,
    fmt_num,
    fmt_pct,
    fmt_share,
    fmt_signed_pct,
    fmt_signed_share,
    key_path,
    lookup,
    render_html,
)
from reports.markdown import anchor, md_escape, render_markdown

DATA = Path(__file__).parent / "data"
SVG_NS = "http://www.w3.org/2000/svg"
ALLOWED_NAMESPACES = {("xmlns", SVG_NS), ("xmlns:xlink", "http://www.w3.org/1999/xlink")}
MAP_SVG = {
    "frequency": f'<svg xmlns="{SVG_NS}" viewBox="0 0 20 10"><text x="1" y="8">frequency</text></svg>',
    "performance": f'<svg xmlns="{SVG_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" '
                   'viewBox="0 0 20 10"><g><text x="1" y="8">performance</text></g></svg>',
}
MAP_FILES = {"frequency": "maps/frequency.svg", "performance": "maps/performance.svg"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
# Attributes that make a browser fetch (or navigate to) a URL.
URL_ATTRIBUTES = {"src", "href", "xlink:href", "srcset", "action", "formaction", "poster",
                  "data", "background", "cite", "ping", "manifest"}
# Inside these, digits are text, not figures: dates, names and prose from the summary.
TEXT_CLASSES = {"name", "text"}
EVIL = "x<script>alert(1)</script> \"dq\" 's' {b} {{ t }} \\ back | pipe *a* _u_ [l](x) `c` & a.b~c\nnext line"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"summary_{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module", params=["support", "crm"])
def summary(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load(request.param)


# --- an HTML checker on html.parser ------------------------------------------------------------


class Page(HTMLParser):
    """Parses a page and records what the tests check (see the module docstring)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.sections: list[str] = []
        self.section_text: dict[str, list[str]] = {}
        self.hrefs: list[str] = []
        self.urls: list[str] = []
        self.scripts = 0
        self.styles: list[str] = []
        self.spans: list[tuple[str, str, list[str]]] = []  # key, fmt, text parts
        self.loose_digits: list[str] = []
        self.texts: list[str] = []
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed at the end: {[tag for tag, _ in self.stack]}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        for name, value in a.items():
            if name in URL_ATTRIBUTES:
                self.urls.append(f"{tag} {name}={value}")
            if name == "style" and re.search(r"url\s*\(|@import|//", value, re.IGNORECASE):
                self.urls.append(f"{tag} style={value}")
            if name.startswith("xmlns") and (name, value) not in ALLOWED_NAMESPACES:
                self.urls.append(f"{tag} {name}={value}")
        if tag == "script":
            self.scripts += 1
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "section":
            self.sections.append(a.get("id", ""))
            self.section_text[a.get("id", "")] = []
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if tag in VOID:
            return
        self.stack.append((tag, a))
        if tag == "span" and a.get("class") == "num":
            self.spans.append((a["data-key"], a["data-fmt"], []))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1][0] if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        tags = [tag for tag, _ in self.stack]
        if tags and tags[-1] == "style":
            self.styles.append(data)
            return
        if "svg" in tags:
            return  # charts and maps: their own module's business
        self.texts.append(data)
        if self.sections and "section" in tags:
            self.section_text[self.sections[-1]].append(data)
        in_span = any(tag == "span" and a.get("class") == "num" for tag, a in self.stack)
        if in_span:
            self.spans[-1][2].append(data)
            return
        cell = [tag for tag in tags if tag in ("td", "dd")]
        exempt = any(tag in ("time", "code") or TEXT_CLASSES & set(a.get("class", "").split())
                     for tag, a in self.stack)
        if cell and not exempt and re.search(r"\d", data):
            self.loose_digits.append(data)


def page(summary: dict[str, Any]) -> Page:
    return Page(render_html(summary, maps=MAP_SVG))


def markdown(summary: dict[str, Any]) -> str:
    return render_markdown(summary, maps=MAP_FILES)


# --- formatters and paths ------------------------------------------------------------------------


def test_formatters_write_figures_as_the_report_shows_them() -> None:
    assert fmt_int(6859) == "6,859"
    assert fmt_int(None) == "n/a"
    assert fmt_num(261.51) == "261.5"
    assert fmt_num(1234.56) == "1,234.6"
    assert fmt_dec(0.8) == "0.80"
    assert fmt_pct(23.24) == "23.2%"
    assert fmt_share(0.08) == "8%"
    assert fmt_signed_pct(-22.2) == "-22.2%"
    assert fmt_signed_pct(3) == "+3.0%"
    assert fmt_signed_pct(-0.01) == "+0.0%"   # rounds to zero: no '-0.0%'
    assert fmt_signed_share(0.06) == "+6%"
    assert fmt_signed_share(-0.001) == "+0%"
    assert fmt_hours(16) == "16 h"             # 10 h to 48 h: whole hours
    assert fmt_hours(9.52) == "9.5 h"          # under 10 h: one decimal
    assert fmt_hours(76.8) == "3.2 d"          # 76.8 / 24 = 3.2 days
    assert fmt_hours(35 / 60) == "35 min"
    assert fmt_hours(-3) == "-3.0 h"           # a scenario that slows cases 'saves' -3 h
    assert fmt_hours(43031.1) == "1,793 d"     # 43031.1 / 24 = 1792.96: whole days past 100 d
    assert fmt_hours(None) == "n/a"
    with pytest.raises(TypeError):
        fmt_int("6859")  # a text where a figure belongs is a template bug


def test_paths_escape_dots_and_tildes_in_names() -> None:
    data = {"a": {"x.y~z": [10, {"b": 2.5}]}}
    key = key_path("a", "x.y~z", 1, "b")
    assert key == "a.x~1y~0z.1.b"
    assert lookup(data, key) == 2.5
    with pytest.raises(KeyError):
        lookup(data, "a.x.y")


# --- the HTML page --------------------------------------------------------------------------------


def test_html_parses_with_every_section_and_working_contents(summary: dict[str, Any]) -> None:
    p = page(summary)
    assert p.errors == []
    assert len(p.ids) == len(set(p.ids)), "duplicate ids"
    assert p.sections == [sid for sid, _ in SECTIONS]
    assert p.hrefs[: len(SECTIONS)] == [f"#{sid}" for sid, _ in SECTIONS]
    assert all(h.startswith("#") and h[1:] in p.ids for h in p.hrefs)
    css = "".join(p.styles)
    assert "@media print" in css and "break-before: page" in css
    assert "system-ui" in css


def test_html_fetches_nothing(summary: dict[str, Any]) -> None:
    text = render_html(summary, maps=MAP_SVG)
    p = Page(text)
    assert p.scripts == 0 and "<script" not in text.lower()
    assert [u for u in p.urls if not u.startswith("a href=#")] == []
    assert not re.search(r"url\s*\(|@import", "".join(p.styles), re.IGNORECASE)
    # The namespace URLs are the only ones in any attribute.
    found = set(re.findall(r'(\S+)="(https?:[^"]*)"', text))
    assert found <= ALLOWED_NAMESPACES


def test_every_figure_is_the_summary_value_formatted(summary: dict[str, Any]) -> None:
    p = page(summary)
    assert len(p.spans) > 300
    for key, fmt, parts in p.spans:
        assert "".join(parts) == FORMATS[fmt](lookup(summary, key)), key
    assert p.loose_digits == []


def test_pinned_figures_support() -> None:
    shown = {key: "".join(parts) for key, _, parts in page(load("support")).spans}
    # Worked out from summary_support.json by hand.
    assert shown["headline.cases"] == "6,859"
    assert shown["headline.cycle_mean_h"] == "27 h"          # 27.11 h
    assert shown["headline.cycle_median_h"] == "9.5 h"       # 9.52 h
    assert shown["headline.cycle_p90_h"] == "3.7 d"          # 88.9 h / 24 = 3.70 d
    assert shown["headline.throughput_per_week"] == "261.5"  # 261.51
    assert shown["headline.rework_pct"] == "8.1%"            # 8.05
    assert shown["bottlenecks.bottlenecks.0.impact_hours"] == "1,793 d"
    assert shown["bottlenecks.bottlenecks.0.share_pct"] == "23.2%"
    assert shown["headline.best_scenario.change_pct"] == "-22.2%"
    assert shown["headline.best_scenario.saved_hours_per_case"] == "6.4 h"  # 6.38 h
    assert shown["simulation.validation.cycle_time_hours.median.relative_error"] == "+41%"
    assert shown["simulation.validation.waiting_hours.Apply fix (tier 2).observed"] == "35 min"
    assert shown["simulation.experiment.scenarios.1.utilisation.Approve fix.mean"] == "44%"


def test_scenarios_are_listed_largest_cut_first() -> None:
    p = page(load("support"))
    rows = [k for k, _, _ in p.spans
            if re.fullmatch(r"simulation\.experiment\.scenarios\.\d+\.change_pct\.mean", k)]
    # change_pct.mean per scenario index in the fixture: 7 (Skip 'Approve fix') -22.2,
    # 2 and 6 -17.5 (ties keep file order), 8 -13.0, ... 3 (10% more tickets) +35.2 last.
    order = [int(k.split(".")[3]) for k in rows]
    assert order[:4] == [7, 2, 6, 8]
    assert order[-1] == 3


def test_support_sections_show_scenarios_and_the_funnel_note() -> None:
    p = page(load("support"))
    funnel = "".join(p.section_text["funnel"])
    assert "No funnel: the end activities do not read as won and lost outcomes" in funnel
    scenarios = "".join(p.section_text["scenarios"])
    assert "Skip 'Approve fix'" in scenarios
    summary_text = "".join(p.section_text["summary"])
    assert "Skip 'Approve fix' cuts the mean cycle time from 29 h to 22 h" in summary_text


def test_crm_sections_show_the_funnel_and_the_scenario_note() -> None:
    p = page(load("crm"))
    keys = {k for k, _, _ in p.spans}
    assert {f"funnel.stages.{i}.reached" for i in range(5)} <= keys
    assert "Negotiation" in "".join(p.section_text["funnel"])
    scenarios = "".join(p.section_text["scenarios"])
    assert "No scenario was simulated: none was given and the bottlenecks suggested none." in scenarios
    assert "reproduces mean cycle time" in "".join(p.section_text["validation"])


def test_charts_follow_the_parts_the_summary_has() -> None:
    assert set(charts(load("support"))) == {
        "trend_volume", "trend_cycle", "bottleneck_impact", "bottleneck_causes", "variants",
        "validation_cycle", "validation_waits", "scenarios"}
    # No start times: no causes; a funnel; a validation but no experiment.
    assert set(charts(load("crm"))) == {
        "trend_volume", "trend_cycle", "bottleneck_impact", "variants", "funnel",
        "validation_cycle", "validation_waits"}
    html = render_html(load("crm"), maps=MAP_SVG)
    assert html.count('class="pm-chart"') == 7


def test_absent_simulation_shows_its_reason() -> None:
    s = load("crm")
    s["simulation"] = None
    s["notes"] = ["No simulation: the model could not be calibrated (too few cases)."]
    p = page(s)
    for section in ("validation", "scenarios"):
        assert "No simulation: the model could not be calibrated" in "".join(p.section_text[section])
    assert p.errors == []


def test_a_figure_missing_from_the_summary_fails_loudly() -> None:
    s = load("crm")
    del s["headline"]["cycle_mean_h"]
    with pytest.raises(KeyError):
        render_html(s, maps=MAP_SVG)


# --- Markdown --------------------------------------------------------------------------------------


def recorded_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Patch the one lookup both renderers use; return the list it fills with keys."""
    seen: list[str] = []
    real = report_html.lookup

    def spy(summary: Any, key: str) -> Any:
        seen.append(key)
        return real(summary, key)

    monkeypatch.setattr(report_html, "lookup", spy)
    return seen


def test_markdown_shows_the_same_figures_in_the_same_order(
        summary: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    seen = recorded_lookups(monkeypatch)
    p = Page(render_html(summary, maps=MAP_SVG, charts={}))
    html_keys = list(seen)
    seen.clear()
    markdown(summary)
    assert seen == html_keys
    assert [key for key, _, _ in p.spans] == html_keys


def test_markdown_sections_and_headline_rows(summary: dict[str, Any]) -> None:
    md = markdown(summary)
    headings = re.findall(r"^## (.+)$", md, re.MULTILINE)
    assert headings == ["Contents"] + [title for _, title in SECTIONS]
    for _, title in SECTIONS:
        assert f"](#{anchor(title)})" in md
    h = summary["headline"]
    rows = {"Cases": fmt_int(h["cases"]), "Mean cycle time": fmt_hours(h["cycle_mean_h"]),
            "Median cycle time": fmt_hours(h["cycle_median_h"]),
            "p90 cycle time": fmt_hours(h["cycle_p90_h"]),
            "Completed per week": fmt_num(h["throughput_per_week"]),
            "Cases with rework": fmt_pct(h["rework_pct"])}
    for label, value in rows.items():
        assert f"\n| {label} | {value} |\n" in md
    assert "![Process map: how often](maps/frequency.svg)" in md


def test_markdown_pinned_headline_crm() -> None:
    md = markdown(load("crm"))
    # 403.08 h / 24 = 16.8 d; 174.1 h / 24 = 7.25 -> 7.3 d; 126.58 per week
    assert "| Mean cycle time | 16.8 d |" in md
    assert "| Median cycle time | 7.3 d |" in md
    assert "| Completed per week | 126.6 |" in md
    assert "| Lead | 6,951 | n/a | 3,024 | 44.0% | 72 | 0 min |" in md


def test_md_escape_neutralises_markdown_and_html() -> None:
    assert md_escape("a|b<c>&`*_[]\\#~\nz") == r"a\|b&lt;c&gt;&amp;\`\*\_\[\]\\\#\~ z"
    assert md_escape(None) == ""


def test_markdown_refuses_map_links_out_of_the_report() -> None:
    for path in ("https://example.com/m.svg", "/etc/m.svg", "//host/m.svg", "javascript:x"):
        with pytest.raises(ValueError):
            render_markdown(load("crm"), maps={"frequency": path})


# --- untrusted names -------------------------------------------------------------------------------


def inject(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with EVIL in every kind of log text it carries."""
    s = copy.deepcopy(summary)
    s["activities"][0]["activity"] = EVIL
    s["edges"][0]["source"] = EVIL
    s["variants"]["top"][0]["activities"][1] = EVIL
    b = s["bottlenecks"]["bottlenecks"][0]
    b["activity"] = EVIL
    b["explanation"] = f"Cases wait before '{EVIL}'."
    s["headline"]["top_bottlenecks"][0] = b["explanation"]
    s["quality"]["issues"][0]["examples"][0]["value"] = EVIL
    s["notes"].append(EVIL)
    s["appendix"]["command"] = f"processmine analyze '{EVIL}'"
    v = s["simulation"]["validation"]
    waits = v["waiting_hours"]
    first = next(iter(waits))
    v["waiting_hours"] = {EVIL if k == first else k: w for k, w in waits.items()}
    v["notes"].append(EVIL)
    model = s["simulation"]["model"]
    model["activities"][0]["name"] = EVIL
    if model["pools"]:
        model["pools"][0]["name"] = EVIL
    if s["funnel"] is not None:
        s["funnel"]["stages"][1]["stage"] = EVIL
        s["funnel"]["by"] = EVIL
        seg = {k: s["funnel"][k] for k in ("cases", "won_cases", "lost_cases", "open_cases",
                                            "win_rate_pct", "won_conversion_pct")}
        s["funnel"]["segments"] = {EVIL: {**seg, "stages": s["funnel"]["stages"]},
                                   "Inbound": {**seg, "stages": s["funnel"]["stages"][:3]}}
    if s["simulation"]["experiment"] is not None:
        e = s["simulation"]["experiment"]
        e["scenarios"][0]["name"] = EVIL
        e["scenarios"][0]["changes"] = [EVIL]
        for run in [e["baseline"], *e["scenarios"]]:
            run["utilisation"] = {EVIL if i == 0 else k: u
                                  for i, (k, u) in enumerate(run["utilisation"].items())}
    return s


@pytest.fixture(scope="module", params=["support", "crm"])
def injected(request: pytest.FixtureRequest) -> dict[str, Any]:
    return inject(load(request.param))


def test_html_escapes_log_text(injected: dict[str, Any]) -> None:
    text = render_html(injected, maps=MAP_SVG)
    p = Page(text)
    assert p.errors == []
    assert p.scripts == 0
    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    # The name reads back whole as text (quotes, braces, backslash, newline included) ...
    assert any(EVIL in chunk for chunk in p.texts)
    # ... and figures filed under it are still found by their escaped paths.
    for key, fmt, parts in p.spans:
        assert "".join(parts) == FORMATS[fmt](lookup(injected, key)), key
    assert any("waiting_hours.x<script>" in key and "a~1b~0c" in key for key, _, _ in p.spans)
    assert p.loose_digits == []
    assert "{{ t }}" in "".join(p.texts)  # Jinja syntax in data is not evaluated


def md_tables(md: str) -> Iterator[list[str]]:
    block: list[str] = []
    for line in md.splitlines():
        if line.startswith("|"):
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def unescaped_pipes(line: str) -> int:
    """Pipes not escaped by a backslash (an escaped backslash before a pipe does not count)."""
    return len(re.findall(r"(?<!\\)(?:\\\\)*\|", line))


def test_markdown_escapes_log_text(injected: dict[str, Any]) -> None:
    md = markdown(injected)
    assert "<script" not in md.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert not re.search(r"^next line", md, re.MULTILINE)  # newlines in names became spaces
    assert not re.search(r"(?<!\\)`", md)                   # no code span can open
    assert r"\*a\*" in md and r"\_u\_" in md and r"\[l\](x)" in md
    tables = list(md_tables(md))
    assert len(tables) > 10
    for table in tables:
        width = unescaped_pipes(table[0])
        assert all(unescaped_pipes(row) == width for row in table), table[0]
    assert r"\| pipe" in md
