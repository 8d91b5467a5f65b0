"""Sublattices and periodic supercells given by an integer matrix (paper Section 3).

A supercell is given by a non-singular integer matrix ``M`` whose **columns** are the sublattice
basis vectors ``b_j = sum_i M_ij a_i`` in the coordinates of the lattice (the coordinates are
columns everywhere in :mod:`crystalgroups`). pymatgen's ``make_supercell`` and ASE's
``make_supercell`` take the transpose, a matrix whose **rows** are the new vectors: pass such a
matrix to :meth:`Supercell.from_rows` or ``supercell(P, rows=True)``; :attr:`Supercell.rows` gives
it back. The lattice splits into
``|det M|`` cosets of the sublattice ``M Z^d``; their canonical representatives (the centring
vectors) are the cells of the periodic supercell, numbered in C order of the box
``0 <= x_i < h_ii`` where ``h_ii`` is the diagonal of the Hermite normal form of ``M``. For a
diagonal supercell ``n1 x n2 x n3`` cell ``(i, j, k)`` has index ``(i * n2 + j) * n3 + k``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ._intmath import int_adjugate, int_det
from ._validate import as_integer_matrix, check_dense_size
from .errors import CrystalGroupsError, CrystalGroupsTypeError

__all__ = ["Supercell", "supercell", "hermite_normal_form", "hermite_normal_forms", "compatible_supercells",
           "MAX_SUPERCELL_ENTRY", "MAX_SUPERCELL_CANDIDATES"]

#: The largest absolute entry of a supercell matrix (keeps every integer product exact in int64).
MAX_SUPERCELL_ENTRY = 2**20


def hermite_normal_form(M) -> np.ndarray:
    """Upper-triangular column Hermite normal form ``H = M U`` (``U`` unimodular).

    ``H`` has positive diagonal and ``0 <= H[i, j] < H[i, i]`` for ``j > i``; it spans the
    same lattice as the columns of ``M``. Exact integer arithmetic.

    >>> hermite_normal_form([[1, 1], [-1, 1]]).tolist()
    [[2, 1], [0, 1]]
    """
    H = [[int(v) for v in row] for row in np.asarray(M)]
    d = len(H)

    def col_op(dst, src, k):  # column dst -= k * column src
        for r in range(d):
            H[r][dst] -= k * H[r][src]

    def swap(a, b):
        for r in range(d):
            H[r][a], H[r][b] = H[r][b], H[r][a]

    for i in range(d - 1, -1, -1):
        # Zero row i in columns 0..i-1 by Euclid, gathering the gcd into column i.
        while any(H[i][j] != 0 for j in range(i)):
            j = min((j for j in range(i + 1) if H[i][j] != 0), key=lambda j: abs(H[i][j]))
            if j != i:
                swap(i, j)
            for k in range(i):
                if H[i][k] != 0:
                    col_op(k, i, H[i][k] // H[i][i])
        if H[i][i] == 0:
            raise CrystalGroupsError(f"expected a non-singular supercell matrix, got {np.asarray(M).tolist()}")
        if H[i][i] < 0:
            for r in range(d):
                H[r][i] = -H[r][i]
    for i in range(d):
        for j in range(i + 1, d):
            col_op(j, i, H[i][j] // H[i][i])
    return np.array(H, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class Supercell:
    """A periodic supercell: the quotient ``Z^d / M Z^d`` of lattice points.

    Examples
    --------
    >>> sc = Supercell.diagonal(2, 2, 2)
    >>> sc.num_cells, sc.cells[:3].tolist()
    (8, [[0, 0, 0], [0, 0, 1], [0, 1, 0]])
    >>> int(sc.index([[3, -1, 2]])[0])  # (3, -1, 2) = (1, 1, 0) mod 2
    6
    >>> Supercell([[1, 1], [-1, 1]]).num_cells  # a general (non-diagonal) supercell
    2
    """

    matrix: np.ndarray

    def __post_init__(self) -> None:
        M = as_integer_matrix(self.matrix, "supercell matrix (columns are the supercell vectors)")
        if np.abs(M).max() > MAX_SUPERCELL_ENTRY:
            raise CrystalGroupsError(
                f"expected supercell matrix entries of at most {MAX_SUPERCELL_ENTRY:,} in absolute value, "
                f"got {M.tolist()}")
        if int_det(M) == 0:
            raise CrystalGroupsError(f"expected a non-singular supercell matrix, got {M.tolist()}")
        object.__setattr__(self, "matrix", M)

    @classmethod
    def diagonal(cls, *sizes: int) -> Supercell:
        """The ``n1 x n2 (x n3)`` supercell ``diag(n1, n2, n3)``."""
        return cls(np.diag(_check_sizes(sizes)))

    @classmethod
    def from_rows(cls, rows) -> Supercell:
        """The supercell whose vectors are the **rows** of ``rows`` (pymatgen's and ASE's ``make_supercell``).

        >>> Supercell.from_rows([[1, 1, 0], [0, 1, 0], [0, 0, 2]]).matrix.tolist()   # stored as columns
        [[1, 0, 0], [1, 1, 0], [0, 0, 2]]
        """
        return cls(as_integer_matrix(rows, "supercell matrix (rows are the supercell vectors)").T)

    @property
    def rows(self) -> np.ndarray:
        """The matrix with the supercell vectors as rows (``matrix.T``), for pymatgen and ASE."""
        return self.matrix.T

    def __repr__(self) -> str:
        if self.is_diagonal:
            return f"Supercell({' x '.join(str(n) for n in self.sizes)})"
        return f"Supercell(columns={self.matrix.tolist()})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Supercell) and np.array_equal(self.hnf, other.hnf)

    def __hash__(self) -> int:
        return hash(self.hnf.tobytes())

    @property
    def dim(self) -> int:
        """Dimension of the lattice."""
        return self.matrix.shape[0]

    @functools.cached_property
    def hnf(self) -> np.ndarray:
        """Hermite normal form of the matrix (a canonical basis of the same sublattice)."""
        H = hermite_normal_form(self.matrix)
        H.setflags(write=False)
        return H

    @property
    def is_diagonal(self) -> bool:
        """Whether the sublattice is ``diag(n) Z^d``."""
        return bool(np.count_nonzero(self.hnf - np.diag(np.diag(self.hnf))) == 0)

    @property
    def sizes(self) -> tuple[int, ...]:
        """Diagonal of the Hermite normal form: the box the cell coordinates live in."""
        return tuple(int(v) for v in np.diag(self.hnf))

    @property
    def num_cells(self) -> int:
        """Number of cells, ``|det M|`` (the index of the sublattice); a Python int, exact at any size."""
        return math.prod(self.sizes)

    @functools.cached_property
    def cells(self) -> np.ndarray:
        """Centring vectors: the canonical coset representatives, one row per cell, in index order."""
        check_dense_size(self.num_cells * self.dim, "the list of cells of the supercell",
                         f"{self.num_cells:,} cells x {self.dim}")
        grid = np.indices(self.sizes).reshape(self.dim, -1).T.astype(np.int64)
        grid.setflags(write=False)
        return grid

    @functools.cached_property
    def _layout(self) -> tuple[np.ndarray | None, np.ndarray]:
        """The diagonal of a diagonal Hermite form (``None`` otherwise) and the row-major strides of ``sizes``."""
        sizes = np.array(self.sizes, dtype=np.int64)
        strides = np.ones(self.dim, dtype=np.int64)
        strides[:-1] = np.cumprod(sizes[::-1])[::-1][1:]
        return (sizes if self.is_diagonal else None), strides

    def reduce(self, x) -> np.ndarray:
        """Reduce lattice coordinates (rows of ``x``) to their canonical representatives.

        >>> Supercell.diagonal(2, 2, 2).reduce([[3, -1, 4]]).tolist()
        [[1, 1, 0]]
        """
        x = np.array(x, dtype=np.int64, ndmin=2)
        diagonal, _ = self._layout
        if diagonal is not None:  # the sublattice is diag(n) Z^d: each coordinate modulo its own n
            return np.mod(x, diagonal)
        H = self.hnf
        for j in range(self.dim - 1, -1, -1):
            q = np.floor_divide(x[:, j], H[j, j])
            x -= q[:, None] * H[:, j][None, :]
        return x

    def index(self, x) -> np.ndarray:
        """The cell index of each row of lattice coordinates ``x`` (reduced modulo the sublattice),
        row-major in ``sizes`` (``np.ravel_multi_index``).

        >>> Supercell.diagonal(2, 2, 2).index([[1, 0, 1], [-1, 2, 0]]).tolist()
        [5, 4]
        """
        return self.reduce(x) @ self._layout[1]

    def is_compatible(self, W) -> bool:
        """Whether the point operation ``W`` maps the sublattice onto itself (``M^-1 W M`` integral)."""
        M = self.matrix
        det = int_det(M)
        adj = int_adjugate(M)
        return bool(np.all((adj @ np.asarray(W, dtype=np.int64) @ M) % det == 0))


def _check_sizes(sizes) -> list[int]:
    sizes = list(sizes)
    if len(sizes) not in (2, 3):
        raise CrystalGroupsError(f"expected 2 or 3 supercell sizes, got {len(sizes)}: {sizes}")
    out = []
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise CrystalGroupsError(f"expected positive integer supercell sizes, got {sizes}")
        if n > MAX_SUPERCELL_ENTRY:
            raise CrystalGroupsError(f"expected supercell sizes of at most {MAX_SUPERCELL_ENTRY:,}, got {sizes}")
        out.append(int(n))
    return out


def supercell(spec, *, rows: bool = False) -> Supercell:
    """Build a :class:`Supercell` from sizes ``(n1, n2[, n3])``, a matrix, or a Supercell.

    A matrix has the supercell vectors as **columns** (this package's convention); with
    ``rows=True`` as rows (pymatgen's and ASE's ``make_supercell``), see :meth:`Supercell.from_rows`.

    >>> supercell((2, 2, 2))
    Supercell(2 x 2 x 2)
    >>> supercell([[2, 1], [0, 2]]).num_cells
    4
    >>> supercell([[2, 1], [0, 2]], rows=True)
    Supercell(columns=[[2, 0], [1, 2]])
    """
    if isinstance(spec, Supercell):
        return spec
    if isinstance(spec, (str, bytes, dict)) or spec is None or isinstance(spec, (int, float, np.number)):
        raise CrystalGroupsTypeError(
            f"expected supercell sizes like (2, 2, 2), a square integer matrix or a Supercell, got {spec!r}")
    try:
        arr = np.asarray(spec, dtype=object)
    except Exception as exc:
        raise CrystalGroupsError(f"expected supercell sizes like (2, 2, 2) or a square integer matrix, got {spec!r}") \
            from exc
    if arr.ndim == 1:
        return Supercell.diagonal(*spec)
    if arr.ndim == 2:
        return Supercell.from_rows(spec) if rows else Supercell(spec)
    raise CrystalGroupsError(f"expected supercell sizes like (2, 2, 2) or a square integer matrix, got {spec!r}")


def hermite_normal_forms(num_cells: int, dim: int) -> list[np.ndarray]:
    """Every supercell with ``num_cells`` cells, once each, as its (upper-triangular, column) Hermite normal form.

    >>> len(hermite_normal_forms(2, 2)), len(hermite_normal_forms(4, 3))
    (3, 35)
    """
    if dim not in (2, 3):
        raise CrystalGroupsError(f"expected dim 2 or 3, got {dim!r}")
    out = []
    divisors = [a for a in range(1, num_cells + 1) if num_cells % a == 0]
    for a in divisors:
        if dim == 2:
            b = num_cells // a
            for x in range(a):
                out.append(np.array([[a, x], [0, b]], dtype=np.int64))
            continue
        for b in (b for b in divisors if (num_cells // a) % b == 0):
            c = num_cells // (a * b)
            for x in range(a):
                for y in range(a):
                    for z in range(b):
                        out.append(np.array([[a, x, y], [0, b, z], [0, 0, c]], dtype=np.int64))
    return out


#: The most candidate supercells :func:`compatible_supercells` examines.
MAX_SUPERCELL_CANDIDATES = 200_000


def compatible_supercells(group, max_cells: int, *, dim: int | None = None, diagonal: bool = False) -> list[Supercell]:
    """Every supercell with at most ``max_cells`` cells that the point group maps onto itself.

    ``group`` is anything :func:`~crystalgroups.patterns.pattern` takes as a group (a Bravais type
    name, ``"P-1"``, a :class:`~crystalgroups.groups.PointGroup`, ...); ``dim`` (default 3, or the
    group's own) resolves names shared by 2D and 3D. Each sublattice appears once (by its Hermite
    normal form), ordered by number of cells then by the form; ``diagonal=True`` keeps the
    ``n1 x n2 x n3`` ones.

    >>> [repr(s) for s in compatible_supercells("tp", 2)]
    ['Supercell(1 x 1)', 'Supercell(columns=[[2, 1], [0, 1]])']
    >>> [s.sizes for s in compatible_supercells("cP", 8, diagonal=True)]
    [(1, 1, 1), (2, 2, 2)]
    """
    from .bravais import BravaisType, resolve_point_group
    from .groups import PointGroup

    if isinstance(max_cells, bool) or not isinstance(max_cells, (int, np.integer)) or max_cells < 1:
        raise CrystalGroupsError(f"expected a positive integer max_cells, got {max_cells!r}")
    if dim is None:
        if isinstance(group, (PointGroup, BravaisType)):
            dim = group.dim
        else:
            from .patterns import _BRAVAIS_2D

            dim = 2 if isinstance(group, str) and group.strip() in _BRAVAIS_2D else 3
    pg, _ = resolve_point_group(group, dim)
    if pg is None:
        raise CrystalGroupsError("expected a point group, got 'S' (every supercell carries the symmetric group)")
    # Number of sublattices of index <= max_cells grows like max_cells^dim: bound it before enumerating.
    estimate = sum(k ** (dim - 1) * 2 for k in range(1, int(max_cells) + 1))
    if estimate > MAX_SUPERCELL_CANDIDATES * 4:
        from .errors import SizeLimitError

        raise SizeLimitError(f"expected max_cells small enough to enumerate every supercell (about "
                             f"{MAX_SUPERCELL_CANDIDATES:,} candidates), got max_cells={max_cells}")
    out = []
    for k in range(1, int(max_cells) + 1):
        for H in hermite_normal_forms(k, dim):
            if diagonal and np.count_nonzero(H - np.diag(np.diag(H))):
                continue
            det = k
            adj = int_adjugate(H)
            if all(np.all((adj @ W @ H) % det == 0) for W in pg.generators):
                out.append(Supercell(H))
    return out
