"""Shared helpers: tiny logs written to tmp_path, and the paths of the shipped logs."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
# The real logs live in the workspace's shared folder, beside the repository.
REAL_LOGS = ROOT.parent / "shared" / "real_logs"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write a log with exactly the given text (no trailing-whitespace cleanup)."""
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def csv_file(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Factory: csv_file("a,b\\n1,2\\n", name="x.csv") -> Path."""

    def make(text: str, name: str = "log.csv", encoding: str = "utf-8") -> Path:
        return write(tmp_path / name, text, encoding)

    return make
