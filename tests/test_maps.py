"""Process maps: figures on hand-built logs, abstraction, BPMN, scenario colours, quoting of
hostile names, rendering and the `map` command.

The hand log (every figure worked out below):

c1: A 08:00-08:30, B 09:00-11:00, C 11:00-11:12
c2: A 08:00-09:00, B 11:00-12:00, B 13:00-15:00, C 18:00-18:18
c3: A 09:00-09:10, B 09:40-10:40                      (ends with B)

events: B 4, A 3, C 2 (so n0 = B, n1 = A, n2 = C: nodes in order of frequency)
paths:  A->B 3 (c1, c2, c3), B->C 2 (c1, c2), B->B 1 (c2)
Start -> A 3; C -> End 2, B -> End 1; 3 cases
waits:  A->B 0.5 h (c1 08:30-09:00), 2 h (c2 09:00-11:00), 0.5 h (c3 09:10-09:40):
        median 30 min, total 3 h
        B->B 1 h (c2 12:00-13:00): median 1.0 h, total 1 h
        B->C 0 h (c1 11:00-11:00), 3 h (c2 15:00-18:00): median 1.5 h, total 3 h
processing medians: A 0.5, 1, 1/6 h -> 30 min; B 2, 1, 2, 1 h -> 1.5 h; C 0.2, 0.3 h -> 15 min
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import ibis
import pandas as pd
import pytest
from typer.testing import CliRunner

from processmine import read_log
from processmine.cli import app
from processmine.errors import ConfigError, ProcessMineError
from processmine.mining.bottlenecks import Bottleneck
from processmine.mining.events import enrich
from processmine.mining.model import discover_model
from processmine.mining.stats import case_table, variant_stats
from reports.maps import (
    FREQUENCY_FILL,
    LESS,
    MORE,
    PROCESSING_FILL,
    SAME,
    WAITING_LINE,
    Abstraction,
    abstract,
    bpmn_map,
    frequency_map,
    map_data,
    performance_map,
    render,
    scenario_map,
    svg_inline,
)
from tests.conftest import SAMPLES

HAND = """case,activity,start,end,resource
c1,A,2024-01-01 08:00,2024-01-01 08:30,ann
c1,B,2024-01-01 09:00,2024-01-01 11:00,bob
c1,C,2024-01-01 11:00,2024-01-01 11:12,ann
c2,A,2024-01-01 08:00,2024-01-01 09:00,ann
c2,B,2024-01-01 11:00,2024-01-01 12:00,ann
c2,B,2024-01-01 13:00,2024-01-01 15:00,bob
c2,C,2024-01-01 18:00,2024-01-01 18:18,cy
c3,A,2024-01-01 09:00,2024-01-01 09:10,bob
c3,B,2024-01-01 09:40,2024-01-01 10:40,bob
"""
SVG = "{http://www.w3.org/2000/svg}"
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^ \]]+)')


def _attrs(text: str) -> dict[str, str]:
    return {k: v[1:-1] if v.startswith('"') else v for k, v in _ATTR.findall(text)}


def _nodes(source: str) -> dict[str, dict[str, str]]:
    """id -> attributes of every node statement of a DOT source."""
    found = re.findall(r"^\s+(\w+) \[(.*)\]$", source, re.M)
    return {name: _attrs(rest) for name, rest in found if name not in ("graph", "node", "edge")}


def _edges(source: str) -> dict[tuple[str, str], dict[str, str]]:
    found = re.findall(r"^\s+(\w+) -> (\w+) \[(.*)\]$", source, re.M)
    return {(a, b): _attrs(rest) for a, b, rest in found}


def _by_name(source: str) -> dict[str, str]:
    """First label line -> node id."""
    return {attrs["label"].split("\\n")[0]: name for name, attrs in _nodes(source).items()}


def _svg_groups(svg: bytes, kind: str) -> dict[str, list[str]]:
    """<title> (our ids) -> the text lines of each node or edge group of a Graphviz SVG."""
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == kind:
            title = g.find(f"{SVG}title")
            assert title is not None and title.text is not None
            out[title.text] = [t.text or "" for t in g.iter(f"{SVG}text")]
    return out


@pytest.fixture(scope="module")
def hand(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("maps") / "hand.csv"
    path.write_text(HAND)
    return enrich(read_log(path))


def _bottleneck(rank: int, kind: str, activity: str | None = None, source: str | None = None,
                target: str | None = None) -> Bottleneck:
    return Bottleneck(rank, kind, activity, source, target, 1.0, 1.0, 1.0, 1.0, 2, 2, None, "")


# --- frequency ---------------------------------------------------------------------------


def test_frequency_map_counts(hand) -> None:  # type: ignore[no-untyped-def]
    graph = frequency_map(map_data(hand))
    src = graph.source
    nodes, edges = _nodes(src), _edges(src)
    assert {k: v["label"] for k, v in nodes.items()} == {
        "n0": "B\\n4", "n1": "A\\n3", "n2": "C\\n2", "start": "Start\\n3", "end": "End\\n3"}
    # Shades: 5 steps of 20% of the largest (4): B 4/4 -> 4, A 3/4 -> 3, C 2/4 -> 2.
    assert nodes["n0"]["fillcolor"] == FREQUENCY_FILL[4] and nodes["n0"]["fontcolor"] == "white"
    assert nodes["n1"]["fillcolor"] == FREQUENCY_FILL[3]
    assert nodes["n2"]["fillcolor"] == FREQUENCY_FILL[2]
    labels = {k: v["label"] for k, v in edges.items()}
    assert labels == {("n1", "n0"): "3", ("n0", "n2"): "2", ("n0", "n0"): "1",
                      ("start", "n1"): "3", ("n2", "end"): "2", ("n0", "end"): "1"}
    # Widths 1 + 5 * count / 3 (the largest arc): 3 -> 6.0, 2 -> 4.3, 1 -> 2.7.
    assert edges[("n1", "n0")]["penwidth"] == "6.0" and edges[("n0", "n2")]["penwidth"] == "4.3"
    assert edges[("n0", "n0")]["penwidth"] == "2.7" and edges[("n0", "end")]["style"] == "dashed"
    assert "rankdir=LR" in src
    svg = graph.pipe(format="svg")
    assert _svg_groups(svg, "node") == {"n0": ["B", "4"], "n1": ["A", "3"], "n2": ["C", "2"],
                                        "start": ["Start", "3"], "end": ["End", "3"]}
    assert _svg_groups(svg, "edge") == {"n1->n0": ["3"], "n0->n2": ["2"], "n0->n0": ["1"],
                                        "start->n1": ["3"], "n2->end": ["2"], "n0->end": ["1"]}


# --- performance -------------------------------------------------------------------------


def test_performance_map_waits_processing_and_bottlenecks(hand) -> None:  # type: ignore[no-untyped-def]
    ranked = (_bottleneck(1, "wait", activity="B"), _bottleneck(2, "edge", source="B", target="C"),
              _bottleneck(3, "handoff", source="front", target="back"),
              _bottleneck(4, "processing", activity="B"))
    src = performance_map(map_data(hand, bottlenecks=ranked), title="Hand").source
    nodes, edges = _nodes(src), _edges(src)
    assert nodes["n0"]["label"] == "B\\nmedian 1.5 h\\n#1 waiting before, #4 processing"
    assert nodes["n1"]["label"] == "A\\nmedian 30 min"
    assert nodes["n2"]["label"] == "C\\nmedian 15 min"
    assert nodes["n0"]["penwidth"] == "2.5" and "penwidth" not in nodes["n1"]
    # Processing shades, steps of 0.3 h (20% of B's 1.5): A 0.5 -> 1, B -> 4, C 0.25 -> 0.
    assert [nodes[n]["fillcolor"] for n in ("n0", "n1", "n2")] == [
        PROCESSING_FILL[4], PROCESSING_FILL[1], PROCESSING_FILL[0]]
    assert edges[("n1", "n0")]["label"] == "30 min"
    assert edges[("n0", "n0")]["label"] == "1.0 h"
    assert edges[("n0", "n2")]["label"] == "#2 1.5 h"
    # Totals 3, 1, 3 h; steps of 0.6 h: 3 -> 4, 1 -> 1.
    assert edges[("n1", "n0")]["color"] == WAITING_LINE[4] == edges[("n0", "n2")]["color"]
    assert edges[("n0", "n0")]["color"] == WAITING_LINE[1]
    assert "label" not in edges[("start", "n1")]
    assert "Bottlenecks not on this map: #3 hand-off front -> back" in src
    assert "(3.0 h)" in src and "(1.5 h)" in src   # the legend's scales
    assert src.count("Hand\\l") == 1


def test_performance_map_without_start_times(tmp_path: Path) -> None:
    log = tmp_path / "ends.csv"
    log.write_text("case,activity,end\nc1,A,2024-01-01 08:00\nc1,B,2024-01-01 10:00\n")
    src = performance_map(map_data(enrich(read_log(log)))).source
    # B completes 2 h after A; with no start times that is all the "waiting" there is.
    assert _nodes(src)["n0"]["label"] == "A" and "no start times" in src
    assert _edges(src)[("n0", "n1")]["label"] == "2.0 h"


# --- abstraction -------------------------------------------------------------------------


def _chain(tmp_path: Path) -> Path:
    """20 activities: case k (1..20) runs A01..Ak, an hour each. Activity Ai occurs in cases
    i..20 (21 - i events); path Ai->A(i+1) is taken 20 - i times; every Ak ends one case."""
    rows = ["case,activity,start,end"]
    for k in range(1, 21):
        for i in range(1, k + 1):
            rows.append(f"c{k:02d},A{i:02d},2024-01-01 {i:02d}:00,2024-01-01 {i:02d}:30")
    path = tmp_path / "chain.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_abstraction_keeps_the_most_frequent(tmp_path: Path) -> None:
    events = enrich(read_log(_chain(tmp_path)))
    data = map_data(events)
    shown, note = abstract(data, Abstraction(50, 50), events=events)
    # Activities: ceil(20 * 50%) = 10, A01..A10 (20..11 events): 155 of 210 events = 73.8%.
    assert list(shown.activities.activity) == [f"A{i:02d}" for i in range(1, 11)]
    assert list(shown.activities["count"]) == list(range(20, 10, -1))
    # Recomputed without A11..A20: A10 now ends the 11 cases that reached it; A01..A09 end
    # one each. Paths: 9 edges + Start->A01 + 10 end arcs = 20; ceil(50%) = 10 most frequent:
    # Start->A01 (20), A01->A02 .. A08->A09 (19..12), then of the two 11s A09->A10 (by
    # source name); A10's only way out, A10->End (11), joins as its strongest outgoing path.
    assert note == ("Showing 10 of 20 activities (73.8% of events) and 11 of their 20 paths "
                    "(activities 50%, paths 50%)")
    edges = shown.edges.sort_values("source")
    assert list(zip(edges.source, edges.target, edges["count"], strict=True)) == [
        (f"A{i:02d}", f"A{i + 1:02d}", 20 - i) for i in range(1, 10)]
    se = shown.start_end.set_index("activity")
    assert se.starts.to_dict() == {f"A{i:02d}": 20 if i == 1 else 0 for i in range(1, 11)}
    assert se.ends.to_dict() == {f"A{i:02d}": 11 if i == 10 else 0 for i in range(1, 11)}
    src = frequency_map(shown, note=note).source
    ids = _by_name(src)
    assert "A11" not in ids and _nodes(src)[ids["A10"]]["label"] == "A10\\n11"
    assert _edges(src)[(ids["A10"], "end")]["label"] == "11"
    assert "Showing 10 of 20 activities (73.8% of events) and 11 of their 20 paths" in src
    assert shown.case_count == 20 and "End\\n20" in src


def test_abstraction_reconnects_around_hidden_activities(tmp_path: Path) -> None:
    # 3 cases A B and one A X B: hiding X (1 event; keep ceil(3 * 50%) = 2) gives A->B 4 times
    # on the recomputed log; without the events only the 3 direct ones remain.
    path = tmp_path / "x.csv"
    path.write_text("case,activity,end\n" + "".join(
        f"c{i},A,2024-01-01 08:00\nc{i},B,2024-01-01 09:00\n" for i in range(3))
        + "c9,A,2024-01-01 08:00\nc9,X,2024-01-01 08:30\nc9,B,2024-01-01 09:00\n")
    events = enrich(read_log(path))
    data = map_data(events)
    exact, note = abstract(data, Abstraction(50), events=events)
    assert exact.edges[["source", "target", "count"]].values.tolist() == [["A", "B", 4]]
    assert note is not None and note.startswith("Showing 2 of 3 activities (88.9% of events)")
    rough, rough_note = abstract(data, Abstraction(50))
    assert rough.edges[["source", "target", "count"]].values.tolist() == [["A", "B", 3]]
    assert rough_note is not None and rough_note.endswith("paths through hidden activities are left out")


def test_paths_stay_connected(tmp_path: Path) -> None:
    # c1-c3: A;  c4: A B C B C B C;  c5: A C.
    # Arcs: Start->A 5, A->End 3, B->C 3, C->B 2, C->End 2, A->B 1, A->C 1 (7 paths).
    # At 10%: the top ceil(0.7) = 1 (Start->A); strongest in/out: A->End (A out), C->B (B in,
    # and C out: C->B ties C->End at 2, B sorts before End), B->C (B out, C in). B and C are
    # then unreachable from Start: the strongest bridge is A->B (ties A->C, B before C); they
    # cannot reach End: C->End. A->C alone is left out.
    path = tmp_path / "loop.csv"
    cases = {"c1": "A", "c2": "A", "c3": "A", "c4": "ABCBCBC", "c5": "AC"}
    rows = ["case,activity,end"] + [f"{c},{a},2024-01-01 {8 + i:02d}:00"
                                    for c, acts in cases.items() for i, a in enumerate(acts)]
    path.write_text("\n".join(rows) + "\n")
    events = enrich(read_log(path))
    shown, note = abstract(map_data(events), Abstraction(paths_pct=10), events=events)
    assert note == ("Showing 3 of 3 activities (100.0% of events) and 6 of their 7 paths "
                    "(activities 100%, paths 10%)")
    assert sorted(zip(shown.edges.source, shown.edges.target, strict=True)) == [
        ("A", "B"), ("B", "C"), ("C", "B")]
    se = shown.start_end.set_index("activity")
    assert se.starts.to_dict() == {"A": 5, "B": 0, "C": 0}
    assert se.ends.to_dict() == {"A": 3, "B": 0, "C": 2}
    # Nothing hidden at 100%: the same data, no note.
    data = map_data(events)
    same, none = abstract(data, Abstraction(), events=events)
    assert same is data and none is None


@pytest.mark.parametrize("pct", [0, -5, 100.5, float("nan")])
def test_abstraction_rejects_bad_percentages(pct: float) -> None:
    with pytest.raises(ConfigError, match="expected a number above 0 and at most 100"):
        Abstraction(activities_pct=pct)
    with pytest.raises(ConfigError, match="--paths"):
        Abstraction(paths_pct=pct)


# --- BPMN ----------------------------------------------------------------------------------


def test_bpmn_map_of_the_support_model() -> None:
    cases = case_table(enrich(read_log(SAMPLES / "support_tickets.csv.gz")))
    variants = variant_stats(cases)
    # IM without a noise threshold keeps every activity of the log in the model.
    model = discover_model(variants, noise_threshold=0, conformance=False)
    src = bpmn_map(model).source
    activities = set(pd.read_csv(SAMPLES / "support_tickets.csv.gz").activity)
    assert len(activities) == 10
    tasks = {a["label"] for a in _nodes(src).values() if "shape" not in a}
    assert tasks == activities
    nodes = _nodes(src)
    gateways = [a for a in nodes.values() if a.get("shape") == "diamond"]
    assert gateways and {a["label"] for a in gateways} <= {"x", "+"}
    assert len(nodes) == len(model.bpmn.get_nodes())
    assert len(re.findall(r"^\s+b\d+ -> b\d+$", src, re.M)) == len(model.bpmn.get_flows())
    # pm4py names nodes with random ids and keeps them in sets; the drawing does not change.
    again = discover_model(variants, noise_threshold=0, conformance=False)
    assert bpmn_map(again).source == src


# --- scenario ------------------------------------------------------------------------------


def _frame(rows: list[tuple[str, str, int, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "target", "count", "wait_median_h",
                                       "wait_total_h"])


def test_scenario_map_colours_the_change(tmp_path: Path) -> None:
    base = _frame([("A", "B", 10, 1.0, 10.0), ("B", "C", 10, 2.0, 20.0), ("B", "D", 5, 1.0, 5.0),
                   ("C", "E", 4, 1.0, 4.0), ("D", "E", 5, 1.0, 5.0)])
    scen = _frame([("A", "B", 10, 0.5, 4.0),      # total 10 -> 4 h: -60%, strong decrease
                   ("B", "C", 10, 2.5, 25.0),     # 20 -> 25 h: +25%, medium increase
                   ("C", "E", 4, 1.1, 4.4),       # 4 -> 4.4 h: +10%, slight increase
                   ("D", "E", 5, 1.0, 5.1),       # 5 -> 5.1 h: +2%, no change
                   ("B", "E", 3, 1.0, 3.0)])      # new; B->D no longer taken
    src = scenario_map(base, scen, title="Automate C").source
    ids = _by_name(src)
    edges = {(k[0], k[1]): v for k, v in _edges(src).items()}

    def edge(a: str, b: str) -> dict[str, str]:
        return edges[(ids[a], ids[b])]

    assert edge("A", "B")["color"] == LESS[0]
    assert edge("A", "B")["label"] == "10 -> 10\\nwait 1.0 h -> 30 min\\nwaiting -60%"
    assert edge("B", "C")["color"] == MORE[1] and edge("B", "C")["label"].endswith("+25%")
    assert edge("C", "E")["color"] == MORE[0] and edge("C", "E")["label"].endswith("+10%")
    assert edge("D", "E")["color"] == SAME
    assert edge("B", "D")["style"] == "dashed" and edge("B", "D")["label"].endswith("no longer taken")
    assert edge("B", "E")["style"] == "bold" and edge("B", "E")["color"] == MORE[2]

    def rgb(colour: str) -> tuple[int, int, int]:
        return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)

    for colour in MORE:     # more waiting: red-ish
        assert rgb(colour)[0] > rgb(colour)[2]
    for colour in LESS:     # less waiting: blue-ish
        assert rgb(colour)[2] > rgb(colour)[0]
    assert "Automate C" in src
    assert render(scenario_map(base, scen), tmp_path / "s.svg").stat().st_size > 0


# --- quoting -------------------------------------------------------------------------------

HOSTILE = ["<script>alert(1)</script>", 'say "hi"', "{braces} | pipe; [x]", "back\\slash\\",
           "two\nlines", "R&amp;D", "<b>bold</b>", '\\"', "tab\there\x01"]


def test_hostile_names_render_as_text() -> None:
    rows = []
    for c in range(2):
        for i, name in enumerate(HOSTILE):
            rows.append({"case": f"c{c}", "activity": name,
                         "start": pd.Timestamp(2024, 1, 1, 8 + i), "end": pd.Timestamp(2024, 1, 1, 8 + i, 30)})
    events = enrich(read_log(ibis.memtable(pd.DataFrame(rows))))
    data = map_data(events, bottlenecks=(_bottleneck(1, "edge", source=HOSTILE[0], target="gone"),))
    for graph in (frequency_map(data, title="<script>x</script>", note="\\N </text>"),
                  performance_map(data)):
        src = graph.source
        assert "label=<" not in src and "<<" not in src   # never an HTML-like label
        svg = graph.pipe(format="svg")                       # dot parses the source
        assert b"<script" not in svg and b"&lt;script&gt;alert(1)&lt;/script&gt;" in svg
        root = ET.fromstring(svg)                            # well-formed XML
        assert not [e for e in root.iter() if e.tag.split("}")[-1] in ("script", "b", "a")]
        texts = [t.text for t in root.iter(f"{SVG}text")]
        for expected in ("<script>alert(1)</script>", 'say "hi"', "{braces} | pipe; [x]",
                         "back\\slash\\", "two", "lines", "R&amp;D", "<b>bold</b>", '\\"',
                         "tab here\ufffd"):
            assert expected in texts, (expected, texts)
    assert "<script>x</script>" in [t.text for t in ET.fromstring(
        frequency_map(data, title="<script>x</script>").pipe(format="svg")).iter(f"{SVG}text")]
    inline = svg_inline(performance_map(data))
    assert inline.startswith("<svg") and "<script" not in inline
    assert "http" not in inline and "<!" not in inline and "<title>" not in inline
    ET.fromstring(inline)


# --- rendering and the command ---------------------------------------------------------------


def test_render_formats(hand, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    graph = frequency_map(map_data(hand))
    assert render(graph, tmp_path / "m.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert render(graph, tmp_path / "m.pdf").read_bytes().startswith(b"%PDF-")
    svg = render(graph, tmp_path / "sub" / "m.SVG").read_bytes()
    assert svg.startswith(b"<?xml") and ET.fromstring(svg).tag == f"{SVG}svg"
    assert render(graph, tmp_path / "m.dot").read_text() == graph.source
    with pytest.raises(ProcessMineError, match=r"\.svg, \.png, \.pdf or \.dot; found '\.jpg'"):
        render(graph, tmp_path / "m.jpg")


def test_render_without_dot(hand, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    graph = frequency_map(map_data(hand))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ProcessMineError, match="install Graphviz"):
        render(graph, tmp_path / "m.svg")
    assert render(graph, tmp_path / "m.dot").exists()   # the source needs no dot


runner = CliRunner()


def test_map_command(tmp_path: Path) -> None:
    log = tmp_path / "hand.csv"
    log.write_text(HAND)
    out = tmp_path / "x.svg"
    result = runner.invoke(app, ["map", str(log), "--kind", "performance", "--out", str(out),
                                 "--no-cache"])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output.replace("\n", "")
    svg = out.read_bytes()
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert "Performance map of hand.csv" in texts
    # rank_bottlenecks on the hand log: B's processing 2+1+2+1 = 6 h (#1), the waiting before
    # B 0.5+2+0.5+1 = 4 h (#2), the path A->B 3 h (#3, before the 3 h wait for C: edge < wait).
    assert {"A", "B", "C", "#3 30 min", "median 1.5 h", "#1 processing, #2 waiting before",
            "1.5 h"} <= set(texts)
    out2 = tmp_path / "f.pdf"
    result = runner.invoke(app, ["map", str(log), "--activities", "60", "--out", str(out2),
                                 "--no-cache", "--where", "resource=bob"])
    assert result.exit_code == 0, result.output
    # ceil(3 * 60%) = 2 of 3 activities: B 4 and A 3 of the 9 events.
    assert "Showing 2 of 3 activities (77.8% of events)" in result.output
    assert out2.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(("args", "message"), [
    (["--kind", "bogus"], "bogus"),
    (["--out", "x.jpg"], "found '.jpg'"),
    (["--activities", "0"], "--activities 0"),
])
def test_map_command_errors(tmp_path: Path, args: list[str], message: str) -> None:
    log = tmp_path / "hand.csv"
    log.write_text(HAND)
    argv = ["map", str(log), "--no-cache", "--out", str(tmp_path / "x.svg"), *args]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.svg").exists()
