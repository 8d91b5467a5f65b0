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

__all__ = ["Lattice", "point_group_of_metric", "DEFAULT_TOL"]

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

    def reduced(self, eps: float | None = None) -> tuple["Lattice", np.ndarray]:
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
        _, T = _reduction.reduce_metric(self.metric, check_tolerance(eps), basis=self.basis)
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
            warnings.warn(
                f"the operations found at tol={tol:g} do not form a group (the lattice is distorted at that "
                f"scale); using tol={effective:.3g}, the largest smaller tolerance that gives a group",
                ToleranceWarning,
                stacklevel=2,
            )
        return PointGroup.from_elements(ops, name=None)

    def bravais_type(self, tol: float = DEFAULT_TOL) -> str:
        """The Pearson symbol of the lattice's Bravais type, e.g. ``'cF'`` or ``'hp'``."""
        from .bravais import classify_point_group

        return classify_point_group(self.point_group(tol)).symbol


def _short_vectors(G: np.ndarray, norms: np.ndarray, slack: np.ndarray) -> list[np.ndarray]:
    """For each target norm, the integer vectors ``v`` with ``|v^T G v - norm| <= slack``."""
    d = len(G)
    Ginv = np.linalg.inv(G.astype(float))
    radius = int(np.floor(np.sqrt((norms.max() + slack.max()) * np.diag(Ginv).max()) + 1e-9))
    axes = [np.arange(-radius, radius + 1)] * d
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)
    grid = grid[np.any(grid != 0, axis=1)]
    vn = np.einsum("ni,ij,nj->n", grid, G, grid)
    return [grid[np.abs(vn - n) <= s] for n, s in zip(norms, slack)]


def point_group_of_metric(G, tol: float = 0.0) -> list[np.ndarray]:
    """All integer matrices ``W`` with ``W^T G W = G`` (within ``tol``), as a sorted list.

    For an integer metric and ``tol=0`` the search is exact: no floating point decides
    membership. Otherwise ``tol`` is a length, with spglib's criterion for lattice symmetry:
    each image ``W a_i`` differs in length from ``a_i`` by at most ``tol``, and each angle
    changes by ``dtheta`` with ``sin(dtheta) * (mean length) <= tol``. The search enumerates, for
    each basis vector, the integer vectors of (nearly) the same length, then keeps the
    combinations with matching angles. Works best on a reduced metric (short candidate lists).

    >>> len(point_group_of_metric(np.array([[2, 1, 1], [1, 2, 1], [1, 1, 2]])))
    48
    >>> len(point_group_of_metric(np.array([[2, -1], [-1, 2]])))
    12
    """
    G = np.asarray(G)
    if G.ndim != 2 or G.shape[0] != G.shape[1] or G.shape[0] not in (2, 3):
        raise LatticeError(f"expected a 2x2 or 3x3 metric, got shape {G.shape}")
    exact = G.dtype.kind in "iu" and tol == 0
    d = len(G)
    if exact:
        cands = _short_vectors(G, np.diag(G), np.zeros(d))
    else:
        G = G.astype(float)
        lengths = np.sqrt(np.diag(G))
        # |l' - l| <= tol  <=>  |l'^2 - l^2| <= tol (l' + l) <= tol (2 l + tol)
        cands = _short_vectors(G, np.diag(G), tol * (2 * lengths + tol) + 1e-12 * np.diag(G))
        cands = [c[np.abs(np.sqrt(np.einsum("ni,ij,nj->n", c, G, c)) - lengths[j]) <= tol + 1e-12 * lengths[j]]
                 for j, c in enumerate(cands)]

    cand_lengths = [np.sqrt(np.einsum("ni,ij,nj->n", c, G, c).astype(float)) for c in cands]

    def angle_mask(u, i, j) -> np.ndarray:
        """Which candidates for column j keep the angle with column i (already chosen as u)."""
        inner = cands[j] @ (G @ u)
        if exact:
            return inner == G[i, j]
        lu, lv = np.sqrt(u @ G @ u), cand_lengths[j]
        li, lj = lengths[i], lengths[j]
        cos_new, cos_old = inner / (lu * lv), G[i, j] / (li * lj)
        sin_new, sin_old = np.sqrt(np.clip(1 - cos_new**2, 0, None)), np.sqrt(max(0.0, 1 - cos_old**2))
        sin2 = np.clip(1 - (cos_new * cos_old + sin_new * sin_old) ** 2, 0, None)
        return (sin2 < 1e-12) | (sin2 * (lu + li) * (lv + lj) / 4 <= tol * tol)

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
        mask = np.ones(len(cands[j]), dtype=bool)
        for i, u in enumerate(cols):
            mask &= angle_mask(u, i, j)
        for v in cands[j][mask]:
            extend(cols + [v])

    extend([])
    result.sort(key=lambda W: tuple(W.ravel()))
    return result
