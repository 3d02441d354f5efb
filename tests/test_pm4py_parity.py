"""Parity with pm4py: directly-follows counts, edge waiting times, variants, start and end
activities, and case durations, each computed by pm4py's own functions.

Both sides read the SAME canonical events: the pm4py frames are built from `log.table`, so a
difference here is a difference in mining, not in reading (ingest is compared with pm4py's
XES reader in test_real_logs.py and test_xes_reader.py).

Event order inside a case. processmine orders by end, then start, then source row
(`EventLog.case_window`). pm4py 2.7 has no single order:
- `discover_dfg` and `get_dfg_graph` sort stably by (case, `start_timestamp`, `time:timestamp`):
  by start time when the frame has a `start_timestamp` column, else by complete time, with
  ties left in input order;
- `get_variants`, `get_start_activities`, `get_end_activities` and the case statistics do not
  sort at all and take the frame's row order (pm4py expects a frame from `format_dataframe`;
  the sort in `pandas_numpy_variants.apply` discards its result).
By start or by end gives different sequences exactly when one event's interval lies strictly
inside another's in the same case (it starts later and ends earlier): 94 of production's 225
cases and 5 of bpic2017's 8,941 do, and one of the hand-built log's two; no case of the
other logs does. Hence:
(a) the main tests hand pm4py our order: `discover_dfg` gets a synthetic `time:timestamp`
    that strictly increases in our order (the rank, computed here with pandas), the
    order-free functions get the frame sorted in our order, and `get_dfg_graph`, which needs
    the real timestamps for the waiting times, gets that frame with its own sort switched off;
(b) `test_pm4py_sorting_itself_agrees_where_orders_coincide` lets pm4py sort the real
    timestamps and compares on the cases without nested events, pinning how many are left out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from processmine import read_log
from processmine.mining.events import Events, enrich
from processmine.mining.stats import case_table, edge_stats, start_end_counts, variant_stats

from .conftest import REAL_LOGS, SAMPLES

CASE, ACT, TIME, START = "case:concept:name", "concept:name", "time:timestamp", "start_timestamp"
#: Durations must agree within 1e-6 h (3.6 ms); `rel` only covers the float rounding of
#: totals of thousands of hours, summed in another order.
TOL = {"abs": 1e-6, "rel": 1e-9}

#: A hand-built log for what the logs of the normal run barely exercise (where they have start
#: times, a case's first event takes no time, so a cycle measured from its end would pass):
#: k1 A 08:00-09:00, then B 09:30-12:00 with C 10:00-11:00 nested inside it, and D (no start)
#:    ending with B at 12:00. Our order A C B D (pm4py's start order: A B C D); waits A->C 1 h,
#:    C->B 0 (B started before C ended), B->D 0; cycle 08:00-12:00 = 4 h (not 3 h from A's end).
#: k2 A 08:00-08:30, C 08:15-09:00 (overlaps A: wait 0), B 10:00-10:00 (wait 1 h); cycle 2 h.
HAND_BUILT = """case,activity,start,end,resource
k1,A,2024-01-01 08:00,2024-01-01 09:00,ann
k1,B,2024-01-01 09:30,2024-01-01 12:00,bob
k1,C,2024-01-01 10:00,2024-01-01 11:00,cy
k1,D,,2024-01-01 12:00,ann
k2,A,2024-01-01 08:00,2024-01-01 08:30,ann
k2,C,2024-01-01 08:15,2024-01-01 09:00,cy
k2,B,2024-01-01 10:00,2024-01-01 10:00,bob
"""

#: (path, cases with an event nested strictly inside another: pm4py's start order differs there)
LOGS = [
    pytest.param((None, 1), id="hand_built"),
    pytest.param((SAMPLES / "support_tickets.csv.gz", 0), id="support_tickets"),
    pytest.param((SAMPLES / "crm_pipeline.csv.gz", 0), id="crm_pipeline"),
    pytest.param((SAMPLES / "helpdesk.xes.gz", 0), id="sample_helpdesk"),
    pytest.param((REAL_LOGS / "helpdesk.xes.gz", 0), id="helpdesk"),
    pytest.param((REAL_LOGS / "production.xes.gz", 94), id="production"),
    pytest.param((REAL_LOGS / "receipt_phase_wabo.xes.gz", 0), id="receipt_phase_wabo"),
    pytest.param((REAL_LOGS / "bpic2017_w_two_ts_filtered.xes.gz", 5), id="bpic2017",
                 marks=pytest.mark.slow),
]


@dataclass(frozen=True)
class Mined:
    """One log, mined by processmine, with the frames handed to pm4py."""

    events: Events
    edges: pd.DataFrame
    nested: int
    ours: pd.DataFrame  # events in our order: CASE, ACT, TIME (end), START (start or end), start, row_id
    filed: pd.DataFrame  # the same rows in source-row order, as pm4py's reader would give them


@pytest.fixture(scope="module", params=LOGS)
def mined(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Mined:
    path, nested = request.param
    if path is None:
        path = tmp_path_factory.mktemp("parity") / "hand_built.csv"
        path.write_text(HAND_BUILT)
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    log = read_log(path)
    events = enrich(log)
    frame = log.table.select("case_id", "activity", "start", "end", "row_id").execute()
    frame = frame.rename(columns={"case_id": CASE, "activity": ACT, "end": TIME})
    # pm4py's interval convention: an event without a start time starts when it completes.
    frame[START] = frame["start"].fillna(frame[TIME])
    ours = frame.sort_values([CASE, TIME, "start", "row_id"], na_position="last",
                             kind="stable", ignore_index=True)
    filed = frame.sort_values("row_id", ignore_index=True)
    return Mined(events, edge_stats(events), nested, ours, filed)


def test_every_real_log_is_compared() -> None:
    if not REAL_LOGS.exists():
        pytest.skip(f"{REAL_LOGS} is not on this machine")
    paths = [p.values[0][0] for p in LOGS if p.values[0][0] is not None]
    compared = {path.name for path in paths if path.parent == REAL_LOGS}
    assert {p.name for p in REAL_LOGS.glob("*.xes*")} == compared


def _edge_column(edges: pd.DataFrame, column: str) -> dict[tuple[str, str], float]:
    return {(s, t): float(v) for s, t, v in zip(edges.source, edges.target, edges[column], strict=True)}


def test_dfg_counts_and_start_end_activities(mined: Mined) -> None:
    import pm4py

    # The rank in our order as time:timestamp (and no start_timestamp column, which pm4py
    # would sort by first): pm4py's sort then reproduces our order exactly, ties included.
    ranked = mined.ours[[CASE, ACT]].copy()
    ranked[TIME] = pd.Timestamp("2000-01-01") + pd.to_timedelta(np.arange(len(ranked)), unit="s")
    dfg, starts, ends = pm4py.discover_dfg(ranked)

    counts = _edge_column(mined.edges, "count")
    assert {k: int(v) for k, v in counts.items()} == dfg
    ours = start_end_counts(mined.events)
    our_starts = {a: int(n) for a, n in zip(ours.activity, ours.starts, strict=True) if n}
    our_ends = {a: int(n) for a, n in zip(ours.activity, ours.ends, strict=True) if n}
    assert (our_starts, our_ends) == (starts, ends)
    # The front doors read the row order of a frame with the real timestamps the same way.
    assert pm4py.get_start_activities(mined.ours) == our_starts
    assert pm4py.get_end_activities(mined.ours) == our_ends


def test_edge_waiting_times(mined: Mined) -> None:
    from pm4py.algo.discovery.dfg.adapters.pandas.df_statistics import get_dfg_graph

    # With start_timestamp_key, pm4py measures each pair as max(target start, source end)
    # minus source end: waiting from the source's completion to the target's start, overlap
    # clipped to 0 -- our wait_h. (pm4py.discover_performance_dfg takes no start key and
    # measures complete to complete; it is compared on the complete-only logs below.)
    # The frame is already in our order, so pm4py's own sort is switched off.
    order_kept = dict(measure="performance", start_timestamp_key=START, timestamp_key=TIME,
                      case_id_glue=CASE, activity_key=ACT, sort_caseid_required=False,
                      sort_timestamp_along_case_id=False)
    perf = get_dfg_graph(mined.ours.copy(), perf_aggregation_key="all", **order_kept)
    raw = get_dfg_graph(mined.ours.copy(), perf_aggregation_key="raw_values", **order_kept)

    for ours_col, theirs in [("wait_mean_h", "mean"), ("wait_median_h", "median"),
                             ("wait_max_h", "max"), ("wait_total_h", "sum")]:
        expected = {k: v[theirs] / 3600 for k, v in perf.items()}
        assert _edge_column(mined.edges, ours_col) == pytest.approx(expected, **TOL), ours_col
    # pm4py has no p90; numpy's default (linear) quantile of pm4py's own per-pair values.
    p90 = {k: float(np.quantile(np.asarray(v, dtype=float), 0.9)) / 3600 for k, v in raw.items()}
    assert _edge_column(mined.edges, "wait_p90_h") == pytest.approx(p90, **TOL)


def test_variants(mined: Mined) -> None:
    import pm4py

    cases = case_table(mined.events)
    ours = variant_stats(cases)
    theirs = pm4py.get_variants(mined.ours)  # the frame's row order: ours
    assert {v: int(n) for v, n in zip(ours.variant, ours.cases, strict=True)} == theirs


def test_case_durations(mined: Mined) -> None:
    import pm4py
    from pm4py.statistics.traces.generic.pandas import case_statistics

    # pm4py's case duration is last minus first `time:timestamp` of the case; it cannot
    # use a start column (get_cases_description with START_TIMESTAMP_KEY raises KeyError in
    # 2.7.23: it groups only the case and timestamp columns). Its reader gives a start +
    # complete log one row per lifecycle transition, so give it that: a row per recorded
    # start and one per end. First to last is then min(start, end) to max(end): our cycle_h.
    f = mined.ours
    with_start = f[f["start"].notna()]
    life = pd.concat([f[[CASE, ACT, TIME]],
                      with_start[[CASE, ACT]].assign(**{TIME: with_start["start"]})],
                     ignore_index=True)
    life = pm4py.format_dataframe(life, case_id=CASE, activity_key=ACT, timestamp_key=TIME)
    described = case_statistics.get_cases_description(life)
    theirs = {case: d["caseDuration"] / 3600 for case, d in described.items()}

    table = case_table(mined.events).table.select("case_id", "cycle_h").execute()
    ours = dict(zip(table.case_id, table.cycle_h.astype(float), strict=True))
    assert ours == pytest.approx(theirs, **TOL)
    front_door = [d / 3600 for d in pm4py.get_all_case_durations(life)]
    assert sorted(ours.values()) == pytest.approx(front_door, **TOL)


def _cases_with_nested_events(frame: pd.DataFrame) -> set[str]:
    """Cases where an event starts after another and ends before it (start = end if unknown)."""
    cols = [CASE, START, TIME]
    pairs = frame[cols].merge(frame[cols], on=CASE, suffixes=("", "_in"))
    inside = (pairs[START + "_in"] > pairs[START]) & (pairs[TIME + "_in"] < pairs[TIME])
    return set(pairs.loc[inside, CASE])


def test_pm4py_sorting_itself_agrees_where_orders_coincide(mined: Mined) -> None:
    import pm4py
    from pm4py.algo.discovery.dfg.adapters.pandas.df_statistics import get_dfg_graph

    nested = _cases_with_nested_events(mined.filed)
    assert len(nested) == mined.nested
    # Whole cases are dropped, so every remaining event keeps the predecessor it had.
    e = mined.events.table
    kept_events = dataclasses.replace(mined.events, table=e.filter(~e.case_id.isin(sorted(nested))))
    edges = edge_stats(kept_events)
    kept = mined.filed[~mined.filed[CASE].isin(nested)]

    # pm4py sorts these file-ordered rows itself, by start (or complete) time.
    dfg, _, _ = pm4py.discover_dfg(kept.copy())
    assert {k: int(v) for k, v in _edge_column(edges, "count").items()} == dfg
    mean = get_dfg_graph(kept.copy(), measure="performance", perf_aggregation_key="mean",
                         start_timestamp_key=START, timestamp_key=TIME, case_id_glue=CASE,
                         activity_key=ACT)
    expected = {k: v / 3600 for k, v in mean.items()}
    assert _edge_column(edges, "wait_mean_h") == pytest.approx(expected, **TOL)

    if not mined.events.log.has_start:
        # Complete-only: pm4py's front door measures complete to complete, which is our
        # waiting when there are no start times.
        complete_only = mined.filed[[CASE, ACT, TIME]].copy()
        perf, _, _ = pm4py.discover_performance_dfg(complete_only)
        for ours_col, theirs in [("wait_mean_h", "mean"), ("wait_median_h", "median"),
                                 ("wait_max_h", "max"), ("wait_total_h", "sum")]:
            expected = {k: v[theirs] / 3600 for k, v in perf.items()}
            assert _edge_column(mined.edges, ours_col) == pytest.approx(expected, **TOL)


def test_hand_built_figures(tmp_path: Path) -> None:
    # The hand-worked figures of HAND_BUILT, so the comment above is checked too.
    path = tmp_path / "hand_built.csv"
    path.write_text(HAND_BUILT)
    events = enrich(read_log(path))
    edges = edge_stats(events)
    assert _edge_column(edges, "count") == {("A", "C"): 2, ("C", "B"): 2, ("B", "D"): 1}
    # A->C: k1 1 h, k2 0; C->B: k1 0, k2 1 h; B->D: 0.
    assert _edge_column(edges, "wait_total_h") == {("A", "C"): 1.0, ("C", "B"): 1.0, ("B", "D"): 0.0}
    cycles = case_table(events).table.select("case_id", "cycle_h").execute()
    assert dict(zip(cycles.case_id, cycles.cycle_h, strict=True)) == {"k1": 4.0, "k2": 2.0}
