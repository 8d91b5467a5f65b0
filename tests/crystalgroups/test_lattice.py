"""Point groups of real and random lattices, against spglib, set for set."""

import warnings

import numpy as np
import pytest
import spglib
from conftest import read_cifs
from hypothesis import example, given
from hypothesis import strategies as st

from crystalgroups import Lattice
from crystalgroups.errors import LatticeError, ToleranceWarning
from crystalgroups.testing import lattices


def _spglib_rotations(basis, tol):
    rotations = spglib.get_symmetry((basis, [[0, 0, 0]], [1]), symprec=tol)["rotations"]
    return {np.asarray(R, dtype=np.int64).tobytes() for R in rotations}


@given(lattices(dim=3))
def test_point_group_in_callers_basis_equals_spglib(lattice):
    ours = lattice.point_group()
    assert {W.tobytes() for W in ours.elements} == _spglib_rotations(lattice.basis, 1e-5)
    assert ours.preserves_metric(np.rint(lattice.metric * 0).astype(int))  # trivially true on zero metric
    G = lattice.metric
    for W in ours.elements:
        np.testing.assert_allclose(W.T @ G @ W, G, atol=1e-6 * np.abs(G).max())


@pytest.mark.parametrize(
    "dataset,every", [("perov_5/test.csv.gz", 19), ("carbon_24/val.csv.gz", 7), ("carbon_24/test.csv.gz", 7)]
)
@pytest.mark.parametrize("tol", [1e-5, 1e-3, 1e-2])
def test_point_groups_of_dataset_lattices_equal_spglib(data_dir, dataset, every, tol):
    from pymatgen.core import Structure

    rows = read_cifs(data_dir / dataset, every=every)
    assert len(rows) > 150
    shrunk = 0
    for material_id, cif in rows:
        basis = Structure.from_str(cif, fmt="cif").lattice.matrix
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ToleranceWarning)
            ours = {W.tobytes() for W in Lattice(basis).point_group(tol).elements}
        theirs = _spglib_rotations(basis, tol)
        if caught:  # our answer is the group at a smaller tol: a subset of spglib's (non-group) set
            shrunk += 1
            assert ours <= theirs, material_id
        else:
            assert ours == theirs, material_id
    assert shrunk <= len(rows) // 50


def test_cubic_perovskites_are_cubic(data_dir):
    from pymatgen.core import Structure

    rows = read_cifs(data_dir / "perov_5" / "val.csv.gz", limit=40)
    types = {Lattice(Structure.from_str(cif, fmt="cif").lattice.matrix).bravais_type() for _, cif in rows}
    assert types == {"cP"}


@pytest.mark.parametrize("tol", [-1.0, float("nan"), "x"])
def test_bad_tolerance(tol):
    with pytest.raises(LatticeError, match="non-negative tolerance"):
        Lattice(np.eye(3)).point_group(tol)


def test_repr_and_volume():
    lat = Lattice([[2, 0], [0, 3]])
    assert lat.volume == pytest.approx(6.0) and lat.dim == 2
    assert repr(lat) == "Lattice([[2, 0], [0, 3]])"


@given(lattices(), st.sampled_from([0.0, 1e-5, 1e-3, 3e-2]))
def test_solving_the_last_column_equals_enumerating_it(lattice, tol):
    from crystalgroups.lattice import MAX_TOL_FRACTION, _heights, point_group_of_metric

    red, _ = lattice.reduced()
    G = red.metric
    if tol > MAX_TOL_FRACTION * _heights(G).min():  # refused (tested apart): nothing to compare
        with pytest.raises(LatticeError, match="expected a tolerance well below the size of the cell"):
            point_group_of_metric(G, tol)
        return
    solved = point_group_of_metric(G, tol)
    enumerated = point_group_of_metric(G, tol, complete_last=False)
    assert [W.tolist() for W in solved] == [W.tolist() for W in enumerated]


@pytest.mark.parametrize("scale", [1.0, 2.7, 0.37])
def test_float_metrics_of_every_type_at_zero_tolerance(scale):
    """tol=0 on a float metric: an angle kept up to rounding (sin^2 of the change below 1e-12) is kept, so every
    type has its full group, even where cos^2 + sin^2 of its angles is not exactly 1 in floating point."""
    from crystalgroups import bravais_types
    from crystalgroups.lattice import point_group_of_metric

    for t in bravais_types():
        G = t.gram.astype(float) * scale**2
        assert len(point_group_of_metric(G, 0.0)) == t.order, t.symbol
        assert len(point_group_of_metric(G, 0.0, complete_last=False)) == t.order, t.symbol


def test_exact_metrics_of_every_type_both_ways():
    from crystalgroups import bravais_types
    from crystalgroups.lattice import point_group_of_metric

    for t in bravais_types():
        a = point_group_of_metric(t.gram)
        b = point_group_of_metric(t.gram, complete_last=False)
        assert len(a) == t.order and [W.tolist() for W in a] == [W.tolist() for W in b]


# -- the errors and limits of the symmetry search, exactly --------------------------------------------------

@pytest.mark.parametrize("metric,message", [
    (np.eye(4), "expected a 2x2 or 3x3 metric, got shape (4, 4)"),
    (np.ones(3), "expected a 2x2 or 3x3 metric, got shape (3,)"),
    (np.ones((2, 3)), "expected a 2x2 or 3x3 metric, got shape (2, 3)"),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), "expected a finite real metric, got [[1.0, nan], [nan, 1.0]]"),
    (np.array([["1", "0"], ["0", "1"]]), "expected a finite real metric, got [['1', '0'], ['0', '1']]"),
    (np.array([[1.0, 2.0], [2.0, 1.0]]), "expected a positive-definite metric, got [[1.0, 2.0], [2.0, 1.0]]"),
    (np.ones((3, 2)), "expected a 2x2 or 3x3 metric, got shape (3, 2)"),
    (np.ones((2, 2, 2)), "expected a 2x2 or 3x3 metric, got shape (2, 2, 2)"),
    (np.array([[1.0, 1.0], [1.0, 1.0]]), "expected a positive-definite metric, got [[1.0, 1.0], [1.0, 1.0]]"),
    # indefinite (an eigenvalue of -0.4) although every diagonal entry and every height is positive
    (np.array([[0.2, 0.3, 0.6], [0.3, 0.4, 0.3], [0.6, 0.3, 0.2]]),
     "expected a positive-definite metric, got [[0.2, 0.3, 0.6], [0.3, 0.4, 0.3], [0.6, 0.3, 0.2]]"),
])
def test_metric_errors_by_their_message(metric, message):
    from crystalgroups.lattice import point_group_of_metric

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(LatticeError) as info:
            point_group_of_metric(metric)
    assert str(info.value) == message


def test_the_tolerance_may_be_a_quarter_of_the_smallest_height_and_no_more():
    from crystalgroups.lattice import MAX_TOL_FRACTION, point_group_of_metric

    assert MAX_TOL_FRACTION == 0.25
    assert len(point_group_of_metric(np.eye(2), tol=0.25)) == 8  # the unit square: heights 1
    with pytest.raises(LatticeError) as info:
        point_group_of_metric(np.eye(2), tol=0.2501)
    assert str(info.value).startswith("expected a tolerance well below the size of the cell (tol <= 0.25 x its "
                                      "smallest height, here 0.25), got tol=0.2501")


def test_the_search_box_holds_every_point_and_is_bounded_exactly(monkeypatch):
    from crystalgroups import lattice

    box = lattice._box(np.array([0.0, 0.5]), np.array([1.0, 1.5]))
    expected = [(x, y) for x in (-1, 0, 1) for y in (-1, 0, 1, 2)]
    assert sorted(map(tuple, box.tolist())) == expected
    monkeypatch.setattr(lattice, "MAX_SEARCH_POINTS", 12)
    assert len(lattice._box(np.array([0.0, 0.5]), np.array([1.0, 1.5]))) == 12
    monkeypatch.setattr(lattice, "MAX_SEARCH_POINTS", 11)
    with pytest.raises(LatticeError) as info:
        lattice._box(np.array([0.0, 0.5]), np.array([1.0, 1.5]))
    assert "would enumerate 12 lattice points (limit 11)" in str(info.value)


@pytest.mark.parametrize("G0,U", [
    ([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[1, 0, 0], [0, 1, 2], [0, 0, 1]]),
    ([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[1, -2, -1], [-1, 3, 1], [0, 0, 1]]),
    ([[1, 0, 0], [0, 1, 0], [0, 0, 2]], [[1, 0, 1], [0, 1, -2], [0, 0, 1]]),
    ([[2, -1, 0], [-1, 2, 0], [0, 0, 3]], [[1, 1, 0], [0, 1, 3], [0, 0, 1]]),
    ([[2, -1], [-1, 2]], [[1, 3], [0, 1]]),
])
def test_point_group_of_a_metric_that_is_not_reduced(G0, U):
    """Any basis, not only a reduced one: the group of U^T G0 U is U^-1 P U, with P the group of G0, exactly
    and within a tolerance."""
    from crystalgroups.lattice import point_group_of_metric

    G0, U = np.array(G0), np.array(U)
    U_inv = np.rint(np.linalg.inv(U)).astype(np.int64)
    expected = {tuple((U_inv @ W @ U).ravel()) for W in point_group_of_metric(G0)}
    G = U.T @ G0 @ U
    assert {tuple(W.ravel()) for W in point_group_of_metric(G)} == expected
    assert {tuple(W.ravel()) for W in point_group_of_metric(G.astype(float), 1e-6)} == expected


def test_an_integer_metric_with_a_tolerance_is_searched_within_it():
    """Lengths 10 and 10.05: a square within tol=1 but not exactly; the integer metric is exact only at tol=0."""
    from crystalgroups.lattice import point_group_of_metric

    G = np.array([[100, 0], [0, 101]])
    assert len(point_group_of_metric(G)) == 4 and len(point_group_of_metric(G, 1.0)) == 8
    assert len(point_group_of_metric(G.astype(float), 1.0)) == 8
    assert len(point_group_of_metric(np.array([[100, 0, 0], [0, 101, 0], [0, 0, 300]]), 1.0)) == 16


def test_an_integer_metric_is_exact_beyond_float_resolution():
    """Lengths^2 of 10^16 and 10^16 + 1 differ in integers but not in float64: exactly a rectangle (4 operations),
    a square (8) once the metric is float."""
    from crystalgroups.lattice import point_group_of_metric

    G = np.array([[10**16, 0], [0, 10**16 + 1]], dtype=np.int64)
    assert len(point_group_of_metric(G)) == 4
    assert len(point_group_of_metric(G.astype(float))) == 8


def test_lattices_are_frozen_and_their_arrays_read_only():
    lat = Lattice([[1.0, 0.0], [0.3, 1.1]])
    with pytest.raises(AttributeError):
        lat.basis = np.eye(2)
    for a in (lat.basis, lat.metric, lat.reduced()[1]):
        with pytest.raises(ValueError, match="read-only"):
            a.flat[0] = 7


@pytest.mark.parametrize("metric,height", [(4 * np.eye(2), 2.0), (np.array([[1.0, -0.5], [-0.5, 1.0]]), 3**0.5 / 2),
                                           (np.diag([9.0, 1.0, 4.0]), 1.0)])
def test_the_tolerance_limit_follows_the_smallest_height(metric, height):
    from crystalgroups.lattice import point_group_of_metric

    limit = 0.25 * height
    point_group_of_metric(metric, tol=limit * (1 - 1e-9))
    with pytest.raises(LatticeError) as info:
        point_group_of_metric(metric, tol=limit * 1.001)
    assert f"smallest height, here {limit:.3g}), got tol={limit * 1.001:g}" in str(info.value)


@pytest.mark.parametrize("G,tol,inside,outside", [
    (np.diag([1.0, 1.1**2]), 0.1, 8, 4),      # lengths 1 and 1.1: a square within tol = 0.1, not within 0.0999
    (np.diag([4.0, 2.2**2]), 0.2, 8, 4),      # lengths 2 and 2.2
])
def test_lengths_that_differ_by_exactly_the_tolerance(G, tol, inside, outside):
    from crystalgroups.lattice import point_group_of_metric

    assert len(point_group_of_metric(G, tol)) == inside
    assert len(point_group_of_metric(G, tol * 0.999)) == outside


def test_cells_shorter_than_one_unit():
    from crystalgroups.lattice import point_group_of_metric

    assert len(point_group_of_metric(np.diag([0.25, 0.25]), 0.01)) == 8
    assert len(point_group_of_metric(np.diag([0.25, 0.25, 0.16]), 0.01)) == 16
    assert Lattice(0.1 * np.eye(3)).point_group().order == 48


def test_the_default_search_limit_in_its_message():
    from crystalgroups.lattice import point_group_of_metric

    with pytest.raises(LatticeError, match=r"would enumerate 4,822,105 lattice points \(limit 2,000,000\)"):
        point_group_of_metric(np.array([[134, 2, -47], [2, 1, 0], [-47, 0, 17]]))


def _brute_force_norms(G, norm, slack):
    """Every integer v != 0 with |v^T G v - norm| <= slack, from a box sized by G's smallest eigenvalue (a bound
    independent of the one the search uses: |v|_inf <= |v| <= sqrt(v^T G v / lambda_min))."""
    d = len(G)
    bound = int(np.ceil(np.sqrt((norm + slack) / np.linalg.eigvalsh(G.astype(float)).min()))) + 1
    axis = np.arange(-bound, bound + 1)
    grid = np.stack(np.meshgrid(*([axis] * d), indexing="ij"), -1).reshape(-1, d)
    grid = grid[np.any(grid != 0, axis=1)]
    vn = np.einsum("ni,ij,nj->n", grid, G, grid)
    return {tuple(v) for v in grid[np.abs(vn - norm) <= slack].tolist()}


@given(lattices(), st.floats(0.05, 20.0), st.integers(0, 2), st.sampled_from([1e-9, 1e-3, 0.3]))
def test_short_vectors_are_every_vector_of_that_norm(lattice, scale, j, relative_slack):
    """The candidate search against brute force: on reduced cells of any size (lengths from about 0.05 to 40),
    the search box never misses a vector of the asked norm, nor returns one of another norm."""
    from crystalgroups.lattice import _short_vectors

    G = lattice.reduced()[0].metric * scale**2
    j = min(j, len(G) - 1)
    norm, slack = G[j, j], relative_slack * G[j, j]
    found = {tuple(v) for v in _short_vectors(G, norm, slack).tolist()}
    assert found == _brute_force_norms(G, norm, slack)


@pytest.mark.parametrize("G0,U", [
    (np.eye(3), [[1, 0, 5], [0, 1, -7], [0, 0, 1]]),
    (np.diag([1.0, 1.0, 2.0]), [[1, 1, 3], [0, 1, 4], [0, 0, 1]]),
    (np.array([[2.0, -1.0, 0.0], [-1.0, 2.0, 0.0], [0.0, 0.0, 5.0]]), [[1, 0, -4], [0, 1, 6], [0, 0, 1]]),
    (np.array([[2.0, -1.0], [-1.0, 2.0]]), [[1, 9], [0, 1]]),
])
@pytest.mark.parametrize("tol", [0.0, 1e-3])
def test_every_symmetry_completes_from_its_first_columns(G0, U, tol):
    """The last column of each symmetry W lies among the completions of its first d - 1 columns, also when the
    last basis vector is long and far from orthogonal to the others (so the two solutions x0 +- s n lie many
    lattice units from x0 and from each other)."""
    from crystalgroups.lattice import _completions, point_group_of_metric

    U = np.array(U)
    G = U.T @ G0 @ U
    group = point_group_of_metric(G, tol, complete_last=False)
    assert len(group) == len(point_group_of_metric(G0))
    for W in group:
        completions = {tuple(x) for x in _completions(list(W[:, :-1].T), G, tol).tolist()}
        assert tuple(W[:, -1]) in completions


def test_lattices_hash_and_compare_by_identity():
    """A lattice can key a dict or join a set (its arrays are not compared element by element)."""
    lat = Lattice([[1.0, 0.0], [0.3, 1.1]])
    assert {lat: 1}[lat] == 1 and lat == lat and lat != Lattice(lat.basis)


def test_the_search_limit_is_exact_in_any_dimension():
    """2,000,000 points may be enumerated, 2,000,001 may not (one axis, so the count is exact)."""
    from crystalgroups import lattice

    assert len(lattice._box(np.array([0.5]), np.array([999_999.5]))) == 2_000_000
    with pytest.raises(LatticeError, match=r"would enumerate 2,000,001 lattice points \(limit 2,000,000\)"):
        lattice._box(np.array([0.0]), np.array([1_000_000.0]))


def test_collinear_first_columns_have_no_completion():
    """Images of the first basis vectors that are parallel span no plane: nothing completes them."""
    from crystalgroups.lattice import _completions

    G = np.array([[2.0, 0.5, 0.0], [0.5, 3.0, 0.2], [0.0, 0.2, 5.0]])
    for cols in ([np.array([1, 0, 0]), np.array([2, 0, 0])], [np.array([0, 1, 1]), np.array([0, -1, -1])]):
        assert _completions(cols, G, 0.0).shape == (0, 3)
        assert _completions(cols, G, 1e-3).shape == (0, 3)


@pytest.mark.parametrize("shear", [1e3, 1e5])
def test_a_basis_too_oblique_for_direct_reduction_is_size_reduced_first(shear):
    """Niggli reduction does not converge on such a basis; reduced() size-reduces first and still returns the
    reduced cell of the same lattice (the one that the unsheared basis C spans: B = S C, S unimodular)."""
    from crystalgroups.lattice import _reduction

    B = np.array([[1.0, 0.0, 0.0], [shear + 0.3, 1.0, 0.0], [0.2, shear, 1.0]])
    with pytest.raises(LatticeError, match="did not converge"):
        _reduction.reduce_metric(B @ B.T, 1e-5, basis=B)
    red, T = Lattice(B).reduced()
    assert np.allclose(red.basis, T @ B) and abs(round(np.linalg.det(T))) == 1
    C = np.array([[1.0, 0.0, 0.0], [0.3, 1.0, 0.0], [0.2, 0.0, 1.0]])
    assert np.allclose(red.metric, Lattice(C).reduced()[0].metric, atol=1e-6)
    assert Lattice(B).point_group(1e-4).order == Lattice(C).point_group(1e-4).order


@given(lattices(), st.sampled_from([1e-4, 1e-2, 1e2, 1e4]))
@example(Lattice([[0.0, -3.36328125], [1.28125, 5.044921875]]), 1e-4)
def test_reduction_does_not_depend_on_the_unit_of_length(lattice, scale):
    """The default reduction tolerance follows the cell's size: the same lattice in another unit reduces with
    the same T, and has the same point group with the tolerance scaled alike. The example's first Gauss step
    has b.a / a.a = -1.5 exactly, a tie between k = -1 and k = -2 that float rounding used to break one way
    at one scale and the other at another."""
    _, T = lattice.reduced()
    scaled = Lattice(lattice.basis * scale)
    assert scaled.reduced()[1].tolist() == T.tolist()
    assert ({W.tobytes() for W in scaled.point_group(1e-5 * scale).elements}
            == {W.tobytes() for W in lattice.point_group(1e-5).elements})


@pytest.mark.parametrize("scale", [1e-3, 1e3])
def test_a_tie_within_the_reduction_tolerance_stays_a_tie_in_any_unit(scale):
    """|a|^2 and |b|^2 differ by 1e-6, inside the default tolerance 1e-5 * volume^(2/3): a tie, broken by
    Niggli's rule on |b.c| > |a.c| (a and b exchanged). Written in another unit, the difference and the
    tolerance scale alike (by scale^2), so the tie and its T stay."""
    B = np.array([[1.0, 0.0, 0.0], [0.0, 1 + 5e-7, 0.0], [0.1, 0.3, 1.0]])
    _, T = Lattice(B).reduced()
    assert T[:2].tolist() == [[0, 1, 0], [1, 0, 0]]
    assert Lattice(B * scale).reduced()[1].tolist() == T.tolist()


def test_the_tolerance_warning_points_at_the_caller():
    """A distorted cube whose operations at tol=1e-3 do not form a group: the tolerance is lowered with a
    warning that names the line of the caller (not the library's)."""
    B = [[0.9971969595701652, 0.0010053656997497313, 0.00197942606657161],
         [-0.0003285891852505814, 0.9978512702835431, 0.0017460843052434132],
         [-0.0025607878894291464, -0.0014261361901185443, 1.0012420357070801]]
    with pytest.warns(ToleranceWarning, match="do not form a group") as record:
        group = Lattice(B).point_group(1e-3)
    assert record[0].filename == __file__
    assert record[0].message.requested == 1e-3 and record[0].message.used < 1e-3
    assert group.order == 4


@given(lattices(), st.sampled_from([0.3, 1.0, 8.0]), st.sampled_from([0.0, 0.25, 0.5]),
       st.integers(0, 2**32 - 1))
def test_solving_equals_enumerating_on_distorted_cells_of_any_size(lattice, scale, distortion, seed):
    """Solving for the last column against enumerating it, on a reduced cell of about 0.3, 1 or 8 length units,
    distorted by up to half the tolerance (so the images of the basis are near, not at, the solutions
    x0 +- s n): the same operations."""
    from crystalgroups.lattice import point_group_of_metric

    red = lattice.reduced()[0].basis * scale
    tol = 0.01 * scale
    rng = np.random.default_rng(seed)
    noise = rng.uniform(-1, 1, red.shape) * distortion * tol / np.sqrt(red.shape[0])
    G = (red + noise) @ (red + noise).T
    solved = point_group_of_metric(G, tol)
    assert [W.tolist() for W in solved] == [W.tolist() for W in point_group_of_metric(G, tol, complete_last=False)]


def test_an_angle_that_changes_by_exactly_the_tolerance_is_kept():
    """spglib's angle criterion includes its boundary: on a rhombic cell with cos(angle) = c, the quarter turn
    changes the angle so that sin(change) * (mean length) is exactly tol (no rounding: tol * tol equals the
    criterion's left side bit for bit), and it is kept at tol, not a float below."""
    from crystalgroups.lattice import point_group_of_metric

    c = 0.010100250626566417
    sin2 = 1 - (-c * c + np.sqrt(1 - c * c) ** 2) ** 2  # sin^2 of the change, as the search computes it
    tol = float(np.sqrt(sin2))
    assert tol * tol == sin2
    G = np.array([[1.0, c], [c, 1.0]])
    assert len(point_group_of_metric(G, tol)) == 8
    assert len(point_group_of_metric(G, np.nextafter(tol, 0))) == 4
