"""Parameter-sharing patterns: Eq. 11-12 both ways, products (Eq. 13-14), restriction, invariances."""

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crystalgroups import (
    LatticeGroup,
    Pattern,
    PermutationGroup,
    bravais_group,
    bravais_types,
    check_equivariance_condition,
    pattern,
    pattern_from_group,
    symmetric_pattern,
)
from crystalgroups.errors import (
    CrystalGroupsError,
    CrystalGroupsTypeError,
    ExcessSymmetryWarning,
    IncompatibleSupercellError,
)
from crystalgroups.orbits import pair_orbits, product_generators
from crystalgroups.testing import (
    assert_colors_invariant,
    assert_pattern_equivariant,
    brute_force_pair_orbits,
    unimodular_matrices,
)

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
    assert (
        m["permutation_group_order"]
        == p.group_order
        == LatticeGroup(bravais_group("cF").point_group, (3, 3, 3)).permutation_group().order
    )
    s = pattern("S", (2, 2))
    assert s.metadata["group_order"] == math.factorial(4) and s.num_edge_colors == 2


def test_pattern_from_any_permutation_group():
    cyclic = PermutationGroup([[1, 2, 3, 4, 0]], name="C5")
    p = pattern_from_group(cyclic)
    assert p.num_edge_colors == 5
    assert_pattern_equivariant(p)


@pytest.mark.parametrize(
    "bad,error",
    [
        (("cP", (2, 2, 3)), IncompatibleSupercellError),
        (("cP", (2, 2)), CrystalGroupsError),
        (("xx", (2, 2)), CrystalGroupsError),
        (("cP", (0, 2, 2)), CrystalGroupsError),
    ],
)
def test_bad_pattern_requests(bad, error):
    with pytest.raises(error, match="expected|Could not resolve"):
        pattern(*bad)


def test_patterns_are_deterministic_and_read_only():
    a, b = pattern("hR", (3, 3, 3)), pattern("hR", (3, 3, 3))
    assert a == b and a.edge_colors.tobytes() == b.edge_colors.tobytes()
    assert not a.edge_colors.flags.writeable and not a.node_colors.flags.writeable


# -- hand-made patterns, one meaning of group_order, products, several node colours --------------


def test_hand_made_patterns_are_canonicalised_and_checked():
    p = pattern("cP", (2, 2, 2), warn=False)
    relabelled = (p.edge_colors + 1) * 7  # non-canonical labels, same partition
    hand = Pattern(p.node_colors + 3, relabelled, p.generators, "hand")
    assert hand == p and hand.num_edge_colors == p.num_edge_colors == len(np.unique(relabelled))
    assert hand.check().ok
    assert_pattern_equivariant(hand)
    assert hand.group_order == hand.permutation_group_order == 48  # from the generators (Schreier-Sims)
    gaps = Pattern([0, 0], [[0, 9], [9, 0]], [[1, 0]])
    assert gaps.num_edge_colors == 2


@pytest.mark.parametrize(
    "args,fragment",
    [
        (([0, 0], [[0, -1], [-1, 0]], [[1, 0]]), "non-negative edge colours"),
        (([0, 0], [[0, 1], [1, 0]], [[0, 0]]), "permutations of 0..1"),
        (([0, 0, 0, 0], np.arange(16).reshape(4, 4), [[0, 1, 2, 2]]), "permutations of 0..3, got row 0"),
        (([0, 0], [[0, 1], [1, 0]], [[0, 1, 2]]), "degree 2"),
        (([0, 0], [[0, 1]], [[1, 0]]), "shape (2, 2)"),
        (([0, 0], [[0.5, 1], [1, 0]], [[1, 0]]), "integer edge colours"),
        (([0, 0], [[0, 1.5], [1.5, 0]], [[1, 0]]), "integer edge colours"),  # rounds up, unlike 0.5
        (([0.7, 0], [[0, 1], [1, 0]], [[1, 0]]), "integer node colours"),
        (([0, -2], [[0, 1], [1, 0]], [[1, 0]]), "non-negative node colours"),
    ],
)
def test_hand_made_patterns_reject_bad_input(args, fragment):
    with pytest.raises(CrystalGroupsError) as info:
        Pattern(*args)
    assert fragment in str(info.value)


def test_group_order_means_group_elements_everywhere(capsys):
    from crystalgroups.cli import main

    p = pattern("cF", (2, 2, 2), warn=False)
    assert p.group_order == p.to_dict()["group_order"] == 384 == LatticeGroup("cF", (2, 2, 2)).order
    assert p.permutation_group_order == p.to_dict()["permutation_group_order"] == 192
    assert main(["pattern", "cF", "--supercell", "2", "2", "2", "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert (out["group_order"], out["permutation_group_order"]) == (384, 192)
    prod = p.product(symmetric_pattern(2))
    assert (prod.group_order, prod.permutation_group_order) == (384 * 2, 192 * 2)


def test_translation_only_group_p1():
    p = pattern("P1", (2, 3))
    assert p.num_edge_colors == 6 and p.metadata["point_group_order"] == 1 and p.group_order == 6
    assert not np.array_equal(p.edge_colors, p.edge_colors.T)  # (a, b) and (b, a) differ without -I
    assert pattern("P-1", (2, 3)).num_edge_colors == 4  # P-1 is not P1
    with pytest.raises(CrystalGroupsError, match="'aP'"):
        bravais_group("P1")


def test_misleading_errors_are_fixed():
    with pytest.raises(CrystalGroupsError, match="3-dimensional type 'cF'"):
        pattern("Fm-3m", (2, 2))
    with pytest.raises(CrystalGroupsError, match="Did you mean 'cF'"):
        pattern("cf", (2, 2, 2))
    with pytest.raises(CrystalGroupsError, match="expected kind among"):
        pattern("hR", (2, 2, 2)).save("x.png", kind="matrx")
    with pytest.raises(CrystalGroupsError, match="expected a group"):
        pattern(3.5, (2, 2))
    with pytest.raises(CrystalGroupsError, match="no supercell"):
        pattern(LatticeGroup("cP", (2, 2, 2)), (2, 2, 2))


def test_pattern_takes_lattices_and_groups():
    from crystalgroups import Lattice

    fcc = [[0, 2, 2], [2, 0, 2], [2, 2, 0]]
    assert pattern(fcc, (2, 2, 2), warn=False) == pattern("cF", (2, 2, 2), warn=False)
    assert pattern(Lattice(fcc), (2, 2, 2), warn=False).metadata["bravais_type"] == "cF"
    assert pattern(LatticeGroup("hp", (3, 3)), warn=False) == pattern("hp", (3, 3), warn=False)
    assert pattern(symmetric_group_of(4)) == symmetric_pattern(4)
    assert pattern("hp").num_nodes == 4 and pattern("cP").num_nodes == 8  # default 2x2 / 2x2x2


def symmetric_group_of(n):
    from crystalgroups import symmetric_group

    return symmetric_group(n)


@st.composite
def random_patterns(draw, max_nodes=6):
    n = draw(st.integers(1, max_nodes))
    colours = draw(st.lists(st.integers(0, 4), min_size=n * n, max_size=n * n))
    nodes = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    return Pattern(nodes, np.array(colours).reshape(n, n), [np.arange(n)])


@given(random_patterns(), random_patterns())
def test_product_numbering_equals_sorting_the_pairs(a, b):
    n, m = a.num_nodes, b.num_nodes
    prod = a.product(b)
    codes = a.edge_colors.reshape(n, 1, n, 1) * b.num_edge_colors + b.edge_colors.reshape(1, m, 1, m)
    from crystalgroups.orbits import canonical_labels

    np.testing.assert_array_equal(prod.edge_colors, canonical_labels(codes.reshape(n * m, n * m)))


@given(st.sampled_from(["P-1", "cP", "hR"]), st.integers(1, 3))
def test_patterns_with_several_node_colours(spec, sites):
    """Cells x sites where the sites' group has two orbits (e.g. two atom kinds): two node colours per cell orbit."""
    cells = pattern(spec, (2, 2, 2), warn=False)
    swap = np.arange(sites + 1)
    swap[[0, 1]] = [1, 0] if sites >= 1 else [0, 1]
    kinds = pattern_from_group(PermutationGroup([swap]) if sites >= 2 else PermutationGroup([np.arange(sites + 1)]))
    assert kinds.num_node_colors == (sites if sites >= 2 else sites + 1)
    prod = cells.product(kinds)
    assert prod.num_node_colors == kinds.num_node_colors
    assert_pattern_equivariant(prod)
    np.testing.assert_array_equal(prod.edge_colors, pair_orbits(prod.generators))
    full = LatticeGroup(spec if spec != "P-1" else "aP", (2, 2, 2)).all_permutations()
    within = PermutationGroup(kinds.generators).elements()
    elements = [(c[:, None] * (sites + 1) + s[None, :]).ravel() for c in full[::7] for s in within]
    assert_colors_invariant(prod.edge_colors, elements)


def test_with_node_colors_keeps_the_group_when_it_preserves_them():
    p = symmetric_pattern(2).product(pattern("P1", (2, 2)))  # 2 sites x 4 cells
    both = pattern("P1", (2, 2)).product(symmetric_pattern(2))
    with pytest.raises(CrystalGroupsError, match="generator"):
        both.with_node_colors([0, 1] * 4)  # S2 swaps the two kinds
    q = pattern("P1", (2, 2)).product(pattern_from_group(PermutationGroup([[0, 1]])))
    marked = q.with_node_colors([0, 1] * 4)
    assert marked.num_node_colors == 2 and marked.check().ok and p.num_nodes == 8


def test_default_call_is_fast_and_lazy():
    import time

    start = time.perf_counter()
    p = pattern("cP", (10, 10, 10))
    assert time.perf_counter() - start < 1.0  # no excess-symmetry search above 64 cells by default
    assert "automorphisms_exceed_group" not in p.__dict__
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExcessSymmetryWarning)
        pattern("cF", (2, 2, 2))  # small: checked by default
    assert caught


def test_sparse_patterns_check_and_draw():
    from crystalgroups import SparsePattern
    from crystalgroups.examples import graphene_pattern

    full, sparse = graphene_pattern()
    assert sparse.check().ok
    assert sparse.plot().get_title()
    wrong = SparsePattern(
        sparse.edge_index, (sparse.edge_colors + 1) % sparse.num_edge_colors, sparse.kept_colors, full
    )
    report = wrong.check()
    assert not report.ok and "parent colour" in report.colors_not_invariant[0]


def test_pattern_takes_pymatgen_and_ase_objects_without_importing_them_itself():
    import warnings

    from ase.build import bulk
    from pymatgen.core import Lattice as PmgLattice
    from pymatgen.core import Structure

    from crystalgroups import Lattice, bravais_type

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cu = Structure(PmgLattice([[0, 1.8, 1.8], [1.8, 0, 1.8], [1.8, 1.8, 0]]), ["Cu"], [[0, 0, 0]])
    al = bulk("Al", "fcc", a=4.05)
    want = pattern("cF", (2, 2, 2), warn=False)
    for obj in (cu, cu.lattice, al, al.cell):
        assert pattern(obj, (2, 2, 2), warn=False) == want
        assert bravais_type(obj) == "cF" and Lattice(obj).dim == 3


# -- what the mutation run of patterns.py found untested (docs/contributing.md) ---------------------------


def test_sparse_check_names_the_one_edge_whose_colour_is_not_its_parents():
    from crystalgroups import SparsePattern
    from crystalgroups.examples import graphene_pattern

    full, sparse = graphene_pattern()
    src, dst = sparse.edge_index
    top = sparse.num_edge_colors - 1
    for shift in (1, -1):  # one edge, not the first, gets the next (or the previous) kept colour
        k = next(k for k in range(1, len(src)) if 0 <= sparse.edge_colors[k] + shift <= top)
        colours = sparse.edge_colors.copy()
        colours[k] += shift
        colours[-1] = (colours[-1] + 1) % sparse.num_edge_colors  # and the last edge its next colour too
        report = SparsePattern(sparse.edge_index, colours, sparse.kept_colors, full).check()
        parent = int(full.edge_colors[src[k], dst[k]])
        assert report.colors_not_invariant[0] == (
            f"edge {k} {(int(src[k]), int(dst[k]))} has colour {int(colours[k])}, which is not its parent colour "
            f"{parent}")


def test_the_check_names_the_first_node_a_generator_moves_to_another_colour():
    # The 3-cycle 0 -> 1 -> 2 -> 0 does not preserve the node colours (0, 0, 1): node 0 keeps its
    # colour (its image 1 has colour 0), node 1 is the first whose image (2) has another colour.
    beta, g = np.array([0, 0, 1]), np.array([1, 2, 0])
    p = symmetric_pattern(3)
    bad = Pattern._make(beta, p.edge_colors, g[None], "C3, split nodes", 3, {})
    report = check_equivariance_condition(bad)
    assert "generator 0 maps node 1 of colour 0 to node 2 of colour 1" in report.colors_not_invariant


def test_generator_errors_shorten_long_rows_after_20_points_only():
    for n, shortened in ((20, False), (21, True)):
        row = list(range(n))
        row[0] = 1  # not a permutation
        with pytest.raises(CrystalGroupsError) as info:
            Pattern(np.zeros(n, dtype=int), np.where(np.eye(n, dtype=bool), 0, 1), [row])
        assert str(info.value).endswith(f"{row[:20]}...") is shortened
        assert str(info.value).endswith(f"{row[:20]}") is not shortened


def test_canonical_labels_are_recognised_across_blocks():
    from crystalgroups.patterns import _is_canonical

    for block in (1, 2, 3, 1 << 20):
        assert _is_canonical(np.array([0, 1, 2, 3, 1, 4]), block=block)
        assert not _is_canonical(np.array([0, 1, 3, 2]), block=block)
        assert not _is_canonical(np.array([0, 2, 1]), block=block)


def test_the_symmetric_pattern_reports_the_stabiliser_of_a_point_as_its_point_group():
    for sizes in ((2, 2), (3, 1), (2, 2, 2)):
        n = math.prod(sizes)
        meta = pattern("S", sizes).metadata
        assert meta["point_group_order"] == math.factorial(n - 1)
        assert meta["group_order"] == meta["permutation_group_order"] == math.factorial(n)


def _limit_pattern_guards(monkeypatch, limit):
    import functools

    from crystalgroups import _validate
    from crystalgroups import patterns as patterns_module

    monkeypatch.setattr(patterns_module, "check_dense_size",
                        functools.partial(_validate.check_dense_size, limit=limit))


@pytest.mark.parametrize("n", [3, 4])
def test_pattern_size_guards_at_their_exact_limits(monkeypatch, n):
    from crystalgroups.errors import SizeLimitError

    cyclic = PermutationGroup([list(range(1, n)) + [0]])
    two = symmetric_pattern(2)
    _limit_pattern_guards(monkeypatch, n * n)  # exactly n^2 entries pass
    assert symmetric_pattern(n).num_nodes == n
    assert pattern_from_group(cyclic).num_edge_colors == n
    _limit_pattern_guards(monkeypatch, n * n - 1)  # one entry fewer is refused, with the sizes named
    with pytest.raises(SizeLimitError, match=f"got {n * n:,} .{n:,} x {n:,} points."):
        symmetric_pattern(n)
    with pytest.raises(SizeLimitError, match=f"got {n * n:,} .{n:,} x {n:,} points."):
        pattern_from_group(cyclic)
    cells = LatticeGroup("P-1", (n, 1))
    _limit_pattern_guards(monkeypatch, n * n)
    assert pattern_from_group(cells).num_nodes == n
    _limit_pattern_guards(monkeypatch, n * n - 1)
    with pytest.raises(SizeLimitError, match=f"got {n * n:,} .{n:,} x {n:,} cells."):
        pattern_from_group(cells)
    _limit_pattern_guards(monkeypatch, 10**6)
    left = symmetric_pattern(n)
    _limit_pattern_guards(monkeypatch, (2 * n) ** 2)
    assert left.product(two).num_nodes == 2 * n
    _limit_pattern_guards(monkeypatch, (2 * n) ** 2 - 1)
    with pytest.raises(SizeLimitError, match=f"got {(2 * n) ** 2:,} .{2 * n:,} x {2 * n:,} nodes."):
        left.product(two)


def test_pattern_takes_group_and_supercell_by_keyword_and_warn_only_by_keyword():
    assert pattern(group="cP", supercell=(2, 2, 2), warn=False) == pattern("cP", (2, 2, 2), warn=False)
    with pytest.raises(TypeError):
        pattern("cP", (2, 2, 2), False)
    for bad in (1, 0, "yes"):
        with pytest.raises(CrystalGroupsTypeError, match="expected warn as True, False or None"):
            pattern("cP", (2, 2, 2), warn=bad)


@pytest.mark.parametrize("kwargs,fragment", [
    ({"edge_colors": [0, 1]}, "expected edge colours as a 2-D array, got shape (2,)"),
    ({"node_colors": 0}, "expected node colours as a 1-D array, got shape ()"),
    ({"node_colors": [[0, 0]]}, "expected node colours as a 1-D array, got shape (1, 2)"),
    ({"edge_colors": np.zeros((2, 2, 1), dtype=int)}, "expected edge colours as a 2-D array, got shape (2, 2, 1)"),
    ({"generators": [[1]]}, "expected generators of degree 2, got shape (1, 1)"),
    ({"group_order": 0}, "expected group_order as a positive integer, got 0"),
    ({"group_order": 2.5}, "expected group_order as a positive integer, got 2.5"),
    ({"group_order": True}, "expected group_order as a positive integer, got True"),
])
def test_hand_made_pattern_fields_are_checked(kwargs, fragment):
    fields = {"node_colors": [0, 0], "edge_colors": [[0, 1], [1, 0]], "generators": [[1, 0]], **kwargs}
    with pytest.raises(CrystalGroupsError) as info:
        Pattern(**fields)
    assert str(info.value) == fragment


def test_the_check_takes_other_generators_and_refuses_bad_ones():
    p = pattern("cP", (2, 2, 2), warn=False)
    assert check_equivariance_condition(p, generators=p.generators).ok
    sub = check_equivariance_condition(p, generators=p.generators[:1])  # a subgroup: colours kept, orbits smaller
    assert sub.colors_not_invariant == () and "node colour 0 spans several node orbits" in sub.classes_not_single_orbits
    for bad in ([[0, 1, 2]], [[0] * 8], [list(range(9))]):
        with pytest.raises(CrystalGroupsError, match="expected generators that are permutations of the pattern's 8"):
            check_equivariance_condition(p, generators=bad)


def test_restrict_names_the_valid_node_range():
    with pytest.raises(CrystalGroupsError) as info:
        pattern("P-1", (2, 2, 2)).restrict([[0, 3], [9, 1]])
    assert str(info.value) == "expected node indices in 0..7, got 0..9"


def test_names_and_metadata_describe_the_supercell():
    diagonal = pattern("cP", (2, 2, 2), warn=False)
    assert diagonal.group_name.endswith("on 2 x 2 x 2") and diagonal.metadata["supercell"] == [2, 2, 2]
    matrix = [[2, 1, 0], [0, 2, 0], [0, 0, 1]]
    skew = pattern("P-1", matrix, warn=False)
    assert skew.metadata["supercell"] == np.array(matrix).tolist() or skew.metadata["supercell"] == np.array(
        matrix).T.tolist()
    assert "columns [[" in skew.group_name and " x " not in skew.group_name


def test_to_networkx_has_every_ordered_pair_but_no_loops(monkeypatch):
    p = pattern("tP", (2, 2, 1), warn=False)
    g = p.to_networkx()
    n = p.num_nodes
    assert g.number_of_nodes() == n and g.number_of_edges() == n * (n - 1)
    assert not any(i == j for i, j in g.edges)
    assert all(g.edges[i, j]["color"] == p.edge_colors[i, j] for i, j in itertools.permutations(range(n), 2))
    # its size guard counts the ordered pairs, against its own limit of 4,000,000
    from crystalgroups import _validate
    from crystalgroups import patterns as patterns_module

    calls = []

    def record(entries, what, shape="", limit=_validate.MAX_DENSE_ENTRIES):
        calls.append((entries, limit))
        return _validate.check_dense_size(entries, what, shape, limit)

    monkeypatch.setattr(patterns_module, "check_dense_size", record)
    p.to_networkx()
    assert calls == [(n * n, 4_000_000)]


def test_the_excess_symmetry_warning_points_at_the_callers_line():
    spec, size = "cF", (2, 2, 2)  # a pattern with excess symmetry
    assert pattern(spec, size, warn=False).automorphisms_exceed_group
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExcessSymmetryWarning)
        pattern(spec, size)
    assert caught and caught[0].filename == __file__


def _brute_coloured_automorphisms(p: Pattern) -> int:
    """Permutations preserving both the edge and the node colours, by enumeration."""
    n, count = p.num_nodes, 0
    E, beta = p.edge_colors, p.node_colors
    for s in itertools.permutations(range(n)):
        s = np.array(s)
        count += bool(np.array_equal(beta[s], beta) and np.array_equal(E[np.ix_(s, s)], E))
    return count


@given(st.integers(3, 6), st.lists(st.permutations(range(6)), min_size=1, max_size=2))
def test_excess_symmetry_of_intransitive_groups_matches_brute_force(n, perms):
    gens = [[int(v) for v in perm if v < n] for perm in perms]  # permutations of 0..n-1 (the rest dropped)
    p = pattern_from_group(PermutationGroup(gens))
    aut = _brute_coloured_automorphisms(p)
    assert aut >= p.permutation_group_order
    assert p.automorphisms_exceed_group == (aut > p.permutation_group_order)


def test_several_node_colours_refine_the_existing_ones():
    # the product of P-1 on 2 cells with two atom kinds: node (cell, atom) has the atom's colour
    atoms = Pattern([0, 1], [[0, 1], [2, 3]], [[0, 1]], "two kinds")
    p = pattern("P-1", (2, 1, 1)).product(atoms)
    assert p.node_colors.tolist() == [0, 1, 0, 1]
    split = p.with_node_colors([0, 0, 0, 0])  # nothing new: the old colours stay
    assert split.node_colors.tolist() == [0, 1, 0, 1]
    both = p.with_node_colors([0, 1, 0, 1])
    assert both.node_colors.tolist() == [0, 1, 0, 1]
    three = Pattern([0, 0, 1], [[0, 1, 2], [1, 0, 2], [3, 3, 4]], [[1, 0, 2]], "three")
    assert three.with_node_colors([0, 0, 0]).node_colors.tolist() == [0, 0, 1]
    assert three.with_node_colors([1, 1, 0]).node_colors.tolist() == [0, 0, 1]


def test_products_with_more_than_256_colours_number_them_canonically():
    cells = pattern("P1", (17, 17), warn=False)
    assert cells.num_edge_colors == 289
    both = cells.product(symmetric_pattern(2))
    pairs = cells.edge_colors[:, None, :, None] * 2 + symmetric_pattern(2).edge_colors[None, :, None, :]
    expected = np.unique(pairs.reshape(578, 578), return_inverse=True)[1].reshape(578, 578)
    from crystalgroups.orbits import canonical_labels

    np.testing.assert_array_equal(both.edge_colors, canonical_labels(expected))
    assert both.num_edge_colors == 578


def test_the_automorphism_search_gives_up_at_its_budget():
    from crystalgroups.patterns import _automorphisms_exceed

    p = pattern("cI", (4, 4, 4), warn=False)  # its search takes 478 steps: a budget is the most it may take
    assert _automorphisms_exceed(p, budget=477) is None
    assert _automorphisms_exceed(p, budget=478) is False


@pytest.mark.parametrize("generators", [[[1, 0], [0]], [[2**70, 0]], [["a", "b"]]])
def test_generators_that_are_not_an_integer_array_get_a_clear_error(generators):
    with pytest.raises(CrystalGroupsError, match="expected generators as rows of an integer array"):
        Pattern([0, 0], [[0, 1], [1, 0]], generators)


def test_the_default_excess_check_runs_up_to_64_cells_only(monkeypatch):
    from crystalgroups import patterns as patterns_module

    assert patterns_module.EXCESS_CHECK_MAX_CELLS == 64
    searched = []
    real = patterns_module._automorphisms_exceed
    monkeypatch.setattr(patterns_module, "_automorphisms_exceed", lambda p: searched.append(p.num_nodes) or real(p))
    for sizes in ((8, 8), (5, 13), (4, 4, 4), (1, 5, 13)):
        pattern("P-1", sizes)
    assert searched == [64, 64]
    pattern("P-1", (5, 13), warn=True)
    assert searched == [64, 64, 65]


def _first_colour_break(sparse):
    """Independently: for each generator mapping the edge set onto itself, the first edge whose image has
    another colour, as the check's message."""
    src, dst = sparse.edge_index
    edges = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(src, dst))}
    out = []
    for g_index, g in enumerate(sparse.parent.generators):
        images = [(int(g[a]), int(g[b])) for a, b in zip(src, dst)]
        if not all(e in edges for e in images):
            continue
        for k, e in enumerate(images):
            if sparse.edge_colors[edges[e]] != sparse.edge_colors[k]:
                out.append(f"generator {g_index} maps edge {(int(src[k]), int(dst[k]))} of colour "
                           f"{int(sparse.edge_colors[k])} to an edge of colour {int(sparse.edge_colors[edges[e]])}")
                break
    return out


def _split_edge(sparse, k, parent=None):
    """``sparse`` with edge ``k`` alone given a new colour of the same parent colour (under ``parent``, default
    ``sparse.parent``): its parent colours still agree, its invariance fails."""
    from crystalgroups import SparsePattern

    colours = sparse.edge_colors.copy()
    colours[k] = sparse.num_edge_colors
    kept = np.append(sparse.kept_colors, sparse.kept_colors[sparse.edge_colors[k]])
    return SparsePattern(sparse.edge_index, colours, kept, sparse.parent if parent is None else parent)


@pytest.mark.parametrize("k", [0, 3, 17])
def test_the_sparse_check_finds_a_colour_split_inside_one_parent_colour(k):
    from crystalgroups.examples import graphene_pattern

    full, sparse = graphene_pattern()
    split = _split_edge(sparse, k)
    report = split.check()
    expected = _first_colour_break(split)
    assert expected and list(report.colors_not_invariant) == expected
    assert not _first_colour_break(sparse) and sparse.check().ok
    # a generator that does not map the edge set onto itself is skipped, not compared
    swap = np.array([2, 1, 0, 3, 4, 5, 6, 7])  # two A atoms exchanged: bonds go to non-bonds
    edges = set(zip(*sparse.edge_index.tolist()))
    assert {(int(swap[a]), int(swap[b])) for a, b in edges} != edges
    other = _split_edge(sparse, k, Pattern._make(full.node_colors, full.edge_colors, swap[None], "swap", 2, {}))
    assert _first_colour_break(other) == [] and other.check().ok


@pytest.mark.parametrize("pair", [(0, 1), (1, 0), (3, 5), (7, 6), (2, 2)])
def test_the_check_names_the_first_pair_a_generator_moves_to_another_colour(pair):
    p = pattern("cP", (2, 2, 2), warn=False)
    split = p.edge_colors.copy()
    split[pair] = p.num_edge_colors
    bad = Pattern(p.node_colors, split, p.generators, "split", p.group_order)
    report = check_equivariance_condition(bad)
    alpha = bad.edge_colors
    for k, g in enumerate(bad.generators):
        moved = alpha[np.ix_(g, g)]
        if not np.array_equal(moved, alpha):
            i, j = next((i, j) for i in range(8) for j in range(8) if moved[i, j] != alpha[i, j])
            assert report.colors_not_invariant[0] == (
                f"generator {k} maps the pair {(i, j)} of colour {alpha[i, j]} to the pair "
                f"{(int(g[i]), int(g[j]))} of colour {alpha[g[i], g[j]]}")
            break
    else:
        raise AssertionError("expected a generator that moves the split pair")


@pytest.mark.parametrize("colours", [
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([["0", "1"], ["1", "0"]]),
    np.array([[0, 1], [1, 0]], dtype=object),
    np.array([[True, False], [False, True]]),
])
def test_colours_of_a_non_numeric_dtype_are_refused(colours):
    with pytest.raises(CrystalGroupsTypeError) as info:
        Pattern([0, 0], colours, [[1, 0]])
    assert str(info.value) == f"expected edge colours as an integer array, got dtype {colours.dtype}"


def test_canonical_labels_edge_cases():
    from crystalgroups.patterns import _is_canonical

    assert _is_canonical(np.array([], dtype=np.int64))
    assert not _is_canonical(np.array([1, 0])) and not _is_canonical(np.array([0, 0, 2, 1]))


def test_patterns_compare_by_both_colourings_and_are_frozen():
    import dataclasses

    p = pattern("cP", (2, 2, 2), warn=False)
    assert p == Pattern(p.node_colors, p.edge_colors, p.generators, "another name")
    other_edges = Pattern(p.node_colors, pattern("P-1", (2, 2, 2)).edge_colors, p.generators)
    other_nodes = Pattern(np.arange(8) % 2, p.edge_colors, np.arange(8)[None])
    assert p != other_edges and p != other_nodes and p != "cP"
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.group_name = "x"
    report = p.check()
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.colors_not_invariant = ()
    sparse = p.restrict([[0, 1], [1, 0]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        sparse.edge_colors = None


def test_lattice_group_patterns_are_named_after_their_group_unless_named():
    from crystalgroups import LatticeGroup

    group = LatticeGroup("cP", (2, 2, 2))
    assert pattern_from_group(group).group_name == f"{group.point_group.name} on 2 x 2 x 2"
    assert pattern_from_group(group, name="mine").group_name == "mine"


def test_new_node_colours_combine_with_every_old_one():
    # the trivial group preserves any colouring; old (0, 1, 0, 1) with new (0, 0, 1, 1) gives four classes
    p = Pattern([0, 1, 0, 1], np.arange(16).reshape(4, 4), [np.arange(4)])
    assert p.with_node_colors([0, 0, 1, 1]).node_colors.tolist() == [0, 1, 2, 3]
    assert p.with_node_colors([0, 0, 2, 2]).node_colors.tolist() == [0, 1, 2, 3]
    assert p.with_node_colors([1, 1, 1, 1]).node_colors.tolist() == [0, 1, 0, 1]


def test_ragged_colours_get_a_clear_error():
    with pytest.raises(CrystalGroupsError, match="expected edge colours as an integer array, got"):
        Pattern([0, 0], [[0, 1], [1]], [[1, 0]])


def test_excess_symmetry_of_a_large_intransitive_group():
    # A4 on {0..3} x S4 on {4..7}: order 288, two node orbits. A4 is 2-transitive, so its pair colours are
    # S4's, and S4 x S4 (order 576) preserves the pattern: excess, found only after more than 256 automorphisms
    a4 = [[1, 2, 0, 3, 4, 5, 6, 7], [1, 0, 3, 2, 4, 5, 6, 7]]
    s4 = [[0, 1, 2, 3, 5, 6, 7, 4], [0, 1, 2, 3, 5, 4, 6, 7]]
    p = pattern_from_group(PermutationGroup(a4 + s4))
    assert p.permutation_group_order == 288 and p.num_node_colors == 2
    assert _brute_coloured_automorphisms(p) == 576
    assert p.automorphisms_exceed_group is True


def test_generator_errors_name_the_first_bad_row_and_the_shape():
    with pytest.raises(CrystalGroupsError) as info:
        Pattern([0, 0], [[0, 1], [1, 0]], [[1, 0], [0, 0], [1, 1]])
    assert str(info.value) == "expected generators that are permutations of 0..1, got row 1: [0, 0]"
    with pytest.raises(CrystalGroupsError) as info:
        Pattern([0, 0], [[0, 1], [1, 0]], [[[1, 0], [0, 1]]])
    assert str(info.value) == "expected generators of degree 2, got shape (1, 2, 2)"


def test_the_check_takes_generators_of_more_than_256_nodes():
    cells = pattern("P1", (17, 17), warn=False)
    assert cells.num_nodes == 289
    assert check_equivariance_condition(cells, generators=cells.generators).ok


def test_integral_float_colours_and_the_trivial_group_order_are_accepted():
    whole = Pattern(np.zeros(2), np.array([[0.0, 1.0], [1.0, 0.0]]), [[1, 0]], group_order=2)
    assert whole == Pattern([0, 0], [[0, 1], [1, 0]], [[1, 0]]) and whole.edge_colors.dtype == np.int64
    trivial = Pattern([0, 1], [[0, 1], [2, 3]], [[0, 1]], group_order=1)
    assert trivial.group_order == 1 and trivial.check().ok


def test_excess_symmetry_found_at_the_first_automorphism_outside_a_trivial_group():
    # the identity alone, on a colouring that the swap also preserves: |Aut| = 2 > 1
    p = Pattern([0, 0], [[0, 1], [1, 0]], [[0, 1]])
    assert p.permutation_group_order == 1 and _brute_coloured_automorphisms(p) == 2
    assert p.automorphisms_exceed_group is True
    assert Pattern([0, 0], [[0, 1], [2, 0]], [[0, 1]]).automorphisms_exceed_group is False


def test_lattice_patterns_say_they_are_translation_invariant_and_others_do_not():
    from crystalgroups import LatticeGroup

    for p in (pattern("cP", (2, 2, 2), warn=False), pattern("P1", (3, 2)),
              pattern_from_group(LatticeGroup("hR", (2, 2, 2)))):
        assert p.metadata["translation_invariant"] is True
        row = p.edge_colors[0]  # then every row is row 0 permuted by a translation
        assert all(sorted(r) == sorted(row) for r in p.edge_colors.tolist())
    assert "translation_invariant" not in pattern_from_group(PermutationGroup([[1, 2, 0, 3]])).metadata


@pytest.mark.parametrize("edge_colors", [[[0, 1, 1], [1, 0, 1]], [[0, 1], [1, 0], [1, 1]], [[0]]])
def test_edge_colours_of_any_other_shape_are_refused(edge_colors):
    with pytest.raises(CrystalGroupsError) as info:
        Pattern([0, 0], edge_colors, [[1, 0]])
    assert str(info.value) == f"expected edge colours of shape (2, 2), got {np.shape(edge_colors)}"


def test_restrict_refuses_negative_node_indices():
    # a negative index would silently wrap around to the last nodes
    for edges in ([[-1], [0]], [[0], [-1]]):
        with pytest.raises(CrystalGroupsError) as info:
            pattern("P-1", (2, 2, 2)).restrict(edges)
        assert str(info.value) == "expected node indices in 0..7, got -1..0"


def test_with_node_colors_of_the_wrong_length_names_both_lengths():
    for colours in ([0, 1], [0, 1, 0, 1, 0]):
        with pytest.raises(CrystalGroupsError) as info:
            pattern("P-1", (2, 2)).with_node_colors(colours)
        assert str(info.value) == f"expected 4 node colours, got {len(colours)}"


def test_product_names_put_only_composite_names_in_parentheses():
    cells, pair = pattern("P-1", (2, 2)), symmetric_pattern(2)
    assert (cells.group_name, pair.group_name) == ("mp on 2 x 2", "S2")
    assert pair.product(pair).group_name == "S2 x S2"
    assert cells.product(pair).group_name == "(mp on 2 x 2) x S2"
    assert pair.product(cells.product(pair)).group_name == "S2 x ((mp on 2 x 2) x S2)"


@pytest.mark.parametrize("spec,sizes", [("P-1", (3, 3)), ("hp", (3, 3)), ("P-1", (1, 5)), ("mp", (2, 3)),
                                        ("cP", (3, 3, 3))])
def test_the_sparse_check_on_supercells_whose_size_is_not_a_power_of_two(spec, sizes):
    # edge codes src * n + dst: n = 9, 5, 6 or 27 nodes, so they are not bit fields
    p = pattern(spec, sizes, warn=False)
    n = p.num_nodes
    src, dst = np.nonzero(~np.eye(n, dtype=bool))  # every pair: mapped onto itself by every generator
    sparse = p.restrict([src, dst])
    assert sparse.check().ok and not _first_colour_break(sparse)
    split = _split_edge(sparse, n + 1)
    expected = _first_colour_break(split)
    assert expected and list(split.check().colors_not_invariant) == expected
    # one edge only: every generator but the identity moves it off the edge set, to a larger code too
    single = p.restrict([[0], [n - 1]])
    assert single.check().ok and single.check().colors_not_invariant == ()


def test_the_automorphism_search_counts_only_true_automorphisms():
    from crystalgroups.patterns import _automorphisms_exceed

    # the trivial group on 5 nodes; refinement reaches assignments that are not automorphisms
    colours = [[0, 1, 2, 2, 1], [1, 0, 2, 2, 3], [2, 2, 0, 2, 3], [2, 2, 2, 0, 2], [1, 3, 3, 2, 0]]
    p = Pattern([0] * 5, colours, np.arange(5)[None])
    assert _brute_automorphisms(p) == 1
    assert _automorphisms_exceed(p) is False and p.automorphisms_exceed_group is False
    # the same colouring with one more symmetry (nodes 2 and 3 exchanged) does exceed the trivial group
    sym = np.array(colours)
    sym[2, 4] = sym[3, 4] = sym[4, 2] = sym[4, 3] = 3
    q = Pattern([0] * 5, sym, np.arange(5)[None])
    assert _brute_automorphisms(q) == 2 and _automorphisms_exceed(q) is True


def test_hand_made_patterns_of_more_than_256_nodes():
    # sizes compared by value, not by identity (Python caches small ints only)
    p = pattern("P-1", (17, 17), warn=False)
    again = Pattern(p.node_colors, p.edge_colors, p.generators, "again")
    assert again == p and again.num_nodes == 289


def test_new_node_colours_combine_with_old_ones_of_any_count():
    # four old colours with three new ones: all twelve pairs occur, so twelve classes in order of first occurrence
    old = np.repeat(np.arange(4), 3)
    new = np.tile(np.arange(3), 4)
    p = Pattern(old, np.arange(144).reshape(12, 12), [np.arange(12)])
    assert p.with_node_colors(new).node_colors.tolist() == list(range(12))
    assert p.with_node_colors(2 - new).node_colors.tolist() == list(range(12))


def test_sparse_patterns_are_hashable_by_identity_and_say_how_many_edges_they_have():
    p = pattern("P-1", (2, 2))
    sparse = p.restrict([[0, 0, 1], [1, 2, 0]])
    twin = p.restrict([[0, 0, 1], [1, 2, 0]])
    assert {sparse: 1, twin: 2}[sparse] == 1 and sparse == sparse and sparse != twin
    assert repr(sparse) == f"SparsePattern({p.group_name!r}, edges=3, edge_colors=2 of {p.num_edge_colors})"


def test_the_sparse_check_skips_generators_that_move_edges_past_the_last_one():
    # two edges (an even count): translations move them to larger node pairs, past the last edge code
    p = pattern("P-1", (3, 3), warn=False)
    for edges in ([[0, 0], [1, 2]], [[0], [1]], [[0, 0, 0], [1, 2, 3]]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # and quietly
            report = p.restrict(edges).check()
        assert report.ok and report.colors_not_invariant == ()


def test_the_check_takes_one_generator_as_a_flat_list():
    p = pattern_from_group(PermutationGroup([[1, 2, 3, 0]]))  # the cyclic group of order 4
    assert check_equivariance_condition(p, [1, 2, 3, 0]).ok and check_equivariance_condition(p, [3, 0, 1, 2]).ok
    assert check_equivariance_condition(p, [0, 1, 2, 3]).classes_not_single_orbits


def test_the_automorphism_search_on_more_than_256_nodes():
    from crystalgroups.patterns import _automorphisms_exceed

    # one colour off the diagonal: every permutation preserves it, far more than the trivial group
    n = 300
    p = Pattern(np.zeros(n, int), 1 - np.eye(n, dtype=int), np.arange(n)[None])
    assert _automorphisms_exceed(p) is True


def test_the_automorphism_search_does_not_count_maps_that_merge_two_nodes():
    from crystalgroups.patterns import _automorphisms_exceed

    # nodes 1 and 2 are twins whose pair has the diagonal colour: merging them into one node preserves every
    # colour, but is not a permutation; the colouring's automorphisms are exactly the group (1 2)
    colours = [[0, 1, 1], [1, 0, 0], [1, 0, 0]]
    p = Pattern([0, 0, 0], colours, [[0, 2, 1]])
    assert _brute_automorphisms(p) == 2
    assert _automorphisms_exceed(p) is False


def test_to_networkx_of_more_than_256_nodes_has_no_loops():
    import networkx as nx

    # nodes compared by value, not by identity (Python caches small ints only)
    g = pattern("P-1", (17, 17), warn=False).to_networkx()
    assert g.number_of_edges() == 289 * 288 and nx.number_of_selfloops(g) == 0


def test_the_check_refuses_generators_of_three_dimensions():
    p = symmetric_pattern(3)
    # the second: every row of the one 3 x 3 block is the identity
    for generators in (np.zeros((1, 3, 3), dtype=int), np.tile(np.arange(3), (1, 3, 1))):
        with pytest.raises(CrystalGroupsError) as info:
            check_equivariance_condition(p, generators)
        assert str(info.value) == ("expected generators that are permutations of the pattern's 3 nodes, "
                                   "got an array of shape (1, 3, 3)")


def test_the_check_names_the_first_node_moved_to_a_lower_colour_too():
    # node 0 keeps its colour, node 1 (colour 1) goes to node 0 (colour 0), node 2 (colour 0) to node 1 (colour 1)
    beta, g = np.array([0, 1, 0]), np.array([2, 0, 1])
    bad = Pattern._make(beta, symmetric_pattern(3).edge_colors, g[None], "C3, split nodes", 3, {})
    report = check_equivariance_condition(bad)
    assert report.colors_not_invariant == ("generator 0 maps node 1 of colour 1 to node 0 of colour 0",)


@pytest.mark.parametrize("edges", [np.zeros((2, 1, 1), dtype=int), [0, 1], [[0, 1]], [[0], [1], [2]]])
def test_restrict_refuses_edge_index_of_another_shape(edges):
    with pytest.raises(CrystalGroupsError) as info:
        pattern("P-1", (2, 2)).restrict(edges)
    assert str(info.value) == f"expected edge_index of shape (2, E), got {np.shape(edges)}"


def test_the_sparse_check_goes_on_after_a_generator_that_moves_the_edge_set():
    from crystalgroups.examples import graphene_pattern

    full, sparse = graphene_pattern()
    swap = np.array([2, 1, 0, 3, 4, 5, 6, 7])  # first: two A atoms exchanged, bonds go to non-bonds
    parent = Pattern._make(full.node_colors, full.edge_colors, np.vstack([swap, full.generators]), "swap", 24, {})
    split = _split_edge(sparse, 0, parent)
    report = split.check()
    assert report.colors_not_invariant and all(m.startswith("generator ") and not m.startswith("generator 0 ")
                                               for m in report.colors_not_invariant)


def test_restrict_takes_edges_that_avoid_node_0():
    p = pattern("P-1", (2, 2))
    sparse = p.restrict([[1, 3], [2, 2]])
    assert sparse.edge_index.tolist() == [[1, 3], [2, 2]]
    assert sparse.kept_colors[sparse.edge_colors].tolist() == [p.edge_colors[1, 2], p.edge_colors[3, 2]]


def test_pattern_takes_supercells_of_exactly_max_cells(monkeypatch):
    from crystalgroups import patterns as patterns_module

    monkeypatch.setattr(patterns_module, "MAX_CELLS", 8)
    assert pattern("P-1", (2, 2, 2)).num_nodes == 8
    with pytest.raises(CrystalGroupsError) as info:
        pattern("P-1", (3, 3))
    assert str(info.value) == "expected at most 8 cells (the colour matrix has cells^2 entries), got 9 cells (3 x 3)"


def test_the_check_names_the_first_pair_of_each_colour_that_is_not_one_orbit():
    # the colouring of S3 with the trivial group: each colour class holds several orbits of one pair
    report = check_equivariance_condition(symmetric_pattern(3), [0, 1, 2])
    assert report.classes_not_single_orbits == (
        "edge colour 0 has 3 pairs but the orbit of (0, 0) has 1",
        "edge colour 1 has 6 pairs but the orbit of (0, 1) has 1",
        "node colour 0 spans several node orbits",
    )


def test_patterns_of_permutation_groups_take_the_given_name_else_the_groups_else_g():
    cyclic = PermutationGroup([[1, 2, 3, 0]], name="C4")
    assert pattern_from_group(cyclic).group_name == "C4"
    assert pattern_from_group(cyclic, name="rotations").group_name == "rotations"
    assert pattern_from_group(PermutationGroup([[1, 0]])).group_name == "G"
    assert pattern_from_group(PermutationGroup([[1, 0]]), name="swap").group_name == "swap"


def test_hand_made_patterns_take_one_generator_as_a_flat_list():
    p = Pattern([0, 0, 0], symmetric_pattern(3).edge_colors, [1, 2, 0])
    assert p.generators.tolist() == [[1, 2, 0]] and p == Pattern([0, 0, 0], p.edge_colors, [[1, 2, 0]])


@pytest.mark.parametrize("n", [4, 6])
def test_to_networkx_carries_the_node_colours_and_guards_its_size(monkeypatch, n):
    from crystalgroups import _validate
    from crystalgroups import patterns as patterns_module

    p = Pattern([k % 2 for k in range(n)], np.arange(n * n).reshape(n, n), [np.arange(n)])  # the trivial group
    g = p.to_networkx()
    assert [g.nodes[i]["color"] for i in range(p.num_nodes)] == p.node_colors.tolist()
    calls = []
    monkeypatch.setattr(patterns_module, "check_dense_size",
                        lambda entries, *args, **kwargs: calls.append(entries) or
                        _validate.check_dense_size(entries, *args, **kwargs))
    p.to_networkx()
    assert calls == [p.num_nodes**2]
