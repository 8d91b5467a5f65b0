"""Subgroups, non-diagonal supercells and node colours: cases the holohedries on diagonal supercells miss.

The chiral groups against brute force on every compatible supercell are in test_groups.py; here: explicit values,
the fast path fed generators only, every 3D Bravais type on its non-diagonal supercells, and node colours.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crystalgroups import LatticeGroup, Pattern, PermutationGroup, PointGroup, bravais_group, compatible_supercells
from crystalgroups import pattern as make_pattern
from crystalgroups.orbits import canonical_labels, lattice_pair_orbits, pair_orbits
from crystalgroups.patterns import check_equivariance_condition
from crystalgroups.supercell import Supercell
from crystalgroups.testing import brute_force_pair_orbits

C3_2D = [[0, -1], [1, -1]]
C4_3D = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]


def test_c3_on_3x3_has_five_colours_not_three():
    """Without inversion (b - a) and (a - b) are in different orbits: 1 + 4 colours, not 1 + 2."""
    c3 = PointGroup.from_generators([C3_2D], name="C3")
    assert c3.order == 3 and not c3.contains(-np.eye(2, dtype=int))
    p = make_pattern(c3, (3, 3), warn=False)
    assert p.num_edge_colors == 5
    assert make_pattern("P-1", (3, 3), warn=False).num_edge_colors == 5  # -I alone: 9 = 1 + 4 x 2
    assert make_pattern(PointGroup.from_generators([C3_2D, [[-1, 0], [0, -1]]]), (3, 3), warn=False
                        ).num_edge_colors == 3  # C6 = C3 x {I, -I}: 1 + 2 x 4
    row = p.edge_colors[0]
    # orbits of the difference vectors: 0; (1, 2) and (2, 1), fixed by C3 mod 3; two orbits of three
    assert sorted(np.bincount(row).tolist()) == [1, 1, 1, 3, 3]
    assert not np.array_equal(p.edge_colors, p.edge_colors.T)


@pytest.mark.parametrize("gens,sizes", [([C3_2D], (3, 3)), ([C3_2D], (6, 6)), ([C4_3D], (2, 2, 3)),
                                        ([C4_3D], (4, 4, 1))])
def test_fast_path_from_generators_only_equals_brute_force(gens, sizes):
    pg = PointGroup.from_generators(gens)
    sc = Supercell(np.diag(sizes))
    brute = brute_force_pair_orbits(LatticeGroup(pg, sc).all_permutations())
    np.testing.assert_array_equal(lattice_pair_orbits([np.array(g) for g in gens], sc), brute)
    np.testing.assert_array_equal(lattice_pair_orbits(pg.elements, sc), brute)


NON_DIAGONAL = {  # (type, max cells): every Bravais type of 3D has non-diagonal compatible supercells
    "cP": 8, "cI": 8, "cF": 8, "hR": 8, "hP": 4, "tP": 4, "tI": 4, "oP": 4, "oS": 4, "oI": 4, "oF": 4, "mP": 4,
    "mS": 4, "aP": 4,
}


@pytest.mark.parametrize("symbol", list(NON_DIAGONAL))
def test_every_type_on_its_non_diagonal_supercells_equals_brute_force(symbol):
    t = bravais_group(symbol)
    found = [s for s in compatible_supercells(t.point_group, NON_DIAGONAL[symbol]) if not s.is_diagonal]
    assert found, symbol
    for sc in found[:6]:
        G = LatticeGroup(t.point_group, sc)
        brute = brute_force_pair_orbits(G.all_permutations())
        np.testing.assert_array_equal(G.pair_orbits(), brute, err_msg=f"{symbol} {sc!r}")
        np.testing.assert_array_equal(lattice_pair_orbits(t.point_group.generators, sc), brute)
        np.testing.assert_array_equal(pair_orbits(G.generators), brute)


def test_cubic_conventional_cells_as_non_diagonal_supercells():
    """The conventional cubic cell in the primitive basis of cI (2 cells) and cF (4 cells)."""
    for symbol, columns, cells, colours in (("cI", [[0, 1, 1], [1, 0, 1], [1, 1, 0]], 2, 2),
                                            ("cF", [[-1, 1, 1], [1, -1, 1], [1, 1, -1]], 4, 2)):
        t = bravais_group(symbol)
        sc = Supercell(np.array(columns))
        assert sc.num_cells == cells and all(sc.is_compatible(W) for W in t.point_group.generators)
        p = make_pattern(t.point_group, sc, warn=False)
        assert p.num_edge_colors == colours  # the translations of the conventional cell are all alike
        np.testing.assert_array_equal(p.edge_colors,
                                      brute_force_pair_orbits(LatticeGroup(t.point_group, sc).all_permutations()))


# -- node colours ------------------------------------------------------------------------------------


def test_the_check_catches_node_colours_that_split_an_orbit():
    p = make_pattern("cP", (2, 2, 2), warn=False)  # transitive on the 8 cells
    split = Pattern([0, 1, 0, 0, 0, 0, 0, 0], p.edge_colors, p.generators, "split nodes")
    report = check_equivariance_condition(split)
    assert not report.ok and any("node" in s for s in report.colors_not_invariant), report
    merged = make_pattern("P1", (2, 1), warn=False).product(
        Pattern([0, 1], [[0, 1], [2, 3]], [[0, 1]]))  # two node orbits per cell
    assert merged.num_node_colors == 2 and merged.check().ok
    wrong = Pattern([0, 0, 0, 0], merged.edge_colors, merged.generators, "merged nodes")
    assert not check_equivariance_condition(wrong).ok  # one colour for two node orbits


@st.composite
def coloured_patterns(draw):
    n = draw(st.integers(1, 4))
    nodes = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    edges = draw(st.lists(st.integers(0, 3), min_size=n * n, max_size=n * n))
    return Pattern(nodes, np.array(edges).reshape(n, n), [np.arange(n)])


@given(coloured_patterns(), coloured_patterns())
def test_product_node_colours_are_the_pairs_of_both_factors(a, b):
    prod = a.product(b)
    pairs = a.node_colors[:, None] * 10 + b.node_colors[None, :]
    np.testing.assert_array_equal(prod.node_colors, canonical_labels(pairs.ravel()))
    assert prod.num_node_colors == a.num_node_colors * b.num_node_colors


def test_product_of_cells_and_two_atom_kinds_against_brute_force():
    cells = make_pattern("hp", (2, 2), warn=False)
    kinds = Pattern([0, 0, 1], [[0, 1, 2], [1, 0, 2], [3, 3, 4]], [[1, 0, 2]])  # S2 on atoms 0, 1; atom 2 alone
    prod = cells.product(kinds)
    assert prod.num_node_colors == 2 and prod.check().ok
    G = LatticeGroup("hp", (2, 2)).all_permutations()
    within = PermutationGroup([[1, 0, 2]]).elements()
    elements = np.array([(c[:, None] * 3 + s[None, :]).ravel() for c in G for s in within])
    np.testing.assert_array_equal(prod.edge_colors, brute_force_pair_orbits(elements))
    np.testing.assert_array_equal(prod.node_colors, canonical_labels(elements.min(axis=0) % 3 == 2))
