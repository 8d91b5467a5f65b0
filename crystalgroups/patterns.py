"""Parameter-sharing patterns ``Omega = (N, alpha, beta)`` (paper Section 6, Eq. 11-14).

A pattern colours the nodes (``beta``) and the ordered pairs of nodes (``alpha``) so that two
pairs share a colour exactly when one group element maps one onto the other (Eq. 11-12). A
message-passing layer that uses one edge function per edge colour and one node function per
node colour is then equivariant to the group (Claim 6.1).

Colours are canonical: numbered in order of their smallest member (pairs in row-major order).

Examples
--------
>>> pattern("hp", (2, 2)).num_edge_colors   # on 2x2 the hexagonal group acts as the full S_4
2
>>> q = pattern("cF", (2, 2, 2), warn=False)
>>> q
Pattern('cF on 2 x 2 x 2', nodes=8, node_colors=1, edge_colors=3)
>>> q.edge_colors[0].tolist()
[0, 1, 1, 1, 1, 1, 1, 2]
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import orbits as _orbits
from .bravais import BravaisType, bravais_group
from .errors import CrystalGroupsError, ExcessSymmetryWarning
from .groups import LatticeGroup, PermutationGroup, PointGroup, symmetric_group
from .supercell import Supercell, supercell as _as_supercell

__all__ = [
    "Pattern",
    "SparsePattern",
    "pattern",
    "symmetric_pattern",
    "pattern_from_group",
    "check_equivariance_condition",
    "EquivarianceReport",
]


def _ro(a) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.int64)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Pattern:
    """A parameter-sharing pattern on ``n`` nodes for a permutation group.

    Attributes
    ----------
    node_colors : (n,) int array
        ``beta``: canonical node colours.
    edge_colors : (n, n) int array
        ``alpha``: canonical colours of the ordered pairs ``(i, j)``.
    generators : (k, n) int array
        Permutations generating the group the pattern is for.
    group_name : str
        What the group is, for display.
    group_order : int
        Order of the group as a permutation group on the nodes.
    """

    node_colors: np.ndarray
    edge_colors: np.ndarray
    generators: np.ndarray
    group_name: str
    group_order: int
    metadata: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        node = _ro(self.node_colors)
        edge = _ro(self.edge_colors)
        n = len(node)
        if edge.shape != (n, n):
            raise CrystalGroupsError(f"expected edge colours of shape ({n}, {n}), got {edge.shape}")
        gens = _ro(np.array(self.generators, ndmin=2))
        if gens.shape[1] != n:
            raise CrystalGroupsError(f"expected generators of degree {n}, got degree {gens.shape[1]}")
        object.__setattr__(self, "node_colors", node)
        object.__setattr__(self, "edge_colors", edge)
        object.__setattr__(self, "generators", gens)

    def __repr__(self) -> str:
        return (
            f"Pattern({self.group_name!r}, nodes={self.num_nodes}, node_colors={self.num_node_colors}, "
            f"edge_colors={self.num_edge_colors})"
        )

    def __eq__(self, other) -> bool:
        """Patterns are equal when their colourings are (the group's name does not matter)."""
        return (
            isinstance(other, Pattern)
            and np.array_equal(self.node_colors, other.node_colors)
            and np.array_equal(self.edge_colors, other.edge_colors)
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def num_nodes(self) -> int:
        return len(self.node_colors)

    @functools.cached_property
    def num_node_colors(self) -> int:
        return int(self.node_colors.max()) + 1

    @functools.cached_property
    def num_edge_colors(self) -> int:
        return int(self.edge_colors.max()) + 1

    # -- products and restriction ------------------------------------------------------------
    def product(self, other: "Pattern") -> "Pattern":
        """The product pattern for ``G x H`` on nodes ``(a, i)`` numbered ``a * m + i`` (Eq. 13-14).

        The colour of ``((a, i), (b, j))`` is the pair ``(alpha_1(a, b), alpha_2(i, j))``,
        renumbered canonically.

        >>> cells = pattern("P-1", (2, 2))
        >>> both = cells.product(symmetric_pattern(2))
        >>> both.num_nodes, both.num_edge_colors == cells.num_edge_colors * 2
        (8, True)
        """
        n, m = self.num_nodes, other.num_nodes
        e1 = self.edge_colors.reshape(n, 1, n, 1)
        e2 = other.edge_colors.reshape(1, m, 1, m)
        edge = e1 * other.num_edge_colors + e2
        node = self.node_colors[:, None] * other.num_node_colors + other.node_colors[None, :]
        return Pattern(
            _orbits.canonical_labels(node.reshape(n * m)),
            _orbits.canonical_labels(edge.reshape(n * m, n * m)),
            _orbits.product_generators(self.generators, other.generators),
            f"{_paren(self.group_name)} x {_paren(other.group_name)}",
            self.group_order * other.group_order,
        )

    def restrict(self, edge_index) -> "SparsePattern":
        """Keep only the colours that occur on the given edges (paper Example 6.1).

        ``edge_index`` is a ``(2, E)`` array of (source, target) node indices; the colours that
        occur are renumbered ``0 .. k-1`` in order of their canonical number.

        >>> sparse = pattern("P-1", (2, 2)).restrict([[0, 0, 1], [1, 2, 0]])
        >>> sparse.edge_colors.tolist(), sparse.num_edge_colors
        ([0, 1, 0], 2)
        """
        edges = np.asarray(edge_index, dtype=np.int64)
        if edges.ndim != 2 or edges.shape[0] != 2:
            raise CrystalGroupsError(f"expected edge_index of shape (2, E), got {edges.shape}")
        if edges.size and (edges.min() < 0 or edges.max() >= self.num_nodes):
            raise CrystalGroupsError(f"expected node indices in 0..{self.num_nodes - 1}, got {edges.min()}..{edges.max()}")
        full = self.edge_colors[edges[0], edges[1]]
        kept, compact = np.unique(full, return_inverse=True)
        return SparsePattern(_ro(edges), _ro(compact.reshape(-1)), _ro(kept), self)

    # -- checks ------------------------------------------------------------------------------
    def check(self) -> "EquivarianceReport":
        """Check both directions of Eq. 11-12 exactly against this pattern's generators."""
        return check_equivariance_condition(self)

    @functools.cached_property
    def automorphisms_exceed_group(self) -> bool | None:
        """Whether the colouring is invariant under permutations outside the group.

        Exact bounded search for colour-preserving permutations (individualisation and
        refinement). ``None`` when the search budget runs out before it can decide.
        """
        return _automorphisms_exceed(self)

    # -- pictures and export -----------------------------------------------------------------
    def plot(self, kind: str = "matrix", ax=None, **kwargs):
        """Draw the pattern: ``kind="matrix"`` (like the paper's Figures 7-8) or ``"graph"``."""
        from . import plot as _plot

        if kind == "matrix":
            return _plot.plot_pattern_matrix(self, ax=ax, **kwargs)
        if kind == "graph":
            return _plot.plot_pattern_graph(self, ax=ax, **kwargs)
        raise CrystalGroupsError(f"expected kind 'matrix' or 'graph', got {kind!r}")

    def save(self, path, kind: str = "matrix", **kwargs) -> None:
        """Save the picture to ``path`` (PNG, SVG or PDF, from the suffix)."""
        from . import plot as _plot

        _plot.save_pattern(self, path, kind=kind, **kwargs)

    def _repr_png_(self) -> bytes:
        from . import plot as _plot

        return _plot.pattern_png(self)

    def to_networkx(self):
        """The complete coloured digraph: node attribute ``color``, edge attribute ``color``."""
        import networkx as nx

        g = nx.DiGraph()
        for i, c in enumerate(self.node_colors.tolist()):
            g.add_node(i, color=c)
        n = self.num_nodes
        for i in range(n):
            for j in range(n):
                if i != j:
                    g.add_edge(i, j, color=int(self.edge_colors[i, j]))
        return g

    def to_dict(self) -> dict:
        """JSON-ready summary (the fields of ``crystalgroups pattern --json``)."""
        return {
            "group": self.group_name,
            "group_order": self.group_order,
            "num_nodes": self.num_nodes,
            "num_node_colors": self.num_node_colors,
            "num_edge_colors": self.num_edge_colors,
            "node_colors": self.node_colors.tolist(),
            "edge_colors": self.edge_colors.tolist(),
            **self.metadata,
        }


@dataclass(frozen=True, eq=False)
class SparsePattern:
    """A pattern restricted to a set of edges: one colour per edge, only the colours that occur.

    Attributes
    ----------
    edge_index : (2, E) int array
    edge_colors : (E,) int array, values ``0 .. num_edge_colors - 1``
    kept_colors : (k,) int array, the full pattern's colour number of each kept colour
    parent : Pattern
    """

    edge_index: np.ndarray
    edge_colors: np.ndarray
    kept_colors: np.ndarray
    parent: Pattern

    @property
    def num_edge_colors(self) -> int:
        return len(self.kept_colors)

    def __repr__(self) -> str:
        return (
            f"SparsePattern({self.parent.group_name!r}, edges={self.edge_index.shape[1]}, "
            f"edge_colors={self.num_edge_colors} of {self.parent.num_edge_colors})"
        )


# -- factories -------------------------------------------------------------------------------

def symmetric_pattern(n: int, name: str | None = None) -> Pattern:
    """The pattern of the symmetric group ``S_n``: diagonal and off-diagonal colours.

    >>> symmetric_pattern(3).edge_colors.tolist()
    [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    """
    group = symmetric_group(n, name=name)
    edge = np.where(np.eye(n, dtype=bool), 0, 1)
    return Pattern(np.zeros(n, dtype=np.int64), edge, group.generators, group.name, math.factorial(n))


def pattern_from_group(group, name: str | None = None) -> Pattern:
    """The pattern of any :class:`PermutationGroup` or :class:`LatticeGroup` (orbits on nodes and pairs)."""
    if isinstance(group, LatticeGroup):
        return Pattern(
            group.node_orbits(),
            group.pair_orbits(),
            group.generators,
            name or f"{group.point_group.name or 'G'} on {_supercell_label(group.supercell)}",
            group.permutation_group_order,
        )
    if isinstance(group, PermutationGroup):
        return Pattern(group.node_orbits(), group.pair_orbits(), group.generators, name or group.name or "G", group.order)
    raise CrystalGroupsError(f"expected a LatticeGroup or PermutationGroup, got {type(group).__name__}")


def _paren(name: str) -> str:
    return f"({name})" if " " in name else name


def _supercell_label(sc: Supercell) -> str:
    return " x ".join(map(str, sc.sizes)) if sc.is_diagonal else str(sc.matrix.tolist())


def _resolve(group, dim: int):
    """Resolve a group spec: a Bravais type name, 'P-1', 'S', a BravaisType or a PointGroup."""
    if isinstance(group, PointGroup):
        return group, group.name or "G"
    if isinstance(group, BravaisType):
        return group.point_group, group.symbol
    if isinstance(group, str) and group.strip() in ("S", "S_Lambda", "SLambda", "symmetric"):
        return None, "S"
    t = bravais_group(group, dim=dim)
    return t.point_group, t.symbol


#: The largest supercell :func:`pattern` accepts (its colour matrix has ``MAX_CELLS**2`` entries).
MAX_CELLS = 8000


def pattern(group, supercell=(2, 2, 2), *, warn: bool = True) -> Pattern:
    """The parameter-sharing pattern of a group acting on the cells of a periodic supercell.

    Parameters
    ----------
    group
        A Bravais type (``"cF"``, ``"face-centered cubic"``, ``"Fm-3m"``, ...), ``"P-1"``,
        ``"S"`` (the symmetric group on the cells), a :class:`BravaisType` or a
        :class:`PointGroup` written in the lattice basis.
    supercell
        Sizes ``(n1, n2[, n3])`` or an integer matrix; its size sets the dimension.
    warn
        Emit :class:`ExcessSymmetryWarning` when the colouring is invariant under more
        permutations than the group (the layer would then be equivariant to a larger group).

    >>> p = pattern("P-1", (2, 2, 2))
    >>> p.num_edge_colors, p.metadata["point_group_order"], p.metadata["permutation_group_order"]
    (8, 2, 8)
    """
    sc = _as_supercell(supercell)
    pg, label = _resolve(group, sc.dim)
    n = sc.num_cells
    if n > MAX_CELLS:
        raise CrystalGroupsError(
            f"expected at most {MAX_CELLS:,} cells (the colour matrix has cells^2 entries), got {n:,}")
    meta = {"supercell": list(sc.sizes) if sc.is_diagonal else sc.matrix.tolist(), "dim": sc.dim}
    if pg is None:
        p = symmetric_pattern(n, name=f"S on {_supercell_label(sc)}")
        meta.update(
            bravais_type=None,
            point_group_order=math.factorial(n - 1),
            group_order=math.factorial(n),
            permutation_group_order=math.factorial(n),
        )
        return Pattern(p.node_colors, p.edge_colors, p.generators, p.group_name, p.group_order, meta)
    lg = LatticeGroup(pg, sc)
    p = pattern_from_group(lg, name=f"{label} on {_supercell_label(sc)}")
    meta.update(
        bravais_type=label if isinstance(group, (str, BravaisType)) else None,
        point_group_order=pg.order,
        group_order=lg.order,
        permutation_group_order=lg.permutation_group_order,
    )
    p = Pattern(p.node_colors, p.edge_colors, p.generators, p.group_name, p.group_order, meta)
    if warn and p.group_order < math.factorial(n) and p.automorphisms_exceed_group:
        warnings.warn(
            f"the pattern of {p.group_name} is invariant under more permutations than the group's "
            f"{p.group_order}: a layer built on it is equivariant to a larger group (use a larger supercell "
            "to tell them apart)",
            ExcessSymmetryWarning,
            stacklevel=2,
        )
    return p


# -- exact checks ----------------------------------------------------------------------------

@dataclass(frozen=True)
class EquivarianceReport:
    """Result of :func:`check_equivariance_condition`: empty problem lists mean the pattern is exact."""

    colors_not_invariant: tuple[str, ...]
    classes_not_single_orbits: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.colors_not_invariant and not self.classes_not_single_orbits

    def __bool__(self) -> bool:
        return self.ok


def check_equivariance_condition(p: Pattern, generators=None) -> EquivarianceReport:
    """Check both directions of the "if and only if" of Eq. 11-12, exactly.

    * (orbit => same colour) every generator ``g`` preserves colours:
      ``alpha(g i, g j) = alpha(i, j)`` and ``beta(g i) = beta(i)``; then each orbit lies in one
      colour class, since the generators generate the group.
    * (same colour => same orbit) for one representative of each colour class, its orbit (by
      breadth-first closure, independently of the orbit code) is the whole class.

    >>> check_equivariance_condition(pattern("cP", (2, 2, 2))).ok
    True
    """
    gens = p.generators if generators is None else np.array(generators, dtype=np.int64, ndmin=2)
    alpha, beta = p.edge_colors, p.node_colors
    bad_inv: list[str] = []
    for k, g in enumerate(gens):
        if not np.array_equal(alpha[np.ix_(g, g)], alpha):
            bad_inv.append(f"generator {k} changes edge colours")
        if not np.array_equal(beta[g], beta):
            bad_inv.append(f"generator {k} changes node colours")
    bad_orbit: list[str] = []
    n = p.num_nodes
    flat = alpha.ravel()
    order = np.argsort(flat, kind="stable")
    starts = np.searchsorted(flat[order], np.arange(p.num_edge_colors + 1))
    for c in range(p.num_edge_colors):
        members = np.sort(order[starts[c]:starts[c + 1]])
        i, j = divmod(int(members[0]), n)
        orbit = _orbits.orbit_of_pair(gens, i, j)
        if not np.array_equal(orbit, members):
            bad_orbit.append(f"edge colour {c} has {len(members)} pairs but the orbit of {(i, j)} has {len(orbit)}")
    node_orbit_labels = _orbits.node_orbits(gens)
    for c in range(p.num_node_colors):
        if len(np.unique(node_orbit_labels[beta == c])) != 1:
            bad_orbit.append(f"node colour {c} spans several node orbits")
    return EquivarianceReport(tuple(bad_inv), tuple(bad_orbit))


def _automorphisms_exceed(p: Pattern, budget: int = 20_000) -> bool | None:
    """Bounded search: does some colour-preserving permutation lie outside the group?

    For a transitive group, ``|Aut| > |G|`` iff the stabiliser of node 0 in Aut is larger than
    in G, so the search fixes node 0 and stops after ``|G|/n + 1`` automorphisms.
    """
    n = p.num_nodes
    E, beta = p.edge_colors, p.node_colors
    transitive = bool(np.all(_orbits.node_orbits(p.generators) == 0))
    limit = (p.group_order // n if transitive else p.group_order) + 1
    cand = beta[:, None] == beta[None, :]
    if transitive:
        cand[0, :] = False
        cand[:, 0] = False
        cand[0, 0] = True
    found = 0
    steps = 0

    def refine(cand, v, u):
        cand = cand.copy()
        cand[v, :] = False
        cand[:, u] = False
        cand[v, u] = True
        # w -> x is allowed only if the colours to/from v match the colours to/from u.
        cand &= E[v, :][:, None] == E[u, :][None, :]
        cand &= E[:, v][:, None] == E[:, u][None, :]
        return cand

    def search(cand) -> bool:
        nonlocal found, steps
        steps += 1
        if steps > budget:
            raise _Budget
        counts = cand.sum(axis=1)
        if counts.min() == 0:
            return False
        if counts.max() == 1:
            sigma = cand.argmax(axis=1)
            if len(np.unique(sigma)) == n and np.array_equal(E[np.ix_(sigma, sigma)], E):
                found += 1
                return found >= limit
            return False
        v = int(np.argmin(np.where(counts > 1, counts, n + 1)))
        for u in np.flatnonzero(cand[v]):
            if search(refine(cand, v, int(u))):
                return True
        return False

    if transitive:
        cand = refine(cand, 0, 0)
    try:
        return search(cand)
    except _Budget:
        return None


class _Budget(Exception):
    pass
