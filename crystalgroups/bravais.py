"""The 5 two-dimensional and 14 three-dimensional Bravais types (paper Table 3).

Each type has a representative *integral* metric ``G`` of a generic lattice of that type in a
primitive basis. Its holohedry (the Bravais group) is found exactly as the set of integer
matrices ``W`` with ``W^T G W = G``: no floating point decides membership. Types are named by
Pearson symbol (``aP`` ... ``cF``; ``mp`` ... ``hp`` in 2D) and can also be looked up by the
paper's names and symbols ("face-centered cubic", "Fm-3m", "P6m", ...).

A lattice's type is recognised from its point group by a GL(d, Z)-invariant fingerprint: the
group order, the (trace, determinant) statistics of its elements and the orbit sizes of the
group on ``Z^d / nZ^d`` for n = 2, 3, 4. The 19 fingerprints are distinct (tested), so two point
groups with equal fingerprints among these types are the same arithmetic class.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from fractions import Fraction
from math import lcm

import numpy as np

from ._intmath import int_det
from .errors import CrystalGroupsError, CrystalGroupsTypeError, UnknownBravaisTypeError
from .groups import PointGroup
from .lattice import Lattice, point_group_of_metric
from .orbits import node_orbits
from .supercell import Supercell

__all__ = ["BravaisType", "bravais_types", "lookup_bravais_type", "bravais_group", "classify_point_group",
           "resolve_point_group",
           "classify_lattice", "LatticeClassification",
           "BRAVAIS_SYMBOLS", "TRANSLATION_ONLY_NAMES", "SYMMETRIC_NAMES"]

#: Names of the translation-only group (space group P1, plane group p1): the trivial point group.
TRANSLATION_ONLY_NAMES = ("P1", "p1")
#: Names of the symmetric group on the cells, for :func:`~crystalgroups.patterns.pattern`.
SYMMETRIC_NAMES = ("S", "S_Lambda", "SLambda", "symmetric")

_HALF = Fraction(1, 2)
# Primitive cell in conventional coordinates (columns) for each centring.
_CENTRINGS = {
    "P": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    "C": [[_HALF, _HALF, 0], [-_HALF, _HALF, 0], [0, 0, 1]],
    "I": [[-_HALF, _HALF, _HALF], [_HALF, -_HALF, _HALF], [_HALF, _HALF, -_HALF]],
    "F": [[0, _HALF, _HALF], [_HALF, 0, _HALF], [_HALF, _HALF, 0]],
    "c": [[_HALF, _HALF], [-_HALF, _HALF]],
}


def _primitive_gram(conventional, centring: str) -> np.ndarray:
    """Integral primitive metric ``P^T G_conv P``, scaled by the smallest integer that clears fractions."""
    G = [[Fraction(v) for v in row] for row in conventional]
    d = len(G)
    P = _CENTRINGS[centring] if centring != "P" or d == 3 else [[1, 0], [0, 1]]
    P = [[Fraction(v) for v in row] for row in P]
    Gp = [[sum(P[k][i] * G[k][m] * P[m][j] for k in range(d) for m in range(d)) for j in range(d)] for i in range(d)]
    scale = lcm(*(x.denominator for row in Gp for x in row))
    return np.array([[int(x * scale) for x in row] for row in Gp], dtype=np.int64)


# symbol: (dim, name, symmetry group (paper Table 3), abstract point group, order,
#          conventional metric, centring, extra aliases)
_TABLE = {
    "mp": (2, "oblique", "P2", "C2", 2, [[5, 2], [2, 7]], "P", ["P-1", "p2", "monoclinic"]),
    "op": (2, "rectangular", "Pmm", "D2", 4, [[4, 0], [0, 9]], "P", ["primitive rectangular", "p2mm"]),
    "oc": (2, "centered rectangular", "Cmm", "D2", 4, [[4, 0], [0, 9]], "c", ["rhombic", "c2mm"]),
    "tp": (2, "square", "P4m", "D4", 8, [[1, 0], [0, 1]], "P", ["p4mm"]),
    "hp": (2, "hexagonal", "P6m", "D6", 12, [[2, -1], [-1, 2]], "P", ["p6mm", "triangular"]),
    "aP": (3, "primitive triclinic", "P-1", "C2", 2, [[5, 1, 2], [1, 6, 3], [2, 3, 7]], "P",
           ["triclinic", "anorthic"]),
    "mP": (3, "primitive monoclinic", "P2/m", "C2h", 4, [[4, 0, 1], [0, 9, 0], [1, 0, 6]], "P",
           ["monoclinic", "simple monoclinic"]),
    "mS": (3, "base-centered monoclinic", "C2/m", "C2h", 4, [[4, 0, 1], [0, 9, 0], [1, 0, 6]], "C",
           ["mC", "C-centered monoclinic", "centered monoclinic"]),
    "oP": (3, "primitive orthorhombic", "Pmmm", "D2h", 8, [[4, 0, 0], [0, 9, 0], [0, 0, 25]], "P",
           ["orthorhombic", "simple orthorhombic"]),
    "oS": (3, "base-centered orthorhombic", "Cmmm", "D2h", 8, [[4, 0, 0], [0, 9, 0], [0, 0, 25]], "C",
           ["oC", "C-centered orthorhombic"]),
    "oI": (3, "body-centered orthorhombic", "Immm", "D2h", 8, [[4, 0, 0], [0, 9, 0], [0, 0, 25]], "I", []),
    "oF": (3, "face-centered orthorhombic", "Fmmm", "D2h", 8, [[4, 0, 0], [0, 9, 0], [0, 0, 25]], "F", []),
    "tP": (3, "primitive tetragonal", "P4/mmm", "D4h", 16, [[4, 0, 0], [0, 4, 0], [0, 0, 9]], "P",
           ["tetragonal", "simple tetragonal"]),
    "tI": (3, "body-centered tetragonal", "I4/mmm", "D4h", 16, [[4, 0, 0], [0, 4, 0], [0, 0, 9]], "I",
           ["C4/mmm"]),  # the paper's Table 3 prints C4/mmm for this type
    "hR": (3, "rhombohedral", "R-3m", "D3d", 12, [[5, 1, 1], [1, 5, 1], [1, 1, 5]], "P", ["trigonal"]),
    "hP": (3, "hexagonal", "P6/mmm", "D6h", 24, [[2, -1, 0], [-1, 2, 0], [0, 0, 5]], "P", []),
    "cP": (3, "primitive cubic", "Pm-3m", "Oh", 48, [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "P",
           ["simple cubic", "cubic", "sc"]),
    "cI": (3, "body-centered cubic", "Im-3m", "Oh", 48, [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "I", ["bcc"]),
    "cF": (3, "face-centered cubic", "Fm-3m", "Oh", 48, [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "F", ["fcc"]),
}

#: Pearson symbols in the paper's order (2D first).
BRAVAIS_SYMBOLS: tuple[str, ...] = tuple(_TABLE)


@dataclass(frozen=True, eq=False)
class BravaisType:
    """One Bravais type: its names, a representative primitive basis and its holohedry.

    Examples
    --------
    >>> cf = bravais_group("face-centered cubic")
    >>> cf
    BravaisType('cF', 'face-centered cubic', 'Fm-3m', order=48)
    >>> cf.gram.tolist()
    [[2, 1, 1], [1, 2, 1], [1, 1, 2]]
    >>> cf.point_group.preserves_metric(cf.gram)
    True
    """

    symbol: str
    dim: int
    name: str
    symmetry_group: str
    abstract_point_group: str
    expected_order: int
    gram: np.ndarray
    aliases: tuple[str, ...]

    def __repr__(self) -> str:
        return f"BravaisType({self.symbol!r}, {self.name!r}, {self.symmetry_group!r}, order={self.order})"

    @functools.cached_property
    def point_group(self) -> PointGroup:
        """The holohedry as exact integer matrices in the primitive basis of :attr:`gram`."""
        ops = point_group_of_metric(self.gram, tol=0)
        pg = PointGroup.from_elements(ops, name=self.symbol)
        if pg.order != self.expected_order:  # pragma: no cover - guards the table itself
            raise RuntimeError(f"{self.symbol}: found {pg.order} operations, expected {self.expected_order}")
        return pg

    @property
    def order(self) -> int:
        """Order of the holohedry."""
        return self.expected_order

    @functools.cached_property
    def basis(self) -> np.ndarray:
        """A representative primitive basis (rows), the Cholesky factor of :attr:`gram`."""
        L = np.linalg.cholesky(self.gram.astype(float))
        L.setflags(write=False)
        return L

    @property
    def lattice(self) -> Lattice:
        """The representative lattice."""
        return Lattice(self.basis)

    @functools.cached_property
    def fingerprint(self) -> tuple:
        """The GL(d, Z)-invariant fingerprint used to recognise this type."""
        return _fingerprint(self.point_group)


def _build_types() -> dict[str, BravaisType]:
    out = {}
    for symbol, (dim, name, group, abstract, order, conv, centring, aliases) in _TABLE.items():
        gram = _primitive_gram(conv, centring)
        gram.setflags(write=False)
        out[symbol] = BravaisType(symbol, dim, name, group, abstract, order, gram, tuple(aliases))
    return out


_TYPES = _build_types()


def bravais_types(dim: int | None = None) -> tuple[BravaisType, ...]:
    """All Bravais types, or those of one dimension, in the paper's order.

    >>> [t.symbol for t in bravais_types(2)]
    ['mp', 'op', 'oc', 'tp', 'hp']
    >>> [t.order for t in bravais_types(3)]
    [2, 4, 4, 8, 8, 8, 8, 16, 16, 12, 24, 48, 48, 48]
    """
    if dim not in (None, 2, 3):
        raise CrystalGroupsError(f"expected dim 2 or 3, got {dim!r}")
    return tuple(t for t in _TYPES.values() if dim is None or t.dim == dim)


def _normalise(name: str) -> str:
    s = name.strip().lower().replace("centred", "centered").replace("centre", "center")
    for ch in " -_\u00af\u0305":
        s = s.replace(ch, "")
    return s


@functools.cache
def _alias_index() -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for t in _TYPES.values():
        for alias in (t.name, t.symmetry_group, *t.aliases):
            key = _normalise(alias)
            if t.symbol not in index.setdefault(key, []):
                index[key].append(t.symbol)
    return index


def lookup_bravais_type(name: str, dim: int | None = None) -> BravaisType:
    """Look up a Bravais type by Pearson symbol, name or symmetry-group symbol.

    The type carries its holohedry as ``.point_group``. :func:`bravais_group` is the same function
    under its 0.1 name.

    Pearson symbols are case-sensitive (``op`` is 2D, ``oP`` is 3D); names and symbols are not,
    and ignore spaces, hyphens and British spellings. ``dim`` resolves names shared by a 2D and a
    3D type ("hexagonal", "P-1").

    >>> lookup_bravais_type("Fm-3m").symbol, lookup_bravais_type("P6m").symbol
    ('cF', 'hp')
    >>> lookup_bravais_type("hexagonal", dim=3).point_group.order
    24
    """
    if isinstance(name, BravaisType):
        return name
    if not isinstance(name, str):
        raise UnknownBravaisTypeError(f"expected a Bravais type name (str), got {type(name).__name__}: {name!r}")
    if dim not in (None, 2, 3):
        raise CrystalGroupsError(f"expected dim 2 or 3, got {dim!r}")
    if name in _TYPES:
        t = _TYPES[name]
        if dim is not None and t.dim != dim:
            others = [s for s in _TYPES if s.lower() == name.lower() and _TYPES[s].dim == dim]
            others += [s for s in _alias_index().get(_normalise(name), []) if _TYPES[s].dim == dim]
            hint = f"; did you mean {others[0]!r}?" if others else ""
            raise UnknownBravaisTypeError(
                f"expected a {dim}-dimensional Bravais type, got {name!r}, which is {t.dim}-dimensional{hint}"
            )
        return t
    if name.strip() in TRANSLATION_ONLY_NAMES:
        raise UnknownBravaisTypeError(
            f"expected a Bravais type, got {name!r}, the translation-only group (trivial point group), which is "
            "not the holohedry of any lattice: the triclinic Bravais type is 'aP' (symmetry group 'P-1'); "
            "pattern() and LatticeGroup accept 'P1' itself")
    everywhere = _alias_index().get(_normalise(name), [])
    candidates = [s for s in everywhere if dim is None or _TYPES[s].dim == dim]
    if len(candidates) == 1:
        return _TYPES[candidates[0]]
    if len(candidates) > 1:
        raise UnknownBravaisTypeError(
            f"expected an unambiguous Bravais type, got {name!r}, which names {candidates}: give the dimension"
        )
    if everywhere:  # a known name of the other dimension, e.g. "Fm-3m" for a 2x2 supercell
        other = _TYPES[everywhere[0]]
        raise UnknownBravaisTypeError(
            f"expected a {dim}-dimensional Bravais type (to match a {dim}-dimensional supercell), got {name!r}, "
            f"which is the {other.dim}-dimensional type {other.symbol!r} ({other.name}); the {dim}D types are "
            f"{[t.symbol for t in bravais_types(dim)]}")
    case_hint = [s for s in _TYPES if s.lower() == name.strip().lower() and (dim is None or _TYPES[s].dim == dim)]
    choices = list(_TYPES) + sorted({a for t in _TYPES.values() for a in (t.name, t.symmetry_group, *t.aliases)})
    close = case_hint + [c for c in difflib.get_close_matches(name, choices, n=3) if c not in case_hint]
    hint = f" Did you mean {', '.join(map(repr, close[:3]))}? (Pearson symbols are case-sensitive.)" if case_hint else (
        f" Did you mean {', '.join(map(repr, close))}?" if close else "")
    raise UnknownBravaisTypeError(
        f"Could not resolve Bravais type {name!r} among choices {list(_TYPES)} "
        f"(or their names such as 'face-centered cubic' and symbols such as 'Fm-3m'; patterns also take "
        f"'P-1', 'P1' (translations only) and 'S').{hint}"
    )



#: The name of :func:`lookup_bravais_type` up to version 0.1 (it returns the type, not only its group).
bravais_group = lookup_bravais_type

def resolve_point_group(spec, dim: int) -> tuple[PointGroup | None, str]:
    """Resolve a group spec to ``(point_group, label)``; ``(None, "S")`` for the symmetric group.

    ``spec`` is a :class:`PointGroup`, a :class:`BravaisType`, a name (Pearson symbol, name, symbol,
    ``"P-1"``, ``"P1"`` for the translation-only group, ``"S"``), or a lattice: a
    :class:`~crystalgroups.lattice.Lattice`, a ``d x d`` float array of lattice vectors (rows), or by duck
    typing a pymatgen ``Lattice``/``Structure`` or an ASE ``Atoms`` (its point group at
    :data:`~crystalgroups.lattice.DEFAULT_TOL`, in the basis given).

    >>> resolve_point_group("P1", 3)
    (PointGroup('P1', dim=3, order=1), 'P1')
    >>> resolve_point_group("Fm-3m", 3)[1], resolve_point_group("S", 2)
    ('cF', (None, 'S'))
    """
    if isinstance(spec, PointGroup):
        if spec.dim != dim:
            raise CrystalGroupsError(
                f"expected a {dim}-dimensional point group (to match a {dim}-dimensional supercell), got {spec!r}")
        return spec, spec.name or "G"
    if isinstance(spec, BravaisType):
        if spec.dim != dim:
            raise CrystalGroupsError(
                f"expected a {dim}-dimensional Bravais type (to match a {dim}-dimensional supercell), got {spec!r}")
        return spec.point_group, spec.symbol
    if isinstance(spec, str):
        s = spec.strip()
        if s in SYMMETRIC_NAMES:
            return None, "S"
        if s in TRANSLATION_ONLY_NAMES:
            return PointGroup.from_generators([], name="P1", dim=dim), "P1"
        t = bravais_group(s, dim=dim)
        return t.point_group, t.symbol
    from ._validate import basis_of

    basis = basis_of(spec)
    try:
        numeric = (spec is not None and not isinstance(basis, (str, bytes, dict, int, float))
                   and np.asarray(basis).dtype.kind in "iuf" and np.asarray(basis).ndim == 2)
    except (TypeError, ValueError):
        numeric = False
    if numeric:
        lat = spec if isinstance(spec, Lattice) else Lattice(basis)
        if lat.dim != dim:
            raise CrystalGroupsError(
                f"expected a {dim}-dimensional lattice (to match a {dim}-dimensional supercell), got {lat!r}")
        pg = lat.point_group()
        t = classify_point_group(pg)
        return PointGroup(pg.elements, name=t.symbol), t.symbol
    raise CrystalGroupsTypeError(
        f"expected a group: a Bravais type name such as 'cF', 'P-1', 'P1', 'S', a BravaisType, a PointGroup or a "
        f"lattice, got {type(spec).__name__}: {spec!r}")


def _fingerprint(pg: PointGroup) -> tuple:
    d = pg.dim
    stats = sorted((int(np.trace(W)), int_det(W)) for W in pg.elements)
    orbit_sizes = []
    for n in (2, 3, 4):
        sc = Supercell.diagonal(*([n] * d))
        perms = np.array([sc.index(sc.cells @ W.T) for W in pg.generators])
        labels = node_orbits(perms)
        orbit_sizes.append(tuple(sorted(np.bincount(labels).tolist())))
    return (d, pg.order, tuple(stats), tuple(orbit_sizes))


@functools.cache
def _fingerprint_index() -> dict[tuple, str]:
    return {t.fingerprint: t.symbol for t in _TYPES.values()}


def classify_point_group(point_group: PointGroup) -> BravaisType:
    """The Bravais type whose holohedry is the given lattice point group (in any basis).

    Raises if the group is not the full point group of any lattice (for example a proper
    subgroup of a holohedry).

    >>> classify_point_group(bravais_group("hR").point_group).symbol
    'hR'
    """
    symbol = _fingerprint_index().get(_fingerprint(point_group))
    if symbol is None:
        raise CrystalGroupsError(
            f"expected the full point group of a lattice (a holohedry), got a group of order {point_group.order} "
            "that matches none of the Bravais types"
        )
    return _TYPES[symbol]


@dataclass(frozen=True, eq=False)
class LatticeClassification:
    """What :func:`classify_lattice` (and ``bravais_type(..., full=True)``) finds about a lattice.

    Attributes
    ----------
    bravais_type : BravaisType
    point_group : PointGroup
        The lattice's point group as integer matrices in the basis given (``W`` acting on column coordinates).
    transformation : (d, d) int array, det +-1
        ``U`` with ``point_group.conjugate(U) == bravais_type.point_group``: in the basis whose vectors are
        the rows of ``U.T @ basis`` (coordinates ``x_given = U x_new``) the point group is the
        representative's, element for element.
    tol : float
        The tolerance that gave the point group (smaller than the one asked for after a
        :class:`~crystalgroups.errors.ToleranceWarning`).
    """

    bravais_type: BravaisType
    point_group: PointGroup
    transformation: np.ndarray
    tol: float

    @property
    def symbol(self) -> str:
        return self.bravais_type.symbol

    def __repr__(self) -> str:
        return (f"LatticeClassification({self.symbol!r}, point_group_order={self.point_group.order}, "
                f"transformation={self.transformation.tolist()})")


def _conjugator(pg: PointGroup, rep: PointGroup, radius: int) -> np.ndarray | None:
    """A unimodular ``U`` (columns: short integer vectors) with ``U R U^-1`` in ``pg`` for every generator ``R``
    of ``rep``; then ``U^-1 pg U == rep`` (equal orders). Exact integer arithmetic; ``None`` if none is in range."""
    d = pg.dim
    axes = [np.arange(-radius, radius + 1)] * d
    V = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)
    V = V[np.any(V != 0, axis=1)]
    # Short vectors first, then those with fewer negative entries, then e_1 before e_2 ...: U = I when it works.
    V = V[np.lexsort(tuple(-V[:, i] for i in reversed(range(d))) + ((V < 0).sum(axis=1), np.abs(V).sum(axis=1)))]
    keys = {W.astype(np.int64).tobytes() for W in pg.elements}
    gens = rep.generators
    m = len(V)
    for first in range(m):
        idx = np.stack(np.meshgrid(*([np.arange(m)] * (d - 1)), indexing="ij"), -1).reshape(-1, d - 1)
        cols = np.concatenate([np.full((len(idx), 1), first), idx], axis=1)
        U = np.transpose(V[cols], (0, 2, 1))  # (k, d, d): columns are candidate vectors
        if d == 2:
            det = U[:, 0, 0] * U[:, 1, 1] - U[:, 0, 1] * U[:, 1, 0]
        else:
            det = np.round(np.linalg.det(U.astype(float))).astype(np.int64)
        U = U[np.abs(det) == 1]
        if not len(U):
            continue
        inv = np.round(np.linalg.inv(U.astype(float))).astype(np.int64)
        ok = np.all(np.einsum("kij,kjl->kil", U, inv) == np.eye(d, dtype=np.int64), axis=(1, 2))
        for R in gens:
            M = np.einsum("kij,jl,klm->kim", U, R, inv)
            ok &= np.array([Mi.tobytes() in keys for Mi in M.astype(np.int64)])
        if ok.any():
            found = U[np.flatnonzero(ok)[0]].astype(np.int64)
            found.setflags(write=False)
            return found
    return None


def classify_lattice(lattice, tol: float | None = None) -> LatticeClassification:
    """Bravais type, point group (in the basis given) and the change of basis to the type's representative.

    ``lattice`` is anything :class:`~crystalgroups.lattice.Lattice` takes (rows of lattice vectors, a
    pymatgen ``Lattice``, ...); ``tol`` a length (default :data:`~crystalgroups.lattice.DEFAULT_TOL`).

    >>> c = classify_lattice([[0, 2, 2], [2, 0, 2], [2, 2, 0]])
    >>> c.symbol, c.point_group.order, c.point_group.conjugate(c.transformation) == bravais_group("cF").point_group
    ('cF', 48, True)
    """
    import warnings

    from .errors import ToleranceWarning
    from .lattice import DEFAULT_TOL

    lat = lattice if isinstance(lattice, Lattice) else Lattice(lattice)
    tol = DEFAULT_TOL if tol is None else tol
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ToleranceWarning)
        pg = lat.point_group(tol)
    used = tol
    for w in caught:
        if isinstance(w.message, ToleranceWarning) and w.message.used is not None:
            used = w.message.used
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    t = classify_point_group(pg)
    # Search short columns in the reduced basis (where the representative's vectors are short), then map back.
    red, T = lat.reduced()
    Tt = T.T
    from ._intmath import unimodular_inverse

    Tt_inv = unimodular_inverse(Tt)
    pg_red = PointGroup.from_elements([Tt_inv @ W @ Tt for W in pg.elements])
    for radius in (1, 2):
        U_red = _conjugator(pg_red, t.point_group, radius)
        if U_red is not None:
            U = Tt @ U_red
            U.setflags(write=False)
            return LatticeClassification(t, PointGroup(pg.elements, name=t.symbol), U, float(used))
    raise CrystalGroupsError(  # pragma: no cover - not met on the types' generic lattices
        f"expected a lattice whose representative basis has short coordinates in its reduced basis, got {lat!r} "
        f"({t.symbol}): no change of basis with entries up to 2 maps its point group onto the representative's")
