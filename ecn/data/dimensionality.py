"""Dimensionality of a periodic bond network (Larsen et al., Phys. Rev. Materials 3, 034003, 2019).

Exact and integer-only: in each connected component of the unit-cell bond graph (edges carry the
lattice translation ``image`` of their target), a spanning tree gives every atom an integer
offset ``p``; each remaining edge ``i -> j`` closes a cycle whose net translation is
``p_i + image - p_j``. The component is k-dimensional when those translations span a rank-k
lattice: 0 for a molecule, 1 for a chain, 2 for a layer, 3 for a framework. A structure's
dimensionality is the largest of its components'.
"""

from __future__ import annotations

from collections import deque

import numpy as np

__all__ = ["component_dimensionalities", "dimensionality"]


def component_dimensionalities(num_sites: int, src, dst, image) -> list[int]:
    """Dimensionality of each connected component of the unit-cell bond graph, in order of smallest site.

    >>> # a chain along a: atom 0 bonded to its own image one cell over
    >>> component_dimensionalities(1, [0, 0], [0, 0], [[1, 0, 0], [-1, 0, 0]])
    [1]
    """
    import sympy  # here, not at the top: it takes about a second to import, and only this function needs it

    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    image = np.asarray(image, dtype=np.int64).reshape(-1, 3)
    adjacency: list[list[tuple[int, np.ndarray]]] = [[] for _ in range(num_sites)]
    for i, j, L in zip(src.tolist(), dst.tolist(), image):
        adjacency[i].append((j, L))
        adjacency[j].append((i, -L))
    offset = [None] * num_sites
    dims = []
    for start in range(num_sites):
        if offset[start] is not None:
            continue
        offset[start] = np.zeros(3, dtype=np.int64)
        cycles = []
        queue = deque([start])
        while queue:
            i = queue.popleft()
            for j, L in adjacency[i]:
                target = offset[i] + L
                if offset[j] is None:
                    offset[j] = target
                    queue.append(j)
                else:
                    cycle = target - offset[j]
                    if np.any(cycle):
                        cycles.append(cycle)
        dims.append(int(sympy.Matrix(np.array(cycles).tolist()).rank()) if cycles else 0)
    return dims


def dimensionality(num_sites: int, src, dst, image) -> int:
    """The largest component dimensionality (see :func:`component_dimensionalities`)."""
    return max(component_dimensionalities(num_sites, src, dst, image))
