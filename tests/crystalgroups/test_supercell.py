"""Supercells: Hermite normal form, centring vectors, reduction and compatibility."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crystalgroups import Supercell, supercell
from crystalgroups.errors import CrystalGroupsError
from crystalgroups.testing import supercell_matrices, supercells


@given(supercell_matrices(3))
def test_hnf_spans_the_same_lattice(sc):
    H, M = sc.hnf, sc.matrix
    assert np.all(np.tril(H, -1) == 0) and np.all(np.diag(H) > 0)
    for X, Y in ((H, M), (M, H)):  # columns of each are integer combinations of the other's
        coeff = np.linalg.solve(Y.astype(float), X.astype(float))
        assert np.allclose(coeff, np.rint(coeff))
    assert sc.num_cells == abs(round(np.linalg.det(M)))


@given(supercell_matrices(3), st.lists(st.lists(st.integers(-20, 20), min_size=3, max_size=3), min_size=1, max_size=30))
def test_reduce_gives_the_coset_representative(sc, points):
    x = np.array(points)
    r = sc.reduce(x)
    assert np.all((r >= 0) & (r < np.array(sc.sizes)))
    diff = np.linalg.solve(sc.matrix.astype(float), (x - r).T.astype(float))
    assert np.allclose(diff, np.rint(diff))
    np.testing.assert_array_equal(sc.reduce(r), r)


@given(supercell_matrices(2, max_cells=12))
def test_cells_are_distinct_cosets(sc):
    cells = sc.cells
    assert len(cells) == sc.num_cells
    np.testing.assert_array_equal(sc.index(cells), np.arange(sc.num_cells))
    for i in range(len(cells)):
        for j in range(i + 1, len(cells)):
            diff = np.linalg.solve(sc.matrix.astype(float), (cells[i] - cells[j]).astype(float))
            assert not np.allclose(diff, np.rint(diff))


def test_diagonal_index_is_c_order():
    sc = Supercell.diagonal(2, 3, 4)
    assert sc.index([[1, 2, 3]])[0] == (1 * 3 + 2) * 4 + 3
    assert repr(sc) == "Supercell(2 x 3 x 4)" and sc.is_diagonal


@given(supercells(3, cubic=True))
def test_every_integer_matrix_is_compatible_with_nnn(sc):
    W = np.array([[0, 1, 1], [1, 0, -1], [2, 1, 0]])
    assert sc.is_compatible(W)


def test_incompatible_detection():
    sc = Supercell.diagonal(2, 2, 3)
    assert not sc.is_compatible([[0, 0, 1], [0, 1, 0], [1, 0, 0]])
    assert sc.is_compatible(-np.eye(3, dtype=int))


@pytest.mark.parametrize("bad", [(2, 0, 2), (2,), (2, 2, 2, 2), (2.5, 2), [[1, 2], [2, 4]], [[1.5, 0], [0, 1]], "x"])
def test_bad_supercells(bad):
    with pytest.raises(CrystalGroupsError, match="expected"):
        supercell(bad)


def test_rows_convention_matches_pymatgen_make_supercell():
    """pymatgen's make_supercell(P) takes the new vectors as rows: Supercell.from_rows(P) is the same sublattice."""
    import warnings

    from pymatgen.core import Lattice as PmgLattice
    from pymatgen.core import Structure

    from crystalgroups import Lattice

    P = np.array([[1, 1, 0], [-1, 1, 0], [0, 0, 2]])
    basis = np.array([[3.0, 0.1, 0.0], [0.2, 3.5, 0.0], [0.1, 0.3, 4.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = Structure(PmgLattice(basis), ["Cu"], [[0, 0, 0]])
        s.make_supercell(P)
    sc = Supercell.from_rows(P)
    assert sc == supercell(P, rows=True) and np.array_equal(sc.rows, P)
    np.testing.assert_allclose(sc.matrix.T @ basis, s.lattice.matrix)   # rows of the supercell's lattice
    assert sc.num_cells == len(s)
    assert "columns=" in repr(sc) and Lattice(s.lattice).dim == 3   # reprs say which convention they show


def test_compatible_supercells_are_exactly_the_compatible_sublattices():
    from crystalgroups import bravais_group, compatible_supercells
    from crystalgroups.supercell import hermite_normal_forms

    for symbol, max_cells in (("hp", 7), ("tP", 4), ("cF", 8)):
        pg = bravais_group(symbol).point_group
        got = compatible_supercells(symbol, max_cells)
        want = [Supercell(H) for k in range(1, max_cells + 1) for H in hermite_normal_forms(k, pg.dim)
                if all(Supercell(H).is_compatible(W) for W in pg.elements)]
        assert got == want and len(set(got)) == len(got)
    assert [s.sizes for s in compatible_supercells("cP", 27, diagonal=True)] == [(1, 1, 1), (2, 2, 2), (3, 3, 3)]
    with pytest.raises(CrystalGroupsError, match="max_cells"):
        compatible_supercells("cP", 10**6)


@pytest.mark.parametrize("bad,fragment", [
    ((10**7, 1, 1), "at most 1,048,576"), ("2x2", "expected supercell sizes"), (None, "expected supercell sizes"),
    ([[1, 2], [2, 4]], "non-singular"), ([[2**40, 0], [0, 1]], "at most 1,048,576"),
])
def test_bad_supercells_name_the_problem(bad, fragment):
    with pytest.raises(CrystalGroupsError, match=fragment):
        supercell(bad)


def test_cell_counts_in_messages_do_not_overflow():
    from crystalgroups import pattern

    with pytest.raises(CrystalGroupsError, match="1,000,000,000,000,000,000 cells"):
        pattern("cP", (10**6, 10**6, 10**6))
    assert Supercell.diagonal(2**20, 2**20, 2**20).num_cells == 2**60


@given(st.one_of(supercell_matrices(3), st.tuples(*[st.integers(1, 5)] * 3).map(lambda n: Supercell.diagonal(*n))),
       st.lists(st.lists(st.integers(-30, 30), min_size=3, max_size=3), min_size=1, max_size=30))
def test_reduce_and_index_on_both_paths(sc, points):
    """Diagonal sublattices take a modulo per coordinate; both paths give the coset representative,
    and the index is np.ravel_multi_index of it in ``sizes``."""
    x = np.array(points)
    r = sc.reduce(x)
    assert np.all((r >= 0) & (r < np.array(sc.sizes)))
    diff = np.linalg.solve(sc.matrix.astype(float), (x - r).T.astype(float))
    assert np.allclose(diff, np.rint(diff))
    np.testing.assert_array_equal(sc.index(x), np.ravel_multi_index(tuple(r.T), sc.sizes))
    assert sc.index(x).dtype == np.int64
