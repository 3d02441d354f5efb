"""`processmine discover`: the statistics, the variants and the model of one prepared log.

Computing and writing are separate so the report reuses `discover` without touching disk.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from processmine.analysis import Prepared
from processmine.errors import ProcessMineError
from processmine.mining.model import (
    MAX_CONFORMANCE_VARIANTS,
    DiscoveredModel,
    discover_model,
    model_summary,
    write_bpmn,
    write_pnml,
)
from processmine.mining.stats import (
    CaseSummary,
    activity_stats,
    edge_stats,
    handoff_stats,
    resource_stats,
    rework_stats,
    start_end_counts,
    summarize_cases,
    variant_stats,
)


@dataclass(frozen=True)
class Discovery:
    """Everything `discover` finds: case summary, the per-edge/activity/resource frames, the
    variants and the model."""

    summary: CaseSummary
    edges: pd.DataFrame
    activities: pd.DataFrame
    start_end: pd.DataFrame
    resources: pd.DataFrame
    handoffs: pd.DataFrame
    rework: pd.DataFrame
    variants: pd.DataFrame
    model: DiscoveredModel
    model_summary: dict[str, Any]
    context: dict[str, Any]

    def statistics(self) -> dict[str, Any]:
        """statistics.json: every figure, with stable keys."""
        return {
            "context": self.context,
            "cases": _clean(asdict(self.summary)),
            "activities": _records(self.activities),
            "start_end": _records(self.start_end),
            "edges": _records(self.edges),
            "resources": _records(self.resources),
            "handoffs": _records(self.handoffs),
            "rework": _records(self.rework),
            "variants": {"count": len(self.variants),
                         "top": _records(_variant_rows(self.variants.head(50)))},
            "model": self.model_summary,
        }


def discover(prepared: Prepared, *, noise_threshold: float = 0.2,
             max_conformance_variants: int | None = None, resources: bool = True) -> Discovery:
    """The performance layer, the variants and the inductive-miner model of `prepared`.

    `max_conformance_variants` caps the variants replayed for fitness and precision (the
    model's default otherwise); `resources=False` skips the per-resource and hand-off tables
    (empty frames), which the report does not show.
    """
    events, cases = prepared.events, prepared.cases
    variants = variant_stats(cases)
    if variants.empty:
        raise ProcessMineError(f"{prepared.original.source}: no cases left to discover a model from "
                               "(check the filters)")
    model = discover_model(variants, noise_threshold=noise_threshold,
                           max_conformance_variants=max_conformance_variants
                           or MAX_CONFORMANCE_VARIANTS)
    return Discovery(
        summary=summarize_cases(cases), edges=edge_stats(events),
        activities=activity_stats(events), start_end=start_end_counts(events),
        resources=resource_stats(events) if resources else pd.DataFrame(),
        handoffs=handoff_stats(events) if resources else pd.DataFrame(),
        rework=rework_stats(events), variants=variants, model=model,
        model_summary=model_summary(model), context=prepared.context(),
    )


def write_discovery(found: Discovery, out: Path) -> list[Path]:
    """Write model.bpmn, model.pnml, variants.csv and statistics.json into `out`."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / "model.bpmn", out / "model.pnml", out / "variants.csv", out / "statistics.json"]
        write_bpmn(found.model, paths[0])
        write_pnml(found.model, paths[1])
        rows = _variant_rows(found.variants)
        with paths[2].open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(rows.columns)
            writer.writerows(rows.itertuples(index=False))
        paths[3].write_text(json.dumps(found.statistics(), indent=2, allow_nan=False, default=str)
                            + "\n", encoding="utf-8")
    except OSError as err:
        raise ProcessMineError(f"{out}: cannot write: {err.strerror or err}") from err
    return paths


def _variant_rows(variants: pd.DataFrame) -> pd.DataFrame:
    """Variants for CSV and JSON: rank, the path as text (' > ') and as a JSON list (exact even
    when an activity name contains ' > '), cases, shares and cycle times."""
    rows = variants.copy()
    rows.insert(0, "rank", range(1, len(rows) + 1))
    rows["activities"] = [json.dumps(list(v), ensure_ascii=False) for v in rows.variant]
    rows["length"] = [len(v) for v in rows.variant]
    rows["variant"] = [" > ".join(v) for v in rows.variant]
    return rows[["rank", "cases", "share", "cum_share", "cycle_mean_h", "cycle_median_h",
                 "length", "variant", "activities"]]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [_clean(r) for r in frame.to_dict("records")]


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, raw in row.items():
        value = raw.item() if hasattr(raw, "item") else raw
        out[str(key)] = None if isinstance(value, float) and not math.isfinite(value) else value
    return out


__all__ = ["Discovery", "discover", "write_discovery"]
