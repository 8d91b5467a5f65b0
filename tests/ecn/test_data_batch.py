"""Features and batching."""

import numpy as np
import pytest
import torch

from ecn.data import Crystal, FeatureSettings, collate, crystal_graph, make_loader
from ecn.data.features import GROUP, PERIOD, gaussian_expansion


def test_period_and_group_match_pymatgen():
    from pymatgen.core import Element

    for z in range(1, 104):
        el = Element.from_Z(z)
        assert PERIOD[z] == el.row or el.is_lanthanoid or el.is_actinoid, el
        if not (el.is_lanthanoid or el.is_actinoid):
            assert GROUP[z] == el.group, el
        else:
            assert GROUP[z] == 19


def test_gaussians_peak_at_their_centres():
    s = FeatureSettings()
    e = gaussian_expansion(torch.linspace(0, 6, 20), s)
    assert torch.equal(e.argmax(dim=1), torch.arange(20))
    assert float(e[0, 1]) == pytest.approx(np.exp(-((6 / 19) ** 2) / 0.36))


def _graphs():
    a = crystal_graph(Crystal(np.eye(3) * 3.6, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17]), id="a", targets={"e": 1.0})
    b = crystal_graph(
        Crystal(np.eye(3) * 4.0, [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0, 0]], [12, 8, 8]), id="b", targets={}
    )
    return [a, b]


def test_collate_offsets_features_and_missing_targets():
    a, b = _graphs()
    batch = collate([a, b], group="P-1", target_names=["e"])
    assert batch.num_graphs == 2 and batch.num_nodes == a.num_nodes + b.num_nodes
    np.testing.assert_array_equal(batch.edge_index[:, a.num_edges :].numpy(), b.edge_index + a.num_nodes)
    assert batch.batch.tolist() == [0] * a.num_nodes + [1] * b.num_nodes
    assert batch.y[0, 0] == 1.0 and torch.isnan(batch.y[1, 0])
    assert batch.x.shape == (batch.num_nodes, FeatureSettings().node_dim(8))
    z = batch.x[:, :103].argmax(dim=1) + 1
    assert torch.equal(z, batch.atomic_number)
    assert torch.equal(batch.x[:, 103:111].argmax(dim=1), batch.cell_index)
    pg = collate([a, b], features=FeatureSettings(element="period_group", cell_onehot=False, hubbard=False))
    assert pg.x.shape[1] == 7 + 19 and torch.all(pg.x.sum(dim=1) == 2)


def test_collate_rejects_mixed_supercells():
    a, _ = _graphs()
    small = crystal_graph(Crystal(np.eye(3) * 3.6, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17]), supercell=(1, 1, 1))
    with pytest.raises(ValueError, match="one supercell size"):
        collate([a, small])


def test_loader_is_seeded():
    graphs = _graphs() * 5
    order = lambda seed: [b.ids for b in make_loader(graphs, batch_size=3, shuffle=True, seed=seed)]  # noqa: E731
    assert order(1) == order(1)
    assert sum(len(ids) for ids in order(1)) == 10
