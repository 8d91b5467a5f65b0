"""One entry point for datasets: a named dataset, a CSV file or a folder of CIFs, to cached graphs."""

from __future__ import annotations

import csv
import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from .build import BuildLimits, BuildReport, GraphCache, build_graphs, check_settings, file_sha256
from .datasets import LABEL_FILES, cif_files, iter_cif_folder, iter_csv_rows, iter_labelled_folder
from .graph import CrystalGraph, GraphSettings
from .sources import DATASETS, cache_dir, dataset_file

__all__ = ["load_dataset", "graph_cache_folder"]

log = logging.getLogger("ecn.data")

_OFF = ("off", "0", "no", "none", "false")


def graph_cache_folder(cache: bool | str | Path = True) -> Path | None:
    """Where graphs are cached: ``cache`` if it is a folder, none if ``False``; else ``$ECN_GRAPH_CACHE``
    (``off`` for none, or a folder), else ``$ECN_CACHE_DIR/graphs`` (default ``~/.cache/ecn/graphs``)."""
    if cache is False:
        return None
    if isinstance(cache, (str, Path)) and not isinstance(cache, bool):
        return None if str(cache).strip().lower() in _OFF else Path(cache)
    value = os.environ.get("ECN_GRAPH_CACHE", "").strip()
    if value:
        return None if value.lower() in _OFF else Path(value)
    return cache_dir() / "graphs"


def _csv_header(path: Path) -> list:
    from .datasets import _open_text

    try:
        with _open_text(path) as fh:
            return next(csv.reader(fh), [])
    except (OSError, EOFError, UnicodeError, csv.Error, ValueError):
        return []


def _labels_file(folder: Path, labels) -> Path | None:
    if labels:
        path = Path(labels)
        if not path.is_file():
            raise FileNotFoundError(f"expected a labels CSV file, got no file at {path}")
        return path
    found = [folder / n for n in LABEL_FILES if (folder / n).is_file()]
    return found[0] if found else None


def load_dataset(source: str | Path, split: str | None = None, target_names: Sequence[str] | None = None,
                 settings: GraphSettings = GraphSettings(), limits: BuildLimits | None = None,
                 workers: int | None = None, limit: int | None = None, cache: bool | str | Path = True,
                 progress: bool = True, id_column: str = "material_id", cif_column: str = "cif",
                 labels: str | Path | None = None) -> tuple[list[CrystalGraph], BuildReport]:
    """Graphs of a dataset, built in parallel and cached; prints nothing, logs the cache use.

    ``source`` is a named dataset (``"perov5"``, ``"carbon24"``, with ``split``), a CSV file
    (plain or gzip) with a CIF column, a folder of ``.cif`` files, or one ``.cif`` file (suffixes in any
    case). A folder carries no targets: with ``target_names`` its targets come from ``labels``, a CSV of
    ``id`` and target columns (or CGCNN's headerless ``id,value``), by default the folder's own
    ``id_prop.csv`` or ``labels.csv``; the ids are the CIF file names without suffix. ``target_names`` default to
    the named dataset's default target (none for other sources). Named benchmark datasets keep
    disconnected graphs (their splits must stay whole); other sources skip them, as the paper's
    Materials Project cleaning does, unless ``limits`` says otherwise.

    ``cache``: ``True`` (see :func:`graph_cache_folder`; ``ECN_GRAPH_CACHE=off`` turns it off), ``False``,
    or a folder. An unwritable cache folder is a ``ValueError`` before anything is built.

    Returns ``(graphs, report)``; ``report.summary()`` lists what was skipped and why, and
    ``report.source_sha256`` is the sha256 of the input.
    """
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise ValueError(f"expected limit as an integer >= 0 or None, got {limit!r}")
    check_settings(settings)
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
        if path.is_file() and path.suffix.lower() != ".cif" and cif_column not in _csv_header(path) \
                and cif_files(path.parent):  # a labels file beside its CIFs
            labels, path = path, path.parent
        if path.is_dir():
            files = cif_files(path)
            if not files:
                raise FileNotFoundError(f"expected .cif files in {path}, found none")
            labels_file = _labels_file(path, labels) if target_names else None
            if target_names and labels_file is None:
                raise ValueError(
                    f"expected targets {list(target_names)} for the CIFs in {path}, got no labels: a folder carries "
                    f"no targets; put a CSV of id and target columns (header id,{','.join(target_names)}; or "
                    f"CGCNN's id_prop.csv, id,value without a header) at {path / LABEL_FILES[0]}, or pass such a "
                    f"file beside the CIFs as the data (--data {path / 'my_labels.csv'}; in Python, labels=FILE)")
            h = hashlib.sha256()
            for f in files + ([labels_file] if labels_file else []):
                h.update(f.name.encode() + b"\0" + f.read_bytes())
            input_hash, name = h.hexdigest(), path.name
            if labels_file is not None:
                rows = lambda: iter_labelled_folder(path, labels_file, target_names)  # noqa: E731
            else:
                rows = lambda: iter_cif_folder(path)  # noqa: E731
        elif path.is_file() and path.suffix.lower() == ".cif":
            input_hash, name = file_sha256(path), path.stem
            rows = lambda: iter([{"id": path.stem, "cif": path.read_text(encoding="utf-8", errors="replace")}])  # noqa: E731
        elif path.is_file():
            input_hash, name = file_sha256(path), path.name.split(".")[0]
            rows = lambda: iter_csv_rows(path, id_column, cif_column)  # noqa: E731
        else:
            raise FileNotFoundError(
                f"expected a named dataset among {sorted(DATASETS)}, a CSV file or a folder of CIFs, "
                f"got {str(source)!r}")
    store = None
    folder = graph_cache_folder(cache)
    if folder is not None:
        store = GraphCache(folder)
        key = store.key(input_hash, settings, target_names, limits, limit, id_column=id_column, cif_column=cif_column)
        hit = store.load(name, key)
        if hit is not None:
            hit[1].source_sha256 = input_hash
            return hit
        store.check_writable()  # before the build, not after it
        store.clean_orphans()
    graphs, report = build_graphs(
        rows(), settings, target_names, limits, workers=workers, progress=progress, limit=limit
    )
    report.source_sha256 = input_hash
    if store is not None:
        try:
            store.save(name, key, graphs, report)
        except OSError as exc:  # a full disk must not lose the graphs just built
            log.warning("could not write the graph cache in %s (%s); continuing without it", store.folder, exc)
    return graphs, report
