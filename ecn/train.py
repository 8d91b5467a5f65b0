"""Training, evaluation and prediction: one run folder per training run.

``RUN_DIR`` holds ``config.yaml`` (the resolved config), ``log.csv`` (one row per epoch),
``best.pt`` and ``last.pt`` (checkpoints), and after the run ``metrics.json`` (train / val / test
metrics of the best checkpoint), ``predictions.csv`` (test split) and ``parity.png`` (``roc.png``
for classification). ``last.pt`` is written atomically after every epoch, so a run killed at any
moment continues with :func:`train` ``(resume=True)`` from its last finished epoch and ends
with the same metrics as a run that was never interrupted (the shuffling of epoch ``k`` depends
only on ``seed + k``).

Multi-process training: under ``torchrun`` (``WORLD_SIZE > 1``) the model is wrapped in
``DistributedDataParallel`` (gloo on CPU, nccl on CUDA), each process sees its share of the
training set through a ``DistributedSampler`` with a per-process batch of
``batch_size / world_size``, and process 0 evaluates and writes the run folder.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .data import FeatureSettings, GraphSettings, load_dataset
from .data.batch import Collater, target_rows
from .data.materials_project import split_indices
from .data.radii import SYMBOLS
from .data.sources import DATASETS
from .metrics import classification_metrics, regression_metrics
from .models import (
    COMPRESSIBLE_MODELS,
    LENGTH_ONLY_MODELS,
    MODELS,
    SUPERCELL_MODELS,
    ModelConfig,
    build_model,
    num_colors_for,
)

__all__ = ["train", "evaluate_checkpoint", "predict_files", "load_graphs", "model_from_checkpoint", "RunExistsError",
           "RunBusyError", "RunFailed", "RunInterrupted"]


# -- data ------------------------------------------------------------------------------------

def graph_settings(config: TrainConfig) -> GraphSettings:
    """The model's graph rule (paper's bonds for ECN and MPNN, 8 A / 12 neighbours for CGCNN and
    MEGNet), or the one ``config.neighbors`` names instead."""
    settings = dict(MODELS[config.model][1])
    if config.supercell:
        if config.model not in SUPERCELL_MODELS:
            raise ValueError(f"expected a supercell only for the supercell models {list(SUPERCELL_MODELS)}, "
                             f"got supercell={list(config.supercell)} for {config.model!r} (a unit-cell model)")
        sc = config.supercell
        settings["supercell"] = sc if len(sc) == 3 else tuple(tuple(sc[3 * r:3 * r + 3]) for r in range(3))
    settings["gauge"] = config.gauge
    settings["neighbor_tol"] = config.neighbor_tol
    if config.neighbors and config.neighbors != settings["neighbors"]:
        settings["neighbors"] = config.neighbors
        settings.pop("cutoff", None)  # the rule's own default cutoff: 6 A (isayev) or 8 A (radius)
        if config.neighbors == "radius":
            settings["max_neighbors"] = 12
    return GraphSettings(**settings)


def feature_settings(config: TrainConfig) -> FeatureSettings:
    return FeatureSettings(element=config.element_features, cell_onehot=config.cell_onehot,
                           num_gaussians=config.gaussians, max_distance=config.gaussian_max,
                           width=config.gaussian_width)


def collater(config: TrainConfig, frames: bool = True, compress: bool = False) -> Collater:
    """The batch maker of a run: the model's colours, the targets, the quotient form where it applies,
    and (``frames``, for evaluation and prediction) every tied gauge of each structure, which the model
    averages over so that a prediction depends on the crystal alone (``docs/concepts.md``, "Gauge"),
    running gauges that no message-passing network can tell apart once (``merge_frames``)."""
    return Collater(MODELS[config.model][0], tuple(config.targets), feature_settings(config),
                    quotient=config.model in SUPERCELL_MODELS and config.uses_quotient,
                    frames=frames and config.gauge == "tree" and config.model in SUPERCELL_MODELS,
                    per_site=config.readout == "node", merge_frames=config.model in LENGTH_ONLY_MODELS,
                    compress_edges=compress and config.model in COMPRESSIBLE_MODELS)


_FILE_SPLITS = ("train", "val", "test")
_last_file: dict = {}  # the last file or folder built, so that its three splits cost one build


def load_graphs(config: TrainConfig, split: str, limit: int = 0, progress: bool = False):
    """Graphs of one split: a named dataset's own split, or a seeded 80/10/10 split of a file or folder
    (``split`` among train, val, test; ``limit`` >= 0, 0 = all)."""
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ValueError(f"expected a limit as an integer >= 0 (0 = all), got {limit!r}")
    settings = graph_settings(config)
    key = config.data.replace("_", "").replace("-", "").lower()
    if key in DATASETS:
        unknown = [t for t in config.targets if t not in DATASETS[key].targets]
        if unknown:
            raise ValueError(f"Could not resolve target {unknown[0]!r} of {DATASETS[key].name} among choices "
                             f"{list(DATASETS[key].targets)}")
        graphs, report = load_dataset(config.data, split, config.targets, settings, workers=config.workers or None,
                                      limit=limit or None, progress=progress)
        return graphs, report
    if split not in _FILE_SPLITS:
        raise ValueError(f"expected a split among {list(_FILE_SPLITS)} (the seeded 80/10/10 split of {config.data}), "
                         f"got {split!r}")
    path = Path(config.data)
    files = sorted(path.iterdir()) if path.is_dir() else [path] if path.exists() else []
    stamp = (str(path.resolve()), tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files), settings,
             tuple(config.targets), os.environ.get("ECN_GRAPH_CACHE"))
    if _last_file.get("key") == stamp:
        graphs, report = _last_file["value"]
    else:
        graphs, report = load_dataset(config.data, None, config.targets, settings, workers=config.workers or None,
                                      progress=progress)
        _last_file.clear()
        _last_file.update(key=stamp, value=(graphs, report))
    parts = split_indices(len(graphs), config.seed)
    chosen = [graphs[k] for k in parts[split]]
    return (chosen[:limit] if limit else chosen), report


# -- normalisation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Normalizer:
    mean: tuple
    std: tuple

    @classmethod
    def fit(cls, y: np.ndarray, enabled: bool, extensive=()) -> Normalizer:
        """Mean and std of the training targets; extensive targets get mean 0 (a shift would not scale
        with the number of atoms) and their root mean square as the scale."""
        if not enabled:
            return cls(tuple([0.0] * y.shape[1]), tuple([1.0] * y.shape[1]))
        ext = np.array(list(extensive) or [False] * y.shape[1], dtype=bool)
        mean = np.where(ext, 0.0, np.nanmean(y, axis=0))
        std = np.where(ext, np.sqrt(np.nanmean(y**2, axis=0)), np.nanstd(y, axis=0))
        std = np.where(std > 0, std, 1.0)
        return cls(tuple(float(v) for v in mean), tuple(float(v) for v in std))

    @classmethod
    def from_dict(cls, d: dict) -> Normalizer:
        """The normaliser as a checkpoint records it (:meth:`to_dict`).

        >>> Normalizer.from_dict({"mean": [1.5], "std": [0.25]})
        Normalizer(mean=(1.5,), std=(0.25,))
        """
        return cls(tuple(float(v) for v in d["mean"]), tuple(float(v) for v in d["std"]))

    def to_dict(self) -> dict:
        """``{"mean": [...], "std": [...]}``, one number per target: plain lists, as a checkpoint stores them.

        >>> Normalizer((1.5,), (0.25,)).to_dict()
        {'mean': [1.5], 'std': [0.25]}
        """
        return {"mean": list(self.mean), "std": list(self.std)}

    def encode(self, y: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(self.mean, dtype=y.dtype, device=y.device)
        return (y - mean) / torch.tensor(self.std, dtype=y.dtype, device=y.device)

    def decode(self, y: torch.Tensor) -> torch.Tensor:
        return y * torch.tensor(self.std, dtype=y.dtype, device=y.device) + torch.tensor(
            self.mean, dtype=y.dtype, device=y.device
        )


def _targets_array(graphs, config: TrainConfig) -> np.ndarray:
    """``(B, T)`` targets, or ``(S, T)`` per site for ``readout="node"`` (:func:`ecn.data.batch.target_rows`)."""
    return target_rows(graphs, config.targets, per_site=config.readout == "node")


def _row_owner(graphs, config: TrainConfig) -> np.ndarray:
    """The graph of each row of :func:`_targets_array`."""
    if config.readout != "node":
        return np.arange(len(graphs))
    return np.repeat(np.arange(len(graphs)), [g.num_sites for g in graphs])


# -- distributed -----------------------------------------------------------------------------


def _distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    return world, rank


def _device(config: TrainConfig) -> torch.device:
    if config.device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError(f"expected a CUDA device for --device {config.device}, got none on this machine")
        if _distributed()[0] > 1:
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device(config.device)


# -- the loop --------------------------------------------------------------------------------


def _loss(out, y, task, kind="mse"):
    """The training loss over the labelled entries: binary cross-entropy on logits for
    classification; for regression, on the normalised targets, ``kind`` "mse", "l1" or "huber"
    (quadratic below 1 normalised unit, linear above)."""
    ok = torch.isfinite(y)
    if not ok.any():
        return out.sum() * 0.0
    if task == "classification":
        return torch.nn.functional.binary_cross_entropy_with_logits(out[ok], y[ok])
    if kind == "l1":
        return torch.nn.functional.l1_loss(out[ok], y[ok])
    if kind == "huber":
        return torch.nn.functional.huber_loss(out[ok], y[ok], delta=1.0)
    return torch.nn.functional.mse_loss(out[ok], y[ok])


def _predict(model, graphs, config, normalizer, device, batch_size=256, frames=True):
    make_batch = collater(config, frames)
    model.eval()
    preds = []
    with torch.no_grad():
        for k in range(0, len(graphs), batch_size):
            batch = make_batch(graphs[k : k + batch_size]).to(device)
            out = model(batch)
            preds.append((out if config.task == "classification" else normalizer.decode(out)).cpu().double().numpy())
    return np.concatenate(preds) if preds else np.zeros((0, len(config.targets)))


def _one_frame(graph, generator, group=None, basis=False):
    """One of a graph's tied gauges (for P-1, or with the cell one-hot, also its equally reduced
    bases), drawn with the epoch's generator (the graph itself when it has one)."""
    if group == "P-1" or basis:
        choices = graph.frame_choices(group, basis=basis)  # computed once per graph, then memoised
        if len(choices) == 1:
            return graph
        return graph.frame(*choices[int(torch.randint(len(choices), (1,), generator=generator))])
    n = graph.num_frames
    return graph if n == 1 else graph.frame(int(torch.randint(n, (1,), generator=generator)))


def _metrics(pred, true, config):
    if config.task == "classification":
        return classification_metrics(pred, true, config.targets)
    return regression_metrics(pred, true, config.targets)


def _score(metrics, config) -> float:
    """Lower is better: validation MAE, or minus ROC-AUC for classification."""
    return -metrics["roc_auc"] if config.task == "classification" else metrics["mae"]


def _set_threads(config: TrainConfig) -> None:
    """``deterministic``: one thread (multi-threaded CPU kernels sum in an order that varies from
    process to process, seen here as differences of 1e-9 between runs; one thread makes a seed's
    run bit-identical); otherwise ``threads`` if set, else torch's default (every core)."""
    if config.deterministic:
        torch.set_num_threads(1)
    elif config.threads:
        torch.set_num_threads(config.threads)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# -- refusals, failures and interruptions ----------------------------------------------------


class RunExistsError(ValueError):
    """A fresh run was asked for in a folder that holds a run (nothing was touched)."""


class RunBusyError(ValueError):
    """Another process is training the run folder (it holds the folder's lock); nothing was touched."""


class RunFailed(RuntimeError):
    """A run that started and could not finish with numbers to trust (e.g. the loss became NaN)."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; the message says what was kept and how to resume."""


#: Files of a run folder (what ``overwrite=True`` replaces); ``best.pt``, ``last.pt`` or ``metrics.json`` mark a run.
RUN_FILES = (
    "config.yaml",
    "log.csv",
    "best.pt",
    "last.pt",
    "metrics.json",
    "predictions.csv",
    "parity.png",
    "roc.png",
    "data_report.csv",
)
_RUN_MARKERS = ("last.pt", "best.pt", "metrics.json")
#: Settings that may differ when a run is resumed from Python (they do not change its numbers).
_RUNTIME_SETTINGS = ("quiet", "workers", "threads", "device", "deterministic", "time_limit")


@dataclass
class _Guard:
    """What a run did to its folder, so that a failure or Ctrl-C can say what is kept and clean the rest."""

    out: Path
    created: bool = False
    written: list = None
    epoch: int = 0  # the epoch in progress (0: none started yet)
    saved_epoch: int = 0  # the epoch that last.pt holds (0: none)


def _holds_run(out: Path) -> list:
    return [name for name in _RUN_MARKERS if (out / name).exists()]


def _clean_orphans(out: Path) -> None:
    """Temporary files of writes that a kill interrupted (``last.pt*.tmp``, ``log.csv.tmp``, ...)."""
    if out.is_dir():
        for tmp in out.glob("*.tmp"):
            if any(tmp.name.startswith(name) for name in RUN_FILES):
                tmp.unlink(missing_ok=True)


#: The lock file of a run folder, held by the process that trains it (see :func:`_lock_run`).
LOCK_FILE = ".lock"


def _lock_run(out: Path):
    """Hold the run folder's lock (``out/.lock``, an exclusive ``flock``) until the returned file is closed, or
    raise :class:`RunBusyError` when another process holds it: two processes training one folder would write
    its checkpoints and log over each other. The kernel releases the lock of a process that dies, so a killed
    run never leaves its folder locked. Without ``fcntl`` (Windows), no lock."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - POSIX only
        return None
    out.mkdir(parents=True, exist_ok=True)
    handle = open(out / LOCK_FILE, "a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise RunBusyError(
            f"expected no other process training {out}, got one that holds its lock ({out / LOCK_FILE}): "
            f"wait for it to end or stop it, then run again; nothing was changed"
        ) from None
    return handle


def _refuse_existing(out: Path) -> None:
    found = _holds_run(out)
    if found:
        state = "a finished run" if "metrics.json" in found else "an unfinished run"
        raise RunExistsError(
            f"expected a new run folder for --out, got {out}, which holds {state} "
            f"({', '.join(found)}): use --resume {out} to continue it, or --overwrite to start again "
            f"(in Python: train(..., resume=True) or overwrite=True); nothing was changed"
        )


def _check_resume_settings(out: Path, state: dict, config: TrainConfig | None) -> None:
    """A Python caller's config must match the run's own settings (those the checkpoint records)."""
    if config is None:
        return
    given, stored = config.to_dict(), state.get("config", {})
    differ = [
        k for k in sorted(stored) if k in given and k not in _RUNTIME_SETTINGS and _plain(stored[k]) != _plain(given[k])
    ]
    if differ:
        shown = ", ".join(f"{k}: {stored[k]!r} in the run, {given[k]!r} given" for k in differ[:4])
        raise ValueError(
            f"expected the settings of the run in {out} to resume it, got different ones ({shown}"
            f"{', ...' if len(differ) > 4 else ''}): start a new run (another --out, or --overwrite)"
        )


def _plain(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def _check_resume_data(out: Path, state: dict, hashes: dict) -> None:
    """The data a run was started on must be the data it continues on (when the checkpoint recorded it)."""
    recorded = state.get("data_sha256") or {}
    for split, sha in recorded.items():
        now = hashes.get(split)
        if sha and now and sha != now:
            raise ValueError(
                f"expected the {split} data of the run in {out} unchanged (sha256 {sha[:16]}... when "
                f"the run started), got sha256 {now[:16]}...: its normalisation and split come from "
                f"the old data; start a new run (another --out, or --overwrite)"
            )


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _shared_report(config: TrainConfig) -> bool:
    """Whether the splits come from one file or folder split after its build (one report for all)."""
    return config.data.replace("_", "").replace("-", "").lower() not in DATASETS


def _print_reports(config: TrainConfig, reports: dict) -> None:
    """Each split's build summary on stderr (a file or folder: the whole build and the graphs per split)."""
    if _shared_report(config):
        report = next(iter(reports.values()))
        parts = split_indices(report.built, config.seed)
        _say(
            report.summary(config.data)
            + "\n  split "
            + ", ".join(f"{s} {len(parts[s])}" for s in parts)
            + f" graphs (seed {config.seed})"
        )
        return
    for split, report in reports.items():
        _say(report.summary(f"{config.data} {split}"))


def _write_data_report(out: Path, config: TrainConfig, reports: dict, counts: dict) -> dict:
    """Every skipped row and duplicate id into ``data_report.csv`` (split, id, reason); the counts back."""
    rows, summary = [], {}
    for split, report in reports.items():
        summary[split] = {
            "graphs": counts.get(split),
            "rows_read": report.rows,
            "kept": report.built,
            "skipped": report.counts(),
            "duplicate_ids": len(report.duplicates),
        }
    chosen = {"all": next(iter(reports.values()))} if _shared_report(config) else reports
    for split, report in chosen.items():
        rows += [(split, i, reason) for i, reason in report.skipped]
        rows += [(split, i, "duplicate id (kept)") for i in report.duplicates]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["split", "id", "reason"])
    writer.writerows(rows)
    _write_text_atomic(out / "data_report.csv", buf.getvalue())
    return summary


def _check_labels(graphs, config: TrainConfig, what: str) -> None:
    """Classification needs targets of 0 or 1; anything else is named with its id."""
    if config.task != "classification":
        return
    for g in graphs:
        for t in config.targets:
            v = g.targets.get(t)
            values = np.asarray(v if v is not None else [], dtype=float).reshape(-1)
            if not np.isin(values[~np.isnan(values)], (0.0, 1.0)).all():
                raise ValueError(
                    f"expected classification targets of 0 or 1, got {t} = {v!r} for {g.id!r} in the "
                    f"{what} data of {config.data} (use task=regression for a continuous target)"
                )


def _check_normalizer(normalizer: Normalizer, y: np.ndarray, graphs, config: TrainConfig) -> None:
    for k, t in enumerate(config.targets):
        if not (math.isfinite(normalizer.mean[k]) and math.isfinite(normalizer.std[k])):
            col = np.where(np.isfinite(y[:, k]), np.abs(y[:, k]), -1.0)
            j = int(np.argmax(col))
            raise ValueError(
                f"expected training targets that can be normalised, got {t} with mean "
                f"{normalizer.mean[k]} and std {normalizer.std[k]}: the largest, {y[j, k]!r} for "
                f"{graphs[_row_owner(graphs, config)[j]].id!r}, is out of range; fix or drop that row"
            )


def _diverged(guard: _Guard, what: str, lr: float) -> RunFailed:
    kept = (
        f"the last good checkpoint, {guard.out / 'last.pt'} (epoch {guard.saved_epoch}), is kept"
        if guard.saved_epoch
        else "no epoch had finished, so nothing was kept"
    )
    return RunFailed(
        f"expected finite numbers, got {what} in epoch {guard.epoch} (the run diverged): {kept}; "
        f"start again (--overwrite) with a lower lr (now {lr:g}) or weight_decay, or check the targets"
    )


def train(config: TrainConfig | None, out_dir, resume: bool = False, overwrite: bool = False) -> dict:
    """Train one model; returns the metrics written to ``RUN_DIR/metrics.json``.

    ``resume=True`` continues the run in ``out_dir`` from its ``last.pt`` (a finished run is just
    finished again); a ``config`` given with it must match the run's settings, and the data must
    have the sha256 the run recorded. A fresh run (``resume=False``) refuses a folder that holds a
    run (:class:`RunExistsError`) unless ``overwrite=True``. A run whose loss or metrics become NaN
    or infinite stops with :class:`RunFailed`, keeping its last good checkpoint. Ctrl-C raises
    :class:`RunInterrupted`, saying how to resume. A failed fresh run leaves no folder behind.
    """
    out = Path(out_dir)
    guard = _Guard(out, created=not out.exists(), written=[])
    rank = _distributed()[1]
    if rank == 0:  # process 0 alone checks, locks, cleans and (for a failed fresh run) undoes
        if resume:
            if not (out / "last.pt").is_file():
                raise ValueError(
                    f"expected a run to resume in {out}, got no {out / 'last.pt'}"
                    + (" (the folder does not exist)" if guard.created else "")
                    + ": start it with --out instead"
                )
        elif not overwrite:
            _refuse_existing(out)
    lock = _lock_run(out) if rank == 0 else None  # one process per run folder
    try:
        if rank == 0:
            _clean_orphans(out)
        return _train(config, out, resume, overwrite, guard)
    except KeyboardInterrupt:
        if guard.saved_epoch or resume:
            when = f"in epoch {guard.epoch}" if guard.epoch else "before its next epoch started"
            raise RunInterrupted(
                f"interrupted {when}; {out / 'last.pt'} holds epoch "
                f"{guard.saved_epoch or 'its last finished one'}: continue with "
                f"ecn train --resume {out}"
            ) from None
        if rank == 0:
            _undo(guard)
        raise RunInterrupted(
            f"interrupted before the first epoch of {out} finished; nothing was kept (start it again)"
        ) from None
    except BaseException:
        if rank == 0 and not guard.saved_epoch and not resume:
            _undo(guard)
        raise
    finally:
        if lock is not None:
            (out / LOCK_FILE).unlink(missing_ok=True)  # before it is released: a next run makes its own
            lock.close()


def _undo(guard: _Guard) -> None:
    """A fresh run that kept nothing: remove the files it wrote and the folder it created, if empty."""
    for path in guard.written:
        Path(path).unlink(missing_ok=True)
    (guard.out / LOCK_FILE).unlink(missing_ok=True)
    _clean_orphans(guard.out)
    if guard.created and guard.out.is_dir() and not any(guard.out.iterdir()):
        guard.out.rmdir()


def _train(config: TrainConfig | None, out: Path, resume: bool, overwrite: bool, guard: _Guard) -> dict:
    world, rank = _distributed()
    own_group = world > 1 and not torch.distributed.is_initialized()  # a group the caller started stays
    if own_group:
        backend = (
            "nccl" if (config or _config_of(load_checkpoint(out / "last.pt"))).device.startswith("cuda") else "gloo"
        )
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        torch.distributed.init_process_group(backend)
    main_process = rank == 0
    state = None
    if resume:
        state = load_checkpoint(out / "last.pt")
        _check_resume_settings(out, state, config)
        given = config
        config = _config_of(state)
        if given is not None:  # how this process runs, not what it computes
            config = config.replace(quiet=given.quiet, workers=given.workers)
    device = _device(config)
    progress = main_process and not config.quiet
    train_graphs, report = load_graphs(config, "train", config.limit_train, progress)
    val_graphs, val_report = load_graphs(config, "val", config.limit_val, progress)
    data_sha256 = {"train": report.source_sha256, "val": val_report.source_sha256}
    if state:
        _check_resume_data(out, state, data_sha256)
    _check_labels(train_graphs, config, "training")
    _check_labels(val_graphs, config, "validation")
    if not train_graphs or not val_graphs:
        missing = [r for _, r in report.skipped if r.startswith("missing target")]
        hint = f" (every row lacks a target: {missing[0]})" if missing and len(missing) == report.rows else ""
        raise ValueError(
            f"expected training and validation graphs, got {len(train_graphs)} and {len(val_graphs)}{hint}"
        )
    y_train = _targets_array(train_graphs, config)
    with np.errstate(over="ignore", invalid="ignore"):  # out-of-range targets: refused just below, by name
        normalizer = (
            Normalizer.from_dict(state["normalizer"])
            if state
            else Normalizer.fit(
                y_train,
                config.normalize and config.task == "regression",
                extensive=[config.readout == "sum" or t in config.extensive for t in config.targets],
            )
        )
    _check_normalizer(normalizer, y_train, train_graphs, config)

    if device.type == "cpu":
        _set_threads(config)
    _seed_everything(config.seed)
    features = feature_settings(config)
    supercell = graph_settings(config).supercell
    num_cells = train_graphs[0].num_cells
    model_config = ModelConfig(
        name=config.model,
        node_in=features.node_dim(num_cells),
        edge_in=features.num_gaussians,
        width=config.width,
        edge_dim=config.edge_dim,
        layers=config.layers,
        readout=config.readout,
        norm=config.norm,
        extensive=tuple(config.readout == "sum" or t in config.extensive for t in config.targets),
        out_dim=len(config.targets),
        num_colors=num_colors_for(config.model, supercell),
    )
    model = build_model(model_config).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    per_process = max(1, config.batch_size // world)
    if config.lr_schedule == "cosine":  # stepped after every batch, reaching min_lr at the last one
        steps = config.epochs * math.ceil(math.ceil(len(train_graphs) / world) / per_process)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=config.min_lr)
    else:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=config.lr_factor, patience=config.lr_patience
        )
    start_epoch, best, best_epoch, log_rows = 1, math.inf, 0, []
    if state:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best, best_epoch, log_rows = state["epoch"] + 1, state["best"], state["best_epoch"], state["log"]
        guard.saved_epoch = state["epoch"]
    if main_process:
        import yaml

        if overwrite and not resume:  # only now, with the data and the model ready: the old run goes
            for name in RUN_FILES:
                (out / name).unlink(missing_ok=True)
        out.mkdir(parents=True, exist_ok=True)
        guard.written += [out / "config.yaml", out / "data_report.csv"]
        _write_text_atomic(out / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=True))
        reports = {"train": report, "val": val_report}
        _print_reports(config, reports)
        _write_data_report(out, config, reports, {"train": len(train_graphs), "val": len(val_graphs)})
    # the E(n) model's last coordinate update feeds nothing: its weights get no gradient
    ddp_model = (
        torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=config.model == "egnn")
        if world > 1
        else model
    )  # every other model uses all its parameters in every step (DDP checks)
    # training: one gauge per structure, drawn each epoch; equal edges merged (the same sums, fewer messages)
    make_batch = collater(config, frames=False, compress=True)
    frame_group = MODELS[config.model][0] if config.gauge == "tree" else None
    frame_basis = frame_group is not None and config.cell_onehot  # the one-hot labels cells: average bases too
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.epochs, initial=start_epoch - 1, unit="epoch", desc=f"train {config.model}")
    # training time is counted across resumes, so a time limit means the same after a restart
    started = time.perf_counter() - (state.get("elapsed", 0.0) if state else 0.0)
    for epoch in range(start_epoch, config.epochs + 1):
        stop = (
            (config.lr_schedule == "plateau" and optimizer.param_groups[0]["lr"] <= config.min_lr)
            or (config.early_stopping and epoch - best_epoch > config.early_stopping)
            or (config.time_limit and time.perf_counter() - started > 60 * config.time_limit)
        )
        if _agree(bool(stop), world):  # process 0 decides for all, so no process waits for another
            break
        t0 = time.perf_counter()
        guard.epoch = epoch
        generator = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
        if world > 1:
            sampler = torch.utils.data.distributed.DistributedSampler(
                train_graphs, num_replicas=world, rank=rank, shuffle=config.shuffle, seed=config.seed
            )
            sampler.set_epoch(epoch)
            order = list(sampler)
        else:
            order = (
                torch.randperm(len(train_graphs), generator=generator).tolist()
                if config.shuffle
                else list(range(len(train_graphs)))
            )
        ddp_model.train()
        total, count = 0.0, 0
        for k in range(0, len(order), per_process):
            picked = [_one_frame(train_graphs[i], generator, frame_group, frame_basis)
                      for i in order[k : k + per_process]]
            batch = make_batch(picked).to(device)
            y = batch.y if config.task == "classification" else normalizer.encode(batch.y)
            loss = _loss(ddp_model(batch), y, config.task, config.loss)
            value = float(loss.detach())
            if _any_process(not math.isfinite(value), world):  # before the step: the weights stay good
                raise _diverged(
                    guard,
                    f"a training loss of {value}" + (" (on another process)" if math.isfinite(value) else ""),
                    optimizer.param_groups[0]["lr"],
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if config.lr_schedule == "cosine":
                scheduler.step()
            total += value * batch.num_graphs
            count += batch.num_graphs
        val_metrics = _metrics(
            _predict(model, val_graphs, config, normalizer, device, frames=False),
            _targets_array(val_graphs, config),
            config,
        )
        bad = [k for k, v in val_metrics.items() if k.startswith(("mae", "rmse")) and not math.isfinite(v)]
        if bad:
            raise _diverged(guard, f"a validation {bad[0]} of {val_metrics[bad[0]]}", optimizer.param_groups[0]["lr"])
        score = _agree_score(_score(val_metrics, config), world)  # the same on every process
        if config.lr_schedule == "plateau":
            scheduler.step(score)
        row = {
            "epoch": epoch,
            "lr": optimizer.param_groups[0]["lr"],
            "train_loss": total / max(count, 1),
            **{f"val_{k}": v for k, v in val_metrics.items()},
            "seconds": time.perf_counter() - t0,
        }
        log_rows.append(row)
        improved = best_epoch == 0 or score < best  # a NaN score (undefined metric) never beats a number
        if improved:
            best, best_epoch = score, epoch
        if main_process:
            payload = {
                "model": model.state_dict(),
                "config": config.to_dict(),
                "model_config": vars(model_config),
                "normalizer": normalizer.to_dict(),
                "epoch": epoch,
                "data_sha256": data_sha256,
            }
            if improved:
                save_checkpoint(out / "best.pt", payload)
            save_checkpoint(
                out / "last.pt",
                {
                    **payload,
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "best": best,
                    "best_epoch": best_epoch,
                    "log": log_rows,
                    "elapsed": time.perf_counter() - started,
                },
            )
            guard.saved_epoch = epoch
            _write_text_atomic(out / "log.csv", _csv(log_rows))
        if bar is not None:
            bar.set_postfix(loss=f"{row['train_loss']:.4f}", val=f"{score:.4f}", lr=f"{row['lr']:.1e}")
            bar.update(1)
    if bar is not None:
        bar.close()
    if world > 1:
        torch.distributed.barrier()
    result = {}
    if main_process:
        result = _finish(out, config, normalizer, device, reports, started, log_rows, guard)
    if world > 1:
        torch.distributed.barrier()
    if own_group:
        torch.distributed.destroy_process_group()
    return result


def _any_process(flag: bool, world: int) -> bool:
    """Whether the flag is set on any process (so that all stop together, none waiting for another)."""
    if world == 1:
        return flag
    t = torch.tensor([int(flag)], device="cuda" if torch.distributed.get_backend() == "nccl" else "cpu")
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
    return bool(t.item())


def _agree(flag: bool, world: int) -> bool:
    """Process 0's decision, broadcast to every process (the flag itself when there is one process)."""
    if world == 1:
        return flag
    t = torch.tensor([int(flag)], device="cuda" if torch.distributed.get_backend() == "nccl" else "cpu")
    torch.distributed.broadcast(t, 0)
    return bool(t.item())


def _agree_score(score: float, world: int) -> float:
    """Process 0's validation score on every process (scheduler and best checkpoint stay in step)."""
    score = score if math.isfinite(score) else math.inf
    if world == 1:
        return score
    t = torch.tensor(
        [score], dtype=torch.float64, device="cuda" if torch.distributed.get_backend() == "nccl" else "cpu"
    )
    torch.distributed.broadcast(t, 0)
    return float(t.item())


def _csv(rows) -> str:
    buf = io.StringIO()
    keys = list(dict.fromkeys(k for r in rows for k in r))
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _finish(out: Path, config: TrainConfig, normalizer, device, reports, started, log_rows, guard) -> dict:
    best = load_checkpoint(out / "best.pt")
    model = model_from_checkpoint(best).to(device)
    result = {
        "model": config.model,
        "targets": list(config.targets),
        "best_epoch": best["epoch"],
        "epochs_run": len(log_rows),
        "train_seconds": time.perf_counter() - started,
        "skipped_train_rows": len(reports["train"].skipped),
    }
    test_graphs, test_report = load_graphs(config, "test", config.limit_test, False)
    _check_labels(test_graphs, config, "test")
    if not _shared_report(config):
        _say(test_report.summary(f"{config.data} test"))
    reports = {**reports, "test": test_report}
    counts = {}
    for split, limit in (("train", config.limit_train), ("val", config.limit_val), ("test", config.limit_test)):
        graphs = test_graphs if split == "test" else load_graphs(config, split, limit, False)[0]
        counts[split] = len(graphs)
        pred = _predict(model, graphs, config, normalizer, device)
        true = _targets_array(graphs, config)
        if not np.isfinite(pred).all():
            bad = graphs[_row_owner(graphs, config)[int(np.flatnonzero(~np.isfinite(pred).all(axis=1))[0])]].id
            raise RunFailed(
                f"expected finite predictions of the best checkpoint {out / 'best.pt'} on the {split} "
                f"split, got NaN or infinity (first for {bad!r}): the numbers would be wrong, so no "
                f"metrics.json was written; start again with a lower lr or check the targets"
            )
        for k, v in _metrics(pred, true, config).items():
            result[f"{split}_{k}"] = v
        if split == "test":
            _write_predictions(out / "predictions.csv", graphs, pred, true, config)
            _plot(out, pred, true, config)
    result["data"] = _write_data_report(out, config, reports, counts)
    _write_text_atomic(out / "metrics.json", json.dumps(result, indent=1))
    return result


def _write_predictions(path, graphs, pred, true, config):
    """``predictions.csv``: a line per structure (``row``: its place in the split, as ids may repeat),
    or per site for ``readout="node"`` (``site``: its place in the CIF, from 0, and its element)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    per_site = config.readout == "node"
    writer.writerow(["id", *(["site", "element"] if per_site else []), *[f"{t}_true" for t in config.targets],
                     *[f"{t}_pred" for t in config.targets], "row"])
    owner = _row_owner(graphs, config)
    site = 0
    for k, (p, t) in enumerate(zip(pred, true)):
        g = graphs[owner[k]]
        site = site + 1 if k and owner[k] == owner[k - 1] else 0
        where = [site, SYMBOLS[int(g.numbers[site]) - 1]] if per_site else []
        writer.writerow([g.id, *where, *[f"{v:.6g}" for v in t], *[f"{v:.6g}" for v in p], owner[k] + 1])
    _write_text_atomic(path, buf.getvalue())


def _plot(out: Path, pred, true, config):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2, 4), layout="constrained")
    ax = fig.add_subplot()
    name = config.targets[0]
    ok = np.isfinite(true[:, 0])
    if config.task == "classification":
        score, label = pred[ok, 0], true[ok, 0]
        order = np.argsort(-score)
        tp = np.concatenate([[0], np.cumsum(label[order] == 1)]) / max(1, (label == 1).sum())
        fp = np.concatenate([[0], np.cumsum(label[order] == 0)]) / max(1, (label == 0).sum())
        ax.plot(fp, tp)
        ax.plot([0, 1], [0, 1], "k:", lw=0.8)
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC, {name} (test)")
        fig.savefig(out / "roc.png", dpi=110)
        return
    from .predict import UNITS

    unit = UNITS.get((config.data.replace("_", "").replace("-", "").lower(), name))
    ax.scatter(true[ok, 0], pred[ok, 0], s=4, alpha=0.5)
    both = np.concatenate([true[ok, 0], pred[ok, 0]])
    lo, hi = float(np.nanmin(both)), float(np.nanmax(both))
    ax.plot([lo, hi], [lo, hi], "k:", lw=0.8)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")  # equal axes: distances from the diagonal read the same both ways
    mae = float(np.mean(np.abs(pred[ok, 0] - true[ok, 0])))
    units = f" ({unit})" if unit else ""
    ax.set(xlabel=f"{name}, true{units}", ylabel=f"{name}, predicted{units}",
           title=f"{config.model}: test MAE {mae:.4f}{' ' + unit if unit else ''}")
    fig.savefig(out / "parity.png", dpi=110)


# -- checkpoints for evaluation and prediction ------------------------------------------------


def model_from_checkpoint(payload: dict):
    try:
        model = build_model(ModelConfig(**payload["model_config"]))
        model.load_state_dict(payload["model"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(
            f"expected a checkpoint with a model of this ecn version, got one that does not fit: {exc}"
        ) from None
    return model.eval()


def _config_of(payload) -> TrainConfig:
    try:
        # checkpoints from before the gauge and neighbor_tol settings were trained on the images as the
        # files gave them and on Qhull's own faces
        return TrainConfig(
            **{
                "gauge": "as_given",
                "neighbor_tol": 0.0,
                **payload["config"],
                "targets": tuple(payload["config"]["targets"]),
                "extensive": tuple(payload["config"].get("extensive", ())),
            }
        )
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"expected a checkpoint with an ecn training config, got one without: {exc}") from None


def evaluate_checkpoint(path, data: str | None = None, split: str = "test", limit: int = 0) -> dict:
    """Metrics of a checkpoint on one split of a dataset (default: the one it was trained on).

    Prints the split's build summary on stderr. Raises ``ValueError`` when no structure of the
    split carries the checkpoint's targets, for a negative ``limit``, and for classification
    targets other than 0/1; :class:`RunFailed` when a prediction is NaN or infinite.
    """
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ValueError(f"expected --limit as an integer >= 0 (0 = all), got {limit!r}")
    payload = load_checkpoint(path)
    config = _config_of(payload)
    if data:
        config = config.replace(data=data)
    model = model_from_checkpoint(payload)
    _set_threads(config)  # deterministic runs: the same arithmetic as training, bit-identical metrics
    normalizer = Normalizer.from_dict(payload["normalizer"])
    graphs, report = load_graphs(config, split, limit, False)
    if report.skipped or report.duplicates:
        _say(report.summary(f"{config.data} {split}" if not _shared_report(config) else config.data))
    true = _targets_array(graphs, config)
    if not np.isfinite(true).any():
        reasons = ", ".join(f"{n} {k}" for k, n in sorted(report.counts().items())) or "none skipped"
        raise ValueError(
            f"expected structures carrying the target(s) {list(config.targets)} of {path} in "
            f"{config.data} ({split}), got none of {report.rows} rows ({reasons})"
        )
    _check_labels(graphs, config, split)
    pred = _predict(model, graphs, config, normalizer, torch.device("cpu"))
    if not np.isfinite(pred).all():
        bad = next(g.id for g, p in zip(graphs, pred) if not np.isfinite(p).all())
        raise RunFailed(
            f"expected finite predictions from {path}, got NaN or infinity (first for {bad!r} in "
            f"{config.data} {split}): the checkpoint's weights or normalisation are broken"
        )
    return {
        "checkpoint": str(path),
        "data": config.data,
        "split": split,
        "structures": len(graphs),
        **_metrics(pred, true, config),
    }


def predict_files(path, files) -> list[tuple[str, list[float]]]:
    """Predictions of a checkpoint for structure files: ``[(file, [value per target]), ...]``.

    Raises ``ValueError`` naming the files that could not be read or graphed; :mod:`ecn.predict`
    has the streaming, ensemble and error-tolerant version (``ecn predict``).
    """
    from .predict import Predictor, iter_inputs

    predictor = Predictor([path])
    records = list(predictor.stream(iter_inputs([str(f) for f in files]), workers=0))
    failed = [r for r in records if not r.ok]
    if failed:
        raise ValueError(
            f"expected structure files that can be read and graphed, got {len(failed)} that cannot: "
            + "; ".join(f"{r.source}: {r.error}" for r in failed[:5])
        )
    return [(r.source, list(r.values)) for r in records]
