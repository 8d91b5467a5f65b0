"""Gauge audit: does a model's prediction depend on the crystal, or on how its file writes it?

A file fixes more than the crystal: the order of the sites, which periodic image of each atom is
written, the origin, and the basis. :func:`rewrite` makes each of these changes to a
:class:`~ecn.data.Crystal` (the same crystal, written another way), and :func:`gauge_audit`
measures how far a model's predictions move under each, over a set of structures:

========== ==================================================================================
change     what it does to the file
========== ==================================================================================
permute    the sites in a random order
reimage    each atom moved by a random lattice vector (components -1, 0 or 1)
origin     every atom shifted by one random vector, then wrapped into [0, 1)
basis      another primitive basis (a random unimodular matrix), coordinates wrapped into [0, 1)
perturb    every atom moved by a random 1e-6 A, then wrapped into [0, 1) (boundary atoms flip)
========== ==================================================================================

>>> from ecn.data import Crystal
>>> c = Crystal(np.eye(3) * 4.0, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17])
>>> r = rewrite(c, "origin", np.random.default_rng(0))
>>> r.num_sites, bool(np.all((r.frac >= 0) & (r.frac < 1)))
(2, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .data.structures import Crystal

__all__ = ["CHANGES", "rewrite", "random_unimodular", "gauge_audit", "checkpoint_predictor", "model_predictor"]

#: The changes :func:`rewrite` knows, in the order the audit reports them.
CHANGES = ("permute", "reimage", "origin", "basis", "perturb")


def random_unimodular(rng: np.random.Generator, steps: int = 3) -> np.ndarray:
    """A random integer 3x3 matrix of determinant +-1 with small entries (shears, a permutation, signs).

    >>> U = random_unimodular(np.random.default_rng(1))
    >>> round(abs(np.linalg.det(U)))
    1
    """
    U = np.eye(3, dtype=np.int64)[rng.permutation(3)] * rng.choice([-1, 1], 3)[:, None]
    for _ in range(steps):
        a, b = rng.choice(3, 2, replace=False)
        U[a] += int(rng.choice([-1, 1])) * U[b]
    return U


def _wrap(frac: np.ndarray) -> np.ndarray:
    return frac - np.floor(frac)


def rewrite(crystal: Crystal, change: str, rng: np.random.Generator) -> Crystal:
    """The same crystal written another way (see the module doc for the changes)."""
    lattice, frac, numbers = np.asarray(crystal.lattice), np.asarray(crystal.frac), np.asarray(crystal.numbers)
    if change == "permute":
        p = rng.permutation(len(frac))
        return Crystal(lattice, frac[p], numbers[p], id=crystal.id)
    if change == "reimage":
        return Crystal(lattice, frac + rng.integers(-1, 2, frac.shape), numbers, id=crystal.id)
    if change == "origin":
        return Crystal(lattice, _wrap(frac + rng.uniform(0, 1, 3)), numbers, id=crystal.id)
    if change == "basis":
        U = random_unimodular(rng)
        # new rows U @ lattice; positions frac @ lattice = (frac @ U^-1) @ (U @ lattice)
        return Crystal(U @ lattice, _wrap(frac @ np.rint(np.linalg.inv(U))), numbers, id=crystal.id)
    if change == "perturb":
        step = rng.normal(size=frac.shape)
        step *= 1e-6 / np.linalg.norm(step, axis=1, keepdims=True)
        return Crystal(lattice, _wrap(frac + step @ np.linalg.inv(lattice)), numbers, id=crystal.id)
    raise ValueError(f"Could not resolve change {change!r} among choices {list(CHANGES)}")


def gauge_audit(predict: Callable[[Sequence[Crystal]], np.ndarray], crystals: Sequence[Crystal],
                changes: Sequence[str] = CHANGES, trials: int = 1, seed: int = 0) -> dict:
    """Mean and largest change of ``predict``'s outputs when each structure is rewritten.

    ``predict`` maps a list of crystals to an ``(n, targets)`` array (e.g.
    :func:`checkpoint_predictor`). Each change is applied ``trials`` times to every crystal with its
    own random draw. Returns ``{change: {"mean": ..., "max": ..., "structures": n}}`` (absolute
    changes, in the target's units) and ``"reference"``, the predictions as given.

    >>> from ecn.data import Crystal
    >>> c = Crystal(np.eye(3) * 4.0, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17])
    >>> volume = lambda cs: np.array([[abs(np.linalg.det(x.lattice))] for x in cs])   # depends on the crystal only
    >>> gauge_audit(volume, [c], changes=["basis", "origin"])["basis"]["max"] < 1e-9
    True
    """
    crystals = list(crystals)
    rng = np.random.default_rng(seed)
    reference = np.asarray(predict(crystals), dtype=float)
    out: dict = {"reference": reference.tolist()}
    for change in changes:
        diffs = []
        for _ in range(trials):
            rewritten = [rewrite(c, change, rng) for c in crystals]
            diffs.append(np.abs(np.asarray(predict(rewritten), dtype=float) - reference))
        d = np.concatenate(diffs)
        out[change] = {"mean": float(np.nanmean(d)), "max": float(np.nanmax(d)), "structures": len(crystals),
                       "trials": trials}
    return out


def checkpoint_predictor(path, **settings) -> Callable[[Sequence[Crystal]], np.ndarray]:
    """``predict(crystals)`` for a checkpoint, building graphs with its own settings (``settings``
    override fields of its training config, e.g. ``gauge="tree"``); one batched forward pass."""
    import torch

    from .checkpoint import load_checkpoint
    from .data import crystal_graph
    from .train import Normalizer, _config_of, _predict, graph_settings, model_from_checkpoint

    payload = load_checkpoint(path)
    config = _config_of(payload)
    if settings:
        config = config.replace(**settings)
    model = model_from_checkpoint(payload)
    normalizer = Normalizer.from_dict(payload["normalizer"])
    graph = graph_settings(config)

    def predict(crystals):
        graphs = [crystal_graph(c, settings=graph) for c in crystals]
        return _predict(model, graphs, config, normalizer, torch.device("cpu"))

    return predict


def model_predictor(model, name: str | None = None, settings=None, features=None,
                    frames: bool = True) -> Callable[[Sequence[Crystal]], np.ndarray]:
    """``predict(crystals)`` for a model object (an untrained or your own): graphs with ``settings``
    (default: the model's own graph rule in the tree gauge), the batches its training would use
    (quotient form without the cell one-hot), outputs averaged over the tied gauges (``frames``).

    >>> from ecn.data import Crystal
    >>> from ecn.models import build_model
    >>> c = Crystal(np.eye(3) * 4.0, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17])
    >>> model = build_model("ecn-s", node_in=104, width=8, edge_dim=4, layers=1)
    >>> gauge_audit(model_predictor(model), [c], changes=["reimage", "origin"])["reimage"]["max"] < 1e-6
    True
    """
    import torch

    from .config import TrainConfig
    from .data import FeatureSettings, crystal_graph
    from .train import collater, graph_settings

    name = name or model.config.name
    features = features or FeatureSettings(cell_onehot=False)
    config = TrainConfig(model=name, cell_onehot=features.cell_onehot, element_features=features.element,
                         gaussians=features.num_gaussians, gaussian_max=features.max_distance,
                         gaussian_width=features.width)
    settings = settings or graph_settings(config)
    make = collater(config.replace(gauge=settings.gauge), frames=frames)

    def predict(crystals):
        batch = make([crystal_graph(c, settings=settings) for c in crystals])
        model.eval()
        with torch.no_grad():
            return model(batch).double().numpy()

    return predict
