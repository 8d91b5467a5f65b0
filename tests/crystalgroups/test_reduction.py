"""Niggli (3D) and Lagrange-Gauss (2D) reduction, against spglib and exact invariants."""

import numpy as np
import pytest
import spglib
from hypothesis import given
from hypothesis import strategies as st

from crystalgroups import Lattice
from crystalgroups._reduction import gauss_reduce_metric, niggli_reduce_metric
from crystalgroups.testing import lattices, unimodular_matrices


def _is_niggli(G, eps):
    A, B, C = np.diag(G)
    xi, eta, zeta = 2 * G[1, 2], 2 * G[0, 2], 2 * G[0, 1]
    ok = A <= B + eps and B <= C + eps
    ok &= abs(xi) <= B + eps and abs(eta) <= A + eps and abs(zeta) <= A + eps
    signs_pos = xi > eps and eta > eps and zeta > eps
    signs_neg = xi <= eps and eta <= eps and zeta <= eps
    ok &= signs_pos or signs_neg
    ok &= xi + eta + zeta + A + B >= -eps
    return bool(ok)


@given(lattices(dim=3))
def test_niggli_matches_spglib_and_is_unimodular(lattice):
    red, T = lattice.reduced()
    assert round(np.linalg.det(T)) == 1
    np.testing.assert_allclose(red.basis, T @ lattice.basis)
    theirs = spglib.niggli_reduce(lattice.basis, eps=1e-7)
    # The Niggli cell is unique: same metric (parameters), whatever the basis.
    np.testing.assert_allclose(red.metric, theirs @ theirs.T, rtol=1e-6, atol=1e-6 * lattice.volume ** (2 / 3))
    assert _is_niggli(red.metric, 1e-6 * lattice.volume ** (2 / 3))


@given(unimodular_matrices(3, max_steps=8), st.sampled_from([
    [[2, 1, 1], [1, 2, 1], [1, 1, 2]], [[3, -1, -1], [-1, 3, -1], [-1, -1, 3]], [[5, 1, 2], [1, 6, 3], [2, 3, 7]],
]))
def test_exact_niggli_of_integer_metric_is_basis_independent(U, gram):
    G0 = np.array(gram)
    G1 = U @ G0 @ U.T
    R0, T0 = niggli_reduce_metric(G0)
    R1, T1 = niggli_reduce_metric(G1)
    assert R1.dtype.kind == "i" and np.array_equal(R0, R1)
    assert np.array_equal(T1 @ G1 @ T1.T, R1)


@given(lattices(dim=2))
def test_gauss_reduction_conditions(lattice):
    red, T = lattice.reduced()
    assert round(np.linalg.det(T)) == 1
    G = red.metric
    eps = 1e-9 * lattice.volume
    assert G[0, 0] <= G[1, 1] + eps and 2 * abs(G[0, 1]) <= G[0, 0] + eps


def test_gauss_on_integer_metric_is_exact():
    G, T = gauss_reduce_metric(np.array([[1, 7], [7, 50]]))
    assert G.tolist() == [[1, 0], [0, 1]] and round(np.linalg.det(T)) == 1


@pytest.mark.parametrize("bad", [[[1, 0, 0], [0, 1, 0], [1, 1, 0]], [[1, 2], [3]], [[np.nan, 0], [0, 1]], [1, 2, 3]])
def test_bad_lattices_get_clear_errors(bad):
    from crystalgroups.errors import LatticeError

    with pytest.raises(LatticeError, match="expected"):
        Lattice(bad)
