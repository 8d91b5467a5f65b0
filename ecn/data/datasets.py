"""Reading crystal datasets: CSV files with a CIF column, folders of CIF files."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import Iterator

__all__ = ["iter_csv_rows", "iter_cif_folder"]


def _open_text(path: Path):
    path = Path(path)
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")


def iter_csv_rows(path, id_column: str = "material_id", cif_column: str = "cif") -> Iterator[dict]:
    """Stream the rows of a CSV (plain or gzip) as dicts with ``id``, ``cif`` and every other column.

    Rows are read one at a time (no file is held in memory whole). A missing id becomes the row
    number.
    """
    csv.field_size_limit(1 << 30)
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or cif_column not in reader.fieldnames:
            raise ValueError(f"expected a CSV with a {cif_column!r} column, got columns {reader.fieldnames} in {path}")
        for k, row in enumerate(reader):
            row["id"] = row.get(id_column) or str(k)
            row["cif"] = row.pop(cif_column)
            yield row


def iter_cif_folder(path) -> Iterator[dict]:
    """Stream ``{"id": file stem, "cif": text}`` for every ``*.cif`` file of a folder, sorted by name."""
    for file in sorted(Path(path).glob("*.cif")):
        yield {"id": file.stem, "cif": file.read_text(encoding="utf-8", errors="replace")}
