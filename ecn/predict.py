"""Prediction on many structures: inputs found, graphs built in worker processes, batched forward passes.

A :class:`Predictor` holds one or several checkpoints (an ensemble: the same targets, any
models). :meth:`Predictor.stream` reads inputs (CIF files, POSCAR/CONTCAR files, extended XYZ
files through ASE, rows of CSV files with a ``cif`` column), builds each structure's graph and
batch in worker processes with each member's own graph rule and batch maker
(:func:`ecn.train.collater`, so every model form keeps working), runs one batched forward pass
per member and batch, and yields one :class:`Record` per structure, in input order. A structure
that cannot be read or graphed becomes a record with an ``error`` and no values; it never stops
the run.

>>> from ecn.predict import structure_kind
>>> structure_kind("a/POSCAR"), structure_kind("x.cif"), structure_kind("t.csv.gz"), structure_kind("notes.txt")
('poscar', 'cif', 'csv', None)
"""

from __future__ import annotations

import collections
import csv
import gzip
import io
import math
import multiprocessing as mp
import os
import signal
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "UNITS",
    "PredictionError",
    "Predictor",
    "Record",
    "format_values",
    "iter_inputs",
    "structure_files",
    "structure_kind",
    "write_csv",
]

#: Units of the targets of the named datasets, for messages and docs.
UNITS = {("perov5", "heat_all"): "eV per 5-atom cell", ("perov5", "heat_ref"): "eV per 5-atom cell",
         ("perov5", "dir_gap"): "eV", ("perov5", "ind_gap"): "eV", ("carbon24", "energy_per_atom"): "eV per atom"}

_ID_COLUMNS = ("material_id", "id", "name")
_UNKNOWN_TYPE = "unknown file type: expected .cif, POSCAR/CONTCAR/.vasp, .xyz/.extxyz or .csv/.csv.gz"


class PredictionError(ValueError):
    """Structures that could not be predicted (the message names them and says why)."""


@dataclass(frozen=True)
class Record:
    """One structure's prediction: ``values`` (T,) the ensemble mean (the prediction for one
    checkpoint), ``std`` (T,) the ensemble's standard deviation (``None`` for one checkpoint);
    both ``None`` and ``error`` set when the structure could not be read or graphed. ``name`` is
    the path for a file and the id for a CSV row (what a line on stdout starts with). For per-site
    targets (a model with ``readout="node"``) ``values`` and ``std`` are ``(S, T)``: a tuple of
    ``T`` values for each of the structure's ``S`` sites, in the order of its file."""

    source: str
    id: str
    name: str = ""
    values: tuple | None = None
    std: tuple | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


# -- inputs ----------------------------------------------------------------------------------

def structure_kind(path) -> str | None:
    """The reader for a file name: ``"cif"``, ``"poscar"`` (POSCAR*, CONTCAR*, ``*.vasp``), ``"xyz"``
    (``*.xyz``, ``*.extxyz``), ``"csv"`` (``*.csv``, ``*.csv.gz``), or ``None``."""
    name = Path(path).name
    lower = name.lower()
    if lower.endswith(".cif"):
        return "cif"
    if name.startswith(("POSCAR", "CONTCAR")) or lower.endswith((".vasp", ".poscar")):
        return "poscar"
    if lower.endswith((".xyz", ".extxyz")):
        return "xyz"
    if lower.endswith((".csv", ".csv.gz")):
        return "csv"
    return None


def structure_files(folder) -> list[Path]:
    """Every structure file under a folder, recursively (CIF, POSCAR/CONTCAR, extended XYZ), sorted."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and structure_kind(p) in ("cif", "poscar", "xyz"))


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")


def _csv_items(path: Path, cif_column: str = "cif") -> Iterator[tuple]:
    """``("cif", source, id, text)`` per row; the id from the first of ``material_id``, ``id``, ``name``."""
    csv.field_size_limit(1 << 30)
    try:
        with _open_text(path) as fh:
            reader = csv.DictReader(fh)
            columns = reader.fieldnames or []
            if cif_column not in columns:
                yield ("error", str(path), path.name.split(".")[0],
                       f"expected a CSV with a {cif_column!r} column, got columns {columns}")
                return
            id_column = next((c for c in _ID_COLUMNS if c in columns), None)
            for k, row in enumerate(reader, start=1):
                name = (row.get(id_column) or "") if id_column else ""
                yield ("cif", f"{path}:{k}", name or str(k), row.get(cif_column) or "")
    except (OSError, UnicodeDecodeError, csv.Error, EOFError) as exc:
        yield ("error", str(path), path.name.split(".")[0], f"unreadable CSV: {exc}")


def iter_inputs(inputs: Sequence[str], stdin=None) -> Iterator[tuple]:
    """Work items for :meth:`Predictor.stream`, in order: files, folders (recursively), CSV rows, and
    for ``-`` the paths listed one a line on ``stdin``. An input that does not exist is an error item."""
    for raw in inputs:
        if raw == "-":
            stream = stdin if stdin is not None else sys.stdin
            listed = [line.strip() for line in stream if line.strip()]
            yield from iter_inputs([p for p in listed if p != "-"])
            continue
        path = Path(raw)
        if path.is_dir():
            for file in structure_files(path):
                yield ("file", str(file), file.stem, structure_kind(file))
        elif path.is_file():
            kind = structure_kind(path)
            if kind == "csv":
                yield from _csv_items(path)
            elif kind is None:
                yield ("error", raw, path.stem, _UNKNOWN_TYPE)
            else:
                yield ("file", raw, path.stem, kind)
        else:
            yield ("error", raw, path.stem, "no such file or folder")


def _read(item) -> list[tuple]:
    """``[(source, id, name, Crystal or error message), ...]``: one structure per CIF, POSCAR, CSV row
    or in-memory crystal, one per frame of an extended XYZ file. ``name`` is what a line on stdout
    starts with: the path for a file, the id for a CSV row."""
    from .data.structures import StructureError, crystal_from_cif, to_crystal

    kind, source, name = item[0], item[1], item[2]
    if kind == "error":
        return [(source, name, source, item[3])]
    if kind == "crystal":
        return [(source, name, source, item[3])]
    try:
        if kind == "cif":
            return [(source, name, name, crystal_from_cif(item[3], id=name))]
        fmt = item[3]
        if fmt == "cif":
            text = Path(source).read_text(encoding="utf-8", errors="replace")
            return [(source, name, source, crystal_from_cif(text, id=name))]
        import warnings

        import ase.io

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt == "poscar":
                frames = [ase.io.read(source, format="vasp")]
            else:
                frames = ase.io.read(source, index=":", format="extxyz")
        if not frames:
            return [(source, name, source, "no structure in the file")]
        if len(frames) == 1:
            return [(source, name, source, _checked(to_crystal, frames[0], name))]
        return [(f"{source}:{k}", f"{name}:{k}", f"{source}:{k}", _checked(to_crystal, atoms, f"{name}:{k}"))
                for k, atoms in enumerate(frames, start=1)]
    except StructureError as exc:
        return [(source, name, source if kind == "file" else name, str(exc))]
    except Exception as exc:  # a reader's own failure on one file must not end the run
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [(source, name, source, f"unreadable {item[3] if kind == 'file' else kind} file: {message}")]


def _checked(convert, obj, name):
    from .data.structures import StructureError

    try:
        return convert(obj, id=name)
    except StructureError as exc:
        return str(exc)


# -- graphs and batches (in worker processes) ------------------------------------------------

def _graph(crystal, settings):
    from .data.graph import crystal_graph
    from .data.radii import RADIUS_BY_Z

    unknown = sorted({int(z) for z in crystal.numbers if z >= len(RADIUS_BY_Z) or np.isnan(RADIUS_BY_Z[z])})
    if unknown:
        raise ValueError(f"unknown element: no covalent radius for Z = {unknown}")
    return crystal_graph(crystal, settings=settings, id=crystal.id)


def _build_chunk(items, plans):
    """Read and graph a chunk of items, and collate the good ones with every batch maker.

    ``plans``: ``((GraphSettings, (Collater, ...)), ...)``. Returns ``(rows, batches)``: ``rows`` is
    ``[[source, id, name, error], ...]`` for every structure (error ``""`` when it is in the
    batches), ``batches`` one :class:`ecn.data.Batch` per collater in plan order (``None`` when no
    structure is good); every batch holds the same structures, in row order.
    """
    rows, graphs = [], []  # graphs: (row, [graph per plan])
    for item in items:
        for source, name, shown, crystal in _read(item):
            if isinstance(crystal, str):
                rows.append([source, name, shown, crystal])
                continue
            try:
                per_plan = [_graph(crystal, settings) for settings, _ in plans]
            except ValueError as exc:  # GraphError, unknown element
                rows.append([source, name, shown, str(exc)])
                continue
            except Exception as exc:  # a bug or a library failure on one structure must not end the run
                rows.append([source, name, shown, f"error: {type(exc).__name__}: {exc}"])
                continue
            rows.append([source, name, shown, ""])
            graphs.append((len(rows) - 1, per_plan))
    makers = [(p, make) for p, (_, ms) in enumerate(plans) for make in ms]
    while True:  # a graph that a batch maker refuses (features) is marked, then every batch is made again
        good = [(r, g) for r, g in graphs if not rows[r][3]]
        batches, refused = [], False
        for p, make in makers:
            if not good:
                batches.append(None)
                continue
            try:
                batches.append(make([g[p] for _, g in good]))
            except Exception as exc:
                refused = True
                culprits = 0
                for r, g in good:
                    try:
                        make([g[p]])
                    except Exception as one:
                        rows[r][3] = f"no features: {one}"
                        culprits += 1
                if not culprits:
                    for r, _ in good:
                        rows[r][3] = f"no batch: {type(exc).__name__}: {exc}"
                break
        if not refused:
            return rows, batches


def _work(items, plans):
    """The worker's task: :func:`_build_chunk`, with the batches as plain arrays for the pipe."""
    rows, batches = _build_chunk(items, plans)
    return rows, [_pack(b) for b in batches]


def _pack(batch):
    if batch is None:
        return None
    return {f.name: (v.numpy() if isinstance(v, torch.Tensor) else v)
            for f in fields(batch) for v in [getattr(batch, f.name)]}


def _unpack(packed):
    from .data.batch import Batch

    if packed is None or isinstance(packed, Batch):
        return packed
    return Batch(**{k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v) for k, v in packed.items()})


def _init_worker():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    torch.set_num_threads(1)


# -- the predictor ---------------------------------------------------------------------------

@dataclass
class _Member:
    name: str
    config: object
    model: torch.nn.Module
    normalizer: object
    settings: object
    make_batch: object


class Predictor:
    """One checkpoint or an ensemble of several, ready to predict.

    ``checkpoints`` are paths of ``.pt`` files (or loaded checkpoint dicts); ``names`` label them
    (default: the file stems). Every member must predict the same targets with the same task.
    Classification outputs are probabilities (the sigmoid of the logit).

    >>> from pathlib import Path
    >>> from ecn.data import Crystal
    >>> published = Path(__file__).resolve().parents[1] / "docs" / "results" / "checkpoints" / "perov5-cgcnn.pt"
    >>> p = Predictor([published])
    >>> cubic = Crystal(np.eye(3) * 3.9, [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
    ...                 [38, 22, 8, 8, 8])   # SrTiO3, cubic perovskite
    >>> p.targets, p.predict([cubic]).shape
    (('heat_all',), (1, 1))
    """

    def __init__(self, checkpoints: Sequence, names: Sequence[str] | None = None, device: str = "cpu") -> None:
        from .checkpoint import load_checkpoint
        from .train import Normalizer, _config_of, collater, graph_settings, model_from_checkpoint

        if not checkpoints:
            raise ValueError("expected at least one checkpoint, got none")
        if str(device).startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError(f"expected a CUDA device for device={device!r}, got none on this machine")
        self.device = torch.device(device)
        self.members: list[_Member] = []
        for k, ckpt in enumerate(checkpoints):
            payload = ckpt if isinstance(ckpt, dict) else load_checkpoint(ckpt)
            name = names[k] if names else (Path(ckpt).stem if not isinstance(ckpt, dict) else f"model{k}")
            config = _config_of(payload)
            self.members.append(_Member(
                name, config, model_from_checkpoint(payload).to(self.device),
                Normalizer.from_dict(payload["normalizer"]),
                graph_settings(config), collater(config)))
        first = self.members[0].config
        for m in self.members[1:]:
            if tuple(m.config.targets) != tuple(first.targets) or m.config.task != first.task:
                raise ValueError(f"expected every checkpoint of an ensemble to predict {list(first.targets)} "
                                 f"({first.task}), got {m.name} predicting {list(m.config.targets)} ({m.config.task})")
        kinds = {m.config.readout == "node" for m in self.members}
        if len(kinds) > 1:
            raise ValueError("expected every checkpoint of an ensemble to predict per-site targets or none, got both "
                             "(readout=node and a graph readout)")
        self.targets: tuple[str, ...] = tuple(first.targets)
        self.per_site: bool = first.readout == "node"
        self.task: str = first.task
        self.data: str = first.data
        settings = list(dict.fromkeys(m.settings for m in self.members))
        self._plans = tuple((s, tuple(dict.fromkeys(m.make_batch for m in self.members if m.settings == s)))
                            for s in settings)
        keys = [(s, c) for s, makers in self._plans for c in makers]
        self._batch_of = [keys.index((m.settings, m.make_batch)) for m in self.members]

    def __repr__(self) -> str:
        names = ", ".join(m.name for m in self.members)
        return f"Predictor([{names}], targets={list(self.targets)}, device={self.device})"

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.members]

    @property
    def units(self) -> dict:
        """Units of the targets where the training data is a named dataset (``{}`` otherwise)."""
        key = self.data.replace("_", "").replace("-", "").lower()
        return {t: UNITS[key, t] for t in self.targets if (key, t) in UNITS}

    def describe(self) -> str:
        """One line naming what is predicted, with units: ``heat_all (eV per 5-atom cell)``."""
        units = self.units
        parts = [f"{t} ({units[t]})" if t in units else t for t in self.targets]
        what = ", ".join(parts) + (" as probabilities" if self.task == "classification" else "")
        what += " per site (a JSON list over the sites of each structure, in its file's order)" if self.per_site else ""
        ens = f"an ensemble of {len(self.members)}: " if len(self.members) > 1 else ""
        return f"predicting {what} with {ens}{', '.join(self.names)}"

    # -- forward -------------------------------------------------------------------------

    def _forward(self, member: _Member, batch) -> np.ndarray:
        """The ``_predict`` path of :mod:`ecn.train` on one ready batch: decoded targets (or probabilities)."""
        member.model.eval()
        with torch.no_grad():
            out = member.model(batch.to(self.device))
            if member.config.task == "classification":
                out = torch.sigmoid(out)
            else:
                out = member.normalizer.decode(out)
        return out.cpu().double().numpy()

    def _records(self, rows, batches) -> list[Record]:
        good = [k for k, r in enumerate(rows) if not r[3]]
        values = std = None
        if good:
            batches = [_unpack(b) for b in batches]
            preds = []
            for m, member in enumerate(self.members):
                try:
                    preds.append(self._forward(member, batches[self._batch_of[m]]))
                except Exception as exc:  # the model refused the batch: say so on every row of it
                    for k in good:
                        rows[k][3] = f"model {member.name} failed: {type(exc).__name__}: {exc}"
                    preds = []
                    break
            if preds:
                stack = np.stack(preds)  # (members, B, T), or (members, S, T) per site
                values = stack.mean(axis=0)
                std = stack.std(axis=0) if len(self.members) > 1 else None
        if values is not None and self.per_site:  # a block of rows per structure
            sites = batches[0].structure_sites.numpy()
            cut = np.cumsum(sites)[:-1]
            values = np.split(values, cut)
            std = None if std is None else np.split(std, cut)
        out, g = [], 0
        for source, name, shown, error in rows:
            if error:
                out.append(Record(source, name, shown, error=error))
                continue
            out.append(Record(source, name, shown, _plain(values[g]), None if std is None else _plain(std[g])))
            g += 1
        return out

    # -- many structures -----------------------------------------------------------------

    def stream(self, items: Iterable[tuple], batch_size: int = 256, workers: int | None = None,
               progress: bool = False, total: int | None = None) -> Iterator[Record]:
        """Records for work items (see :func:`iter_inputs`), in input order, as batches finish.

        ``workers`` processes read and graph the structures (default: every core; 0: this process);
        the forward passes run here, on ``device``.
        """
        if batch_size < 1:
            raise ValueError(f"expected batch_size >= 1, got {batch_size}")
        workers = (os.cpu_count() or 1) if workers is None else workers
        if workers < 0:
            raise ValueError(f"expected workers >= 0, got {workers}")
        chunks = _chunks(iter(items), batch_size)
        bar = _progress_bar(progress, total)
        threads = torch.get_num_threads()
        pool = None
        try:
            if workers == 0:
                for chunk in chunks:
                    rows, batches = _work(chunk, self._plans)
                    for record in self._records(rows, batches):
                        bar.update(1)
                        yield record
                return
            ctx = mp.get_context("fork") if sys.platform.startswith("linux") else mp.get_context("spawn")
            pool = ctx.Pool(workers, initializer=_init_worker)
            if self.device.type == "cpu":  # the workers have the other cores
                torch.set_num_threads(max(1, (os.cpu_count() or 1) - workers + 1) if workers < (os.cpu_count() or 1)
                                      else 1)
            pending: collections.deque = collections.deque()
            window = 2 * workers + 1
            for chunk in chunks:
                pending.append(pool.apply_async(_work, (chunk, self._plans)))
                while len(pending) >= window:
                    for record in self._records(*pending.popleft().get()):
                        bar.update(1)
                        yield record
            while pending:
                for record in self._records(*pending.popleft().get()):
                    bar.update(1)
                    yield record
        except BaseException:
            if pool is not None:
                pool.terminate()
                pool.join()
                pool = None
            raise
        finally:
            if pool is not None:
                pool.close()
                pool.join()
            torch.set_num_threads(threads)
            bar.close()

    def predict(self, structures, batch_size: int = 256, return_std: bool = False, errors: str = "raise"):
        """Predictions for pymatgen ``Structure``\\ s, ASE ``Atoms``, :class:`ecn.data.Crystal`\\ s or file paths.

        Returns ``(n, T)`` values (the ensemble mean for several checkpoints), and with
        ``return_std=True`` also the ``(n, T)`` standard deviations over the members (zeros for one
        checkpoint). ``errors="raise"`` raises :class:`PredictionError` naming every structure that
        could not be read or graphed; ``errors="nan"`` gives NaN rows for them instead. Per-site
        targets (:attr:`per_site`): a list of ``(S_k, T)`` arrays, one per structure (``(0, T)``
        for a structure that could not be read).
        """
        from .data.structures import Crystal, StructureError, to_crystal

        if errors not in ("raise", "nan"):
            raise ValueError(f"expected errors 'raise' or 'nan', got {errors!r}")
        single = not isinstance(structures, (list, tuple))
        structures = [structures] if single else list(structures)
        items = []
        for k, s in enumerate(structures):
            if isinstance(s, (str, os.PathLike)):
                items.extend(iter_inputs([str(s)]))
                continue
            try:
                crystal = s if isinstance(s, Crystal) else to_crystal(s, id=str(k))
                items.append(("crystal", f"structures[{k}]", crystal.id or str(k), crystal))
            except StructureError as exc:
                items.append(("error", f"structures[{k}]", str(k), str(exc)))
        records = list(self.stream(items, batch_size=batch_size, workers=0))
        failed = [r for r in records if not r.ok]
        if failed and errors == "raise":
            listed = "; ".join(f"{r.source}: {r.error}" for r in failed[:5])
            more = f" (and {len(failed) - 5} more)" if len(failed) > 5 else ""
            raise PredictionError(f"expected structures that can be read and graphed, got {len(failed)} that "
                                  f"cannot: {listed}{more}")
        if self.per_site:
            T = len(self.targets)
            values = [np.array(r.values, dtype=float).reshape(-1, T) if r.ok else np.zeros((0, T)) for r in records]
            std = [np.array(r.std, dtype=float).reshape(-1, T) if r.ok and r.std else np.zeros_like(v)
                   for r, v in zip(records, values)]
            return (values, std) if return_std else values
        nan = (math.nan,) * len(self.targets)
        values = np.array([r.values if r.ok else nan for r in records], dtype=float).reshape(-1, len(self.targets))
        std = np.array([(r.std or (0.0,) * len(self.targets)) if r.ok else nan for r in records],
                       dtype=float).reshape(-1, len(self.targets))
        return (values, std) if return_std else values


def _plain(values: np.ndarray) -> tuple:
    """``(T,)`` or ``(S, T)`` floats as (nested) tuples of Python floats."""
    if values.ndim == 2:
        return tuple(tuple(float(v) for v in row) for row in values)
    return tuple(float(v) for v in values)


def _chunks(items: Iterator, size: int) -> Iterator[list]:
    while True:
        chunk = []
        for item in items:
            chunk.append(item)
            if len(chunk) >= size:
                break
        if not chunk:
            return
        yield chunk


def _progress_bar(enabled: bool, total):
    from .data.build import _progress

    return _progress(enabled, total, unit="structure", desc="predicting", mininterval=0.5)


# -- output ----------------------------------------------------------------------------------

def csv_header(targets: Sequence[str], ensemble: bool) -> list[str]:
    """``id, source, <target>..., [<target>_std...], error``."""
    return ["id", "source", *targets, *([f"{t}_std" for t in targets] if ensemble else []), "error"]


def csv_row(record: Record, targets: Sequence[str], ensemble: bool) -> list[str]:
    """The record's line of ``--out``; a per-site target's column holds a JSON list, one value per site."""
    values = format_values(record.values, len(targets)) if record.ok else [""] * len(targets)
    std = (format_values(record.std, len(targets)) if record.ok else [""] * len(targets)) if ensemble else []
    return [record.id, record.source, *values, *std, record.error]


def format_values(values: tuple, count: int) -> list[str]:
    """A text per target: ``"1.23"``, or for per-site values (``(S, T)``) a JSON list over the sites.

    >>> format_values((1.5, 2.0), 2), format_values(((12.0, 1.0), (6.0, 2.0)), 2)
    (['1.5', '2'], ['[12, 6]', '[1, 2]'])
    """
    if values and isinstance(values[0], tuple):
        return ["[" + ", ".join(f"{site[k]:.6g}" for site in values) + "]" for k in range(count)]
    return [f"{v:.6g}" for v in values]


def write_csv(path, records: Iterable[Record], targets: Sequence[str], ensemble: bool) -> Iterator[Record]:
    """Write records to ``path`` as they come (every row flushed), passing them through."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(csv_header(targets, ensemble))
        fh.flush()
        for record in records:
            writer.writerow(csv_row(record, targets, ensemble))
            fh.flush()
            yield record


def run(checkpoints: Sequence[str], inputs: Sequence[str], out=None, device: str = "cpu", batch_size: int = 256,
        workers: int | None = None, progress: bool | None = None, quiet: bool = False, stdin=None, stdout=None,
        stderr=None) -> int:
    """The ``ecn predict`` command: returns 0 when every structure was predicted, 1 when some failed.

    Checkpoints are paths or published names (:func:`ecn.pretrained.resolve`).
    """
    from .pretrained import resolve_checkpoints

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    paths, names = resolve_checkpoints(checkpoints)
    predictor = Predictor(paths, names=names, device=device)
    ensemble = len(predictor.members) > 1
    if not quiet:
        columns = ["name", *predictor.targets, *([f"{t}_std" for t in predictor.targets] if ensemble else [])]
        where = f"; writing {out}" if out else f"; columns: {', '.join(columns)}"
        print(f"ecn: {predictor.describe()}{where}", file=stderr, flush=True)
    items = list(iter_inputs(inputs, stdin))
    total = sum(1 for it in items if it[0] == "file") if all(it[0] != "cif" for it in items) else None
    if progress is None:
        progress = not quiet and hasattr(stderr, "isatty") and stderr.isatty()
    started = time.perf_counter()
    records = predictor.stream(items, batch_size=batch_size, workers=workers, progress=progress, total=total)
    if out:
        records = write_csv(out, records, predictor.targets, ensemble)
    done = failed = 0
    for record in records:
        done += 1
        if not record.ok:
            failed += 1
            print(f"{record.source}: {record.error}", file=stderr, flush=True)
        if not out:
            if record.ok:
                n = len(predictor.targets)
                values = format_values(record.values, n) + (format_values(record.std, n) if ensemble else [])
            else:
                values = [""] * (len(predictor.targets) * (2 if ensemble else 1))
            print(record.name, *values, sep="\t", file=stdout, flush=True)
    seconds = time.perf_counter() - started
    if not quiet or failed:
        rate = f", {done / seconds:.0f} per second" if seconds > 0 and done else ""
        print(f"ecn: {done - failed} of {done} structures predicted, {failed} failed ({seconds:.1f} s{rate})",
              file=stderr, flush=True)
    return 1 if failed else 0
