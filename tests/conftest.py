"""Shared fixtures: the real datasets in $ECN_DATA_DIR (default ../shared/data) and Hypothesis profiles."""

from __future__ import annotations

import csv
import gzip
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", deadline=None, max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder with perov_5/ and carbon_24/ (gzip CSVs with CIFs)."""
    path = Path(os.environ.get("ECN_DATA_DIR", REPO.parent / "shared" / "data"))
    if not (path / "perov_5").is_dir():
        pytest.fail(f"expected the datasets under ECN_DATA_DIR={path} (perov_5/, carbon_24/), found none")
    return path


def read_cifs(path: Path, limit: int | None = None, every: int = 1) -> list[tuple[str, str]]:
    """(material_id, cif) rows of a dataset CSV, every ``every``-th row, at most ``limit``."""
    csv.field_size_limit(1 << 30)
    out = []
    with gzip.open(path, "rt", newline="") as fh:
        for k, row in enumerate(csv.DictReader(fh)):
            if k % every:
                continue
            out.append((row["material_id"], row["cif"]))
            if limit is not None and len(out) >= limit:
                break
    return out
