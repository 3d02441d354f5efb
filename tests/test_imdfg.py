"""The one-pass DFG the inductive miner uses: identical to pm4py's, key order included."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from pm4py.algo.discovery.inductive.dtypes.im_ds import IMDataStructureUVCL
from pm4py.algo.discovery.inductive.variants.im import IMUVCL
from pm4py.algo.discovery.inductive.variants.imf import IMFUVCL
from pm4py.util.compression import util as comut

from processmine.mining.imdfg import dfg_uvcl, faster_inductive_dfg

PM4PY_DFG = comut.discover_dfg_uvcl


def _random_log(seed: int, variants: int, alphabet: str, longest: int) -> Counter[tuple[str, ...]]:
    rng = random.Random(seed)
    log: Counter[tuple[str, ...]] = Counter()
    for _ in range(variants):
        n = rng.randint(0, longest)
        log[tuple(rng.choice(alphabet) for _ in range(n))] += rng.randint(1, 50)
    return log


def _as_lists(dfg: object) -> tuple[list, list, list]:
    return (list(dfg.graph.items()), list(dfg.start_activities.items()),  # type: ignore[attr-defined]
            list(dfg.end_activities.items()))  # type: ignore[attr-defined]


def test_hand_computed_dfg() -> None:
    log = Counter({("a", "b", "c"): 3, ("b", "a"): 2, ("a",): 1, (): 4, ("c", "d"): 0})
    graph, starts, ends = _as_lists(dfg_uvcl(log))
    # A variant counted 0 (a sub-log can hold one) still adds its keys, with 0, as pm4py's.
    assert graph == [(("a", "b"), 3), (("b", "c"), 3), (("b", "a"), 2), (("c", "d"), 0)]
    assert starts == [("a", 4), ("b", 2), ("c", 0)]
    assert ends == [("a", 3), ("c", 3), ("d", 0)]
    assert _as_lists(PM4PY_DFG(log)) == (graph, starts, ends)


@pytest.mark.parametrize("seed", range(20))
def test_same_dfg_and_key_order_as_pm4py(seed: int) -> None:
    log = _random_log(seed, variants=60, alphabet="abcdefgh", longest=9)
    assert _as_lists(dfg_uvcl(log)) == _as_lists(PM4PY_DFG(log))


def _tree(log: Counter[tuple[str, ...]], threshold: float) -> str:
    parameters = {"noise_threshold": threshold, "multiprocessing": False,
                  "disable_fallthroughs": False}
    miner = IMFUVCL(parameters) if threshold > 0 else IMUVCL(parameters)
    return str(miner.apply(IMDataStructureUVCL(log), parameters))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("threshold", [0.0, 0.2])
def test_the_miner_finds_the_same_tree(seed: int, threshold: float) -> None:
    # Structured logs (a prefix, a loop, a choice) and noisy ones both go through many cuts.
    rng = random.Random(seed)
    log: Counter[tuple[str, ...]] = Counter()
    for _ in range(300):
        body = [rng.choice("bc")] * rng.randint(1, 3) + [rng.choice(["d", "e", "de", "ed"])]
        trace = ("a", *"".join(body), "f") if rng.random() > 0.1 else tuple(rng.sample("abcdef", 4))
        log[tuple(trace)] += 1
    expected = _tree(log, threshold)
    with faster_inductive_dfg():
        assert _tree(log, threshold) == expected


def test_pm4py_is_restored_after_the_block_even_on_error() -> None:
    with pytest.raises(RuntimeError), faster_inductive_dfg():
        assert comut.discover_dfg_uvcl is dfg_uvcl
        raise RuntimeError("boom")
    assert comut.discover_dfg_uvcl is PM4PY_DFG
