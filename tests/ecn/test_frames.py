"""Gauges run once per class of colour refinement, weighted by their count (ecn.data.frames)."""

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import torch
from conftest import read_cifs
from hypothesis import given
from hypothesis import strategies as st

from ecn.data import FeatureSettings, collate, crystal_from_cif, crystal_graph
from ecn.data.frames import distinct_frames, refine
from ecn.models import build_model

GROUPS = {"ecn-s": "S", "ecn-g": "G", "ecn-p1": "P-1"}


@pytest.fixture(scope="module")
def graphs(data_dir):
    rows = read_cifs(Path(data_dir) / "perov_5" / "test.csv.gz", limit=40, every=29)
    rows += read_cifs(Path(data_dir) / "carbon_24" / "test.csv.gz", limit=4, every=401)
    return [crystal_graph(crystal_from_cif(cif, id=i)) for i, cif in rows]


def _model(name, readout="mean"):
    torch.manual_seed(3)
    return build_model(name, node_in=FeatureSettings(cell_onehot=False).node_dim(1), width=24, edge_dim=8,
                       layers=3, readout=readout).double().eval()


def _features():
    return FeatureSettings(cell_onehot=False)


def _every_gauge(model, graph, group):
    """The plain mean of the model over all of a graph's gauges, one gauge at a time (float64)."""
    with torch.no_grad():
        outs = [model(_double(collate([f], group, features=_features(), quotient=True))) for f in
                graph.frames(group, basis=False)]
    return torch.stack(outs).mean(0)


def _double(batch):
    batch.x, batch.edge_attr = batch.x.double(), batch.edge_attr.double()
    batch.edge_length, batch.edge_vector = batch.edge_length.double(), batch.edge_vector.double()
    return batch


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_weighted_classes_give_the_mean_over_every_gauge(graphs, name):
    group, model = GROUPS[name], _model(name)
    batch = _double(collate(graphs, group, features=_features(), quotient=True, frames=True, merge_frames=True))
    all_gauges = sum(len(g.frames(group)) for g in graphs)
    assert batch.num_graphs < all_gauges  # classes were merged (Perov-5's cubic crystals have many)
    with torch.no_grad():
        fast = model(batch)
    slow = torch.cat([_every_gauge(model, g, group) for g in graphs])
    # the batch holds bond lengths in float32: bonds equal to 1e-6 A but one float32 step apart
    # move the output by ~1e-8; gauges that refinement tells apart differ by ~1e-5 (next test)
    assert torch.allclose(fast, slow, rtol=0, atol=1e-7), (fast - slow).abs().max()
    # the weights of each structure's slots add up to one
    sums = torch.zeros(len(graphs), dtype=torch.float64).index_add_(0, batch.frame_of, batch.frame_weight.double())
    assert torch.allclose(sums, torch.ones(len(graphs), dtype=torch.float64))


def test_without_merging_every_gauge_has_its_slot(graphs):
    plain = collate(graphs, "S", features=_features(), quotient=True, frames=True)
    assert plain.num_graphs == sum(len(g.frames("S")) for g in graphs)
    counts = [len(g.frames("S")) for g in graphs]
    expected = torch.cat([torch.full((n,), 1 / n, dtype=torch.float64) for n in counts])
    assert torch.equal(plain.frame_weight, expected)


def test_distinct_classes_really_differ(graphs):
    """Two gauges refinement tells apart give the model different outputs, so merging them would be wrong."""
    model = _model("ecn-s")
    differing = 0
    for g in graphs:
        (kept, _), = distinct_frames([g.frames("S")], lambda f: f.quotient_colors("S")[0])
        if len(kept) > 1:
            with torch.no_grad():
                outs = [float(model(_double(collate([f], "S", features=_features(), quotient=True)))) for f in kept]
            differing += max(outs) - min(outs) > 1e-6
    assert differing > 0


def test_per_site_readout_merges_only_gauges_alike_site_by_site(graphs):
    model = _model("ecn-s", readout="node")
    whole = _double(collate(graphs, "S", features=_features(), quotient=True, frames=True, merge_frames=True))
    with pytest.raises(ValueError, match="merged site by site"):
        model(whole)
    batch = _double(collate(graphs, "S", features=_features(), quotient=True, frames=True, per_site=True,
                            merge_frames=True))
    assert batch.num_graphs > whole.num_graphs
    with torch.no_grad():
        fast = model(batch)
    slow = torch.cat([_every_gauge(model, g, "S") for g in graphs])
    assert fast.shape == (sum(g.num_sites for g in graphs), 1)
    assert torch.allclose(fast, slow, rtol=0, atol=1e-7)


@st.composite
def relabelled_graphs(draw):
    """A random directed multigraph with labels, and the same graph with its nodes renumbered."""
    n = draw(st.integers(1, 9))
    m = draw(st.integers(0, 25))
    src = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
    dst = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
    node = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), dtype=np.int64)
    edge = np.array(draw(st.lists(st.integers(0, 2), min_size=m, max_size=m)), dtype=np.int64)
    perm = np.array(draw(st.permutations(range(n))), dtype=np.int64)
    return n, src, dst, node, edge, perm


@given(relabelled_graphs())
def test_refinement_gives_a_renumbered_graph_the_same_colours(case):
    n, src, dst, node, edge, perm = case
    # the disjoint union of the graph and its renumbering (node k of the first is node perm[k] of the second)
    inv = np.empty(n, dtype=np.int64)
    inv[perm] = np.arange(n)
    colour = refine(2 * n, np.concatenate([src, n + perm[src]]), np.concatenate([dst, n + perm[dst]]),
                    np.concatenate([node, node[inv]]), np.concatenate([edge, edge]))
    assert np.array_equal(colour[:n], colour[n + perm])


@pytest.mark.filterwarnings("ignore:The hashes produced for graphs without node or edge attributes changed")
@given(st.integers(0, 2**32 - 1))
def test_refinement_separates_nodes_networkx_separates(seed):
    """Against networkx's Weisfeiler-Leman hashes of each node's subgraph, on random undirected graphs."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 10))
    g = nx.gnm_random_graph(n, int(rng.integers(0, n * (n - 1) // 2 + 1)), seed=int(rng.integers(1 << 30)))
    edges = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    src, dst = np.concatenate([edges[:, 0], edges[:, 1]]), np.concatenate([edges[:, 1], edges[:, 0]])
    colour = refine(n, src, dst, np.zeros(n, np.int64), np.zeros(len(src), np.int64))
    hashes = nx.weisfeiler_lehman_subgraph_hashes(g, iterations=n)
    theirs = [hashes[v][-1] if hashes[v] else "" for v in range(n)]
    for a in range(n):
        for b in range(n):
            assert (colour[a] == colour[b]) == (theirs[a] == theirs[b]), (a, b, list(g.edges()))
