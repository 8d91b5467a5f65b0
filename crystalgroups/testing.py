"""Testing tools for users of :mod:`crystalgroups`: Hypothesis strategies and exact checks.

Requires ``hypothesis`` (``pip install hypothesis``). The ``assert_*`` functions raise
:class:`AssertionError` with a message that says what differs; they compare integers and
permutations exactly, and float outputs of layers with a stated tolerance.

Examples
--------
>>> from hypothesis import given
>>> @given(lattices("cI"))
... def test_bcc_is_found(lattice):
...     assert lattice.bravais_type() == "cI"
>>> test_bcc_is_found()
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st

from .bravais import BravaisType, bravais_group
from .bravais import bravais_types as _bravais_types
from .groups import LatticeGroup, PermutationGroup, PointGroup, SymOp
from .lattice import Lattice
from .orbits import canonical_labels
from .patterns import Pattern, check_equivariance_condition
from .supercell import Supercell

__all__ = [
    "bravais_types",
    "lattices",
    "conventional_parameters",
    "unimodular_matrices",
    "supercells",
    "supercell_matrices",
    "permutations",
    "group_elements",
    "assert_is_group",
    "assert_action_is_homomorphism",
    "assert_colors_invariant",
    "assert_pattern_equivariant",
    "assert_same_partition",
    "assert_layer_equivariant",
    "brute_force_pair_orbits",
    "basis_from_parameters",
]


# -- strategies ------------------------------------------------------------------------------

def bravais_types(dim: int | None = None) -> st.SearchStrategy[BravaisType]:
    """One of the Bravais types (of one dimension if ``dim`` is given)."""
    return st.sampled_from(_bravais_types(dim))


def _between(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _ratio() -> st.SearchStrategy[float]:
    """Axis ratios kept away from the values where a lattice gains symmetry (1, sqrt 2, sqrt 3)."""
    return st.one_of(_between(1.12, 1.32), _between(1.5, 1.66), _between(1.8, 2.2))


def conventional_parameters(symbol: str) -> st.SearchStrategy[tuple]:
    """Generic conventional cell parameters ``(a, b, c, alpha, beta, gamma)`` (2D: ``(a, b, gamma)``).

    Ranges avoid the special values where a lattice of one type is also of a more symmetric
    type (e.g. body-centred tetragonal with ``c = a sqrt 2`` is face-centred cubic).
    """
    family, a = symbol[0], _between(2.0, 6.0)
    if len(symbol) == 2 and symbol.islower():  # 2D
        if symbol == "mp":
            return st.tuples(a, _between(1.12, 1.32), _between(97.0, 103.0)).map(lambda t: (t[0], t[0] * t[1], t[2]))
        if symbol in ("op", "oc"):
            return st.tuples(a, _ratio()).map(lambda t: (t[0], t[0] * t[1], 90.0))
        if symbol == "tp":
            return a.map(lambda x: (x, x, 90.0))
        return a.map(lambda x: (x, x, 120.0))
    if family == "a":
        angles = st.tuples(_between(76.0, 84.0), _between(95.0, 101.0), _between(103.0, 108.0))
        return st.tuples(a, _between(1.1, 1.2), _between(1.35, 1.5), angles).map(
            lambda t: (t[0], t[0] * t[1], t[0] * t[2], *t[3])
        )
    if family == "m":
        return st.tuples(a, _between(1.12, 1.25), _between(1.4, 1.55), _between(98.0, 108.0)).map(
            lambda t: (t[0], t[0] * t[1], t[0] * t[2], 90.0, t[3], 90.0)
        )
    if family == "o":
        return st.tuples(a, _between(1.12, 1.25), _between(1.5, 1.62)).map(
            lambda t: (t[0], t[0] * t[1], t[0] * t[2], 90.0, 90.0, 90.0)
        )
    if family == "t":
        return st.tuples(a, _ratio()).map(lambda t: (t[0], t[0], t[0] * t[1], 90.0, 90.0, 90.0))
    if symbol == "hR":
        alpha = st.one_of(_between(66.0, 84.0), _between(95.0, 105.0))
        return st.tuples(a, alpha).map(lambda t: (t[0], t[0], t[0], t[1], t[1], t[1]))
    if symbol == "hP":
        return st.tuples(a, _ratio()).map(lambda t: (t[0], t[0], t[0] * t[1], 90.0, 90.0, 120.0))
    return a.map(lambda x: (x, x, x, 90.0, 90.0, 90.0))


def basis_from_parameters(params) -> np.ndarray:
    """Conventional basis (rows) from ``(a, b, c, alpha, beta, gamma)`` or 2D ``(a, b, gamma)``, degrees.

    >>> np.round(basis_from_parameters((1.0, 2.0, 90.0)), 12).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    if len(params) == 3:
        a, b, gamma = params
        g = math.radians(gamma)
        return np.array([[a, 0.0], [b * math.cos(g), b * math.sin(g)]])
    a, b, c, alpha, beta, gamma = params
    al, be, ga = (math.radians(x) for x in (alpha, beta, gamma))
    cx = c * math.cos(be)
    cy = c * (math.cos(al) - math.cos(be) * math.cos(ga)) / math.sin(ga)
    cz = math.sqrt(max(c * c - cx * cx - cy * cy, 0.0))
    return np.array([[a, 0.0, 0.0], [b * math.cos(ga), b * math.sin(ga), 0.0], [cx, cy, cz]])


_CENTRING_ROWS = {  # primitive basis vectors (rows) in conventional coordinates
    "P": np.eye(3),
    "S": np.array([[0.5, -0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]),
    "I": np.array([[-0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.5, 0.5, -0.5]]),
    "F": np.array([[0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]]),
    "R": np.eye(3),
    "p": np.eye(2),
    "c": np.array([[0.5, -0.5], [0.5, 0.5]]),
}


def unimodular_matrices(dim: int, max_steps: int = 4) -> st.SearchStrategy[np.ndarray]:
    """Integer matrices of determinant +1, as products of a few elementary shears and rotations."""
    def build(steps):
        U = np.eye(dim, dtype=np.int64)
        for i, j, k in steps:
            if i == j:  # a quarter turn in the plane of axes i and i+1 (det +1)
                E = np.eye(dim, dtype=np.int64)
                p, q = i, (i + 1) % dim
                E[p, p] = E[q, q] = 0
                E[p, q], E[q, p] = -1, 1
            else:
                E = np.eye(dim, dtype=np.int64)
                E[i, j] = k
            U = U @ E
        return U

    step = st.tuples(st.integers(0, dim - 1), st.integers(0, dim - 1), st.sampled_from([-1, 1]))
    return st.lists(step, max_size=max_steps).map(build)


@st.composite
def lattices(draw, bravais_type: str | BravaisType | None = None, dim: int | None = None,
             change_basis: bool = True) -> Lattice:
    """A random lattice of a given Bravais type (or of a random type), in a random primitive basis."""
    t = draw(bravais_types(dim)) if bravais_type is None else bravais_group(bravais_type)
    params = draw(conventional_parameters(t.symbol))
    conv = basis_from_parameters(params)
    basis = _CENTRING_ROWS[t.symbol[1]] @ conv
    if change_basis:
        basis = draw(unimodular_matrices(t.dim)).astype(float) @ basis
    return Lattice(basis)


def supercells(dim: int = 3, max_size: int = 4, cubic: bool = False, *, compatible_with=None,
               max_cells: int = 16) -> st.SearchStrategy[Supercell]:
    """Diagonal supercells ``n1 x n2 (x n3)``; ``cubic=True`` gives ``n x n (x n)``.

    With ``compatible_with`` (a Bravais type name, ``"P-1"``, a :class:`BravaisType` or a
    :class:`PointGroup`): any supercell, diagonal or not, of at most ``max_cells`` cells that the
    point group maps onto itself (from :func:`crystalgroups.compatible_supercells`), so that
    ``LatticeGroup(group, supercell)`` is always defined.

    >>> from hypothesis import given
    >>> @given(supercells(compatible_with="hR", max_cells=8))
    ... def test_hr(sc):
    ...     assert LatticeGroup("hR", sc).order == 12 * sc.num_cells
    >>> test_hr()
    """
    if compatible_with is not None:
        from .supercell import compatible_supercells

        group_dim = getattr(compatible_with, "dim", None)
        if group_dim is None and isinstance(compatible_with, str):
            from .patterns import _BRAVAIS_2D

            group_dim = 2 if compatible_with.strip() in _BRAVAIS_2D else dim
        return st.sampled_from(compatible_supercells(compatible_with, max_cells, dim=group_dim))
    n = st.integers(1, max_size)
    if cubic:
        return n.map(lambda k: Supercell.diagonal(*([k] * dim)))
    return st.tuples(*([n] * dim)).map(lambda s: Supercell.diagonal(*s))


def supercell_matrices(dim: int = 3, max_entry: int = 2, max_cells: int = 16) -> st.SearchStrategy[Supercell]:
    """General (non-diagonal) supercells with at most ``max_cells`` cells."""
    entries = st.lists(st.integers(-max_entry, max_entry), min_size=dim * dim, max_size=dim * dim)
    def ok(m):
        det = round(np.linalg.det(np.array(m).reshape(dim, dim)))
        return det != 0 and abs(det) <= max_cells
    return entries.filter(ok).map(lambda m: Supercell(np.array(m).reshape(dim, dim)))


def permutations(n: int) -> st.SearchStrategy[np.ndarray]:
    """Permutations of ``0 .. n-1`` as int arrays."""
    return st.permutations(list(range(n))).map(lambda p: np.array(p, dtype=np.int64))


def group_elements(group) -> st.SearchStrategy:
    """Elements of a group: matrices of a :class:`PointGroup`, :class:`SymOp` of a
    :class:`LatticeGroup`, or permutations (products of generators) of a :class:`PermutationGroup`."""
    if isinstance(group, PointGroup):
        return st.sampled_from(group.elements)
    if isinstance(group, LatticeGroup):
        return st.tuples(st.sampled_from(group.point_group.elements), st.sampled_from(list(group.supercell.cells))).map(
            lambda wt: SymOp(wt[0], wt[1])
        )
    if isinstance(group, PermutationGroup):
        gens = group.generators
        def word(idx):
            p = np.arange(group.degree)
            for k in idx:
                p = gens[k][p]
            return p
        return st.lists(st.integers(0, len(gens) - 1), max_size=12).map(word)
    raise TypeError(f"expected a PointGroup, LatticeGroup or PermutationGroup, got {type(group).__name__}")


# -- exact checks ----------------------------------------------------------------------------

def assert_is_group(group: PointGroup) -> None:
    """Closure, identity and inverses of a point group's elements, exactly."""
    keys = {W.tobytes() for W in group.elements}
    identity = np.eye(group.dim, dtype=np.int64)
    assert identity.tobytes() in keys, "the identity is missing"
    for A in group.elements:
        inv = np.rint(np.linalg.inv(A)).astype(np.int64)
        assert np.array_equal(A @ inv, identity) and inv.tobytes() in keys, f"no inverse of {A.tolist()}"
        for B in group.elements:
            assert (A @ B).tobytes() in keys, f"{A.tolist()} @ {B.tolist()} is not in the group"


def assert_action_is_homomorphism(group: LatticeGroup, g: SymOp, h: SymOp) -> None:
    """``perm(g h) = perm(g) o perm(h)`` for the action on cells."""
    left = group.permutation(g @ h)
    right = group.permutation(g)[group.permutation(h)]
    assert np.array_equal(left, right), f"perm(g h) != perm(g) perm(h) for g={g}, h={h}"


def assert_colors_invariant(edge_colors, permutations) -> None:
    """``alpha(p[i], p[j]) = alpha(i, j)`` for every permutation ``p`` given."""
    E = np.asarray(edge_colors)
    for k, p in enumerate(np.array(permutations, ndmin=2)):
        moved = E[np.ix_(p, p)]
        if not np.array_equal(moved, E):
            i, j = (int(v) for v in np.argwhere(moved != E)[0])
            shown = p.tolist() if len(p) <= 32 else f"{p[:32].tolist()}..."
            raise AssertionError(f"group element {k} (permutation {shown}) maps the pair {(i, j)} of colour "
                                 f"{E[i, j]} to the pair {(int(p[i]), int(p[j]))} of colour {E[p[i], p[j]]}")


def assert_pattern_equivariant(p: Pattern, generators=None) -> None:
    """Both directions of paper Eq. 11-12, exactly (see :func:`check_equivariance_condition`)."""
    report = check_equivariance_condition(p, generators)
    if not report.ok:
        raise AssertionError("; ".join(report.colors_not_invariant + report.classes_not_single_orbits))


def assert_same_partition(a, b) -> None:
    """Two labellings define the same partition (labels may differ by a renaming)."""
    ca, cb = canonical_labels(np.asarray(a)), canonical_labels(np.asarray(b))
    if not np.array_equal(ca, cb):
        idx = np.argwhere(ca != cb)[0]
        raise AssertionError(f"partitions differ first at {tuple(idx.tolist())}")


def brute_force_pair_orbits(elements=None, *, generators=None, limit: int = 100_000) -> np.ndarray:
    """Pair orbits from every group element (rows of permutations), the definition itself.

    Each pair is labelled by the smallest flat index in ``{(g i, g j) : g in G}``. Give either
    the whole group (``elements``, repeats allowed) or ``generators``, from which the group is
    first enumerated by closure (at most ``limit`` elements); both give the same answer.

    >>> brute_force_pair_orbits(generators=[[1, 2, 0]]).tolist()
    [[0, 1, 2], [2, 0, 1], [1, 2, 0]]
    """
    from ._validate import check_dense_size

    if (elements is None) == (generators is None):
        raise TypeError("expected exactly one of elements and generators")
    if generators is not None:
        elements = PermutationGroup(generators).elements(limit=limit)
    P = np.array(elements, dtype=np.int64, ndmin=2)
    n = P.shape[1]
    check_dense_size(len(P) * n * n, "the brute-force table of pair images", f"{len(P):,} elements x {n:,}^2 pairs")
    best = np.full((n, n), n * n, dtype=np.int64)
    for chunk in np.array_split(P, max(1, len(P) * n * n // 4_000_000)):
        images = chunk[:, :, None] * n + chunk[:, None, :]  # (chunk, n, n)
        np.minimum(best, images.min(axis=0), out=best)
    return canonical_labels(best)


def assert_layer_equivariant(layer: Callable[[np.ndarray], np.ndarray], x: np.ndarray, permutations,
                             atol: float = 0.0) -> None:
    """``layer(x[p]) == layer(x)[p]`` for node features ``x`` (rows = nodes) and each permutation ``p``.

    Works for any function of node features, e.g. a numpy implementation of a
    parameter-sharing layer. ``atol=0`` demands exact equality.
    """
    y = layer(x)
    for p in np.array(permutations, ndmin=2):
        # The permuted input x' = x[p^-1] must give y' = y[p^-1] (relabel node i as p[i]).
        inv = np.argsort(p)
        got, want = layer(x[inv]), y[inv]
        err = float(np.max(np.abs(got - want))) if np.size(y) else 0.0
        if err > atol:
            raise AssertionError(f"layer is not equivariant under {p.tolist()}: max error {err:.3g} > {atol:.3g}")
