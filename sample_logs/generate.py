"""Seeded generator for the processmine sample event logs.

Writes, deterministically for a given seed:

* ``crm_pipeline.csv.gz``   - a Salesforce-style opportunity stage-history export
  (completion timestamps only, one row per stage change).
* ``support_tickets.csv.gz`` - a support-ticket log with start and complete times,
  produced by a SimPy discrete-event simulation with real queueing, working
  calendars and three planted bottlenecks (contention, unavailability, extraneous).
* ``ground_truth.json``     - every generator parameter plus figures realised in the
  generated data, so tests can check that mining / simulation recover them.

Only numpy, pandas and simpy are used (never the processmine package), so the
sample data stays an independent oracle for the code under test.  All randomness
comes from ``np.random.default_rng`` children of one ``SeedSequence``; there is no
wall-clock dependence, and gzip is written with ``mtime=0`` so the same seed gives
byte-identical files.

Usage::

    python sample_logs/generate.py [--seed 42] [--out sample_logs]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import deque
from pathlib import Path

import numpy as np
import pandas as pd
import simpy

# ---------------------------------------------------------------------------
# Shared time helpers
# ---------------------------------------------------------------------------

EPOCH = pd.Timestamp("2024-01-01 00:00:00")  # a Monday; all clocks are seconds from here (UTC)
DAY = 86_400.0
HOUR = 3_600.0
MINUTE = 60.0
WEEK = 7 * DAY
DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


class WeeklyCalendar:
    """Working time defined by weekly shifts, mapped to and from a working-time clock.

    The calendar is unrolled into explicit intervals so that both directions of the
    mapping (calendar seconds <-> cumulative working seconds) are a ``searchsorted``
    away.  This gives exact "pause at end of shift, resume next shift" semantics for
    activities without any SimPy preemption machinery.
    """

    def __init__(self, shifts: list[tuple[int, float, float]], weeks: int = 120):
        """``shifts`` is a list of (weekday 0=Mon, start hour, end hour) in UTC."""
        self.shifts = shifts
        starts, ends = [], []
        for w in range(weeks):
            for day, h0, h1 in sorted(shifts):
                starts.append(w * WEEK + day * DAY + h0 * HOUR)
                ends.append(w * WEEK + day * DAY + h1 * HOUR)
        self.S = np.asarray(starts)
        self.E = np.asarray(ends)
        self.C = np.cumsum(self.E - self.S)  # cumulative working seconds at interval ends
        self.Cs = self.C - (self.E - self.S)  # ... at interval starts

    def describe(self) -> dict:
        """JSON-friendly description for ground_truth.json."""
        return {
            "timezone": "UTC",
            "shifts": [
                {
                    "day": DAY_NAMES[d],
                    "start": f"{int(a):02d}:{int(round((a % 1) * 60)):02d}",
                    "end": f"{int(b):02d}:{int(round((b % 1) * 60)):02d}",
                }
                for d, a, b in sorted(self.shifts)
            ],
            "working_hours_per_week": float(sum(b - a for _, a, b in self.shifts)),
        }

    def work(self, t):
        """Cumulative working seconds elapsed between EPOCH and calendar time ``t``."""
        t = np.asarray(t, dtype=float)
        k = np.searchsorted(self.S, t, side="right") - 1
        kk = np.clip(k, 0, None)
        w = self.Cs[kk] + np.minimum(t - self.S[kk], self.E[kk] - self.S[kk])
        return np.where(k < 0, 0.0, w)

    def finish_time(self, w):
        """Calendar time at which working clock reaches ``w`` (left inverse: ends of shifts)."""
        w = np.asarray(w, dtype=float)
        k = np.searchsorted(self.C, w, side="left")
        return self.S[k] + (w - self.Cs[k])

    def start_time(self, w):
        """Calendar time at which work at clock ``w`` can begin (right inverse: starts of shifts)."""
        w = np.asarray(w, dtype=float)
        k = np.searchsorted(self.C, w, side="right")
        return self.S[k] + (w - self.Cs[k])

    def next_on(self, t: float) -> float:
        """Earliest time >= t at which the calendar is on shift."""
        return float(self.start_time(self.work(t)))

    def add_work(self, t: float, seconds: float) -> float:
        """Completion time of ``seconds`` of work started at on-shift time ``t``."""
        return float(self.finish_time(self.work(t) + seconds))


def weekdays(h0: float, h1: float, days=range(5)) -> list[tuple[int, float, float]]:
    """Shift list for the same hours on several weekdays."""
    return [(d, h0, h1) for d in days]


def lognormal_spec(median: float, sigma: float, unit: str) -> dict:
    """Document a lognormal by its log-space parameters and by median/mean in ``unit``."""
    mu = float(np.log(median))
    return {
        "dist": "lognormal",
        "unit": unit,
        "mu": mu,
        "sigma": sigma,
        "median": median,
        "mean": float(np.exp(mu + sigma**2 / 2)),
    }


def write_csv_gz(df: pd.DataFrame, path: Path) -> None:
    """Write CSV through gzip with mtime=0 and no embedded filename (byte-reproducible)."""
    data = df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    with (
        open(path, "wb") as f,
        gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(data)


def make_people(
    rng: np.random.Generator, n: int, firsts: list[str], lasts: list[str]
) -> list[tuple[str, str]]:
    """Draw ``n`` distinct fictional (first, last) name pairs."""
    combos = [(first, last) for first in firsts for last in lasts]
    idx = rng.choice(len(combos), size=n, replace=False)
    firsts_used, out = set(), []
    for i in idx:  # prefer distinct first names so names read naturally
        f, last = combos[i]
        if f not in firsts_used:
            firsts_used.add(f)
            out.append((f, last))
    for i in idx:
        if len(out) >= n:
            break
        if combos[i] not in out:
            out.append(combos[i])
    return out[:n]


FIRST_NAMES = [
    "Alice",
    "Bruno",
    "Chiara",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Keiko",
    "Lars",
    "Maya",
    "Nikhil",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sami",
    "Tilda",
    "Umar",
    "Vera",
    "Wim",
    "Xenia",
    "Yusuf",
    "Zora",
    "Anton",
    "Bea",
    "Cyril",
    "Dana",
    "Emil",
    "Fleur",
    "Gael",
    "Hana",
    "Ivo",
    "Jade",
]
LAST_NAMES = [
    "Abbott",
    "Brandt",
    "Castell",
    "Dorsey",
    "Eklund",
    "Ferro",
    "Gallo",
    "Hayes",
    "Ibarra",
    "Jansen",
    "Kovac",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quist",
    "Rinaldi",
    "Sato",
    "Thorne",
    "Ueda",
    "Varga",
    "Whitlock",
    "Yilmaz",
    "Zeller",
]

# ---------------------------------------------------------------------------
# Log 1: CRM opportunity stage history
# ---------------------------------------------------------------------------

CRM_STAGES = ["Lead", "Qualified", "Discovery", "Proposal", "Negotiation"]

CRM_PARAMS = {
    "n_target_rows": "~25,000",
    "window_start": "2024-01-01T00:00:00Z",
    "export_end": "2025-01-01T00:00:00Z",
    "business_calendar": {
        "days": "Mon-Fri",
        "hours": "08:00-18:00",
        "timezone": "UTC (team works on UTC)",
    },
    # Opportunities are created as a homogeneous Poisson process on the business-hours clock.
    "arrival_rate_per_business_hour": 2.6,
    "lead_source_mix": {
        "Web": 0.35,
        "Outbound": 0.25,
        "Event": 0.15,
        "Partner": 0.13,
        "Referral": 0.12,
    },
    "segment_mix": {"SMB": 0.55, "Mid-Market": 0.30, "Enterprise": 0.15},
    # Probability that a deal sitting in <stage> moves forward to the next stage.  For
    # Negotiation "forward" means Closed Won (final outcome, after any revised proposals).
    "continuation_probability": {
        "Web": {
            "Lead": 0.55,
            "Qualified": 0.70,
            "Discovery": 0.75,
            "Proposal": 0.80,
            "Negotiation": 0.50,
        },
        "Outbound": {
            "Lead": 0.40,
            "Qualified": 0.60,
            "Discovery": 0.70,
            "Proposal": 0.75,
            "Negotiation": 0.40,
        },
        "Event": {
            "Lead": 0.50,
            "Qualified": 0.65,
            "Discovery": 0.70,
            "Proposal": 0.80,
            "Negotiation": 0.45,
        },
        "Partner": {
            "Lead": 0.75,
            "Qualified": 0.80,
            "Discovery": 0.80,
            "Proposal": 0.85,
            "Negotiation": 0.60,
        },
        "Referral": {
            "Lead": 0.80,
            "Qualified": 0.85,
            "Discovery": 0.85,
            "Proposal": 0.85,
            "Negotiation": 0.65,
        },
    },
    "drop_outcome": {
        "Lead": "Disqualified",
        "Qualified": "Disqualified",
        "Discovery": "Closed Lost",
        "Proposal": "Closed Lost",
        "Negotiation": "Closed Lost",
    },
    # After each Negotiation visit, with this probability the deal returns to Proposal
    # ("revised proposal"), which always returns to Negotiation.  Independent of source.
    "rework_probability_negotiation_to_proposal": 0.25,
    # Time spent in a stage before the next stage change, in BUSINESS days (10 business hours).
    "stage_duration_business_days": {
        "Lead": lognormal_spec(1.5, 0.8, "business_days"),
        "Qualified": lognormal_spec(3.0, 0.7, "business_days"),
        "Discovery": lognormal_spec(5.0, 0.6, "business_days"),
        "Proposal": lognormal_spec(4.0, 0.6, "business_days"),
        "Negotiation": lognormal_spec(6.0, 0.7, "business_days"),
        "Proposal (revised)": lognormal_spec(2.0, 0.5, "business_days"),
    },
    "segment_duration_multiplier": {"SMB": 1.0, "Mid-Market": 1.0, "Enterprise": 2.5},
    "amount": {
        "SMB": lognormal_spec(8_000.0, 0.6, "USD"),
        "Mid-Market": lognormal_spec(40_000.0, 0.5, "USD"),
        "Enterprise": lognormal_spec(180_000.0, 0.6, "USD"),
    },
    "n_owners": 25,
    "n_enterprise_owners": 5,
    "owner_assignment": "Enterprise deals: uniform over the first 5 owners (enterprise AEs); "
    "SMB and Mid-Market: uniform over the other 20.",
    "off_hours_jitter": {
        "probability": 0.05,
        "max_hours": 3.0,
        "rule": "a row is pushed later by U(0,3h) only if it stays before the deal's next row "
        "and before export_end (so stage order is never changed)",
    },
    "duplicate_row_probability": 0.002,
    "n_empty_stage_rows": 10,
}


def salesforce_id(body12: str) -> str:
    """18-char Salesforce id: '006' + 12 chars + the 3-char case-checksum Salesforce appends."""
    fifteen = "006" + body12
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for chunk in (fifteen[0:5], fifteen[5:10], fifteen[10:15]):
        bits = sum(1 << i for i, c in enumerate(chunk) if c.isupper())
        suffix += alphabet[bits]
    return fifteen + suffix


def crm_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Unique opportunity ids drawn from the rng (base-62 body, valid checksum)."""
    chars = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    out, seen = [], set()
    while len(out) < n:
        body = "".join(chars[rng.integers(0, 62, size=12)])
        if body not in seen:
            seen.add(body)
            out.append(salesforce_id(body))
    return out


def stratified_continue(rng: np.random.Generator, groups: np.ndarray, probs: dict) -> np.ndarray:
    """Boolean 'moves forward' flags with exactly round(p*n) successes per group.

    Balanced draws (a random subset of fixed size) instead of independent Bernoulli
    trials keep the realised per-source conversion equal to the documented
    probability up to rounding, so tests can demand a 2-point tolerance even for
    small source x stage cells.  Which deals succeed is still uniformly random.
    """
    flags = np.zeros(len(groups), dtype=bool)
    for g, p in probs.items():
        idx = np.flatnonzero(groups == g)
        k = int(round(p * len(idx)))
        flags[rng.permutation(idx)[:k]] = True
    return flags


def draw_stage_time(rng, spec: dict, mult: np.ndarray) -> np.ndarray:
    """Business-seconds spent in a stage: lognormal business days times segment multiplier."""
    days = rng.lognormal(spec["mu"], spec["sigma"], size=len(mult)) * mult
    return days * 10 * HOUR


def simulate_crm(rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Generate the opportunity stage-history export and its realised figures."""
    p = CRM_PARAMS
    cal = WeeklyCalendar(weekdays(8, 18))
    end_cal = (pd.Timestamp("2025-01-01") - EPOCH).total_seconds()
    end_work = float(cal.work(end_cal))

    # --- deals (case attributes) -------------------------------------------------
    lam = p["arrival_rate_per_business_hour"] / HOUR
    n = int(rng.poisson(lam * end_work))
    t0 = np.sort(rng.uniform(0, end_work, size=n))
    sources = np.array(list(p["lead_source_mix"]))
    source = rng.choice(sources, size=n, p=list(p["lead_source_mix"].values()))
    segs = np.array(list(p["segment_mix"]))
    segment = rng.choice(segs, size=n, p=list(p["segment_mix"].values()))
    amount = np.empty(n)
    for s in segs:
        m = segment == s
        amount[m] = np.round(
            rng.lognormal(p["amount"][s]["mu"], p["amount"][s]["sigma"], m.sum()), 2
        )
    people = make_people(rng, p["n_owners"], FIRST_NAMES, LAST_NAMES)
    owners = np.array([f"{f.lower()}.{s.lower()}@example.com" for f, s in people])
    ne = p["n_enterprise_owners"]
    owner = np.where(
        segment == "Enterprise",
        owners[rng.integers(0, ne, n)],
        owners[rng.integers(ne, len(owners), n)],
    )
    mult = np.array([p["segment_duration_multiplier"][s] for s in segment])
    ids = np.array(crm_ids(rng, n))

    # --- stage paths (vectorised stage by stage, on the business clock) ------------
    rows_deal, rows_stage, rows_w = [], [], []

    def emit(deals: np.ndarray, stages, times: np.ndarray) -> None:
        """Collect stage-change rows (deal index, stage name, business-clock time)."""
        rows_deal.append(deals)
        rows_stage.append(np.broadcast_to(np.asarray(stages, dtype=object), deals.shape))
        rows_w.append(times)

    emit(np.arange(n), "Lead", t0)
    active, t = np.arange(n), t0.copy()
    durations = p["stage_duration_business_days"]
    for i, stage in enumerate(CRM_STAGES[:-1]):
        t = t + draw_stage_time(rng, durations[stage], mult[active])
        probs = {s: p["continuation_probability"][s][stage] for s in sources}
        fwd = stratified_continue(rng, source[active], probs)
        emit(active, np.where(fwd, CRM_STAGES[i + 1], p["drop_outcome"][stage]), t)
        active, t = active[fwd], t[fwd]
    # Negotiation: final outcome is fixed up front (stratified), revisions are geometric.
    win_probs = {s: p["continuation_probability"][s]["Negotiation"] for s in sources}
    win = stratified_continue(rng, source[active], win_probs)
    r = p["rework_probability_negotiation_to_proposal"]
    revisions = rng.geometric(1 - r, size=len(active)) - 1
    k = 0
    while len(active):
        t = t + draw_stage_time(rng, durations["Negotiation"], mult[active])
        done = revisions <= k
        emit(active[done], np.where(win[done], "Closed Won", "Closed Lost"), t[done])
        active, t, win, revisions = active[~done], t[~done], win[~done], revisions[~done]
        emit(active, "Proposal", t)
        t = t + draw_stage_time(rng, durations["Proposal (revised)"], mult[active])
        emit(active, "Negotiation", t)
        k += 1
    df = pd.DataFrame(
        {
            "deal": np.concatenate(rows_deal),
            "StageName": np.concatenate(rows_stage),
            "w": np.concatenate(rows_w),
        }
    )
    return df, {
        "owners": owners.tolist(),
        "cal": cal,
        "end_cal": end_cal,
        "ids": ids,
        "source": source,
        "segment": segment,
        "owner": owner,
        "amount": amount,
        "n": n,
    }


def crm_timestamps(df: pd.DataFrame, ctx: dict) -> pd.DataFrame:
    """Map business-clock times to UTC seconds, censor at export end, add off-hours spread.

    Whole seconds are forced strictly increasing within a deal so stage order is
    unambiguous from CreatedDate alone.
    """
    cal, end_cal = ctx["cal"], ctx["end_cal"]
    df = df.sort_values(["deal", "w"], kind="stable").reset_index(drop=True)
    df["seq"] = df.groupby("deal").cumcount()
    ts = np.floor(cal.finish_time(df["w"].to_numpy()))
    adj = pd.Series(ts - df["seq"].to_numpy()).groupby(df["deal"]).cummax().to_numpy()
    df["ts"] = adj + df["seq"].to_numpy()
    return df.loc[df["ts"] < end_cal].drop(columns="w").reset_index(drop=True)


def crm_jitter(
    rng: np.random.Generator, df: pd.DataFrame, end_cal: float
) -> tuple[pd.DataFrame, int]:
    """Push ~5% of rows up to 3 h later (evening work) without reordering a deal's stages."""
    j = CRM_PARAMS["off_hours_jitter"]
    nxt = df.groupby("deal")["ts"].shift(-1).fillna(end_cal).to_numpy()
    pick = rng.random(len(df)) < j["probability"]
    prop = df["ts"].to_numpy() + np.floor(rng.uniform(0, j["max_hours"] * HOUR, len(df)))
    ok = pick & (prop < nxt)
    df["ts"] = np.where(ok, prop, df["ts"].to_numpy())
    return df, int(ok.sum())


def crm_realised(df: pd.DataFrame, ctx: dict) -> dict:
    """Conversion, win and rework rates measured on the clean (pre-noise) export."""
    src = ctx["source"][df["deal"].to_numpy()]
    df = df.assign(source=src, nxt=df.groupby("deal")["StageName"].shift(-1))
    terminal = {"Closed Won", "Closed Lost", "Disqualified"}
    final = df.groupby("deal")["StageName"].last()
    outcome = final.where(final.isin(terminal), "open")
    deal_src = pd.Series(ctx["source"][outcome.index], index=outcome.index)
    conv = {}
    for s in CRM_PARAMS["lead_source_mix"]:
        conv[s] = {}
        d = df[df["source"] == s]
        first = d.drop_duplicates(["deal", "StageName"])
        for i, stage in enumerate(CRM_STAGES):
            f = first[first["StageName"] == stage]
            if stage == "Negotiation":
                oc = outcome.loc[f["deal"]]
                res = oc[oc.isin(["Closed Won", "Closed Lost"])]
                conv[s][stage] = {
                    "n_resolved": int(len(res)),
                    "n_open": int((oc == "open").sum()),
                    "rate": round(float((res == "Closed Won").mean()), 4),
                }
            else:
                res = f[f["nxt"].notna()]
                conv[s][stage] = {
                    "n_resolved": int(len(res)),
                    "n_open": int(f["nxt"].isna().sum()),
                    "rate": round(float((res["nxt"] == CRM_STAGES[i + 1]).mean()), 4),
                }
    neg = df[(df["StageName"] == "Negotiation") & df["nxt"].notna()]
    closed = outcome[outcome != "open"]
    win_rates = {
        s: {
            "won_over_closed": round(
                float((closed[deal_src.loc[closed.index] == s] == "Closed Won").mean()), 4
            ),
            "n_closed": int((deal_src.loc[closed.index] == s).sum()),
        }
        for s in CRM_PARAMS["lead_source_mix"]
    }
    return {
        "definition_conversion": "per deal, first visit of the stage; rate = share whose next row is the next "
        "stage, among deals with a later row (Negotiation: share Closed Won among deals "
        "that reached Negotiation and have a Closed Won/Lost outcome). Computed on the "
        "clean rows (duplicates and empty-stage rows removed).",
        "conversion_by_source_stage": conv,
        "win_rate_by_source": win_rates,
        "rework_rate_negotiation_exits_to_proposal": round(
            float((neg["nxt"] == "Proposal").mean()), 4
        ),
        "n_negotiation_exits": int(len(neg)),
        "outcomes": {k: int(v) for k, v in outcome.value_counts().sort_index().items()},
    }


def crm_realised_durations(df: pd.DataFrame, ctx: dict) -> dict:
    """Per stage, log-moments of the realised time-in-stage in business days (non-Enterprise deals)."""
    cal = ctx["cal"]
    seg = ctx["segment"][df["deal"].to_numpy()]
    bd = cal.work(df["ts"].to_numpy()) / (10 * HOUR)
    d = df.assign(
        seg=seg,
        dur=df.groupby("deal")["ts"]
        .shift(-1)
        .pipe(lambda s: cal.work(s.fillna(0).to_numpy()) / (10 * HOUR))
        - bd,
        has_next=df.groupby("deal")["ts"].shift(-1).notna(),
        prev=df.groupby("deal")["StageName"].shift(1),
    )
    d = d[d["has_next"] & (d["seg"] != "Enterprise") & (d["dur"] > 0)]
    out = {}
    for stage in CRM_STAGES:
        x = d[d["StageName"] == stage]
        if stage == "Proposal":
            x = x[x["prev"] != "Negotiation"]
        ld = np.log(x["dur"])
        out[stage] = {
            "n": int(len(x)),
            "mean_log_business_days": round(float(ld.mean()), 4),
            "std_log_business_days": round(float(ld.std()), 4),
        }
    return out


def crm_add_noise(rng: np.random.Generator, df: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """Add exact duplicate rows and blank-StageName copies, as messy CRM exports have."""
    dup = rng.random(len(df)) < CRM_PARAMS["duplicate_row_probability"]
    empties = df.iloc[
        np.sort(rng.choice(len(df), CRM_PARAMS["n_empty_stage_rows"], replace=False))
    ].copy()
    empties["StageName"] = ""
    empties["seq"] = empties["seq"] + 0.5
    out = pd.concat([df, df[dup], empties], ignore_index=True)
    return out, int(dup.sum()), len(empties)


def build_crm(rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Full CRM pipeline: simulate paths, timestamp, measure, add noise, format as an export."""
    paths, ctx = simulate_crm(rng)
    df = crm_timestamps(paths, ctx)
    df, n_jitter = crm_jitter(rng, df, ctx["end_cal"])
    realised = crm_realised(df, ctx)
    realised["stage_duration_business_days"] = crm_realised_durations(df, ctx)
    realised["n_rows_clean"] = int(len(df))
    realised["n_rows_off_hours_jittered"] = n_jitter
    wk = EPOCH + pd.to_timedelta(df["ts"], unit="s")
    realised["share_rows_in_business_hours"] = round(
        float(((wk.dt.day_of_week < 5) & (wk.dt.hour >= 8) & (wk.dt.hour < 18)).mean()), 4
    )
    df, n_dup, n_empty = crm_add_noise(rng, df)
    d = df["deal"].to_numpy()
    df = df.assign(OpportunityId=ctx["ids"][d]).sort_values(
        ["ts", "OpportunityId", "seq"], kind="stable"
    )
    d = df["deal"].to_numpy()
    out = pd.DataFrame(
        {
            "OpportunityId": df["OpportunityId"].to_numpy(),
            "StageName": df["StageName"].to_numpy(),
            "CreatedDate": (EPOCH + pd.to_timedelta(df["ts"].to_numpy(), unit="s")).strftime(
                "%Y-%m-%dT%H:%M:%S.000+0000"
            ),
            "OwnerEmail": ctx["owner"][d],
            "LeadSource": ctx["source"][d],
            "Segment": ctx["segment"][d],
            "Amount": [f"{a:.2f}" for a in ctx["amount"][d]],
        }
    )
    n_cases = int(out["OpportunityId"].nunique())
    realised.update(
        {
            "owners": ctx["owners"],
            "enterprise_owners": ctx["owners"][: CRM_PARAMS["n_enterprise_owners"]],
            "n_duplicate_rows": n_dup,
            "n_empty_stage_rows": n_empty,
            "n_rows": int(len(out)),
            "n_cases": n_cases,
            "n_open_cases": realised["outcomes"].get("open", 0),
            "share_open_cases": round(realised["outcomes"].get("open", 0) / n_cases, 4),
            "deals_by_source": {
                k: int(v) for k, v in pd.Series(ctx["source"]).value_counts().sort_index().items()
            },
            "deals_by_segment": {
                k: int(v) for k, v in pd.Series(ctx["segment"]).value_counts().sort_index().items()
            },
        }
    )
    return out, realised


# ---------------------------------------------------------------------------
# Log 2: support tickets (SimPy)
# ---------------------------------------------------------------------------


def ticket_arrival_rates() -> np.ndarray:
    """Ticket arrivals per hour for each of the 168 hours of the week (Mon 00:00 first)."""
    rates = np.zeros(168)
    for d in range(7):
        for h in range(24):
            if d < 5:
                r = 4.4 if 8 <= h < 18 else 0.8 if (6 <= h < 8 or 18 <= h < 22) else 0.1
            else:
                r = 0.5 if 9 <= h < 18 else 0.1
            rates[d * 24 + h] = r
    return rates


TICKET_PARAMS = {
    "horizon_start": "2024-01-01 00:00:00",
    "horizon_end": "2024-07-01 00:00:00",
    "arrival": {
        "process": "non-homogeneous Poisson, piecewise constant per hour of week (24/7)",
        "rates_per_hour_rule": {
            "Mon-Fri 08-18": 4.4,
            "Mon-Fri 06-08 and 18-22": 0.8,
            "Mon-Fri 22-06": 0.1,
            "Sat-Sun 09-18": 0.5,
            "Sat-Sun other": 0.1,
        },
    },
    "priority_mix": {"P1": 0.05, "P2": 0.20, "P3": 0.45, "P4": 0.30},
    "channel_mix": {"email": 0.40, "web": 0.30, "phone": 0.20, "chat": 0.10},
    "queue_discipline": "priority queue per pool: key = priority number (P1=1 .. P4=4) minus the activity's "
    "boost below, lowest first; FIFO among equal keys",
    "queue_priority_boost": {"Apply fix (tier 2)": 10},
    "routing": {
        "p_escalate_to_tier2": 0.31,
        "p_request_customer_info_given_tier1": 0.30,
        "p_approval_needed_given_escalated": 0.50,
        "p_reopen_after_close": 0.08,
    },
    "processing_minutes": {
        "Categorise": lognormal_spec(6.0, 0.5, "minutes"),
        "Request customer info": lognormal_spec(5.0, 0.4, "minutes"),
        "Resolve (tier 1)": lognormal_spec(22.0, 0.7, "minutes"),
        "Diagnose (tier 2)": lognormal_spec(75.0, 0.4, "minutes"),
        "Approve fix": lognormal_spec(2.0, 0.5, "minutes"),
        "Apply fix (tier 2)": lognormal_spec(16.0, 0.5, "minutes"),
        "Close ticket": lognormal_spec(3.0, 0.4, "minutes"),
    },
    "extraneous_delays_hours": {
        "customer reply (before 'Customer replied')": lognormal_spec(18.0, 0.9, "hours"),
        "reopen delay (Close ticket -> 'Reopen')": lognormal_spec(36.0, 0.8, "hours"),
    },
    "pools": {
        "tier1": {
            "size": 9,
            "activities": [
                "Categorise",
                "Request customer info",
                "Resolve (tier 1)",
                "Close ticket",
            ],
        },
        "tier2": {"size": 3, "activities": ["Diagnose (tier 2)", "Apply fix (tier 2)"]},
        "approver": {"size": 1, "names": ["approver"], "activities": ["Approve fix"]},
    },
    "instant_events": {
        "Ticket created": "system",
        "Customer replied": "customer",
        "Reopen": "customer",
    },
    "work_semantics": "a resource starts work only on shift; work in progress at shift end pauses (agent "
    "stays assigned) and resumes at the next shift start, so completed_at - started_at "
    "can span nights/weekends while the working-time processing equals the drawn duration",
    "open_cases": "the simulation stops at horizon_end; activity instances not completed by then are omitted "
    "(their tickets remain open in the log)",
    "row_order": "sorted by completed_at, then ticket_id, then order within the ticket",
}

TIER1_CAL = weekdays(8, 18)
TIER2_CAL = weekdays(8, 19)
APPROVER_CAL = [(1, 14, 16), (3, 14, 16)]


class Pool:
    """A named-resource pool: PriorityResource for queueing plus a FIFO of idle agents' names."""

    def __init__(self, env: simpy.Environment, names: list[str], calendar: WeeklyCalendar):
        self.res = simpy.PriorityResource(env, capacity=len(names))
        self.idle = deque(names)
        self.cal = calendar
        self.names = names


class TicketSim:
    """SimPy model of the support process; collects one row per completed activity."""

    def __init__(self, rng: np.random.Generator, agents: dict[str, list[str]]):
        self.rng = rng
        self.env = simpy.Environment()
        self.pools = {
            k: Pool(self.env, v, WeeklyCalendar(c))
            for (k, v), c in zip(agents.items(), [TIER1_CAL, TIER2_CAL, APPROVER_CAL], strict=True)
        }
        self.rows: list[tuple] = []
        self.P = TICKET_PARAMS

    def record(self, tk: dict, act: str, start: float, end: float, agent: str) -> None:
        """Append a completed activity instance (bumping the ticket's within-case sequence)."""
        tk["seq"] += 1
        self.rows.append((tk["id"], tk["seq"], act, start, end, agent))

    def duration(self, act: str) -> float:
        """Draw a processing time (seconds of working time)."""
        s = self.P["processing_minutes"][act]
        return float(self.rng.lognormal(s["mu"], s["sigma"])) * MINUTE

    def delay(self, key: str) -> float:
        """Draw an extraneous (calendar-free) delay in seconds."""
        s = self.P["extraneous_delays_hours"][key]
        return float(self.rng.lognormal(s["mu"], s["sigma"])) * HOUR

    def work(self, tk: dict, act: str, pool_key: str):
        """Queue for the pool (only while it is on shift), then work with pause/resume over shifts."""
        env, pool = self.env, self.pools[pool_key]
        dur = self.duration(act)
        on = pool.cal.next_on(env.now)
        if on > env.now:
            yield env.timeout(on - env.now)
        boost = self.P["queue_priority_boost"].get(act, 0)
        with pool.res.request(priority=tk["prio"] - boost) as req:
            yield req
            agent = pool.idle.popleft()
            start = pool.cal.next_on(env.now)
            end = pool.cal.add_work(start, dur)
            yield env.timeout(end - env.now)
            pool.idle.append(agent)
        self.record(tk, act, start, end, agent)

    def instant(self, tk: dict, act: str, agent: str):
        """Record a zero-duration event at the current time."""
        self.record(tk, act, self.env.now, self.env.now, agent)

    def ticket(self, tk: dict):
        """Control flow of one ticket."""
        r, route = self.rng, self.P["routing"]
        self.instant(tk, "Ticket created", "system")
        yield from self.work(tk, "Categorise", "tier1")
        if r.random() < route["p_escalate_to_tier2"]:
            yield from self.work(tk, "Diagnose (tier 2)", "tier2")
            if r.random() < route["p_approval_needed_given_escalated"]:
                yield from self.work(tk, "Approve fix", "approver")
            yield from self.work(tk, "Apply fix (tier 2)", "tier2")
        else:
            if r.random() < route["p_request_customer_info_given_tier1"]:
                yield from self.work(tk, "Request customer info", "tier1")
                yield self.env.timeout(self.delay("customer reply (before 'Customer replied')"))
                self.instant(tk, "Customer replied", "customer")
            yield from self.work(tk, "Resolve (tier 1)", "tier1")
        yield from self.work(tk, "Close ticket", "tier1")
        while r.random() < route["p_reopen_after_close"]:
            yield self.env.timeout(self.delay("reopen delay (Close ticket -> 'Reopen')"))
            self.instant(tk, "Reopen", "customer")
            yield from self.work(tk, "Resolve (tier 1)", "tier1")
            yield from self.work(tk, "Close ticket", "tier1")

    def arrivals(self, times: np.ndarray, attrs: list[dict]):
        """Release tickets at their pre-drawn arrival times."""
        for t, tk in zip(times, attrs, strict=True):
            yield self.env.timeout(t - self.env.now)
            self.env.process(self.ticket(tk))


def ticket_arrival_times(rng: np.random.Generator, horizon: float) -> np.ndarray:
    """Exact NHPP draw: Poisson count per clock hour, uniform positions within the hour."""
    rates = ticket_arrival_rates()
    hours = int(horizon // HOUR)
    lam = rates[np.arange(hours) % 168]
    counts = rng.poisson(lam)
    base = np.repeat(np.arange(hours) * HOUR, counts)
    return np.sort(base + rng.uniform(0, HOUR, size=len(base)))


def ticket_agents(rng: np.random.Generator) -> dict[str, list[str]]:
    """Fictional, deterministic agent names for the pools."""
    pools = TICKET_PARAMS["pools"]
    people = make_people(
        rng, pools["tier1"]["size"] + pools["tier2"]["size"], FIRST_NAMES[::-1], LAST_NAMES
    )
    names = [f"{f} {s}" for f, s in people]
    n1 = pools["tier1"]["size"]
    return {"tier1": names[:n1], "tier2": names[n1:], "approver": ["approver"]}


class FullPoolMeasure:
    """Measure of time during which a pool is on shift AND every agent is busy.

    Built from the log itself (activity instances of the pool as intervals), so the
    contention figure in ground_truth.json is what a miner could recover from the data.
    """

    def __init__(self, starts: np.ndarray, ends: np.ndarray, size: int, cal: WeeklyCalendar):
        t = np.concatenate([starts, ends])
        d = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
        order = np.lexsort((d, t))  # at equal times, releases (-1) before starts (+1)
        t, d = t[order], d[order]
        count = np.cumsum(d)
        full = (count[:-1] >= size) & (t[1:] > t[:-1])
        self.a, self.b = t[:-1][full], t[1:][full]
        self.cal = cal
        self.cum = np.concatenate([[0.0], np.cumsum(cal.work(self.b) - cal.work(self.a))])

    def __call__(self, t: np.ndarray) -> np.ndarray:
        """On-shift, all-busy seconds in [EPOCH, t]."""
        k = np.searchsorted(self.a, t, side="right") - 1
        kk = np.clip(k, 0, None)
        part = self.cal.work(np.minimum(t, self.b[kk])) - self.cal.work(self.a[kk])
        return np.where(k < 0, 0.0, self.cum[kk] + np.clip(part, 0, None))


def wait_stats(
    df: pd.DataFrame, act: str, cal: WeeklyCalendar | None, full: FullPoolMeasure | None
) -> dict:
    """Mean wait before ``act`` (its start minus the previous row's completion in the ticket),
    decomposed into: ``unavailability`` = pool off shift; ``contention`` = pool on shift with
    every agent busy; ``other`` = on shift with an idle agent (e.g. the shift began mid-wait
    while agents were idle at that instant).  Without a pool the whole wait is ``extraneous``.
    """
    w = df[df["activity"] == act]
    wait = (w["started_at"] - w["prev_completed"]).dt.total_seconds().to_numpy()
    out = {
        "n": int(len(w)),
        "mean_wait_hours": round(float(wait.mean() / HOUR), 3),
        "median_wait_hours": round(float(np.median(wait) / HOUR), 3),
    }
    if cal is None:
        out["share"] = {"extraneous": 1.0}
        return out
    s = (w["prev_completed"] - EPOCH).dt.total_seconds().to_numpy()
    e = (w["started_at"] - EPOCH).dt.total_seconds().to_numpy()
    on = cal.work(e) - cal.work(s)
    busy = full(e) - full(s)
    tot = wait.sum()
    out["share"] = {
        "contention": round(float(busy.sum() / tot), 4),
        "unavailability": round(float(1 - on.sum() / tot), 4),
        "other": round(float((on - busy).sum() / tot), 4),
    }
    return out


def tickets_realised(df: pd.DataFrame, sim: TicketSim, horizon: float) -> dict:
    """Utilisation, bottleneck waits and routing frequencies measured on the generated log."""
    df = df.sort_values(["ticket_id", "seq"]).copy()
    df["prev_completed"] = df.groupby("ticket_id")["completed_at"].shift(1)
    util, full = {}, {}
    for key, pool in sim.pools.items():
        acts = TICKET_PARAMS["pools"][key]["activities"]
        x = df[df["activity"].isin(acts)]
        s = (x["started_at"] - EPOCH).dt.total_seconds().to_numpy()
        e = (x["completed_at"] - EPOCH).dt.total_seconds().to_numpy()
        busy = (pool.cal.work(e) - pool.cal.work(s)).sum()
        util[key] = round(float(busy / (len(pool.names) * float(pool.cal.work(horizon)))), 4)
        full[key] = FullPoolMeasure(s, e, len(pool.names), pool.cal)
    routed = df.groupby("ticket_id")["activity"].agg(set)
    decided = routed[routed.apply(lambda s: "Diagnose (tier 2)" in s or "Resolve (tier 1)" in s)]
    esc = decided.apply(lambda s: "Diagnose (tier 2)" in s)
    tier1_path = decided[~esc]
    with_apply = routed[routed.apply(lambda s: "Apply fix (tier 2)" in s)]
    closes = df[df["activity"] == "Close ticket"]
    ws = lambda a, k: wait_stats(df, a, sim.pools[k].cal, full[k])  # noqa: E731
    return {
        "utilisation_on_shift": util,
        "utilisation_definition": "sum over the pool's rows of working time (pool calendar) between started_at "
        "and completed_at, divided by pool size x on-shift time in the horizon",
        "waits": {
            "Diagnose (tier 2)": {
                **ws("Diagnose (tier 2)", "tier2"),
                "intended_cause": "contention",
            },
            "Approve fix": {**ws("Approve fix", "approver"), "intended_cause": "unavailability"},
            "Customer replied": {
                **wait_stats(df, "Customer replied", None, None),
                "intended_cause": "extraneous",
            },
            "Apply fix (tier 2)": ws("Apply fix (tier 2)", "tier2"),
            "Categorise": ws("Categorise", "tier1"),
            "Resolve (tier 1)": ws("Resolve (tier 1)", "tier1"),
            "Close ticket": ws("Close ticket", "tier1"),
        },
        "routing_realised": {
            "escalated_share_of_routed_tickets": round(float(esc.mean()), 4),
            "approval_share_of_tickets_with_apply_fix": round(
                float(with_apply.apply(lambda s: "Approve fix" in s).mean()), 4
            ),
            "request_info_share_of_tier1_path_tickets": round(
                float(
                    tier1_path.index.isin(
                        df.loc[df["activity"] == "Request customer info", "ticket_id"]
                    ).mean()
                ),
                4,
            ),
            "reopen_per_close": round(
                float((df["activity"] == "Reopen").sum() / max(len(closes), 1)), 4
            ),
        },
        "n_open_tickets": int((~routed.apply(lambda s: "Close ticket" in s)).sum()),
    }


def build_tickets(rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Run the SimPy model over the horizon and format the ticket log."""
    horizon = (pd.Timestamp(TICKET_PARAMS["horizon_end"]) - EPOCH).total_seconds()
    times = ticket_arrival_times(rng, horizon)
    n = len(times)
    pr = rng.choice(
        list(TICKET_PARAMS["priority_mix"]), size=n, p=list(TICKET_PARAMS["priority_mix"].values())
    )
    ch = rng.choice(
        list(TICKET_PARAMS["channel_mix"]), size=n, p=list(TICKET_PARAMS["channel_mix"].values())
    )
    attrs = [
        {
            "id": f"TCK-{i + 1:06d}",
            "prio": int(pr[i][1]),
            "priority": pr[i],
            "channel": ch[i],
            "seq": 0,
        }
        for i in range(n)
    ]
    sim = TicketSim(rng, ticket_agents(rng))
    sim.env.process(sim.arrivals(times, attrs))
    sim.env.run(until=horizon)
    raw = pd.DataFrame(sim.rows, columns=["ticket_id", "seq", "activity", "s", "e", "agent"])
    raw = raw[raw["e"] <= horizon]
    case = pd.DataFrame(attrs).set_index("id")
    raw["started_at"] = EPOCH + pd.to_timedelta(np.floor(raw["s"].to_numpy()), unit="s")
    raw["completed_at"] = EPOCH + pd.to_timedelta(np.floor(raw["e"].to_numpy()), unit="s")
    raw["priority"] = case.loc[raw["ticket_id"], "priority"].to_numpy()
    raw["channel"] = case.loc[raw["ticket_id"], "channel"].to_numpy()
    raw = raw.sort_values(["completed_at", "ticket_id", "seq"], kind="stable")
    realised = tickets_realised(raw, sim, horizon)
    fmt = "%Y-%m-%d %H:%M:%S"
    out = pd.DataFrame(
        {
            "ticket_id": raw["ticket_id"],
            "activity": raw["activity"],
            "started_at": raw["started_at"].dt.strftime(fmt),
            "completed_at": raw["completed_at"].dt.strftime(fmt),
            "agent": raw["agent"],
            "priority": raw["priority"],
            "channel": raw["channel"],
        }
    )
    realised.update(
        {
            "n_rows": int(len(out)),
            "n_cases": int(out["ticket_id"].nunique()),
            "n_arrivals": n,
            "agents": {k: p.names for k, p in sim.pools.items()},
            "activity_counts": {
                k: int(v) for k, v in out["activity"].value_counts().sort_index().items()
            },
        }
    )
    return out, realised


# ---------------------------------------------------------------------------
# Ground truth + main
# ---------------------------------------------------------------------------


def _ticket_mean_cycle_hours(seed: int, tier2: int, warmup_weeks: float) -> float:
    """One run of the ticket process with `tier2` engineers: mean cycle time (hours) of the
    tickets that arrive after the warm-up and end with 'Close ticket' within the horizon."""
    pools = TICKET_PARAMS["pools"]
    size = pools["tier2"]["size"]
    pools["tier2"]["size"] = tier2
    try:
        arrivals_ss, sim_ss = np.random.SeedSequence(seed).spawn(2)
        rng = np.random.default_rng(arrivals_ss)
        horizon = (pd.Timestamp(TICKET_PARAMS["horizon_end"]) - EPOCH).total_seconds()
        times = ticket_arrival_times(rng, horizon)
        mix = TICKET_PARAMS["priority_mix"]
        pr = rng.choice(list(mix), size=len(times), p=list(mix.values()))
        attrs = [{"id": i, "prio": int(p[1]), "priority": p, "channel": "", "seq": 0}
                 for i, p in enumerate(pr)]
        sim = TicketSim(np.random.default_rng(sim_ss), ticket_agents(np.random.default_rng(0)))
        sim.env.process(sim.arrivals(times, attrs))
        sim.env.run(until=horizon)
    finally:
        pools["tier2"]["size"] = size
    rows = pd.DataFrame(sim.rows, columns=["id", "seq", "activity", "s", "e", "agent"])
    per = rows.sort_values(["id", "seq"]).groupby("id")
    first, last = per["s"].min(), per["activity"].last()
    cycle = (per["e"].max() - first) / HOUR
    keep = (last == "Close ticket") & (first >= warmup_weeks * 7 * 24 * HOUR)
    return float(cycle[keep].mean())


def ticket_scenario_effects(seed: int, replications: int = 30) -> dict:
    """The true effect of one more tier-2 engineer on mean cycle time, by running this
    generator itself with 3 and with 4 (same arrivals, priorities and seeds per replication):
    what a calibrated simulation's what-if should find."""
    changes = []
    for r in range(replications):
        base = _ticket_mean_cycle_hours(seed + r, 3, warmup_weeks=2)
        more = _ticket_mean_cycle_hours(seed + r, 4, warmup_weeks=2)
        changes.append(100.0 * (more - base) / base)
    values = np.asarray(changes)
    return {
        "tier 2 +1": {
            "mean_cycle_change_pct": round(float(values.mean()), 3),
            "standard_error_pct": round(float(values.std(ddof=1) / np.sqrt(len(values))), 3),
            "replications": replications,
            "how": "this generator run with 3 and with 4 tier-2 engineers, seeds seed..seed+"
            f"{replications - 1} (arrivals and priorities shared), tickets arriving after a "
            "2-week warm-up and ending with 'Close ticket'",
        }
    }


def ticket_ground_truth(seed: int, realised: dict) -> dict:
    """Parameters of the ticket generator, including the calendars and planted bottlenecks."""
    gt = json.loads(json.dumps(TICKET_PARAMS))
    gt["arrival"]["rates_per_hour_of_week"] = ticket_arrival_rates().tolist()
    gt["arrival"]["expected_tickets_per_week"] = float(ticket_arrival_rates().sum())
    gt["calendars"] = {
        "tier1": WeeklyCalendar(TIER1_CAL).describe(),
        "tier2": WeeklyCalendar(TIER2_CAL).describe(),
        "approver": WeeklyCalendar(APPROVER_CAL).describe(),
        "customer_and_system": "24/7 (extraneous delays run on calendar time)",
    }
    gt["planted_bottlenecks"] = [
        {
            "activity": "Diagnose (tier 2)",
            "cause": "contention",
            "why": "3 tier-2 engineers loaded to ~85% of their on-shift time (Diagnose ~81 min mean, Apply fix "
            "served first); waits are mostly queueing behind other tickets while all engineers are busy. "
            "Backlog that spills past 19:00 adds some off-shift waiting, see realised.waits share",
        },
        {
            "activity": "Approve fix",
            "cause": "unavailability",
            "why": "single approver on shift only Tue and Thu 14:00-16:00 (4 h/week) and lightly loaded "
            "then; waits are mostly time outside the approver's shifts",
        },
        {
            "activity": "Customer replied",
            "cause": "extraneous",
            "why": "customer reply delay after 'Request customer info' (lognormal, calendar time), no resource busy",
        },
    ]
    return {"file": "support_tickets.csv.gz", "seed": seed, **gt, "realised": realised}


def main(argv: list[str] | None = None) -> None:
    """Generate both logs and ground_truth.json."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    crm_ss, tk_ss = np.random.SeedSequence(args.seed).spawn(2)
    crm, crm_real = build_crm(np.random.default_rng(crm_ss))
    tickets, tk_real = build_tickets(np.random.default_rng(tk_ss))
    write_csv_gz(crm, args.out / "crm_pipeline.csv.gz")
    write_csv_gz(tickets, args.out / "support_tickets.csv.gz")
    gt = {
        "generator": "sample_logs/generate.py",
        "seed": args.seed,
        "seeding": "np.random.SeedSequence(seed).spawn(2): child 0 -> crm_pipeline, child 1 -> support_tickets",
        "crm_pipeline": {
            "file": "crm_pipeline.csv.gz",
            "seed": args.seed,
            **CRM_PARAMS,
            "realised": crm_real,
        },
        "support_tickets": {**ticket_ground_truth(args.seed, tk_real),
                            "scenario_effects": ticket_scenario_effects(args.seed)},
    }
    (args.out / "ground_truth.json").write_text(json.dumps(gt, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(
        f"crm_pipeline: {crm_real['n_rows']} rows / {crm_real['n_cases']} deals; "
        f"support_tickets: {tk_real['n_rows']} rows / {tk_real['n_cases']} tickets; "
        f"tier-2 utilisation {tk_real['utilisation_on_shift']['tier2']:.2f}\n"
    )


if __name__ == "__main__":
    main()
