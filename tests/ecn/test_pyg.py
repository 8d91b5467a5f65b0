"""PyG interop with the real torch_geometric package: conversion both ways, models and layers on PyG batches."""

import numpy as np
import pytest
import torch

pytest.importorskip("torch_geometric", reason="torch_geometric is not installed (pip install 'ecn[pyg]')")

from conftest import REPO, read_cifs  # noqa: E402
from torch_geometric.data import Batch as PyGBatch  # noqa: E402
from torch_geometric.loader import DataLoader  # noqa: E402

from ecn.checkpoint import load_checkpoint  # noqa: E402
from ecn.config import TrainConfig  # noqa: E402
from ecn.data import crystal_from_cif, crystal_graph  # noqa: E402
from ecn.models import ModelConfig, build_model, num_colors_for  # noqa: E402
from ecn.nn.layers import ECNLayer  # noqa: E402
from ecn.pyg import CrystalData, from_pyg, to_graphs, to_pyg  # noqa: E402
from ecn.train import _config_of, collater, graph_settings, model_from_checkpoint  # noqa: E402

CKPT = REPO / "docs" / "results" / "checkpoints"


@pytest.fixture(scope="module")
def rows(data_dir):
    return read_cifs(data_dir / "perov_5" / "test.csv.gz", limit=7)


def _graphs(rows, config):
    return [crystal_graph(crystal_from_cif(cif, id=mid), settings=graph_settings(config), targets={"heat_all": 1.0 * k})
            for k, (mid, cif) in enumerate(rows)]


def _models():
    """The published explicit-form ECN-S and CGCNN, and a quotient-form ECN-G."""
    for name in ("ecn-s", "cgcnn"):
        payload = load_checkpoint(CKPT / f"perov5-{name}.pt")
        yield _config_of(payload), model_from_checkpoint(payload)
    config = TrainConfig(model="ecn-g", width=16, layers=2, edge_dim=8)
    torch.manual_seed(0)
    yield config, build_model(ModelConfig(name="ecn-g", node_in=104, width=16, layers=2, edge_dim=8,
                                          num_colors=num_colors_for("ecn-g"))).eval()


@pytest.mark.parametrize("form", [0, 1, 2])
def test_models_give_the_same_outputs_on_pyg_batches(rows, form):
    config, model = list(_models())[form]
    make = collater(config, frames=False)  # a PyG Data holds one gauge
    graphs = _graphs(rows, config)
    batch = make(graphs)
    data = to_pyg(graphs, make)
    assert isinstance(data, PyGBatch) and data.num_graphs == len(rows)
    assert data.edge_color.shape == (batch.edge_index.shape[1],) and data.same_site.dtype == torch.bool
    np.testing.assert_array_equal(data.site_index.numpy(), batch.site_index.numpy())  # not offset by PyG
    with torch.no_grad():
        expected = model(batch)
        assert torch.equal(model(from_pyg(data)), expected)
        assert torch.equal(model(from_pyg(to_pyg(batch))), expected)
        # single graphs batched by PyG's own DataLoader
        loader = DataLoader([to_pyg(g, make) for g in graphs], batch_size=3)
        got = torch.cat([model(from_pyg(b)) for b in loader])
    assert torch.allclose(got, expected, atol=1e-5, rtol=1e-5)


def test_graphs_come_back(rows):
    config = TrainConfig(model="ecn-s")
    graphs = _graphs(rows, config)
    back = to_graphs(to_pyg(graphs, collater(config)))
    for a, b in zip(graphs, back):
        for name in ("lattice", "frac", "numbers", "unit_edge_index", "unit_edge_image", "unit_edge_length"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert (a.supercell, a.id, a.targets) == (b.supercell, b.id, b.targets)
        np.testing.assert_array_equal(a.edge_index, b.edge_index)
    single = to_pyg(graphs[0], collater(config))
    assert isinstance(single, CrystalData) and to_graphs(single)[0].num_edges == graphs[0].num_edges
    with pytest.raises(ValueError, match="made from a CrystalGraph"):
        to_graphs(to_pyg(collater(config, frames=False)(graphs)))
    with pytest.raises(ValueError, match="one gauge per structure"):
        to_pyg(collater(config)(graphs))


def test_an_ecn_layer_runs_on_pyg_tensors(rows):
    config = TrainConfig(model="ecn-p1")
    make = collater(config, frames=False)
    graphs = _graphs(rows, config)
    data, batch = to_pyg(graphs, make), make(graphs)
    torch.manual_seed(0)
    layer = ECNLayer(data.x.shape[1], data.edge_attr.shape[1], data.num_edge_colors.max().item())
    with torch.no_grad():
        a = layer(data.x, data.edge_index, data.edge_attr, data.edge_color, data.same_site)
        b = layer(batch.x, batch.edge_index, batch.edge_attr, batch.edge_color, batch.same_site)
    assert torch.equal(a, b)
