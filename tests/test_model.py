"""The discovered model: inductive miner on variant counts, its conformance, BPMN and PNML.

Tiny variant sets have their models and figures worked out by hand; on the shipped logs the
result is compared with pm4py run on the full event log, case by case.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from processmine import read_log
from processmine.errors import ConfigError, ProcessMineError
from processmine.mining.events import enrich
from processmine.mining.model import (
    DiscoveredModel,
    bpmn_xml,
    discover_model,
    model_summary,
    write_bpmn,
    write_pnml,
)
from processmine.mining.stats import case_table, variant_stats

from .conftest import REAL_LOGS, SAMPLES

# The brief's example: 16 cases, A then B and C in either order, or A then D once.
CHOICE = {("A", "B", "C"): 10, ("A", "C", "B"): 5, ("A", "D"): 1}
# Like CHOICE but every case ends with D; one case skips B and C.
SKIP = {("A", "B", "C", "D"): 10, ("A", "C", "B", "D"): 5, ("A", "D"): 1}
# Like SKIP, but the rare case does D before C and B.
LATE = {("A", "B", "C", "D"): 10, ("A", "C", "B", "D"): 5, ("A", "D", "C", "B"): 1}
# Ten cases A, B, C and one the other way round.
REVERSED = {("A", "B", "C"): 10, ("C", "B", "A"): 1}


def _frame(counts: dict[tuple[str, ...], int]) -> pd.DataFrame:
    return pd.DataFrame({"variant": list(counts), "cases": list(counts.values())})


def _size(model: DiscoveredModel) -> tuple[int, int, int]:
    s = model_summary(model)
    return s["places"], s["transitions"], s["arcs"]


def test_choice_model_fits_and_keeps_the_rare_branch_under_imf() -> None:
    # Both IM and IMf find A, then xor(B and C in parallel, D): IMf filters the DFG only when
    # no cut is found, and the xor cut {B, C} | {D} exists on the unfiltered graph, so the
    # one-case variant A, D survives the 0.2 threshold. Every variant replays: fitness 1.
    # Precision: after A the model allows B, C, D, all seen after A; after A,B only C and
    # after A,C only B: no escaping edges, precision 1.
    for threshold in (0.0, 0.2):
        model = discover_model(_frame(CHOICE), noise_threshold=threshold)
        assert str(model.tree) == "->( 'A', X( +( 'C', 'B' ), 'D' ) )"
        # source, A, p, then an AND split (tau) to 2+2 places, a join (tau), the sink: 7 places,
        # A B C D and the two taus: 6 transitions, 14 arcs.
        assert _size(model) == (7, 6, 14)
        assert model.fitness == 1.0 and model.log_fitness == 1.0
        assert model.percentage_fit_traces == 100.0 and model.precision == 1.0
        assert (model.variants_used, model.cases_used) == (3, 16)
        assert model.miner == ("IMf" if threshold else "IM")


def test_imf_drops_a_rare_skip_and_the_skipping_case_no_longer_fits() -> None:
    # After the sequence cut A | {B, C} | D, the middle sub-log has 1 empty trace (A, D) out
    # of 16: IM adds a skip (tau); IMf drops the empty trace since 1 <= 0.2 * 16.
    im = discover_model(_frame(SKIP), noise_threshold=0.0)
    assert str(im.tree) == "->( 'A', X( tau, +( 'C', 'B' ) ), 'D' )"
    assert (im.fitness, im.percentage_fit_traces) == (1.0, 100.0)

    imf = discover_model(_frame(SKIP), noise_threshold=0.2)
    assert str(imf.tree) == "->( 'A', +( 'C', 'B' ), 'D' )"
    # Net: source -A-> (pB, pC) -B/C-> (qB, qC) -D-> sink: 6 places, 4 transitions, 10 arcs.
    assert _size(imf) == (6, 4, 10)
    # Replaying A, D: 1 token produced at start, A consumes 1 and produces 2, D misses the 2
    # it needs in qB, qC, consumes them and produces 1, the end consumes the sink token:
    # produced 4, consumed 4, missing 2, remaining 2 (pB, pC): fitness 1/2(1-2/4) + 1/2(1-2/4)
    # = 0.5. The 15 other cases fit (1.0) with 6 tokens produced and consumed each.
    assert imf.fitness == pytest.approx((15 * 1.0 + 0.5) / 16)         # 0.96875
    assert imf.log_fitness == pytest.approx(1 - 2 / (15 * 6 + 4))      # 0.97872
    assert imf.percentage_fit_traces == pytest.approx(100 * 15 / 16)   # 93.75
    # Prefixes A (16 cases): model allows B, C (both seen); A,B (10): C; A,B,C (10): D;
    # A,C (5): B; A,C,B (5): D; none escapes: precision 1.
    assert imf.precision == 1.0


def test_imf_filters_a_rare_edge_when_no_cut_exists() -> None:
    # After A, the sub-log over {B, C, D} has no cut (B, D follow each other one way only,
    # while D -> C -> B ties them together), so IM falls through to +( C, B, D ). IMf instead
    # filters that sub-log's directly-follows graph: D -> C (1 case, under 0.2 x 15, D's most
    # frequent outgoing count being the 15 cases it ends) and D as a start (1 < 0.2 x 10)
    # go, and the sequence {B, C} | D appears.
    assert str(discover_model(_frame(LATE), noise_threshold=0.0).tree) \
        == "->( 'A', +( 'C', 'B', 'D' ) )"
    model = discover_model(_frame(LATE), noise_threshold=0.2)
    assert str(model.tree) == "->( 'A', +( 'C', 'B' ), 'D' )"
    # Replaying A, D, C, B: start 1 produced; A consumes 1, produces 2; D misses 2, consumes
    # 2, produces 1; C and B consume 1 and produce 1 each; the end consumes 1: produced 6,
    # consumed 6, missing 2, remaining 2 (B's and C's outputs): 1 - 2/6 = 2/3.
    assert model.fitness == pytest.approx((15 + 2 / 3) / 16)        # 0.97917
    assert model.log_fitness == pytest.approx(1 - 2 / (15 * 6 + 6))  # 0.97917
    assert model.percentage_fit_traces == pytest.approx(93.75)
    # Prefixes A,D and A,D,C do not replay, so they are left out; the others allow only what
    # the log shows after them (as in the SKIP model): precision 1.
    assert model.precision == 1.0


def test_precision_counts_escaping_edges_once_per_case() -> None:
    # Model: loop *( X(C, A), B ): do A or C, then optionally B and again A or C.
    # Empty prefix, 11 cases: A, C allowed, both start some case: 22 allowed, 0 escaping.
    # A (10 cases): B allowed (the exit is silent): 10 allowed. A,B (10): A, C allowed, only
    # C seen: 20 allowed, 10 escaping. C (1): B: 1 allowed. C,B (1): A, C allowed, A seen:
    # 2 allowed, 1 escaping. Precision 1 - 11/55 = 0.8.
    model = discover_model(_frame(REVERSED), noise_threshold=0.2)
    assert str(model.tree) == "*( X( 'C', 'A' ), 'B' )"
    assert model.precision == pytest.approx(0.8)
    assert model.fitness == 1.0


def test_conformance_is_capped_at_the_most_frequent_variants() -> None:
    # Capped at 2 variants: the one-case misfit A, D of the IMf model is not replayed,
    # so the 15 replayed cases all fit. The model is still discovered from all 16.
    model = discover_model(_frame(SKIP), noise_threshold=0.2, max_conformance_variants=2)
    assert (model.conformance_variants, model.conformance_cases) == (2, 15)
    assert (model.variants_used, model.cases_used) == (3, 16)
    assert (model.fitness, model.percentage_fit_traces, model.precision) == (1.0, 100.0, 1.0)
    assert str(model.tree) == "->( 'A', +( 'C', 'B' ), 'D' )"


def test_without_conformance_the_figures_are_none() -> None:
    model = discover_model(_frame(SKIP), conformance=False)
    assert (model.fitness, model.log_fitness, model.percentage_fit_traces, model.precision,
            model.fitness_method) == (None, None, None, None, None)
    assert (model.conformance_variants, model.conformance_cases) == (0, 0)
    assert _size(model) == (6, 4, 10)


def test_row_order_does_not_change_the_result() -> None:
    frame = _frame(SKIP)
    shuffled = frame.iloc[[2, 0, 1]].reset_index(drop=True)
    a, b = model_summary(discover_model(frame)), model_summary(discover_model(shuffled))
    assert a == b
    assert frame.equals(_frame(SKIP))  # the input is not changed


def test_bad_input_raises_our_errors() -> None:
    with pytest.raises(ConfigError, match="outside 0..1"):
        discover_model(_frame(SKIP), noise_threshold=1.5)
    with pytest.raises(ConfigError, match="at least 1"):
        discover_model(_frame(SKIP), max_conformance_variants=0)
    with pytest.raises(ProcessMineError, match="no cases"):
        discover_model(_frame({}))
    with pytest.raises(ProcessMineError, match="lacks"):
        discover_model(pd.DataFrame({"variant": [("A",)]}))


def test_summary_is_json_ready() -> None:
    summary = model_summary(discover_model(_frame(SKIP)))
    assert json.loads(json.dumps(summary)) == summary
    assert summary["activities"] == ["A", "B", "C", "D"]
    assert (summary["silent_transitions"], summary["miner"]) == (0, "IMf")
    assert summary["fitness_method"] == "token-based replay"


def test_bpmn_and_pnml_files_reimport(tmp_path: Path) -> None:
    import pm4py
    from pm4py.objects.bpmn.obj import BPMN

    model = discover_model(_frame(CHOICE))
    write_bpmn(model, tmp_path / "model.xml")  # exactly this name, no '.bpmn' appended
    write_pnml(model, tmp_path / "model.pnml")

    root = ET.parse(tmp_path / "model.xml").getroot()
    assert root.tag == "{http://www.omg.org/spec/BPMN/20100524/MODEL}definitions"
    bounds = [(float(b.get("x", 0)), float(b.get("y", 0)))
              for b in root.iter("{http://www.omg.org/spec/DD/20100524/DC}Bounds")]
    assert len(bounds) == len(model.bpmn.get_nodes()) and len(set(bounds)) == len(bounds)
    bpmn = pm4py.read_bpmn(str(tmp_path / "model.xml"))
    tasks = [n.get_name() for n in bpmn.get_nodes() if isinstance(n, BPMN.Task)]
    assert sorted(tasks) == ["A", "B", "C", "D"]
    assert (len(bpmn.get_nodes()), len(bpmn.get_flows())) == (10, 11)

    ET.parse(tmp_path / "model.pnml")
    net, im, fm = pm4py.read_pnml(str(tmp_path / "model.pnml"))
    assert (len(net.places), len(net.transitions), len(net.arcs)) == (7, 6, 14)
    assert sorted(t.label for t in net.transitions if t.label) == ["A", "B", "C", "D"]
    assert (sum(im.values()), sum(fm.values())) == (1, 1)
    # The imported net is the same model: the same figures on the tiny log.
    again = pm4py.fitness_token_based_replay(_full_log(CHOICE), net, im, fm)
    assert again["average_trace_fitness"] == 1.0


def test_bpmn_layout_leaves_the_model_and_temp_dir_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    model = discover_model(_frame(CHOICE))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    laid_out, plain = bpmn_xml(model, layout=True), bpmn_xml(model, layout=False)
    # pm4py's layouter leaves two SVG files behind per call unless they are cleaned up.
    assert list(tmp_path.iterdir()) == [] and tempfile.tempdir == str(tmp_path)
    for xml, distinct in ((laid_out, 10), (plain, 1)):
        root = ET.fromstring(xml)
        bounds = {(b.get("x"), b.get("y"))
                  for b in root.iter("{http://www.omg.org/spec/DD/20100524/DC}Bounds")}
        assert len(bounds) == distinct  # without a layout every shape sits at one point
    layout = model.bpmn.get_layout()
    assert {(layout.get(n).get_x(), layout.get(n).get_y()) for n in model.bpmn.get_nodes()} \
        == {(0, 0)}


def test_importing_the_module_leaves_pm4py_unloaded() -> None:
    code = "import sys, processmine.mining.model; print('pm4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- pm4py on the full event log --------------------------------------------------------------


def _full_log(counts: dict[tuple[str, ...], int]) -> pd.DataFrame:
    """One case per count, events a minute apart, as pm4py's columns."""
    rows = [(f"c{case}-{i}", activity, pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=k))
            for case, (variant, n) in enumerate(counts.items()) for i in range(n)
            for k, activity in enumerate(variant)]
    return pd.DataFrame(rows, columns=["case:concept:name", "concept:name", "time:timestamp"])


def _events_for_pm4py(log: Any) -> pd.DataFrame:
    """The log's events in read_log's order, with pm4py's column names; timestamps one second
    apart keep that order inside pm4py, which sorts by timestamp."""
    events = log.table.select("case_id", "activity", "end", "start", "row_id").execute()
    events = events.sort_values(["case_id", "end", "start", "row_id"], kind="stable")
    return pd.DataFrame({
        "case:concept:name": events.case_id.to_numpy(),
        "concept:name": events.activity.to_numpy(),
        "time:timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(range(len(events)), "s"),
    })


def _pm4py_figures(frame: pd.DataFrame, threshold: float) -> tuple[Any, ...]:
    import pm4py

    net, im, fm = pm4py.discover_petri_net_inductive(frame, noise_threshold=threshold)
    fit = pm4py.fitness_token_based_replay(frame, net, im, fm)
    precision = pm4py.precision_token_based_replay(frame, net, im, fm)
    return (len(net.places), len(net.transitions), len(net.arcs), fit["average_trace_fitness"],
            fit["log_fitness"], fit["percentage_of_fitting_traces"], precision)


def _our_figures(model: DiscoveredModel) -> tuple[Any, ...]:
    return (*_size(model), model.fitness, model.log_fitness, model.percentage_fit_traces,
            model.precision)


@pytest.mark.parametrize("counts", [CHOICE, SKIP, LATE, REVERSED])
@pytest.mark.parametrize("threshold", [0.0, 0.2])
def test_tiny_logs_match_pm4py(counts: dict[tuple[str, ...], int], threshold: float) -> None:
    model = discover_model(_frame(counts), noise_threshold=threshold)
    assert _our_figures(model) == pytest.approx(_pm4py_figures(_full_log(counts), threshold))


def test_support_sample_matches_pm4py() -> None:
    # Reference: pandas reads the CSV on its own; events in completion order, start time and
    # file order breaking ties (as read_log orders them).
    path = SAMPLES / "support_tickets.csv.gz"
    raw = pd.read_csv(path, parse_dates=["started_at", "completed_at"]).drop_duplicates()
    raw = raw.sort_values(["ticket_id", "completed_at", "started_at"], kind="stable")
    frame = raw.rename(columns={"ticket_id": "case:concept:name", "activity": "concept:name",
                                "completed_at": "time:timestamp"})
    # Sequential timestamps keep this order inside pm4py, which sorts by timestamp.
    frame["time:timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(
        range(len(frame)), unit="s")

    variants = variant_stats(case_table(enrich(read_log(path))))
    assert (len(variants), int(variants.cases.sum())) == (23, frame["case:concept:name"].nunique())
    model = discover_model(variants)
    assert _our_figures(model) == pytest.approx(_pm4py_figures(frame, 0.2))
    assert (model.conformance_variants, model.conformance_cases) == (23, model.cases_used)


def test_helpdesk_matches_pm4py() -> None:
    # Reference: the full event log in read_log's order (the XES reading itself is checked
    # against pm4py's reader in test_real_logs.py), one row per event, handed to pm4py.
    log = read_log(SAMPLES / "helpdesk.xes.gz")
    frame = _events_for_pm4py(log)
    variants = variant_stats(case_table(enrich(log)))
    model = discover_model(variants)
    assert model.cases_used == 4_580
    assert _our_figures(model) == pytest.approx(_pm4py_figures(frame, 0.2))


@pytest.mark.slow
def test_long_variants_match_pm4py() -> None:
    # production.xes.gz has variants of up to 172 events: the precision there reads prefix
    # markings off one replay per variant, where pm4py replays each prefix (about 40 s).
    path = REAL_LOGS / "production.xes.gz"
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    log = read_log(path)
    frame = _events_for_pm4py(log)
    model = discover_model(variant_stats(case_table(enrich(log))))
    assert _our_figures(model) == pytest.approx(_pm4py_figures(frame, 0.2))
