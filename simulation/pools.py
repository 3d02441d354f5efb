"""Resource pools on the engine clock: a calendar's working time, and members who work on shift.

The engine (`simulation.engine`) asks a pool for a member and waits; how a calendar turns into
open and closed hours, and who is served first when a pool opens, are questions of their own
that change independently of how cases move, so they live here. The clock counts hours from
a Monday 00:00 (the engine's origin); `_WEEK` and `_EPS` are its units.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import deque
from heapq import heappop, heappush

import numpy as np
import numpy.typing as npt
import simpy

from processmine.mining.calendar import Calendar
from simulation.model import SimulationModel

Floats = npt.NDArray[np.float64]

_WEEK = 168.0
_EPS = 1e-9           # hours (3.6 microseconds): float noise at calendar boundaries


# --- pools and their calendars ----------------------------------------------------------------


class _Clock:
    """A calendar's working time on the engine clock, by bisection on one week's intervals.

    Parsed once per pool. `worked(u)` counts working hours from the clock's origin, so working
    time between two instants is a difference, and adding working hours is its inverse.
    """

    def __init__(self, calendar: Calendar) -> None:
        spans: list[list[float]] = []
        for day, intervals in enumerate(calendar.weekly):
            for a, b in intervals:
                lo, hi = day * 24 + a / 60, day * 24 + b / 60
                if spans and spans[-1][1] == lo:   # across midnight: one interval
                    spans[-1][1] = hi
                else:
                    spans.append([lo, hi])
        self.starts = [s[0] for s in spans]
        self.ends = [s[1] for s in spans]
        self.before = [0.0]
        for lo, hi in spans:
            self.before.append(self.before[-1] + hi - lo)
        self.week = self.before.pop()
        self.done_by = [b + hi - lo for b, (lo, hi) in zip(self.before, spans, strict=True)]

    def is_open(self, u: float) -> bool:
        r = u % _WEEK
        i = bisect_right(self.starts, r + _EPS) - 1
        return i >= 0 and r < self.ends[i] - _EPS

    def next_open(self, u: float) -> float:
        """`u` when open, else the next opening; infinity for a calendar without work."""
        if not self.starts:
            return math.inf
        if self.is_open(u):
            return u
        k, r = divmod(u, _WEEK)
        i = bisect_right(self.starts, r + _EPS)
        if i < len(self.starts) and self.starts[i] > r:
            return k * _WEEK + self.starts[i]
        return (k + 1) * _WEEK + self.starts[0]

    def worked(self, u: float) -> float:
        k, r = divmod(u, _WEEK)
        i = bisect_right(self.starts, r) - 1
        inside = 0.0 if i < 0 else self.before[i] + min(r, self.ends[i]) - self.starts[i]
        return k * self.week + inside

    def worked_many(self, u: Floats) -> Floats:
        k = np.floor(u / _WEEK)
        r = u - k * _WEEK
        i = np.searchsorted(np.asarray(self.starts), r, side="right") - 1
        j = np.maximum(i, 0)
        inside = (np.asarray(self.before)[j] + np.minimum(r, np.asarray(self.ends)[j])
                  - np.asarray(self.starts)[j])
        return np.asarray(k * self.week + np.where(i >= 0, inside, 0.0), dtype=float)

    def add(self, u: float, hours: float) -> float:
        """The instant at which `hours` of work started at `u` are done; work that fits exactly
        ends at the close of an interval, not at the next opening."""
        if hours <= 0:
            return u
        k, rem = divmod(self.worked(u) + hours, self.week)
        if rem < _EPS:
            k, rem = k - 1, rem + self.week
        i = min(bisect_left(self.done_by, rem - _EPS), len(self.done_by) - 1)
        return k * _WEEK + self.starts[i] + (rem - self.before[i])


class _Pool:
    """Interchangeable members who start work only on shift; waiting requests in rank, then
    arrival order. Members are handed out least recently released first."""

    __slots__ = ("_seq", "_wake_pending", "clock", "env", "free", "waiting")

    def __init__(self, env: simpy.Environment, clock: _Clock | None, members: range) -> None:
        self.env, self.clock = env, clock
        self.free: deque[int] = deque(members)
        self.waiting: list[tuple[int, int, simpy.Event]] = []
        self._seq = 0
        self._wake_pending = False

    def take(self) -> int:
        """A free member when one can start now and nobody waits, else -1."""
        if self.free and not self.waiting and (self.clock is None
                                               or self.clock.is_open(self.env.now)):
            return self.free.popleft()
        return -1

    def wait(self, rank: int) -> simpy.Event:
        """An event whose value is the member, once one is free and on shift."""
        event = simpy.Event(self.env)
        heappush(self.waiting, (rank, self._seq, event))
        self._seq += 1
        if self.free:   # closed: members are idle until the next opening
            self._wake()
        return event

    def give(self, member: int) -> None:
        clock = self.clock
        if self.waiting and (clock is None or clock.is_open(self.env.now)):
            heappop(self.waiting)[2].succeed(member)
            return
        self.free.append(member)
        if self.waiting:
            self._wake()

    def _wake(self) -> None:
        if self._wake_pending or self.clock is None:
            return
        at = self.clock.next_open(self.env.now)
        if math.isinf(at):
            return  # a pool without working time never serves
        self._wake_pending = True
        self.env.timeout(max(at - self.env.now, 0.0)).callbacks.append(self._open)

    def _open(self, _: simpy.Event) -> None:
        self._wake_pending = False
        while self.free and self.waiting:
            if self.clock is not None and not self.clock.is_open(self.env.now):
                self._wake()
                return
            heappop(self.waiting)[2].succeed(self.free.popleft())


def _pools(model: SimulationModel, env: simpy.Environment
           ) -> tuple[dict[str, _Pool], list[str], list[str]]:
    """The pools, every member's name, and each member's pool (members numbered globally)."""
    pools: dict[str, _Pool] = {}
    members: list[str] = []
    member_pool: list[str] = []
    if not model.has_resources:
        return pools, members, member_pool
    clocks: dict[str, _Clock | None] = {}
    for key, pool in model.pools.items():
        if pool.calendar not in clocks:
            clock = _Clock(Calendar.parse(pool.calendar))
            clocks[pool.calendar] = None if clock.week >= _WEEK else clock   # 24/7: no arithmetic
        names = pool.member_names()
        pools[key] = _Pool(env, clocks[pool.calendar], range(len(members), len(members) + len(names)))
        members += names
        member_pool += [key] * len(names)
    return pools, members, member_pool


__all__ = ["Floats"]
