"""Supercells: Hermite normal form, centring vectors, reduction and compatibility."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

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
