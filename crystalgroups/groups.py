"""Groups: affine operations (W, t), point groups, lattice groups on supercells, permutation groups.

Convention (one, used everywhere): operations act on the **left** of column coordinate vectors,
``(W, t): x -> W x + t``, so composition is

    ``(W1, t1)(W2, t2) = (W1 W2, W1 t2 + t1)``   (apply the right-hand factor first).

The paper (Section 3) writes ``(W1, t1)(W2, t2) = (W1 W2, W2 t1 + t2)``, which is the rule for
row vectors acted on from the right with the left-hand factor applied first. Both describe the
same group; we use the left action because it is the convention of the International Tables,
spglib and gemmi, and because permutations then compose like functions: ``perm(g h) =
perm(g)[perm(h)]``. Orbits, and so every parameter-sharing pattern, do not depend on the choice.

Permutations are read-only integer arrays ``p`` meaning ``i -> p[i]``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import orbits as _orbits
from ._intmath import int_adjugate, int_det, unimodular_inverse
from ._validate import as_integer_matrix, check_dense_size
from .errors import CrystalGroupsError, IncompatibleSupercellError
from .supercell import Supercell
from .supercell import supercell as _as_supercell

__all__ = [
    "SymOp",
    "PointGroup",
    "LatticeGroup",
    "PermutationGroup",
    "symmetric_group",
    "compose",
    "invert",
]

_MAX_POINT_GROUP_ORDER = 48  # the largest finite subgroup of GL(3, Z) has 48 elements


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def compose(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The permutation ``p o q`` (apply ``q`` first): ``i -> p[q[i]]``.

    >>> compose(np.array([1, 2, 0]), np.array([1, 0, 2])).tolist()
    [2, 1, 0]
    """
    return np.asarray(p)[np.asarray(q)]


def invert(p: np.ndarray) -> np.ndarray:
    """The inverse permutation.

    >>> invert(np.array([1, 2, 0])).tolist()
    [2, 0, 1]
    """
    p = np.asarray(p)
    inv = np.empty_like(p)
    inv[p] = np.arange(len(p), dtype=p.dtype)
    return inv


@dataclass(frozen=True, eq=False)
class SymOp:
    """An affine operation ``x -> W x + t`` on lattice coordinates (``W``, ``t`` integer).

    Examples
    --------
    >>> g = SymOp([[0, -1], [1, 0]], [1, 0])   # rotate by 90 degrees, then shift by a_1
    >>> h = SymOp([[-1, 0], [0, 1]], [0, 1])
    >>> (g @ h)([1, 1]).tolist() == g(h([1, 1])).tolist()
    True
    >>> (g @ g.inverse()) == SymOp.identity(2)
    True
    """

    W: np.ndarray
    t: np.ndarray = field(default=None)

    def __post_init__(self) -> None:
        W = as_integer_matrix(self.W, "W")
        t = np.zeros(len(W), dtype=np.int64) if self.t is None else np.asarray(self.t)
        if t.shape != (len(W),) or (t.dtype.kind not in "iu" and np.any(t != np.round(t))):
            raise CrystalGroupsError(f"expected t as {len(W)} integers, got {np.asarray(self.t).tolist()}")
        if abs(int_det(W)) != 1:
            raise CrystalGroupsError(f"expected W with determinant +-1 (a lattice automorphism), got {W.tolist()}")
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "t", _ro(t.astype(np.int64)))

    @classmethod
    def identity(cls, dim: int) -> SymOp:
        """The identity operation in ``dim`` dimensions."""
        return cls(np.eye(dim, dtype=np.int64))

    def __matmul__(self, other: SymOp) -> SymOp:
        return SymOp(self.W @ other.W, self.W @ other.t + self.t)

    def inverse(self) -> SymOp:
        """The inverse ``(W^-1, -W^-1 t)``."""
        Winv = unimodular_inverse(self.W)
        return SymOp(Winv, -(Winv @ self.t))

    def __call__(self, x) -> np.ndarray:
        """Act on coordinates: one vector ``(d,)`` or rows ``(n, d)``."""
        x = np.asarray(x, dtype=np.int64)
        return x @ self.W.T + self.t

    def __eq__(self, other) -> bool:
        return isinstance(other, SymOp) and np.array_equal(self.W, other.W) and np.array_equal(self.t, other.t)

    def __hash__(self) -> int:
        return hash((self.W.tobytes(), self.t.tobytes()))

    def __repr__(self) -> str:
        return f"SymOp(W={self.W.tolist()}, t={self.t.tolist()})"


def _key(W: np.ndarray) -> bytes:
    return np.ascontiguousarray(W, dtype=np.int64).tobytes()


def _close_matrices(generators: Sequence[np.ndarray], dim: int) -> list[np.ndarray]:
    """Closure of integer matrices under multiplication (a finite group is required)."""
    identity = np.eye(dim, dtype=np.int64)
    seen = {_key(identity): identity}
    frontier = [identity]
    while frontier:
        new = []
        for A in frontier:
            for g in generators:
                B = g @ A
                k = _key(B)
                if k not in seen:
                    seen[k] = B
                    new.append(B)
                    if len(seen) > _MAX_POINT_GROUP_ORDER:
                        raise CrystalGroupsError(
                            "expected generators of a finite point group (at most 48 elements), "
                            "got matrices that generate more"
                        )
        frontier = new
    return sorted(seen.values(), key=lambda W: tuple(W.ravel()))


@dataclass(frozen=True, eq=False)
class PointGroup:
    """A finite group of integer matrices (point operations in a lattice basis).

    Build it with :meth:`from_generators` or :meth:`from_elements`; elements are kept sorted,
    so equal groups have equal ``elements``.

    Examples
    --------
    >>> inversion = PointGroup.from_generators([-np.eye(3, dtype=int)], name="-1")
    >>> inversion
    PointGroup('-1', dim=3, order=2)
    >>> inversion.contains(-np.eye(3, dtype=int)), inversion.contains(np.diag([1, 1, -1]))
    (True, False)
    """

    elements: tuple[np.ndarray, ...]
    name: str | None = None

    @classmethod
    def from_generators(cls, generators, name: str | None = None, dim: int | None = None) -> PointGroup:
        """The group generated by integer matrices ``generators`` (closure, exact)."""
        gens = [as_integer_matrix(g, "point-group generator") for g in generators]
        if not gens:
            if dim is None:
                raise CrystalGroupsError("expected at least one generator, or dim for the trivial group")
            gens = [np.eye(dim, dtype=np.int64)]
        dims = {g.shape[0] for g in gens}
        if len(dims) != 1:
            raise CrystalGroupsError(f"expected generators of one size, got sizes {sorted(dims)}")
        for g in gens:
            if abs(int_det(g)) != 1:
                raise CrystalGroupsError(f"expected unimodular generators (det +-1), got {g.tolist()}")
        return cls(tuple(_ro(W) for W in _close_matrices(gens, gens[0].shape[0])), name)

    @classmethod
    def from_elements(cls, elements, name: str | None = None) -> PointGroup:
        """A group from its complete list of elements; raises if they are not closed."""
        mats = [as_integer_matrix(W, "point-group element") for W in elements]
        if not is_closed(mats):
            raise CrystalGroupsError(
                f"expected a group closed under multiplication, got {len(mats)} matrices that are not "
                "(for a float lattice this means the tolerance is inconsistent: try a larger or smaller tol)"
            )
        mats.sort(key=lambda W: tuple(W.ravel()))
        return cls(tuple(_ro(W) for W in mats), name)

    def __repr__(self) -> str:
        label = repr(self.name) if self.name else "unnamed"
        return f"PointGroup({label}, dim={self.dim}, order={self.order})"

    def __eq__(self, other) -> bool:
        return isinstance(other, PointGroup) and self._keys == other._keys

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._keys)))

    @functools.cached_property
    def _keys(self) -> frozenset:
        return frozenset(_key(W) for W in self.elements)

    @property
    def dim(self) -> int:
        return self.elements[0].shape[0]

    @property
    def order(self) -> int:
        return len(self.elements)

    def contains(self, W) -> bool:
        """Membership, exact."""
        return _key(np.asarray(W, dtype=np.int64)) in self._keys

    @functools.cached_property
    def generators(self) -> tuple[np.ndarray, ...]:
        """A small generating set, chosen greedily (deterministic)."""
        gens: list[np.ndarray] = []
        span = {_key(np.eye(self.dim, dtype=np.int64))}
        for W in sorted(self.elements, key=lambda W: (-_element_order(W), tuple(W.ravel()))):
            if _key(W) not in span:
                gens.append(W)
                span = {_key(M) for M in _close_matrices(gens, self.dim)}
            if len(span) == self.order:
                break
        return tuple(gens) if gens else (self.elements[0],)

    def conjugate(self, U) -> PointGroup:
        """The same group in another basis: ``U^-1 W U`` for a unimodular ``U``.

        If the new basis vectors are the columns of ``U`` in old coordinates (``x_old = U x_new``),
        the operations in the new coordinates are ``U^-1 W U``.
        """
        U = as_integer_matrix(U, "change of basis", self.dim)
        if abs(int_det(U)) != 1:
            raise CrystalGroupsError(f"expected a unimodular change of basis (det +-1), got {U.tolist()}")
        Uinv = unimodular_inverse(U)
        return PointGroup.from_elements([Uinv @ W @ U for W in self.elements], self.name)

    def is_subgroup_of(self, other: PointGroup) -> bool:
        """Whether every element is an element of ``other``."""
        return self._keys <= other._keys

    def preserves_metric(self, G) -> bool:
        """Whether ``W^T G W = G`` exactly for every element (integer ``G``)."""
        G = np.asarray(G)
        return all(np.array_equal(W.T @ G @ W, G) for W in self.elements)


def is_closed(matrices) -> bool:
    """Whether a set of integer matrices is closed under multiplication (vectorised, exact).

    >>> is_closed([np.eye(2, dtype=int), -np.eye(2, dtype=int)]), is_closed([np.diag([1, -1])])
    (True, False)
    """
    M = np.array(matrices, dtype=np.int64)
    if M.size == 0:
        return False
    k, d, _ = M.shape
    prods = np.einsum("aij,bjk->abik", M, M).reshape(k * k, d * d)
    bound = int(np.abs(M).max())
    base = 2 * bound + 1
    weights = base ** np.arange(d * d, dtype=np.int64)
    inside = np.all(np.abs(prods) <= bound, axis=1)
    if not inside.all():
        return False
    keys = (M.reshape(k, d * d) + bound) @ weights
    return bool(np.isin((prods + bound) @ weights, keys).all())


def _element_order(W: np.ndarray) -> int:
    A, k = W.copy(), 1
    identity = np.eye(len(W), dtype=W.dtype)
    while not np.array_equal(A, identity):
        A, k = W @ A, k + 1
    return k


@dataclass(frozen=True, eq=False)
class PermutationGroup:
    """A permutation group on ``{0 .. degree-1}`` given by generators (rows of an int array).

    Orbits are computed from the generators, in time linear in ``|generators| x |points|``; the
    full group is enumerated only on request (``elements``) or for verification.

    Examples
    --------
    >>> G = PermutationGroup([[1, 2, 3, 0]], name="C4")
    >>> G.order, G.node_orbits().tolist()
    (4, [0, 0, 0, 0])
    >>> G.pair_orbits()[0].tolist()   # colour of (0, j): the difference j - 0 mod 4
    [0, 1, 2, 3]
    """

    generators: np.ndarray
    name: str | None = None
    degree: int | None = None

    def __post_init__(self) -> None:
        try:
            gens = np.array(self.generators, dtype=np.int64, ndmin=2)
        except (TypeError, ValueError, OverflowError) as exc:
            raise CrystalGroupsError(
                f"expected generators as rows of an integer array, got {self.generators!r}") from exc
        if gens.ndim != 2:
            raise CrystalGroupsError(f"expected generators as rows of a 2-D integer array, got shape {gens.shape}")
        if gens.size == 0:
            if self.degree is None:
                raise CrystalGroupsError("expected generators, or a degree for the trivial group")
            gens = np.arange(self.degree, dtype=np.int64)[None, :]
        degree = gens.shape[1]
        if self.degree is not None and self.degree != degree:
            raise CrystalGroupsError(f"expected permutations of degree {self.degree}, got degree {degree}")
        bad = _non_permutation_rows(gens)
        if len(bad):
            g = gens[bad[0]]
            shown = g.tolist() if degree <= 20 else f"{g[:20].tolist()}... (row {int(bad[0])})"
            raise CrystalGroupsError(f"expected permutations of 0..{degree - 1}, got {shown}")
        object.__setattr__(self, "generators", _ro(gens))
        object.__setattr__(self, "degree", degree)

    def __repr__(self) -> str:
        label = repr(self.name) if self.name else "unnamed"
        return f"PermutationGroup({label}, degree={self.degree}, generators={len(self.generators)})"

    @functools.cached_property
    def _sympy(self):
        from sympy.combinatorics import Permutation
        from sympy.combinatorics import PermutationGroup as SympyGroup

        return SympyGroup([Permutation(g.tolist()) for g in self.generators])

    @functools.cached_property
    def order(self) -> int:
        """Group order (Schreier-Sims, via sympy)."""
        return int(self._sympy.order())

    def contains(self, perm) -> bool:
        """Membership (Schreier-Sims sifting, via sympy)."""
        from sympy.combinatorics import Permutation

        perm = np.asarray(perm, dtype=np.int64)
        if perm.shape != (self.degree,) or not np.array_equal(np.sort(perm), np.arange(self.degree)):
            return False
        return bool(self._sympy.contains(Permutation(perm.tolist())))

    def elements(self, limit: int = 1_000_000) -> np.ndarray:
        """All elements as rows (breadth-first closure); raises if the order exceeds ``limit``."""
        if self.order > limit:
            raise CrystalGroupsError(f"expected a group of at most {limit:,} elements to enumerate, got {self.order:,}")
        check_dense_size(self.order * self.degree, "the table of all elements",
                         f"{self.order:,} elements x degree {self.degree:,}")
        identity = np.arange(self.degree, dtype=np.int64)
        seen = {identity.tobytes(): identity}
        frontier = [identity]
        while frontier:
            new = []
            for p in frontier:
                for g in self.generators:
                    q = g[p]
                    k = q.tobytes()
                    if k not in seen:
                        seen[k] = q
                        new.append(q)
            frontier = new
        out = np.array(sorted(seen.values(), key=lambda p: p.tolist()), dtype=np.int64)
        return _ro(out)

    @property
    def is_transitive(self) -> bool:
        return bool(np.all(self.node_orbits() == 0))

    def node_orbits(self) -> np.ndarray:
        """Orbit label of each point, numbered by smallest member."""
        return _orbits.node_orbits(self.generators)

    def pair_orbits(self) -> np.ndarray:
        """Orbit label of each ordered pair ``(i, j)`` as a ``degree x degree`` array."""
        return _orbits.pair_orbits(self.generators)

    def direct_product(self, other: PermutationGroup) -> PermutationGroup:
        """``self x other`` acting on pairs ``(a, i)`` numbered ``a * other.degree + i`` (paper Eq. 5)."""
        return PermutationGroup(
            _orbits.product_generators(self.generators, other.generators),
            name=f"{self.name or 'G'} x {other.name or 'H'}",
        )


def _non_permutation_rows(gens: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``gens`` that are not permutations of ``0 .. n-1``."""
    n = gens.shape[1]
    ref = np.arange(n)
    return np.flatnonzero(~np.all(np.sort(gens, axis=1) == ref, axis=1))


def symmetric_group(n: int, name: str | None = None) -> PermutationGroup:
    """The symmetric group on ``n`` points, generated by a transposition and an ``n``-cycle.

    >>> symmetric_group(4).order
    24
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise CrystalGroupsError(f"expected a positive number of points, got {n!r}")
    identity = np.arange(n, dtype=np.int64)
    gens = [identity]
    if n > 1:
        swap = identity.copy()
        swap[[0, 1]] = [1, 0]
        gens = [swap, np.roll(identity, -1)]
    return PermutationGroup(np.array(gens), name=name or f"S{n}")


@dataclass(frozen=True, eq=False)
class LatticeGroup:
    """The lattice group ``T x| P`` restricted to a periodic supercell (paper Section 3, Eq. 5).

    Elements are ``(W, t)`` with ``W`` in the point group ``P`` and ``t`` a centring vector of
    the supercell; the group acts on the supercell's cells by ``x -> W x + t mod M``. Every
    ``W`` must map the sublattice onto itself, or the action is not well defined: this is
    checked, and an incompatible supercell raises :class:`IncompatibleSupercellError`.

    Examples
    --------
    >>> from crystalgroups import bravais_group
    >>> G = LatticeGroup(bravais_group("cP").point_group, (2, 2, 2))
    >>> G.order, G.permutation_group_order   # the 8 sign changes act trivially mod 2
    (384, 48)
    """

    point_group: PointGroup
    supercell: Supercell

    def __post_init__(self) -> None:
        sc = _as_supercell(self.supercell)
        if not isinstance(self.point_group, PointGroup):
            from .bravais import resolve_point_group

            pg, _ = resolve_point_group(self.point_group, sc.dim)
            if pg is None:
                raise CrystalGroupsError(
                    f"expected a point group, a Bravais type or 'P-1'/'P1' for a LatticeGroup, got "
                    f"{self.point_group!r} (the symmetric group is symmetric_group(n))")
            object.__setattr__(self, "point_group", pg)
        if sc.dim != self.point_group.dim:
            raise CrystalGroupsError(
                f"expected a {self.point_group.dim}-dimensional supercell for this point group, got {sc.dim} dimensions"
            )
        bad = [W for W in self.point_group.generators if not sc.is_compatible(W)]
        if bad:
            raise IncompatibleSupercellError(
                f"expected a supercell that the point group maps onto itself, got {sc!r}: the operation "
                f"{bad[0].tolist()} does not preserve its sublattice (n x n x n supercells are always compatible)"
            )
        object.__setattr__(self, "supercell", sc)

    def __repr__(self) -> str:
        label = self.point_group.name or f"order-{self.point_group.order} point group"
        return f"LatticeGroup({label!r} on {self.supercell!r}, order={self.order})"

    @property
    def order(self) -> int:
        """The number of group elements, ``number of cells x |P|`` (pairs ``(W, t)``, not distinct permutations).

        The same number is ``group_order`` of the group's :class:`~crystalgroups.patterns.Pattern`, of its
        ``to_dict()`` and of ``crystalgroups pattern --json``; the number of distinct permutations of the
        cells is :attr:`permutation_group_order`.
        """
        return self.supercell.num_cells * self.point_group.order

    @functools.cached_property
    def permutation_kernel_order(self) -> int:
        """Number of point operations that act on the cells as the identity (``M^-1 (W - I)`` integral)."""
        identity = np.eye(self.point_group.dim, dtype=np.int64)
        M = self.supercell.matrix
        det = abs(int_det(M))
        adj = int_adjugate(M) * (1 if int_det(M) > 0 else -1)
        Ws = np.array(self.point_group.elements, dtype=np.int64) - identity
        return int(np.all(np.einsum("ij,kjl->kil", adj, Ws) % det == 0, axis=(1, 2)).sum())

    @property
    def permutation_group_order(self) -> int:
        """Number of distinct permutations of the cells."""
        return self.order // self.permutation_kernel_order

    @functools.cached_property
    def num_pair_orbits(self) -> int:
        """The number of orbits on ordered pairs of cells (edge colours), without the dense matrix.

        >>> from crystalgroups import bravais_group
        >>> LatticeGroup("cP", (40, 40, 40)).num_pair_orbits
        1771
        """
        return int(self.pair_orbit_row().max()) + 1

    def pair_orbit_row(self) -> np.ndarray:
        """Orbit labels of the pairs ``(0, b)``: row 0 of :meth:`pair_orbits`, in ``O(|P| x cells)``.

        Every pair ``(a, b)`` has the label of ``(0, b - a)`` (the translations are in the group).
        """
        return _orbits.lattice_pair_orbit_row(self.point_group.generators, self.supercell)

    def elements(self) -> Iterator[SymOp]:
        """All ``(W, t)``, ``t`` over the centring vectors."""
        for W in self.point_group.elements:
            for t in self.supercell.cells:
                yield SymOp(W, t)

    def permutation(self, op: SymOp) -> np.ndarray:
        """The permutation of the cells induced by ``op``: cell ``c -> index(op(cells[c]))``."""
        return _ro(self.supercell.index(op(self.supercell.cells)))

    @functools.cached_property
    def generators(self) -> np.ndarray:
        """Cell permutations of the unit translations and of the point-group generators."""
        d = self.point_group.dim
        ops = [SymOp(np.eye(d, dtype=np.int64), e) for e in np.eye(d, dtype=np.int64)]
        ops += [SymOp(W) for W in self.point_group.generators]
        return _ro(np.array([self.permutation(op) for op in ops]))

    def permutation_group(self) -> PermutationGroup:
        """The group as permutations of the cells."""
        return PermutationGroup(self.generators, name=self.point_group.name)

    def on_nodes(self, num_atoms: int) -> PermutationGroup:
        """``G_Lambda x S_C`` acting on ``(cell, atom)`` nodes numbered ``cell * num_atoms + atom`` (paper Eq. 5).

        >>> from crystalgroups import bravais_group
        >>> nodes = LatticeGroup(bravais_group("tp").point_group, (2, 2)).on_nodes(3)
        >>> nodes.degree, nodes.order == 8 * 6   # 8 distinct cell permutations x |S_3|
        (12, True)
        """
        cells = self.permutation_group()
        return cells.direct_product(symmetric_group(num_atoms, name=f"S{num_atoms}"))

    def node_orbits(self) -> np.ndarray:
        """Orbits on cells: one orbit, since the translations act transitively."""
        return np.zeros(self.supercell.num_cells, dtype=np.int64)

    def pair_orbits(self) -> np.ndarray:
        """Orbits on ordered pairs of cells by the fast path (see :func:`crystalgroups.orbits.lattice_pair_orbits`)."""
        return _orbits.lattice_pair_orbits(self.point_group.generators, self.supercell)

    def all_permutations(self) -> np.ndarray:
        """Every element's permutation (with repeats), one row per element of :meth:`elements`."""
        n = self.supercell.num_cells
        check_dense_size(self.order * n, "the table of every element's permutation",
                         f"{self.order:,} elements x {n:,} cells")
        cells = self.supercell.cells
        rows = []
        for W in self.point_group.elements:
            base = cells @ W.T
            moved = (base[None, :, :] + cells[:, None, :]).reshape(-1, len(W))
            rows.append(self.supercell.index(moved).reshape(len(cells), -1))
        return _ro(np.concatenate(rows))
