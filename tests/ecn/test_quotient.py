"""Quotient graphs: ECN models on the unit cell compute exactly what they compute on the supercell.

Without the cell one-hot the node inputs repeat in every cell and every group here contains the
supercell's translations, so every layer's features repeat too; the unit-cell graph whose bonds
carry the colour of the cell pair ``(0, image mod supercell)`` must then give the explicit
supercell's outputs and gradients with the same weights (float64, 1e-10).
"""

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import read_cifs
from hypothesis import given, settings
from hypothesis import strategies as st

import crystalgroups
from ecn.config import TrainConfig, apply_overrides
from ecn.data import Crystal, FeatureSettings, collate, crystal_from_cif, crystal_graph
from ecn.data.graph import GraphError
from ecn.models import MODELS, build_model, num_colors_for
from ecn.testing import quotient_mismatch

SUPERCELLS = [(2, 2, 2), (3, 3, 3), (1, 2, 3), ((1, 1, 0), (-1, 1, 0), (0, 0, 2))]
ECN_MODELS = ["ecn-s", "ecn-p1", "ecn-g", "egnn"]


@pytest.fixture(scope="module")
def real_crystals(data_dir):
    rows = read_cifs(Path(data_dir) / "perov_5" / "val.csv.gz", limit=3, every=97)
    rows += read_cifs(Path(data_dir) / "carbon_24" / "val.csv.gz", limit=2, every=211)
    return [crystal_from_cif(cif, id=i) for i, cif in rows]


def small_model(name, supercell, readout="mean", seed=0):
    torch.manual_seed(seed)
    return build_model(name, node_in=FeatureSettings(cell_onehot=False).node_dim(1), width=12, edge_dim=6, layers=2,
                       readout=readout, num_colors=num_colors_for(name, supercell))


@pytest.mark.parametrize("supercell", SUPERCELLS, ids=str)
@pytest.mark.parametrize("name", ECN_MODELS)
def test_quotient_equals_supercell_on_real_structures(real_crystals, name, supercell):
    graphs = [crystal_graph(c, supercell=supercell) for c in real_crystals]
    for readout in ("mean", "sum", "node"):
        err = quotient_mismatch(small_model(name, supercell, readout), graphs, MODELS[name][0])
        assert err["output"] < 1e-10 and err["gradient"] < 1e-10, (readout, err)


@st.composite
def random_crystals(draw):
    """A random lattice (reduced-ish, 2.5-6 A) with 1-4 sites that are not too close."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    for _ in range(50):
        lattice = np.diag(rng.uniform(2.5, 5.0, 3)) + rng.uniform(-0.8, 0.8, (3, 3))
        n = int(rng.integers(1, 5))
        frac = rng.uniform(-0.2, 1.2, (n, 3))  # outside [0, 1) too: images are part of the writing
        c = Crystal(lattice, frac, rng.choice([1, 6, 8, 14, 26, 55], n))
        if c.min_distance() > 1.0:
            return c
    return Crystal(np.eye(3) * 3.6, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17])


@settings(max_examples=15)
@given(crystal=random_crystals(), name=st.sampled_from(ECN_MODELS), supercell=st.sampled_from(SUPERCELLS),
       readout=st.sampled_from(["mean", "sum", "node"]))
def test_quotient_equals_supercell_on_generated_structures(crystal, name, supercell, readout):
    try:
        g = crystal_graph(crystal, supercell=supercell)
    except GraphError:  # no bonds at all under the paper's rule
        return
    err = quotient_mismatch(small_model(name, supercell, readout), [g], MODELS[name][0])
    assert err["output"] < 1e-10 and err["gradient"] < 1e-10, err


def test_quotient_colours_are_the_supercell_colours_of_cell_0(real_crystals):
    """Bond for bond, the quotient's colours are those of the explicit edges leaving cell 0, for
    every group and supercell, and every other cell repeats them."""
    for supercell in SUPERCELLS:
        g = crystal_graph(real_crystals[0], supercell=supercell)
        src, dst = g.edge_index
        for group in ("P-1", "G", "S", "S_N"):
            colors, count = g.quotient_colors(group)
            if group == "S_N":
                explicit = (src != dst).astype(np.int64)
            else:
                table = g.cell_pattern(group).edge_colors
                if group == "G":
                    table = g.geometric_rank()[table]
                explicit = table[g.cell_index[src], g.cell_index[dst]]
            assert np.array_equal(explicit.reshape(g.num_cells, -1), np.tile(colors, (g.num_cells, 1)))
            assert count == (2 if group == "S_N" else g.cell_pattern(group).num_edge_colors)
            assert colors.max() < count


def test_quotient_batch_has_one_node_per_site(real_crystals):
    g = crystal_graph(real_crystals[0])
    features = FeatureSettings(cell_onehot=False)
    q = collate([g, g], "S", features=features, quotient=True)
    e = collate([g, g], "S", features=features)
    assert (q.num_nodes, q.edge_index.shape[1]) == (2 * g.num_sites, 2 * g.num_unit_edges)
    assert (e.num_nodes, e.edge_index.shape[1]) == (2 * g.num_nodes, 2 * g.num_edges)
    assert q.quotient and q.num_cells == 8 and q.cell_weight == 1.0 and e.cell_weight == 1 / 8
    with pytest.raises(ValueError, match="cell one-hot"):
        collate([g], "S", features=FeatureSettings(cell_onehot=True), quotient=True)


def test_the_cell_onehot_breaks_the_quotient(real_crystals):
    """The one-hot is what the quotient cannot express: with it, cells compute different things."""
    g = crystal_graph(real_crystals[0])
    torch.manual_seed(0)
    model = build_model("ecn-s", node_in=FeatureSettings().node_dim(8), width=12, edge_dim=6, layers=2,
                        readout="node").double()
    batch = collate([g], "S")
    batch.x, batch.edge_attr = batch.x.double(), batch.edge_attr.double()
    out = model._forward(batch).reshape(8, g.num_sites)  # per node of the supercell, cell by cell
    assert float((out - out[0]).abs().max().detach()) > 1e-6
    per_site = model(batch)  # what the model returns: each site's mean over its 8 copies
    assert per_site.shape == (g.num_sites, 1)
    assert torch.allclose(per_site.reshape(-1), out.mean(0), atol=1e-12)


def test_num_colors_match_the_patterns():
    for sc in SUPERCELLS:
        assert num_colors_for("ecn-s", sc) == 2
        assert num_colors_for("ecn-p1", sc) == crystalgroups.pattern("P-1", sc, warn=False).num_edge_colors
        assert num_colors_for("ecn-g", sc) == num_colors_for("ecn-p1", sc)
    assert num_colors_for("ecn-p1", (3, 3, 3)) == 14 and num_colors_for("ecn-p1", (4, 4, 4)) == 36
    assert num_colors_for("ecn-s", (1, 1, 1)) == 1


def test_ecn_g_on_a_supercell_of_lower_symmetry_keeps_the_compatible_operations(real_crystals):
    cubic = real_crystals[0]  # Perov-5 cells are cubic: 48 operations
    full = crystal_graph(cubic).supercell_point_group()
    low = crystal_graph(cubic, supercell=(1, 2, 3)).supercell_point_group()
    assert full.order == 48 and low.order == 8 and low.is_subgroup_of(full)
    sc = crystalgroups.Supercell.diagonal(1, 2, 3)
    assert all(sc.is_compatible(W) for W in low.elements)


def test_a_model_refuses_colours_it_has_no_weights_for(real_crystals):
    g = crystal_graph(real_crystals[0], supercell=(3, 3, 3))
    model = small_model("ecn-p1", (2, 2, 2))  # 8 colours; 3x3x3 has 14
    batch = collate([g], "P-1", features=FeatureSettings(cell_onehot=False), quotient=True)
    with pytest.raises(ValueError, match="at most 8 edge colours"):
        model(batch)


def test_supercell_setting():
    assert apply_overrides(TrainConfig(), ["supercell=3,3,3"]).supercell == (3, 3, 3)
    assert apply_overrides(TrainConfig(), ["supercell=1,1,0,-1,1,0,0,0,2"]).supercell == (1, 1, 0, -1, 1, 0, 0, 0, 2)
    with pytest.raises(ValueError, match="supercell"):
        apply_overrides(TrainConfig(), ["supercell=2,2"])
    with pytest.raises(ValueError, match="quotient"):
        TrainConfig(graph_form="quotient", cell_onehot=True)
    assert TrainConfig().uses_quotient and not TrainConfig(cell_onehot=True).uses_quotient


def _log(out):
    import csv

    return list(csv.DictReader((out / "log.csv").open()))


def test_training_on_the_quotient_follows_the_supercell_run(tmp_path, data_dir, monkeypatch):
    """Same seed, same weights, same batches: the validation curve of a run on the quotient is the
    curve of the run on the explicit supercell, up to float32 rounding, and both checkpoints are
    sized to S_Lambda's 2 colours."""
    import json

    from ecn.checkpoint import load_checkpoint
    from ecn.cli import main

    monkeypatch.setenv("ECN_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ECN_CACHE_DIR", str(tmp_path / "cache"))
    runs = {}
    for form in ("quotient", "explicit"):
        out = tmp_path / form
        assert main(["train", "--data", "perov5", "--target", "heat_all", "--model", "ecn-s", "--epochs", "3",
                     "--limit-train", "96", "--out", str(out), "--set", "width=16", "--set", "layers=2",
                     "--set", "edge_dim=8", "--set", "batch_size=16", "--set", "limit_val=48",
                     "--set", "limit_test=16", "--set", "deterministic=true", "--set", f"graph_form={form}",
                     "--quiet"]) == 0
        runs[form] = out
    q, e = _log(runs["quotient"]), _log(runs["explicit"])
    assert len(q) == len(e) == 3
    for a, b in zip(q, e):
        assert abs(float(a["val_mae"]) - float(b["val_mae"])) < 1e-4 * float(b["val_mae"])
        assert abs(float(a["train_loss"]) - float(b["train_loss"])) < 1e-4 * float(b["train_loss"])
    assert float(q[-1]["val_mae"]) != float(q[0]["val_mae"])  # it trained
    for out in runs.values():
        assert load_checkpoint(out / "best.pt")["model_config"]["num_colors"] == 2
    mq = json.loads((runs["quotient"] / "metrics.json").read_text())
    me = json.loads((runs["explicit"] / "metrics.json").read_text())
    assert abs(mq["test_mae"] - me["test_mae"]) < 1e-4 * me["test_mae"]


@pytest.mark.parametrize("name", ["ecn-s", "ecn-g", "mpnn"])
def test_batch_norm_keeps_the_quotient_in_training_and_evaluation(real_crystals, name):
    """``norm="batch"``: statistics over the nodes of the explicit supercell (every site repeated once
    per cell) are those over the quotient's sites, so both forms agree in training mode too."""
    supercell = (2, 2, 2) if name != "mpnn" else (1, 1, 1)
    graphs = [crystal_graph(c, supercell=supercell) for c in real_crystals]
    torch.manual_seed(0)
    model = build_model(name, node_in=FeatureSettings(cell_onehot=False).node_dim(1), width=12, edge_dim=6,
                        layers=2, norm="batch", num_colors=num_colors_for(name, supercell)).double()
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules())
    features = FeatureSettings(cell_onehot=False)

    def run(quotient):
        b = collate(graphs, MODELS[name][0], features=features, quotient=quotient)
        b.x, b.edge_attr, b.edge_vector = b.x.double(), b.edge_attr.double(), b.edge_vector.double()
        return model(b)

    model.train()
    explicit, quotient = run(False), run(True)
    assert torch.allclose(explicit, quotient, rtol=0, atol=1e-10)
    if name != "mpnn":
        err = quotient_mismatch(model, graphs, MODELS[name][0])  # evaluation mode, running statistics
        assert err["output"] < 1e-10 and err["gradient"] < 1e-10, err


def test_norm_is_refused_where_the_layer_has_none():
    with pytest.raises(ValueError, match="expected norm 'none' for cgcnn"):
        build_model("cgcnn", norm="batch")
    with pytest.raises(ValueError, match="expected norm 'none' or 'batch', got 'layer'"):
        TrainConfig(norm="layer")


# -- compressed batches: equal edges merged and counted ------------------------------------------------


def _float64(batch):
    from dataclasses import replace

    return replace(batch, **{k: getattr(batch, k).double() for k in ("x", "edge_attr", "edge_length", "edge_vector",
                                                                       "positions")})


@pytest.mark.parametrize("neighbors", ["isayev", "radius"])
@pytest.mark.parametrize("name,quotient", [("ecn-s", True), ("ecn-p1", True), ("ecn-g", True), ("ecn-s", False),
                                           ("mpnn", False)])
def test_compressed_batches_give_the_same_outputs_and_gradients(real_crystals, name, quotient, neighbors):
    """Training merges edges with equal end sites, colour, same-site flag and float32 length, and
    counts them (``collate(..., compress_edges=True)``): the ECN layer's sums, and every output and
    gradient, are those of the full batch (float64, 1e-12), in training mode with batch norm too."""
    supercell = (2, 2, 2) if name != "mpnn" else (1, 1, 1)
    graphs = [crystal_graph(c, supercell=supercell, neighbors=neighbors) for c in real_crystals]
    for readout, norm in (("mean", "none"), ("node", "batch"), ("sum", "none")):
        torch.manual_seed(1)
        model = build_model(name, node_in=FeatureSettings(cell_onehot=False).node_dim(1), width=12, edge_dim=6,
                            layers=2, readout=readout, norm=norm, num_colors=num_colors_for(name, supercell)).double()
        model.train()
        results = []
        for compress in (False, True):
            batch = _float64(collate(graphs, MODELS[name][0], features=FeatureSettings(cell_onehot=False),
                                     quotient=quotient, compress_edges=compress))
            model.zero_grad()
            out = model(batch)
            (out * torch.linspace(-1, 1, out.numel(), dtype=out.dtype).reshape(out.shape)).sum().backward()
            results.append((batch, out.detach(), [p.grad.clone() for p in model.parameters()]))
        (full, out_full, grad_full), (small, out_small, grad_small) = results
        assert small.edge_weight is not None and full.edge_weight is None
        if neighbors == "radius":  # 12 neighbours and more: some meet one site at several images alike
            assert small.edge_index.shape[1] < full.edge_index.shape[1]
        assert float(small.edge_weight.sum()) == full.edge_index.shape[1]  # and every edge is counted
        assert torch.allclose(out_full, out_small, rtol=0, atol=1e-12), (readout, norm)
        for a, b in zip(grad_full, grad_small):
            assert torch.allclose(a, b, rtol=0, atol=1e-11), (readout, norm)


def test_compression_keeps_edges_that_differ_in_any_field():
    from ecn.data.batch import compress_edges_of

    edge_index = np.array([[0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 2, 1]])
    color = np.array([0, 0, 1, 0, 0, 0])
    same_site = np.array([False, False, False, True, False, False])
    length = np.array([2.0, 2.0, 2.0, 2.0, 2.0, np.nextafter(np.float32(2.0), np.float32(3.0))], np.float32)
    keep, count = compress_edges_of(edge_index, color, same_site, length)
    assert keep.tolist() == [0, 2, 3, 4, 5] and count.tolist() == [2, 1, 1, 1, 1]


@pytest.mark.parametrize("name", ["cgcnn", "megnet", "egnn"])
def test_models_that_read_every_edge_refuse_a_compressed_batch(real_crystals, name):
    supercell = (2, 2, 2) if name == "egnn" else (1, 1, 1)
    graphs = [crystal_graph(c, supercell=supercell) for c in real_crystals[:2]]
    batch = collate(graphs, MODELS[name][0], features=FeatureSettings(cell_onehot=False), quotient=name == "egnn",
                    compress_edges=True)
    model = build_model(name, node_in=FeatureSettings(cell_onehot=False).node_dim(1), width=8, edge_dim=4, layers=1)
    with pytest.raises(ValueError, match="expected a batch without compressed edges"):
        model(batch)
