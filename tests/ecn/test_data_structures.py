"""Converting structures (pymatgen, ASE, CIF) and the covalent-radius table."""


import numpy as np
import pytest

from ecn.data import Crystal, StructureError, crystal_from_cif, to_crystal
from ecn.data.radii import COVALENT_RADII, covalent_radius


def test_radii_equal_pymatgens_cordero_table():
    from pymatgen.analysis.molecule_structure_comparator import CovalentRadius

    assert COVALENT_RADII == {k: pytest.approx(v) for k, v in CovalentRadius.radius.items()}
    with pytest.raises(ValueError, match="Cordero"):
        covalent_radius(99)


def test_pymatgen_and_ase_give_the_same_crystal():
    from ase.build import bulk
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = bulk("NaCl", "rocksalt", a=5.64)
    structure = AseAtomsAdaptor.get_structure(atoms)
    a, b = to_crystal(atoms), to_crystal(structure)
    np.testing.assert_allclose(a.lattice, b.lattice)
    np.testing.assert_allclose(a.frac, b.frac, atol=1e-12)
    assert a.numbers.tolist() == b.numbers.tolist() == [11, 17]


def test_disordered_and_non_periodic_inputs_are_refused():
    from ase import Atoms
    from pymatgen.core import Lattice, Structure

    disordered = Structure(Lattice.cubic(4.0), [{"Fe": 0.5, "Ni": 0.5}], [[0, 0, 0]])
    with pytest.raises(StructureError, match="ordered structure"):
        to_crystal(disordered)
    with pytest.raises(StructureError, match="periodic in all three"):
        to_crystal(Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]]))
    with pytest.raises(StructureError, match="pymatgen Structure, an ASE Atoms"):
        to_crystal([[0, 0, 0]])


@pytest.mark.parametrize("kwargs,fragment", [
    ({"lattice": np.eye(3) * 0}, "non-singular"), ({"frac": [[0, 0]]}, "shape (C, 3)"),
    ({"numbers": [0]}, "atomic numbers 1..118"), ({"numbers": [1.5]}, "integer atomic numbers"),
])
def test_bad_crystals(kwargs, fragment):
    base = {"lattice": np.eye(3) * 3.0, "frac": [[0, 0, 0]], "numbers": [6]}
    with pytest.raises(StructureError, match="expected") as info:
        Crystal(**{**base, **kwargs})
    assert fragment in str(info.value)


def test_unparsable_cif_is_a_clear_error():
    with pytest.raises(StructureError, match="expected a parsable CIF"):
        crystal_from_cif("data_broken\n_cell_length_a 4.0\n")


def test_min_distance_sees_periodic_images():
    c = Crystal(np.eye(3) * 3.0, [[0, 0, 0], [0.99, 0, 0]], [6, 6])
    assert c.min_distance() == pytest.approx(0.03)


def test_pymatgen_ase_adaptor_atoms_are_read_as_ase():
    """pymatgen's AseAtomsAdaptor returns a subclass of ASE's Atoms from a pymatgen module."""
    from pymatgen.core import Lattice, Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    from ecn.data.structures import to_crystal

    s = Structure(Lattice.cubic(4.0), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    atoms = AseAtomsAdaptor.get_atoms(s)
    c = to_crystal(atoms)
    assert c.num_sites == 2 and sorted(c.numbers.tolist()) == [17, 55]
    assert np.allclose(c.lattice, s.lattice.matrix)
