"""The connection layer's settings: DuckDB's memory cap."""

from __future__ import annotations

import os

import pytest

from processmine import backend
from processmine.errors import ConfigError


def _setting(con: object) -> str:
    return str(con.raw_sql("SELECT current_setting('memory_limit')").fetchall()[0][0])  # type: ignore[attr-defined]


def test_default_cap_is_half_the_ram_with_a_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(backend.MEMORY_ENV, raising=False)
    ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    assert backend.memory_limit() == f"{max(1500, ram_mb // 2)}MB"
    monkeypatch.setattr(os, "sysconf", lambda name: 1024 if name == "SC_PAGE_SIZE" else 1024)
    assert backend.memory_limit() == "1500MB"  # a 1 MiB machine still gets the floor


def test_a_container_limit_below_the_ram_counts(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(backend.MEMORY_ENV, raising=False)
    monkeypatch.setattr(os, "sysconf", lambda name: 4096 if name == "SC_PAGE_SIZE" else 4 * 2**20)
    limit = tmp_path / "memory.max"   # cgroup v2: bytes, or "max" for none
    monkeypatch.setattr(backend, "_CGROUP_LIMITS", (limit,))
    limit.write_text("max\n")
    assert backend.memory_limit() == "8192MB"   # 16 GiB of RAM, no container limit
    limit.write_text(f"{6 * 2**30}\n")
    assert backend.memory_limit() == "3072MB"   # a 6 GiB container
    limit.write_text(f"{64 * 2**30}\n")
    assert backend.memory_limit() == "8192MB"   # a limit above the RAM changes nothing


def test_the_environment_sets_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backend.MEMORY_ENV, "3GB")
    assert _setting(backend.connect()) == "2.7 GiB"  # DuckDB shows 3 * 10^9 bytes in GiB


@pytest.mark.parametrize("bad", ["lots", "3", "-1GB", "3 parsecs", "0MB", "1KB", "99MB"])
def test_a_bad_cap_is_a_config_error(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv(backend.MEMORY_ENV, bad)
    with pytest.raises(ConfigError, match=backend.MEMORY_ENV):
        backend.memory_limit()
