"""The mining layer on PySpark: the same Ibis expressions, the same figures as on DuckDB.

The brief's promise is that a log too big for one machine runs on Spark unchanged. Here the
shipped samples are read once (DuckDB: mapping, parsing and checks), their canonical events
handed to a local Spark session, and every mining result computed on both engines and
compared: statistics, variants (the inductive miner's input), cycle times, resources, rework,
KPIs, the bottleneck ranking with its split into causes (calendar arithmetic and running
windows), the CRM funnel, the Disco-style filters and the simulation's calibration (queue
order included). Skipped where pyspark or Java is missing (`bash run.sh test` installs both).
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import pandas as pd
import pytest

from processmine import read_log
from processmine.log import EventLog
from processmine.mining.bottlenecks import rank_bottlenecks
from processmine.mining.events import Events, enrich
from processmine.mining.funnel import build_funnel, funnel_json
from processmine.mining.kpis import compute_kpis, kpis_json
from processmine.mining.stats import (
    Cases,
    activity_stats,
    case_table,
    edge_stats,
    resource_stats,
    rework_stats,
    summarize_cases,
    variant_stats,
)

from .conftest import SAMPLES

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java (bash run.sh test installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import ibis
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark")
    session = (SparkSession.builder.master("local[2]").appName("processmine-tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.sql.warehouse.dir", str(warehouse))
               .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield ibis.pyspark.connect(session)
    session.stop()


def _on_spark(con: Any, log: EventLog, name: str) -> EventLog:
    """The log's canonical events as a Spark table, with the same metadata."""
    from ibis.backends.pyspark.datatypes import PySparkSchema

    frame = log.table.execute()
    schema = PySparkSchema.from_ibis(log.table.schema())  # a column may be all NULL
    con._session.createDataFrame(frame, schema=schema).createOrReplaceTempView(name)
    return log.with_table(con.table(name))


@pytest.fixture(scope="module")
def support(spark: Any) -> tuple[tuple[Events, Cases], tuple[Events, Cases]]:
    log = read_log(SAMPLES / "support_tickets.csv.gz", cache_db=None)
    out = []
    for one in (log, _on_spark(spark, log, "support")):
        events = enrich(one)
        out.append((events, case_table(events)))
    return out[0], out[1]


def _same(a: Any, b: Any, where: str = "") -> None:
    """Equal, floats to 1e-9 relative (the engines sum in different orders)."""
    if isinstance(a, pd.DataFrame):
        assert list(a.columns) == list(b.columns), where
        assert len(a) == len(b), where
        for col in a.columns:
            for i, (x, y) in enumerate(zip(a[col].tolist(), b[col].tolist(), strict=True)):
                _same(x, y, f"{where}{col}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-9), where
    elif a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        assert (a is None or (isinstance(a, float) and math.isnan(a))) and \
               (b is None or (isinstance(b, float) and math.isnan(b))), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def test_statistics_variants_and_cycle_times(support) -> None:  # type: ignore[no-untyped-def]
    (duck_events, duck_cases), (spark_events, spark_cases) = support
    assert spark_events.table.get_backend().name == "pyspark"
    for f in (edge_stats, activity_stats, resource_stats, rework_stats):
        _same(f(duck_events), f(spark_events), f.__name__)
    _same(variant_stats(duck_cases), variant_stats(spark_cases), "variants")
    assert spark_cases.end_activities == duck_cases.end_activities == ("Close ticket",)
    for include_open in (False, True):
        _same(asdict(summarize_cases(duck_cases, include_open=include_open)),
              asdict(summarize_cases(spark_cases, include_open=include_open)), "summary")


def test_kpis(support) -> None:  # type: ignore[no-untyped-def]
    (duck_events, duck_cases), (spark_events, spark_cases) = support
    _same(kpis_json(compute_kpis(duck_events, duck_cases, sla_hours=48, by="priority")),
          kpis_json(compute_kpis(spark_events, spark_cases, sla_hours=48, by="priority")), "kpis")


def test_bottlenecks_and_their_causes(support) -> None:  # type: ignore[no-untyped-def]
    (duck_events, duck_cases), (spark_events, spark_cases) = support
    duck = rank_bottlenecks(duck_events, duck_cases, top=8)
    on_spark = rank_bottlenecks(spark_events, spark_cases, top=8)
    assert duck.causes_available and on_spark.causes_available
    assert any(b.causes is not None and b.causes.contention > 0 for b in on_spark.bottlenecks)
    # The raw figures (to_json rounds, and sums in another order can round differently).
    _same([asdict(b) for b in duck.bottlenecks], [asdict(b) for b in on_spark.bottlenecks],
          "bottlenecks")
    assert (duck.cases, duck.candidates) == (on_spark.cases, on_spark.candidates)
    assert duck.total_cycle_hours == pytest.approx(on_spark.total_cycle_hours, rel=1e-9)


def test_crm_funnel(spark: Any) -> None:
    log = read_log(SAMPLES / "crm_pipeline.csv.gz", cache_db=None)
    duck = enrich(log)
    on_spark = enrich(_on_spark(spark, log, "crm"))
    _same(funnel_json(build_funnel(duck, by="LeadSource")),
          funnel_json(build_funnel(on_spark, by="LeadSource")), "funnel")


def test_filters(support) -> None:  # type: ignore[no-untyped-def]
    from processmine.mining.filters import FilterSpec, apply_filters

    (duck_events, _), (spark_events, _) = support
    spec = FilterSpec(variants_pct=80, activities_pct=5, where=("channel=email,web",),
                      ends_with=("Close ticket",), complete_only=True)
    duck = apply_filters(duck_events.log, spec)
    on_spark = apply_filters(spark_events.log, spec)
    assert on_spark.describe() == duck.describe()
    ids = [sorted(r.log.table.select("case_id").distinct().execute().case_id)
           for r in (duck, on_spark)]
    assert ids[0] == ids[1] and len(ids[0]) > 1000


def test_calibration(support) -> None:  # type: ignore[no-untyped-def]
    from simulation.calibrate import calibrate

    (duck_events, _), (spark_events, _) = support
    duck, on_spark = calibrate(duck_events.log), calibrate(spark_events.log)
    assert on_spark.to_dict() == duck.to_dict()
