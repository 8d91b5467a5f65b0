"""Fast path = generic path = brute force, for node and pair orbits."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from crystalgroups import LatticeGroup, bravais_group, bravais_types
from crystalgroups.orbits import (
    canonical_labels,
    lattice_pair_orbits,
    node_orbits,
    orbit_of_pair,
    pair_orbits,
    product_generators,
)
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
