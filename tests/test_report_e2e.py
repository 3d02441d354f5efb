"""`processmine analyze` end to end: the folder it writes, hostile names, pseudonyms, a browser.

The renderer's own tests (test_report_render.py) check templates on fixed summaries; these run
the real pipeline on logs and look only at what lands on disk.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from processmine.cli import app
from reports.html import FORMATS, lookup
from tests.conftest import SAMPLES

runner = CliRunner()
NASTY = ['<script>alert(1)</script>', 'say "hi" {x} \\ back', "two\nlines"]
SECTIONS = ("summary", "quality", "maps", "variants", "bottlenecks", "funnel", "kpis",
            "validation", "scenarios", "recommendations", "appendix")


def _nasty_log(path: Path) -> Path:
    """Six cases over two weeks whose activity and resource names are hostile strings."""
    a, b, c = NASTY
    rows = []
    for i in range(6):
        day = 1 + 2 * i
        rows.append([f"c{i}", a, f"2024-01-{day:02d} 09:00", f"2024-01-{day:02d} 09:30", c])
        rows.append([f"c{i}", b, f"2024-01-{day:02d} 11:00", f"2024-01-{day:02d} 12:00", a])
        rows.append([f"c{i}", c, f"2024-01-{day:02d} 13:00", f"2024-01-{day:02d} 13:10", b])
    pd.DataFrame(rows, columns=["case", "activity", "start", "end", "resource"]).to_csv(path, index=False)
    return path


class _Spans(HTMLParser):
    """Collects <span class="num" data-key data-fmt> texts, script elements and URL attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[tuple[str, str, str]] = []
        self.scripts = 0
        self.urls: list[str] = []
        self._open: list[tuple[str, str]] = []
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href", "xlink:href", "style"):
            value = a.get(name) or ""
            if re.search(r"(https?:)?//|url\(", value):
                self.urls.append(f"{tag} {name}={value}")
        if tag == "span" and "num" in (a.get("class") or "").split():
            self._open.append((a.get("data-key") or "", a.get("data-fmt") or ""))
            self._text = ""

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._open:
            key, fmt = self._open.pop()
            self.spans.append((key, fmt, self._text))


def _check_report(out: Path) -> tuple[str, dict[str, object]]:
    html = (out / "report.html").read_text(encoding="utf-8")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    parser = _Spans()
    parser.feed(html)
    assert parser.scripts == 0 and parser.urls == []
    assert "url(" not in re.sub(r"<svg.*?</svg>", "", html, flags=re.S).split("<style>")[-1].split("</style>")[0]
    for section in SECTIONS:
        assert f'id="{section}"' in html, section
    assert len(parser.spans) > 50
    for key, fmt, text in parser.spans:  # every figure shown is the one in summary.json
        assert FORMATS[fmt](lookup(summary, key)) == text, key
    markdown = (out / "report.md").read_text(encoding="utf-8")
    for key, _fmt, text in parser.spans[:40]:
        assert text in markdown, key
    return html, summary


def test_hostile_names_are_escaped_everywhere(tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = _nasty_log(tmp_path / "nasty.csv")
    out = tmp_path / "report"
    r = runner.invoke(app, ["analyze", str(log), "--out", str(out), "--no-simulation", "--no-cache"])
    assert r.exit_code == 0, r.output
    html, summary = _check_report(out)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "<script" not in markdown.lower()
    for name in ("frequency", "performance", "bpmn"):
        svg = (out / "maps" / f"{name}.svg").read_text(encoding="utf-8")
        assert "<script" not in svg.lower(), name  # valid DOT: dot rendered it, text escaped
        assert "&lt;script&gt;" in svg or name == "bpmn" and "&lt;script" in svg
    assert {a["activity"] for a in summary["activities"]} == set(NASTY)  # type: ignore[index]


@pytest.fixture(scope="module")
def pseudonymized(tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("pseudo") / "report"
    r = runner.invoke(app, ["analyze", str(SAMPLES / "support_tickets.csv.gz"), "--out", str(out),
                            "--pseudonymize", "resources", "--replications", "2", "--workers", "2",
                            "--no-cache"])
    assert r.exit_code == 0, r.output
    return out


def test_pseudonymized_report_has_no_resource_name(pseudonymized) -> None:  # type: ignore[no-untyped-def]
    raw = pd.read_csv(SAMPLES / "support_tickets.csv.gz")
    # The role accounts 'system', 'customer' and 'approver' are also ordinary English words of
    # the report's own sentences ("waiting for the customer"), so the check is on the people:
    # every other resource name (12 agents), none of which may appear in any file.
    names = sorted(set(raw["agent"].dropna().astype(str)) - {"system", "customer", "approver"})
    assert len(names) == 12
    files = [p for p in pseudonymized.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"report.html", "report.md", "summary.json", "frequency.svg"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        for name in names:
            assert name not in text, f"{name!r} in {path.name}"
    _, summary = _check_report(pseudonymized)
    assert "Resources" in summary["appendix"]["privacy"]  # type: ignore[index]
    assert summary["simulation"]["experiment"]["scenarios"]  # type: ignore[index]


def _png_pixels_vary(png: bytes) -> bool:
    """Whether a PNG is not one flat colour: after PNG filtering a flat image is almost all
    zero bytes, a rendered page is not."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IDAT":
            data += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(data)
    nonzero = sum(1 for byte in raw[::97] if byte)
    return nonzero / max(len(raw[::97]), 1) > 0.02


def test_headless_chromium_renders_the_report(pseudonymized, tmp_path) -> None:  # type: ignore[no-untyped-def]
    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is needed (bash run.sh test installs it)"
    shot = tmp_path / "report.png"
    proc = subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--window-size=1280,2000", f"--screenshot={shot}", "--enable-logging=stderr", "--v=0",
         (pseudonymized / "report.html").resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines()
               if "CONSOLE" in line or "Failed to load resource" in line or "net::ERR" in line]
    assert console == []
    assert _png_pixels_vary(shot.read_bytes())


def test_blank_page_is_detected(tmp_path) -> None:
    """The screenshot check can fail: a blank page is flagged."""
    browser = shutil.which("chromium")
    assert browser
    page = tmp_path / "blank.html"
    page.write_text("<!doctype html><title>x</title>")
    shot = tmp_path / "blank.png"
    subprocess.run([browser, "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--window-size=800,600", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=False)
    assert not _png_pixels_vary(shot.read_bytes())


def _analyze(monkeypatch, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    """`processmine analyze ARGS`, with sys.argv as the shell would set it (the appendix
    records the command line)."""
    monkeypatch.setattr(sys, "argv", ["processmine", "analyze", *args])
    r = runner.invoke(app, ["analyze", *args])
    assert r.exit_code == 0, r.output


def test_filters_by_a_pseudonymised_name_record_only_its_pseudonym(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A consultant filters by the name they know; the report must select the same cases as
    # the same filter without pseudonyms, and show the pseudonym, never the name.
    raw = pd.read_csv(SAMPLES / "support_tickets.csv.gz")
    agents = raw["agent"].dropna().astype(str)
    name = sorted(set(agents) - {"system", "customer", "approver"})[0]
    common = [str(SAMPLES / "support_tickets.csv.gz"), "--no-simulation", "--no-cache",
              "--where", f"resource={name}"]
    plain_out, masked_out = tmp_path / "plain", tmp_path / "masked"
    _analyze(monkeypatch, [*common, "--out", str(plain_out)])
    _analyze(monkeypatch, [*common, "--out", str(masked_out), "--pseudonymize", "resources",
                           "--pseudonym-key", "k1"])
    plain = json.loads((plain_out / "summary.json").read_text(encoding="utf-8"))
    masked = json.loads((masked_out / "summary.json").read_text(encoding="utf-8"))
    cases = raw.loc[raw["agent"] == name, "ticket_id"].nunique()
    assert plain["cases"]["cases"] == masked["cases"]["cases"] == cases
    assert name in plain["appendix"]["command"]
    for path in (p for p in masked_out.rglob("*") if p.is_file()):
        assert name not in path.read_text(encoding="utf-8"), path.name
    pseudonym = re.search(r"resource=(Resource-[0-9A-F]+)", masked["appendix"]["command"])
    assert pseudonym, masked["appendix"]["command"]
    assert f"resource = {pseudonym[1]}" in masked["appendix"]["filters"][0]

    # The pseudonym copied from that report selects the same cases with the same key.
    again = tmp_path / "again"
    _analyze(monkeypatch, [str(SAMPLES / "support_tickets.csv.gz"), "--no-simulation",
                           "--no-cache", f"--where=resource={pseudonym[1]}", "--out", str(again),
                           "--pseudonymize", "resources", "--pseudonym-key", "k1"])
    assert json.loads((again / "summary.json").read_text(encoding="utf-8"))["cases"]["cases"] == cases
