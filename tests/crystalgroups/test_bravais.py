"""The 19 Bravais types: exact holohedries, names, classification against spglib."""

import numpy as np
import pytest
import spglib
from hypothesis import given
from hypothesis import strategies as st

from crystalgroups import Lattice, bravais_group, bravais_types, classify_point_group
from crystalgroups.errors import UnknownBravaisTypeError
from crystalgroups.testing import assert_is_group, lattices, unimodular_matrices

PAPER_ORDERS = {2: [2, 4, 4, 8, 12], 3: [2, 4, 4, 8, 8, 8, 8, 16, 16, 12, 24, 48, 48, 48]}


@pytest.mark.parametrize("dim", [2, 3])
def test_holohedry_orders_match_paper_table_3(dim):
    assert [t.point_group.order for t in bravais_types(dim)] == PAPER_ORDERS[dim]


@pytest.mark.parametrize("t", bravais_types(), ids=lambda t: t.symbol)
def test_holohedry_is_exact_group_preserving_integral_metric(t):
    assert t.gram.dtype.kind == "i"
    assert t.point_group.preserves_metric(t.gram)
    assert_is_group(t.point_group)
    for W in t.point_group.elements:
        assert W.dtype == np.int64 and abs(round(np.linalg.det(W))) == 1


@pytest.mark.parametrize("t", bravais_types(), ids=lambda t: t.symbol)
def test_holohedry_agrees_with_spglib_set_for_set(t):
    basis = t.basis if t.dim == 3 else np.block([[t.basis, np.zeros((2, 1))], [np.zeros((1, 2)), np.array([[7.31]])]])
    rotations = spglib.get_symmetry((basis, [[0, 0, 0]], [1]), symprec=1e-5)["rotations"]
    theirs = {R[: t.dim, : t.dim].astype(np.int64).tobytes() for R in rotations}
    ours = {W.tobytes() for W in t.point_group.elements}
    assert ours == theirs


def test_fingerprints_are_distinct():
    prints = [t.fingerprint for t in bravais_types()]
    assert len(set(prints)) == 19


@given(st.sampled_from(bravais_types()), st.data())
def test_classification_is_invariant_under_change_of_basis(t, data):
    U = data.draw(unimodular_matrices(t.dim, max_steps=8))
    assert classify_point_group(t.point_group.conjugate(U)) is t


def _spglib_bravais(lattice: Lattice) -> str:
    """The Bravais type from spglib's space group of a one-atom crystal (the lattice's holohedry)."""
    basis = lattice.basis
    if lattice.dim == 2:  # embed with a long perpendicular axis
        basis = np.block([[basis, np.zeros((2, 1))], [np.zeros((1, 2)), np.array([[50.0]])]])
    ds = spglib.get_symmetry_dataset((basis, [[0, 0, 0]], [1]), symprec=1e-5)
    number, centring = ds.number, ds.international[0]
    if lattice.dim == 2:
        return {10: "mp", 47: "op", 65: "oc", 123: "tp", 191: "hp"}[number]
    family = "a" if number <= 2 else "m" if number <= 15 else "o" if number <= 74 else "t" if number <= 142 \
        else "h" if number <= 194 else "c"
    letter = {"A": "S", "B": "S", "C": "S"}.get(centring, centring)
    if family == "h" and number <= 167:
        letter = "R" if centring == "R" else "P"
    return family + letter


@given(lattices())
def test_random_lattices_of_every_type_classify_like_spglib(lattice):
    ours = lattice.bravais_type()
    assert ours == _spglib_bravais(lattice)


@pytest.mark.parametrize("symbol", [t.symbol for t in bravais_types()])
def test_random_lattices_are_of_their_type(symbol):
    @given(lattices(symbol))
    def check(lattice):
        assert lattice.bravais_type() == symbol
        rotations = spglib.get_symmetry(
            (
                lattice.basis
                if lattice.dim == 3
                else np.block([[lattice.basis, np.zeros((2, 1))], [np.zeros((1, 2)), np.array([[50.0]])]]),
                [[0, 0, 0]],
                [1],
            ),
            symprec=1e-5,
        )["rotations"]
        theirs = {R[: lattice.dim, : lattice.dim].astype(np.int64).tobytes() for R in rotations}
        assert {W.tobytes() for W in lattice.point_group().elements} == theirs

    check()


@pytest.mark.parametrize(
    "name,dim,symbol",
    [
        ("face-centered cubic", None, "cF"),
        ("Face-centred cubic", None, "cF"),
        ("Fm-3m", None, "cF"),
        ("fcc", None, "cF"),
        ("P6m", None, "hp"),
        ("P6/mmm", None, "hP"),
        ("hexagonal", 2, "hp"),
        ("hexagonal", 3, "hP"),
        ("P-1", 3, "aP"),
        ("P-1", 2, "mp"),
        ("C4/mmm", None, "tI"),
        ("I4/mmm", None, "tI"),
        ("R-3m", None, "hR"),
        ("mC", None, "mS"),
        ("square", None, "tp"),
        ("Cmm", None, "oc"),
    ],
)
def test_lookup_by_paper_names(name, dim, symbol):
    assert bravais_group(name, dim=dim).symbol == symbol


@pytest.mark.parametrize(
    "name,dim,fragment",
    [
        ("fcx", None, "Did you mean 'fcc'"),
        ("hexagonal", None, "give the dimension"),
        ("oP", 2, "did you mean 'op'"),
        ("cubic", 2, "which is the 3-dimensional type 'cP'"),
        (3, None, "expected a Bravais type name"),
    ],
)
def test_unknown_names_list_valid_choices(name, dim, fragment):
    with pytest.raises(UnknownBravaisTypeError) as info:
        bravais_group(name, dim=dim)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("t", bravais_types(3), ids=lambda t: t.symbol)
def test_very_oblique_bases_are_classified_exactly(t):
    """Unimodular changes of basis with entries in the thousands (exact integer determinants)."""
    rng = np.random.default_rng(7)
    for _ in range(3):
        U = np.eye(3, dtype=np.int64)
        while np.abs(U).max() < 1000:
            E = np.eye(3, dtype=np.int64)
            i, j = rng.choice(3, 2, replace=False)
            E[i, j] = rng.choice([-1, 1])
            U = U @ E
        assert Lattice(U @ t.basis).bravais_type() == t.symbol


@given(lattices())
def test_classify_lattice_gives_the_change_of_basis_to_the_representative(lattice):
    from crystalgroups import bravais_type, classify_lattice

    c = classify_lattice(lattice)
    U = c.transformation
    assert abs(round(np.linalg.det(U))) == 1
    assert c.point_group.conjugate(U) == c.bravais_type.point_group
    assert c.symbol == bravais_type(lattice) == bravais_type(lattice, full=True).symbol
    assert c.point_group == lattice.point_group()


def test_tolerance_warning_reports_the_tolerance_used():
    import warnings

    from crystalgroups.errors import ToleranceWarning

    distorted = np.diag([1.0, 1.0 + 0.9e-5, 1.0 + 1.8e-5])  # a ~ b and b ~ c at 1e-5, but not a ~ c
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ToleranceWarning)
        pg = Lattice(distorted).point_group(1e-5)
    (w,) = caught
    assert w.message.requested == 1e-5 and w.message.used < 1e-5 and f"tol={w.message.used:.3g}" in str(w.message)
    assert pg.order in (16, 8)


def test_lookup_bravais_type_is_the_named_lookup_and_bravais_group_its_old_name():
    from crystalgroups import bravais_group, lookup_bravais_type

    assert bravais_group is lookup_bravais_type
    t = lookup_bravais_type("Fm-3m")
    assert t.symbol == "cF" and t.point_group.order == 48
