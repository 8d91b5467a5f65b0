"""Group axioms, the action on cells as a homomorphism, orders and compatibility."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crystalgroups import (
    LatticeGroup,
    PermutationGroup,
    PointGroup,
    SymOp,
    bravais_group,
    bravais_types,
    symmetric_group,
)
from crystalgroups.errors import CrystalGroupsError, IncompatibleSupercellError
from crystalgroups.groups import is_closed
from crystalgroups.testing import assert_action_is_homomorphism, group_elements, supercells

TYPES = [t.symbol for t in bravais_types()]


@st.composite
def lattice_groups(draw, max_size=3):
    t = bravais_group(draw(st.sampled_from(TYPES)))
    sc = draw(supercells(t.dim, max_size=max_size, cubic=True))
    return LatticeGroup(t.point_group, sc)


@given(st.data())
def test_symop_group_axioms(data):
    G = data.draw(lattice_groups())
    g, h, k = (data.draw(group_elements(G)) for _ in range(3))
    identity = SymOp.identity(G.point_group.dim)
    assert (g @ h) @ k == g @ (h @ k)
    assert g @ identity == g == identity @ g
    assert g @ g.inverse() == identity == g.inverse() @ g
    x = np.arange(G.point_group.dim * 4).reshape(4, -1) - 5
    np.testing.assert_array_equal((g @ h)(x), g(h(x)))


@given(st.data())
def test_action_on_cells_is_a_homomorphism(data):
    G = data.draw(lattice_groups())
    assert_action_is_homomorphism(G, data.draw(group_elements(G)), data.draw(group_elements(G)))


@given(lattice_groups())
def test_orders_against_enumeration(G):
    perms = G.all_permutations()
    assert len(perms) == G.order == G.supercell.num_cells * G.point_group.order
    distinct = np.unique(perms, axis=0)
    assert len(distinct) == G.permutation_group_order
    assert G.permutation_group().order == G.permutation_group_order
    # The generic enumeration agrees with the formula and with sympy's Schreier-Sims order.
    assert len(G.permutation_group().elements()) == G.permutation_group_order


@given(lattice_groups(max_size=2))
def test_generators_generate_every_element(G):
    group = G.permutation_group()
    for p in G.all_permutations()[:: max(1, G.order // 20)]:
        assert group.contains(p)


def test_hierarchy_of_eq_6():
    """P-1 <= G_Lambda <= S_Lambda as permutation groups on 3x3x3 cells, for every 3D type."""
    sc = (3, 3, 3)
    p1 = LatticeGroup(bravais_group("aP").point_group, sc).permutation_group()
    s = symmetric_group(27)
    for t in bravais_types(3):
        G = LatticeGroup(t.point_group, sc).permutation_group()
        assert all(G.contains(g) for g in p1.generators)
        assert all(s.contains(g) for g in G.generators)
        assert p1.order <= G.order <= math.factorial(27)


def test_incompatible_supercell_is_an_error_not_a_silent_drop():
    with pytest.raises(IncompatibleSupercellError, match=r"does not preserve its sublattice"):
        LatticeGroup(bravais_group("cP").point_group, (2, 2, 3))
    # tetragonal (c unique) is compatible with 2 x 2 x 3, in the basis of the representative metric
    assert LatticeGroup(bravais_group("tP").point_group, (2, 2, 3)).order == 12 * 16


def test_dimension_mismatch():
    with pytest.raises(CrystalGroupsError, match="3-dimensional supercell"):
        LatticeGroup(bravais_group("cP").point_group, (2, 2))


def test_point_group_constructors_reject_bad_input():
    with pytest.raises(CrystalGroupsError, match="closed"):
        PointGroup.from_elements([np.eye(2, dtype=int), np.array([[0, 1], [1, 0]]), np.array([[0, -1], [1, 0]])])
    with pytest.raises(CrystalGroupsError, match="finite point group"):
        PointGroup.from_generators([[[1, 1], [0, 1]]])
    with pytest.raises(CrystalGroupsError, match="unimodular"):
        PointGroup.from_generators([[[2, 0], [0, 1]]])
    with pytest.raises(CrystalGroupsError, match="permutations"):
        PermutationGroup([[0, 0, 1]])


def test_is_closed_matches_definition():
    cp = bravais_group("cP").point_group
    assert is_closed(cp.elements)
    assert not is_closed(cp.elements[:-1])


@given(st.integers(1, 7))
def test_symmetric_group_order(n):
    assert symmetric_group(n).order == math.factorial(n)


# -- non-centrosymmetric point groups, against brute force ------------------------------------
C3_2D, C4_2D, C6_2D, MIRROR_HEX_2D = [[0, -1], [1, -1]], [[0, -1], [1, 0]], [[1, -1], [1, 0]], [[0, 1], [1, 0]]
C3_3D = [[0, -1, 0], [1, -1, 0], [0, 0, 1]]
C4_3D = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]
C6_3D = [[1, -1, 0], [1, 0, 0], [0, 0, 1]]
TWOFOLD_HEX_3D = [[0, 1, 0], [1, 0, 0], [0, 0, -1]]
CHIRAL = {
    "C3 (2D)": [C3_2D], "C4 (2D)": [C4_2D], "C6 (2D)": [C6_2D], "D3 (2D)": [C3_2D, MIRROR_HEX_2D],
    "C3": [C3_3D], "C4": [C4_3D], "C6": [C6_3D], "D3": [C3_3D, TWOFOLD_HEX_3D],
}


@pytest.mark.parametrize("name", list(CHIRAL))
def test_non_centrosymmetric_point_groups_against_brute_force(name):
    from crystalgroups import compatible_supercells, pattern
    from crystalgroups.testing import assert_pattern_equivariant, brute_force_pair_orbits

    pg = PointGroup.from_generators(CHIRAL[name], name=name)
    # No inversion (in 2D, C4 and C6 contain the half turn -I): pairs (a, b) and (b, a) can differ.
    assert pg.contains(-np.eye(pg.dim, dtype=int)) == (name in ("C4 (2D)", "C6 (2D)"))
    max_cells = 9 if pg.dim == 2 else 8
    for sc in compatible_supercells(pg, max_cells):
        G = LatticeGroup(pg, sc)
        p = pattern(pg, sc, warn=False)
        everything = brute_force_pair_orbits(G.all_permutations())
        np.testing.assert_array_equal(p.edge_colors, everything)
        np.testing.assert_array_equal(brute_force_pair_orbits(generators=G.generators), everything)
        assert_pattern_equivariant(p)
        assert p.group_order == G.order and p.permutation_group_order == G.permutation_group_order
    # On a 3 x 3 (x 1) supercell a rotation by 120 degrees is not an inversion: the pattern is not symmetric.
    sc = (3, 3) if pg.dim == 2 else (3, 3, 1)
    if name.startswith("C3"):
        assert not np.array_equal(pattern(pg, sc, warn=False).edge_colors, pattern(pg, sc, warn=False).edge_colors.T)


def test_lattice_group_takes_names():
    assert LatticeGroup("cP", (2, 2, 2)).point_group == bravais_group("cP").point_group
    assert LatticeGroup("Fm-3m", (2, 2, 2)).order == 384
    assert LatticeGroup("P1", (2, 3)).point_group.order == 1
    assert LatticeGroup("P-1", (2, 2)).point_group.order == 2
    with pytest.raises(CrystalGroupsError, match="symmetric_group"):
        LatticeGroup("S", (2, 2))
    with pytest.raises(CrystalGroupsError, match="got 'cF', which is 3-dimensional"):
        LatticeGroup("cF", (2, 2))


def test_pair_orbit_counts_without_the_dense_matrix():
    for spec, sizes in (("cP", (3, 3, 3)), ("hp", (4, 4)), ("P-1", (2, 3, 4))):
        G = LatticeGroup(spec, sizes)
        assert G.num_pair_orbits == int(G.pair_orbits().max()) + 1
        np.testing.assert_array_equal(G.pair_orbit_row(), G.pair_orbits()[0])


def test_non_permutation_generators_are_rejected():
    with pytest.raises(CrystalGroupsError, match="expected permutations of 0..2"):
        PermutationGroup([[0, 0, 1]])
    with pytest.raises(CrystalGroupsError, match="expected generators"):
        PermutationGroup([[0, 1], [0, 1, 2]])


# -- every error of groups.py, by its exact message (what the mutation run of the module checks) -------------

def _long_bad(n, row):
    gens = [list(range(n)) for _ in range(row + 1)]
    gens[row][0] = 1
    return gens


@pytest.mark.parametrize("make,message", [
    (lambda: SymOp(np.eye(2, dtype=int), t=[1, 2, 3]), "expected t as 2 integers, got [1, 2, 3]"),
    (lambda: SymOp(np.eye(2, dtype=int), t=[0.5, 0]), "expected t as 2 integers, got [0.5, 0.0]"),
    (lambda: SymOp([[2, 0], [0, 1]]), "expected W with determinant +-1 (a lattice automorphism), got [[2, 0], [0, 1]]"),
    (lambda: PointGroup.from_generators([]), "expected at least one generator, or dim for the trivial group"),
    (lambda: PointGroup.from_generators([np.eye(2, dtype=int), np.eye(3, dtype=int)]),
     "expected generators of one size, got sizes [2, 3]"),
    (lambda: PointGroup.from_generators([[[2, 0], [0, 1]]]),
     "expected unimodular generators (det +-1), got [[2, 0], [0, 1]]"),
    (lambda: PointGroup.from_generators([[[1, 1], [0, 1]]]),
     "expected generators of a finite point group (at most 48 elements), got matrices that generate more"),
    (lambda: PointGroup.from_elements([np.diag([1, -1])]),
     "expected a group closed under multiplication, got 1 matrices that are not (for a float lattice this means "
     "the tolerance is inconsistent: try a larger or smaller tol)"),
    (lambda: bravais_group("cP").point_group.conjugate(np.diag([2, 1, 1])),
     "expected a unimodular change of basis (det +-1), got [[2, 0, 0], [0, 1, 0], [0, 0, 1]]"),
    (lambda: PermutationGroup([[1, 0], [0]]), "expected generators as rows of an integer array, got [[1, 0], [0]]"),
    (lambda: PermutationGroup([[[0, 1]]]), "expected generators as rows of a 2-D integer array, got shape (1, 1, 2)"),
    (lambda: PermutationGroup(np.empty((0, 0), dtype=int)), "expected generators, or a degree for the trivial group"),
    (lambda: PermutationGroup([[1, 0]], degree=3), "expected permutations of degree 3, got degree 2"),
    (lambda: PermutationGroup([[1, 0, 2], [0, 0, 1]]), "expected permutations of 0..2, got [0, 0, 1]"),
    (lambda: PermutationGroup(_long_bad(20, 1)), f"expected permutations of 0..19, got {[1] + list(range(1, 20))}"),
    (lambda: PermutationGroup(_long_bad(21, 1)),
     f"expected permutations of 0..20, got {[1] + list(range(1, 20))}... (row 1)"),
    (lambda: symmetric_group(4).elements(limit=23), "expected a group of at most 23 elements to enumerate, got 24"),
    (lambda: symmetric_group(0), "expected a positive number of points, got 0"),
    (lambda: symmetric_group(True), "expected a positive number of points, got True"),
    (lambda: symmetric_group(2.0), "expected a positive number of points, got 2.0"),
    (lambda: LatticeGroup("S", (2, 2, 2)),
     "expected a point group, a Bravais type or 'P-1'/'P1' for a LatticeGroup, got 'S' (the symmetric group is "
     "symmetric_group(n))"),
    (lambda: LatticeGroup(bravais_group("tp").point_group, (2, 2, 2)),
     "expected a 2-dimensional supercell for this point group, got 3 dimensions"),
])
def test_every_error_of_the_groups_module_by_its_message(make, message):
    with pytest.raises(CrystalGroupsError) as info:
        make()
    assert str(info.value) == message


def test_the_edges_of_what_groups_accept():
    assert SymOp(np.eye(2, dtype=int), t=[1.0, 2.0]).t.tolist() == [1, 2]
    assert PointGroup.from_generators([], dim=3).order == 1
    trivial = PermutationGroup(np.empty((0, 0), dtype=int), degree=3)
    assert (trivial.order, trivial.degree) == (1, 3)
    assert symmetric_group(4).elements(limit=24).shape == (24, 4)
    assert symmetric_group(1).order == 1 and symmetric_group(np.int64(3)).order == 6
    s3 = symmetric_group(3)
    assert s3.contains([1, 0, 2]) and not s3.contains([0, 1]) and not s3.contains([0, 0, 1])


# -- behaviour the mutation run of groups.py found untested ------------------------------------------------------

@pytest.mark.parametrize("U", [[[0, 1, 0], [1, 0, 0], [0, 0, 1]],    # det -1
                               [[1, 1, 0], [0, 1, 0], [0, 0, 1]]])   # det +1, not orthogonal
def test_conjugate_by_unimodular_matrices_of_either_sign(U):
    P = bravais_group("tP").point_group
    U = np.array(U)
    Uinv = np.rint(np.linalg.inv(U)).astype(np.int64)
    Q = P.conjugate(U)
    expected = {tuple((Uinv @ W @ U).ravel()) for W in P.elements}
    assert {tuple(W.ravel()) for W in Q.elements} == expected and Q.order == P.order
    with pytest.raises(CrystalGroupsError, match=r"expected a unimodular change of basis \(det \+-1\), got"):
        P.conjugate([[1, 0, 0], [0, 1, 0], [0, 0, 0]])  # det 0


def test_is_subgroup_of_in_both_directions():
    cp, tp = bravais_group("cP").point_group, bravais_group("tP").point_group
    tp_other = tp.conjugate([[0, 0, 1], [0, 1, 0], [1, 0, 0]])  # the 4-fold axis along x: not inside tP
    assert tp.is_subgroup_of(cp) and tp.is_subgroup_of(tp) and cp.is_subgroup_of(cp)
    assert not cp.is_subgroup_of(tp)
    assert tp_other.is_subgroup_of(cp) and not tp_other.is_subgroup_of(tp) and not tp.is_subgroup_of(tp_other)


def test_is_closed_of_no_matrices_is_false():
    assert is_closed([]) is False


def test_one_permutation_given_as_a_flat_list():
    G = PermutationGroup([1, 2, 0])
    assert G.generators.shape == (1, 3) and G.order == 3 and G.is_transitive


def test_is_transitive_false_for_an_intransitive_group():
    G = PermutationGroup([[1, 0, 2, 3], [0, 1, 3, 2]])
    assert G.node_orbits().tolist() == [0, 0, 1, 1] and G.is_transitive is False
    assert symmetric_group(1).is_transitive is True


@pytest.mark.parametrize("symbol,cells", [("hP", (3, 3, 2)), ("cI", (2, 2, 2)), ("mP", (2, 1, 3))])
def test_elements_and_their_permutations_in_one_order(symbol, cells):
    G = LatticeGroup(bravais_group(symbol).point_group, cells)
    ops = list(G.elements())
    table = G.all_permutations()
    assert len(ops) == G.order == len(table)
    assert {(tuple(op.W.ravel()), tuple(op.t)) for op in ops} == {
        (tuple(W.ravel()), tuple(t)) for W in G.point_group.elements for t in G.supercell.cells}
    for op, row in zip(ops, table):  # row k is the permutation of the k-th element, computed one by one
        assert np.array_equal(row, G.permutation(op))


def test_the_table_of_every_permutation_has_a_size_limit():
    G = LatticeGroup(bravais_group("cP").point_group, (40, 40, 40))
    with pytest.raises(CrystalGroupsError, match=r"3,072,000 elements x 64,000 cells"):
        G.all_permutations()


def _closed_by_definition(mats) -> bool:
    keys = {tuple(np.asarray(M).ravel()) for M in mats}
    return bool(keys) and all(tuple((A @ B).ravel()) in keys for A in mats for B in mats)


@given(st.data())
def test_is_closed_against_the_definition(data):
    """Random subsets of point groups (mostly not closed) and of small integer matrices (products leave the
    entries' range): the hashed test agrees with the definition."""
    source = data.draw(st.sampled_from(["cP", "hP", "tI", "shears", "skew"]))
    if source == "shears":
        pool = [np.array([[1, a], [0, 1]]) for a in range(-2, 3)] + [np.array([[1, 0], [b, 1]]) for b in (-1, 1)]
    elif source == "skew":  # m-3m in a skew basis: entries up to 5
        pool = list(bravais_group("cP").point_group.conjugate([[1, 2, 0], [0, 1, 0], [0, 0, 1]]).elements)
    else:
        pool = list(bravais_group(source).point_group.elements)
    chosen = data.draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=len(pool), unique=True))
    mats = [pool[i] for i in chosen]
    assert is_closed(mats) == _closed_by_definition(mats)


def test_is_closed_when_a_product_leaves_the_range_of_the_entries():
    assert not is_closed([np.array([[1, 1], [0, 1]])])            # its square has an entry 2
    assert is_closed([np.eye(2, dtype=int), np.array([[1, 0], [0, -1]])])
    assert not is_closed([np.eye(2, dtype=int), np.array([[0, 1], [1, 0]]), np.array([[-1, 0], [0, 1]])])


def test_from_generators_refuses_a_singular_matrix():
    with pytest.raises(CrystalGroupsError, match=r"expected unimodular generators \(det \+-1\), got \[\[1, 0\], "
                                                 r"\[0, 0\]\]"):
        PointGroup.from_generators([[[1, 0], [0, 0]]])


def test_point_groups_compare_by_their_elements():
    assert bravais_group("cP").point_group == PointGroup.from_elements(list(bravais_group("cP").point_group.elements))
    cp, tp = bravais_group("cP").point_group, bravais_group("tP").point_group
    assert cp != tp and tp != cp and cp != "cP"


def test_generators_are_chosen_by_decreasing_element_order():
    """The documented greedy rule: elements by decreasing order, each kept if the ones before do not give it."""
    for symbol in ("cP", "hP", "tP", "oP", "mP", "hp", "tp"):
        P = bravais_group(symbol).point_group

        def order_of(W):
            A, k = W.copy(), 1
            while not np.array_equal(A, np.eye(len(W), dtype=W.dtype)):
                A, k = W @ A, k + 1
            return k

        orders = [order_of(W) for W in P.generators]
        assert orders[0] == max(order_of(W) for W in P.elements) and orders == sorted(orders, reverse=True)
        assert PointGroup.from_generators(P.generators).order == P.order


def test_permutation_groups_are_frozen_and_their_degree_checked_both_ways():
    G = symmetric_group(3)
    with pytest.raises(AttributeError):
        G.name = "other"
    with pytest.raises(CrystalGroupsError, match=r"^expected permutations of degree 1, got degree 2$"):
        PermutationGroup([[1, 0]], degree=1)


def test_the_first_bad_generator_row_is_named():
    gens = [list(range(21)) for _ in range(3)]
    gens[1][0] = gens[2][0] = 1
    gens[2][1] = 5
    with pytest.raises(CrystalGroupsError) as info:
        PermutationGroup(gens)
    assert str(info.value).endswith(f"got {gens[1][:20]}... (row 1)")
    with pytest.raises(CrystalGroupsError, match=r"got \[0, 0, 2\]$"):
        PermutationGroup([[1, 0, 2], [0, 0, 2], [0, 1, 1]])


def test_the_table_of_all_elements_has_a_size_limit():
    s9 = np.array([[1, 0] + list(range(2, 200)), list(range(1, 9)) + [0] + list(range(9, 200))])
    G = PermutationGroup(s9)
    assert G.order == math.factorial(9)
    with pytest.raises(CrystalGroupsError, match=r"362,880 elements x degree 200"):
        G.elements()


def test_direct_product_names():
    a, b = symmetric_group(2, name="A"), symmetric_group(3, name="B")
    unnamed = PermutationGroup([[1, 0]])
    assert a.direct_product(b).name == "A x B" and unnamed.direct_product(unnamed).name == "G x H"
    assert unnamed.direct_product(b).name == "G x B" and a.direct_product(unnamed).name == "A x H"


@pytest.mark.parametrize("matrix", [[[0, 2, 0], [2, 0, 0], [0, 0, 3]],     # det -12: kernel of order 4, not 16
                                    [[2, 0, 0], [0, 2, 0], [0, 0, 1]]])
def test_kernel_order_on_supercells_of_either_orientation_and_skew_bases(matrix):
    """Against the distinct permutations counted one by one, also with the point group in a skew basis
    (entries of 2 and -2, where W - I is not W XOR I)."""
    tp = bravais_group("tP").point_group
    skew = tp.conjugate([[1, 1, 0], [0, 1, 0], [0, 0, 1]])
    assert max(int(np.abs(W).max()) for W in skew.elements) == 2
    for P in (tp, skew):
        G = LatticeGroup(P, matrix)
        distinct = len(np.unique(G.all_permutations(), axis=0))
        assert G.permutation_group_order == distinct and G.order // G.permutation_kernel_order == distinct


def test_kernel_order_where_w_minus_i_and_w_xor_i_differ():
    """hR in a skew basis on 3 x 3 x 1: an element with a diagonal entry 2 (2 - 1 = 1 but 2 XOR 1 = 3, divisible
    by 3) is not in the kernel; found by a search over skew bases and small supercells."""
    P = bravais_group("hR").point_group.conjugate([[1, 0, -2], [-1, 1, 1], [0, 0, 1]])
    G = LatticeGroup(P, (3, 3, 1))
    distinct = len(np.unique(G.all_permutations(), axis=0))
    assert G.permutation_kernel_order == 1 and G.permutation_group_order == distinct == G.order


def test_enumeration_limit_default_named_in_its_message():
    with pytest.raises(CrystalGroupsError, match=r"^expected a group of at most 1,000,000 elements to enumerate, "
                                                 r"got 3,628,800$"):
        symmetric_group(10).elements()


def test_symops_are_frozen_and_compare_by_both_parts():
    W, V = np.eye(2, dtype=int), np.array([[0, 1], [1, 0]])
    op = SymOp(W, [1, 0])
    with pytest.raises(AttributeError):
        op.t = np.zeros(2, dtype=int)
    assert op == SymOp(W, [1, 0]) and hash(op) == hash(SymOp(W, [1, 0]))
    assert op != SymOp(W, [0, 1]) and op != SymOp(V, [1, 0]) and op != SymOp(V, [0, 1])
    assert SymOp(W) != SymOp(V) and op != "SymOp"
    with pytest.raises(CrystalGroupsError, match=r"expected W with determinant \+-1 \(a lattice automorphism\), "
                                                 r"got \[\[1, 1\], \[1, 1\]\]"):
        SymOp([[1, 1], [1, 1]])


def test_permutation_groups_are_hashable_by_identity():
    G, H = symmetric_group(3), symmetric_group(3)
    assert {G: "g", H: "h"}[G] == "g" and len({G, H}) == 2


def test_returned_arrays_are_read_only():
    G = LatticeGroup(bravais_group("tP").point_group, (2, 2, 1))
    arrays = [G.point_group.elements[0], G.generators, G.all_permutations(), symmetric_group(3).generators,
              symmetric_group(3).elements(), SymOp(np.eye(2, dtype=int), [1, 0]).t]
    for a in arrays:
        with pytest.raises(ValueError, match="read-only"):
            a.flat[0] = 7


def test_names_and_descriptions():
    assert symmetric_group(3).name == "S3" and symmetric_group(3, name="sym").name == "sym"
    assert repr(symmetric_group(3)) == "PermutationGroup('S3', degree=3, generators=2)"
    assert repr(PermutationGroup([[1, 0]])) == "PermutationGroup(unnamed, degree=2, generators=1)"
    unnamed = PointGroup.from_generators([np.diag([-1, -1, 1])])
    assert repr(LatticeGroup(unnamed, (2, 2, 2))) == (
        "LatticeGroup('order-2 point group' on Supercell(2 x 2 x 2), order=16)")
    assert repr(LatticeGroup("cP", (2, 2, 2))) == "LatticeGroup('cP' on Supercell(2 x 2 x 2), order=384)"


def test_symop_acts_as_w_x_plus_t():
    op = SymOp([[0, -1], [1, 0]], [1, 0])
    assert op([1, 1]).tolist() == [0, 1] and op([[2, 0], [0, 3]]).tolist() == [[1, 2], [-2, 0]]
    with pytest.raises(CrystalGroupsError, match=r"^expected t as 2 integers, got \[-0.5, 0.0\]$"):
        SymOp(np.eye(2, dtype=int), [-0.5, 0.0])


def test_is_closed_of_one_by_one_matrices():
    assert is_closed([np.eye(1, dtype=int)]) and is_closed([[[1]], [[-1]]]) and not is_closed([[[-1]]])


def test_the_first_incompatible_generator_is_named():
    P = bravais_group("cP").point_group
    first = next(W for W in P.generators if not LatticeGroup("P-1", (2, 2, 3)).supercell.is_compatible(W))
    with pytest.raises(IncompatibleSupercellError) as info:
        LatticeGroup(P, (2, 2, 3))  # all three generators are incompatible
    assert str(info.value) == (
        f"expected a supercell that the point group maps onto itself, got Supercell(2 x 2 x 3): the operation "
        f"{first.tolist()} does not preserve its sublattice (n x n x n supercells are always compatible)")


def test_lattice_groups_are_frozen_and_compare_by_identity():
    G, H = LatticeGroup("cP", (2, 2, 2)), LatticeGroup("cP", (2, 2, 2))
    with pytest.raises(AttributeError):
        G.supercell = H.supercell
    with pytest.raises(AttributeError):
        G.point_group.name = "other"
    assert G == G and G != H and len({G, H}) == 2  # like PermutationGroup: no costly comparison of groups


@pytest.mark.parametrize("mats,closed", [
    ([[[-1, 1], [0, 1]]], False),                                           # its square is the identity
    ([[[1, 2, 2], [0, 0, -1], [0, -1, 0]]], False),                          # its square is the identity
    ([[[-2, -3, 0], [1, 2, 0], [0, 0, -1]], np.eye(3, dtype=int).tolist()], True),  # a group of order 2
])
def test_is_closed_where_a_weaker_encoding_errs(mats, closed):
    """Sets found by a search against weaker encodings of the matrices as integers (a base below
    2 x bound + 1 makes different matrices share a key, and a missing product look present)."""
    assert _closed_by_definition([np.array(m) for m in mats]) is closed
    assert is_closed(mats) is closed


def test_degree_and_translation_given_as_numpy_integers_or_too_short():
    G = PermutationGroup([[1, 0, 2]], degree=np.int64(3))
    assert G.degree == 3 and G.order == 2
    with pytest.raises(CrystalGroupsError, match=r"^expected t as 2 integers, got \[1\]$"):
        SymOp(np.eye(2, dtype=int), [1])
