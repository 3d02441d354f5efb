"""The discovered BPMN model drawn as a diagram, from pm4py's BPMN object.

We draw it ourselves rather than through pm4py's visualiser, so the task names go through
the same quoting as every other map (`reports.dot.text`) and the DOT source does not change
from run to run (pm4py names the nodes with random UUIDs). Here tasks are rounded boxes, exclusive gateways diamonds with `x`,
parallel ones with `+`, the start event a thin circle and the end event a thick one.

pm4py keeps nodes in sets and names them with random ids, so the order of the DOT statements
(which steers the layout) is derived from the model's structure: nodes by their distance
from the start event, ties broken by a label refined from the neighbours' labels until it
stops telling more nodes apart (Weisfeiler-Lehman colouring). Nodes it cannot tell apart are
interchangeable in the diagram, so the DOT source is the same on every run.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import graphviz

from processmine.mining.model import DiscoveredModel
from reports.dot import count, digraph, label, text


def bpmn_map(model: DiscoveredModel, *, title: str | None = None) -> graphviz.Digraph:
    """The model's BPMN diagram, left to right: every task, gateway, event and flow."""
    from pm4py.objects.bpmn.obj import BPMN

    bpmn = model.bpmn
    nodes: list[Any] = list(bpmn.get_nodes())
    flows = [(f.get_source(), f.get_target()) for f in bpmn.get_flows()]
    legend = [
        f"Inductive miner ({model.miner}, noise threshold {model.noise_threshold:g}) on "
        f"{count(model.variants_used)} variants, {count(model.cases_used)} cases",
        "x: exclusive gateway (one path); +: parallel gateway (all paths); "
        "thin circle: start; thick circle: end",
    ]
    graph = digraph("bpmn_model", title or "Discovered model (BPMN)", legend)
    order = _order(nodes, flows, lambda n: _kind(n, BPMN))
    ids = {id(node): f"b{i}" for i, node in enumerate(order)}
    for node in order:
        graph.node(ids[id(node)], **_shape(node, BPMN))
    index = {id(node): i for i, node in enumerate(order)}
    for source, target in sorted(flows, key=lambda f: (index[id(f[0])], index[id(f[1])])):
        graph.edge(ids[id(source)], ids[id(target)])
    return graph


def _kind(node: Any, bpmn: Any) -> tuple[int, str]:
    """A node's type as (sort rank, direction of a gateway)."""
    kinds = (bpmn.StartEvent, bpmn.Task, bpmn.ExclusiveGateway, bpmn.ParallelGateway,
             bpmn.InclusiveGateway, bpmn.EndEvent)
    rank = next((i for i, k in enumerate(kinds) if isinstance(node, k)), len(kinds))
    direction = node.get_gateway_direction() if isinstance(node, bpmn.Gateway) else None
    return rank, "" if direction is None else str(direction.value)


def _shape(node: Any, bpmn: Any) -> dict[str, str]:
    """The DOT attributes of one BPMN node (its name as escaped label text)."""
    gateway = {"shape": "diamond", "fixedsize": "true", "width": "0.45", "height": "0.45",
               "fontsize": "14", "style": "filled", "fillcolor": "#fff7bc"}
    if isinstance(node, bpmn.StartEvent):
        return {"label": "", "shape": "circle", "width": "0.3", "style": "filled",
                "fillcolor": "#e5f5e0", "color": "#31a354"}
    if isinstance(node, bpmn.EndEvent):
        return {"label": "", "shape": "circle", "width": "0.3", "penwidth": "3",
                "style": "filled", "fillcolor": "#fee0d2", "color": "#de2d26"}
    if isinstance(node, bpmn.ExclusiveGateway):
        return {**gateway, "label": "x"}
    if isinstance(node, bpmn.ParallelGateway):
        return {**gateway, "label": "+"}
    if isinstance(node, bpmn.InclusiveGateway):
        return {**gateway, "label": "o"}
    return {"label": label(text(node.get_name() or ""))}


def _order(nodes: list[Any], flows: list[tuple[Any, Any]],
           kind: Any) -> list[Any]:
    """The nodes in an order that depends only on the model's structure (module docstring)."""
    succ: dict[int, list[int]] = {id(n): [] for n in nodes}
    pred: dict[int, list[int]] = {id(n): [] for n in nodes}
    for source, target in flows:
        succ[id(source)].append(id(target))
        pred[id(target)].append(id(source))
    base = {id(n): (*kind(n), str(n.get_name() or "")) for n in nodes}
    colour = _ranks(base)
    while True:
        signature = {k: (colour[k], tuple(sorted(colour[p] for p in pred[k])),
                         tuple(sorted(colour[s] for s in succ[k]))) for k in colour}
        refined = _ranks(signature)
        if len(set(refined.values())) == len(set(colour.values())):
            break
        colour = refined
    depth: dict[int, int] = {}
    todo = deque(sorted((k for k in colour if not pred[k]), key=lambda k: colour[k]))
    for k in todo:
        depth[k] = 0
    while todo:
        k = todo.popleft()
        for s in sorted(succ[k], key=lambda s: colour[s]):
            if s not in depth:
                depth[s] = depth[k] + 1
                todo.append(s)
    unreached = len(nodes) + 1
    return sorted(nodes, key=lambda n: (depth.get(id(n), unreached), colour[id(n)]))


def _ranks(labels: dict[int, Any]) -> dict[int, int]:
    """Each key's label replaced by its rank among the distinct labels (sorted)."""
    rank = {value: i for i, value in enumerate(sorted(set(labels.values())))}
    return {k: rank[v] for k, v in labels.items()}


__all__ = ["bpmn_map"]
