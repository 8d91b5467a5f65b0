"""The one module of :mod:`ecn` that converts pymatgen and ASE objects (house style 1).

Everything downstream works on a :class:`Crystal`: lattice vectors (rows, A), fractional
coordinates as given, atomic numbers, and an identifier. pymatgen and ASE are imported only
when an object of theirs is converted.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Crystal", "StructureError", "to_crystal", "crystal_from_cif", "reduced_lattice"]


class StructureError(ValueError):
    """A structure that cannot be used; the message says what was expected and what came."""


def reduced_lattice(lattice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(basis, T)``: the Niggli-reduced basis (rows) of a lattice and ``T`` with ``basis = T @ lattice``.

    :meth:`crystalgroups.Lattice.reduced`, remembered for the last 1,024 lattices: building one graph
    asks for the same reduction several times (the reduced basis, the closest atoms, the images
    within the cutoff). The arrays are read-only.

    >>> lattice = np.array([[1.0, 0, 0], [1, 1, 0], [0, 0, 1]])
    >>> basis, T = reduced_lattice(lattice)
    >>> np.allclose(basis @ basis.T, np.eye(3)), bool(np.allclose(T @ lattice, basis)), round(np.linalg.det(T))
    (True, True, 1)
    """
    lattice = np.ascontiguousarray(lattice, dtype=np.float64)
    return _reduced_lattice(lattice.tobytes(), lattice.shape)


@functools.lru_cache(maxsize=1024)
def _reduced_lattice(data: bytes, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    import crystalgroups

    reduced, T = crystalgroups.Lattice(np.frombuffer(data, dtype=np.float64).reshape(shape)).reduced()
    basis = np.array(reduced.basis)
    basis.setflags(write=False)
    return basis, T


@dataclass(frozen=True, eq=False)
class Crystal:
    """A periodic crystal: ``lattice`` (3, 3) rows in A, ``frac`` (C, 3), ``numbers`` (C,).

    >>> c = Crystal(np.eye(3) * 4.0, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17], id="CsCl")
    >>> c.num_sites, c.formula
    (2, 'CsCl')
    """

    lattice: np.ndarray
    frac: np.ndarray
    numbers: np.ndarray
    id: str = ""
    properties: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        lattice = np.asarray(self.lattice, dtype=float)
        frac = np.asarray(self.frac, dtype=float)
        numbers = np.asarray(self.numbers)
        if lattice.shape != (3, 3) or not np.all(np.isfinite(lattice)):
            raise StructureError(f"expected a finite 3x3 lattice, got {lattice.tolist()}")
        if abs(np.linalg.det(lattice)) < 1e-6:
            raise StructureError(f"expected a non-singular lattice, got volume {abs(np.linalg.det(lattice)):.3g} A^3")
        if frac.ndim != 2 or frac.shape[1] != 3 or len(frac) == 0 or not np.all(np.isfinite(frac)):
            raise StructureError(f"expected finite fractional coordinates of shape (C, 3), got shape {frac.shape}")
        if numbers.shape != (len(frac),) or numbers.dtype.kind not in "iu":
            raise StructureError(f"expected {len(frac)} integer atomic numbers, got {numbers.tolist()}")
        if numbers.min() < 1 or numbers.max() > 118:
            raise StructureError(f"expected atomic numbers 1..118, got {sorted(set(numbers.tolist()))}")
        for name, value in (("lattice", lattice), ("frac", frac), ("numbers", numbers.astype(np.int64))):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def num_sites(self) -> int:
        return len(self.frac)

    @property
    def formula(self) -> str:
        from .radii import SYMBOLS

        counts: dict[str, int] = {}
        for z in self.numbers.tolist():
            sym = SYMBOLS[z - 1] if z <= len(SYMBOLS) else f"Z{z}"
            counts[sym] = counts.get(sym, 0) + 1
        return "".join(f"{s}{n if n > 1 else ''}" for s, n in counts.items())

    def min_distance(self) -> float:
        """Smallest distance between two atoms (periodic images included), A.

        Computed in the Niggli-reduced cell, where images one cell away hold the nearest ones even
        when the cell as given is very oblique.
        """
        from scipy.spatial import cKDTree

        basis, T = reduced_lattice(self.lattice)
        frac = self.frac @ np.linalg.inv(T)  # coordinates in the reduced basis
        frac = frac - np.floor(frac)
        pts = (frac[None, :, :] + _SHIFTS_2[:, None, :]).reshape(-1, 3) @ basis
        roots = frac @ basis
        d, _ = cKDTree(pts).query(roots, k=2)
        return float(d[:, 1].min())


_SHIFTS_2 = np.stack(np.meshgrid(*[np.arange(-2, 3)] * 3, indexing="ij"), -1).reshape(-1, 3)


def to_crystal(obj, id: str = "") -> Crystal:
    """Convert a :class:`Crystal`, a pymatgen ``Structure`` or an ASE ``Atoms`` to a :class:`Crystal`.

    Disordered (partially occupied) pymatgen sites are refused: a graph needs one element per site.
    """
    if isinstance(obj, Crystal):
        return obj
    module = type(obj).__module__
    # an ASE Atoms, or a subclass of it such as pymatgen's AseAtomsAdaptor output (MSONAtoms)
    if any(c.__module__.startswith("ase.") for c in type(obj).__mro__):
        module = "ase"
    if module.startswith("pymatgen"):
        if not getattr(obj, "is_ordered", True):
            raise StructureError(
                f"expected an ordered structure (one element per site), got a disordered one: {obj.formula}"
            )
        if not hasattr(obj, "lattice"):
            raise StructureError(f"expected a periodic pymatgen Structure, got {type(obj).__name__}")
        return Crystal(
            obj.lattice.matrix,
            obj.frac_coords,
            [site.specie.Z for site in obj],
            id=id,
            properties=dict(getattr(obj, "properties", {}) or {}),
        )
    if module.startswith("ase"):
        if not all(obj.pbc):
            raise StructureError(f"expected ASE Atoms periodic in all three directions, got pbc={list(obj.pbc)}")
        return Crystal(np.asarray(obj.cell), obj.get_scaled_positions(wrap=False), obj.numbers, id=id)
    raise StructureError(
        "expected a pymatgen Structure, an ASE Atoms or an ecn Crystal, "
        f"got {type(obj).__module__}.{type(obj).__name__}"
    )


def crystal_from_cif(text: str, id: str = "") -> Crystal:
    """Parse the first structure of a CIF string with pymatgen (cell as given, no reduction)."""
    from pymatgen.core import Structure

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            structure = Structure.from_str(text, fmt="cif")
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StructureError(f"expected a parsable CIF, got one pymatgen rejects: {message}") from exc
    return to_crystal(structure, id=id)


def primitive_crystal(crystal: Crystal) -> Crystal:
    """The primitive cell of a crystal (pymatgen ``get_primitive_structure``, default tolerance)."""
    from pymatgen.core import Lattice, Structure

    structure = Structure(Lattice(crystal.lattice), crystal.numbers.tolist(), crystal.frac)
    return to_crystal(structure.get_primitive_structure(), id=crystal.id)


def isayev_reference_edges(crystal: Crystal, supercell=(2, 2, 2), tol: float = 0.5, cutoff: float = 6.0) -> np.ndarray:
    """Edges by pymatgen's own ``IsayevNN`` on the supercell, for parity checks (slow: seconds).

    Returns rows ``(site_i, site_j, dcell_0, dcell_1, dcell_2, length)`` with
    ``dcell = (cell_j - cell_i) mod n``: the same fields that :func:`ecn.data.parity_rows` gives
    for an :class:`ecn.data.CrystalGraph`.
    """
    from pymatgen.core import Lattice, Structure
    from pymatgen.core.local_env import IsayevNN

    n = np.asarray(supercell)
    # Wrapped coordinates describe the same crystal; pymatgen's tessellation fails ("No Voronoi
    # neighbors") on coordinates outside [0, 1), since it wraps its root atoms but not their images.
    # Likewise lattice entries of 1e-16 A (CIF angles of exactly 90 degrees turned into floats) put
    # atoms at fractional 0 just below it, and pymatgen then counts one atom twice.
    wrapped = crystal.frac - np.floor(crystal.frac)
    lattice = np.where(np.abs(crystal.lattice) < 1e-10, 0.0, crystal.lattice)
    unit = Structure(Lattice(lattice), crystal.numbers.tolist(), wrapped)
    big = unit * tuple(int(k) for k in n)
    u = big.frac_coords * n  # input-cell coordinates of every supercell site
    diff = u[:, None, :] - crystal.frac[None, :, :]
    match = np.all(np.abs(diff - np.rint(diff)) < 1e-6, axis=2) & (
        np.array([s.specie.Z for s in big])[:, None] == crystal.numbers[None, :]
    )
    if not np.all(match.sum(axis=1) == 1):
        raise StructureError("expected every supercell site to match one site of the unit cell")
    site = match.argmax(axis=1)
    offset = np.mod(np.rint(diff[np.arange(len(big)), site]).astype(np.int64), n)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        all_nn = IsayevNN(tol=tol, cutoff=cutoff).get_all_nn_info(big)
    for k, nns in enumerate(all_nn):
        for nn in nns:
            m = nn["site_index"]
            d = float(np.linalg.norm(nn["site"].coords - big[k].coords))
            rows.append((site[k], site[m], *np.mod(offset[m] - offset[k], n), d))
    return np.array(rows, dtype=float).reshape(-1, 6)
