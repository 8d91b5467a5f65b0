"""Reading crystal datasets: CSV files with a CIF column, folders of CIF files, labels files.

Readers never stop on one bad row: a row whose bytes are not UTF-8 is yielded with a ``_skip``
reason (naming the file and row), which the build reports as skipped. A file that cannot be read
on (a truncated gzip file) is a ``ValueError`` naming the file and the last row read. File
extensions match in any case (``x.CIF``, ``data.CSV.GZ``).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

__all__ = ["iter_csv_rows", "iter_cif_folder", "cif_files", "read_labels", "LABEL_FILES"]

#: Labels files looked for in a folder of CIFs, in this order (``id_prop.csv`` is CGCNN's convention).
LABEL_FILES = ("id_prop.csv", "labels.csv")

_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def _open_text(path: Path):
    """Text that never fails to decode: bytes that are not UTF-8 become lone surrogates, found per row."""
    path = Path(path)
    if path.suffix.lower() == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="surrogateescape", newline="")
    return path.open("r", encoding="utf-8", errors="surrogateescape", newline="")


def _bad_bytes(row: dict) -> str:
    """The first column with bytes that are not UTF-8, as ``"column (byte 0xff)"``; ``""`` if none."""
    for key, value in row.items():
        if isinstance(value, str):
            m = _NOT_UTF8.search(value)
            if m:
                return f"{key} (byte 0x{ord(m.group()) - 0xDC00:02x})"
    return ""


def _replace_bad(value):
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if isinstance(value, str) else value


def _read_rows(path, reader_of) -> Iterator:
    """Rows of ``reader_of(text file)``, with a truncated or corrupt file turned into one ``ValueError``."""
    count = 0
    try:
        with _open_text(path) as fh:
            for row in reader_of(fh):
                yield count, row
                count += 1
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"expected a complete gzip file, got {path}, which ends early or is corrupt after "
                         f"{count} rows ({exc}): download or copy it again") from None
    except csv.Error as exc:
        raise ValueError(f"expected a CSV file, got {path}, which csv cannot read after {count} rows: {exc}") from None


def iter_csv_rows(path, id_column: str = "material_id", cif_column: str = "cif") -> Iterator[dict]:
    """Stream the rows of a CSV (plain or gzip) as dicts with ``id``, ``cif`` and every other column.

    Rows are read one at a time (no file is held in memory whole). A missing id becomes the row
    number.
    """
    csv.field_size_limit(1 << 30)

    def reader_of(fh):
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or cif_column not in reader.fieldnames:
            raise ValueError(f"expected a CSV with a {cif_column!r} column, got columns {reader.fieldnames} in {path}")
        return reader

    for k, row in _read_rows(path, reader_of):
        row["id"] = row.get(id_column) or str(k)
        row["cif"] = row.pop(cif_column) or ""
        bad = _bad_bytes(row)
        if bad:  # the row is skipped; its text (the id in the report, too) gets U+FFFD for the bad bytes
            row = {key: _replace_bad(v) for key, v in row.items()}
            row["_skip"] = f"not UTF-8: row {k + 1} of {path}, column {bad}"
        yield row


def cif_files(path) -> list[Path]:
    """The ``.cif`` files of a folder (the suffix in any case), sorted by name."""
    return sorted(f for f in Path(path).iterdir() if f.suffix.lower() == ".cif" and f.is_file())


def iter_cif_folder(path) -> Iterator[dict]:
    """Stream ``{"id": file stem, "cif": text}`` for every ``.cif`` file of a folder (any case), sorted by name."""
    for file in cif_files(path):
        yield {"id": file.stem, "cif": file.read_text(encoding="utf-8", errors="replace")}


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_labels(path, target_names) -> dict:
    """``{id: {target: text}}`` from a labels CSV: a header ``id,<target>,...`` (the id column may also be
    called ``material_id`` or ``name``), or CGCNN's ``id_prop.csv`` without a header (``id,value``), whose
    value columns are the targets in order.
    """
    path = Path(path)
    rows = [row for _, row in _read_rows(path, csv.reader) if row and any(c.strip() for c in row)]
    if not rows:
        raise ValueError(f"expected a labels CSV with an id column and target columns, got an empty file {path}")
    names = list(target_names)
    head = [c.strip() for c in rows[0]]
    if len(head) >= 2 and not all(_number(c) for c in head[1:]):  # a header
        id_col = next((c for c in ("id", "material_id", "name", "cif_id") if c in head), head[0])
        missing = [t for t in names if t not in head]
        if missing:
            raise ValueError(f"expected target columns {names} in the labels file {path}, got columns {head} "
                             f"(missing {missing})")
        at = {c: k for k, c in enumerate(head)}
        body, columns = rows[1:], [at[t] for t in names]
        start = 2
    else:  # CGCNN: id, then one value per target
        if len(head) - 1 != len(names):
            raise ValueError(f"expected {len(names)} value column(s) after the id in the labels file {path} "
                             f"(one per target {names}; or a header row naming them), got {len(head) - 1}")
        id_col, body, columns, start = None, rows, list(range(1, len(names) + 1)), 1
    id_at = head.index(id_col) if id_col else 0
    labels: dict = {}
    for k, row in enumerate(body):
        if len(row) <= max([id_at, *columns]):
            raise ValueError(f"expected {max([id_at, *columns]) + 1} columns in row {k + start} of {path}, "
                             f"got {len(row)}: {row!r}")
        labels[row[id_at].strip()] = {t: row[c].strip() for t, c in zip(names, columns)}
    return labels


def iter_labelled_folder(path, labels_file, target_names) -> Iterator[dict]:
    """Rows of a folder of CIFs with their targets from a labels file: one row per label, in the file's order;
    a label whose CIF file is missing becomes a row skipped for that reason."""
    files = {f.stem: f for f in cif_files(path)}
    for mid, targets in read_labels(labels_file, target_names).items():
        file = files.get(mid)
        if file is None:
            yield {"id": mid, "cif": "", **targets,
                   "_skip": f"missing CIF file: {mid}.cif is not in {path} (listed in {Path(labels_file).name})"}
            continue
        yield {"id": mid, "cif": file.read_text(encoding="utf-8", errors="replace"), **targets}
