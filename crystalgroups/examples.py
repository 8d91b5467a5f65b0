"""Worked examples from the paper, computed with the library.

>>> full, sparse = graphene_pattern()
>>> full
Pattern('(mp on 2 x 2) x S2', nodes=8, node_colors=1, edge_colors=8)
>>> sparse.num_edge_colors   # only the colours that occur on a bond survive (Example 6.1)
3
"""

from __future__ import annotations

import numpy as np

from .patterns import Pattern, SparsePattern, pattern, symmetric_pattern
from .supercell import Supercell

__all__ = ["graphene_pattern", "graphene_edges", "GRAPHENE_BASIS", "GRAPHENE_ATOMS"]

#: Graphene lattice vectors (rows) for lattice constant a = 1 (paper Example 3.1).
GRAPHENE_BASIS = np.array([[1.5, 3**0.5 / 2], [1.5, -(3**0.5) / 2]])
#: The two carbon atoms of the unit cell, Cartesian, a = 1.
GRAPHENE_ATOMS = np.array([[-0.5, 0.0], [0.5, 0.0]])


def graphene_edges(sizes=(2, 2)) -> np.ndarray:
    """Bonds of graphene on a periodic supercell, both directions, as a ``(2, E)`` array.

    Node ``(cell, atom)`` has index ``cell * 2 + atom``. Atom 0 (A) bonds to atom 1 (B) of the
    same cell and of the cells at ``-a1`` and ``-a2``, all at distance ``a``.
    """
    sc = Supercell.diagonal(*sizes)
    cells = sc.cells
    src, dst = [], []
    for shift in ([0, 0], [-1, 0], [0, -1]):
        d = GRAPHENE_ATOMS[1] + np.array(shift) @ GRAPHENE_BASIS - GRAPHENE_ATOMS[0]
        assert abs(np.linalg.norm(d) - 1.0) < 1e-12  # every bond has length a
        a = np.arange(len(cells)) * 2
        b = sc.index(cells + np.array(shift)) * 2 + 1
        src += [a, b]
        dst += [b, a]
    return np.stack([np.concatenate(src), np.concatenate(dst)])


def graphene_pattern(sizes=(2, 2)) -> tuple[Pattern, SparsePattern]:
    """Example 6.1: the product pattern of P2 (on the cells) and S2 (on the two atoms), and its
    restriction to graphene's bonds."""
    full = pattern("mp", sizes).product(symmetric_pattern(2))
    return full, full.restrict(graphene_edges(sizes))
