"""crystalgroups: exact group theory for crystal lattices and parameter-sharing patterns."""
from .bravais import BravaisType, bravais_group, bravais_types, classify_point_group
from .groups import LatticeGroup, PermutationGroup, PointGroup, SymOp, symmetric_group
from .lattice import Lattice
from .supercell import Supercell, supercell
from .patterns import Pattern, SparsePattern, check_equivariance_condition, pattern, pattern_from_group, symmetric_pattern
