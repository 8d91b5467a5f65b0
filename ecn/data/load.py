"""One entry point for datasets: a named dataset, a CSV file or a folder of CIFs, to cached graphs."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Sequence

from .build import BuildLimits, BuildReport, GraphCache, build_graphs, file_sha256
from .datasets import iter_cif_folder, iter_csv_rows
from .graph import CrystalGraph, GraphSettings
from .sources import DATASETS, cache_dir, dataset_file

__all__ = ["load_dataset"]

log = logging.getLogger("ecn.data")


def load_dataset(source: str | Path, split: str | None = None, target_names: Sequence[str] | None = None,
                 settings: GraphSettings = GraphSettings(), limits: BuildLimits | None = None,
                 workers: int | None = None, limit: int | None = None, cache: bool | str | Path = True,
                 progress: bool = True, id_column: str = "material_id", cif_column: str = "cif",
                 ) -> tuple[list[CrystalGraph], BuildReport]:
    """Graphs of a dataset, built in parallel and cached; prints nothing, logs the cache use.

    ``source`` is a named dataset (``"perov5"``, ``"carbon24"``, with ``split``), a CSV file
    (plain or gzip) with a CIF column, a folder of ``.cif`` files, or one ``.cif`` file. ``target_names`` default to
    the named dataset's default target (none for other sources). Named benchmark datasets keep
    disconnected graphs (their splits must stay whole); other sources skip them, as the paper's
    Materials Project cleaning does, unless ``limits`` says otherwise.

    Returns ``(graphs, report)``; ``report.summary()`` lists what was skipped and why.
    """
    key_name = str(source).replace("_", "").replace("-", "").lower()
    if key_name in DATASETS:
        spec = DATASETS[key_name]
        if split is None:
            raise ValueError(f"expected a split of {spec.name} among {sorted(spec.splits)}, got none")
        path = dataset_file(spec.name, split)
        target_names = (spec.default_target,) if target_names is None else tuple(target_names)
        limits = limits or BuildLimits(require_connected=False)
        name = f"{spec.name}-{split}"
        rows = lambda: iter_csv_rows(path, id_column, cif_column)  # noqa: E731
        input_hash = file_sha256(path)
    else:
        path = Path(source)
        target_names = tuple(target_names or ())
        limits = limits or BuildLimits()
        if path.is_dir():
            files = sorted(path.glob("*.cif"))
            if not files:
                raise FileNotFoundError(f"expected .cif files in {path}, found none")
            h = hashlib.sha256()
            for f in files:
                h.update(f.name.encode() + b"\0" + f.read_bytes())
            input_hash, name = h.hexdigest(), path.name
            rows = lambda: iter_cif_folder(path)  # noqa: E731
        elif path.is_file() and path.suffix.lower() == ".cif":
            input_hash, name = file_sha256(path), path.stem
            rows = lambda: iter([{"id": path.stem, "cif": path.read_text(encoding="utf-8", errors="replace")}])  # noqa: E731
        elif path.is_file():
            input_hash, name = file_sha256(path), path.name.split(".")[0]
            rows = lambda: iter_csv_rows(path, id_column, cif_column)  # noqa: E731
        else:
            raise FileNotFoundError(
                f"expected a named dataset among {sorted(DATASETS)}, a CSV file or a folder of CIFs, got {str(source)!r}")
    store = None
    if cache:
        store = GraphCache(cache if isinstance(cache, (str, Path)) else cache_dir() / "graphs")
        key = store.key(input_hash, settings, target_names, limits, limit, id_column=id_column, cif_column=cif_column)
        hit = store.load(name, key)
        if hit is not None:
            return hit
    graphs, report = build_graphs(rows(), settings, target_names, limits, workers=workers, progress=progress, limit=limit)
    if store is not None:
        store.save(name, key, graphs, report)
    return graphs, report
