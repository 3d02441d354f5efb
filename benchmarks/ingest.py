# ruff: noqa: PLC0415 - imports are deferred on purpose: the child times them, the parent skips them
"""Ingest benchmark: how long `read_log` takes, and how much memory it needs, on a large CSV.

    .venv/bin/python benchmarks/ingest.py --events 1000000 [--seed 7] [--workdir DIR] [--keep]
                                          [--markdown docs/benchmarks.md]

1. Generates a seeded, realistic CSV export of N events (about N/8 cases of 3-15 events,
   20 activities, 200 resources, case-level channel/priority/amount), sorted by timestamp
   across cases as a system export would be.
2. Runs every measurement in a fresh Python process, so that peak RSS is that of one read:
   a cold read into a new cache DB, a cached read of the same file, and a cold read with no
   cache (in-memory engine).
3. Prints a Markdown table, the machine, and PASS/MISS against the targets; `--markdown FILE`
   appends a dated section to FILE.

Generated data goes to a temporary directory (deleted afterwards unless `--keep`); never into
the repository except under `benchmarks/data/`, which is git-ignored.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Targets from the project's performance goals.
COLD_READ_SECONDS = 10.0
CACHED_READ_SECONDS = 1.0
PEAK_RSS_MB = 2048.0

# ----------------------------------------------------------------------------------------------
# The measurement child: run as `python ingest.py --child CSV CACHE_DB|- ` and print one JSON line.
# Imports of processmine happen inside, so "process seconds" includes them.
# ----------------------------------------------------------------------------------------------


def _child(csv_path: str, cache_db: str, profile: str | None) -> None:
    t_process = time.perf_counter()
    import resource

    from processmine.reader import read_log

    t_imported = time.perf_counter()

    def run() -> tuple[int, bool, int]:
        log = read_log(Path(csv_path), cache_db=None if cache_db == "-" else Path(cache_db))
        count = int(log.table.count().execute())
        return count, bool(log.cached), int(log.quality.rows_kept)

    t0 = time.perf_counter()
    if profile:
        import cProfile

        prof = cProfile.Profile()
        count, cached, kept = prof.runcall(run)
        prof.dump_stats(profile)
    else:
        count, cached, kept = run()
    read_seconds = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({
        "read_seconds": read_seconds,
        "import_seconds": t_imported - t_process,
        "in_process_seconds": time.perf_counter() - t_process,
        "peak_rss_mb": peak_kib / 1024,
        "rows": count, "rows_kept": kept, "cached": cached,
    }))


# ----------------------------------------------------------------------------------------------
# Data generation
# ----------------------------------------------------------------------------------------------

ACTIVITIES = [
    "Receive order", "Check credit", "Validate address", "Approve order", "Reject order",
    "Reserve stock", "Pick items", "Pack items", "Print label", "Ship parcel",
    "Send invoice", "Receive payment", "Send reminder", "Escalate to manager",
    "Update order", "Cancel order", "Handle return", "Refund payment", "Close case",
    "Customer contact",
]
CHANNELS = ["web", "email", "phone", "store", "partner"]
PRIORITIES = ["low", "normal", "high", "urgent"]


def generate(path: Path, events: int, seed: int) -> dict[str, float]:
    """Write a seeded CSV log of exactly `events` rows to `path`; return size and timings."""
    import numpy as np
    import pandas as pd

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    # Case lengths 3..15 with mean 8 (3 + Binomial(12, 5/12)), so about N/8 cases; draw a few
    # more than needed, then cut the last case so the lengths sum to exactly `events`.
    lengths = 3 + rng.binomial(12, 5 / 12, size=events // 8 + 64)
    while int(lengths.sum()) < events:  # pragma: no cover - only for tiny N
        lengths = np.concatenate([lengths, 3 + rng.binomial(12, 5 / 12, size=64)])
    cum = np.cumsum(lengths)
    n_cases = int(np.searchsorted(cum, events)) + 1
    lengths = lengths[:n_cases].copy()
    lengths[-1] -= int(cum[n_cases - 1] - events)

    case_of = np.repeat(np.arange(n_cases), lengths)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    pos = np.arange(events) - first  # position of the event in its case

    # Activities: a case starts with "Receive order", ends with "Close case", and draws the
    # middle from a skewed distribution (so variants and frequencies look realistic).
    weights = 1.0 / np.arange(1, len(ACTIVITIES) + 1) ** 0.8
    weights /= weights.sum()
    act = rng.choice(len(ACTIVITIES), size=events, p=weights)
    act[pos == 0] = 0
    last = pos == np.repeat(lengths - 1, lengths)
    act[last & (lengths[case_of] > 2)] = ACTIVITIES.index("Close case")

    # Timestamps: case start uniform over a year of working hours, then gaps of minutes to days.
    year_start = np.datetime64("2024-01-01T00:00:00", "s").astype(np.int64)
    case_start = year_start + rng.integers(0, 365 * 86400, size=n_cases)
    gaps = rng.exponential(4 * 3600.0, size=events).astype(np.int64) + rng.integers(
        30, 600, size=events)
    gaps[pos == 0] = 0
    # Per-case cumulative sum of gaps: subtract the running total at each case's first event.
    csum = np.cumsum(gaps)
    case_base = csum[np.cumsum(lengths) - lengths]
    offset = csum - np.repeat(case_base, lengths)
    ts = case_start[case_of] + offset

    resources = rng.integers(0, 200, size=events)
    channel = rng.choice(len(CHANNELS), size=n_cases, p=[0.45, 0.2, 0.2, 0.1, 0.05])
    priority = rng.choice(len(PRIORITIES), size=n_cases, p=[0.3, 0.5, 0.15, 0.05])
    amount = np.round(rng.lognormal(5.0, 1.0, size=n_cases), 2)

    frame = pd.DataFrame({
        "case_id": pd.Categorical.from_codes(case_of, [f"C{i:07d}" for i in range(n_cases)]),
        "activity": pd.Categorical.from_codes(act, ACTIVITIES),
        "timestamp": ts.astype("datetime64[s]"),
        "resource": pd.Categorical.from_codes(resources, [f"R{i:03d}" for i in range(200)]),
        "channel": pd.Categorical.from_codes(channel[case_of], CHANNELS),
        "priority": pd.Categorical.from_codes(priority[case_of], PRIORITIES),
        "amount": amount[case_of],
    })
    # An export sorted by time across cases (stable, so ties keep case order).
    order = np.argsort(ts, kind="stable")
    frame = frame.iloc[order]
    t_built = time.perf_counter()
    _write_csv(frame, path)
    t_written = time.perf_counter()
    return {
        "events": events, "cases": n_cases, "bytes": path.stat().st_size,
        "build_seconds": t_built - t0, "write_seconds": t_written - t_built,
    }


def _write_csv(frame, path: Path) -> None:  # noqa: ANN001 - a pandas DataFrame
    """Write with pyarrow (fast) when available, else pandas; ISO `YYYY-MM-DD HH:MM:SS`.

    No value contains a comma or a quote, so nothing is quoted (like most system exports).
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pacsv
    except ImportError:
        frame.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
        return
    table = pa.Table.from_pandas(frame, preserve_index=False)
    ts = pc.strftime(table.column("timestamp"), format="%Y-%m-%d %H:%M:%S")
    table = table.set_column(table.schema.get_field_index("timestamp"), "timestamp", ts)
    table = pa.table({name: (pc.cast(col, pa.string()) if pa.types.is_dictionary(col.type) else col)
                      for name, col in zip(table.column_names, table.columns, strict=True)})
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))


# ----------------------------------------------------------------------------------------------
# The machine
# ----------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    versions = subprocess.run(
        [sys.executable, "-c",
         "import duckdb, ibis; print(duckdb.__version__); print(ibis.__version__)"],
        capture_output=True, text=True, check=False,
    ).stdout.split()
    return {
        "nproc": str(os.cpu_count() or "?"),
        "affinity": str(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else "?",
        "cpu": cpu, "ram": ram, "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "duckdb": versions[0] if versions else "?", "ibis": versions[1] if len(versions) > 1 else "?",
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?",
    }


# ----------------------------------------------------------------------------------------------
# The parent
# ----------------------------------------------------------------------------------------------


def measure(csv_path: Path, cache_db: Path | None, profile: Path | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(csv_path),
           str(cache_db) if cache_db is not None else "-"]
    if profile is not None:
        cmd += ["--profile", str(profile)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    process_seconds = time.perf_counter() - t0
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"measurement failed (exit {done.returncode}): {' '.join(cmd)}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = process_seconds
    return result


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(gen: dict, results: dict[str, dict], info: dict[str, str]) -> str:
    cold, cached, memory = results["cold"], results["cached"], results["memory"]
    rows = [
        ("cold read, new cache DB", cold,
         f"{_verdict(cold['read_seconds'] < COLD_READ_SECONDS)} (< {COLD_READ_SECONDS:g} s), "
         f"{_verdict(cold['peak_rss_mb'] < PEAK_RSS_MB)} (< {PEAK_RSS_MB / 1024:g} GB)"),
        ("cached read, same cache DB", cached,
         f"{_verdict(cached['read_seconds'] < CACHED_READ_SECONDS and cached['cached'])} "
         f"(< {CACHED_READ_SECONDS:g} s{'' if cached['cached'] else '; NOT served from cache'})"),
        ("cold read, no cache (in-memory)", memory,
         f"{_verdict(memory['read_seconds'] < COLD_READ_SECONDS)} (< {COLD_READ_SECONDS:g} s), "
         f"{_verdict(memory['peak_rss_mb'] < PEAK_RSS_MB)} (< {PEAK_RSS_MB / 1024:g} GB)"),
    ]
    lines = [
        f"Input: {gen['events']:,} events, {gen['cases']:,} cases, "
        f"{gen['bytes'] / 1e6:.1f} MB CSV (generated in {gen['build_seconds'] + gen['write_seconds']:.1f} s).",
        "",
        "| Measurement | Read s | Process s | Peak RSS MB | Rows kept | Target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, r, target in rows:
        lines.append(f"| {name} | {r['read_seconds']:.2f} | {r['process_seconds']:.2f} | "
                     f"{r['peak_rss_mb']:.0f} | {r['rows_kept']:,} | {target} |")
    lines += [
        "",
        "*Read s*: `read_log(...)` plus `log.table.count().execute()`. *Process s*: the whole "
        f"child process including interpreter start-up and imports (imports alone: "
        f"{cold['import_seconds']:.2f} s). *Peak RSS*: `ru_maxrss` of the child.",
        "",
        f"Machine: {info['nproc']} CPUs ({info['affinity']} usable), {info['cpu']}, "
        f"{info['ram']} RAM, {info['os']}; Python {info['python']}, DuckDB {info['duckdb']}, "
        f"Ibis {info['ibis']}. Load average after the run: {info['load']} (other work on the "
        "machine inflates the timings; compare runs on an idle machine).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where to write the CSV and cache DB (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="append a dated results section to this Markdown file")
    parser.add_argument("--profile", type=Path, default=None,
                        help="also write cProfile stats of the cold read to this file")
    parser.add_argument("--child", nargs=2, metavar=("CSV", "CACHE_DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        _child(args.child[0], args.child[1], str(args.profile) if args.profile else None)
        return 0

    own_dir = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="pm-ingest-")) if own_dir else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    csv_path = workdir / f"events_{args.events}_{args.seed}.csv"
    cache_db = workdir / f"cache_{args.events}_{args.seed}.duckdb"
    try:
        print(f"generating {args.events:,} events (seed {args.seed}) in {workdir} ...", flush=True)
        gen = generate(csv_path, args.events, args.seed)
        print(f"  {gen['cases']:,} cases, {gen['bytes'] / 1e6:.1f} MB, built in "
              f"{gen['build_seconds']:.1f} s, written in {gen['write_seconds']:.1f} s", flush=True)
        for stale in (cache_db, cache_db.with_name(cache_db.name + ".wal")):
            stale.unlink(missing_ok=True)
        results: dict[str, dict] = {}
        for key, label, db, prof in (
            ("cold", "cold read into a new cache DB", cache_db, args.profile),
            ("cached", "cached read", cache_db, None),
            ("memory", "cold read, no cache", None, None),
        ):
            print(f"measuring: {label} ...", flush=True)
            results[key] = measure(csv_path, db, prof)
            r = results[key]
            print(f"  read {r['read_seconds']:.2f} s, process {r['process_seconds']:.2f} s, "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB, cached={r['cached']}", flush=True)
        info = machine()
        text = report(gen, results, info)
        print()
        print(text)
        if args.markdown is not None:
            stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
            section = (f"\n## Ingest, {args.events:,} events ({stamp})\n\n"
                       f"`benchmarks/ingest.py --events {args.events} --seed {args.seed}`\n\n"
                       f"{text}\n")
            with args.markdown.open("a", encoding="utf-8") as fh:
                fh.write(section)
            print(f"\nappended to {args.markdown}")
        if args.keep:
            print(f"kept: {csv_path} and {cache_db}")
    finally:
        if own_dir and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif not args.keep:
            for f in (csv_path, cache_db, cache_db.with_name(cache_db.name + ".wal")):
                f.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
