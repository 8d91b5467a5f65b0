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
from .structures import Crystal, to_crystal

__all__ = ["CrystalGraph", "crystal_graph", "GraphSettings", "GROUPS", "GraphError"]

#: Groups whose colours a graph can carry: the paper's hierarchy (Eq. 6).
GROUPS = ("P-1", "G", "S", "S_N")


class GraphError(ValueError):
    """A structure whose graph cannot be built or is unusable (message says why)."""


@dataclass(frozen=True)
class GraphSettings:
    """Every setting that changes a graph (part of the cache key)."""

    supercell: tuple[int, int, int] = (2, 2, 2)
    neighbors: str = "isayev"
    tol: float = 0.5
    cutoff: float | None = None  # default: 6 A for "isayev" (the paper), 8 A for "radius" (CGCNN)
    max_neighbors: int | None = 12
    primitive: bool = False

    def __post_init__(self) -> None:
        sizes = tuple(self.supercell)
        if len(sizes) != 3 or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1
                                      for n in sizes):
            raise ValueError(f"expected three positive integer supercell sizes, got {self.supercell}")
        object.__setattr__(self, "supercell", tuple(int(n) for n in sizes))
        if self.neighbors not in ("isayev", "radius"):
            raise ValueError(f"expected neighbors 'isayev' or 'radius', got {self.neighbors!r}")
        if self.cutoff is None:
            object.__setattr__(self, "cutoff", 6.0 if self.neighbors == "isayev" else 8.0)
        if not (self.cutoff > 0 and self.tol >= 0):
            raise ValueError(f"expected cutoff > 0 and tol >= 0, got cutoff={self.cutoff}, tol={self.tol}")


@dataclass(frozen=True, eq=False)
class CrystalGraph:
    """A periodic supercell graph (numpy arrays; :func:`ecn.data.batch.collate` makes tensors).

    Shapes: ``N`` nodes, ``E`` directed edges, ``C`` sites in the unit cell.

    Attributes
    ----------
    edge_index : (2, E) int64, row 0 source, row 1 target
    edge_length : (E,) float64, A
    edge_vector : (E, 3) float64, Cartesian displacement source -> target image, A
    atomic_number, site_index, cell_index : (N,) int64
    cell_offset : (N, 3) int64, the node's cell in the input cell's basis, components ``0..n-1``
    positions : (N, 3) float64, Cartesian, A
    lattice : (3, 3) float64, the unit cell (rows)
    supercell : (3,) sizes
    """

    edge_index: np.ndarray
    edge_length: np.ndarray
    edge_vector: np.ndarray
    atomic_number: np.ndarray
    site_index: np.ndarray
    cell_index: np.ndarray
    cell_offset: np.ndarray
    positions: np.ndarray
    lattice: np.ndarray
    supercell: tuple[int, int, int]
    id: str = ""
    targets: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"CrystalGraph(id={self.id!r}, nodes={self.num_nodes}, edges={self.num_edges}, "
                f"sites={self.num_sites}, supercell={'x'.join(map(str, self.supercell))})")

    @property
    def num_nodes(self) -> int:
        return len(self.atomic_number)

    @property
    def num_edges(self) -> int:
        return self.edge_index.shape[1]

    @property
    def num_cells(self) -> int:
        return int(np.prod(self.supercell))

    @property
    def num_sites(self) -> int:
        return self.num_nodes // self.num_cells

    @property
    def same_site(self) -> np.ndarray:
        """Edges between copies of the same atom of the unit cell (the delta term of paper Eq. 26)."""
        return self.site_index[self.edge_index[0]] == self.site_index[self.edge_index[1]]

    def is_connected(self) -> bool:
        """Whether the graph is connected (undirected sense)."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = self.num_nodes
        adj = coo_matrix((np.ones(self.num_edges), (self.edge_index[0], self.edge_index[1])), shape=(n, n))
        return connected_components(adj, directed=True, connection="weak")[0] == 1

    def lattice_point_group(self, symprec: float = 1e-3) -> "crystalgroups.PointGroup":
        """The exact point group of the structure's lattice, as integer matrices in the input cell's basis."""
        return _point_group(self.lattice.tobytes(), float(symprec))

    def cell_pattern(self, group: str = "P-1", symprec: float = 1e-3) -> "crystalgroups.Pattern":
        """The parameter-sharing pattern of ``group`` on the supercell's cells.

        ``"P-1"`` (inversion and translations), ``"G"`` (this lattice's own group G_Lambda),
        ``"S"`` (every permutation of the cells, S_Lambda).
        """
        if group == "G":
            return _pattern(self.lattice_point_group(symprec), self.supercell)
        if group in ("P-1", "S"):
            return _pattern(group, self.supercell)
        raise GraphError(f"expected a cell group among {GROUPS[:-1]}, got {group!r}")

    def edge_colors(self, group: str = "P-1", symprec: float = 1e-3) -> tuple[np.ndarray, int]:
        """Edge colours for ``group`` in ``("P-1", "G", "S", "S_N")`` and their number.

        For the cell groups the colour of edge ``(a, i) -> (b, j)`` is the pattern's colour of the
        cell pair ``(a, b)``; combine it with :attr:`same_site` for the product with ``S_C``. For
        ``"S_N"`` (all atoms of the supercell) an edge between two distinct nodes has colour 1 and
        a self-edge (an atom bonded to its own periodic image) colour 0.
        """
        src, dst = self.edge_index
        if group == "S_N":
            return (src != dst).astype(np.int64), 2
        # remembered per graph: "G" costs a point-group search, and a batch asks every epoch
        memo = self.__dict__.setdefault("_edge_colors", {})
        if (group, symprec) not in memo:
            p = self.cell_pattern(group, symprec)
            table = p.edge_colors
            if group == "G":
                table = self.geometric_rank(symprec)[table]
            colors = table[self.cell_index[src], self.cell_index[dst]]
            colors.setflags(write=False)
            memo[group, symprec] = colors, p.num_edge_colors
        return memo[group, symprec]

    def geometric_rank(self, symprec: float = 1e-3) -> np.ndarray:
        """For ``"G"``: the rank of each of the pattern's colours when ordered by geometry.

        Colours of the structure's own lattice group are numbered canonically *in its own
        basis*, which differs between structures. To give one vocabulary across a dataset, each
        orbit of cell pairs ``(a, b)`` is ranked by the length of the shortest lattice vector in
        the class ``(b - a) + n Z^3`` (then by orbit size, then by canonical number): colour 0 is
        always ``a = b``, colour 1 the shortest difference class, and so on. Lengths are invariant
        under any change of basis, so "the k-th shortest difference class" means the same for
        every structure. The ranking is a renumbering of the orbits: the colour classes, and
        so the equivariance, are exactly those of the pattern.
        """
        p = self.cell_pattern("G", symprec)
        row = p.edge_colors[0]  # pair (0, b): difference class b
        sc = Supercell.diagonal(*self.supercell)
        lengths = _shortest_in_classes(self.lattice, sc)
        keys = []
        for color in range(p.num_edge_colors):
            members = np.flatnonzero(row == color)
            keys.append((round(float(lengths[members].min()), 6), len(members), color))
        rank = np.empty(p.num_edge_colors, dtype=np.int64)
        rank[[k[2] for k in sorted(keys)]] = np.arange(p.num_edge_colors)
        return rank


def _shortest_in_classes(lattice: np.ndarray, sc: Supercell) -> np.ndarray:
    """For each cell ``c`` of a diagonal supercell, the length of the shortest vector in ``c + diag(n) Z^3``.

    Each class representative is first brought close to the origin by subtracting the nearest
    vector of the Niggli-reduced sublattice; a box of reduced sublattice vectors around it then
    holds the class's shortest member, whatever basis the structure came in.
    """
    sub, _ = crystalgroups.Lattice(np.diag(sc.sizes) @ lattice).reduced()
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
        return isayev_neighbors(crystal.lattice, crystal.frac, crystal.numbers, tol=settings.tol, cutoff=settings.cutoff)
    return radius_neighbors(crystal.lattice, crystal.frac, crystal.numbers, cutoff=settings.cutoff,
                            max_neighbors=settings.max_neighbors)


def crystal_graph(structure, supercell=(2, 2, 2), neighbors: str = "isayev", *, tol: float = 0.5,
                  cutoff: float | None = None, max_neighbors: int | None = 12, primitive: bool = False,
                  id: str = "", targets: dict | None = None, settings: GraphSettings | None = None,
                  min_distance: float = 0.5, require_connected: bool = False) -> CrystalGraph:
    """The periodic supercell graph of a structure (pymatgen ``Structure``, ASE ``Atoms`` or :class:`Crystal`).

    Parameters
    ----------
    supercell
        ``(n1, n2, n3)``; ``(1, 1, 1)`` gives the unit-cell graph of a plain MPNN.
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
        settings = GraphSettings(supercell=tuple(supercell), neighbors=neighbors, tol=tol, cutoff=cutoff,
                                 max_neighbors=max_neighbors, primitive=primitive)
    crystal = to_crystal(structure, id=id)
    if settings.primitive:
        from .structures import primitive_crystal

        crystal = primitive_crystal(crystal)
    closest = crystal.min_distance()
    if closest < min_distance:
        raise GraphError(f"expected atoms at least {min_distance} A apart, got two {closest:.3f} A apart (overlapping atoms)")
    try:
        edges = unit_cell_edges(crystal, settings)
    except NeighborError as exc:
        raise GraphError(str(exc)) from exc
    if len(edges) == 0:
        raise GraphError(f"expected bonds between the atoms, got none with the {settings.neighbors!r} rule "
                         f"(cutoff {settings.cutoff} A): the atoms are too far apart")
    graph = expand_to_supercell(crystal, edges, settings.supercell, id=id or crystal.id, targets=targets)
    if require_connected and not graph.is_connected():
        raise GraphError("expected a connected graph, got one whose bonds do not connect every atom of the supercell")
    return graph


def expand_to_supercell(crystal: Crystal, edges, supercell, id: str = "", targets: dict | None = None) -> CrystalGraph:
    """Translate unit-cell edges to every cell of the supercell (see the module doc)."""
    sc = Supercell.diagonal(*supercell)
    cells = sc.cells
    K, C = len(cells), crystal.num_sites
    E = len(edges)
    src_cell = np.repeat(np.arange(K), E)
    dst_cell = sc.index((cells[:, None, :] + edges.image[None, :, :]).reshape(-1, 3))
    src = src_cell * C + np.tile(edges.src, K)
    dst = dst_cell * C + np.tile(edges.dst, K)
    vector = (crystal.frac[edges.dst] + edges.image - crystal.frac[edges.src]) @ crystal.lattice
    node = np.arange(K * C)
    cell_index, site_index = np.divmod(node, C)
    cell_offset = cells[cell_index]
    positions = (crystal.frac[site_index] + cell_offset) @ crystal.lattice
    return CrystalGraph(
        edge_index=np.stack([src, dst]).astype(np.int64),
        edge_length=np.tile(edges.distance, K),
        edge_vector=np.tile(vector, (K, 1)),
        atomic_number=crystal.numbers[site_index],
        site_index=site_index,
        cell_index=cell_index,
        cell_offset=cell_offset,
        positions=positions,
        lattice=np.array(crystal.lattice),
        supercell=tuple(int(n) for n in supercell),
        id=id,
        targets=dict(targets or {}),
    )
