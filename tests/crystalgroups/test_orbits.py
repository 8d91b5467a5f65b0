"""Fast path = generic path = brute force, for node and pair orbits; the size guards at their exact limits."""

import functools
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crystalgroups import LatticeGroup, PointGroup, SizeLimitError, _validate, bravais_group, bravais_types, orbits
from crystalgroups.orbits import (
    canonical_labels,
    lattice_pair_orbits,
    node_orbits,
    orbit_of_pair,
    pair_orbits,
    product_generators,
)
from crystalgroups.supercell import Supercell
from crystalgroups.testing import (
    assert_same_partition,
    brute_force_pair_orbits,
    permutations,
    supercell_matrices,
    supercells,
)

TYPES = [t.symbol for t in bravais_types()]


@st.composite
def groups_on_supercells(draw, general=False):
    t = bravais_group(draw(st.sampled_from(TYPES)))
    if general:  # any supercell the group is compatible with: try a few random matrices
        sc = draw(supercell_matrices(t.dim, max_entry=2, max_cells=12).filter(
            lambda s: all(s.is_compatible(W) for W in t.point_group.generators)))
    else:
        sc = draw(supercells(t.dim, max_size=3, cubic=True))
    return LatticeGroup(t.point_group, sc)


@given(groups_on_supercells())
def test_fast_equals_generic_equals_brute_force(G):
    fast = G.pair_orbits()
    generic = pair_orbits(G.generators)
    brute = brute_force_pair_orbits(G.all_permutations())
    np.testing.assert_array_equal(fast, generic)
    np.testing.assert_array_equal(fast, brute)  # canonical labels: identical arrays, not just partitions
    np.testing.assert_array_equal(lattice_pair_orbits(G.point_group.elements, G.supercell), fast)


@given(st.sampled_from([t for t in TYPES if t in ("aP", "mP", "tP", "hP", "oP", "mp", "op", "tp", "hp")]), st.data())
def test_non_cubic_diagonal_and_general_supercells(symbol, data):
    t = bravais_group(symbol)
    sc = data.draw(st.one_of(supercells(t.dim, max_size=3), supercell_matrices(t.dim, max_cells=10)).filter(
        lambda s: all(s.is_compatible(W) for W in t.point_group.generators)))
    G = LatticeGroup(t.point_group, sc)
    np.testing.assert_array_equal(G.pair_orbits(), brute_force_pair_orbits(G.all_permutations()))


@given(st.integers(2, 7).flatmap(lambda n: st.lists(permutations(n), min_size=1, max_size=3)))
def test_generic_orbits_of_random_permutation_groups(gens):
    from crystalgroups import PermutationGroup

    G = PermutationGroup(np.array(gens))
    elements = G.elements()
    np.testing.assert_array_equal(pair_orbits(gens), brute_force_pair_orbits(elements))
    n = G.degree
    brute_nodes = elements.min(axis=0)  # the smallest image of each point names its orbit
    assert_same_partition(node_orbits(gens), brute_nodes)
    for i, j in [(0, 0), (0, n - 1)]:
        orbit = orbit_of_pair(gens, i, j)
        label = pair_orbits(gens)[i, j]
        np.testing.assert_array_equal(orbit, np.flatnonzero(pair_orbits(gens).ravel() == label))


@given(st.integers(2, 4).flatmap(lambda n: st.tuples(st.lists(permutations(n), min_size=1, max_size=2),
                                                       st.lists(permutations(3), min_size=1, max_size=2))))
def test_product_generators_act_as_the_direct_product(gens):
    from crystalgroups import PermutationGroup

    A, B = (PermutationGroup(np.array(g)) for g in gens)
    prod = PermutationGroup(product_generators(A.generators, B.generators))
    assert prod.order == A.order * B.order
    ea, eb = A.elements(), B.elements()
    m = B.degree
    expected = np.array([(a[:, None] * m + b[None, :]).ravel() for a in ea for b in eb])
    np.testing.assert_array_equal(np.unique(expected, axis=0), prod.elements())


def test_canonical_numbering_is_by_smallest_member():
    labels = canonical_labels(np.array([[5, 5, 2], [2, 9, 5], [9, 9, 9]]))
    assert labels.tolist() == [[0, 0, 1], [1, 2, 0], [2, 2, 2]]
    assert not labels.flags.writeable


# -- explicit cases --------------------------------------------------------------------------------------


def test_a_single_permutation_may_be_given_as_a_flat_list():
    swap, cycle = [1, 0, 2], [1, 2, 0]
    np.testing.assert_array_equal(node_orbits(swap), node_orbits([swap]))
    np.testing.assert_array_equal(pair_orbits(swap), pair_orbits([swap]))
    np.testing.assert_array_equal(orbit_of_pair(cycle, 0, 1), orbit_of_pair([cycle], 0, 1))
    np.testing.assert_array_equal(product_generators(swap, cycle), product_generators([swap], [cycle]))


def test_no_generators_is_the_trivial_group():
    none = np.empty((0, 3), dtype=np.int64)
    assert node_orbits(none).tolist() == [0, 1, 2]
    assert pair_orbits(none).tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]  # every pair alone, row-major
    assert orbit_of_pair(none, 1, 2).tolist() == [1 * 3 + 2]


def test_orbit_of_every_pair_is_its_pair_orbit():
    gens = [[1, 2, 0, 3]]  # the 3-cycle (0 1 2), fixing 3: six pair orbits
    labels = pair_orbits(gens)
    for i in range(4):
        for j in range(4):
            np.testing.assert_array_equal(orbit_of_pair(gens, i, j), np.flatnonzero(labels.ravel() == labels[i, j]))


def test_orbit_of_a_pair_under_a_64_cycle():
    n = 64
    cycle = np.roll(np.arange(n), -1)  # k -> k + 1 mod 64
    expected = sorted(k * n + (k + 1) % n for k in range(n))  # (0, 1) -> (1, 2) -> ... -> (63, 0)
    assert orbit_of_pair(cycle, 0, 1).tolist() == expected


def test_lattice_pair_orbits_are_read_only_on_every_path():
    ops = [-np.eye(2, dtype=int)]
    for sc in (Supercell.diagonal(4, 1), Supercell.diagonal(2, 3), Supercell(np.array([[2, 1], [0, 2]]))):
        assert not lattice_pair_orbits(ops, sc).flags.writeable, sc


def test_translations_alone_on_a_cyclic_non_diagonal_supercell():
    """Z^2 / <(2, 0), (1, 2)> is Z_4 (the cell (0, 1) has order 4), not the Z_2 x Z_2 of the 2 x 2 box."""
    sc = Supercell(np.array([[2, 1], [0, 2]]))
    assert not sc.is_diagonal and sc.sizes == (2, 2)
    G = LatticeGroup(PointGroup.from_generators([], dim=2), sc)
    brute = brute_force_pair_orbits(G.all_permutations())
    np.testing.assert_array_equal(lattice_pair_orbits([np.eye(2, dtype=int)], sc), brute)
    assert brute.max() + 1 == 4  # one colour per difference vector


def test_non_diagonal_supercell_of_more_cells_than_one_block():
    """1,056 cells: the fast path fills the 1,056 x 1,056 answer in two blocks of rows; the generic path agrees."""
    t = bravais_group("mp")
    sc = Supercell(np.array([[33, 1], [0, 32]]))
    assert not sc.is_diagonal and sc.num_cells == 1056
    G = LatticeGroup(t.point_group, sc)
    np.testing.assert_array_equal(lattice_pair_orbits(t.point_group.generators, sc), pair_orbits(G.generators))


# -- the size guards, at their exact limits ---------------------------------------------------------------


def _limit_guards(monkeypatch, limit):
    """Every size guard in orbits.py refuses arrays of more than ``limit`` entries."""
    monkeypatch.setattr(orbits, "MAX_DENSE_ENTRIES", limit)
    monkeypatch.setattr(orbits, "check_dense_size", functools.partial(_validate.check_dense_size, limit=limit))


def _refusal(limit, what, entries, shape):
    return re.escape(f"expected at most {limit:,} entries in {what}, got {entries:,} ({shape})")


@pytest.mark.parametrize("gens,entries", [
    ([[1, 0, 2], [0, 2, 1]], 4 * 2 * 9),  # 4 x generators x pairs
    ([[1, 2, 0]], 4 * 1 * 9),
    (np.empty((0, 3), dtype=np.int64), 4 * 1 * 9),  # no generators count as one
])
def test_pair_orbits_guard_at_its_limit(monkeypatch, gens, entries):
    _limit_guards(monkeypatch, entries)
    assert pair_orbits(gens).shape == (3, 3)
    _limit_guards(monkeypatch, entries - 1)
    with pytest.raises(SizeLimitError, match=_refusal(entries - 1, "the generic pair-orbit graph (4 x generators x "
                                                      "pairs)", entries, f"{len(gens)} generators on 3 points")):
        pair_orbits(gens)


def test_lattice_pair_orbits_guard_at_its_limit(monkeypatch):
    sc, ops = Supercell.diagonal(3, 3), [-np.eye(2, dtype=int)]
    _limit_guards(monkeypatch, 81)
    assert lattice_pair_orbits(ops, sc).shape == (9, 9)
    _limit_guards(monkeypatch, 80)
    with pytest.raises(SizeLimitError, match=_refusal(80, "the cells x cells colour matrix", 81, "9 x 9 cells")):
        lattice_pair_orbits(ops, sc)


def test_product_generators_guard_at_its_limit(monkeypatch):
    A = [[1, 0, 2], [1, 2, 0]]  # 2 generators on 3 points
    B = [[1, 0, 2, 3], [1, 2, 3, 0], [0, 1, 3, 2]]  # 3 generators on 4 points
    _limit_guards(monkeypatch, 5 * 12)  # 5 generators on 12 points
    assert product_generators(A, B).shape == (5, 12)
    _limit_guards(monkeypatch, 5 * 12 - 1)
    with pytest.raises(SizeLimitError, match=_refusal(59, "the product's generators", 60, "5 x 12")):
        product_generators(A, B)
