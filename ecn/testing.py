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

__all__ = ["permute_batch", "assert_equivariant", "node_permutation", "quotient_mismatch", "TOLERANCES"]

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

    Per-site outputs (one row per site of the unit cell, for ``pi = (g, h)`` of
    :func:`node_permutation`) are checked as ``f(pi X)[h] = f(X)``.

    Returns ``{"max_error": float, "errors": [one per permutation]}``; raises ``AssertionError``
    when an error exceeds ``atol`` (default by dtype: float64 1e-10, float32 1e-5).
    """
    dtype = next(model.parameters()).dtype
    sites = int(num_sites if num_sites is not None else int(batch.site_index.max()) + 1)
    atol = TOLERANCES.get(dtype, 1e-5) if atol is None else atol
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            reference = model(batch)
            errors = []
            for perm in perms:
                out = model(permute_batch(batch, perm, cell_table, num_sites))
                perm_t = torch.as_tensor(np.asarray(perm), dtype=torch.long)
                if out.shape[0] == batch.num_nodes:  # per-node outputs move with the nodes
                    out = out[perm_t]
                elif out.shape[0] == sites:  # per-site outputs (a model's readout="node") move with h
                    out = out[perm_t[:sites] % sites]
                errors.append(float((out - reference).abs().max()))
    finally:
        model.train(was_training)
    result = {"max_error": max(errors) if errors else 0.0, "errors": errors}
    if result["max_error"] > atol:
        worst = int(np.argmax(errors))
        raise AssertionError(f"not equivariant: error {errors[worst]:.3g} > {atol:.3g} for permutation #{worst}")
    return result


def quotient_mismatch(model, graphs, group: str, features=None, dtype=torch.float64, seed: int = 0) -> dict:
    """How far a model's quotient computation is from its explicit supercell computation.

    Runs ``model`` on the explicit supercell batch of ``graphs`` and on its quotient (one node per
    site, :func:`ecn.data.collate` with ``quotient=True``) in ``dtype``, and returns the largest
    absolute differences of the outputs (``"output"``) and of every parameter's gradient of a
    random linear function of the outputs (``"gradient"``). Per-site outputs (``readout="node"``)
    are also compared cell by cell: every copy of a site in the explicit supercell must give the
    quotient's value, not just their mean. ``features`` must
    not carry the cell one-hot (default: the defaults without it). Both are 0 up to rounding
    (about 1e-16 in float64) for every ECN model: see ``docs/concepts.md``.

    >>> from ecn.data import Crystal, crystal_graph
    >>> from ecn.models import build_model
    >>> g = crystal_graph(Crystal(np.eye(3) * 3.6, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17]))
    >>> m = build_model("ecn-p1", node_in=104, width=8, edge_dim=4, layers=2)
    >>> err = quotient_mismatch(m, [g], "P-1")
    >>> err["output"] < 1e-12 and err["gradient"] < 1e-12
    True
    """
    from ecn.data import FeatureSettings, collate

    features = FeatureSettings(cell_onehot=False) if features is None else features
    model = model.to(dtype)
    per_site = getattr(getattr(model, "config", None), "readout", None) == "node"
    outputs, grads, copies = [], [], None
    for quotient in (False, True):
        batch = collate(graphs, group, (), features, quotient=quotient)
        floats = {k: getattr(batch, k).to(dtype) for k in ("x", "edge_attr", "edge_length", "edge_vector", "positions")}
        batch = replace(batch, **floats)
        model.zero_grad(set_to_none=True)
        out = model(batch)  # (B, out), or (S, out) per site of the unit cells in both forms
        if per_site and not quotient:  # (N, out): the site's value in every cell of the supercell
            with torch.no_grad():
                nodes = model._forward(batch)
            copies = torch.cat([nodes[a:b].reshape(g.num_cells, g.num_sites, -1)
                                for g, a, b in zip(graphs, batch.ptr[:-1], batch.ptr[1:])], dim=1)
        weights = torch.randn(out.shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))
        (out * weights).sum().backward()
        outputs.append(out.detach())
        grads.append({n: (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p))
                      for n, p in model.named_parameters()})
    model.zero_grad(set_to_none=True)
    gradient = max(float((grads[0][n] - grads[1][n]).abs().max()) for n in grads[0]) if grads[0] else 0.0
    output = float((outputs[0] - outputs[1]).abs().max())
    if copies is not None:
        output = max(output, float((copies - outputs[1]).abs().max()))
    return {"output": output, "gradient": gradient}
