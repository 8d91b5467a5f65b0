"""Supercell graphs: the interface, invariances, parity with pymatgen IsayevNN, colours."""

import sys
import warnings

import numpy as np
import pytest
from conftest import read_cifs

import crystalgroups
from ecn.data import Crystal, compare_rows, crystal_from_cif, crystal_graph, parity_rows
from ecn.data.structures import isayev_reference_edges


def _pmg(crystal):
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice(crystal.lattice), crystal.numbers.tolist(), crystal.frac)


@pytest.fixture(scope="module")
def perov(data_dir):
    return [crystal_from_cif(cif, id=mid) for mid, cif in read_cifs(data_dir / "perov_5" / "test.csv.gz", every=401)]


@pytest.fixture(scope="module")
def carbon(data_dir):
    return [crystal_from_cif(cif, id=mid) for mid, cif in read_cifs(data_dir / "carbon_24" / "test.csv.gz", every=337)]


def test_interface_fields_of_crystal_graph(perov):
    structure = _pmg(perov[0])
    g = crystal_graph(structure, supercell=(2, 2, 2), neighbors="isayev")
    n = 8 * len(structure)
    assert g.edge_index.shape[0] == 2 and g.edge_index.dtype == np.int64
    assert g.edge_length.shape == (g.edge_index.shape[1],)
    assert g.cell_offset.shape == (n, 3) and g.cell_offset.min() == 0 and g.cell_offset.max() == 1
    assert g.site_index.tolist() == list(range(len(structure))) * 8
    assert g.atomic_number.tolist() == [site.specie.Z for site in structure] * 8
    np.testing.assert_allclose(np.linalg.norm(g.edge_vector, axis=1), g.edge_length)


def test_parity_with_pymatgen_isayevnn_on_a_sample(perov, carbon):
    """A sample of benchmarks/graph_parity.py, which checks every structure of both datasets."""
    for crystal in perov[:6] + carbon[:4]:
        ours = crystal_graph(crystal, gauge="as_given", neighbor_tol=0.0)  # Qhull's own faces, as pymatgen
        result = compare_rows(parity_rows(ours), isayev_reference_edges(crystal))
        assert result.equal, (crystal.id, result.only_ours[:3], result.only_reference[:3])


def test_graphs_do_not_depend_on_how_coordinates_are_wrapped(carbon):
    crystal = carbon[0]
    shifted = Crystal(
        crystal.lattice,
        crystal.frac + np.array([[2, -1, 0]] * crystal.num_sites) * (np.arange(crystal.num_sites) % 2)[:, None],
        crystal.numbers,
    )
    a, b = crystal_graph(crystal), crystal_graph(shifted)
    assert sorted(np.round(a.edge_length, 8).tolist()) == sorted(np.round(b.edge_length, 8).tolist())
    deg = lambda g: np.bincount(g.edge_index[0], minlength=g.num_nodes)  # noqa: E731
    assert sorted(deg(a).tolist()) == sorted(deg(b).tolist())


@pytest.mark.parametrize("neighbors", ["isayev", "radius"])
def test_every_cell_sees_the_same_neighbourhood(carbon, neighbors):
    """Translation invariance: in any supercell each copy of a site has the same bonds."""
    for sc in [(1, 1, 1), (2, 2, 2), (3, 1, 2)]:
        g = crystal_graph(carbon[1], supercell=sc, neighbors=neighbors)
        for site in range(carbon[1].num_sites):
            rows = {
                tuple(np.round(np.sort(g.edge_length[g.edge_index[0] == node]), 8))
                for node in np.flatnonzero(g.site_index == site)
            }
            assert len(rows) == 1


def test_isayev_graph_is_symmetric(perov):
    g = crystal_graph(perov[1])
    fwd = sorted(zip(g.edge_index[0], g.edge_index[1], np.round(g.edge_length, 8)))
    rev = sorted(zip(g.edge_index[1], g.edge_index[0], np.round(g.edge_length, 8)))
    assert fwd == rev


def test_radius_graph_against_pymatgen_neighbours(carbon):
    crystal = carbon[2]
    g = crystal_graph(crystal, supercell=(1, 1, 1), neighbors="radius", cutoff=4.0, max_neighbors=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _pmg(crystal).get_all_neighbors(4.0)
    for i in range(crystal.num_sites):
        ours = np.sort(g.edge_length[g.edge_index[0] == i])
        np.testing.assert_allclose(ours, np.sort([n.nn_distance for n in theirs[i]]), atol=1e-8)
    capped = crystal_graph(crystal, supercell=(1, 1, 1), neighbors="radius", cutoff=8.0, max_neighbors=12)
    assert np.all(np.bincount(capped.edge_index[0]) == 12)


def test_edge_colours_are_the_cell_pattern(perov):
    g = crystal_graph(perov[2])
    for group in ("P-1", "S", "G"):
        colors, k = g.edge_colors(group)
        p = g.cell_pattern(group)
        assert k == p.num_edge_colors
        np.testing.assert_array_equal(
            colors, p.edge_colors[g.cell_index[g.edge_index[0]], g.cell_index[g.edge_index[1]]]
        )
    # the structure's own lattice group: the perovskite cells are cubic
    assert crystalgroups.classify_point_group(g.lattice_point_group()).symbol == "cP"
    assert g.edge_colors("G")[1] == crystalgroups.pattern("cP", (2, 2, 2)).num_edge_colors
    sn, k = g.edge_colors("S_N")
    assert k == 2 and set(sn.tolist()) <= {0, 1}
    np.testing.assert_array_equal(g.same_site, g.site_index[g.edge_index[0]] == g.site_index[g.edge_index[1]])


def test_p1_colours_move_with_the_cells_under_the_group():
    """Relabelling cells by an element of P-1 x T maps each edge to an edge of the same colour."""
    g = crystal_graph(Crystal(np.eye(3) * 3.6, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17]))
    lg = crystalgroups.LatticeGroup(crystalgroups.bravais_group("aP").point_group, (2, 2, 2))
    colors, _ = g.edge_colors("P-1")
    table = g.cell_pattern("P-1").edge_colors
    for p in lg.all_permutations():
        a, b = g.cell_index[g.edge_index[0]], g.cell_index[g.edge_index[1]]
        np.testing.assert_array_equal(table[p[a], p[b]], colors)


def test_unknown_neighbour_rule_and_groups():
    c = Crystal(np.eye(3) * 3.6, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17])
    with pytest.raises(ValueError, match="isayev"):
        crystal_graph(c, neighbors="voronoi")
    with pytest.raises(ValueError, match="cell group"):
        crystal_graph(c).cell_pattern("P1")


def test_single_bad_structures_raise_clear_errors():
    from ecn.data import GraphError, StructureError

    with pytest.raises(GraphError, match="overlapping atoms"):
        crystal_graph(Crystal(np.eye(3) * 4.0, [[0, 0, 0], [0.01, 0, 0]], [11, 17]))
    with pytest.raises(GraphError, match="Cordero covalent radius"):
        crystal_graph(Crystal(np.eye(3) * 4.0, [[0, 0, 0]], [99]))
    with pytest.raises(StructureError, match="pymatgen Structure"):
        crystal_graph("NaCl")


def test_primitive_option_reduces_a_conventional_cell():
    from pymatgen.core import Lattice, Structure

    conventional = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert crystal_graph(conventional).num_sites == 8
    g = crystal_graph(conventional, primitive=True)
    assert g.num_sites == 2 and crystalgroups.classify_point_group(g.lattice_point_group()).symbol == "cF"


@pytest.mark.parametrize(
    "U",
    [
        [[1, 1, 0], [0, 1, 0], [0, 0, 1]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[1, 0, 0], [1, 1, 0], [-1, 2, 1]],
        [[1, 2, 0], [0, 1, 5], [0, 0, 1]],
    ],
)
def test_geometric_g_colours_do_not_depend_on_the_basis(carbon, U):
    """The same crystal written in another primitive basis gets the same G colours on the same bonds."""
    crystal = carbon[3]
    U = np.array(U)
    other = Crystal(U @ crystal.lattice, crystal.frac @ np.linalg.inv(U), crystal.numbers)
    a, b = crystal_graph(crystal), crystal_graph(other)
    key = lambda g: sorted(
        zip(
            g.edge_colors("G")[0].tolist(),
            np.round(g.edge_length, 6).tolist(),  # noqa: E731
            g.atomic_number[g.edge_index[0]].tolist(),
        )
    )
    assert key(a) == key(b)
    # and the colour classes are exactly the pattern's (a renumbering of the orbits)
    colors, _ = a.edge_colors("G")
    raw = a.cell_pattern("G").edge_colors[a.cell_index[a.edge_index[0]], a.cell_index[a.edge_index[1]]]
    assert len(set(zip(colors.tolist(), raw.tolist()))) == len(set(raw.tolist())) == len(set(colors.tolist()))


def test_oblique_cells_give_the_same_graph_as_their_reduced_cell():
    """A sheared cell (a_2 + 200 a_1): overlap detection and neighbour search work in the reduced cell."""
    lattice = np.array([[3.0, 0, 0], [600.3, 3.1, 0], [0.2, 0.1, 3.3]])
    c = Crystal(lattice, [[0, 0, 0], [0.37, 0.41, 0.53]], [6, 14])
    g = crystal_graph(c, supercell=(1, 1, 1), neighbors="radius", cutoff=5.0, max_neighbors=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _pmg(c).get_all_neighbors(5.0)
    for i in range(2):
        ours = np.sort(g.edge_length[g.edge_index[0] == i])
        np.testing.assert_allclose(ours, np.sort([n.nn_distance for n in theirs[i]]), atol=1e-8)
    assert c.min_distance() == pytest.approx(min(n.nn_distance for nn in theirs for n in nn))
    squeezed = Crystal([[3, 0, 0], [6.1, 0.2, 0], [0, 0, 3]], [[0, 0, 0], [0.5, 0.5, 0.5]], [6, 6])
    with pytest.raises(Exception, match="overlapping"):
        crystal_graph(squeezed)


def test_ties_at_the_kth_neighbour_are_all_kept():
    cubic = Crystal(np.eye(3) * 2.0, [[0, 0, 0]], [29])
    g = crystal_graph(cubic, supercell=(3, 3, 3), neighbors="radius", max_neighbors=12)
    assert set(np.bincount(g.edge_index[0]).tolist()) == {18}  # 6 at 2 A and all 12 at 2.83 A
    fwd = sorted(zip(g.edge_index[0].tolist(), g.edge_index[1].tolist()))
    assert fwd == sorted(zip(g.edge_index[1].tolist(), g.edge_index[0].tolist()))


def test_settings_are_checked():
    from ecn.data import GraphError, GraphSettings

    with pytest.raises(ValueError, match="integer supercell"):
        GraphSettings(supercell=(2.7, 1.9, 2))
    assert GraphSettings(neighbors="radius").cutoff == 8.0 and GraphSettings().cutoff == 6.0
    with pytest.raises(GraphError, match="bonds"):
        crystal_graph(Crystal(np.eye(3) * 5.0, [[0, 0, 0]], [18]))


def test_the_tree_gauge_keeps_the_bonds_and_puts_tree_bonds_inside_a_cell(perov, carbon):
    """Same crystal, same bonds (lengths, vectors, cycle images); only the cell labels move."""
    from ecn.data.graph import tree_gauge

    for crystal in perov[:4] + carbon[:3]:
        given, tree = crystal_graph(crystal, gauge="as_given"), crystal_graph(crystal, gauge="tree")
        assert sorted(np.round(given.unit_edge_length, 8)) == sorted(np.round(tree.unit_edge_length, 8))
        # the explicit supercells are the same graph: the same degree sequence and length multiset
        assert sorted(np.round(given.edge_length, 8)) == sorted(np.round(tree.edge_length, 8))
        i, j = tree.unit_edge_index
        # a spanning forest of zero-image bonds: as many components as the bond graph between distinct atoms
        zero = (tree.unit_edge_image == 0).all(axis=1) & (i != j)
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = tree.num_sites
        comps = lambda mask: connected_components(  # noqa: E731
            coo_matrix((np.ones(mask.sum()), (i[mask], j[mask])), shape=(n, n)), directed=False
        )[0]
        assert comps(zero) == comps(i != j)
        # applying the gauge again changes nothing
        again = tree_gauge(n, i, j, tree.unit_edge_image, tree.unit_edge_length)
        assert not again.any()


def test_the_inner_tessellation_gives_the_bonds_of_the_whole_neighbourhood(perov, carbon, monkeypatch):
    """isayev_neighbors first tessellates 4.5 A around the atoms and keeps it only where that provably
    gives the true Voronoi cells; the bonds must be those of the whole 6 A tessellation, bit for bit."""
    from ecn.data import neighbors

    calls = {"kept": 0, "refused": 0}
    inner = neighbors._exact_inner_tessellation

    def counted(*args):
        vor = inner(*args)
        calls["kept" if vor is not None else "refused"] += 1
        return vor

    rattled = [Crystal(c.lattice, c.frac + np.random.default_rng(0).normal(0, 1e-3, c.frac.shape), c.numbers)
               for c in perov[:4]]
    cubic = [Crystal(np.eye(3) * a, [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
                     [38, 22, 8, 8, 8]) for a in (3.9, 4.6)]  # exact ties: zero-area faces everywhere
    crystals = perov + carbon + rattled + cubic
    monkeypatch.setattr(neighbors, "_exact_inner_tessellation", counted)
    fast = [neighbors.isayev_neighbors(c.lattice, c.frac, c.numbers) for c in crystals]
    monkeypatch.setattr(neighbors, "_FIRST_RADIUS", 100.0)  # never tried: the whole 6 A neighbourhood
    whole = [neighbors.isayev_neighbors(c.lattice, c.frac, c.numbers) for c in crystals]
    for c, a, b in zip(crystals, fast, whole):
        for field in ("src", "dst", "image", "distance"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=f"{c.id}: {field}")
    assert calls["kept"] >= len(crystals) // 2 and calls["kept"] + calls["refused"] == len(crystals), calls
    # a too-small radius is refused, never trusted
    monkeypatch.setattr(neighbors, "_FIRST_RADIUS", 3.0)
    calls.update(kept=0, refused=0)
    small = [neighbors.isayev_neighbors(c.lattice, c.frac, c.numbers) for c in crystals]
    assert calls["refused"] > 0
    for a, b in zip(small, whole):
        np.testing.assert_array_equal(a.image, b.image)
        np.testing.assert_array_equal(a.dst, b.dst)


# -- frames, gauges and colours, checked against what they mean ------------------------------

def _bond_lengths(g):
    """Each unit-cell bond's length from the graph's own coordinates: |(frac_j + n - frac_i) L|."""
    i, j = g.unit_edge_index
    return np.linalg.norm((g.frac[j] + g.unit_edge_image - g.frac[i]) @ g.lattice, axis=1)


def test_every_frame_is_the_same_crystal_and_frames_differ_in_image_cells(perov):
    """Each tied gauge (and each basis frame of P-1) writes the same bonds: the lengths computed from its own
    coordinates are the bonds' lengths, its atoms are the same atoms up to lattice vectors, and the frames kept
    are exactly the distinct assignments of image cells mod the supercell, computed here directly."""
    for crystal in perov:
        g = crystal_graph(crystal)
        if g.gauge_shifts is None:
            continue
        i, j = g.unit_edge_index
        shifts = g.gauge_shifts.astype(np.int64)
        cells = {np.mod(g.unit_edge_image + r[i] - r[j], 2).tobytes() for r in shifts}
        frames = g.frames()
        assert g.num_frames == len(frames) == len(cells) > 1
        assert {np.mod(f.unit_edge_image, 2).tobytes() for f in frames} == cells
        for frame in frames:
            np.testing.assert_allclose(_bond_lengths(frame), g.unit_edge_length, atol=1e-9)
            moved = frame.frac - g.frac
            np.testing.assert_allclose(moved, np.rint(moved), atol=1e-12)
        # P-1: every gauge in every basis of the lattice's operations W (images n -> W n), each distinct once
        ops = np.asarray(g.supercell_point_group().elements, dtype=np.int64)
        expected = {np.mod((g.unit_edge_image + r[i] - r[j]) @ W.T, 2).tobytes() for r in shifts for W in ops}
        with_bases = g.frames("P-1")
        assert len(with_bases) == len(expected) > len(frames)
        assert {np.mod(f.unit_edge_image, 2).tobytes() for f in with_bases} == expected
        for frame in with_bases:
            np.testing.assert_allclose(_bond_lengths(frame), g.unit_edge_length, atol=1e-9)


def test_only_p1_or_basis_true_adds_the_lattice_bases(perov):
    """A cubic lattice has 48 operations: ``frames("P-1")`` (and any group with ``basis=True``) adds the bases
    they map to; the other groups (and no group) keep the gauges only."""
    g = crystal_graph(perov[0])
    assert g.supercell_point_group().order == 48
    gauges_only = [(t, None) for t in range(g.num_frames)]
    with_bases = g.frame_choices("P-1")
    assert len(with_bases) > len(gauges_only)
    for group in (None, "G", "S", "S_N"):
        assert g.frame_choices(group) == gauges_only
        assert [(t, None if W is None else W.tolist()) for t, W in g.frame_choices(group, basis=True)] == [
            (t, None if W is None else W.tolist()) for t, W in with_bases]


def test_the_tree_gauge_stores_every_tied_tree_relative_to_the_first(perov):
    """The stored shifts are each tied tree's shifts minus the first one's, with the first all zeros, and frame t
    puts every bond of its tree inside one cell (image 0)."""
    from ecn.data.graph import tree_gauges

    crystal = perov[0]
    g = crystal_graph(crystal)
    as_given = crystal_graph(crystal, gauge="as_given")
    np.testing.assert_allclose(g.lattice, as_given.lattice)
    i, j = as_given.unit_edge_index
    shifts, count = tree_gauges(as_given.num_sites, i, j, as_given.unit_edge_image, as_given.unit_edge_length)
    assert count == len(shifts) == len(g.gauge_shifts) > 1
    np.testing.assert_array_equal(g.gauge_shifts, shifts - shifts[0])
    assert not g.gauge_shifts[0].any()
    np.testing.assert_array_equal(g.frac, as_given.frac + shifts[0])


def test_s_n_colours_tell_an_atoms_bond_to_itself_in_the_same_cell(perov):
    """S_N (every node permutation): colour 0 for a bond from an atom to its own image in the same supercell
    cell, which in the explicit supercell is a self-loop; 1 for every other bond. Checked against the explicit
    supercell's edges that leave cell 0, on 1x1x1 (every image is in the same cell) and 2x2x2."""
    from ecn.data import Crystal

    cscl = Crystal(np.eye(3) * 3.6, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17])  # Cs and Cl bonded to their images
    for supercell in ((1, 1, 1), (2, 2, 2), (1, 1, 2)):
        g = crystal_graph(cscl, supercell=supercell)
        colors, count = g.quotient_colors("S_N")
        src, dst = g.edge_index[:, : g.num_unit_edges]
        assert count == 2 and colors.tolist() == [0 if a == b else 1 for a, b in zip(src, dst)]
        assert 0 < (colors == 0).sum() < len(colors) or supercell == (2, 2, 2)


def test_shortest_vectors_of_the_cell_classes_by_brute_force(perov):
    """The length of the shortest vector in each class c + M Z^3, against every lattice vector of a box around
    the origin in a reduced basis (so that the box holds every short vector), also for the lattice written in a
    far basis."""
    from crystalgroups import Lattice, Supercell
    from ecn.data.graph import _shortest_in_classes

    T = np.array([[1, 0, 0], [3, 1, 0], [-2, 4, 1]])  # a far basis of the same lattice
    box = np.stack(np.meshgrid(*[np.arange(-5, 6)] * 3, indexing="ij"), -1).reshape(-1, 3)
    rng = np.random.default_rng(3)
    oblique = [np.array([[1.0, 0, 0], [0.5, 0.9, 0], [0.3, 0.4, 1.1]]) * 3]
    for _ in range(6):  # random reduced cells (Niggli-reduced, so the box around the origin holds the short vectors)
        oblique.append(Lattice(rng.normal(size=(3, 3)) + np.eye(3) * 1.5).reduced()[0].basis * 3)
    for reduced in (perov[0].lattice, np.diag([3.0, 4.0, 11.0]), *oblique):
        for basis in (np.eye(3, dtype=np.int64), T):
            lattice = basis @ reduced
            w = np.rint(box @ np.linalg.inv(basis)).astype(np.int64)  # the box's vectors in this basis
            for matrix in (np.diag([2, 2, 2]), np.array([[1, 1, 0], [-1, 1, 0], [0, 0, 2]]), np.diag([1, 2, 3])):
                sc = Supercell(matrix)
                lengths = np.linalg.norm(box @ reduced, axis=1)
                expected = []
                for c in sc.cells:
                    n = (w - c) @ np.linalg.inv(matrix).T  # w = c + M n
                    member = np.all(np.abs(n - np.rint(n)) < 1e-9, axis=1)
                    expected.append(lengths[member].min())
                np.testing.assert_allclose(_shortest_in_classes(lattice, sc), expected, atol=1e-9)


def test_a_supercell_that_is_not_three_sizes_or_a_square_matrix_is_refused(perov):
    for bad in ([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], [2, 2], [2, 2, 2, 2], [2, 0, 2], [[2, 0], [0, 2]], 2,
                [1, 0, 0, 0, 1, 0, 0, 0, 1, 0], [1, 0, 0, 0, 1, 0, 0, 1]):  # 10 or 8 numbers: no 3x3 matrix
        with pytest.raises(ValueError, match="three positive integer supercell sizes or a 3x3 integer matrix"):
            crystal_graph(perov[0], supercell=bad)


def test_an_unknown_gauge_or_cell_group_is_named(perov):
    from ecn.data.graph import GraphError, expand_to_supercell

    g = crystal_graph(perov[0])
    with pytest.raises(GraphError) as info:
        g.cell_pattern("S_N")
    assert str(info.value) == "expected a cell group among ('P-1', 'G', 'S'), got 'S_N'"
    for gauge in ("absolute", "zzz"):  # names either side of "as_given"
        with pytest.raises(ValueError, match=f"expected gauge among \\('tree', 'as_given'\\), got '{gauge}'"):
            expand_to_supercell(perov[0], _edges_of(g), (2, 2, 2), gauge=gauge)


def _edges_of(g):
    from types import SimpleNamespace

    i, j = g.unit_edge_index
    return SimpleNamespace(src=i, dst=j, image=g.unit_edge_image, distance=g.unit_edge_length)


def test_the_reduced_basis_is_taken_only_for_n_by_n_by_n_supercells(perov):
    """A crystal written in a far basis is rewritten in its reduced one for 2x2x2 (the same sublattice in every
    basis) and left as written for 1x2x3 or a matrix (which depend on the basis), and for ``gauge="as_given"``."""
    from ecn.data import Crystal
    from ecn.data.graph import GraphSettings, reduced_basis

    T = np.array([[1, 0, 0], [3, 1, 0], [-2, 4, 1]])
    c = perov[0]
    far = Crystal(T @ c.lattice, c.frac @ np.linalg.inv(T), c.numbers)
    assert not np.allclose(reduced_basis(far, GraphSettings(supercell=(2, 2, 2))).lattice, far.lattice)
    for settings in (GraphSettings(supercell=(1, 2, 3)), GraphSettings(supercell=(2, 2, 2), gauge="as_given"),
                     GraphSettings(supercell=((1, 1, 0), (-1, 1, 0), (0, 0, 2)))):
        assert reduced_basis(far, settings) is far


@pytest.mark.parametrize("supercell", [(2, 2, 2), (3, 3, 3)])
def test_frames_are_the_distinct_image_cells_of_hand_made_gauges(supercell):
    """A hand-made graph on a cubic lattice with gauge shifts of every size (so that two gauges can give the same
    image cells mod the supercell, and a wrong formula a different grouping): the frames kept are exactly one
    per distinct assignment of image cells, computed here directly, in the order first met; with P-1, one per
    distinct assignment over every gauge and every operation W of the lattice (images n -> W n)."""
    from ecn.data import CrystalGraph

    rng = np.random.default_rng(7)
    src, dst = np.array([0, 1, 1, 2, 0, 2]), np.array([1, 0, 2, 1, 2, 0])
    image = rng.integers(-2, 3, size=(6, 3))
    shifts = rng.integers(-3, 4, size=(12, 3, 3))
    shifts[0] = 0
    shifts[5] = shifts[4] + np.array(supercell) * rng.integers(-1, 2, size=(3, 3))  # same cells as gauge 4
    g = CrystalGraph(np.eye(3) * 3.0, np.zeros((3, 3)), np.array([6, 6, 6]), np.stack([src, dst]), image,
                     np.ones(6), supercell, "hand-made", {}, gauge_shifts=shifts.astype(np.int16))
    sizes = np.array(supercell)
    first = {}
    for t, r in enumerate(shifts):
        first.setdefault(np.mod(image + r[src] - r[dst], sizes).tobytes(), t)
    assert g.num_frames == len(first) < len(shifts)
    assert [np.mod(f.unit_edge_image, sizes).tobytes() for f in g.frames()] == list(first)
    ops = np.asarray(g.supercell_point_group().elements, dtype=np.int64)
    assert len(ops) == 48
    seen = []
    for t in first.values():
        for W in ops:
            code = np.mod((image + shifts[t][src] - shifts[t][dst]) @ W.T, sizes).tobytes()
            if code not in seen:
                seen.append(code)
    assert [np.mod(f.unit_edge_image, sizes).tobytes() for f in g.frames("P-1")] == seen


def test_gauges_that_differ_by_a_translation_or_an_inversion_on_3x3x3():
    """On 3x3x3, where a sum and a difference of shifts are different cells: a gauge that moves every atom by the
    same lattice vector, or atoms by supercell vectors, puts every bond in the same cell as before, so it is no
    new frame; a gauge whose image cells are the inversion's image of another's is a frame of its own, but with
    P-1 (whose operations include the inversion) the two give the same frames. The frames are checked against
    the image cells computed here directly, bond by bond."""
    from ecn.data import CrystalGraph

    src, dst = np.array([0, 1, 1, 2, 0, 2]), np.array([1, 0, 2, 1, 2, 0])
    base, shifted = np.array([[0, 0, 0], [2, 1, 0], [1, 0, 2]]), np.array([[0, 0, 0], [1, -2, 0], [2, 1, -1]])
    image = base[src] - base[dst]  # so that some gauge's cells are the inversion's image of another's
    moved = shifted + [[0, 0, 0], [3, 0, -3], [0, 3, 0]]  # atoms moved by supercell vectors: the same cells
    shifts = np.stack([np.zeros((3, 3), np.int64), shifted, shifted + [1, 2, -1], -2 * base - shifted, moved])
    g = CrystalGraph(np.eye(3) * 3.0, np.zeros((3, 3)), np.array([6, 6, 6]), np.stack([src, dst]), image,
                     np.ones(6), (3, 3, 3), "hand-made", {}, gauge_shifts=shifts.astype(np.int16))
    cells = [np.mod(image + r[src] - r[dst], 3) for r in shifts]
    assert np.array_equal(cells[1], cells[2]) and np.array_equal(cells[1], cells[4])
    assert np.array_equal(cells[3], np.mod(-cells[1], 3))
    assert not np.array_equal(cells[1], cells[3])
    frames = g.frames()
    assert g.num_frames == len(frames) == 3  # gauges 0, 1 and 3: 2 and 4 are 1 moved by lattice vectors
    for frame, expected in zip(frames, (cells[0], cells[1], cells[3])):
        np.testing.assert_array_equal(np.mod(frame.unit_edge_image, 3), expected)
    ops = np.asarray(g.supercell_point_group().elements, dtype=np.int64)
    assert any(np.array_equal(W, -np.eye(3)) for W in ops)
    distinct = {np.mod(c @ W.T, 3).tobytes() for c in (cells[0], cells[1]) for W in ops}
    assert distinct == {np.mod(c @ W.T, 3).tobytes() for c in cells for W in ops}  # gauge 3 adds nothing
    with_bases = g.frames("P-1")
    assert len(with_bases) == len(distinct) and len(g.frame_choices("P-1")) == len(distinct)
    assert {np.mod(f.unit_edge_image, 3).tobytes() for f in with_bases} == distinct


def test_every_array_a_graph_hands_out_is_read_only(perov):
    """Graphs are shared (cached, memoised, handed to several workers): no array they hand out can be changed in
    place, neither the stored ones nor those computed on demand, nor those of a frame."""
    g = next(g for g in map(crystal_graph, perov) if g.gauge_shifts is not None)
    arrays = {name: getattr(g, name) for name in (
        "lattice", "frac", "numbers", "unit_edge_index", "unit_edge_image", "unit_edge_length", "gauge_shifts",
        "unit_edge_vector", "unit_image_cell", "edge_index", "edge_length", "edge_vector", "atomic_number",
        "site_index", "cell_index", "cell_offset", "positions")}
    arrays |= {f"quotient_colors({group!r})": g.quotient_colors(group)[0] for group in ("P-1", "G", "S", "S_N")}
    arrays["geometric_rank()"] = g.geometric_rank()
    frame = g.frames()[1]
    arrays |= {f"frame.{name}": getattr(frame, name) for name in ("frac", "unit_edge_image")}
    assert [name for name, array in arrays.items() if array.flags.writeable] == []
    with pytest.raises(ValueError, match="read-only"):
        g.frac[0, 0] = 0.5


def test_a_graph_takes_the_id_it_is_given_else_the_crystals(perov):
    crystal = perov[0]
    assert crystal.id and crystal_graph(crystal).id == crystal.id
    assert crystal_graph(crystal, id="given").id == "given"


def test_two_tied_trees_are_both_stored():
    """Two atoms half a cell apart along x: the bonds +x and -x between them tie, so there are two trees, two
    gauges and two frames (the second atom one cell over puts the other bond in the cell)."""
    from ecn.data import Crystal

    g = crystal_graph(Crystal(np.diag([4.0, 5.0, 6.0]), [[0, 0, 0], [0.5, 0, 0]], [3, 3]))
    assert g.gauge_shifts.shape == (2, 2, 3) and g.num_frames == 2


def test_graphs_compare_and_hash_by_identity(perov):
    """A graph is one object (frozen, its arrays read-only): equal only to itself, usable as a key or in a set, and
    a comparison never compares arrays element by element (which would raise)."""
    import dataclasses

    g = crystal_graph(perov[0])
    again = crystal_graph(perov[0])
    assert g == g and g != again and len({g, again, g}) == 2 and {g: 1}[g] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.id = "another"


def test_a_graph_of_one_gauge_is_written_in_every_basis_of_p1():
    """One atom bonded to its six neighbours on a cubic lattice (one gauge, none stored): ``frame(0)`` is the graph
    itself; with P-1 each operation W writes it in another basis (images n -> W n, lattice rows W^-T L), which
    moves each bond to another image cell but keeps its Cartesian vector; one frame per distinct assignment."""
    from ecn.data import CrystalGraph

    image = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])
    g = CrystalGraph(np.eye(3) * 3.0, np.zeros((1, 3)), np.array([29]), np.zeros((2, 6), np.int64), image,
                     np.full(6, 3.0), (3, 3, 3), "one atom", {})
    assert g.gauge_shifts is None and g.num_frames == 1 and g.frame(0) is g
    ops = np.asarray(g.supercell_point_group().elements, dtype=np.int64)
    expected = list(dict.fromkeys(np.mod(image @ W.T, 3).tobytes() for W in ops))  # distinct, first met first
    frames = g.frames("P-1")
    assert len(expected) == 48 and [np.mod(f.unit_edge_image, 3).tobytes() for f in frames] == expected
    for frame in frames:
        np.testing.assert_allclose(frame.unit_edge_vector, g.unit_edge_vector, atol=1e-12)


def test_a_gauge_that_puts_every_bond_in_one_cell_is_one_frame_in_every_basis():
    """Two atoms bonded across a cell wall: the second gauge moves atom 1 so that both bonds stay in one cell
    (images 0), which every W leaves as it is: one frame; the first gauge's images (+-1, 0, 0) go to the six
    directions +-x, +-y, +-z: six frames on 3x3x3, three on 2x2x2 (where -x and +x are the same cell)."""
    from ecn.data import CrystalGraph

    for supercell, count in (((2, 2, 2), 1 + 3), ((3, 3, 3), 1 + 6)):
        g = CrystalGraph(np.eye(3) * 3.0, np.array([[0.0, 0, 0], [0.5, 0, 0]]), np.array([6, 6]),
                         np.array([[0, 1], [1, 0]]), np.array([[1, 0, 0], [-1, 0, 0]]), np.full(2, 4.5), supercell,
                         "two atoms", {}, gauge_shifts=np.array([[[0, 0, 0], [0, 0, 0]], [[0, 0, 0], [1, 0, 0]]],
                                                                dtype=np.int16))
        assert g.num_frames == 2 and not g.frames()[1].unit_edge_image.any()
        assert all(f.gauge_shifts is None for f in g.frames())  # each frame alone, without the other gauges
        assert len(g.frames("P-1")) == count


def test_graph_settings_defaults_and_edges():
    """The defaults are the paper's (2x2x2 supercell, also for a graph made by hand, the Isayev rule within
    6 A) and CGCNN's cutoff of 8 A for the radius rule; any cutoff above 0 A and any tolerance from 0 are valid;
    a supercell matrix may come as 9 integers in rows."""
    from ecn.data import CrystalGraph
    from ecn.data.graph import GraphSettings

    assert GraphSettings() == GraphSettings(supercell=(2, 2, 2), neighbors="isayev", tol=0.5, cutoff=6.0,
                                            max_neighbors=12, primitive=False, gauge="tree", neighbor_tol=1e-4)
    assert GraphSettings(neighbors="radius").cutoff == 8.0
    assert GraphSettings(neighbors="radius", cutoff=0.5).cutoff == 0.5
    assert GraphSettings(tol=0.0).tol == 0.0  # the Isayev rule without tolerance: valid
    for bad in ({"cutoff": 0}, {"cutoff": -1.0}, {"tol": -0.1}):
        with pytest.raises(ValueError, match="expected cutoff > 0 and tol >= 0"):
            GraphSettings(**bad)
    flat = GraphSettings(supercell=[1, 1, 0, -1, 1, 0, 0, 0, 2])
    assert flat.supercell == GraphSettings(supercell=[[1, 1, 0], [-1, 1, 0], [0, 0, 2]]).supercell
    assert flat.supercell == ((1, 1, 0), (-1, 1, 0), (0, 0, 2))
    assert GraphSettings(supercell=[2, 0, 0, 0, 3, 0, 0, 0, 1]).supercell == (2, 3, 1)  # diagonal: sizes
    for swapped in (((0, 1, 0), (1, 0, 0), (0, 0, 2)), ((0, 1, 0), (1, 0, 0), (0, 0, 1))):  # determinants -2, -1
        assert GraphSettings(supercell=swapped).supercell == swapped  # a left-handed choice of the same vectors
    assert GraphSettings(supercell=np.eye(3, dtype=int)).supercell == (1, 1, 1)  # determinant 1: the cell itself
    sheared = ((1, 1, 0), (0, 1, 0), (0, 0, 1))
    assert GraphSettings(supercell=sheared).supercell == sheared  # one cell too, in another basis
    one = CrystalGraph(np.eye(3), np.zeros((1, 3)), np.array([6]), np.zeros((2, 0), np.int64),
                       np.zeros((0, 3), np.int64), np.zeros(0))
    assert one.supercell == (2, 2, 2) and one.num_cells == 8


def test_a_triclinic_lattice_has_no_other_basis_frames():
    """A lattice whose only operations are the identity and the inversion (which P-1 contains): P-1 adds no
    basis frames."""
    from ecn.data import CrystalGraph

    lattice = np.array([[3.0, 0, 0], [0.4, 3.3, 0], [0.3, 0.5, 3.7]])
    g = CrystalGraph(lattice, np.array([[0.0, 0, 0], [0.5, 0.1, 0.2]]), np.array([6, 8]),
                     np.array([[0, 1], [1, 0]]), np.array([[1, 0, 0], [-1, 0, 0]]), np.full(2, 1.0), (2, 2, 2), "t", {},
                     gauge_shifts=np.array([[[0, 0, 0], [0, 0, 0]], [[0, 0, 0], [1, 0, 0]]], dtype=np.int16))
    assert g.supercell_point_group().order == 2
    assert g.frame_choices("P-1") == [(0, None), (1, None)] == g.frame_choices()


def test_a_graph_of_separate_molecules_is_not_connected():
    """N2 molecules far apart: each N is bonded to its partner only, so the supercell graph falls apart."""
    from ecn.data import Crystal
    from ecn.data.graph import GraphError

    gas = Crystal(np.eye(3) * 5.0, [[0, 0, 0], [0.22, 0, 0]], [7, 7])
    g = crystal_graph(gas)
    assert not g.is_connected()
    with pytest.raises(GraphError, match="expected a connected graph"):
        crystal_graph(gas, require_connected=True)
    assert crystal_graph(Crystal(np.eye(3) * 3.6, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17])).is_connected()


def test_geometric_colours_rank_the_cell_classes_by_their_shortest_vector(perov):
    """ECN-G on a cubic 2x2x2 supercell: the cells other than 0 fall into faces (length a), edges (a sqrt 2) and
    the body diagonal (a sqrt 3); the geometric rank numbers them in that order, whatever the orbit sizes
    (3, 3 and 1)."""
    from ecn.data.graph import _shortest_in_classes

    g = crystal_graph(perov[0])
    row = g.cell_pattern("G").edge_colors[0]
    rank = g.geometric_rank()[row]
    lengths = _shortest_in_classes(g.lattice, g.sublattice)
    a = np.linalg.norm(g.lattice[0])
    by_length = {round(float(v / a) ** 2): int(r) for v, r in zip(lengths, rank)}
    assert by_length == {0: 0, 1: 1, 2: 2, 3: 3} and len(set(rank.tolist())) == 4


def test_a_non_diagonal_supercell_in_normal_form_stays_a_matrix():
    from crystalgroups import Supercell
    from ecn.data.graph import GraphSettings

    hnf = Supercell(np.array([[1, 1, 0], [-1, 1, 0], [0, 0, 2]])).hnf
    assert not np.array_equal(hnf, np.diag(np.diag(hnf)))
    assert GraphSettings(supercell=hnf.tolist()).supercell == tuple(tuple(int(v) for v in r) for r in hnf)


def test_geometric_colours_follow_length_not_the_order_of_cells():
    """A tetragonal cell 3 x 5 x 5 A: the shortest class is (1, 0, 0) at 3 A although (0, 0, 1) comes first in
    the cells' order; the rank numbers the classes by length: 0, 3, 5, sqrt 34, sqrt 50, sqrt 59 A."""
    from ecn.data import CrystalGraph
    from ecn.data.graph import _shortest_in_classes

    g = CrystalGraph(np.diag([3.0, 5.0, 5.0]), np.zeros((1, 3)), np.array([6]), np.array([[0], [0]]),
                     np.array([[1, 0, 0]]), np.array([3.0]), (2, 2, 2), "tetragonal", {})
    assert g.supercell_point_group().order == 16
    rank = g.geometric_rank()[g.cell_pattern("G").edge_colors[0]]
    squared = np.rint(_shortest_in_classes(g.lattice, g.sublattice) ** 2).astype(int)
    assert {int(s): int(r) for s, r in zip(squared, rank)} == {0: 0, 9: 1, 25: 2, 34: 3, 50: 4, 59: 5}


def test_geometric_colours_treat_lengths_equal_to_a_millionth_of_an_angstrom_as_ties():
    """A 3 x 4 x 5 A cell: the classes (0, 0, 1) and (1, 1, 0) are both 5 A long and tie (then the canonical colour
    decides). Lattice parameters that differ in the seventh decimal (as files that print six give them) rank the
    colours the same way; a difference of 3e-6 A is a difference in length."""
    from ecn.data import CrystalGraph

    def ranks(c):
        g = CrystalGraph(np.diag([3.0, 4.0, c]), np.zeros((1, 3)), np.array([6]), np.zeros((2, 0), np.int64),
                         np.zeros((0, 3), np.int64), np.zeros(0), (2, 2, 2), "orthorhombic", {})
        row = g.cell_pattern("G").edge_colors[0]
        cells = [tuple(int(v) for v in cell) for cell in g.sublattice.cells]
        return [int(g.geometric_rank()[row[cells.index(cell)]]) for cell in ((0, 0, 1), (1, 1, 0))]

    assert ranks(5.0) == ranks(5.0 + 3e-7) == ranks(5.0 - 3e-7)
    assert ranks(5.0 + 3e-6) == [4, 3] and ranks(5.0 - 3e-6) == [3, 4]


def test_no_excess_symmetry_warning_while_colouring_graphs():
    """The excess-symmetry check is for patterns looked at one by one: colouring a graph (once per structure of a
    dataset) neither spends time on it nor warns, even where the pattern has excess symmetry (the hexagonal
    lattice group on 3x3x3, which ``crystalgroups.pattern`` warns about)."""
    import warnings

    import crystalgroups
    from ecn.data import CrystalGraph
    from ecn.data.graph import _pattern

    lattice = np.array([[3.0, 0, 0], [-1.5, 1.5 * np.sqrt(3), 0], [0, 0, 5.0]])
    g = CrystalGraph(lattice, np.zeros((1, 3)), np.array([6]), np.zeros((2, 1), np.int64), np.array([[1, 0, 0]]),
                     np.array([3.0]), (3, 3, 3), "hexagonal", {})
    with pytest.warns(crystalgroups.ExcessSymmetryWarning):
        crystalgroups.pattern(g.supercell_point_group(), (3, 3, 3), warn=True)
    _pattern.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for group in ("P-1", "G", "S", "S_N"):
            g.quotient_colors(group)


def test_frames_use_the_default_symmetry_tolerance():
    """A 3 x 5 x 5 A cell is tetragonal (16 operations) at the default tolerance, and its P-1 frames are those
    of its 16 operations."""
    from ecn.data import CrystalGraph

    g = CrystalGraph(np.diag([3.0, 5.0, 5.0]), np.array([[0.0, 0, 0], [0.5, 0, 0]]), np.array([6, 6]),
                     np.array([[0, 1], [1, 0]]), np.array([[1, 0, 0], [-1, 0, 0]]), np.full(2, 1.5), (3, 3, 3), "t", {},
                     gauge_shifts=np.array([[[0, 0, 0], [0, 0, 0]], [[0, 0, 1], [1, 1, 0]]], dtype=np.int16))
    assert g.supercell_point_group().order == 16
    assert [(t, None if W is None else W.tolist()) for t, W in g.frame_choices("P-1")] == [
        (t, None if W is None else W.tolist()) for t, W in g.frame_choices("P-1", symprec=1e-3)]
    assert len(g.frame_choices("P-1")) > 2


def test_graph_settings_are_frozen_and_atoms_exactly_min_distance_apart_are_kept():
    import dataclasses

    from ecn.data import Crystal
    from ecn.data.graph import GraphSettings

    with pytest.raises(dataclasses.FrozenInstanceError):
        GraphSettings().tol = 1.0  # settings are part of the cache key
    cscl = Crystal(np.eye(3) * 3.6, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17])
    d = cscl.min_distance()
    assert crystal_graph(cscl, min_distance=d).num_sites == 2
    with pytest.raises(ValueError, match="overlapping atoms"):
        crystal_graph(cscl, min_distance=d * (1 + 1e-12))


@pytest.mark.parametrize("supercell", [(2, 2, 2), (3, 1, 2), ((1, 1, 0), (0, 1, 1), (1, 0, 1))])
def test_supercell_positions_and_edge_vectors_agree(perov, supercell):
    """Each supercell node sits at its site moved by its cell's offset (cell 0 is the cell as written), and each
    edge vector is the difference of its two nodes' positions up to a vector of the supercell lattice."""
    g = crystal_graph(perov[0], supercell=supercell)
    np.testing.assert_allclose(g.positions[: g.num_sites], g.frac @ g.lattice, atol=1e-12)
    np.testing.assert_allclose(g.positions, (g.frac[g.site_index] + g.cell_offset) @ g.lattice, atol=1e-12)
    src, dst = g.edge_index
    box = g.sublattice.matrix.T @ g.lattice  # the supercell's vectors as rows
    wrapped = (g.positions[dst] - g.positions[src] - g.edge_vector) @ np.linalg.inv(box)
    np.testing.assert_allclose(wrapped, np.rint(wrapped), atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(g.edge_vector, axis=1), g.edge_length, atol=1e-9)


def test_crystal_graph_defaults_are_the_settings_defaults():
    """``crystal_graph``'s keywords default to :class:`GraphSettings`'s values (``cutoff=None``: the rule's own)."""
    import dataclasses
    import inspect

    from ecn.data.graph import GraphSettings

    params = inspect.signature(crystal_graph).parameters
    shared = [f.name for f in dataclasses.fields(GraphSettings) if f.name in params and f.name != "cutoff"]
    assert len(shared) >= 7
    for name in shared:
        assert params[name].default == getattr(GraphSettings(), name), name
    assert params["cutoff"].default is None


def test_a_graph_without_bonds_has_empty_edge_arrays():
    """Two atoms and no bond (a graph built by hand; the dataset build refuses such rows): every per-edge
    array is empty, with its full trailing shape."""
    from ecn.data import CrystalGraph

    g = CrystalGraph(np.eye(3) * 4.0, np.array([[0.0, 0, 0], [0.5, 0.5, 0.5]]), np.array([2, 10]),
                     np.zeros((2, 0), np.int64), np.zeros((0, 3), np.int64), np.zeros(0), (2, 2, 2), "gas", {})
    assert g.unit_image_cell.shape == (0,) and g.unit_same_site.shape == (0,)
    assert g.edge_index.shape == (2, 0) and g.edge_vector.shape == (0, 3) and g.edge_length.shape == (0,)
    assert g.num_nodes == 16 and not g.is_connected()


def test_names_built_at_run_time_act_as_the_literal_names(perov):
    """Settings and group names read from a file or built by a program are equal to the literals but not the
    same objects; every rule, gauge and group behaves the same with them."""
    from ecn.data.graph import GraphSettings, reduced_basis

    def fresh(name: str) -> str:  # an equal string that is another object (as YAML or a CLI gives)
        return (name + ".")[:-1]

    assert fresh("isayev") == "isayev" and fresh("isayev") is not sys.intern("isayev")
    assert GraphSettings(neighbors=fresh("isayev")).cutoff == 6.0
    assert GraphSettings(neighbors=fresh("radius")).cutoff == 8.0
    literal = crystal_graph(perov[0])
    built = crystal_graph(perov[0], neighbors=fresh("isayev"), gauge=fresh("tree"))
    np.testing.assert_array_equal(built.unit_edge_image, literal.unit_edge_image)
    np.testing.assert_array_equal(built.gauge_shifts, literal.gauge_shifts)
    as_given = crystal_graph(perov[0], gauge="as_given")
    assert crystal_graph(perov[0], gauge=fresh("as_given")).gauge_shifts is None is as_given.gauge_shifts
    T = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1]])  # the same crystal in a skew basis
    skew = Crystal(T @ perov[0].lattice, (perov[0].frac @ np.linalg.inv(T)) % 1.0, perov[0].numbers)
    reduced = reduced_basis(skew, GraphSettings())
    assert not np.allclose(reduced.lattice, skew.lattice)
    np.testing.assert_array_equal(reduced_basis(skew, GraphSettings(gauge=fresh("tree"))).lattice, reduced.lattice)
    for group in ("S_N", "P-1", "S"):  # each on its own graph: colours are memoised by group name
        a, b = crystal_graph(perov[0]).quotient_colors(group), crystal_graph(perov[0]).quotient_colors(fresh(group))
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1] == b[1]
    assert len(literal.frame_choices(fresh("P-1"))) == len(literal.frame_choices("P-1")) > literal.num_frames


def test_a_crystal_with_one_spanning_tree_stores_no_other_gauges():
    """Bond lengths that all differ: one minimum spanning tree, so no other gauge is stored (``None``) and the
    graph is its only frame; the cache and every frame loop then skip the gauges."""
    lattice = np.array([[3.1, 0, 0], [0.4, 3.4, 0], [0.3, 0.5, 3.9]])
    g = crystal_graph(Crystal(lattice, [[0, 0, 0], [0.45, 0.55, 0.52]], [6, 8]), neighbors="radius", cutoff=4.0)
    assert g.num_unit_edges > 0 and g.gauge_shifts is None and g.num_frames == 1
