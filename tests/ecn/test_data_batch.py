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


def test_element_properties_are_standardised_and_follow_the_periodic_table():
    from pymatgen.core import Element

    from ecn.data.features import element_properties

    names, table = element_properties()
    assert table.shape == (104, len(names)) and not table.flags.writeable
    np.testing.assert_array_equal(table[0], 0.0)  # no element: all zeros
    k = names.index("electronegativity")
    # standardised over the elements that have a value: ordered as pymatgen's Pauling scale
    raw = {z: Element.from_Z(z).X for z in (3, 8, 9, 55)}
    assert sorted(raw, key=raw.get) == sorted(raw, key=lambda z: table[z, k])
    have = table[1:, k][table[1:, k] != 0]
    assert abs(float(have.mean())) < 0.05 and abs(float(have.std()) - 1) < 0.05
    assert table[2, k] == 0.0  # He: pymatgen gives no electronegativity -> the mean
    radius = names.index("covalent_radius")
    assert table[55, radius] > table[3, radius] > table[9, radius]  # Cs > Li > F


def test_property_features_append_period_group_and_properties():
    from ecn.data.features import element_properties

    a, b = _graphs()
    names, table = element_properties()
    both = collate([a, b], features=FeatureSettings(element="onehot+properties", cell_onehot=False, hubbard=False))
    assert both.x.shape[1] == 103 + 7 + 19 + len(names) == FeatureSettings(
        element="onehot+properties", cell_onehot=False, hubbard=False).node_dim(8)
    z = both.atomic_number
    assert torch.equal(both.x[:, :103].argmax(dim=1) + 1, z)
    np.testing.assert_array_equal(both.x[:, 103 + 26:].numpy(), table[z.numpy()])
    only = collate([a, b], features=FeatureSettings(element="properties", cell_onehot=False, hubbard=False))
    assert torch.equal(only.x, both.x[:, 103:])
    with pytest.raises(ValueError, match="expected element features among"):
        FeatureSettings(element="mendeleev")


def test_gaussian_settings_reach_the_edge_features():
    a, b = _graphs()
    fine = FeatureSettings(num_gaussians=41, max_distance=8.0, width=0.2, cell_onehot=False)
    batch = collate([a, b], features=fine)
    assert batch.edge_attr.shape == (batch.edge_index.shape[1], 41)
    centre = torch.round(batch.edge_length / 0.2).long()  # the nearest centre (0.2 A apart) is the largest
    assert torch.equal(batch.edge_attr.argmax(dim=1), centre)
    with pytest.raises(ValueError, match="max_distance > 0"):
        FeatureSettings(max_distance=0.0)
