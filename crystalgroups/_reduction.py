"""Lattice basis reduction on the metric (private): Krivy-Gruber (Niggli, 3D) and Lagrange-Gauss (2D).

Both work on the Gram matrix ``G = A A^T`` (basis vectors as rows of ``A``) and return the integer
change of basis ``T`` (det +1) with ``G_reduced = T G T^T``. Integer metrics are reduced exactly
(``eps = 0``); float metrics use one absolute tolerance ``eps`` on metric entries.
"""

from __future__ import annotations

import itertools

import numpy as np

from .errors import LatticeError

_MAX_STEPS = 10_000


def _gram(G0: np.ndarray, T: np.ndarray, basis: np.ndarray | None = None) -> np.ndarray:
    """``T G0 T^T``, or ``(T B)(T B)^T`` when the basis is known: far less rounding error when ``T``
    has large entries (a very oblique input cell)."""
    if basis is None:
        return T @ G0 @ T.T
    B = T @ basis
    return B @ B.T


def niggli_reduce_metric(
    G0: np.ndarray, eps: float = 0.0, basis: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Niggli-reduce a 3x3 metric with the Krivy-Gruber algorithm (Grosse-Kunstleve et al. 2004).

    Returns ``(G, T)`` with ``G = T G0 T^T``, ``T`` an integer matrix of determinant +1.

    >>> G, T = niggli_reduce_metric(np.array([[2, 1, 1], [1, 2, 1], [1, 1, 2]]) * 9)
    >>> np.diag(G).tolist()  # a reduced fcc cell: three equal shortest vectors
    [18, 18, 18]
    """
    G0 = np.asarray(G0)
    T = np.eye(3, dtype=np.int64)

    def lt(x, y):
        return x < y - eps

    def gt(x, y):
        return y < x - eps

    def eq(x, y):
        return not (lt(x, y) or gt(x, y))

    def apply(M):
        nonlocal T
        T = np.asarray(M, dtype=np.int64) @ T

    for _ in range(_MAX_STEPS):
        G = _gram(G0, T, basis)
        A, B, C = G[0, 0], G[1, 1], G[2, 2]
        xi, eta, zeta = 2 * G[1, 2], 2 * G[0, 2], 2 * G[0, 1]
        # Step 1: A <= B, ties broken by |xi| <= |eta|.
        if gt(A, B) or (eq(A, B) and gt(abs(xi), abs(eta))):
            apply([[0, -1, 0], [-1, 0, 0], [0, 0, -1]])
            continue
        # Step 2: B <= C, ties broken by |eta| <= |zeta|.
        if gt(B, C) or (eq(B, C) and gt(abs(eta), abs(zeta))):
            apply([[-1, 0, 0], [0, 0, -1], [0, -1, 0]])
            continue
        # Steps 3 and 4: all three angles acute (+++) or all non-acute (---).
        positive = gt(xi, 0) and gt(eta, 0) and gt(zeta, 0)
        pairs = ((1, 2, xi), (0, 2, eta), (0, 1, zeta))
        is_type_one = (xi * eta * zeta > 0) and all(abs(v) > eps for v in (xi, eta, zeta))
        if is_type_one and not positive:
            apply(_sign_flip(pairs, lambda v: gt(v, 0)))
            continue
        if not is_type_one and any(gt(v, 0) for v in (xi, eta, zeta)):
            apply(_sign_flip(pairs, lambda v: not gt(v, 0)))
            continue
        # Step 5.
        if gt(abs(xi), B) or (eq(xi, B) and lt(2 * eta, zeta)) or (eq(xi, -B) and lt(zeta, 0)):
            s = 1 if xi > 0 else -1
            apply([[1, 0, 0], [0, 1, 0], [0, -s, 1]])
            continue
        # Step 6.
        if gt(abs(eta), A) or (eq(eta, A) and lt(2 * xi, zeta)) or (eq(eta, -A) and lt(zeta, 0)):
            s = 1 if eta > 0 else -1
            apply([[1, 0, 0], [0, 1, 0], [-s, 0, 1]])
            continue
        # Step 7.
        if gt(abs(zeta), A) or (eq(zeta, A) and lt(2 * xi, eta)) or (eq(zeta, -A) and lt(eta, 0)):
            s = 1 if zeta > 0 else -1
            apply([[1, 0, 0], [-s, 1, 0], [0, 0, 1]])
            continue
        # Step 8.
        total = xi + eta + zeta + A + B
        if lt(total, 0) or (eq(total, 0) and gt(2 * (A + eta) + zeta, 0)):
            apply([[1, 0, 0], [0, 1, 0], [1, 1, 1]])
            continue
        return G, T
    raise LatticeError(
        "expected a lattice that Niggli reduction can handle, got one on which it did not converge "
        f"in {_MAX_STEPS} steps (a numerically degenerate or extremely oblique basis)"
    )


def _sign_flip(pairs, wanted) -> np.ndarray:
    """The diagonal sign change (det +1) that makes every 2*G_ij satisfy ``wanted``."""
    for signs in itertools.product((1, -1), repeat=3):
        if all(wanted(signs[i] * signs[j] * v) for i, j, v in pairs):
            D = np.diag(signs)
            return D if round(np.linalg.det(D)) == 1 else -D
    raise RuntimeError("no sign change satisfies the Niggli sign condition")  # pragma: no cover


def gauss_reduce_metric(
    G0: np.ndarray, eps: float = 0.0, basis: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Lagrange-Gauss reduction of a 2x2 metric: ``|a| <= |b|`` and ``2|a.b| <= |a|^2``.

    Returns ``(G, T)`` with ``G = T G0 T^T`` and ``det T = +1``.

    >>> G, T = gauss_reduce_metric(np.array([[1, 3], [3, 10]]))
    >>> G.tolist(), T.tolist()
    ([[1, 0], [0, 1]], [[1, 0], [-3, 1]])
    """
    G0 = np.asarray(G0)
    T = np.eye(2, dtype=np.int64)
    for _ in range(_MAX_STEPS):
        G = _gram(G0, T, basis)
        if G[1, 1] < G[0, 0] - eps:
            T = np.array([[0, 1], [-1, 0]]) @ T  # swap, keeping det +1
            continue
        # The integer k nearest to m = G01 / G00 shortens b most. Two integers are equally near when
        # |2 G01 - (2k + 1) G00| <= eps (m within eps / (2 G00) of a half-integer): the tie goes to the one
        # nearer zero, so a basis and the same basis in another unit (eps scaled alike) take the same step.
        m = G[0, 1] / G[0, 0]
        k = int(np.sign(m) * np.floor(abs(m) + 0.5 - eps / (2 * G[0, 0])))
        if k:
            T = np.array([[1, 0], [-k, 1]]) @ T
            continue
        return G, T
    raise LatticeError(
        "expected a lattice that Gauss reduction can handle, got one on which it did not converge"
    )  # pragma: no cover


def reduce_metric(G0: np.ndarray, eps: float = 0.0, basis: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a 2x2 (Lagrange-Gauss) or 3x3 (Niggli) metric; see the two functions above."""
    return (gauss_reduce_metric if len(G0) == 2 else niggli_reduce_metric)(G0, eps, basis)


def size_reduce(basis: np.ndarray, max_rounds: int = 200) -> np.ndarray:
    """Pairwise (Lagrange-style) size reduction of a float basis (rows); returns ``T`` (det +1), ``T @ basis`` shorter.

    A cheap first pass for very oblique bases, on which the unit steps of Krivy-Gruber would
    need millions of iterations.

    >>> size_reduce(np.array([[1.0, 0.0], [1e6, 1.0]])).tolist()
    [[1, 0], [-1000000, 1]]
    """
    B = np.array(basis, dtype=float)
    d = len(B)
    T = np.eye(d, dtype=np.int64)
    for _ in range(max_rounds):
        changed = False
        for i in range(d):
            for j in range(d):
                if i == j:
                    continue
                k = int(np.rint(B[i] @ B[j] / (B[j] @ B[j])))
                if k and np.linalg.norm(B[i] - k * B[j]) < np.linalg.norm(B[i]) * (1 - 1e-12):
                    B[i] -= k * B[j]
                    T[i] -= k * T[j]
                    changed = True
        if not changed:
            break
    return T
