"""Edge-for-edge comparison of our graphs with pymatgen's ``IsayevNN`` (the paper's rule).

Both sides are reduced to the multiset of ``(site_i, site_j, (cell_j - cell_i) mod n, length)``
rows, which does not depend on how either side numbers the supercell's cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .graph import CrystalGraph

__all__ = ["parity_rows", "compare_rows", "ParityResult"]


def parity_rows(graph: CrystalGraph) -> np.ndarray:
    """Rows ``(site_i, site_j, dcell_0, dcell_1, dcell_2, length)`` of a graph's edges."""
    src, dst = graph.edge_index
    n = np.asarray(graph.supercell)
    dcell = np.mod(graph.cell_offset[dst] - graph.cell_offset[src], n)
    return np.column_stack([graph.site_index[src], graph.site_index[dst], dcell, graph.edge_length]).astype(float)


@dataclass(frozen=True)
class ParityResult:
    """Rows only in ours, rows only in the reference (lengths rounded to ``decimals``)."""

    only_ours: list
    only_reference: list

    @property
    def equal(self) -> bool:
        return not self.only_ours and not self.only_reference


def _keys(rows: np.ndarray, decimals: int) -> list:
    from collections import Counter

    return Counter((int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), round(float(r[5]), decimals)) for r in rows)


def compare_rows(ours: np.ndarray, reference: np.ndarray, decimals: int = 4) -> ParityResult:
    """Compare two edge multisets; lengths that round differently only by float noise still match.

    >>> a = np.array([[0, 1, 0, 0, 0, 2.00004999]]); b = np.array([[0, 1, 0, 0, 0, 2.00005001]])
    >>> compare_rows(a, b).equal
    True
    """
    a, b = _keys(ours, decimals), _keys(reference, decimals)
    only_a, only_b = a - b, b - a
    # Pair up rows whose lengths differ by less than 1e-6 but round to different 1e-4 bins.
    for key in list(only_a):
        for other in list(only_b):
            if key[:5] == other[:5] and abs(key[5] - other[5]) <= 10.0 ** (-decimals) + 1e-9:
                close = _close(ours, reference, key, other, decimals)
                if close:
                    take = min(only_a[key], only_b[other])
                    only_a[key] -= take
                    only_b[other] -= take
    return ParityResult(sorted((+only_a).elements()), sorted((+only_b).elements()))


def _close(ours, reference, key, other, decimals) -> bool:
    def lengths(rows, k):
        sel = np.all(rows[:, :5] == np.array(k[:5]), axis=1) & (np.round(rows[:, 5], decimals) == k[5])
        return rows[sel, 5]

    la, lb = lengths(ours, key), lengths(reference, other)
    return bool(len(la) and len(lb) and np.min(np.abs(la[:, None] - lb[None, :])) < 1e-6)
