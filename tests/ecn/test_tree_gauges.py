"""The tied minimum spanning trees behind the tree gauge, against brute force over every edge subset."""

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ecn.data.graph import tree_gauges


def _components(num_sites, pairs):
    """How many joins the pairs make (the rank of a forest through them): sites less components."""
    return num_sites - len(_component_sets(num_sites, pairs))


def _minimum_spanning_forests(num_sites, src, dst, image, distance):
    """Every spanning forest of the bonds between distinct atoms (a bond listed both ways counted once) of least
    total length rank (lengths here are exact, so ties are exact): by trying every edge subset."""
    listed = {(a, b, *n) for a, b, n in zip(src, dst, map(tuple, image))}
    keep = [k for k, (a, b) in enumerate(zip(src, dst))
            if a < b or (a > b and (b, a, *(-np.asarray(image[k]))) not in listed)]
    rank = _components(num_sites, [(src[k], dst[k]) for k in keep])
    lengths = sorted(set(distance))
    best, found = None, []
    for subset in itertools.combinations(keep, rank):
        if _components(num_sites, [(src[k], dst[k]) for k in subset]) != rank:
            continue  # a cycle: not a forest
        weight = sum(lengths.index(distance[k]) for k in subset)
        if best is None or weight < best:
            best, found = weight, []
        if weight == best:
            found.append(frozenset(subset))
    return found


@st.composite
def bond_lists(draw):
    num_sites = draw(st.integers(1, 4))
    bonds = draw(st.lists(st.tuples(st.integers(0, num_sites - 1), st.integers(0, num_sites - 1),
                                    st.tuples(*[st.integers(-1, 1)] * 3), st.sampled_from([1.0, 1.5, 2.0]),
                                    st.booleans()), max_size=7))
    src, dst, image, distance = [], [], [], []
    for a, b, n, d, both_ways in bonds:
        src.append(a), dst.append(b), image.append(n), distance.append(d)
        if both_ways:  # the reverse bond listed too, as the neighbour finders do
            src.append(b), dst.append(a), image.append(tuple(-v for v in n)), distance.append(d)
    return num_sites, src, dst, np.array(image, dtype=np.int64).reshape(-1, 3), distance


@settings(max_examples=150, deadline=None)
@given(bond_lists(), st.sampled_from([1, 2, 3, 128]), st.sampled_from([0.0, 1e-4]))
def test_tree_gauges_are_the_minimum_spanning_forests(bonds, limit, tol):
    """``tree_gauges`` counts the tied minimum spanning forests exactly (more than ``limit`` when it stops), returns
    the shifts of ``min(count, limit)`` of them, each putting every bond of one such forest inside one cell
    (image 0), and keeps the first site of each component where it is. Equal lengths tie with any tolerance,
    0 included."""
    num_sites, src, dst, image, distance = bonds
    forests = _minimum_spanning_forests(num_sites, src, dst, image, distance)
    shifts, count = tree_gauges(num_sites, src, dst, image, distance, tol=tol, limit=limit)
    assert count == len(forests) if len(forests) <= limit else count > limit
    assert shifts.shape == (min(len(forests), limit), num_sites, 3)
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    first_sites = {min(c) for c in _component_sets(num_sites, zip(src, dst))}
    for g in shifts:
        at_zero = {k for k in range(len(src)) if not (image[k] + g[src[k]] - g[dst[k]]).any()}
        assert any(forest <= at_zero for forest in forests)
        assert all(not g[s].any() for s in first_sites)


def _component_sets(num_sites, pairs):
    sets = [{s} for s in range(num_sites)]
    for a, b in pairs:
        sa = next(s for s in sets if a in s)
        sb = next(s for s in sets if b in s)
        if sa is not sb:
            sa |= sb
            sets.remove(sb)
    return sets


def test_two_tied_triangles_give_every_tree_of_each():
    """Two separate triangles of equal bonds: 3 trees each, 9 forests; with limit 4, four of them and a count
    above 4."""
    src, dst = [0, 1, 0, 3, 4, 3], [1, 2, 2, 4, 5, 5]
    image = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 0, 0]])
    shifts, count = tree_gauges(6, src, dst, image, [1.0] * 6)
    assert count == 9 and shifts.shape == (9, 6, 3) and len({g.tobytes() for g in shifts}) == 9
    shifts, count = tree_gauges(6, src, dst, image, [1.0] * 6, limit=4)
    assert count > 4 and shifts.shape == (4, 6, 3)


def test_a_chain_of_300_atoms_has_one_tree_and_no_shift():
    """300 atoms bonded in a chain inside one cell, every bond of one length: the chain is the only spanning tree
    (a forest of 299 bonds: counts past CPython's small-integer cache are compared by value)."""
    src = np.arange(299)
    shifts, count = tree_gauges(300, src, src + 1, np.zeros((299, 3), np.int64), np.ones(299))
    assert count == 1 and shifts.shape == (1, 300, 3) and not shifts.any()


def test_a_class_that_joins_nothing_new_does_not_end_the_search():
    """Three atoms: the 1.0 A bond joins 0 and 1, the 1.5 A bond joins them again (nothing new), and only the
    2.0 A bond reaches atom 2: the one tree takes the first and the last, and its gauge puts both in one cell."""
    src, dst, distance = [0, 0, 1], [1, 1, 2], [1.0, 1.5, 2.0]
    image = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]])
    assert _minimum_spanning_forests(3, src, dst, image, distance) == [frozenset({0, 2})]
    shifts, count = tree_gauges(3, src, dst, image, distance)
    assert count == 1 and shifts.tolist() == [[[0, 0, 0], [0, 0, 0], [0, 1, 0]]]


def test_up_to_128_tied_trees_are_kept_by_default():
    """Seven separate pairs of atoms, each bonded twice with equal lengths (in two image cells): 2**7 = 128 tied
    forests, all kept by default; with ``limit=127``, 127 of them and a count above 127; of eight pairs' 256, 128."""
    src, dst = [2 * k for k in range(7) for _ in range(2)], [2 * k + 1 for k in range(7) for _ in range(2)]
    image = np.array([[0, 0, 0], [1, 0, 0]] * 7)
    shifts, count = tree_gauges(14, src, dst, image, [1.0] * 14)
    assert count == 128 and shifts.shape == (128, 14, 3) and len({g.tobytes() for g in shifts}) == 128
    shifts, count = tree_gauges(14, src, dst, image, [1.0] * 14, limit=127)
    assert count > 127 and shifts.shape == (127, 14, 3)
    src, dst = [2 * k for k in range(8) for _ in range(2)], [2 * k + 1 for k in range(8) for _ in range(2)]
    shifts, count = tree_gauges(16, src, dst, np.array([[0, 0, 0], [1, 0, 0]] * 8), [1.0] * 16)
    assert count > 128 and shifts.shape == (128, 16, 3)  # eight pairs: 256 tied forests, 128 kept by default
