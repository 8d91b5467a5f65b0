"""Lattices: basis, metric, reduced bases and the exact point group (Bravais group).

Conventions used throughout :mod:`crystalgroups`:

* a lattice basis is a ``d x d`` array whose **rows** are the basis vectors ``a_1 .. a_d``;
* a lattice point (or vector) has integer coordinates ``x`` (a column) and Cartesian position
  ``A^T x``; the metric is ``G = A A^T``;
* a point operation is an integer matrix ``W`` acting on coordinates, ``x -> W x``; it is an
  isometry of the lattice exactly when ``W^T G W = G``.

Floats and the tolerance ``tol`` (a length in the units of the basis, like spglib's ``symprec``)
appear only here, where a float lattice comes in; everything downstream is integers.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import _reduction
from ._intmath import int_det, unimodular_inverse
from ._validate import as_float_basis, check_tolerance
from .errors import LatticeError, ToleranceWarning

__all__ = ["Lattice", "point_group_of_metric", "DEFAULT_TOL", "MAX_SEARCH_POINTS", "MAX_TOL_FRACTION"]

#: Default length tolerance (same default as spglib's ``symprec``).
DEFAULT_TOL = 1e-5
_MAX_TOL_SHRINKS = 60


def _freeze(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Lattice:
    """A lattice in 2 or 3 dimensions, given by basis vectors as rows.

    Parameters
    ----------
    basis
        ``d x d`` array, rows are the basis vectors (any length unit, usually Angstrom).

    Examples
    --------
    >>> lat = Lattice([[0, 2, 2], [2, 0, 2], [2, 2, 0]])  # fcc, primitive basis
    >>> lat.dim, round(lat.volume, 6)
    (3, 16.0)
    >>> lat.point_group().order
    48
    >>> lat.bravais_type()
    'cF'
    """

    basis: np.ndarray = field()

    def __post_init__(self) -> None:
        object.__setattr__(self, "basis", _freeze(as_float_basis(self.basis)))

    def __repr__(self) -> str:
        rows = ", ".join("[" + ", ".join(f"{v:.6g}" for v in row) + "]" for row in self.basis)
        return f"Lattice([{rows}])"

    @property
    def dim(self) -> int:
        """The dimension, 2 or 3."""
        return self.basis.shape[0]

    @functools.cached_property
    def metric(self) -> np.ndarray:
        """The Gram matrix ``G = A A^T``."""
        return _freeze(self.basis @ self.basis.T)

    @property
    def volume(self) -> float:
        """Cell volume (area in 2D), always positive."""
        return float(abs(np.linalg.det(self.basis)))

    def reduced(self, eps: float | None = None) -> tuple[Lattice, np.ndarray]:
        """A reduced basis: Niggli in 3D, Lagrange-Gauss in 2D.

        Returns ``(reduced_lattice, T)`` with ``reduced_lattice.basis == T @ self.basis`` and ``T``
        an integer matrix of determinant +1. ``eps`` is the tolerance on metric entries (default
        ``1e-5 * volume**(2/d)``).

        >>> red, T = Lattice([[1, 0], [3, 1]]).reduced()
        >>> red.basis.tolist(), T.tolist()
        ([[1.0, 0.0], [0.0, 1.0]], [[1, 0], [-3, 1]])
        """
        if eps is None:
            eps = 1e-5 * self.volume ** (2 / self.dim)
        eps = check_tolerance(eps, "reduction tolerance eps")
        try:
            _, T = _reduction.reduce_metric(self.metric, eps, basis=self.basis)
        except LatticeError:  # a very oblique basis: size-reduce first, then Niggli/Gauss
            T0 = _reduction.size_reduce(self.basis)
            B0 = T0 @ self.basis
            _, T1 = _reduction.reduce_metric(B0 @ B0.T, eps, basis=B0)
            T = T1 @ T0
        return Lattice(T @ self.basis), _freeze(T)

    def point_group(self, tol: float = DEFAULT_TOL):
        """The lattice's point group (Bravais group) as integer matrices in this basis.

        ``tol`` is a length with spglib's meaning for lattice symmetry (see
        :func:`point_group_of_metric`), applied to the Niggli (Gauss) reduced basis. If the
        operations found do not form a group, which happens for distorted lattices whose
        distortion is close to ``tol``, the tolerance is lowered in steps of x0.8 until they do,
        with a :class:`~crystalgroups.errors.ToleranceWarning`. Returns a
        :class:`crystalgroups.groups.PointGroup`.
        """
        from .groups import PointGroup, is_closed

        tol = check_tolerance(tol)
        red, T = self.reduced()
        # Coordinates transform as x = T^T x_red, so W = T^T W_red T^-T.
        Tt = T.T
        Tt_inv = unimodular_inverse(Tt)
        effective = tol
        for _ in range(_MAX_TOL_SHRINKS):
            ops = [Tt @ W @ Tt_inv for W in point_group_of_metric(red.metric, effective)]
            if is_closed(ops):
                break
            effective *= 0.8
        else:  # pragma: no cover - the identity and inversion always close
            raise LatticeError(f"expected a tolerance that yields a group, got tol={tol}")
        if effective != tol:
            warnings.warn(ToleranceWarning(
                f"the operations found at tol={tol:g} do not form a group (the lattice is distorted at that "
                f"scale); using tol={effective:.3g}, the largest tolerance of the form tol * 0.8^k that gives a "
                f"group ({len(ops)} operations)", requested=tol, used=effective), stacklevel=2)
        return PointGroup.from_elements(ops, name=None)

    def bravais_type(self, tol: float = DEFAULT_TOL) -> str:
        """The Pearson symbol of the lattice's Bravais type, e.g. ``'cF'`` or ``'hp'``."""
        from .bravais import classify_point_group

        return classify_point_group(self.point_group(tol)).symbol


#: The most lattice points any one candidate search may enumerate (a box of about 50 MB of int64).
MAX_SEARCH_POINTS = 2_000_000
#: ``tol`` may be at most this fraction of the smallest height of the (reduced) cell.
MAX_TOL_FRACTION = 0.25


def _heights(G: np.ndarray) -> np.ndarray:
    """Height of the cell over each face: ``1 / sqrt((G^-1)_ii)``."""
    return 1.0 / np.sqrt(np.diag(np.linalg.inv(G.astype(float))))


def _box(center: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """All integer points ``x`` with ``|x_i - center_i| <= radii_i``, as rows; bounded in size."""
    lo = np.ceil(center - radii - 1e-9).astype(np.int64)
    hi = np.floor(center + radii + 1e-9).astype(np.int64)
    counts = np.maximum(hi - lo + 1, 0)
    size = int(np.prod([int(c) for c in counts]))
    if size > MAX_SEARCH_POINTS:
        raise LatticeError(
            f"expected a lattice whose reduced cell is not extremely elongated or flat, got one whose symmetry search "
            f"would enumerate {size:,} lattice points (limit {MAX_SEARCH_POINTS:,}): its shortest and longest "
            "reduced vectors differ by too large a factor for this search")
    axes = [np.arange(a, b + 1, dtype=np.int64) for a, b in zip(lo, hi)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(center))


def _short_vectors(G: np.ndarray, norm: float, slack: float) -> np.ndarray:
    """The integer vectors ``v != 0`` with ``|v^T G v - norm| <= slack`` (per-axis box, bounded)."""
    d = len(G)
    radius = np.sqrt(max(norm + slack, 0.0)) * np.sqrt(np.diag(np.linalg.inv(G.astype(float))))
    grid = _box(np.zeros(d), radius)
    grid = grid[np.any(grid != 0, axis=1)]
    vn = np.einsum("ni,ij,nj->n", grid, G, grid)
    return grid[np.abs(vn - norm) <= slack]


def _completions(cols: list[np.ndarray], G: np.ndarray, tol: float) -> np.ndarray:
    """Integer candidates for the last column of ``W`` once the first ``d - 1`` are chosen.

    The images ``u_k`` of the first basis vectors fix the last image ``x`` up to a reflection:
    the angles of ``x`` with the ``u_k`` are those of ``a_l`` with the ``a_k``, and ``|x| = |a_l|``,
    so ``x = x0 +- s n`` with ``n`` the ``G``-normal of the ``u_k``. An image that keeps every
    angle within ``tol`` (spglib's criterion) lies within about ``2 tol / sin(angle(u_1, u_2))``
    of one of the two solutions; the integer points within four times that are returned.
    """
    d = len(G)
    Gf = G.astype(float)
    U = np.stack(cols, axis=1).astype(float)  # d x (d-1)
    M = U.T @ Gf @ U
    if abs(np.linalg.det(M)) <= 1e-12 * np.prod(np.diag(M)):
        return np.zeros((0, d), dtype=np.int64)
    lengths = np.sqrt(np.diag(Gf))
    # Inner products that keep the original angles with the actual (slightly longer or shorter) u_k.
    target = Gf[: d - 1, d - 1] * np.sqrt(np.diag(M)) / lengths[: d - 1]
    sin = 1.0 if d == 2 else float(np.sqrt(max(1 - M[0, 1] ** 2 / (M[0, 0] * M[1, 1]), 0.0)))
    slack = 8 * tol / max(sin, 1e-3) + 1e-9 * lengths[-1]
    x0 = U @ np.linalg.solve(M, target)
    # n: G-orthogonal to every u_k, G-normalised.
    _, _, vt = np.linalg.svd(U.T @ Gf)
    n = vt[-1]
    n = n / np.sqrt(n @ Gf @ n)
    s = np.sqrt(max(Gf[d - 1, d - 1] - x0 @ Gf @ x0, 0.0))
    radii = slack * np.sqrt(np.diag(np.linalg.inv(Gf))) + 1.0
    boxes = [_box(x0 + sign * s * n, radii) for sign in (1.0, -1.0)]
    return np.unique(np.concatenate(boxes), axis=0)


def point_group_of_metric(G, tol: float = 0.0, *, complete_last: bool = True) -> list[np.ndarray]:
    """All integer matrices ``W`` with ``W^T G W = G`` (within ``tol``), as a sorted list.

    For an integer metric and ``tol=0`` the search is exact: no floating point decides
    membership. Otherwise ``tol`` is a length, with spglib's criterion for lattice symmetry:
    each image ``W a_i`` differs in length from ``a_i`` by at most ``tol``, and each angle
    changes by ``dtheta`` with ``sin(dtheta) * (mean length) <= tol``. ``tol`` must be at most a
    quarter of the cell's smallest height (:data:`MAX_TOL_FRACTION`): a larger one is not a
    tolerance but a different question, and raises :class:`~crystalgroups.errors.LatticeError`.

    The search enumerates, for each basis vector but the last, the integer vectors of (nearly)
    the same length in a box sized per axis, keeps those with matching angles, and solves for
    the last column (it is fixed up to a reflection by the others; ``complete_last=False``
    enumerates it like the others, to cross-check). Every box is bounded
    (:data:`MAX_SEARCH_POINTS`), so a degenerate cell raises instead of exhausting memory.
    Works best on a reduced metric (short candidate lists).

    >>> len(point_group_of_metric(np.array([[2, 1, 1], [1, 2, 1], [1, 1, 2]])))
    48
    >>> len(point_group_of_metric(np.array([[2, -1], [-1, 2]])))
    12
    """
    G = np.asarray(G)
    if G.ndim != 2 or G.shape[0] != G.shape[1] or G.shape[0] not in (2, 3):
        raise LatticeError(f"expected a 2x2 or 3x3 metric, got shape {G.shape}")
    if G.dtype.kind not in "iuf" or not np.all(np.isfinite(G)):
        raise LatticeError(f"expected a finite real metric, got {G.tolist()}")
    tol = check_tolerance(tol)
    exact = G.dtype.kind in "iu" and tol == 0
    d = len(G)
    Gf = G.astype(float)
    try:
        heights = _heights(Gf)
    except np.linalg.LinAlgError as exc:
        raise LatticeError(f"expected a positive-definite metric, got {G.tolist()}") from exc
    if not np.all(np.isfinite(heights)) or np.any(np.linalg.eigvalsh(Gf) <= 0):
        raise LatticeError(f"expected a positive-definite metric, got {G.tolist()}")
    if tol > MAX_TOL_FRACTION * heights.min():
        raise LatticeError(
            f"expected a tolerance well below the size of the cell (tol <= {MAX_TOL_FRACTION:g} x its smallest "
            f"height, here {MAX_TOL_FRACTION * heights.min():.3g}), got tol={tol:g}: tol is a length in the "
            "lattice's own unit (Angstrom usually; a lattice given in metres needs a tol near 1e-15)")
    lengths = np.sqrt(np.diag(Gf))
    if exact:
        slacks = np.zeros(d)
    else:
        G = Gf
        # |l' - l| <= tol  <=>  |l'^2 - l^2| <= tol (l' + l) <= tol (2 l + tol)
        slacks = tol * (2 * lengths + tol) + 1e-12 * np.diag(G)

    def length_ok(c: np.ndarray, j: int) -> np.ndarray:
        vn = np.einsum("ni,ij,nj->n", c, G, c)
        if exact:
            return vn == G[j, j]
        return np.abs(np.sqrt(np.maximum(vn, 0)) - lengths[j]) <= tol + 1e-12 * lengths[j]

    def angle_mask(u, i, j, c, lc) -> np.ndarray:
        """Which candidates ``c`` (lengths ``lc``) for column j keep the angle with column i (already ``u``)."""
        inner = c @ (G @ u)
        if exact:
            return inner == G[i, j]
        lu, lv = np.sqrt(u @ G @ u), lc
        li, lj = lengths[i], lengths[j]
        cos_new, cos_old = inner / (lu * lv), G[i, j] / (li * lj)
        sin_new, sin_old = np.sqrt(np.clip(1 - cos_new**2, 0, None)), np.sqrt(max(0.0, 1 - cos_old**2))
        sin2 = np.clip(1 - (cos_new * cos_old + sin_new * sin_old) ** 2, 0, None)
        return (sin2 < 1e-12) | (sin2 * (lu + li) * (lv + lj) / 4 <= tol * tol)

    enumerated = d - 1 if complete_last else d
    cands = []
    for j in range(enumerated):
        c = _short_vectors(G, G[j, j], slacks[j])
        cands.append(c[length_ok(c, j)] if not exact else c)
    cand_lengths = [np.sqrt(np.einsum("ni,ij,nj->n", c, G, c).astype(float)) for c in cands]

    result = []
    most = 48 if d == 3 else 12  # the largest lattice point groups

    def extend(cols):
        j = len(cols)
        if j == d:
            W = np.stack(cols, axis=1)
            if abs(int_det(W)) == 1:
                result.append(W.astype(np.int64))
                if len(result) > most:
                    raise LatticeError(
                        f"expected a tolerance small against the cell, got tol={tol}, which accepts more than "
                        f"{most} operations (no {d}D lattice has that many): use a smaller tol")
            return
        if j < enumerated:
            c, lc = cands[j], cand_lengths[j]
        else:
            c = _completions(cols, G, tol)
            c = c[length_ok(c, j)] if len(c) else c
            lc = np.sqrt(np.maximum(np.einsum("ni,ij,nj->n", c, G, c).astype(float), 0))
        mask = np.ones(len(c), dtype=bool)
        for i, u in enumerate(cols):
            mask &= angle_mask(u, i, j, c, lc)
        for v in c[mask]:
            extend(cols + [v])

    extend([])
    # The identity is always a solution; a search that lost it was numerically unsound.
    if not any(np.array_equal(W, np.eye(d, dtype=np.int64)) for W in result):
        raise LatticeError(f"expected a metric that the symmetry search can handle, got {G.tolist()} "
                           "(the identity was not found: the cell is numerically degenerate)")
    result.sort(key=lambda W: tuple(W.ravel()))
    return result
