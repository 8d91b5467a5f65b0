"""Training configuration: a frozen dataclass, loadable from YAML, with ``key=value`` overrides.

The defaults are the paper's protocol (Appendix A.7): AdamW, learning rate 1e-3, batch 128,
ReduceLROnPlateau (factor 0.5, patience 25) on the validation MAE, until 1000 epochs or the
learning rate falls to 1e-6.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from pathlib import Path

__all__ = ["TrainConfig", "load_config", "apply_overrides", "PRESETS"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run depends on (saved in the run folder and in every checkpoint)."""

    data: str = "perov5"
    targets: tuple = ("heat_all",)
    task: str = "regression"  # or "classification" (binary, targets 0/1)
    extensive: tuple = ()  # targets that scale with the cell (summed over atoms); the others are intensive
    readout: str = "mean"  # "mean" (the paper's), "sum" (every target extensive) or "node" (per-site targets)
    model: str = "ecn-s"
    width: int = 100
    layers: int = 6
    edge_dim: int = 20
    norm: str = "none"  # ECN layers and the MPNN: "batch" normalises each layer's summed messages (not the paper's)
    element_features: str = "onehot"  # or "period_group", "properties", "onehot+properties" (ecn.data.features)
    gaussians: int = 20  # edge features: Gaussians exp(-(d - mu)^2 / width^2), centres mu evenly in [0, gaussian_max]
    gaussian_max: float = 6.0  # A (the paper's 20 centres to 6 A, width 0.6 A)
    gaussian_width: float = 0.6  # A
    neighbors: str = ""  # "" = the model's own graph rule; "isayev" (paper's bonds) or "radius" (8 A, 12 nn)
    supercell: tuple = ()  # () = the model's own (2x2x2 for ECN); 3 sizes, or 9 numbers: a matrix row by row
    gauge: str = "tree"  # periodic image of each atom: "tree" (by the bonds, independent of the file) or "as_given"
    neighbor_tol: float = 1e-4  # A: near-degenerate Voronoi faces and k-th-neighbour ties count as such; 0 = exact
    cell_onehot: bool = False  # the paper's exact input appends the cell one-hot (then the graph is explicit)
    graph_form: str = "auto"  # "auto": the quotient unless the cell one-hot is on; "quotient"; "explicit"
    epochs: int = 1000
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    loss: str = "mse"  # regression loss on the normalised targets: "mse" (the paper's), "l1" or "huber" (delta 1)
    lr_schedule: str = "plateau"  # the paper's ReduceLROnPlateau, or "cosine": to min_lr over `epochs` (short budgets)
    lr_factor: float = 0.5
    lr_patience: int = 25
    min_lr: float = 1e-6
    early_stopping: int = 0  # epochs without validation improvement before stopping; 0 = off
    time_limit: float = 0.0  # minutes of training after which no new epoch starts; 0 = none
    normalize: bool = True
    shuffle: bool = True
    seed: int = 0
    limit_train: int = 0  # 0 = all
    limit_val: int = 0
    limit_test: int = 0
    workers: int = 0  # graph-building processes; 0 = all cores
    device: str = "cpu"
    threads: int = 0  # CPU intra-op threads; 0 = torch's default (every core)
    deterministic: bool = False  # on CPU: one intra-op thread, so that a seed gives bit-identical runs
    quiet: bool = False

    def __post_init__(self) -> None:
        targets = _names(self.targets, "targets")
        object.__setattr__(self, "targets", targets)
        extensive = _names(self.extensive, "extensive")
        object.__setattr__(self, "extensive", extensive)
        for f in fields(self):  # YAML and keyword values of the wrong kind: one clear error, not a TypeError later
            if f.type == "str" and not isinstance(getattr(self, f.name), str):
                raise ValueError(f"expected {f.name} as text, got {getattr(self, f.name)!r}")
        unknown = sorted(set(extensive) - set(targets))
        if unknown:
            raise ValueError(f"expected extensive targets among the targets {list(targets)}, got {unknown}")
        if not targets:
            raise ValueError("expected at least one target, got none")
        from .models import MODELS

        if self.model not in MODELS:
            raise ValueError(f"Could not resolve model {self.model!r} among choices {sorted(MODELS)}")
        if self.readout not in ("mean", "sum", "node"):
            raise ValueError(f"expected readout 'mean', 'sum' or 'node', got {self.readout!r}")
        if self.norm not in ("none", "batch"):
            raise ValueError(f"expected norm 'none' or 'batch', got {self.norm!r}")
        if self.norm != "none" and self.model not in ("ecn-s", "ecn-p1", "ecn-g", "mpnn"):
            raise ValueError(f"expected norm 'none' for {self.model} (only the ECN layer takes one), got {self.norm!r}")
        if self.readout == "node" and extensive:
            raise ValueError(f"expected no extensive targets with readout=node (per-site targets are neither), got "
                             f"{list(extensive)}")
        from .data.features import ELEMENT_FEATURES

        if self.element_features not in ELEMENT_FEATURES:
            raise ValueError(f"expected element_features among {list(ELEMENT_FEATURES)}, got {self.element_features!r}")
        if self.loss not in ("mse", "l1", "huber"):
            raise ValueError(f"expected loss 'mse', 'l1' or 'huber', got {self.loss!r}")
        if self.neighbors not in ("", "isayev", "radius"):
            raise ValueError(f"expected neighbors '', 'isayev' or 'radius', got {self.neighbors!r}")
        if self.lr_schedule not in ("plateau", "cosine"):
            raise ValueError(f"expected lr_schedule 'plateau' or 'cosine', got {self.lr_schedule!r}")
        if not 0 <= self.neighbor_tol < 0.1:
            raise ValueError(f"expected neighbor_tol in [0, 0.1) A, got {self.neighbor_tol}")
        if self.gauge not in ("tree", "as_given"):
            raise ValueError(f"expected gauge 'tree' or 'as_given', got {self.gauge!r}")
        if self.graph_form not in ("auto", "quotient", "explicit"):
            raise ValueError(f"expected graph_form 'auto', 'quotient' or 'explicit', got {self.graph_form!r}")
        if self.graph_form == "quotient" and self.cell_onehot:
            raise ValueError("expected graph_form 'explicit' or 'auto' with cell_onehot=true (the one-hot tells the "
                             "cells apart, so the quotient no longer computes the same), got graph_form='quotient'")
        object.__setattr__(self, "supercell", _supercell_setting(self.supercell))
        if self.task not in ("regression", "classification"):
            raise ValueError(f"expected task 'regression' or 'classification', got {self.task!r}")
        for f in fields(self):  # YAML and keyword values: the declared type, or a clear error
            value = getattr(self, f.name)
            if f.type in ("int", "float", "bool") and not _is_type(value, f.type):
                raise ValueError(f"expected {f.name} as {f.type}, got {value!r}")
        for name in ("epochs", "batch_size", "width", "layers", "edge_dim", "gaussians"):
            if getattr(self, name) < 1:
                raise ValueError(f"expected {name} >= 1, got {getattr(self, name)}")
        for name in ("limit_train", "limit_val", "limit_test", "workers", "early_stopping", "time_limit", "threads"):
            if getattr(self, name) < 0:
                raise ValueError(f"expected {name} >= 0, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"expected lr > 0, got {self.lr}")
        if not (self.gaussian_max > 0 and self.gaussian_width > 0):
            raise ValueError(f"expected gaussian_max > 0 and gaussian_width > 0, got {self.gaussian_max} and "
                             f"{self.gaussian_width}")
        for f in fields(self):
            if f.type == "float" and not math.isfinite(getattr(self, f.name)):
                raise ValueError(f"expected {f.name} as a finite number, got {getattr(self, f.name)!r}")
        if not 0 < self.lr_factor < 1:
            raise ValueError(f"expected lr_factor between 0 and 1, got {self.lr_factor}")
        if self.min_lr < 0 or self.weight_decay < 0:
            raise ValueError(f"expected min_lr >= 0 and weight_decay >= 0, got {self.min_lr} and {self.weight_decay}")
        if self.lr_schedule == "plateau" and not self.lr > self.min_lr:  # else it stops before its first epoch
            raise ValueError(f"expected lr above min_lr for the plateau schedule (it stops when the lr reaches "
                             f"min_lr), got lr {self.lr:g} and min_lr {self.min_lr:g}")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["targets"] = list(self.targets)
        d["extensive"] = list(self.extensive)
        d["supercell"] = list(self.supercell)
        return d

    @property
    def uses_quotient(self) -> bool:
        """Whether a supercell model runs on the quotient graph (unit cell, colours of the cell pairs)."""
        return self.graph_form == "quotient" or (self.graph_form == "auto" and not self.cell_onehot)

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)


def _names(value, name: str) -> tuple:
    """A name or a sequence of names as a tuple of non-empty texts."""
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"expected {name} as a name or a list of names, got {value!r}")
    return tuple(value)


def _supercell_setting(value) -> tuple:
    """``()``, three positive sizes, or nine integers (a 3x3 matrix row by row), as a tuple of ints."""
    if isinstance(value, str):
        value = tuple(v for v in value.replace("x", ",").split(",") if v.strip())
    try:
        numbers = tuple(int(str(v).strip()) for v in value)
    except (TypeError, ValueError):
        raise ValueError(
            f"expected supercell as 3 sizes (e.g. 3,3,3) or 9 integers of a matrix, got {value!r}") from None
    if len(numbers) not in (0, 3, 9) or (len(numbers) == 3 and min(numbers) < 1):
        raise ValueError(
            f"expected supercell as 3 positive sizes (e.g. 3,3,3) or 9 integers of a matrix, got {value!r}"
        )
    return numbers


def _is_type(value, kind: str) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


#: Named presets; ``paper`` is the default protocol, ``smoke`` a seconds-long check.
PRESETS = {
    "paper": {},
    "smoke": {
        "epochs": 2,
        "width": 16,
        "layers": 2,
        "batch_size": 16,
        "limit_train": 64,
        "limit_val": 32,
        "limit_test": 32,
    },
}


def _coerce(field_type, raw: str, name: str):
    text = raw.strip()
    kind = str(field_type)
    try:
        if kind in ("bool", "<class 'bool'>"):
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind in ("int", "<class 'int'>"):
            return int(text)
        if kind in ("float", "<class 'float'>"):
            return float(text)
        if kind in ("tuple", "<class 'tuple'>"):
            return tuple(t.strip() for t in text.split(",") if t.strip())
    except ValueError:
        raise ValueError(f"expected {name} as {kind}, got {raw!r}") from None
    return text


def apply_overrides(config: TrainConfig, overrides) -> TrainConfig:
    """Apply ``["key=value", ...]``; an unknown key is an error that lists the valid ones.

    >>> apply_overrides(TrainConfig(), ["epochs=5", "targets=heat_all,heat_ref"]).targets
    ('heat_all', 'heat_ref')
    """
    known = {f.name: f for f in fields(TrainConfig)}
    changes = {}
    for item in overrides or ():
        if "=" not in item:
            raise ValueError(f"expected an override as key=value, got {item!r}")
        key, value = item.split("=", 1)
        key = key.strip().replace("-", "_")
        if key not in known:
            raise ValueError(f"Could not resolve setting {key!r} among choices {sorted(known)}")
        changes[key] = _coerce(known[key].type, value, key)
    return config.replace(**changes)


def load_config(path=None, preset: str | None = None, overrides=()) -> TrainConfig:
    """Defaults, then a preset, then a YAML file, then ``key=value`` overrides."""
    config = TrainConfig()
    if preset:
        if preset not in PRESETS:
            raise ValueError(f"Could not resolve preset {preset!r} among choices {sorted(PRESETS)}")
        config = config.replace(**PRESETS[preset])
    if path:
        import yaml

        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except yaml.YAMLError as exc:
            raise ValueError(
                f"expected a YAML mapping of settings in {path}, got text YAML cannot read: {str(exc).splitlines()[0]}"
            ) from None
        except OSError as exc:
            raise ValueError(f"expected a readable config file, got {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"expected a mapping of settings in {path}, got {type(data).__name__}")
        known = {f.name for f in fields(TrainConfig)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Could not resolve settings {unknown} in {path} among choices {sorted(known)}")
        by_name = {f.name: f for f in fields(TrainConfig)}
        for key, value in list(data.items()):
            if isinstance(value, list):
                data[key] = tuple(value)
            elif isinstance(value, str) and by_name[key].type in ("int", "float", "bool"):
                data[key] = _coerce(by_name[key].type, value, key)  # e.g. "1e-3", which YAML reads as text
            elif by_name[key].type == "float" and isinstance(value, int) and not isinstance(value, bool):
                data[key] = float(value)
        config = config.replace(**data)
    return apply_overrides(config, overrides)
