# ruff: noqa: PLC0415 - imports are deferred on purpose: the children time them, the parent skips them
"""Simulation benchmark: engine throughput on one core, and a what-if experiment on two.

    .venv/bin/python benchmarks/simulation.py [--seeds 5] [--replications 20] [--scenarios 5]
                                              [--workers 2] [--warmup-weeks 2]
                                              [--markdown docs/benchmarks.md] [--profile FILE]

1. Calibrates a model from sample_logs/support_tickets.csv.gz once (`read_log` +
   `simulation.calibrate.calibrate`) and simulates over the log's span (26 weeks), as
   `processmine simulate` does.
2. Throughput, in a fresh process pinned to one CPU: `simulate` for `--seeds` seeds at three
   loads (as calibrated; demand x4 with every pool x4, so the same utilisation with four times
   the cases in flight; demand x4 alone, so two pools are overloaded and their queues grow all
   run). It reports simulated activity instances per CPU second, SimPy events per CPU second,
   and the same for a bare SimPy loop (the floor: what SimPy itself costs per event).
3. Experiment: `run_experiment` with the baseline and the first `--scenarios` scenarios of
   sample_logs/scenarios.toml, `--replications` each, with `--workers` processes and then with
   one, each in a fresh process; wall time, CPU time (workers included), speed-up, and whether
   the two gave the same result (they must: a run's randomness depends only on its seed).
   Also the costs around the runs: starting the process pool, and pickling the tasks (each
   carries the whole model).
4. Profile: cProfile of one 26-week run; the top functions by cumulative and by own time, and
   how the time splits between SimPy, the engine and numpy/pandas.

Prints Markdown; `--markdown FILE` appends a dated section to FILE. Temporary files (the
calibrated model, children's JSON) go to a temporary directory that is deleted afterwards.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file is called simulation.py, so with its folder first on sys.path (as when it is run as
# a script) `import simulation` would find it instead of the package: drop that entry.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
LOG = ROOT / "sample_logs" / "support_tickets.csv.gz"
SCENARIOS = ROOT / "sample_logs" / "scenarios.toml"

#: Loads of the throughput measurement: (key, label, demand factor, pool capacity factor).
LOADS = (
    ("x1", "as calibrated", 1.0, 1),
    ("x4", "demand x4, every pool x4 (same utilisation)", 4.0, 4),
    ("x4o", "demand x4, pools as calibrated (overloaded)", 4.0, 1),
)
#: The bare-SimPy floor: this many processes, each yielding this many timeouts.
FLOOR_PROCESSES, FLOOR_TIMEOUTS = 1_000, 200
PROFILE_TOP = 10

# ----------------------------------------------------------------------------------------------
# Children: each runs as `python simulation.py --child-X ...` and writes one JSON file.
# ----------------------------------------------------------------------------------------------


def _child_calibrate(model_out: str, out: str) -> None:
    """Read the sample log, calibrate, and pickle (model, start, end) for the other children."""
    import pickle

    t0 = time.perf_counter()
    import ibis
    import pandas as pd

    from processmine import read_log
    from simulation.calibrate import calibrate

    t_imported = time.perf_counter()
    log = read_log(LOG)
    t_read = time.perf_counter()
    model = calibrate(log, seed=0)
    t_calibrated = time.perf_counter()
    # The simulated window of `processmine simulate`: the log's first start to its last end.
    t = log.table
    row = log.backend.execute(
        t.aggregate(lo=ibis.coalesce(t.start, t.end).min(), hi=t.end.max())).iloc[0]
    start, end = pd.Timestamp(row["lo"]).to_pydatetime(), pd.Timestamp(row["hi"]).to_pydatetime()
    cases = int(log.table.case_id.nunique().execute())
    Path(model_out).write_bytes(pickle.dumps((model, start, end)))
    Path(out).write_text(json.dumps({
        "import_seconds": t_imported - t0, "read_seconds": t_read - t_imported,
        "calibrate_seconds": t_calibrated - t_read, "cases": cases,
        "start": start.isoformat(), "end": end.isoformat(),
        "arrivals_per_week": model.arrivals.per_week,
        "activities": len(model.activities),
        "pools": {k: [p.capacity, p.calendar] for k, p in model.pools.items()},
    }))


def _load_model(path: str):  # noqa: ANN202 - (SimulationModel, datetime, datetime)
    import pickle

    return pickle.loads(Path(path).read_bytes())  # noqa: S301 - our own file, written by a child


def _scaled(model, demand: float, capacity: int):  # noqa: ANN001, ANN202 - a SimulationModel
    from dataclasses import replace

    pools = {k: replace(p, capacity=p.capacity * capacity) for k, p in model.pools.items()}
    return replace(model, arrivals=replace(model.arrivals, factor=model.arrivals.factor * demand),
                   pools=pools)


def _pin_one_cpu() -> int | None:
    """Pin this process to one CPU (the highest-numbered usable one), so 'one core' is literal."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def _count_events(simulate, model, start, end) -> int:  # noqa: ANN001 - engine objects
    """SimPy events processed by one run (seed 0): an extra, untimed run with a counting step."""
    import simpy

    counted = [0]
    original = simpy.Environment

    class Counting(original):  # type: ignore[misc, valid-type]
        def step(self) -> None:
            counted[0] += 1
            super().step()

    simpy.Environment = Counting  # the engine looks `simpy.Environment` up at each run
    try:
        simulate(model, start=start, end=end, seed=0)
    finally:
        simpy.Environment = original
    return counted[0] - 1  # less the `until` event that stops the run


def _floor() -> dict[str, float]:
    """Events per CPU second of bare SimPy: FLOOR_PROCESSES processes yielding timeouts of
    random lengths (so the event heap holds about as many entries as the engine's)."""
    import numpy as np
    import simpy
    from simpy.events import Timeout

    gaps = np.random.default_rng(0).exponential(1.0, (FLOOR_PROCESSES, FLOOR_TIMEOUTS)).tolist()

    def proc(env: simpy.Environment, mine: list[float]):  # noqa: ANN202 - a generator
        for gap in mine:
            yield Timeout(env, gap)

    best = float("inf")
    for _ in range(3):
        env = simpy.Environment()
        for mine in gaps:
            env.process(proc(env, mine))
        c0 = time.process_time()
        env.run()
        best = min(best, time.process_time() - c0)
    events = FLOOR_PROCESSES * (FLOOR_TIMEOUTS + 1)   # + each process's initialisation
    return {"events": events, "cpu_seconds": best, "events_per_cpu_second": events / best}


def _child_throughput(model_path: str, seeds: str, out: str) -> None:
    cpu = _pin_one_cpu()
    from simulation import engine
    from simulation.engine import simulate

    paused_gc = engine._run  # noqa: SLF001 - swapped below to measure what pausing the GC saves

    def gc_running(env, until: float) -> None:  # noqa: ANN001 - a simpy.Environment
        env.run(until=until)

    model, start, end = _load_model(model_path)
    results: dict[str, dict] = {}
    for key, _, demand, capacity in LOADS:
        m = _scaled(model, demand, capacity)
        simulate(m, start=start, end=end, seed=1000)  # warm: first-call costs are not the engine's
        runs = []
        for seed in range(int(seeds)):
            c0, w0 = time.process_time(), time.perf_counter()
            r = simulate(m, start=start, end=end, seed=seed)
            c1, w1 = time.process_time(), time.perf_counter()
            # the same run with the garbage collector left running, as before the engine paused it
            engine._run = gc_running  # noqa: SLF001
            try:
                simulate(m, start=start, end=end, seed=seed)
            finally:
                engine._run = paused_gc  # noqa: SLF001
            runs.append({"cpu": c1 - c0, "wall": w1 - w0, "cpu_gc_on": time.process_time() - c1,
                         "instances": r.instances, "arrivals": r.arrivals,
                         "completed": r.completed,
                         "utilisation": {k: v for k, v in r.utilisation.items() if v is not None}})
        results[key] = {"runs": runs, "events_seed0": _count_events(simulate, m, start, end)}
    Path(out).write_text(json.dumps({"cpu": cpu, "loads": results, "floor": _floor()}))


def _noop(x: int) -> int:
    return x


def _child_experiment(model_path: str, scenarios: str, replications: str, workers: str,
                      warmup_weeks: str, out: str) -> None:
    import hashlib
    import pickle
    import resource
    from concurrent.futures import ProcessPoolExecutor
    from datetime import timedelta

    from simulation.experiment import run_experiment
    from simulation.scenarios import apply, load_scenarios

    model, start, end = _load_model(model_path)
    chosen = load_scenarios(SCENARIOS)[: int(scenarios)]
    reps, n_workers = int(replications), int(workers)
    warmup = timedelta(weeks=float(warmup_weeks))
    # What run_experiment sends to a worker per run: the model and the run's coordinates.
    models = [model] + [apply(model, s) for s in chosen]
    t0 = time.perf_counter()
    sizes = [len(pickle.dumps((m, start, end, 0, r, warmup)))
             for m in models for r in range(reps)]
    pickle_seconds = time.perf_counter() - t0
    pool_seconds = None
    if n_workers > 1:  # a pool like run_experiment's, started and stopped around no work
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            list(pool.map(_noop, range(n_workers)))
        pool_seconds = time.perf_counter() - t0

    usage0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    c0, w0 = time.process_time(), time.perf_counter()
    result = run_experiment(model, chosen, start=start, end=end, replications=reps, seed=0,
                            warmup=warmup, workers=n_workers)
    wall = time.perf_counter() - w0
    cpu_self = time.process_time() - c0
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_children = (usage1.ru_utime + usage1.ru_stime) - (usage0[1].ru_utime + usage0[1].ru_stime)
    digest = hashlib.sha256(json.dumps(result.to_json(), sort_keys=True).encode()).hexdigest()
    Path(out).write_text(json.dumps({
        "workers": n_workers, "runs": len(models) * reps, "models": len(models),
        "scenarios": [s.name for s in chosen], "wall": wall, "cpu_self": cpu_self,
        "cpu_children": cpu_children, "pickle_bytes_mean": sum(sizes) / len(sizes),
        "pickle_seconds_all": pickle_seconds, "pool_start_seconds": pool_seconds,
        "digest": digest,
        "cycle_mean_h": result.baseline.cycle_time_hours["mean"].mean,
    }))


def _short(filename: str) -> str:
    """`.../site-packages/simpy/core.py` -> `simpy/core.py`, `.../simulation/engine.py` ->
    `simulation/engine.py`."""
    parts = Path(filename).parts
    for anchor in ("site-packages", "lib"):
        if anchor in parts:
            return "/".join(parts[parts.index(anchor) + 1:])
    return "/".join(parts[-2:]) if len(parts) > 1 else filename


def _child_profile(model_path: str, out: str, dump: str | None) -> None:
    import cProfile
    import pstats

    from simulation.engine import simulate

    model, start, end = _load_model(model_path)
    simulate(model, start=start, end=end, seed=1000)  # warm
    prof = cProfile.Profile()
    result = prof.runcall(simulate, model, start=start, end=end, seed=0)
    if dump:
        prof.dump_stats(dump)
    stats = pstats.Stats(prof)
    rows = []
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (filename, line, func), (_, ncalls, tottime, cumtime, _) in entries:
        where = f"{_short(filename)}:{line}" if line else "(built-in)"
        rows.append({"function": f"{where}({func})" if line else func, "ncalls": ncalls,
                     "tottime": tottime, "cumtime": cumtime, "file": filename})
    total = stats.total_tt  # type: ignore[attr-defined]

    def share(test) -> float:  # noqa: ANN001 - a predicate on a file name
        return sum(r["tottime"] for r in rows if test(r["file"])) / total

    split = {
        "simpy": share(lambda f: f"{os.sep}simpy{os.sep}" in f),
        "engine": share(lambda f: f.endswith(f"simulation{os.sep}engine.py")),
        "numpy/pandas": share(lambda f: any(f"{os.sep}{p}{os.sep}" in f
                                            for p in ("numpy", "pandas", "pyarrow"))),
    }
    split["other (builtins: heapq, bisect, list ops...)"] = 1.0 - sum(split.values())
    for r in rows:
        del r["file"]
    Path(out).write_text(json.dumps({
        "total_seconds": total, "instances": result.instances,
        "by_cumulative": sorted(rows, key=lambda r: -r["cumtime"])[:PROFILE_TOP],
        "by_tottime": sorted(rows, key=lambda r: -r["tottime"])[:PROFILE_TOP],
        "split": split,
    }))


# ----------------------------------------------------------------------------------------------
# The parent
# ----------------------------------------------------------------------------------------------


def _run_child(args: list[str]) -> float:
    """Run this script as a child with `args`; return its wall-clock seconds."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"measurement failed (exit {done.returncode}): {' '.join(cmd)}")
    return seconds


def _load(path: Path, process_seconds: float) -> dict:
    result = json.loads(path.read_text())
    result["process_seconds"] = process_seconds
    return result


def machine() -> dict[str, str]:
    """The machine facts of benchmarks/ingest.py, plus SimPy's and NumPy's versions."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_ingest_bench", HERE / "ingest.py")
    if spec is None or spec.loader is None:  # pragma: no cover - the file is next to this one
        raise SystemExit(f"cannot load {HERE / 'ingest.py'}")
    ingest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ingest)
    info = ingest.machine()
    done = subprocess.run(
        [sys.executable, "-c", "import simpy, numpy; print(simpy.__version__, numpy.__version__)"],
        capture_output=True, text=True, check=False)
    versions = done.stdout.split()
    info["simpy"] = versions[0] if versions else "?"
    info["numpy"] = versions[1] if len(versions) > 1 else "?"
    return info


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def report(cal: dict, thr: dict, exps: list[dict], prof: dict, info: dict[str, str],
           warmup_weeks: float) -> str:
    weeks = (_dt.datetime.fromisoformat(cal["end"])
             - _dt.datetime.fromisoformat(cal["start"])).total_seconds() / (7 * 86400)
    floor = thr["floor"]["events_per_cpu_second"]
    seeds = len(next(iter(thr["loads"].values()))["runs"])
    lines = [
        f"Model: calibrated from `sample_logs/support_tickets.csv.gz` ({cal['cases']:,} cases; "
        f"read in {cal['read_seconds']:.1f} s, calibrated in {cal['calibrate_seconds']:.1f} s): "
        f"{cal['arrivals_per_week']:.0f} arrivals/week, {cal['activities']} activities, "
        f"{len(cal['pools'])} pools. Simulated window: the log's span, {cal['start'][:16]} to "
        f"{cal['end'][:16]} ({weeks:.1f} weeks).",
        "",
        f"### Engine throughput on one core (process pinned to CPU {thr['cpu']}), {seeds} seeds "
        "per load",
        "",
        "| Load | Instances/run | SimPy events/run | CPU s/run | Wall s/run "
        "| Instances/CPU s | Events/CPU s | % of SimPy floor | CPU s/run, GC not paused |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label, _, _ in LOADS:
        load = thr["loads"][key]
        runs = load["runs"]
        inst = sum(r["instances"] for r in runs)
        cpu = sum(r["cpu"] for r in runs)
        # events are counted on seed 0; scale by that run's share of instances
        ev_rate = load["events_seed0"] / runs[0]["instances"] * inst / cpu
        lines.append(
            f"| {label} | {inst / len(runs):,.0f} | {load['events_seed0']:,} "
            f"| {_median([r['cpu'] for r in runs]):.3f} | {_median([r['wall'] for r in runs]):.3f} "
            f"| **{inst / cpu:,.0f}** | {ev_rate:,.0f} | {100 * ev_rate / floor:.0f}% "
            f"| {_median([r['cpu_gc_on'] for r in runs]):.3f} |")
    x1, over = thr["loads"]["x1"]["runs"][0], thr["loads"]["x4o"]["runs"][0]
    lines += [
        "",
        f"*Instances*: activity instances simulated (`SimResult.instances`, warm-up and "
        f"unfinished ones included); *instances/CPU s* = all instances / all CPU seconds of the "
        f"{seeds} runs; *CPU s/run*, *wall s/run*: medians. *SimPy events*: events the "
        f"environment processed in the seed-0 run (an extra, untimed run). *SimPy floor*: bare "
        f"SimPy, {FLOOR_PROCESSES:,} processes yielding {FLOOR_TIMEOUTS} random timeouts each: "
        f"{floor:,.0f} events/CPU s. *GC not paused*: the same runs with Python's garbage "
        f"collector left running during `env.run` (the engine pauses it since this benchmark; "
        f"results are identical either way). Pool utilisation as calibrated (seed 0): "
        + ", ".join(f"{k} {v:.0%}" for k, v in x1["utilisation"].items()) + "; overloaded: "
        + ", ".join(f"{k} {v:.0%}" for k, v in over["utilisation"].items())
        + ".",
        "",
    ]
    by_workers = {e["workers"]: e for e in exps}
    one = by_workers.get(1)
    first = exps[0]
    lines += [
        f"### Experiment: baseline + {len(first['scenarios'])} scenarios x "
        f"{first['runs'] // first['models']} replications = {first['runs']} runs, "
        f"warm-up {warmup_weeks:g} weeks",
        "",
        "Scenarios: " + "; ".join(first["scenarios"]) + ".",
        "",
        "| Workers | Wall s | Process s | CPU s (all processes) | Runs/s | Speed-up "
        "| Same result |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for e in sorted(exps, key=lambda e: -e["workers"]):
        speed = f"{one['wall'] / e['wall']:.2f}x" if one else "-"
        same = "yes" if one is None or e["digest"] == one["digest"] else "**NO**"
        lines.append(f"| {e['workers']} | **{e['wall']:.1f}** | {e['process_seconds']:.1f} "
                     f"| {e['cpu_self'] + e['cpu_children']:.1f} | {e['runs'] / e['wall']:.2f} "
                     f"| {speed} | {same} |")
    pool = next((e["pool_start_seconds"] for e in exps if e["pool_start_seconds"] is not None),
                None)
    lines += [
        "",
        f"*Wall s*: the `run_experiment(...)` call; *process s*: the whole child process "
        f"(start-up, imports, loading the model). Overheads: every task carries the model, "
        f"{first['pickle_bytes_mean'] / 1024:.1f} KiB pickled; pickling all {first['runs']} "
        f"tasks takes {1000 * first['pickle_seconds_all']:.1f} ms"
        + (f"; starting and stopping a {max(by_workers)}-process pool around no work takes "
           f"{pool:.2f} s" if pool is not None else "")
        + f". One run costs {one['wall'] / one['runs']:.2f} s on one worker. Baseline mean "
        f"cycle time {one['cycle_mean_h']:.1f} h (the same in every row when *same result*)."
        if one else "",
        "",
        f"### Profile of one run (as calibrated, seed 0; {prof['instances']:,} instances, "
        f"{prof['total_seconds']:.2f} s under cProfile)",
        "",
        "Own time by code: " + ", ".join(f"{k} {v:.0%}" for k, v in prof["split"].items()) + ".",
        "",
        "| Top by cumulative time | Calls | Own s | Cum. s |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| `{r['function']}` | {r['ncalls']:,} | {r['tottime']:.3f} | {r['cumtime']:.3f} |"
              for r in prof["by_cumulative"]]
    lines += ["", "| Top by own time | Calls | Own s | Cum. s |", "|---|---:|---:|---:|"]
    lines += [f"| `{r['function']}` | {r['ncalls']:,} | {r['tottime']:.3f} | {r['cumtime']:.3f} |"
              for r in prof["by_tottime"]]
    lines += [
        "",
        f"Machine: {info['nproc']} CPUs ({info['affinity']} usable), {info['cpu']}, "
        f"{info['ram']} RAM, {info['os']}; Python {info['python']}, SimPy {info['simpy']}, "
        f"NumPy {info['numpy']}. Load average after the run: {info['load']} (other work on the "
        "machine inflates the wall times and the speed-up most; CPU seconds less so).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="timed runs per throughput load")
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--scenarios", type=int, default=5,
                        help="how many scenarios of sample_logs/scenarios.toml, from the first")
    parser.add_argument("--workers", type=int, default=2, help="processes of the parallel run")
    parser.add_argument("--warmup-weeks", type=float, default=2.0)
    parser.add_argument("--markdown", type=Path, default=None,
                        help="append a dated results section to this Markdown file")
    parser.add_argument("--profile", type=Path, default=None,
                        help="also write the cProfile stats of the profiled run to this file")
    parser.add_argument("--child-calibrate", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-throughput", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-experiment", nargs=6, help=argparse.SUPPRESS)
    parser.add_argument("--child-profile", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_calibrate:
        _child_calibrate(*args.child_calibrate)
        return 0
    if args.child_throughput:
        _child_throughput(*args.child_throughput)
        return 0
    if args.child_experiment:
        _child_experiment(*args.child_experiment)
        return 0
    if args.child_profile:
        _child_profile(*args.child_profile, str(args.profile) if args.profile else None)
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="pm-simulation-"))
    model = workdir / "model.pkl"
    try:
        print("calibrating a model from the support sample (fresh process) ...", flush=True)
        seconds = _run_child(["--child-calibrate", str(model), str(workdir / "cal.json")])
        cal = _load(workdir / "cal.json", seconds)
        print(f"  {cal['cases']:,} cases, calibrated in {cal['calibrate_seconds']:.1f} s; "
              f"window {cal['start'][:16]} .. {cal['end'][:16]}", flush=True)

        print(f"measuring throughput on one core, {args.seeds} seeds x {len(LOADS)} loads ...",
              flush=True)
        seconds = _run_child(["--child-throughput", str(model), str(args.seeds),
                              str(workdir / "thr.json")])
        thr = _load(workdir / "thr.json", seconds)
        for key, label, _, _ in LOADS:
            runs = thr["loads"][key]["runs"]
            rate = sum(r["instances"] for r in runs) / sum(r["cpu"] for r in runs)
            print(f"  {label}: {rate:,.0f} instances/CPU s", flush=True)

        exps = []
        for workers in dict.fromkeys((args.workers, 1)):
            print(f"measuring the experiment with {workers} worker(s) (fresh process) ...",
                  flush=True)
            out = workdir / f"exp{workers}.json"
            seconds = _run_child(["--child-experiment", str(model), str(args.scenarios),
                                  str(args.replications), str(workers), str(args.warmup_weeks),
                                  str(out)])
            exps.append(_load(out, seconds))
            print(f"  {exps[-1]['runs']} runs in {exps[-1]['wall']:.1f} s", flush=True)

        print("profiling one run ...", flush=True)
        cmd = ["--child-profile", str(model), str(workdir / "prof.json")]
        if args.profile is not None:
            cmd += ["--profile", str(args.profile.resolve())]
        prof = _load(workdir / "prof.json", _run_child(cmd))

        text = report(cal, thr, exps, prof, machine(), args.warmup_weeks)
        print()
        print(text)
        if args.markdown is not None:
            stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
            command = (f"benchmarks/simulation.py --seeds {args.seeds} --replications "
                       f"{args.replications} --scenarios {args.scenarios} --workers "
                       f"{args.workers} --warmup-weeks {args.warmup_weeks:g}")
            section = f"\n## Simulation, support sample ({stamp})\n\n`{command}`\n\n{text}\n"
            with args.markdown.open("a", encoding="utf-8") as fh:
                fh.write(section)
            print(f"\nappended to {args.markdown}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
