"""Building many graphs: parallel workers, a report of skipped rows, and an on-disk cache.

A build streams its input rows, turns each into a :class:`CrystalGraph` in worker processes,
and skips (never fails on) a bad row, recording its id and the reason: an unparsable CIF,
overlapping atoms, a cell over the size limit, an unknown element, a disconnected graph, a
missing or non-numeric target, a row that is not UTF-8 text. A worker process that dies (the
kernel's OOM killer is the usual cause) fails the build at once with a :class:`BuildError`
that says how to use fewer workers; it never hangs. The result is cached as one ``.npz`` file (no pickle) keyed by a
hash of the input's bytes, every graph setting, the target columns, the limits and the format
version; it is written atomically, reused when the key matches, and rebuilt when stale or corrupt.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import math
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .graph import CrystalGraph, GraphSettings, expand_to_supercell, reduced_basis, unit_cell_edges
from .neighbors import NeighborError
from .radii import RADIUS_BY_Z
from .structures import StructureError, crystal_from_cif, primitive_crystal

__all__ = ["BuildLimits", "BuildReport", "BuildError", "build_graphs", "check_settings", "GraphCache",
           "CACHE_FORMAT_VERSION", "graph_from_row"]

log = logging.getLogger("ecn.data")

#: Bump when the cached arrays change meaning.
CACHE_FORMAT_VERSION = 5  # 2: unit cells with bond images (was: explicit supercells); 3: gauge; 4: tied gauges;
# 5: bonds kept in both directions under neighbor_tol, per-site targets


@dataclass(frozen=True)
class BuildLimits:
    """Row checks: ``max_sites`` atoms per unit cell, ``min_distance`` A between atoms, and whether a
    disconnected graph is skipped (``require_connected=True``, the paper's Materials Project
    cleaning) or kept and counted in the report's notes (``False``, for benchmarks whose split
    must stay whole, such as Perov-5).

    >>> BuildLimits()
    BuildLimits(max_sites=50, min_distance=0.5, require_connected=True)
    """

    max_sites: int = 50
    min_distance: float = 0.5
    require_connected: bool = True


class BuildError(RuntimeError):
    """A build that could not finish (a worker process died); not a property of the input rows."""


@dataclass
class BuildReport:
    """What a build did: rows read, graphs built, rows skipped with their id and reason.

    ``duplicates`` lists the ids that occur more than once among the built graphs;
    ``source_sha256`` is the sha256 of the input (set by :func:`ecn.data.load_dataset`).
    """

    rows: int = 0
    built: int = 0
    skipped: list = field(default_factory=list)
    notes: dict = field(default_factory=dict)
    duplicates: list = field(default_factory=list)
    source_sha256: str = ""

    def counts(self) -> dict:
        out: dict = {}
        for _, reason in self.skipped:
            kind = reason.split(":")[0]
            out[kind] = out.get(kind, 0) + 1
        return out

    def first_ids(self, kind: str, count: int = 5) -> list:
        """The ids of the first ``count`` rows skipped for the reason ``kind``."""
        return [i for i, reason in self.skipped if reason.split(":")[0] == kind][:count]

    def summary(self, name: str = "") -> str:
        """Rows read, kept and skipped per reason with the first ids, duplicate ids; one line each."""
        head = f"{name}: " if name else ""
        lines = [f"{head}{self.rows} rows read, {self.built} graphs kept, {len(self.skipped)} skipped"]
        for kind, n in sorted(self.counts().items()):
            ids = self.first_ids(kind)
            more = ", ..." if n > len(ids) else ""
            lines.append(f"  {n:>6} skipped: {kind} (first: {', '.join(map(str, ids))}{more})")
        lines += [f"  {n:>6} kept: {kind}" for kind, n in sorted(self.notes.items())]
        if self.duplicates:
            shown = ", ".join(map(str, self.duplicates[:5])) + (", ..." if len(self.duplicates) > 5 else "")
            lines.append(f"  {len(self.duplicates):>6} duplicate ids (kept, told apart by their row): {shown}")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps({"rows": self.rows, "built": self.built, "skipped": self.skipped, "notes": self.notes,
                           "duplicates": self.duplicates})

    @classmethod
    def from_json(cls, text: str) -> BuildReport:
        d = json.loads(text)
        return cls(d["rows"], d["built"], [tuple(x) for x in d["skipped"]], d.get("notes", {}),
                   list(d.get("duplicates", [])))


def _targets(row: dict, target_names: Sequence[str]) -> dict:
    """The row's targets: a number each, or, for a per-site target, a list of numbers (see :func:`site_values`)."""
    out = {}
    for name in target_names:
        raw = row.get(name)
        if isinstance(raw, (list, tuple, np.ndarray)) or (isinstance(raw, str) and raw.lstrip().startswith("[")):
            out[name] = site_values(raw, name)
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"missing target: {name} is {raw!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"missing target: {name} is {raw!r}")
        out[name] = value
    return out


def site_values(raw, name: str = "target") -> np.ndarray:
    """A per-site target as a read-only float array: a JSON list (``"[2, 6, 2.5, null]"``) or a sequence.

    One value per site of the structure, in the order in which the CIF lists its sites (pymatgen's
    order of the expanded sites); ``null`` (or NaN) marks a site without a label, which the loss and
    the metrics skip. At least one value must be a number.

    >>> site_values("[12, 6, 2, 2, null]", "bonds")
    array([12.,  6.,  2.,  2., nan])
    >>> site_values("[1, 2", "bonds")
    Traceback (most recent call last):
    ...
    ValueError: missing target: bonds is '[1, 2', expected a JSON list of numbers (one per site)
    """
    values = raw
    if isinstance(raw, str):
        try:
            values = json.loads(raw)
        except ValueError:
            values = None
    try:
        array = np.array([math.nan if v is None else v for v in values], dtype=float)
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim != 1 or not array.size or np.isinf(array).any() or np.isnan(array).all():
        shown = raw if len(str(raw)) <= 80 else str(raw)[:77] + "..."
        raise ValueError(f"missing target: {name} is {shown!r}, expected a JSON list of numbers (one per site)")
    array.setflags(write=False)
    return array


def graph_from_row(row: dict, settings: GraphSettings, target_names: Sequence[str] = (),
                   limits: BuildLimits = BuildLimits()) -> CrystalGraph:
    """One row (``id``, ``cif`` and target columns) to a graph; raises ``ValueError`` naming the reason.

    A row with a ``_skip`` entry (set by the readers, e.g. for bytes that are not UTF-8) is refused
    with that reason.
    """
    if row.get("_skip"):
        raise ValueError(row["_skip"])
    targets = _targets(row, target_names)
    try:
        crystal = crystal_from_cif(row["cif"], id=row["id"])
    except StructureError as exc:
        raise ValueError(f"unparsable CIF: {exc}") from None
    per_site = sorted(t for t, v in targets.items() if np.ndim(v))
    if settings.primitive:
        if per_site:
            raise ValueError(f"per-site target {per_site[0]} needs the cell as written, got primitive=true (the "
                             "primitive cell has other sites)")
        crystal = primitive_crystal(crystal)
    for t in per_site:
        if len(targets[t]) != crystal.num_sites:
            raise ValueError(f"per-site target {t} has {len(targets[t])} values, expected one per site "
                             f"({crystal.num_sites})")
    crystal = reduced_basis(crystal, settings)
    unknown = sorted({int(z) for z in crystal.numbers if z >= len(RADIUS_BY_Z) or np.isnan(RADIUS_BY_Z[z])})
    if unknown:
        raise ValueError(f"unknown element: no covalent radius for Z = {unknown}")
    if crystal.num_sites > limits.max_sites:
        raise ValueError(f"cell too large: {crystal.num_sites} sites, limit {limits.max_sites}")
    d = crystal.min_distance()
    if d < limits.min_distance:
        raise ValueError(f"overlapping atoms: two atoms {d:.3f} A apart, limit {limits.min_distance} A")
    try:
        edges = unit_cell_edges(crystal, settings)
    except NeighborError as exc:
        raise ValueError(f"no graph: {exc}") from None
    if len(edges) == 0:
        raise ValueError("disconnected graph: no bonds at all")
    graph = expand_to_supercell(crystal, edges, settings.supercell, id=row["id"], targets=targets, gauge=settings.gauge)
    if limits.require_connected and not graph.is_connected():
        raise ValueError("disconnected graph: the bonds do not connect every atom of the supercell")
    return graph


def _work(args):
    row, settings, target_names, limits = args
    try:
        return True, graph_from_row(row, settings, target_names, limits)
    except ValueError as exc:
        return False, (row.get("id", "?"), str(exc))
    except Exception as exc:  # a bug or a library failure on one row must not end the build
        return False, (row.get("id", "?"), f"error: {type(exc).__name__}: {exc}")


def check_settings(settings: GraphSettings) -> None:
    """Limits that mean nothing are refused (``max_neighbors=0`` would otherwise mean "no limit")."""
    m = settings.max_neighbors
    if m is not None and (isinstance(m, bool) or not isinstance(m, int) or m < 1):
        raise ValueError(f"expected max_neighbors as an integer >= 1 or None (no limit), got {m!r}")
    if not (isinstance(settings.cutoff, (int, float)) and settings.cutoff > 0):
        raise ValueError(f"expected cutoff > 0 A, got {settings.cutoff!r}")


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the main process (which stops them), so a terminal shows one line, not one per worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop(pool: ProcessPoolExecutor, processes: list) -> None:
    """Stop a pool's workers now (a dead worker or Ctrl-C must not leave the others running)."""
    # The pool's own thread reaps the dead workers too; wait for it before joining them, as a join racing
    # with it can find a worker already reaped and not yet marked as ended (it would then look alive).
    manager = getattr(pool, "_executor_manager_thread", None)  # shutdown() forgets it
    for p in processes:
        if p.is_alive():
            p.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    if manager is not None:
        manager.join(timeout=5)
    for p in processes:
        p.join(timeout=5)


def _dead_workers(processes: list) -> str:
    for p in processes:  # give a dying worker a moment to be reaped, so that its signal can be named
        if p.exitcode is None:
            p.join(timeout=0.2)
    codes = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
    named = []
    for code in codes:
        try:
            named.append(f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}")
        except ValueError:
            named.append(f"exit status {code}")
    return "; ".join(named) or "killed"


def build_graphs(rows: Iterable[dict], settings: GraphSettings = GraphSettings(), target_names: Sequence[str] = (),
                 limits: BuildLimits = BuildLimits(), workers: int | None = None, progress: bool = True,
                 limit: int | None = None, chunk: int = 2048) -> tuple[list[CrystalGraph], BuildReport]:
    """Build graphs from rows (dicts with ``id``, ``cif`` and targets), in ``workers`` processes.

    Rows are consumed ``chunk`` at a time, so memory stays bounded by the graphs themselves.
    Bad rows are skipped and reported; the order of the output follows the input. ``workers``:
    ``None`` = every core, ``0`` or ``1`` = in this process. Raises :class:`BuildError` at once
    when a worker process dies (for lack of memory, most often) and ``ValueError`` for a negative
    ``workers``, ``limit`` or a ``chunk`` below 1.
    """
    for name, value, low in (("workers", workers, 0), ("limit", limit, 0), ("chunk", chunk, 1)):
        if (value is not None or name == "chunk") and (not isinstance(value, int) or isinstance(value, bool)
                                                       or value < low):
            raise ValueError(f"expected {name} as an integer >= {low}" + (" or None" if name != "chunk" else "")
                             + f", got {value!r}")
    check_settings(settings)
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    rows = iter(rows) if limit is None else itertools.islice(rows, limit)
    report = BuildReport()
    graphs: list[CrystalGraph] = []
    ctx = mp.get_context("fork") if sys.platform.startswith("linux") else mp.get_context()
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_ignore_sigint) if workers > 1 else None
    processes = []
    if pool is not None:  # start the workers before the progress bar's thread exists
        pool.submit(int).result()
        processes = list(getattr(pool, "_processes", {}).values())
    bar = _progress(progress, limit)
    seen: dict = {}
    try:
        while True:
            batch = [(row, settings, tuple(target_names), limits) for row in itertools.islice(rows, chunk)]
            if not batch:
                break
            results = pool.map(_work, batch, chunksize=32) if pool else map(_work, batch)
            for ok, value in results:
                report.rows += 1
                if ok:
                    graphs.append(value)
                    report.built += 1
                    seen[value.id] = seen.get(value.id, 0) + 1
                    if seen[value.id] == 2:
                        report.duplicates.append(value.id)
                    if not limits.require_connected and not value.is_connected():
                        report.notes["disconnected graph"] = report.notes.get("disconnected graph", 0) + 1
                else:
                    report.skipped.append(value)
                bar.update(1)
    except BrokenProcessPool:
        how = _dead_workers(processes)
        _stop(pool, processes)
        pool = None
        raise BuildError(
            f"expected {workers} graph-building worker processes to finish, got one that died ({how}) after "
            f"{report.rows} rows: most likely the kernel killed it for lack of memory; use fewer workers "
            f"(--set workers=1, or workers=N; in Python, workers=1) or free memory, then run again") from None
    except BaseException:  # Ctrl-C or an error: stop the workers now instead of waiting for them
        if pool:
            _stop(pool, processes)
            pool = None
        raise
    finally:
        if pool:
            pool.shutdown(wait=True)
        bar.close()
    return graphs, report


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress(enabled: bool, total, unit: str = "graph", desc: str = "building graphs", mininterval: float = 1.0):
    """A tqdm bar on stderr, or one that does nothing (``enabled`` false, or no tqdm)."""
    if not enabled:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        return _NoBar()
    return tqdm(total=total, unit=unit, desc=desc, mininterval=mininterval, file=sys.stderr)


# -- cache -----------------------------------------------------------------------------------

def file_sha256(path) -> str:
    """sha256 of a file's bytes, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class GraphCache:
    """Graphs cached as ``<folder>/<name>-<key>.npz``; see the module doc.

    >>> import tempfile
    >>> cache = GraphCache(tempfile.mkdtemp())
    >>> key = cache.key(input_sha256="0" * 64, settings=GraphSettings(), target_names=["e"])
    >>> cache.load("demo", key) is None
    True
    """

    def __init__(self, folder) -> None:
        self.folder = Path(folder)

    @staticmethod
    def key(input_sha256: str, settings: GraphSettings, target_names: Sequence[str],
            limits: BuildLimits = BuildLimits(), limit: int | None = None, **reading) -> str:
        """The cache key; ``reading`` holds how rows are read (e.g. ``id_column``, ``cif_column``)."""
        payload = {"format": CACHE_FORMAT_VERSION, "input": input_sha256, "settings": dataclasses.asdict(settings),
                   "targets": list(target_names), "limits": dataclasses.asdict(limits), "limit": limit,
                   "reading": {k: reading[k] for k in sorted(reading)}}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def path(self, name: str, key: str) -> Path:
        return self.folder / f"{name}-{key[:20]}.npz"

    def load(self, name: str, key: str):
        """``(graphs, report)`` from the cache, or ``None`` if absent, stale or corrupt."""
        path = self.path(name, key)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["key"]) != key:
                    log.warning("graph cache %s is stale; rebuilding", path)
                    return None
                graphs = _unpack(data)
                report = BuildReport.from_json(str(data["report"]))
        except Exception as exc:
            log.warning("graph cache %s is unreadable (%s); rebuilding", path, exc)
            return None
        if not report.duplicates:  # caches written before the report kept them
            report.duplicates = _duplicates(graphs)
        log.info("using graph cache %s (%d graphs)", path, len(graphs))
        return graphs, report

    def check_writable(self) -> None:
        """Raise ``ValueError`` now if the folder cannot be created or written (before a build, not after it)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=self.folder, prefix=".write-test-", suffix=".tmp")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise ValueError(
                f"expected a writable graph cache folder, got {self.folder} ({exc.strerror or exc}): set "
                f"ECN_GRAPH_CACHE=off to build without a cache, or ECN_GRAPH_CACHE=FOLDER (or ECN_CACHE_DIR) "
                f"to move it") from None

    def clean_orphans(self, older_than: float = 3600.0) -> int:
        """Remove temporary files of interrupted writes (``*.npz*.tmp``) older than ``older_than`` seconds."""
        removed = 0
        now = time.time()
        for tmp in self.folder.glob("*.npz*.tmp"):
            try:
                if now - tmp.stat().st_mtime > older_than:
                    tmp.unlink()
                    removed += 1
            except OSError:
                pass
        return removed

    def save(self, name: str, key: str, graphs: Sequence[CrystalGraph], report: BuildReport) -> Path:
        """Write atomically: a temporary file in the same folder, then a rename."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(name, key)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, key=np.array(key), report=np.array(report.to_json()), **_pack(graphs))
            os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; a cache is shared like any other file
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        log.info("wrote graph cache %s (%d graphs)", path, len(graphs))
        return path


def _duplicates(graphs: Sequence[CrystalGraph]) -> list:
    counts: dict = {}
    for g in graphs:
        counts[g.id] = counts.get(g.id, 0) + 1
    return [i for i, n in counts.items() if n > 1]


_SITE = ("frac", "numbers")
_EDGE = ("unit_edge_image", "unit_edge_length")


def _pack(graphs: Sequence[CrystalGraph]) -> dict:
    """The unit cells of the graphs as flat arrays (a graph's supercell is derived from them on use)."""
    target_names = sorted({k for g in graphs for k, v in g.targets.items() if not np.ndim(v)})
    site_names = sorted({k for g in graphs for k, v in g.targets.items() if np.ndim(v)})
    out = {
        "num_sites": np.array([g.num_sites for g in graphs], dtype=np.int64),
        "num_edges": np.array([g.num_unit_edges for g in graphs], dtype=np.int64),
        "supercell": np.array([json.dumps(g.supercell) for g in graphs], dtype=str),
        "lattice": np.array([g.lattice for g in graphs]).reshape(-1, 3, 3),
        "ids": np.array([g.id for g in graphs], dtype=str),
        "target_names": np.array(target_names, dtype=str),
        # a column may be per site in some rows and one number in others: each kind goes to its own array
        "targets": np.array([[_number(g.targets.get(t)) for t in target_names] for g in graphs],
                            dtype=float).reshape(len(graphs), len(target_names)),
        "unit_edge_index": np.concatenate([g.unit_edge_index for g in graphs], axis=1) if graphs
        else np.zeros((2, 0), np.int64),
        # per-site targets: one row per site, NaN where a graph has no such target
        "site_target_names": np.array(site_names, dtype=str),
        "site_targets": np.concatenate([_site_rows(g, site_names) for g in graphs]) if graphs
        else np.zeros((0, len(site_names))),
        "num_gauges": np.array([0 if g.gauge_shifts is None else len(g.gauge_shifts) for g in graphs], dtype=np.int64),
        "gauge_shifts": np.concatenate([g.gauge_shifts.reshape(-1, 3) for g in graphs if g.gauge_shifts is not None]
                                       + [np.zeros((0, 3), np.int16)]).astype(np.int16),
    }
    for name in _SITE + _EDGE:
        width = {"frac": 3, "unit_edge_image": 3}.get(name)
        empty = np.zeros((0, width) if width else 0)
        out[name] = np.concatenate([getattr(g, name) for g in graphs]) if graphs else empty
    return out


def _number(value) -> float:
    """A graph target as one number for the cache's per-graph array; NaN where absent or given per site."""
    return np.nan if value is None or np.ndim(value) else value


def _site_rows(g: CrystalGraph, names: Sequence[str]) -> np.ndarray:
    rows = np.full((g.num_sites, len(names)), np.nan)
    for k, t in enumerate(names):
        v = g.targets.get(t)
        if v is not None and np.ndim(v):
            rows[:, k] = v
    return rows


def _unpack(data) -> list[CrystalGraph]:
    ns, ne = data["num_sites"], data["num_edges"]
    site_at = np.concatenate([[0], np.cumsum(ns)])
    edge_at = np.concatenate([[0], np.cumsum(ne)])
    arrays = {name: data[name] for name in _SITE + _EDGE}
    edge_index, lattice, supercell = data["unit_edge_index"], data["lattice"], data["supercell"]
    ids, names, targets = data["ids"], [str(t) for t in data["target_names"]], data["targets"]
    for a in (edge_index, lattice, *arrays.values()):
        a.setflags(write=False)
    files = getattr(data, "files", data)  # caches written before per-site targets have none
    site_names = [str(t) for t in data["site_target_names"]] if "site_target_names" in files else []
    site_targets = data["site_targets"] if site_names else None
    if site_targets is not None:
        site_targets.setflags(write=False)
    ng = data["num_gauges"]
    gauge_at = np.concatenate([[0], np.cumsum(ng * ns)])
    shifts = data["gauge_shifts"]
    shifts.setflags(write=False)
    graphs = []
    for k in range(len(ns)):
        a, b, c, d = site_at[k], site_at[k + 1], edge_at[k], edge_at[k + 1]
        gauges = shifts[gauge_at[k]:gauge_at[k + 1]].reshape(int(ng[k]), int(ns[k]), 3) if ng[k] else None
        t = {name: float(targets[k, j]) for j, name in enumerate(names) if np.isfinite(targets[k, j])}
        for j, name in enumerate(site_names):
            values = site_targets[a:b, j]
            if not np.isnan(values).all():
                t[name] = values
        sc = json.loads(str(supercell[k]))
        graphs.append(CrystalGraph(
            lattice=lattice[k], frac=arrays["frac"][a:b], numbers=arrays["numbers"][a:b],
            unit_edge_index=edge_index[:, c:d], unit_edge_image=arrays["unit_edge_image"][c:d],
            unit_edge_length=arrays["unit_edge_length"][c:d],
            supercell=tuple(sc) if isinstance(sc[0], int) else tuple(tuple(r) for r in sc),
            id=str(ids[k]), targets=t, gauge_shifts=gauges,
        ))
    return graphs
