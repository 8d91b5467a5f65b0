"""crystalgroups: exact group theory for crystal lattices and parameter-sharing patterns.

The public surface: Bravais types (:func:`bravais_group`, :func:`bravais_types`), lattices
(:class:`Lattice`, :func:`bravais_type`), supercells (:class:`Supercell`, :func:`supercell`),
groups (:class:`PointGroup`, :class:`LatticeGroup`, :class:`PermutationGroup`, :class:`SymOp`,
:func:`symmetric_group`) and parameter-sharing patterns (:func:`pattern`, :class:`Pattern`).
Testing helpers live in :mod:`crystalgroups.testing`, pictures in :mod:`crystalgroups.plot`.

>>> import crystalgroups as cg
>>> cg.pattern("P-1", (2, 2, 2)).num_edge_colors
8
"""

from __future__ import annotations

from .bravais import BravaisType, bravais_group, bravais_types, classify_point_group
from .errors import (CrystalGroupsError, ExcessSymmetryWarning, IncompatibleSupercellError, LatticeError,
                     ToleranceWarning, UnknownBravaisTypeError)
from .groups import LatticeGroup, PermutationGroup, PointGroup, SymOp, symmetric_group
from .lattice import DEFAULT_TOL, Lattice
from .patterns import (Pattern, SparsePattern, check_equivariance_condition, pattern, pattern_from_group,
                       symmetric_pattern)
from .supercell import Supercell, supercell

__version__ = "0.1.0"

__all__ = [
    "BravaisType", "bravais_group", "bravais_types", "classify_point_group", "bravais_type",
    "CrystalGroupsError", "ExcessSymmetryWarning", "IncompatibleSupercellError", "LatticeError",
    "ToleranceWarning", "UnknownBravaisTypeError",
    "LatticeGroup", "PermutationGroup", "PointGroup", "SymOp", "symmetric_group",
    "DEFAULT_TOL", "Lattice",
    "Pattern", "SparsePattern", "check_equivariance_condition", "pattern", "pattern_from_group", "symmetric_pattern",
    "Supercell", "supercell",
]


def bravais_type(lattice, tol: float = DEFAULT_TOL) -> str:
    """The Pearson symbol of a lattice's Bravais type; lattice vectors as rows of a 2x2 or 3x3 array.

    ``tol`` is a length tolerance (spglib's ``symprec`` meaning).

    >>> bravais_type([[1.0, 0.0], [0.5, 3 ** 0.5 / 2]])
    'hp'
    """
    lat = lattice if isinstance(lattice, Lattice) else Lattice(lattice)
    return lat.bravais_type(tol)
