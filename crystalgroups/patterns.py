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
from ._validate import MAX_DENSE_ENTRIES, check_dense_size
from .bravais import BravaisType, resolve_point_group
from .errors import CrystalGroupsError, CrystalGroupsTypeError, ExcessSymmetryWarning
from .groups import LatticeGroup, PermutationGroup, PointGroup, _non_permutation_rows, symmetric_group
from .supercell import Supercell
from .supercell import supercell as _as_supercell

__all__ = [
    "Pattern",
    "SparsePattern",
    "pattern",
    "symmetric_pattern",
    "pattern_from_group",
    "check_equivariance_condition",
    "EquivarianceReport",
    "MAX_CELLS",
    "EXCESS_CHECK_MAX_CELLS",
]


def _ro(a) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.int64)
    a.setflags(write=False)
    return a


def _as_colours(value, name: str, ndim: int) -> np.ndarray:
    """Integer colours as a read-only int64 array, or a clear error (non-integers, negatives, wrong rank)."""
    try:
        arr = np.asarray(value)
    except Exception as exc:
        raise CrystalGroupsError(f"expected {name} as an integer array, got {value!r}") from exc
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise CrystalGroupsTypeError(f"expected {name} as an integer array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise CrystalGroupsError(f"expected {name} as a {ndim}-D array, got shape {arr.shape}")
    if arr.dtype.kind == "f" and (not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))):
        raise CrystalGroupsError(f"expected integer {name}, got non-integer values")
    if arr.size and arr.min() < 0:
        raise CrystalGroupsError(f"expected non-negative {name}, got the colour {arr.min()}")
    return _ro(arr)


def _is_canonical(labels: np.ndarray, block: int = 1 << 20) -> bool:
    """Whether labels are numbered 0, 1, ... in order of first occurrence (row-major), in bounded memory."""
    flat = labels.reshape(-1)
    if flat.size == 0:
        return True
    if flat[0] != 0:
        return False
    top = -1
    for start in range(0, flat.size, block):
        chunk = flat[start:start + block]
        running = np.maximum.accumulate(np.concatenate([[top], chunk]))
        if np.any(chunk > running[:-1] + 1):
            return False
        top = int(running[-1])
    return True


@dataclass(frozen=True, eq=False)
class Pattern:
    """A parameter-sharing pattern on ``n`` nodes for a permutation group.

    Built by :func:`pattern`, :func:`pattern_from_group`, :func:`symmetric_pattern` and
    :meth:`product`, or by hand: a hand-made pattern is checked on construction (integer,
    non-negative colours of the right shapes, generators that are permutations of the nodes) and
    its colours are renumbered canonically (in order of their smallest member), so
    :meth:`check` and the ``num_*_colors`` counts mean the same for every pattern.

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
        The number of elements of the group (for a lattice group, ``cells x |P|``: 384 for cF on
        2x2x2). Defaults to the order of the permutation group the generators generate. The number
        of distinct permutations of the nodes is :attr:`permutation_group_order` (192 for cF on 2x2x2).
    metadata : dict
        What the factory knows (supercell, point-group order, ...); ``to_dict()`` includes it.

    >>> hand = Pattern([0, 0], [[5, 7], [7, 5]], [[1, 0]], "S2")
    >>> hand.edge_colors.tolist(), hand.num_edge_colors, hand.group_order, hand.check().ok
    ([[0, 1], [1, 0]], 2, 2, True)
    """

    node_colors: np.ndarray
    edge_colors: np.ndarray
    generators: np.ndarray
    group_name: str = "G"
    group_order: int | None = None
    metadata: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        node = _as_colours(self.node_colors, "node colours", 1)
        n = len(node)
        edge = _as_colours(self.edge_colors, "edge colours", 2)
        if edge.shape != (n, n):
            raise CrystalGroupsError(f"expected edge colours of shape ({n}, {n}), got {edge.shape}")
        try:
            gens = np.array(self.generators, dtype=np.int64, ndmin=2)
        except (TypeError, ValueError, OverflowError) as exc:
            raise CrystalGroupsError(f"expected generators as rows of an integer array, got {self.generators!r}") \
                from exc
        if gens.ndim != 2 or gens.shape[1] != n:
            raise CrystalGroupsError(f"expected generators of degree {n}, got shape {gens.shape}")
        bad = _non_permutation_rows(gens)
        if len(bad):
            raise CrystalGroupsError(
                f"expected generators that are permutations of 0..{n - 1}, got row {int(bad[0])}: "
                f"{gens[bad[0]][:20].tolist()}{'...' if n > 20 else ''}")
        gens = _ro(gens)
        if not _is_canonical(node):
            node = _orbits.canonical_labels(node)
        if not _is_canonical(edge):
            edge = _orbits.canonical_labels(edge)
        if not isinstance(self.group_name, str):
            raise CrystalGroupsTypeError(f"expected group_name as a str, got {self.group_name!r}")
        if self.group_order is not None:
            if isinstance(self.group_order, bool) or not isinstance(self.group_order, (int, np.integer)) \
                    or self.group_order < 1:
                raise CrystalGroupsError(f"expected group_order as a positive integer, got {self.group_order!r}")
            object.__setattr__(self, "group_order", int(self.group_order))
        object.__setattr__(self, "node_colors", node)
        object.__setattr__(self, "edge_colors", edge)
        object.__setattr__(self, "generators", gens)
        if self.group_order is None:
            object.__setattr__(self, "group_order", self.permutation_group_order)

    @classmethod
    def _make(cls, node, edge, gens, name, group_order, metadata=None) -> Pattern:
        """Build a pattern from colours this module computed (canonical, checked): no validation pass."""
        p = cls.__new__(cls)
        for key, value in (("node_colors", _ro(node)), ("edge_colors", _ro(edge)),
                           ("generators", _ro(np.array(gens, ndmin=2))), ("group_name", name),
                           ("group_order", int(group_order)), ("metadata", dict(metadata or {}))):
            object.__setattr__(p, key, value)
        return p

    @functools.cached_property
    def permutation_group_order(self) -> int:
        """The number of distinct permutations of the nodes in the group (Schreier-Sims when not known).

        Equal to :attr:`group_order` except for lattice groups on small supercells, whose point
        operations can act alike on the cells.
        """
        known = self.metadata.get("permutation_group_order")
        if known is not None:
            return int(known)
        return PermutationGroup(self.generators).order

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
        """The number of distinct node colours (colours are canonical: ``0 .. k-1``)."""
        return int(self.node_colors.max()) + 1 if self.node_colors.size else 0

    @functools.cached_property
    def num_edge_colors(self) -> int:
        """The number of distinct edge colours (colours are canonical: ``0 .. k-1``)."""
        return int(self.edge_colors.max()) + 1 if self.edge_colors.size else 0

    # -- products and restriction ------------------------------------------------------------
    def product(self, other: Pattern) -> Pattern:
        """The product pattern for ``G x H`` on nodes ``(a, i)`` numbered ``a * m + i`` (Eq. 13-14).

        The colour of ``((a, i), (b, j))`` is the pair ``(alpha_1(a, b), alpha_2(i, j))``,
        renumbered canonically.

        >>> cells = pattern("P-1", (2, 2))
        >>> both = cells.product(symmetric_pattern(2))
        >>> both.num_nodes, both.num_edge_colors == cells.num_edge_colors * 2
        (8, True)
        """
        if not isinstance(other, Pattern):
            raise CrystalGroupsTypeError(f"expected a Pattern to take the product with, got {type(other).__name__}")
        n, m = self.num_nodes, other.num_nodes
        check_dense_size((n * m) ** 2, "the product's colour matrix", f"{n * m:,} x {n * m:,} nodes")
        k1, k2 = self.num_edge_colors, other.num_edge_colors
        # Canonical numbering without sorting the (nm)^2 entries: the first occurrence (row-major in
        # (a, i, b, j)) of the colour pair (c1, c2) is at (row1[c1], row2[c2], col1[c1], col2[c2]),
        # where (row, col) is the first occurrence of each factor's colour.
        r1, c1 = _first_occurrence(self.edge_colors, k1)
        r2, c2 = _first_occurrence(other.edge_colors, k2)
        R1, R2 = np.meshgrid(np.arange(k1), np.arange(k2), indexing="ij")
        keys = np.lexsort((c2[R2].ravel(), c1[R1].ravel(), r2[R2].ravel(), r1[R1].ravel()))
        table = np.empty(k1 * k2, dtype=np.int64)
        table[keys] = np.arange(k1 * k2)
        table2 = table.reshape(k1, k2)
        edge = np.empty((n, m, n, m), dtype=np.int64)
        e2 = other.edge_colors[:, None, :]
        for a in range(n):  # one block row at a time: no (nm)^2 temporary
            np.take(table2, self.edge_colors[a][None, :, None] * k2 + e2, out=edge[a])
        node = self.node_colors[:, None] * other.num_node_colors + other.node_colors[None, :]
        meta = {"permutation_group_order": self.permutation_group_order * other.permutation_group_order}
        return Pattern._make(
            _orbits.canonical_labels(node.reshape(n * m)),
            edge.reshape(n * m, n * m),
            _orbits.product_generators(self.generators, other.generators),
            f"{_paren(self.group_name)} x {_paren(other.group_name)}",
            self.group_order * other.group_order,
            meta,
        )

    def restrict(self, edge_index) -> SparsePattern:
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
            raise CrystalGroupsError(
                f"expected node indices in 0..{self.num_nodes - 1}, got {edges.min()}..{edges.max()}")
        full = self.edge_colors[edges[0], edges[1]]
        kept, compact = np.unique(full, return_inverse=True)
        return SparsePattern(_ro(edges), _ro(compact.reshape(-1)), _ro(kept), self)

    # -- checks ------------------------------------------------------------------------------
    def check(self) -> EquivarianceReport:
        """Check both directions of Eq. 11-12 exactly against this pattern's generators."""
        return check_equivariance_condition(self)

    def with_node_colors(self, node_colors) -> Pattern:
        """The pattern for the subgroup that also preserves the given node colours (several atom kinds).

        The group becomes the stabiliser of the colouring only when every generator preserves
        it; otherwise an error says which generator does not (choose generators of the subgroup
        and use :func:`pattern_from_group`).
        """
        beta = _as_colours(node_colors, "node colours", 1)
        if beta.shape != self.node_colors.shape:
            raise CrystalGroupsError(f"expected {self.num_nodes} node colours, got {beta.shape[0]}")
        for k, g in enumerate(self.generators):
            if not np.array_equal(beta[g], beta):
                raise CrystalGroupsError(
                    f"expected node colours preserved by the group, got colours that generator {k} changes"
                )
        joint = _orbits.canonical_labels(self.node_colors * (int(beta.max()) + 1) + beta)
        return Pattern._make(
            joint, self.edge_colors, self.generators, self.group_name, self.group_order, dict(self.metadata)
        )

    @functools.cached_property
    def automorphisms_exceed_group(self) -> bool | None:
        """Whether the colouring is invariant under permutations outside the group.

        Exact bounded search for colour-preserving permutations (individualisation and
        refinement). ``None`` when the search budget runs out before it can decide.
        """
        return _automorphisms_exceed(self)

    # -- pictures and export -----------------------------------------------------------------
    def plot(self, kind: str = "matrix", ax=None, **kwargs):
        """Draw the pattern: ``kind="matrix"`` (like the paper's Figures 7-8), ``"graph"`` or ``"summary"`` (large)."""
        from . import plot as _plot

        draw = {
            "matrix": _plot.plot_pattern_matrix,
            "graph": _plot.plot_pattern_graph,
            "summary": _plot.plot_pattern_summary,
        }
        return draw[_plot._check_kind(kind)](self, ax=ax, **kwargs)

    def save(self, path, kind: str = "matrix", **kwargs) -> None:
        """Save the picture to ``path`` (PNG, SVG or PDF, from the suffix)."""
        from . import plot as _plot

        _plot.save_pattern(self, path, kind=kind, **kwargs)

    def _repr_png_(self) -> bytes:
        """What Jupyter shows: the coloured matrix, or for a large pattern a summary (see :func:`plot.pattern_png`)."""
        from . import plot as _plot

        return _plot.pattern_png(self)

    def to_networkx(self):
        """The complete coloured digraph: node attribute ``color``, edge attribute ``color``."""
        import networkx as nx

        check_dense_size(
            self.num_nodes**2,
            "a networkx graph with an edge per ordered pair",
            f"{self.num_nodes:,} nodes",
            limit=4_000_000,
        )

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
            **self.metadata,
            "group_order": self.group_order,
            "permutation_group_order": self.permutation_group_order,
            "num_nodes": self.num_nodes,
            "num_node_colors": self.num_node_colors,
            "num_edge_colors": self.num_edge_colors,
            "node_colors": self.node_colors.tolist(),
            "edge_colors": self.edge_colors.tolist(),
        }


def _first_occurrence(labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the first occurrence (row-major) of each canonical label ``0 .. k-1``."""
    flat = labels.reshape(-1)
    first = np.full(k, flat.size, dtype=np.int64)
    # Canonical labels first occur in increasing order; scan rows until every label has been seen.
    n = labels.shape[1]
    seen = 0
    for r in range(labels.shape[0]):
        row = labels[r]
        new = np.unique(row[row >= seen]) if seen < k else ()
        for c in new:
            if first[c] == flat.size:
                first[c] = r * n + int(np.argmax(row == c))
        while seen < k and first[seen] < flat.size:
            seen += 1
        if seen == k:
            break
    return np.divmod(first, n)


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

    def check(self) -> EquivarianceReport:
        """Check the restriction exactly: each edge has its parent colour, and where a generator maps the
        edge set onto itself, it maps every edge to an edge of the same colour.

        >>> from crystalgroups.examples import graphene_pattern
        >>> graphene_pattern()[1].check().ok
        True
        """
        bad: list[str] = []
        src, dst = self.edge_index
        parent = self.parent.edge_colors[src, dst]
        if not np.array_equal(self.kept_colors[self.edge_colors], parent):
            k = int(np.flatnonzero(self.kept_colors[self.edge_colors] != parent)[0])
            bad.append(
                f"edge {k} {(int(src[k]), int(dst[k]))} has colour {int(self.edge_colors[k])}, which is not "
                f"its parent colour {int(parent[k])}"
            )
        n = self.parent.num_nodes
        codes = src * n + dst
        order = np.argsort(codes)
        for g_index, g in enumerate(self.parent.generators):
            moved = g[src] * n + g[dst]
            pos = np.searchsorted(codes[order], moved)
            inside = (pos < len(codes)) & (codes[order][np.minimum(pos, len(codes) - 1)] == moved)
            if not inside.all():
                continue  # the edge set is not invariant under this generator: nothing to compare
            image_colour = self.edge_colors[order[pos]]
            if not np.array_equal(image_colour, self.edge_colors):
                k = int(np.flatnonzero(image_colour != self.edge_colors)[0])
                bad.append(
                    f"generator {g_index} maps edge {(int(src[k]), int(dst[k]))} of colour "
                    f"{int(self.edge_colors[k])} to an edge of colour {int(image_colour[k])}"
                )
        return EquivarianceReport(tuple(bad), ())

    def plot(self, ax=None, **kwargs):
        """Draw the parent pattern's graph on these edges only (paper Example 6.1)."""
        from . import plot as _plot

        return _plot.plot_pattern_graph(self, ax=ax, **kwargs)


# -- factories -------------------------------------------------------------------------------


def symmetric_pattern(n: int, name: str | None = None) -> Pattern:
    """The pattern of the symmetric group ``S_n``: diagonal and off-diagonal colours.

    >>> symmetric_pattern(3).edge_colors.tolist()
    [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    """
    group = symmetric_group(n, name=name)
    check_dense_size(n * n, "the colour matrix of the symmetric group", f"{n:,} x {n:,} points")
    edge = np.where(np.eye(n, dtype=bool), 0, 1)
    order = math.factorial(n)
    return Pattern._make(
        np.zeros(n, dtype=np.int64), edge, group.generators, group.name, order, {"permutation_group_order": order}
    )


def pattern_from_group(group, name: str | None = None) -> Pattern:
    """The pattern of any :class:`PermutationGroup` or :class:`LatticeGroup` (orbits on nodes and pairs).

    >>> pattern_from_group(LatticeGroup("cF", (2, 2, 2))).group_order   # elements, as in to_dict() and the CLI
    384
    """
    if isinstance(group, LatticeGroup):
        n = group.supercell.num_cells
        check_dense_size(n * n, "the cells x cells colour matrix", f"{n:,} x {n:,} cells")
        return Pattern._make(
            group.node_orbits(),
            group.pair_orbits(),
            group.generators,
            name or f"{group.point_group.name or 'G'} on {_supercell_label(group.supercell)}",
            group.order,
            {"permutation_group_order": group.permutation_group_order, "translation_invariant": True},
        )
    if isinstance(group, PermutationGroup):
        n = group.degree
        check_dense_size(n * n, "the colour matrix", f"{n:,} x {n:,} points")
        return Pattern._make(
            group.node_orbits(),
            group.pair_orbits(),
            group.generators,
            name or group.name or "G",
            group.order,
            {"permutation_group_order": group.order},
        )
    raise CrystalGroupsTypeError(f"expected a LatticeGroup or PermutationGroup, got {type(group).__name__}")


def _paren(name: str) -> str:
    return f"({name})" if " " in name else name


def _supercell_label(sc: Supercell) -> str:
    return " x ".join(map(str, sc.sizes)) if sc.is_diagonal else f"columns {sc.matrix.tolist()}"


#: The largest supercell :func:`pattern` accepts (its colour matrix has ``MAX_CELLS**2`` entries, 512 MB).
MAX_CELLS = math.isqrt(MAX_DENSE_ENTRIES)
#: With ``warn=None`` (the default), :func:`pattern` looks for excess symmetry only up to this many cells.
EXCESS_CHECK_MAX_CELLS = 64


def pattern(group, supercell=None, *, warn: bool | None = None) -> Pattern:
    """The parameter-sharing pattern of a group acting on the cells of a periodic supercell.

    Parameters
    ----------
    group
        A Bravais type (``"cF"``, ``"face-centered cubic"``, ``"Fm-3m"``, ...), ``"P-1"``,
        ``"P1"`` (translations only), ``"S"`` (the symmetric group on the cells), a
        :class:`BravaisType`, a :class:`PointGroup` written in the lattice basis, a lattice (a
        :class:`~crystalgroups.lattice.Lattice`, rows of lattice vectors, a pymatgen
        ``Lattice``/``Structure`` or an ASE ``Atoms``: its point group at the default tolerance),
        or a :class:`LatticeGroup` / :class:`PermutationGroup` (then ``supercell`` must be omitted).
    supercell
        Sizes ``(n1, n2[, n3])``, an integer matrix whose **columns** are the supercell vectors
        (use :meth:`Supercell.from_rows` for pymatgen/ASE row matrices), or a :class:`Supercell`;
        its size sets the dimension. Default ``(2, 2, 2)`` (``(2, 2)`` for a 2D point group).
    warn
        Whether to look for excess symmetry, emitting :class:`ExcessSymmetryWarning` when the
        colouring is invariant under more permutations than the group (the layer would then be
        equivariant to a larger group). ``None`` (default): only on supercells of at most
        :data:`EXCESS_CHECK_MAX_CELLS` cells, where the check is cheap and where such collapses
        happen; ``True``: always (a bounded search, slow on thousands of cells); ``False``: never.
        The answer is also available, lazily, as :attr:`Pattern.automorphisms_exceed_group`.

    >>> p = pattern("P-1", (2, 2, 2))
    >>> p.num_edge_colors, p.metadata["point_group_order"], p.group_order, p.permutation_group_order
    (8, 2, 16, 8)
    >>> pattern("P1", (3, 3)).num_edge_colors   # translations only: one colour per difference vector
    9
    """
    if isinstance(group, (LatticeGroup, PermutationGroup)):
        if supercell is not None:
            raise CrystalGroupsError(
                f"expected no supercell with a {type(group).__name__} (it has its own), got {supercell!r}"
            )
        p = pattern_from_group(group)
        _maybe_warn(p, warn)
        return p
    if supercell is None:
        dim = group.dim if isinstance(group, (PointGroup, BravaisType)) else 3
        if isinstance(group, str) and group.strip() in _BRAVAIS_2D:
            dim = 2
        supercell = (2,) * dim
    sc = _as_supercell(supercell)
    pg, label = resolve_point_group(group, sc.dim)
    n = sc.num_cells
    if n > MAX_CELLS:
        raise CrystalGroupsError(
            f"expected at most {MAX_CELLS:,} cells (the colour matrix has cells^2 entries), got {n:,} cells "
            f"({_supercell_label(sc)})"
        )
    meta = {"supercell": list(sc.sizes) if sc.is_diagonal else sc.matrix.tolist(), "dim": sc.dim}
    if pg is None:
        p = symmetric_pattern(n, name=f"S on {_supercell_label(sc)}")
        order = math.factorial(n)
        meta.update(
            bravais_type=None, point_group_order=math.factorial(n - 1), group_order=order, permutation_group_order=order
        )
        return Pattern._make(p.node_colors, p.edge_colors, p.generators, p.group_name, order, meta)
    lg = LatticeGroup(pg, sc)
    p = pattern_from_group(lg, name=f"{label} on {_supercell_label(sc)}")
    meta.update(
        bravais_type=label if label in _BRAVAIS_ALL else None,
        point_group_order=pg.order,
        group_order=lg.order,
        permutation_group_order=lg.permutation_group_order,
        translation_invariant=True,
    )
    p = Pattern._make(p.node_colors, p.edge_colors, p.generators, p.group_name, lg.order, meta)
    _maybe_warn(p, warn)
    return p


def _maybe_warn(p: Pattern, warn: bool | None) -> None:
    if warn is None:
        warn = p.num_nodes <= EXCESS_CHECK_MAX_CELLS
    if warn is not True and warn is not False:
        raise CrystalGroupsTypeError(f"expected warn as True, False or None, got {warn!r}")
    if warn and p.permutation_group_order < math.factorial(p.num_nodes) and p.automorphisms_exceed_group:
        warnings.warn(
            f"the pattern of {p.group_name} is invariant under more permutations than the group's "
            f"{p.permutation_group_order}: a layer built on it is equivariant to a larger group (use a larger "
            "supercell to tell them apart)",
            ExcessSymmetryWarning,
            stacklevel=3,
        )


def _bravais_names(dim=None) -> frozenset:
    from .bravais import bravais_types

    return frozenset(t.symbol for t in bravais_types(dim))


_BRAVAIS_2D = _bravais_names(2)
_BRAVAIS_ALL = _bravais_names()


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
    if not isinstance(p, Pattern):
        raise CrystalGroupsTypeError(f"expected a Pattern, got {type(p).__name__}")
    if generators is None:
        gens = p.generators
    else:
        gens = np.array(generators, dtype=np.int64, ndmin=2)
        if gens.ndim != 2 or gens.shape[1] != p.num_nodes or len(_non_permutation_rows(gens)):
            raise CrystalGroupsError(
                f"expected generators that are permutations of the pattern's {p.num_nodes} "
                f"nodes, got an array of shape {gens.shape}"
            )
    alpha, beta = p.edge_colors, p.node_colors
    bad_inv: list[str] = []
    for k, g in enumerate(gens):
        moved = alpha[np.ix_(g, g)]
        if not np.array_equal(moved, alpha):
            i, j = (int(v) for v in np.argwhere(moved != alpha)[0])
            bad_inv.append(
                f"generator {k} maps the pair {(i, j)} of colour {alpha[i, j]} to the pair "
                f"{(int(g[i]), int(g[j]))} of colour {alpha[g[i], g[j]]}"
            )
        if not np.array_equal(beta[g], beta):
            i = int(np.flatnonzero(beta[g] != beta)[0])
            bad_inv.append(
                f"generator {k} maps node {i} of colour {beta[i]} to node {int(g[i])} of colour {beta[g[i]]}"
            )
    bad_orbit: list[str] = []
    n = p.num_nodes
    flat = alpha.ravel()
    order = np.argsort(flat, kind="stable")
    starts = np.searchsorted(flat[order], np.arange(p.num_edge_colors + 1))
    for c in range(p.num_edge_colors):
        members = np.sort(order[starts[c] : starts[c + 1]])
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
    order = p.permutation_group_order
    limit = (order // n if transitive else order) + 1
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
