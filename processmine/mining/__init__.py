"""Mining: the performance layer, variants, the discovered model, KPIs, the funnel, bottlenecks.

Every per-event computation is an Ibis expression run by the engine; the functions here
return aggregates (per activity, edge, variant, resource, week) as small pandas frames or
dataclasses.
"""
