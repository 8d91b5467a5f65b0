"""crystalgroups: exact group theory for crystal lattices and parameter-sharing patterns.

The public surface: Bravais types (:func:`lookup_bravais_type`, :func:`bravais_types`), lattices
(:class:`Lattice`, :func:`bravais_type`), supercells (:class:`Supercell`, :func:`supercell`),
groups (:class:`PointGroup`, :class:`LatticeGroup`, :class:`PermutationGroup`, :class:`SymOp`,
:func:`symmetric_group`) and parameter-sharing patterns (:func:`pattern`, :class:`Pattern`).
Testing helpers live in :mod:`crystalgroups.testing`, pictures in :mod:`crystalgroups.plot`.

>>> import crystalgroups as cg
>>> cg.pattern("P-1", (2, 2, 2)).num_edge_colors
8
"""

from __future__ import annotations

from .bravais import (
    BravaisType,
    LatticeClassification,
    bravais_group,
    bravais_types,
    classify_lattice,
    classify_point_group,
    lookup_bravais_type,
)
from .errors import (
    CrystalGroupsError,
    CrystalGroupsTypeError,
    ExcessSymmetryWarning,
    IncompatibleSupercellError,
    LatticeError,
    SizeLimitError,
    ToleranceWarning,
    UnknownBravaisTypeError,
)
from .groups import LatticeGroup, PermutationGroup, PointGroup, SymOp, symmetric_group
from .lattice import DEFAULT_TOL, Lattice
from .patterns import (
    Pattern,
    SparsePattern,
    check_equivariance_condition,
    pattern,
    pattern_from_group,
    symmetric_pattern,
)
from .supercell import Supercell, compatible_supercells, supercell

__version__ = "0.2.0"

__all__ = [
    "BravaisType", "lookup_bravais_type", "bravais_group", "bravais_types", "classify_point_group", "bravais_type",
    "classify_lattice", "LatticeClassification",
    "CrystalGroupsError", "CrystalGroupsTypeError", "ExcessSymmetryWarning", "IncompatibleSupercellError",
    "LatticeError", "SizeLimitError", "ToleranceWarning", "UnknownBravaisTypeError",
    "LatticeGroup", "PermutationGroup", "PointGroup", "SymOp", "symmetric_group",
    "DEFAULT_TOL", "Lattice",
    "Pattern", "SparsePattern", "check_equivariance_condition", "pattern", "pattern_from_group", "symmetric_pattern",
    "Supercell", "compatible_supercells", "supercell",
]


def bravais_type(lattice, tol: float = DEFAULT_TOL, *, full: bool = False):
    """The Pearson symbol of a lattice's Bravais type; lattice vectors as rows of a 2x2 or 3x3 array.

    ``lattice`` may also be a :class:`Lattice`, a pymatgen ``Lattice``/``Structure`` or an ASE
    ``Atoms`` (duck-typed). ``tol`` is a length tolerance (spglib's ``symprec`` meaning), at most a
    quarter of the cell's smallest height. With ``full=True`` returns a
    :class:`LatticeClassification`: the type, the point group in the basis given, and the change
    of basis ``U`` to the type's representative (``point_group.conjugate(U) ==
    bravais_group(symbol).point_group``), see :func:`classify_lattice`.

    >>> bravais_type([[1.0, 0.0], [0.5, 3 ** 0.5 / 2]])
    'hp'
    >>> bravais_type([[1.0, 0.0], [0.5, 3 ** 0.5 / 2]], full=True).point_group.order
    12
    """
    if full:
        return classify_lattice(lattice, tol)
    lat = lattice if isinstance(lattice, Lattice) else Lattice(lattice)
    return lat.bravais_type(tol)
