"""Exact equivariance checks for models on crystal graphs (in the style of e3nn's ``assert_equivariant``).

A group element acts on a graph's input as in paper Eq. 4-5: a permutation ``pi`` of the node
slots moves node features (``h_(a,i) -> h_(pi(a), pi(i))``) and edges (``(i, j) -> (pi(i), pi(j))``
with their features); the colours are *not* moved: they are a fixed function of the slot pair
(the pattern). A model built on a pattern of group ``G`` then satisfies ``f(pi X) = f(X)`` for
invariant outputs and ``f(pi X)[pi(i)] = f(X)[i]`` for per-node outputs, for every ``pi`` in ``G``;
for ``pi`` outside ``G`` the colours of the moved edges change and it generally does not.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

__all__ = ["permute_batch", "assert_equivariant", "node_permutation", "TOLERANCES"]

#: Default absolute tolerances per dtype.
TOLERANCES = {torch.float64: 1e-10, torch.float32: 1e-5}


def node_permutation(cell_perm, site_perm) -> np.ndarray:
    """The node permutation ``(a, i) -> (g(a), h(i))`` for nodes numbered ``a * C + i`` (paper Eq. 5).

    >>> node_permutation([1, 0], [0, 2, 1]).tolist()
    [3, 5, 4, 0, 2, 1]
    """
    g, h = np.asarray(cell_perm), np.asarray(site_perm)
    return (g[:, None] * len(h) + h[None, :]).ravel()


def permute_batch(batch, perm, cell_table=None, num_sites: int | None = None):
    """The input ``pi X`` of a one-graph batch, for the node permutation ``perm`` (old slot -> new slot).

    ``cell_table`` is the ``cells x cells`` colour table of the model's pattern (``None`` for the
    ``S_N`` pattern: colour 1 between distinct nodes, 0 on self-edges); ``num_sites`` is the
    number of atoms per cell (default: from ``batch.site_index``).
    """
    perm = torch.as_tensor(np.asarray(perm), dtype=torch.long)
    n = batch.num_nodes
    if batch.num_graphs != 1 or sorted(perm.tolist()) != list(range(n)):
        raise ValueError(f"expected a one-graph batch and a permutation of its {n} nodes")
    C = int(num_sites if num_sites is not None else int(batch.site_index.max()) + 1)
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(n)
    moved = {name: getattr(batch, name)[inverse] for name in ("x", "atomic_number", "positions")}
    edge_index = perm[batch.edge_index]
    slot_cell, slot_site = torch.arange(n) // C, torch.arange(n) % C
    i, j = edge_index
    if cell_table is None:
        color = (i != j).long()
    else:
        color = torch.tensor(np.array(cell_table))[slot_cell[i], slot_cell[j]].long()
    return replace(batch, edge_index=edge_index, edge_color=color, same_site=slot_site[i] == slot_site[j], **moved)


def assert_equivariant(model, batch, perms, cell_table=None, num_sites=None, atol: float | None = None) -> dict:
    """Check ``f(pi X) = f(X)`` (graph outputs) or ``f(pi X)[pi] = f(X)`` (node outputs) for each ``pi``.

    Returns ``{"max_error": float, "errors": [one per permutation]}``; raises ``AssertionError``
    when an error exceeds ``atol`` (default by dtype: float64 1e-10, float32 1e-5).
    """
    dtype = next(model.parameters()).dtype
    atol = TOLERANCES.get(dtype, 1e-5) if atol is None else atol
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            reference = model(batch)
            errors = []
            for perm in perms:
                out = model(permute_batch(batch, perm, cell_table, num_sites))
                if out.shape[0] == batch.num_nodes:  # per-node outputs move with the nodes
                    out = out[torch.as_tensor(np.asarray(perm), dtype=torch.long)]
                errors.append(float((out - reference).abs().max()))
    finally:
        model.train(was_training)
    result = {"max_error": max(errors) if errors else 0.0, "errors": errors}
    if result["max_error"] > atol:
        worst = int(np.argmax(errors))
        raise AssertionError(f"not equivariant: error {errors[worst]:.3g} > {atol:.3g} for permutation #{worst}")
    return result
