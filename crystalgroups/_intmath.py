"""Exact integer determinants, adjugates and inverses of 2x2 and 3x3 matrices (private).

Floating-point ``det`` and ``inv`` lose exactness once entries reach about 1e5; these use
Python integers and stay exact for any size of entry.
"""

from __future__ import annotations

import numpy as np


def int_det(M) -> int:
    """Exact determinant of an integer 2x2 or 3x3 matrix.

    >>> int_det([[427964, 1], [1, 0]])
    -1
    """
    m = [[int(v) for v in row] for row in np.asarray(M)]
    if len(m) == 2:
        return m[0][0] * m[1][1] - m[0][1] * m[1][0]
    return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))


def int_adjugate(M) -> np.ndarray:
    """Exact adjugate (``det(M) * inverse(M)``) of an integer 2x2 or 3x3 matrix."""
    m = [[int(v) for v in row] for row in np.asarray(M)]
    if len(m) == 2:
        return np.array([[m[1][1], -m[0][1]], [-m[1][0], m[0][0]]], dtype=np.int64)
    adj = [[0] * 3 for _ in range(3)]
    for i in range(3):
        for j in range(3):
            rows = [r for r in range(3) if r != j]
            cols = [c for c in range(3) if c != i]
            minor = m[rows[0]][cols[0]] * m[rows[1]][cols[1]] - m[rows[0]][cols[1]] * m[rows[1]][cols[0]]
            adj[i][j] = (-1) ** (i + j) * minor
    return np.array(adj, dtype=np.int64)


def unimodular_inverse(M) -> np.ndarray:
    """Exact inverse of an integer matrix of determinant +-1.

    >>> unimodular_inverse([[2, 1], [1, 1]]).tolist()
    [[1, -1], [-1, 2]]
    """
    d = int_det(M)
    if d not in (1, -1):
        raise ValueError(f"expected a matrix of determinant +-1, got determinant {d}")
    return int_adjugate(M) * d
