"""The discovered model: pm4py's inductive miner on the variant counts, with its conformance.

Discovery and replay read the variants (one row per distinct path with its number of cases),
never the events, so the cost grows with the number of variants rather than cases: pm4py's
inductive miner works on a `Counter` of activity tuples, token-based replay is the same for
every case of a variant, and ETConformance precision only needs prefix counts. Each figure
equals what pm4py computes on the full event log, case by case.

pm4py is imported inside the functions, since importing it takes about a second.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from processmine.errors import ConfigError, ProcessMineError
from processmine.mining.imdfg import faster_inductive_dfg

#: Above this many variants, conformance replays only the most frequent ones (see
#: `DiscoveredModel.conformance_variants`): replay time grows with the variants, and the tail
#: of one-case variants in a large log adds time but barely moves case-weighted figures.
MAX_CONFORMANCE_VARIANTS = 2000

#: How the fitness figures are computed (recorded in the result and the summary).
FITNESS_METHOD = "token-based replay"
PRECISION_METHOD = "ETConformance (token-based replay)"

# pm4py's default activity key; our traces are built with it.
_ACTIVITY = "concept:name"

Variant = tuple[str, ...]


@dataclass(frozen=True, eq=False)
class DiscoveredModel:
    """A process model discovered from the variants, with its fit to them.

    `net`, `initial_marking` and `final_marking` are pm4py's `PetriNet` and `Marking`s (a
    workflow net, as the inductive miner makes it sound by construction); `bpmn` is the same
    model as a pm4py `BPMN`, and `tree` the process tree both were converted from. Treat them
    as read-only: they are pm4py's mutable objects.

    The conformance figures are case-weighted (each variant counts once per case) and None when
    conformance was not asked for. `fitness` is the average trace fitness of token-based replay
    (the mean over cases of 1/2(1 - missing/consumed) + 1/2(1 - remaining/produced)),
    `log_fitness` the same ratio over the token totals of the whole log (pm4py's headline
    figure), `percentage_fit_traces` the share of cases (0-100) replayed without missing or
    remaining tokens, and `precision` ETConformance precision (1 - escaping / allowed
    activities after each observed prefix). They cover the `conformance_variants` most frequent
    variants (`conformance_cases` cases), all of them unless there are more than the cap.
    """

    tree: Any
    net: Any
    initial_marking: Any
    final_marking: Any
    bpmn: Any
    noise_threshold: float
    variants_used: int
    cases_used: int
    fitness_method: str | None
    fitness: float | None
    log_fitness: float | None
    percentage_fit_traces: float | None
    precision: float | None
    conformance_variants: int
    conformance_cases: int

    @property
    def miner(self) -> str:
        """IMf (infrequent) with a noise threshold, plain IM without, as pm4py chooses."""
        return "IMf" if self.noise_threshold > 0 else "IM"


def discover_model(
    variants: pd.DataFrame,
    *,
    noise_threshold: float = 0.2,
    conformance: bool = True,
    max_conformance_variants: int = MAX_CONFORMANCE_VARIANTS,
) -> DiscoveredModel:
    """Discover a Petri net and BPMN model with the inductive miner, and measure its fit.

    `variants` is `variant_stats(...)`'s frame: `variant` (tuple of activities) and `cases`.
    With `noise_threshold` > 0 the miner is IMf, so rare paths do not turn the model into a
    flower: where a sub-log has no cut, it drops the directly-follows edges (and start
    activities) seen less than that share of the most frequent edge out of the same activity,
    and it drops a skip taken by no more than that share of a sub-log's cases. With 0 it is
    plain IM, whose model replays every variant. The result is the model pm4py's
    `discover_petri_net_inductive(log, noise_threshold=...)` gives on the full log.

    Raises ConfigError for a threshold outside [0, 1] or a cap below 1, and ProcessMineError
    when there are no cases.
    """
    if not 0.0 <= noise_threshold <= 1.0:
        raise ConfigError(f"noise threshold {noise_threshold} is outside 0..1; use e.g. 0.2 "
                          "(drop paths under 20% of the most frequent one) or 0 (keep all).")
    if max_conformance_variants < 1:
        raise ConfigError(f"max_conformance_variants is {max_conformance_variants}; "
                          "expected at least 1.")
    counts = _variant_counts(variants)
    tree = _inductive_tree(counts, noise_threshold)

    from pm4py.objects.conversion.process_tree.variants import to_bpmn, to_petri_net

    net, im, fm = to_petri_net.apply(tree)
    bpmn = to_bpmn.apply(tree)

    replayed = Counter(dict(list(counts.items())[:max_conformance_variants]))
    fitness: dict[str, float] | None = None
    precision: float | None = None
    if conformance:
        fitness = _token_fitness(replayed, net, im, fm)
        precision = _etc_precision(replayed, net, im, fm)
    return DiscoveredModel(
        tree=tree, net=net, initial_marking=im, final_marking=fm, bpmn=bpmn,
        noise_threshold=float(noise_threshold),
        variants_used=len(counts), cases_used=sum(counts.values()),
        fitness_method=FITNESS_METHOD if conformance else None,
        fitness=None if fitness is None else fitness["average_trace_fitness"],
        log_fitness=None if fitness is None else fitness["log_fitness"],
        percentage_fit_traces=None if fitness is None else fitness["percentage_fit_traces"],
        precision=precision,
        conformance_variants=len(replayed) if conformance else 0,
        conformance_cases=sum(replayed.values()) if conformance else 0,
    )


def bpmn_xml(model: DiscoveredModel, *, layout: bool = True) -> bytes:
    """The model as BPMN 2.0 XML (UTF-8), as pm4py exports it.

    With `layout`, node positions and edge waypoints come from Graphviz (the `dot` program
    must be installed), so modelling tools show a readable diagram; without it every shape
    sits at (0, 0), which is still valid BPMN. The model is copied first, because pm4py's
    layouter writes the positions into the BPMN object it is given. Element ids are pm4py's
    random UUIDs, so two exports of one model differ in their ids (not for golden files).

    Raises ProcessMineError when a layout is asked for and `dot` is missing.
    """
    from pm4py.objects.bpmn.exporter.variants import etree

    bpmn = model.bpmn
    if layout:
        import shutil
        import tempfile

        if shutil.which("dot") is None:
            raise ProcessMineError("the BPMN layout needs Graphviz's 'dot' program, which was "
                                   "not found on PATH; install Graphviz or export without "
                                   "layout.")
        from pm4py.objects.bpmn.layout import layouter

        # pm4py's layouter renders to temporary SVG files it never deletes (two per call);
        # pointing `tempfile` at a directory of our own for the call removes them after.
        saved = tempfile.tempdir
        with tempfile.TemporaryDirectory(prefix="processmine-bpmn-") as scratch:
            tempfile.tempdir = scratch
            try:
                bpmn = layouter.apply(copy.deepcopy(bpmn))
            finally:
                tempfile.tempdir = saved
    xml: bytes = etree.get_xml_string(bpmn, parameters={"encoding": "utf-8"})
    return xml


def pnml_xml(model: DiscoveredModel) -> bytes:
    """The Petri net with its initial and final markings as PNML (UTF-8), as pm4py exports it."""
    from pm4py.objects.petri_net.exporter.variants import pnml

    xml: bytes = pnml.export_petri_as_string(
        model.net, model.initial_marking, final_marking=model.final_marking,
        parameters={"encoding": "utf-8"})
    return xml


def write_bpmn(model: DiscoveredModel, path: Path, *, layout: bool = True) -> None:
    """Write `bpmn_xml(model)` to exactly `path` (pm4py's writer would append `.bpmn`).

    Raises ProcessMineError when the file cannot be written or a layout cannot be made.
    """
    _write(path, bpmn_xml(model, layout=layout))


def write_pnml(model: DiscoveredModel, path: Path) -> None:
    """Write `pnml_xml(model)` to `path`. Raises ProcessMineError when it cannot be written."""
    _write(path, pnml_xml(model))


def model_summary(model: DiscoveredModel) -> dict[str, Any]:
    """The model's size, settings and fit as plain JSON-ready values.

    `transitions` counts all of them; `silent_transitions` are the unlabelled ones the miner
    adds to skip, loop back or split, `activities` the labelled ones.
    """
    labels = sorted(t.label for t in model.net.transitions if t.label is not None)
    return {
        "miner": model.miner,
        "noise_threshold": model.noise_threshold,
        "variants_used": model.variants_used,
        "cases_used": model.cases_used,
        "places": len(model.net.places),
        "transitions": len(model.net.transitions),
        "silent_transitions": len(model.net.transitions) - len(labels),
        "arcs": len(model.net.arcs),
        "activities": labels,
        "bpmn_nodes": len(model.bpmn.get_nodes()),
        "bpmn_flows": len(model.bpmn.get_flows()),
        "fitness_method": model.fitness_method,
        "fitness": model.fitness,
        "log_fitness": model.log_fitness,
        "percentage_fit_traces": model.percentage_fit_traces,
        "precision_method": PRECISION_METHOD if model.precision is not None else None,
        "precision": model.precision,
        "conformance_variants": model.conformance_variants,
        "conformance_cases": model.conformance_cases,
    }


def _variant_counts(variants: pd.DataFrame) -> Counter[Variant]:
    """The variants as a Counter, most frequent first (ties by variant), so the result and
    the cap do not depend on the frame's row order."""
    missing = {"variant", "cases"} - set(variants.columns)
    if missing:
        raise ProcessMineError(f"the variants frame lacks {sorted(missing)}; expected the "
                               "frame of variant_stats() with 'variant' and 'cases'.")
    counts: Counter[Variant] = Counter()
    for variant, cases in zip(variants["variant"], variants["cases"], strict=True):
        if int(cases) > 0 and len(variant) > 0:
            counts[tuple(str(a) for a in variant)] += int(cases)
    if not counts:
        raise ProcessMineError("no cases to discover a model from: the log (after filters) "
                               "has no events.")
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return Counter(dict(ordered))


def _inductive_tree(counts: Counter[Variant], noise_threshold: float) -> Any:
    """pm4py's inductive miner on the variant counts, as `discover_process_tree_inductive`
    runs it on a log: IMf when there is a noise threshold, IM otherwise, then folded and
    sorted. pm4py's `inductive_miner.apply` would re-read a `Counter` as a log (it checks the
    type against a typing alias), so the miner classes are called directly."""
    from pm4py.algo.discovery.inductive.dtypes.im_ds import IMDataStructureUVCL
    from pm4py.algo.discovery.inductive.variants.im import IMUVCL
    from pm4py.algo.discovery.inductive.variants.imf import IMFUVCL
    from pm4py.objects.process_tree.utils.generic import fold, tree_sort

    parameters = {"noise_threshold": noise_threshold, "multiprocessing": False,
                  "disable_fallthroughs": False}
    miner = IMFUVCL(parameters) if noise_threshold > 0 else IMUVCL(parameters)
    with faster_inductive_dfg():  # the same tree, three to four times sooner (see imdfg)
        tree = fold(miner.apply(IMDataStructureUVCL(counts), parameters))
    tree_sort(tree)
    return tree


def _event_log(traces: list[Variant]) -> Any:
    """A pm4py EventLog with one trace per activity tuple (activity names only)."""
    from pm4py.objects.log.obj import Event, EventLog, Trace

    return EventLog([Trace([Event({_ACTIVITY: a}) for a in trace]) for trace in traces])


def _token_fitness(counts: Counter[Variant], net: Any, im: Any, fm: Any) -> dict[str, float]:
    """pm4py's token-based replay fitness with each variant replayed once and weighted by its
    cases: every case of a variant replays the same way, so the figures equal pm4py's
    `fitness_token_based_replay` on the full log (same parameters, same formulas)."""
    from pm4py.algo.conformance.tokenreplay.variants import token_replay

    parameters = {
        token_replay.Parameters.ACTIVITY_KEY: _ACTIVITY,
        token_replay.Parameters.CONSIDER_REMAINING_IN_FITNESS: True,
        token_replay.Parameters.CLEANING_TOKEN_FLOOD: False,
        token_replay.Parameters.SHOW_PROGRESS_BAR: False,
    }
    variants = list(counts)
    replayed = token_replay.apply(_event_log(variants), net, im, fm, parameters=parameters)
    weights = [counts[v] for v in variants]
    cases = sum(weights)

    def total(key: str) -> float:
        return float(sum(w * r[key] for w, r in zip(weights, replayed, strict=True)))

    fit = sum(w for w, r in zip(weights, replayed, strict=True) if r["trace_is_fit"])
    consumed, produced = total("consumed_tokens"), total("produced_tokens")
    if consumed <= 0 or produced <= 0:  # pm4py reports zeros for a log that fires nothing
        return {"average_trace_fitness": 0.0, "log_fitness": 0.0, "percentage_fit_traces": 0.0}
    return {
        "average_trace_fitness": total("trace_fitness") / cases,
        "log_fitness": 0.5 * (1 - total("missing_tokens") / consumed)
        + 0.5 * (1 - total("remaining_tokens") / produced),
        "percentage_fit_traces": 100.0 * fit / cases,
    }


def _etc_precision(counts: Counter[Variant], net: Any, im: Any, fm: Any) -> float:
    """pm4py's ETConformance precision (`precision_token_based_replay`) from variant counts.

    As in pm4py: for each proper prefix seen in the log, the activities the model enables
    after it (visible transitions reachable through silent ones from the marking token replay
    of the prefix leaves) that never follow it in the log are escaping edges; prefixes that do
    not replay without missing tokens are skipped; each prefix counts once per case that has
    it, and the empty prefix once per case. Duplicating traces would change the figure, so the
    counts weigh the prefixes instead.

    pm4py replays every prefix as a trace of its own (quadratic in the variant length: 20 s
    for a log with 170-event variants); replay is deterministic event by event, so the
    marking after a prefix is the one reached after its last event in the replay of the whole
    variant, and each variant is replayed once. Prefixes are kept as tuples, where pm4py joins
    them with commas and would merge `('a,b',)` with `('a', 'b')`.
    """
    from pm4py.algo.conformance.tokenreplay.variants import token_replay
    from pm4py.objects.petri_net.utils.align_utils import (
        get_visible_transitions_eventually_enabled_by_marking,
    )

    followers: dict[Variant, set[str]] = {}
    prefix_cases: Counter[Variant] = Counter()
    for variant, cases in counts.items():
        for i in range(1, len(variant)):
            prefix = variant[:i]
            followers.setdefault(prefix, set()).add(variant[i])
            prefix_cases[prefix] += cases
    parameters = {
        token_replay.Parameters.ACTIVITY_KEY: _ACTIVITY,
        token_replay.Parameters.CONSIDER_REMAINING_IN_FITNESS: False,
        token_replay.Parameters.TRY_TO_REACH_FINAL_MARKING_THROUGH_HIDDEN: False,
        token_replay.Parameters.STOP_IMMEDIATELY_UNFIT: True,
        token_replay.Parameters.WALK_THROUGH_HIDDEN_TRANS: True,
        token_replay.Parameters.CLEANING_TOKEN_FLOOD: False,
        token_replay.Parameters.SHOW_PROGRESS_BAR: False,
    }
    # Longest first, so a variant that is a prefix of another needs no replay of its own.
    variants: list[Variant] = []
    covered: set[Variant] = set()
    for variant in sorted({v[:-1] for v in counts if len(v) > 1}, key=len, reverse=True):
        if variant not in covered:
            variants.append(variant)
            covered.update(variant[:i] for i in range(1, len(variant)))
    replayed = token_replay.apply(_event_log(variants), net, im, fm, parameters=parameters)

    enabled_after: dict[Any, set[str]] = {}

    def enabled(marking: Any) -> set[str]:
        if marking not in enabled_after:
            enabled_after[marking] = {
                t.label for t in get_visible_transitions_eventually_enabled_by_marking(net, marking)}
        return enabled_after[marking]

    cases = sum(counts.values())
    starts = {variant[0] for variant in counts}
    at_start = enabled(im)
    allowed = cases * len(at_start)
    escaping = cases * len(at_start - starts)
    labels = {t.label for t in net.transitions if t.label is not None}
    seen: set[Variant] = set()
    for variant, result in zip(variants, replayed, strict=True):
        for i, marking in enumerate(_prefix_markings(variant, result["activated_transitions"],
                                                     net, im, labels), start=1):
            prefix = variant[:i]
            if marking is None or prefix in seen:
                continue
            seen.add(prefix)
            allowed += len(enabled(marking)) * prefix_cases[prefix]
            escaping += len(enabled(marking) - followers[prefix]) * prefix_cases[prefix]
    return 1.0 - escaping / allowed if allowed > 0 else 1.0


def _prefix_markings(variant: Variant, fired: list[Any], net: Any, im: Any,
                     labels: set[str]) -> list[Any]:
    """The marking after each event of a replayed variant, None from the first event that
    could not fire (the replay stopped there, so that prefix and longer ones do not fit).

    Replaying the transitions the token replay fired, each event is its visible transition
    and the silent ones fired just before it; an activity the model lacks fires nothing and
    leaves the marking as it was, as in pm4py's replay.
    """
    from pm4py.objects.petri_net import semantics

    markings: list[Any] = []
    marking = copy.copy(im)
    pending = iter(fired)
    for activity in variant:
        if marking is not None and activity in labels:
            for transition in pending:
                marking = semantics.execute(transition, net, marking)
                if marking is None:
                    raise RuntimeError("token replay fired a transition that was not enabled")
                if transition.label is not None:
                    break
            else:
                marking = None
        markings.append(marking)
    return markings


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as err:
        raise ProcessMineError(f"{path}: cannot write the model ({err.strerror}); "
                               "choose another path.") from err


__all__ = [
    "FITNESS_METHOD", "MAX_CONFORMANCE_VARIANTS", "PRECISION_METHOD", "DiscoveredModel",
    "bpmn_xml", "discover_model", "model_summary", "pnml_xml", "write_bpmn", "write_pnml",
]
