"""Neighbours of the atoms of a periodic crystal, found once on the unit cell.

Every function here works on the unit cell ``(lattice, frac, numbers)`` and returns directed
edges ``(i, j, image, distance)``: atom ``i`` at ``frac[i]`` is bonded to atom ``j`` at
``frac[j] + image`` (fractional coordinates as given, not wrapped). Because the infinite crystal
is the same whatever supercell one draws it in, the edges of any periodic supercell follow by
translation (:mod:`ecn.data.graph`), which is what makes graph building fast: one tessellation
of the unit cell's neighbourhood instead of one of the supercell's.

Rules
-----
``isayev``
    The paper's rule (pymatgen ``IsayevNN``): ``i`` and ``j`` share a face of the Voronoi
    tessellation and ``d <= r_cov(i) + r_cov(j) + tol`` (Cordero radii, ``tol = 0.5`` A). The
    tessellation is of every atom within ``cutoff`` (6 A) of an atom of the unit cell, as in
    pymatgen; faces of zero area reported by Qhull count, as they do there.
``radius``
    Every atom within ``cutoff`` (CGCNN's and MEGNet's graphs), optionally only the
    ``max_neighbors`` nearest of each atom.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.spatial import Voronoi, cKDTree

from .radii import RADIUS_BY_Z
from .structures import reduced_lattice

__all__ = ["UnitCellEdges", "isayev_neighbors", "radius_neighbors", "NeighborError"]


class NeighborError(ValueError):
    """The neighbour rule cannot be applied to this structure (the message says why)."""


@dataclass(frozen=True)
class UnitCellEdges:
    """Directed edges of the unit cell: ``src -> dst`` at ``frac[dst] + image``, length ``distance`` (A)."""

    src: np.ndarray
    dst: np.ndarray
    image: np.ndarray
    distance: np.ndarray

    def __len__(self) -> int:
        return len(self.src)


def _images_within(lattice: np.ndarray, frac: np.ndarray, radius: float, return_distance: bool = False):
    """All periodic images (wrapped positions + integer shifts) within ``radius`` of some atom.

    Returns ``(site, shift, cart, wrap)`` sorted by ``(site, shift)``, where ``shift`` is relative to
    the wrapped position ``frac - floor(frac)`` and ``wrap = floor(frac)`` (and, with
    ``return_distance``, each image's distance to the nearest atom of the cell). The search runs in the
    Niggli-reduced cell, so its cost does not blow up for very oblique cells, and the shifts are
    mapped back to the basis as given.
    """
    wrap = np.floor(frac).astype(np.int64)
    wrapped = frac - wrap
    basis, T = reduced_lattice(lattice)
    T_inv = np.linalg.inv(T)
    red_frac = wrapped @ T_inv
    red_wrapped = red_frac - np.floor(red_frac)
    recip = np.linalg.inv(basis).T
    spacing = 1.0 / np.linalg.norm(recip, axis=1)  # distance between lattice planes
    reach = np.ceil(radius / spacing).astype(np.int64) + 1
    box = _box(*reach.tolist())
    # the roots are the atoms at their wrapped positions in the basis as given; in reduced
    # coordinates they sit at red_frac, whose integer parts the box must follow
    floors = _unique_rows(np.floor(red_frac).astype(np.int64))
    shifts = box if len(floors) == 1 and not floors.any() else _unique_rows(
        (box[None, :, :] + floors[:, None, :]).reshape(-1, 3))
    n = len(frac)
    site = np.repeat(np.arange(n), len(shifts))
    red_points = red_wrapped[site] + np.tile(shifts, (n, 1))
    cart = red_points @ basis
    roots = wrapped @ lattice
    tree = cKDTree(roots)
    dist, _ = tree.query(cart, k=1, distance_upper_bound=radius + 1e-8)
    keep = np.isfinite(dist)
    site, cart, dist = site[keep], cart[keep], dist[keep]
    # the same points in the basis as given: integer shifts from each atom's wrapped position
    shift = np.rint(red_points[keep] @ T - wrapped[site]).astype(np.int64)
    cart = (wrapped[site] + shift) @ lattice  # recomputed in the given basis: exact, as pymatgen does
    order = np.lexsort((shift[:, 2], shift[:, 1], shift[:, 0], site))
    if return_distance:
        return site[order], shift[order], cart[order], wrap, dist[order]
    return site[order], shift[order], cart[order], wrap


@functools.lru_cache(maxsize=64)
def _box(r0: int, r1: int, r2: int) -> np.ndarray:
    """Integer shifts ``[-r0, r0] x [-r1, r1] x [-r2, r2]``, ``(K, 3)``, in lexicographic order (read-only)."""
    box = np.stack(np.meshgrid(np.arange(-r0, r0 + 1), np.arange(-r1, r1 + 1), np.arange(-r2, r2 + 1),
                               indexing="ij"), -1).reshape(-1, 3)
    box.setflags(write=False)
    return box


def _unique_rows(rows: np.ndarray) -> np.ndarray:
    """``np.unique(rows, axis=0)`` for small integer rows ``(K, 3)``, through one integer key per row.

    >>> _unique_rows(np.array([[1, 0, -1], [0, 0, 0], [1, 0, -1]])).tolist()
    [[0, 0, 0], [1, 0, -1]]
    """
    low = rows.min(axis=0)
    span = rows.max(axis=0) - low + 1
    key = np.unique(((rows[:, 0] - low[0]) * span[1] + rows[:, 1] - low[1]) * span[2] + rows[:, 2] - low[2])
    out = np.empty((len(key), 3), dtype=rows.dtype)
    key, out[:, 2] = np.divmod(key, span[2])
    out[:, 0], out[:, 1] = np.divmod(key, span[1])
    return out + low


def _check_radii(numbers: np.ndarray) -> None:
    bad = sorted({int(z) for z in np.asarray(numbers) if not (1 <= z < len(RADIUS_BY_Z)) or np.isnan(RADIUS_BY_Z[z])})
    if bad:
        raise NeighborError(f"expected elements with a Cordero covalent radius (Z = 1..96), got Z = {bad}")


#: Near-degenerate neighbours (A): atoms this close to one empty sphere count as cospherical
#: (:func:`isayev_neighbors`), and neighbours this close to the k-th nearest are kept with it
#: (:func:`radius_neighbors`).
NEIGHBOR_TOL = 1e-4


def isayev_neighbors(lattice, frac, numbers, tol: float = 0.5, cutoff: float = 6.0,
                     neighbor_tol: float = NEIGHBOR_TOL) -> UnitCellEdges:
    """The paper's edges: shared Voronoi face and ``d <= r_i + r_j + tol`` (see the module doc).

    Near-degenerate faces are treated consistently. Where more than four atoms lie on one empty
    sphere (within ``neighbor_tol`` A), as they do in symmetric crystals such as cubic perovskites, the
    faces between them have zero area, and whether Qhull reports one depends on rounding: a
    perturbation of 1e-6 A adds or removes bonds. Every two atoms on such a sphere are counted as
    sharing a face (the bonds any small perturbation could create), so the graph does not jump.
    ``neighbor_tol=0`` keeps Qhull's own answer, which is what pymatgen's ``IsayevNN`` returns.

    >>> import numpy as np
    >>> e = isayev_neighbors(np.eye(3) * 3.6, np.array([[0, 0, 0], [0.5, 0.5, 0.5]]), np.array([55, 17]))
    >>> len(e), sorted(set(np.round(e.distance, 4).tolist()))   # CsCl: 8 Cs-Cl bonds each way, 6 Cs-Cs
    (22, [3.1177, 3.6])
    """
    lattice = np.asarray(lattice, dtype=float)
    frac = np.asarray(frac, dtype=float)
    numbers = np.asarray(numbers, dtype=np.int64)
    _check_radii(numbers)
    site, shift, cart, wrap, near = _images_within(lattice, frac, cutoff, return_distance=True)
    if len(cart) < 5:
        raise NeighborError(f"expected at least 5 atoms within {cutoff} A to tessellate, got {len(cart)}")
    vor = None
    if neighbor_tol > 0 and cutoff > _FIRST_RADIUS:
        # The atoms' Voronoi cells are usually decided by a smaller neighbourhood: tessellate that
        # first, and keep it where it provably gives the same cells (else tessellate the whole one).
        inner = near <= _FIRST_RADIUS
        vor = _exact_inner_tessellation(cart[inner], np.all(shift[inner] == 0, axis=1), _FIRST_RADIUS, neighbor_tol)
        if vor is not None:
            site, shift, cart = site[inner], shift[inner], cart[inner]
    is_root = np.all(shift == 0, axis=1)
    if vor is None:
        try:
            vor = Voronoi(cart)
        except Exception as exc:  # Qhull errors: coplanar or duplicate points
            raise NeighborError(f"Voronoi tessellation failed (overlapping or degenerate atoms?): {exc}") from exc
    pairs = vor.ridge_points
    # A root's ridge that runs to infinity means the neighbourhood was too small (pymatgen raises too).
    ridge_vertices = vor.ridge_vertices
    if any(-1 in ridge_vertices[k] for k in np.flatnonzero(is_root[pairs[:, 0]] | is_root[pairs[:, 1]])):
        raise NeighborError(f"unbounded Voronoi cell around an atom: the {cutoff} A neighbourhood is too sparse")
    if neighbor_tol > 0:
        both = np.concatenate([np.sort(pairs, axis=1), _cospherical_pairs(vor, cart, is_root, neighbor_tol)])
        key = np.unique(both[:, 0] * len(cart) + both[:, 1])  # the rows of np.unique(both, axis=0)
        pairs = np.stack([key // len(cart), key % len(cart)], axis=1)
    src_list, dst_list = [], []
    for a, b in ((0, 1), (1, 0)):
        mask = is_root[pairs[:, a]]
        src_list.append(pairs[mask, a])
        dst_list.append(pairs[mask, b])
    p = np.concatenate(src_list)
    q = np.concatenate(dst_list)
    d = np.linalg.norm(cart[q] - cart[p], axis=1)
    i, j = site[p], site[q]
    keep = d <= RADIUS_BY_Z[numbers[i]] + RADIUS_BY_Z[numbers[j]] + tol
    i, j, d = i[keep], j[keep], d[keep]
    image = shift[q[keep]] - wrap[j] + wrap[i]
    if neighbor_tol > 0:
        i, j, image, d = _with_reverses(i, j, image, d)
    order = np.lexsort((d, image[:, 2], image[:, 1], image[:, 0], j, i))
    return UnitCellEdges(i[order], j[order], image[order], d[order])


#: Radius (A) of the neighbourhood tessellated first by :func:`isayev_neighbors` (with ``neighbor_tol > 0``).
_FIRST_RADIUS = 4.5


def _exact_inner_tessellation(cart: np.ndarray, is_root: np.ndarray, radius: float, neighbor_tol: float):
    """The Voronoi tessellation of ``cart`` (every image within ``radius`` of an atom of the cell) if
    it gives each atom of the cell its true Voronoi cell, else ``None``.

    Leaving out points can only enlarge a cell. A point ``q`` outside the set is more than
    ``radius`` from the root ``p``, so the plane bisecting ``p q`` lies more than ``radius / 2``
    from ``p``; if every vertex of ``p``'s cell lies within ``R_p < radius / 2`` of ``p`` (less the
    tolerance), no such plane cuts the cell, and it is the true one, with the same faces. The
    near-degenerate spheres of :func:`_cospherical_pairs` (centred at those vertices, radius at
    most ``R_p``) hold only points within ``2 R_p + neighbor_tol`` of ``p``, all in the set.
    """
    if len(cart) < 5:
        return None
    try:
        vor = Voronoi(cart)
    except Exception:  # let the whole neighbourhood decide, and report
        return None
    for p in np.flatnonzero(is_root):
        region = vor.regions[vor.point_region[p]]
        if not region or -1 in region:
            return None
        reach = np.sqrt(((vor.vertices[region] - cart[p]) ** 2).sum(axis=1).max())
        if 2 * reach + 4 * neighbor_tol >= radius:
            return None
    return vor


def _with_reverses(i, j, image, d):
    """The edges and, where it is missing, the reverse ``j -> i`` at ``-image`` of each edge.

    A bond is symmetric, and so is the tessellation of a periodic crystal, but Qhull finds the two
    directions of a bond at two places (around the root of ``i`` and around the root of ``j``), and
    where a face is near-degenerate the tolerance test of :func:`_cospherical_pairs` may keep it at
    one place and not at the other, by rounding. Keeping both directions whenever one is found makes
    the graph symmetric and stops such a bond from depending on how the file writes the crystal.
    """
    key = np.concatenate([i[:, None], j[:, None], image], axis=1)
    back = np.concatenate([j[:, None], i[:, None], -image], axis=1)
    have = {tuple(r) for r in key.tolist()}
    missing = np.array([tuple(r) not in have for r in back.tolist()], dtype=bool)
    if not missing.any():
        return i, j, image, d
    return (np.concatenate([i, j[missing]]), np.concatenate([j, i[missing]]),
            np.concatenate([image, -image[missing]]), np.concatenate([d, d[missing]]))


def _cospherical_pairs(vor, cart: np.ndarray, is_root: np.ndarray, neighbor_tol: float) -> np.ndarray:
    """Pairs ``(a, b)``, ``a < b``, of points within ``neighbor_tol`` of a common empty sphere of more than
    four points, centred at a Voronoi vertex of a root's cell (one of them a root)."""
    vertices = set()
    for p in np.flatnonzero(is_root):
        vertices.update(v for v in vor.regions[vor.point_region[p]] if v >= 0)
    if not vertices:
        return np.zeros((0, 2), dtype=np.int64)
    centres = vor.vertices[sorted(vertices)]
    tree = cKDTree(cart)
    k = min(5, len(cart))
    nearest, _ = tree.query(centres, k=k)
    nearest = nearest.reshape(len(centres), k)
    degenerate = nearest[:, -1] <= nearest[:, 0] + neighbor_tol  # a fifth point on the sphere
    if not degenerate.any():
        return np.zeros((0, 2), dtype=np.int64)
    balls = tree.query_ball_point(centres[degenerate], nearest[degenerate, 0] + neighbor_tol, return_sorted=True)
    out = []
    for ball in {tuple(b) for b in balls if len(b) > 4}:  # spheres through the same points count once
        ball = np.asarray(ball)
        a, b = _upper_pairs(len(ball))
        pair = np.stack([ball[a], ball[b]], axis=1)
        out.append(pair[is_root[pair[:, 0]] | is_root[pair[:, 1]]])
    return np.concatenate(out) if out else np.zeros((0, 2), dtype=np.int64)


@functools.lru_cache(maxsize=64)
def _upper_pairs(n: int) -> tuple:
    """``np.triu_indices(n, 1)``, cached (the same few sizes recur for every structure)."""
    return np.triu_indices(n, 1)


def radius_neighbors(
    lattice, frac, numbers, cutoff: float = 8.0, max_neighbors: int | None = 12, neighbor_tol: float = NEIGHBOR_TOL
) -> UnitCellEdges:
    """Every atom within ``cutoff`` A (excluding the atom itself), at most ``max_neighbors`` nearest.

    Atoms tied (within ``neighbor_tol``, default 1e-4 A, at least 1e-8 A) with the
    ``max_neighbors``-th nearest are all kept, so that the graph does not depend on how ties are
    ordered, keeps the crystal's symmetry, and does not change when the atoms move by far less.

    >>> import numpy as np
    >>> e = radius_neighbors(np.eye(3) * 2.0, np.zeros((1, 3)), np.array([29]), cutoff=3.0, max_neighbors=None)
    >>> len(e)   # simple cubic: 6 neighbours at 2 A and 12 at 2.83 A
    18
    """
    lattice = np.asarray(lattice, dtype=float)
    frac = np.asarray(frac, dtype=float)
    site, shift, cart, wrap = _images_within(lattice, frac, cutoff)
    roots = (frac - wrap) @ lattice
    tree = cKDTree(cart)  # images within the cutoff of some atom
    src, dst = [], []
    for i, hits in enumerate(tree.query_ball_point(roots, cutoff)):
        hits = np.asarray(hits, dtype=np.int64)
        hits = hits[~((site[hits] == i) & np.all(shift[hits] == 0, axis=1))]
        src.append(np.full(len(hits), i))
        dst.append(hits)
    p, q = np.concatenate(src), np.concatenate(dst)
    d = np.linalg.norm(cart[q] - roots[p], axis=1)
    i, j = p, site[q]
    image = shift[q] - wrap[j] + wrap[i]
    order = np.lexsort((image[:, 2], image[:, 1], image[:, 0], j, np.round(d, 8), i))
    i, j, image, d = i[order], j[order], image[order], d[order]
    if max_neighbors is not None and len(i):
        start = np.searchsorted(i, i)
        rank = np.arange(len(i)) - start
        count = np.bincount(i, minlength=len(frac))[i]
        kth = d[start + np.minimum(max_neighbors, count) - 1]  # distance of each atom's k-th neighbour
        keep = (rank < max_neighbors) | (d <= kth + max(neighbor_tol, 1e-8))
        i, j, image, d = i[keep], j[keep], image[keep], d[keep]
    return UnitCellEdges(i, j, image, d)
