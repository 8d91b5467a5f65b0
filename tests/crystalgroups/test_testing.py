"""The public testing helpers: strategies produce what they promise; checks fail when they should."""

import numpy as np
import pytest
from hypothesis import given

from crystalgroups import LatticeGroup, bravais_group, pattern
from crystalgroups.examples import graphene_edges, graphene_pattern
from crystalgroups.testing import (
    assert_colors_invariant,
    assert_is_group,
    assert_layer_equivariant,
    assert_same_partition,
    group_elements,
    permutations,
    supercells,
    unimodular_matrices,
)


@given(unimodular_matrices(3, max_steps=8))
def test_unimodular(U):
    assert round(np.linalg.det(U)) == 1 and U.dtype.kind == "i"


@given(permutations(6))
def test_permutations(p):
    assert sorted(p.tolist()) == list(range(6))


def test_assertions_fail_on_bad_input():
    from crystalgroups import PointGroup

    with pytest.raises(AssertionError):
        assert_colors_invariant(np.array([[0, 1], [2, 0]]), [[1, 0]])
    with pytest.raises(AssertionError):
        assert_same_partition([0, 0, 1], [0, 1, 1])
    broken = PointGroup(elements=(np.eye(2, dtype=np.int64), np.diag([1, -1]), np.diag([-1, 1])))
    with pytest.raises(AssertionError):
        assert_is_group(broken)


def _pattern_layer(p, weights, mask=None):
    """A numpy parameter-sharing layer: y_i = sum_j W[alpha(i, j)] x_j (one weight per colour)."""
    def layer(x):
        A = weights[p.edge_colors]
        if mask is not None:
            A = A * mask
        return A @ x
    return layer


def test_assert_layer_equivariant_accepts_a_pattern_layer_and_rejects_a_broken_one():
    p = pattern("oP", (2, 2, 2))
    G = LatticeGroup(bravais_group("oP").point_group, (2, 2, 2))
    rng = np.random.default_rng(0)
    x = rng.integers(-5, 5, size=(8, 3))
    w = rng.integers(-3, 4, size=p.num_edge_colors)
    assert_layer_equivariant(_pattern_layer(p, w), x, G.all_permutations())
    # A P-1 pattern layer is NOT equivariant to the larger cP group.
    p1 = pattern("P-1", (2, 2, 2))
    cp = LatticeGroup(bravais_group("cP").point_group, (2, 2, 2))
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_layer_equivariant(_pattern_layer(p1, np.arange(8) ** 2), x, cp.all_permutations())


def test_graphene_example_layer_is_equivariant_on_its_bonds():
    full, sparse = graphene_pattern()
    edges = graphene_edges()
    mask = np.zeros((8, 8))
    mask[edges[1], edges[0]] = 1  # messages j -> i along bonds
    lg = LatticeGroup(bravais_group("mp").point_group, (2, 2))
    from crystalgroups import PermutationGroup, symmetric_group
    from crystalgroups.orbits import product_generators

    group = PermutationGroup(product_generators(lg.generators, symmetric_group(2).generators))
    # only the elements that map bonds to bonds are symmetries of graphene's graph
    bond_set = {tuple(e) for e in edges.T.tolist()}
    symmetries = [g for g in group.elements() if {(g[a], g[b]) for a, b in bond_set} == bond_set]
    assert len(symmetries) > 1
    x = np.arange(16).reshape(8, 2)
    assert_layer_equivariant(_pattern_layer(full, np.array([1, 10, 100, 1000, 7, 70, 700, 7000]), mask), x, symmetries)


@given(group_elements(bravais_group("hP").point_group))
def test_group_elements_are_members(W):
    assert bravais_group("hP").point_group.contains(W)


@given(supercells(compatible_with="hR", max_cells=8))
def test_supercells_compatible_with_a_type(sc):
    from crystalgroups import bravais_group

    assert all(sc.is_compatible(W) for W in bravais_group("hR").point_group.elements)
    LatticeGroup("hR", sc)


def test_brute_force_from_generators_equals_from_the_whole_group():
    from crystalgroups.testing import brute_force_pair_orbits

    G = LatticeGroup("tP", (2, 2, 3))
    np.testing.assert_array_equal(brute_force_pair_orbits(generators=G.generators),
                                  brute_force_pair_orbits(G.all_permutations()))
    with pytest.raises(TypeError):
        brute_force_pair_orbits()


def test_invariance_failures_name_the_pair_and_the_element():
    from crystalgroups import Pattern
    from crystalgroups.testing import assert_pattern_equivariant

    with pytest.raises(AssertionError, match=r"group element 1 \(permutation \[1, 0\]\) maps the pair \(0, 1\)"):
        assert_colors_invariant(np.array([[0, 1], [2, 0]]), [[0, 1], [1, 0]])
    p = pattern("cP", (2, 2, 2), warn=False)
    split = p.edge_colors.copy()
    split[0, 1] = p.num_edge_colors
    with pytest.raises(AssertionError, match=r"generator \d+ maps the pair \(\d+, \d+\) of colour"):
        assert_pattern_equivariant(Pattern(p.node_colors, split, p.generators, "split"))
