"""summary.json: every number the report shows, with stable keys.

The HTML and Markdown reports are rendered *from this dictionary*, never from the analysis
objects directly, so a number in the report is always the number in summary.json (the report
tests check every figure). Floats are rounded here, once, to the precision the report shows.
"""

from __future__ import annotations

import math
import platform
from dataclasses import asdict
from importlib import metadata
from typing import Any

from processmine import __version__
from processmine.mining.funnel import funnel_json
from processmine.mining.kpis import kpis_json
from reports.pipeline import Analysis

SCHEMA = "processmine.report/1"
#: Decimals kept for every float in summary.json.
DECIMALS = 4
#: Variants and edges listed in full in the report (the rest are counted).
TOP_VARIANTS = 20


def build_summary(a: Analysis, *, maps: dict[str, str] | None = None,
                  privacy: str | None = None) -> dict[str, Any]:
    """The report's content as plain JSON data (see the module docstring)."""
    d = a.discovery
    kpis = kpis_json(a.kpis)
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "source": a.prepared.context(),
        "log": {**a.summary.to_dict(), "has_start": a.log.has_start,
                "case_attributes": list(a.log.case_attributes)},
        "quality": _quality(a),
        "kpis": kpis,
        "cases": asdict(d.summary),
        "variants": {"count": len(d.variants), "top": _variants(d)},
        "activities": _records(d.activities),
        "edges": _records(d.edges),
        "model": d.model_summary,
        "bottlenecks": a.bottlenecks.to_json(),
        "funnel": None if a.funnel is None else funnel_json(a.funnel),
        "simulation": _simulation(a),
        "maps": dict(maps or {}),
        "notes": list(a.notes),
    }
    data["headline"] = _headline(data)
    data["recommendations"] = _recommendations(data)
    data["appendix"] = _appendix(a, privacy)
    rounded: dict[str, Any] = _rounded(data)
    return rounded


def _quality(a: Analysis) -> dict[str, Any]:
    q = a.log.quality
    return {"rows_read": q.rows_read, "rows_kept": q.rows_kept, "rows_excluded": q.rows_excluded,
            "issues": [{"code": i.code, "description": i.description, "count": i.count,
                        "action": i.action, "column": i.column,
                        "examples": [{"row": e.row, "value": e.value} for e in i.examples]}
                       for i in q.issues],
            "notes": list(q.notes)}


def _variants(d: Any) -> list[dict[str, Any]]:
    rows = []
    for i, r in enumerate(d.variants.head(TOP_VARIANTS).itertuples(index=False), start=1):
        rows.append({"rank": i, "activities": list(r.variant), "cases": int(r.cases),
                     "share_pct": 100 * float(r.share), "cum_share_pct": 100 * float(r.cum_share),
                     "cycle_mean_h": _f(r.cycle_mean_h), "cycle_median_h": _f(r.cycle_median_h)})
    return rows


def _simulation(a: Analysis) -> dict[str, Any] | None:
    if a.validation is None and a.experiment is None:
        return None
    out: dict[str, Any] = {
        "validation": None if a.validation is None else a.validation.to_json(),  # type: ignore[attr-defined]
        "experiment": None if a.experiment is None else a.experiment.to_json(),  # type: ignore[attr-defined]
        "model": None,
    }
    model = a.model
    if model is not None:
        out["model"] = {
            "arrivals_per_week": model.arrivals.per_week,  # type: ignore[attr-defined]
            "has_resources": model.has_resources,  # type: ignore[attr-defined]
            "pools": [{"name": p.name, "capacity": p.capacity, "calendar": p.calendar}
                      for p in model.pools.values()],  # type: ignore[attr-defined]
            "activities": [{"name": x.name, "pool": x.pool, "distribution": x.duration.kind,
                            "mean_h": x.duration.mean}
                           for x in model.activities.values()],  # type: ignore[attr-defined]
            "delays": [{"source": x.source, "target": x.target, "probability": x.probability,
                        "mean_h": x.distribution.mean} for x in model.delays],  # type: ignore[attr-defined]
            "notes": list(model.notes),  # type: ignore[attr-defined]
        }
    return out


def _headline(data: dict[str, Any]) -> dict[str, Any]:
    k = data["kpis"]["overall"]
    top = data["bottlenecks"]["bottlenecks"][:3]
    best = None
    exp = (data["simulation"] or {}).get("experiment")
    stable = [s for s in (exp or {}).get("scenarios", []) if not s.get("unstable")]
    if exp and stable:
        ranked = sorted(stable, key=lambda s: _num(s.get("change_pct", {}).get("mean")))
        s = ranked[0]
        change = s.get("change_pct", {})
        base_mean = exp["baseline"]["cycle_time_hours"]["mean"]
        new_mean = s["cycle_time_hours"]["mean"]
        best = {"name": s["name"], "change_pct": change.get("mean"), "ci95": change.get("ci95"),
                "baseline_mean_h": base_mean, "scenario_mean_h": new_mean,
                "saved_hours_per_case": (base_mean - new_mean)
                if base_mean is not None and new_mean is not None else None,
                "significant": bool(change.get("ci95")) and change["ci95"][1] < 0}
    return {
        "cases": k["cases"], "complete": k["complete"], "open": k["open"],
        "cycle_mean_h": k["cycle_mean_h"], "cycle_median_h": k["cycle_median_h"],
        "cycle_p90_h": k["cycle_p90_h"], "throughput_per_week": k["throughput_per_week"],
        "arrivals_per_week": k["arrivals_per_week"], "wip_mean": k["wip_mean"],
        "rework_pct": None if k["rework_rate"] is None else 100 * k["rework_rate"],
        "sla_hours": k["sla_hours"],
        "sla_breach_pct": None if k["sla_breach_rate"] is None else 100 * k["sla_breach_rate"],
        "top_bottlenecks": [b["explanation"] for b in top],
        "best_scenario": best,
    }


_ADVICE = {
    "contention": "Add capacity where '{where}' is done, or take work off that team: all of its "
                  "people are busy while cases wait.",
    "unavailability": "Cover the hours when nobody does '{where}' (wider or staggered working "
                      "hours, a deputy): cases wait for the team to come on shift.",
    "extraneous": "Shorten the wait outside the team before '{where}' (reminders, service "
                  "levels with the customer or third party): the team is free while cases wait.",
    "processing": "Speed up or automate the work of '{where}'.",
    "rework": "Find out why '{where}' is repeated and fix it at the source.",
    "handoff": "Reduce or smooth the hand-off from {where}.",
    "wait": "Find out what cases wait for before '{where}'.",
}


def _recommendations(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Scenarios that significantly cut cycle time first, then advice per top bottleneck."""
    out: list[dict[str, Any]] = []
    exp = (data["simulation"] or {}).get("experiment")
    if exp:
        base = exp["baseline"]["cycle_time_hours"]["mean"]
        for s in sorted(exp["scenarios"], key=lambda s: _num(s.get("change_pct", {}).get("mean"))):
            ch = s.get("change_pct", {})
            ci = ch.get("ci95")
            if ch.get("mean") is None or not ci or ci[1] >= 0 or s.get("unstable"):
                continue
            mean = s["cycle_time_hours"]["mean"]
            out.append({"kind": "scenario", "title": s["name"], "changes": s["changes"],
                        "change_pct": ch["mean"], "ci95": ci,
                        "saved_hours_per_case": None if base is None or mean is None else base - mean})
    for b in data["bottlenecks"]["bottlenecks"][:5]:
        cause = None
        if b["causes"]:
            total = sum(b["causes"].values()) or 1.0
            name, hours = max(b["causes"].items(), key=lambda kv: kv[1])
            cause = name if hours / total >= 0.6 else None
        key = cause or b["kind"]
        where = (b["activity"] or (f"{b['source']} to {b['target']}" if b["kind"] == "handoff"
                                   else b["target"]))
        if key == "edge":
            key = "wait"
        out.append({"kind": "bottleneck", "rank": b["rank"], "title": f"Bottleneck #{b['rank']}",
                    "text": _ADVICE.get(key, _ADVICE["wait"]).format(where=where),
                    "impact_hours": b["impact_hours"], "share_pct": b["share_pct"]})
    return out


def _appendix(a: Analysis, privacy: str | None) -> dict[str, Any]:
    versions = {"processmine": __version__, "python": platform.python_version()}
    for dist in ("pm4py", "ibis-framework", "duckdb", "simpy", "pandas", "numpy", "scipy"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    m = a.log.mapping
    return {
        "mapping": {role: (col if col != "-" else None) for role, col, _ in m.describe()},
        "mapping_how": dict(m.how),
        "filters": a.prepared.filtered.describe(),
        "calendar": a.prepared.context()["calendar"],
        "privacy": privacy,
        "versions": versions,
        "command": a.options.command,
        "generated": a.started.replace(microsecond=0).isoformat(),
        "seconds": a.seconds,
        "replications": a.options.replications,
        "seed": a.options.seed,
    }


def _records(frame: Any) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, DECIMALS) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return _plain(value)


def _f(value: Any) -> float | None:
    v = _plain(value)
    return None if v is None else float(v)


def _num(value: Any) -> float:
    return math.inf if value is None else float(value)


__all__ = ["DECIMALS", "SCHEMA", "TOP_VARIANTS", "build_summary"]
