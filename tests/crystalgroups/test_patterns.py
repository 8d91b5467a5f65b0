"""Parameter-sharing patterns: Eq. 11-12 both ways, products (Eq. 13-14), restriction, invariances."""

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

from crystalgroups import (LatticeGroup, PermutationGroup, Pattern, bravais_group, bravais_types,
                           check_equivariance_condition, pattern, pattern_from_group, symmetric_pattern)
from crystalgroups.errors import CrystalGroupsError, ExcessSymmetryWarning, IncompatibleSupercellError
from crystalgroups.orbits import pair_orbits, product_generators
from crystalgroups.testing import (assert_colors_invariant, assert_pattern_equivariant, brute_force_pair_orbits,
                                   unimodular_matrices)

SPECS = [t.symbol for t in bravais_types()] + ["P-1", "S"]


def _dim(spec):
    return 3 if spec in ("P-1", "S") else bravais_group(spec).dim


@given(st.sampled_from(SPECS), st.integers(1, 3))
def test_every_pattern_satisfies_eq_11_12_both_ways(spec, n):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExcessSymmetryWarning)
        p = pattern(spec, (n,) * _dim(spec))
    assert_pattern_equivariant(p)
    assert p.num_node_colors == 1  # transitive on cells (paper A.4)


@given(st.sampled_from(SPECS[:-1]), st.integers(1, 3))
def test_edge_colors_invariant_under_every_group_element(spec, n):
    t = bravais_group(spec, dim=3 if spec == "P-1" else None)
    G = LatticeGroup(t.point_group, (n,) * t.dim)
    p = pattern(spec, (n,) * t.dim, warn=False)
    assert_colors_invariant(p.edge_colors, G.all_permutations())
    np.testing.assert_array_equal(p.edge_colors, brute_force_pair_orbits(G.all_permutations()))


def test_the_check_fails_when_either_direction_fails():
    p = pattern("cP", (2, 2, 2))
    merged = p.edge_colors.copy()
    merged[merged == 3] = 2  # two orbits share a colour: "same colour => same orbit" fails
    report = check_equivariance_condition(Pattern(p.node_colors, merged, p.generators, "merged", p.group_order))
    assert report.colors_not_invariant == () and report.classes_not_single_orbits and not report.ok
    split = p.edge_colors.copy()
    split[0, 1] = p.num_edge_colors  # one orbit split: colours are no longer invariant
    report = check_equivariance_condition(Pattern(p.node_colors, split, p.generators, "split", p.group_order))
    assert report.colors_not_invariant and not report.ok
    with pytest.raises(AssertionError):
        assert_pattern_equivariant(Pattern(p.node_colors, split, p.generators, "split", p.group_order))


@given(st.sampled_from([t.symbol for t in bravais_types()]), st.integers(2, 3), st.data())
def test_colour_counts_do_not_depend_on_the_primitive_basis(symbol, n, data):
    t = bravais_group(symbol)
    U = data.draw(unimodular_matrices(t.dim, max_steps=6))
    p0 = pattern(t.point_group, (n,) * t.dim, warn=False)
    p1 = pattern(t.point_group.conjugate(U), (n,) * t.dim, warn=False)
    assert p0.num_edge_colors == p1.num_edge_colors
    assert sorted(np.bincount(p0.edge_colors.ravel())) == sorted(np.bincount(p1.edge_colors.ravel()))


@given(st.sampled_from([t.symbol for t in bravais_types(2)] + ["S"]), st.integers(1, 4))
def test_product_pattern_equals_orbits_of_the_product_action(spec, atoms):
    cells = pattern(spec, (2, 2), warn=False)
    within = symmetric_pattern(atoms)
    prod = cells.product(within)
    direct = pair_orbits(product_generators(cells.generators, within.generators))
    np.testing.assert_array_equal(prod.edge_colors, direct)
    assert prod.num_edge_colors == cells.num_edge_colors * within.num_edge_colors
    assert_pattern_equivariant(prod)


def test_restriction_keeps_only_colours_on_edges():
    p = pattern("P-1", (2, 2, 2))
    edges = np.array([[0, 0, 3, 5], [1, 1, 2, 6]])
    sparse = p.restrict(edges)
    assert sparse.num_edge_colors == len(set(p.edge_colors[edges[0], edges[1]].tolist()))
    np.testing.assert_array_equal(sparse.kept_colors[sparse.edge_colors], p.edge_colors[edges[0], edges[1]])
    with pytest.raises(CrystalGroupsError, match="node indices"):
        p.restrict([[0], [8]])


def _brute_automorphisms(p: Pattern) -> int:
    n, count = p.num_nodes, 0
    perms = np.array(list(itertools.permutations(range(n))))
    E = p.edge_colors
    for chunk in np.array_split(perms, max(1, len(perms) // 5000)):
        moved = E[chunk[:, :, None], chunk[:, None, :]]
        count += int(np.all(moved == E, axis=(1, 2)).sum())
    return count


@pytest.mark.parametrize("spec,size", [(s, (2, 2)) for s in ("mp", "op", "oc", "tp", "hp")] +
                         [(t.symbol, (2, 2, 2)) for t in bravais_types(3)])
def test_excess_symmetry_warning_matches_brute_force(spec, size):
    p = pattern(spec, size, warn=False)
    aut = _brute_automorphisms(p)
    assert aut >= p.permutation_group_order and p.group_order % p.permutation_group_order == 0
    assert p.automorphisms_exceed_group == (aut > p.permutation_group_order)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExcessSymmetryWarning)
        pattern(spec, size)
    assert bool(caught) == (aut > p.permutation_group_order)


def test_known_counts_on_2x2x2_from_an_independent_measurement():
    """Counts measured with independent code (../shared/notes), basis-independent."""
    expected = {"aP": 8, "mP": 8, "oP": 8, "mS": 6, "oS": 6, "tP": 6, "oI": 5, "oF": 5, "tI": 4, "hR": 4, "hP": 4,
                "cP": 4, "cI": 3, "cF": 3, "S": 2}
    got = {s: pattern(s, (2, 2, 2), warn=False).num_edge_colors for s in expected}
    assert got == expected
    expected_2d = {"mp": 4, "op": 4, "oc": 3, "tp": 3, "hp": 2}
    assert {s: pattern(s, (2, 2)).num_edge_colors for s in expected_2d} == expected_2d


def test_pattern_metadata_and_orders():
    p = pattern("cF", (3, 3, 3), warn=False)
    m = p.metadata
    assert m["group_order"] == 27 * 48 and m["point_group_order"] == 48
    assert m["permutation_group_order"] == p.group_order == LatticeGroup(bravais_group("cF").point_group, (3, 3, 3)).permutation_group().order
    s = pattern("S", (2, 2))
    assert s.metadata["group_order"] == math.factorial(4) and s.num_edge_colors == 2


def test_pattern_from_any_permutation_group():
    cyclic = PermutationGroup([[1, 2, 3, 4, 0]], name="C5")
    p = pattern_from_group(cyclic)
    assert p.num_edge_colors == 5
    assert_pattern_equivariant(p)


@pytest.mark.parametrize("bad,error", [(("cP", (2, 2, 3)), IncompatibleSupercellError), (("cP", (2, 2)), CrystalGroupsError),
                                       (("xx", (2, 2)), CrystalGroupsError), (("cP", (0, 2, 2)), CrystalGroupsError)])
def test_bad_pattern_requests(bad, error):
    with pytest.raises(error, match="expected|Could not resolve"):
        pattern(*bad)


def test_patterns_are_deterministic_and_read_only():
    a, b = pattern("hR", (3, 3, 3)), pattern("hR", (3, 3, 3))
    assert a == b and a.edge_colors.tobytes() == b.edge_colors.tobytes()
    assert not a.edge_colors.flags.writeable and not a.node_colors.flags.writeable
