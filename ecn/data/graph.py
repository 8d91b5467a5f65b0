"""Crystal structures to periodic supercell graphs (paper Section 5 and Appendix A.1).

Nodes are ``(cell, atom)`` pairs of an ``n1 x n2 x n3`` supercell of the cell as given, numbered
``cell * num_sites + site`` with cells in the C order of :class:`crystalgroups.Supercell` (the
numbering of :mod:`crystalgroups` product patterns). Edges are found once on the unit cell
(:mod:`ecn.data.neighbors`) and translated to every cell; an edge that leaves the supercell is
wrapped to the representative node ("circular padding"), multi-edges are kept, and the length is
the true distance to the image.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

import crystalgroups
from crystalgroups import Supercell

from .neighbors import NeighborError, isayev_neighbors, radius_neighbors
from .structures import Crystal, reduced_lattice, to_crystal

__all__ = ["CrystalGraph", "crystal_graph", "GraphSettings", "GROUPS", "GAUGES", "GraphError", "tree_gauge",
           "reduced_basis", "tree_gauges"]

#: Groups whose colours a graph can carry: the paper's hierarchy (Eq. 6).
GROUPS = ("P-1", "G", "S", "S_N")

#: How the periodic image of each atom is chosen: by the bonds (:func:`tree_gauge`) or as the file wrote it.
GAUGES = ("tree", "as_given")


class GraphError(ValueError):
    """A structure whose graph cannot be built or is unusable (message says why)."""


def _canonical_supercell(spec):
    """Sizes ``(n1, n2, n3)`` as a tuple of ints, or a 3x3 integer matrix as a tuple of row tuples."""
    arr = np.asarray(spec, dtype=object)
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)
    if arr.ndim == 1 and len(arr) == 3 and all(is_int(n) and n >= 1 for n in arr):
        return tuple(int(n) for n in arr)
    if arr.ndim == 1 and len(arr) == 9 and all(is_int(n) for n in arr):
        arr = arr.reshape(3, 3)
    if arr.shape == (3, 3) and all(is_int(v) for v in arr.ravel()):
        matrix = tuple(tuple(int(v) for v in row) for row in arr)
        if round(np.linalg.det(np.array(matrix, dtype=float))) == 0:
            raise ValueError(f"expected a non-singular supercell matrix, got {[list(r) for r in matrix]}")
        sc = Supercell(np.array(matrix))
        return tuple(sc.sizes) if sc.is_diagonal and np.array_equal(sc.hnf, np.array(matrix)) else matrix
    raise ValueError(f"expected three positive integer supercell sizes or a 3x3 integer matrix, got {spec}")


@dataclass(frozen=True)
class GraphSettings:
    """Every setting that changes a graph (part of the cache key).

    ``supercell`` is three sizes ``(n1, n2, n3)`` or a non-singular 3x3 integer matrix whose
    columns are the supercell's vectors in the cell's basis (the :class:`crystalgroups.Supercell`
    convention).
    """

    supercell: tuple = (2, 2, 2)
    neighbors: str = "isayev"
    tol: float = 0.5
    cutoff: float | None = None  # default: 6 A for "isayev" (the paper), 8 A for "radius" (CGCNN)
    max_neighbors: int | None = 12
    primitive: bool = False
    gauge: str = "tree"  # which periodic image of each atom the graph uses: see tree_gauges; or "as_given"
    neighbor_tol: float = 1e-4  # A: near-degenerate faces ("isayev") and k-th neighbour ties ("radius"); 0: exact

    def __post_init__(self) -> None:
        object.__setattr__(self, "supercell", _canonical_supercell(self.supercell))
        if self.gauge not in GAUGES:
            raise ValueError(f"expected gauge among {GAUGES}, got {self.gauge!r}")
        if self.neighbors not in ("isayev", "radius"):
            raise ValueError(f"expected neighbors 'isayev' or 'radius', got {self.neighbors!r}")
        if self.cutoff is None:
            object.__setattr__(self, "cutoff", 6.0 if self.neighbors == "isayev" else 8.0)
        if not (self.cutoff > 0 and self.tol >= 0):
            raise ValueError(f"expected cutoff > 0 and tol >= 0, got cutoff={self.cutoff}, tol={self.tol}")


def _ro(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class CrystalGraph:
    """A periodic supercell graph, stored as its unit cell (its quotient) and a supercell.

    A graph holds the unit cell's atoms and bonds: bond ``k`` goes from site ``i`` to site ``j``
    at ``frac[j] + image`` (``unit_edge_index[:, k] = (i, j)``, ``unit_edge_image[k] = image``).
    The explicit supercell graph (nodes ``(cell, site)``, numbered ``cell * num_sites + site``
    with cells in :class:`crystalgroups.Supercell` order) follows by translation and is derived on
    first use: ``edge_index``, ``edge_length``, ``edge_vector``, ``atomic_number``, ``site_index``,
    ``cell_index``, ``cell_offset``, ``positions``. An ECN layer whose node inputs are the same in
    every cell computes the same features in every cell, so it can run on the unit cell alone
    with each bond coloured by the orbit of the cell pair ``(0, image mod supercell)``
    (:meth:`quotient_colors`; see ``docs/concepts.md``, "Quotient graphs").

    Shapes: ``C`` sites, ``E0`` unit-cell bonds, ``N = K C`` supercell nodes and ``E = K E0``
    supercell edges for ``K`` cells.

    Attributes
    ----------
    lattice : (3, 3) float64, the unit cell, one lattice vector (A) per row
    frac : (C, 3) float64, fractional coordinates as given
    numbers : (C,) int64, atomic numbers of the sites
    unit_edge_index : (2, E0) int64, sites ``(i, j)`` of each bond
    unit_edge_image : (E0, 3) int64, the image of ``j`` that ``i`` is bonded to
    unit_edge_length : (E0,) float64, A
    supercell : tuple
        three sizes, or a 3x3 matrix given by its rows (see :class:`GraphSettings`)
    edge_index : (2, E) int64, supercell nodes, row 0 source, row 1 target
    edge_length : (E,) float64, A
    edge_vector : (E, 3) float64, Cartesian displacement source -> target image, A
    atomic_number, site_index, cell_index : (N,) int64
    cell_offset : (N, 3) int64, the node's cell (its canonical centring vector in the cell's basis)
    positions : (N, 3) float64, Cartesian, A
    gauge_shifts : (T, C, 3) integers or None
        shifts of the sites to the other tied gauges, relative to the stored one (see :meth:`frames`)
    """

    lattice: np.ndarray
    frac: np.ndarray
    numbers: np.ndarray
    unit_edge_index: np.ndarray
    unit_edge_image: np.ndarray
    unit_edge_length: np.ndarray
    supercell: tuple = (2, 2, 2)
    id: str = ""
    targets: dict = field(default_factory=dict)
    gauge_shifts: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "supercell", _canonical_supercell(self.supercell))

    def __repr__(self) -> str:
        sc = "x".join(map(str, self.supercell)) if _is_sizes(self.supercell) else str([list(r) for r in self.supercell])
        return (f"CrystalGraph(id={self.id!r}, nodes={self.num_nodes}, edges={self.num_edges}, "
                f"sites={self.num_sites}, supercell={sc})")

    # -- sizes -------------------------------------------------------------------------------

    @functools.cached_property
    def sublattice(self) -> Supercell:
        """The supercell as a :class:`crystalgroups.Supercell`."""
        return _supercell_object(self.supercell)

    @property
    def num_cells(self) -> int:
        return self.sublattice.num_cells

    @property
    def num_sites(self) -> int:
        return len(self.numbers)

    @property
    def num_unit_edges(self) -> int:
        return self.unit_edge_index.shape[1]

    @property
    def num_nodes(self) -> int:
        return self.num_cells * self.num_sites

    @property
    def num_edges(self) -> int:
        return self.num_cells * self.num_unit_edges

    # -- gauges ------------------------------------------------------------------------------

    @functools.cached_property
    def _frames(self) -> tuple:
        """Shifts of the distinct gauges: those that give another image cell to some bond."""
        if self.gauge_shifts is None or len(self.gauge_shifts) <= 1:
            return (None,)
        i, j = self.unit_edge_index
        seen, out = set(), []
        for r in self.gauge_shifts:
            r = np.asarray(r, dtype=np.int64)
            key = self.sublattice.index(self.unit_edge_image + r[i] - r[j]).tobytes() if self.num_unit_edges else b""
            if key not in seen:
                seen.add(key)
                out.append(None if not r.any() else r)
        return tuple(out)

    @property
    def num_frames(self) -> int:
        """How many distinct gauges (tied minimum spanning trees, :func:`tree_gauges`) it has on its supercell."""
        return len(self._frames)

    def frame(self, t: int, W=None) -> CrystalGraph:
        """The graph in its ``t``-th gauge (``0``: as stored), with no other gauges attached; with
        ``W`` (an integer point operation of the lattice), the same crystal written in the basis
        that ``W`` maps the reduced one to (images ``n`` become ``W n``, see :meth:`frames`)."""
        r = self._frames[t]
        if r is None and self.gauge_shifts is None and W is None:
            return self
        if r is None:
            r = np.zeros((self.num_sites, 3), dtype=np.int64)
        i, j = self.unit_edge_index
        lattice, frac, image = self.lattice, self.frac + r, self.unit_edge_image + r[i] - r[j]
        if W is not None:  # the same crystal in another basis: coordinates W x, lattice rows W^-T L
            W = np.asarray(W, dtype=np.int64)
            lattice = np.rint(np.linalg.inv(W)).astype(np.int64).T @ lattice
            frac, image = frac @ W.T, image @ W.T
        out = CrystalGraph(lattice, _ro(frac), self.numbers, self.unit_edge_index, _ro(image),
                           self.unit_edge_length, self.supercell, self.id, dict(self.targets))
        if W is None:  # the same lattice: its point group is shared, not searched for again
            out.__dict__["_lattice_point_groups"] = self.__dict__.setdefault("_lattice_point_groups", {})
        return out

    def frame_choices(self, group: str | None = None, symprec: float = 1e-3, basis: bool = False) -> list:
        """``(t, W)`` for every graph of :meth:`frames` (``W`` ``None`` for the basis as reduced), in
        the same order: ``frame(t, W)`` builds one of them alone. Computed once per graph."""
        memo = self.__dict__.setdefault("_frame_choices", {})
        key = (group == "P-1" or basis, symprec)
        if key in memo:
            return memo[key]
        base = [(t, None) for t in range(self.num_frames)]
        ops = self.supercell_point_group(symprec).elements if key[0] else ()
        if len(ops) <= 2:  # the identity and the inversion, which P-1 contains
            memo[key] = base
            return base
        ops = np.asarray(ops, dtype=np.int64)
        i, j = self.unit_edge_index
        shifts = [np.zeros((self.num_sites, 3), np.int64) if r is None else r for r in self._frames]
        images = np.stack([self.unit_edge_image + r[i] - r[j] for r in shifts])  # (T, E, 3)
        moved = np.einsum("tek,wjk->twej", images, ops)  # (T, ops, E, 3): W n for every gauge and W
        cells = self.sublattice.index(moved.reshape(-1, 3)).reshape(len(shifts) * len(ops), -1)
        identity = np.eye(3, dtype=np.int64)
        out, seen = [], set()
        for k, row in enumerate(cells):
            code = row.tobytes()
            if code in seen:  # frames that give every bond the same image cell are kept once
                continue
            seen.add(code)
            t, w = divmod(k, len(ops))
            out.append((t, None if np.array_equal(ops[w], identity) else ops[w]))
        memo[key] = out
        return out

    def frames(self, group: str | None = None, symprec: float = 1e-3, basis: bool = False) -> list:
        """Every distinct gauge of the graph, as graphs (see :meth:`frame`).

        For ``group="P-1"`` also the graph written in every basis that the lattice's own symmetry
        makes as good as the reduced one (each operation ``W`` of :meth:`supercell_point_group`
        rewrites the images ``n`` as ``W n``): P-1 tells the lattice directions apart, and on a
        symmetric lattice nothing but the file's basis prefers one of those bases. ``basis=True`` does
        the same for any group (a model with the cell one-hot tells cells apart by label, whatever
        its group). Frames that give every bond the same image cell are kept once.
        """
        return [self.frame(t, W) for t, W in self.frame_choices(group, symprec, basis)]

    def with_supercell(self, supercell) -> CrystalGraph:
        """The same crystal and bonds in another supercell (nothing is recomputed but the derived arrays).

        >>> from ecn.data.structures import Crystal
        >>> crystal_graph(Crystal(np.eye(3) * 3.6, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17])).with_supercell((3, 3, 3))
        CrystalGraph(id='', nodes=54, edges=594, sites=2, supercell=3x3x3)
        """
        return CrystalGraph(
            self.lattice,
            self.frac,
            self.numbers,
            self.unit_edge_index,
            self.unit_edge_image,
            self.unit_edge_length,
            supercell,
            self.id,
            dict(self.targets),
            self.gauge_shifts,
        )

    # -- the unit cell -----------------------------------------------------------------------

    @functools.cached_property
    def unit_edge_vector(self) -> np.ndarray:
        """(E0, 3) Cartesian displacement of each bond, A."""
        i, j = self.unit_edge_index
        return _ro((self.frac[j] + self.unit_edge_image - self.frac[i]) @ self.lattice)

    @property
    def unit_same_site(self) -> np.ndarray:
        """Bonds between an atom and one of its own periodic images (the delta term of paper Eq. 26)."""
        return self.unit_edge_index[0] == self.unit_edge_index[1]

    @functools.cached_property
    def unit_image_cell(self) -> np.ndarray:
        """(E0,) the supercell cell that each bond's image falls in, seen from cell 0."""
        return _ro(self.sublattice.index(self.unit_edge_image) if self.num_unit_edges else np.zeros(0, np.int64))

    # -- the explicit supercell --------------------------------------------------------------

    @functools.cached_property
    def _explicit(self) -> dict:
        return _expand(self)

    edge_index = property(lambda self: self._explicit["edge_index"])
    edge_length = property(lambda self: self._explicit["edge_length"])
    edge_vector = property(lambda self: self._explicit["edge_vector"])
    atomic_number = property(lambda self: self._explicit["atomic_number"])
    site_index = property(lambda self: self._explicit["site_index"])
    cell_index = property(lambda self: self._explicit["cell_index"])
    cell_offset = property(lambda self: self._explicit["cell_offset"])
    positions = property(lambda self: self._explicit["positions"])

    @property
    def same_site(self) -> np.ndarray:
        """Edges between copies of the same atom of the unit cell (the delta term of paper Eq. 26)."""
        return np.tile(self.unit_same_site, self.num_cells)

    def is_connected(self) -> bool:
        """Whether the supercell graph is connected (undirected sense); nothing is kept in memory."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        src, dst = _supercell_edges(self)
        n = self.num_nodes
        adj = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
        return connected_components(adj, directed=True, connection="weak")[0] == 1

    # -- groups and colours ------------------------------------------------------------------

    def lattice_point_group(self, symprec: float = 1e-3) -> crystalgroups.PointGroup:
        """The exact point group of the structure's lattice, as integer matrices in the input cell's basis.

        Computed once per graph and shared with its gauges in the same basis (:meth:`frame`), so a
        training epoch that draws new gauges does not search for it again."""
        memo = self.__dict__.setdefault("_lattice_point_groups", {})
        if symprec not in memo:
            memo[symprec] = _point_group(self.lattice.tobytes(), float(symprec))
        return memo[symprec]

    def supercell_point_group(self, symprec: float = 1e-3) -> crystalgroups.PointGroup:
        """The operations of :meth:`lattice_point_group` that map the supercell onto itself.

        For an ``n x n x n`` supercell that is the whole point group; a supercell of another shape
        (``1 x 2 x 3``, or a matrix) keeps the subgroup that preserves it, which is the point group
        of the supercell-periodic crystal the model sees.
        """
        return _compatible_subgroup(self.lattice_point_group(symprec), self.supercell)

    def cell_pattern(self, group: str = "P-1", symprec: float = 1e-3) -> crystalgroups.Pattern:
        """The parameter-sharing pattern of ``group`` on the supercell's cells.

        ``"P-1"`` (inversion and translations), ``"G"`` (this lattice's own group G_Lambda,
        restricted to the operations the supercell allows), ``"S"`` (every permutation of the
        cells, S_Lambda).
        """
        if group == "G":
            return _pattern(self.supercell_point_group(symprec), self.supercell)
        if group in ("P-1", "S"):
            return _pattern(group, self.supercell)
        raise GraphError(f"expected a cell group among {GROUPS[:-1]}, got {group!r}")

    def edge_colors(self, group: str = "P-1", symprec: float = 1e-3) -> tuple[np.ndarray, int]:
        """Edge colours of the explicit supercell for ``group`` in ``("P-1", "G", "S", "S_N")`` and their number.

        For the cell groups the colour of edge ``(a, i) -> (b, j)`` is the pattern's colour of the
        cell pair ``(a, b)``; combine it with :attr:`same_site` for the product with ``S_C``. For
        ``"S_N"`` (all atoms of the supercell) an edge between two distinct nodes has colour 1 and
        a self-edge (an atom bonded to its own periodic image) colour 0. Every group here contains
        the supercell's translations, so the colour of ``(a, b)`` is that of ``(0, b - a)``: the
        supercell's colours are the unit cell's :meth:`quotient_colors` repeated in every cell.
        """
        colors, count = self.quotient_colors(group, symprec)
        return np.tile(colors, self.num_cells), count

    def quotient_colors(self, group: str = "P-1", symprec: float = 1e-3) -> tuple[np.ndarray, int]:
        """Colours of the unit-cell bonds for ``group``: the colour of the cell pair ``(0, image mod supercell)``.

        These are the colours of the explicit supercell's edges leaving cell 0, bond for bond;
        the count is the pattern's number of edge colours. ``"S_N"``: 0 for an atom bonded to its
        own image in the same supercell cell, 1 otherwise.

        >>> from ecn.data.structures import Crystal
        >>> g = crystal_graph(Crystal(np.eye(3) * 3.6, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17]))
        >>> colors, count = g.quotient_colors("S")
        >>> count, g.num_unit_edges, int((colors == 0).sum())   # S_Lambda: same cell or not
        (2, 22, 2)
        """
        if group not in GROUPS:
            raise GraphError(f"expected a group among {GROUPS}, got {group!r}")
        memo = self.__dict__.setdefault("_quotient_colors", {})  # "G" costs a point-group search
        if (group, symprec) not in memo:
            cell = self.unit_image_cell
            if group == "S_N":
                colors, count = ((cell != 0) | ~self.unit_same_site).astype(np.int64), 2
            else:
                p = self.cell_pattern(group, symprec)
                row = p.edge_colors[0]
                if group == "G":
                    row = self.geometric_rank(symprec)[row]
                colors, count = row[cell].astype(np.int64), p.num_edge_colors
            memo[group, symprec] = _ro(colors), count
        return memo[group, symprec]

    def geometric_rank(self, symprec: float = 1e-3) -> np.ndarray:
        """For ``"G"``: the rank of each of the pattern's colours when ordered by geometry.

        Colours of the structure's own lattice group are numbered canonically *in its own
        basis*, which differs between structures. To give one vocabulary across a dataset, each
        orbit of cell pairs ``(a, b)`` is ranked by the length of the shortest lattice vector in
        the class ``(b - a) + M Z^3`` (then by orbit size, then by canonical number): colour 0 is
        always ``a = b``, colour 1 the shortest difference class, and so on. Lengths are invariant
        under any change of basis, so "the k-th shortest difference class" means the same for
        every structure. The ranking is a renumbering of the orbits: the colour classes, and
        so the equivariance, are exactly those of the pattern.
        """
        shared = self.__dict__.setdefault("_lattice_point_groups", {})  # shared with the gauges (same lattice)
        if ("rank", symprec) in shared:
            return shared["rank", symprec]
        p = self.cell_pattern("G", symprec)
        row = p.edge_colors[0]  # pair (0, b): difference class b
        lengths = _shortest_in_classes(self.lattice, self.sublattice)
        keys = []
        for color in range(p.num_edge_colors):
            members = np.flatnonzero(row == color)
            keys.append((round(float(lengths[members].min()), 6), len(members), color))
        rank = np.empty(p.num_edge_colors, dtype=np.int64)
        rank[[k[2] for k in sorted(keys)]] = np.arange(p.num_edge_colors)
        shared["rank", symprec] = _ro(rank)
        return shared["rank", symprec]


def _is_sizes(supercell) -> bool:
    return all(isinstance(n, int) for n in supercell)


@functools.lru_cache(maxsize=256)
def _supercell_object(supercell) -> Supercell:
    if _is_sizes(supercell):
        return Supercell.diagonal(*supercell)
    return Supercell(np.array(supercell, dtype=np.int64))


def _supercell_edges(g: CrystalGraph) -> tuple[np.ndarray, np.ndarray]:
    sc = g.sublattice
    cells = sc.cells
    K, C, E = len(cells), g.num_sites, g.num_unit_edges
    i, j = g.unit_edge_index
    src_cell = np.repeat(np.arange(K), E)
    dst_cell = (
        sc.index((cells[:, None, :] + g.unit_edge_image[None, :, :]).reshape(-1, 3)) if K * E else np.zeros(0, np.int64)
    )
    return src_cell * C + np.tile(i, K), dst_cell * C + np.tile(j, K)


def _expand(g: CrystalGraph) -> dict:
    """The explicit supercell arrays of a graph (see :class:`CrystalGraph`)."""
    src, dst = _supercell_edges(g)
    K, C = g.num_cells, g.num_sites
    node = np.arange(K * C)
    cell_index, site_index = np.divmod(node, C)
    cell_offset = g.sublattice.cells[cell_index]
    out = {
        "edge_index": np.stack([src, dst]).astype(np.int64),
        "edge_length": np.tile(g.unit_edge_length, K),
        "edge_vector": np.tile(g.unit_edge_vector, (K, 1)),
        "atomic_number": g.numbers[site_index],
        "site_index": site_index,
        "cell_index": cell_index,
        "cell_offset": np.array(cell_offset),
        "positions": (g.frac[site_index] + cell_offset) @ g.lattice,
    }
    return {k: _ro(v) for k, v in out.items()}


@functools.lru_cache(maxsize=4096)
def _compatible_subgroup_cached(group, supercell):
    sc = _supercell_object(supercell)
    keep = [W for W in group.elements if sc.is_compatible(W)]
    if len(keep) == group.order:
        return group
    return crystalgroups.PointGroup.from_elements(keep)


def _compatible_subgroup(group, supercell):
    return _compatible_subgroup_cached(group, supercell)


def _shortest_in_classes(lattice: np.ndarray, sc: Supercell) -> np.ndarray:
    """For each cell ``c`` of a supercell, the length of the shortest vector in ``c + M Z^3``.

    Each class representative is first brought close to the origin by subtracting the nearest
    vector of the Niggli-reduced sublattice; a box of reduced sublattice vectors around it then
    holds the class's shortest member, whatever basis the structure came in.
    """
    sub, _ = crystalgroups.Lattice(sc.matrix.T @ lattice).reduced()  # sublattice vectors as rows
    S = sub.basis
    v = sc.cells @ lattice
    v = v - np.rint(v @ np.linalg.inv(S)) @ S
    box = np.stack(np.meshgrid(*[np.arange(-2, 3)] * 3, indexing="ij"), -1).reshape(-1, 3)
    vectors = v[:, None, :] + (box @ S)[None, :, :]
    return np.linalg.norm(vectors, axis=2).min(axis=1)


@functools.lru_cache(maxsize=4096)
def _point_group(lattice_bytes: bytes, symprec: float):
    lattice = np.frombuffer(lattice_bytes, dtype=np.float64).reshape(3, 3)
    return crystalgroups.Lattice(lattice).point_group(symprec)


@functools.lru_cache(maxsize=256)
def _pattern(group, supercell):
    return crystalgroups.pattern(group, supercell, warn=False)


def unit_cell_edges(crystal: Crystal, settings: GraphSettings):
    """The unit-cell edge list for the settings' neighbour rule."""
    if settings.neighbors == "isayev":
        return isayev_neighbors(
            crystal.lattice,
            crystal.frac,
            crystal.numbers,
            tol=settings.tol,
            cutoff=settings.cutoff,
            neighbor_tol=settings.neighbor_tol,
        )
    return radius_neighbors(
        crystal.lattice,
        crystal.frac,
        crystal.numbers,
        cutoff=settings.cutoff,
        max_neighbors=settings.max_neighbors,
        neighbor_tol=settings.neighbor_tol,
    )


def crystal_graph(
    structure,
    supercell=(2, 2, 2),
    neighbors: str = "isayev",
    *,
    tol: float = 0.5,
    cutoff: float | None = None,
    max_neighbors: int | None = 12,
    primitive: bool = False,
    id: str = "",
    targets: dict | None = None,
    settings: GraphSettings | None = None,
    gauge: str = "tree",
    neighbor_tol: float = 1e-4,
    min_distance: float = 0.5,
    require_connected: bool = False,
) -> CrystalGraph:
    """The periodic supercell graph of a structure (pymatgen ``Structure``, ASE ``Atoms`` or :class:`Crystal`).

    Parameters
    ----------
    supercell
        ``(n1, n2, n3)`` or a 3x3 integer matrix (columns: the supercell vectors in the cell's
        basis); ``(1, 1, 1)`` gives the unit-cell graph of a plain MPNN.
    neighbors
        ``"isayev"``: the paper's rule (shared Voronoi face and ``d <= r_cov(i) + r_cov(j) + tol``,
        6 A cutoff); ``"radius"``: every atom within ``cutoff`` (default 8 A), at most
        ``max_neighbors`` nearest (the CGCNN / MEGNet graphs).
    primitive
        Reduce to the primitive cell first (pymatgen's ``get_primitive_structure``).
    min_distance
        Atoms closer than this (A) are an error: overlapping atoms, usually a broken file.
    require_connected
        Raise for a graph that does not connect every atom (a graph without any edge always raises).
    gauge
        ``"tree"`` (default): the crystal in its reduced basis (for ``n x n x n`` supercells,
        :func:`reduced_basis`) and each atom at the periodic image that puts the bonds of a minimum
        spanning tree inside one cell (:func:`tree_gauge`), so that the colours, and an ECN
        model's prediction, do not depend on how the file chose basis, origin, images and wrapping;
        ``"as_given"``: the images as written (what versions up to 0.1 did).

    Examples
    --------
    >>> from ecn.data.structures import Crystal
    >>> g = crystal_graph(Crystal(np.eye(3) * 3.6, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17]))
    >>> g
    CrystalGraph(id='', nodes=16, edges=176, sites=2, supercell=2x2x2)
    >>> g.edge_colors("P-1")[1], g.edge_colors("S")[1]
    (8, 2)
    """
    if settings is None:
        settings = GraphSettings(
            supercell=supercell,
            neighbors=neighbors,
            tol=tol,
            cutoff=cutoff,
            max_neighbors=max_neighbors,
            primitive=primitive,
            gauge=gauge,
            neighbor_tol=neighbor_tol,
        )
    crystal = to_crystal(structure, id=id)
    if settings.primitive:
        from .structures import primitive_crystal

        crystal = primitive_crystal(crystal)
    crystal = reduced_basis(crystal, settings)
    closest = crystal.min_distance()
    if closest < min_distance:
        raise GraphError(
            f"expected atoms at least {min_distance} A apart, got two {closest:.3f} A apart (overlapping atoms)"
        )
    try:
        edges = unit_cell_edges(crystal, settings)
    except NeighborError as exc:
        raise GraphError(str(exc)) from exc
    if len(edges) == 0:
        raise GraphError(
            f"expected bonds between the atoms, got none with the {settings.neighbors!r} rule "
            f"(cutoff {settings.cutoff} A): the atoms are too far apart"
        )
    graph = expand_to_supercell(
        crystal, edges, settings.supercell, id=id or crystal.id, targets=targets, gauge=settings.gauge
    )
    if require_connected and not graph.is_connected():
        raise GraphError("expected a connected graph, got one whose bonds do not connect every atom of the supercell")
    return graph


def reduced_basis(crystal: Crystal, settings: GraphSettings) -> Crystal:
    """The crystal in its Niggli-reduced basis when ``settings.gauge == "tree"`` and the supercell is ``n x n x n``.

    An ``n x n x n`` supercell is the same sublattice ``n L`` in every basis, so writing the crystal
    in the reduced basis changes nothing but the numbering of cells, and makes that numbering (and
    with it ECN-P-1's colours) the same for every basis a file may use, up to the lattice's own
    symmetry (bases it maps onto each other reduce alike only up to that symmetry). Other
    supercells are given in the file's basis, so the crystal is left as it is.
    """
    sizes = settings.supercell
    if settings.gauge != "tree" or not _is_sizes(sizes) or len(set(sizes)) != 1:
        return crystal
    _, T = reduced_lattice(crystal.lattice)
    if np.array_equal(T, np.eye(3, dtype=T.dtype)):
        return crystal
    T_inv = np.rint(np.linalg.inv(T)).astype(np.int64)
    return Crystal(
        T @ crystal.lattice, crystal.frac @ T_inv, crystal.numbers, id=crystal.id, properties=dict(crystal.properties)
    )


def _length_classes(distance: np.ndarray, tol: float) -> np.ndarray:
    """Class number of each length: sorted lengths closer than ``tol`` to the previous one share a class."""
    order = np.argsort(distance, kind="stable")
    gaps = np.diff(distance[order]) > tol
    classes = np.empty(len(distance), dtype=np.int64)
    classes[order] = np.concatenate([[0], np.cumsum(gaps)]) if len(distance) else []
    return classes


def _forests(edges: list, find, limit: int) -> list:
    """Every maximal spanning forest (as lists of edge numbers) of the multigraph ``edges`` =
    ``[(k, a, b), ...]`` over the components ``find`` gives, at most ``limit`` of them."""
    comp = {}
    for _, a, b in edges:
        comp.setdefault(find(a), find(a))
        comp.setdefault(find(b), find(b))
    nodes = sorted(comp)
    index = {c: n for n, c in enumerate(nodes)}
    usable = [(k, index[find(a)], index[find(b)]) for k, a, b in edges if find(a) != find(b)]
    # how many edges a maximal forest has: the rank of the contracted multigraph
    parent = list(range(len(nodes)))

    def root(x, p):
        while p[x] != x:
            x = p[x]
        return x

    rank = 0
    for _, a, b in usable:
        ra, rb = root(a, parent), root(b, parent)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
            rank += 1
    out: list = []

    def grow(start, chosen, p):
        if len(out) >= limit:
            return
        if len(chosen) == rank:
            out.append(list(chosen))
            return
        for n in range(start, len(usable)):
            if len(usable) - n < rank - len(chosen):
                return
            k, a, b = usable[n]
            ra, rb = root(a, p), root(b, p)
            if ra != rb:
                q = list(p)
                q[max(ra, rb)] = min(ra, rb)
                chosen.append(k)
                grow(n + 1, chosen, q)
                chosen.pop()

    grow(0, [], list(range(len(nodes))))
    return out


def tree_gauges(num_sites: int, src, dst, image, distance, tol: float = 1e-4, limit: int = 128):
    """Site shifts that put each minimum spanning tree's bonds inside one cell: ``(T, C, 3)``, and the count.

    A file chooses one periodic image of each atom (its origin, its basis and how it wraps
    coordinates); writing atom ``j`` at ``frac[j] + g_j`` instead changes each bond's image
    ``n`` to ``n + g_i - g_j`` and, with it, which cell of the supercell the bond ends in, and so
    the ECN colours: the same crystal written two ways would get two predictions. The bonds
    themselves fix the choice: take a minimum spanning forest of the bond graph between distinct
    atoms and shift the atoms so that every tree bond joins two atoms of the same cell (``n = 0``).
    Only the bonds that close a cycle keep an image, and those are the gauge-invariant content
    (the sum of the images around a cycle does not depend on how the atoms were written). Bonds of
    an atom to its own images are unchanged, and so are all lengths and vectors: the crystal and its
    supercell graph are the same, only the labelling of cells changes.

    Lengths within ``tol`` (A) of each other tie, and in a symmetric crystal many trees tie; no
    rule can prefer one of them without looking at how the file was written, so all of them are
    returned (at most ``limit``; the second value is how many there are in all when that is at most
    ``limit``, else a number above ``limit``, a lower bound), each with the
    shifts of its atoms (the first site of each connected component stays). A prediction
    averaged over them depends on the crystal alone (see ``docs/concepts.md``, "Gauge").

    >>> # two atoms bonded across the cell boundary: the shift brings atom 1 next to atom 0
    >>> shifts, count = tree_gauges(2, [0, 1], [1, 0], [[-1, 0, 0], [1, 0, 0]], [1.0, 1.0])
    >>> shifts[0].tolist(), count
    ([[0, 0, 0], [-1, 0, 0]], 1)
    """
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    image = np.asarray(image, dtype=np.int64).reshape(-1, 3)
    distance = np.asarray(distance, dtype=float)
    keep = np.flatnonzero((src < dst) | ((src > dst) & ~_has_reverse(src, dst, image)))
    classes = _length_classes(distance[keep], tol)
    parent = list(range(num_sites))

    def find(a):
        while parent[a] != a:
            a = parent[a]
        return a

    per_class = []  # for each length class, every maximal forest it contributes (at most limit)
    count = 1
    for c in range(int(classes.max()) + 1 if len(keep) else 0):
        members = keep[classes == c]
        edges = [(int(k), int(src[k]), int(dst[k])) for k in members]
        forests = _forests(edges, find, limit + 1)  # one more than kept: whether there are more than limit
        if not forests[0]:
            continue  # the class joins nothing new: its one forest is empty
        count *= len(forests)  # exact, or above limit (a lower bound) once some class has more than limit
        forests = forests[:limit]
        per_class.append(forests)
        for k in forests[0]:  # every forest joins the same components
            ra, rb = find(int(src[k])), find(int(dst[k]))
            parent[max(ra, rb)] = min(ra, rb)
    trees = [[]]
    for forests in per_class:
        trees = [t + f for t in trees for f in forests][:limit]
    shifts = np.stack([_tree_shifts(num_sites, src, dst, image, t) for t in trees])
    return shifts, count


def _has_reverse(src, dst, image) -> np.ndarray:
    """For each bond, whether the reverse bond (dst -> src, -image) is listed too."""
    listed = {(int(a), int(b), *map(int, n)) for a, b, n in zip(src, dst, image)}
    return np.array([(int(b), int(a), *map(int, -n)) in listed for a, b, n in zip(src, dst, image)], dtype=bool)


def _tree_shifts(num_sites: int, src, dst, image, tree) -> np.ndarray:
    adjacent = [[] for _ in range(num_sites)]
    for k in tree:
        i, j = int(src[k]), int(dst[k])
        adjacent[i].append((j, image[k]))
        adjacent[j].append((i, -image[k]))
    shift = np.zeros((num_sites, 3), dtype=np.int64)
    seen = np.zeros(num_sites, dtype=bool)
    for root in range(num_sites):  # every component from its smallest site
        if seen[root]:
            continue
        seen[root] = True
        stack = [root]
        while stack:
            i = stack.pop()
            for j, n in adjacent[i]:
                if not seen[j]:
                    seen[j] = True
                    shift[j] = shift[i] + n  # then n + g_i - g_j = 0
                    stack.append(j)
    return shift


def tree_gauge(num_sites: int, src, dst, image, distance, tol: float = 1e-4) -> np.ndarray:
    """The shifts of the first tree of :func:`tree_gauges` (``(C, 3)`` integers).

    >>> tree_gauge(2, [0, 1], [1, 0], [[-1, 0, 0], [1, 0, 0]], [1.0, 1.0]).tolist()
    [[0, 0, 0], [-1, 0, 0]]
    """
    return tree_gauges(num_sites, src, dst, image, distance, tol, limit=1)[0][0]


def expand_to_supercell(
    crystal: Crystal, edges, supercell, id: str = "", targets: dict | None = None, gauge: str = "as_given"
) -> CrystalGraph:
    """The graph of a crystal's unit-cell edges in a supercell (the explicit arrays follow on use).

    ``gauge="tree"`` first rewrites each atom at the periodic image of the first tree of
    :func:`tree_gauges`, and keeps the other tied trees' shifts (:meth:`CrystalGraph.frames`).
    """
    frac = np.array(crystal.frac, dtype=float)
    image = np.asarray(edges.image, dtype=np.int64).reshape(-1, 3)
    src, dst = np.asarray(edges.src, dtype=np.int64), np.asarray(edges.dst, dtype=np.int64)
    relative = None
    if gauge == "tree":
        shifts, _ = tree_gauges(len(frac), src, dst, image, edges.distance)
        shift = shifts[0]
        frac = frac + shift
        image = image + shift[src] - shift[dst]
        if len(shifts) > 1:
            relative = _ro((shifts - shift).astype(np.int16))
    elif gauge != "as_given":
        raise ValueError(f"expected gauge among {GAUGES}, got {gauge!r}")
    return CrystalGraph(
        lattice=_ro(np.array(crystal.lattice, dtype=float)),
        frac=_ro(frac),
        numbers=_ro(np.array(crystal.numbers, dtype=np.int64)),
        unit_edge_index=_ro(np.stack([src, dst]).reshape(2, -1)),
        unit_edge_image=_ro(image),
        unit_edge_length=_ro(np.asarray(edges.distance, dtype=float)),
        supercell=supercell,
        id=id,
        targets=dict(targets or {}),
        gauge_shifts=relative,
    )
