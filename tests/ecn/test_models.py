"""Every model: shapes, equivariance to its group (exact, float64), and non-invariance outside it."""

import numpy as np
import pytest
import torch

import crystalgroups
from ecn.data import Crystal, FeatureSettings, collate, crystal_graph
from ecn.models import MODELS, build_model
from ecn.nn import scatter as scatter_module
from ecn.nn.layers import ColorLinear
from ecn.testing import assert_equivariant, node_permutation, permute_batch

# A 3-site cell with low symmetry, so that cell permutations are not graph automorphisms.
CRYSTAL = Crystal([[3.9, 0.1, 0.0], [0.2, 4.1, 0.0], [0.1, 0.3, 4.4]],
                  [[0.0, 0.0, 0.0], [0.52, 0.48, 0.5], [0.5, 0.03, 0.47]], [38, 22, 8])


def batch_for(name, dtype=torch.float64):
    group, graph = MODELS[name]
    g = crystal_graph(CRYSTAL, **graph)
    b = collate([g], group=group, features=FeatureSettings())
    floats = {k: getattr(b, k).to(dtype) for k in ("x", "edge_attr", "edge_length", "edge_vector", "positions")}
    from dataclasses import replace

    return replace(b, **floats), g


def model_for(name, readout="mean", dtype=torch.float64):
    torch.manual_seed(0)
    m = build_model(name, width=16, edge_dim=8, layers=2, readout=readout, node_in=FeatureSettings().node_dim(
        8 if MODELS[name][1]["supercell"] == (2, 2, 2) else 1))
    return m.to(dtype)


def cell_group_perms(symbol_or_s, graph, count=12, seed=0):
    rng = np.random.default_rng(seed)
    C = graph.num_sites
    if symbol_or_s == "S":
        cells = [rng.permutation(8) for _ in range(count)]
    else:
        lg = crystalgroups.LatticeGroup(symbol_or_s, (2, 2, 2))
        all_perms = lg.all_permutations()
        cells = [all_perms[k] for k in rng.choice(len(all_perms), count)]
    return [node_permutation(g, rng.permutation(C)) for g in cells]


@pytest.mark.parametrize("name", ["ecn-s", "ecn-p1", "ecn-g", "egnn"])
@pytest.mark.parametrize("readout", ["mean", "node"])
def test_ecn_models_are_equivariant_to_their_group(name, readout):
    batch, g = batch_for(name)
    model = model_for(name, readout)
    group = MODELS[name][0]
    if group == "S":
        perms, table = cell_group_perms("S", g), g.cell_pattern("S").edge_colors
    elif group == "P-1":
        perms, table = (
            cell_group_perms(crystalgroups.bravais_group("aP").point_group, g),
            g.cell_pattern("P-1").edge_colors,
        )
    else:
        pg = g.lattice_point_group()
        perms = cell_group_perms(pg, g)
        table = g.geometric_rank()[g.cell_pattern("G").edge_colors]
    result = assert_equivariant(model, batch, perms, table, g.num_sites)
    assert len(result["errors"]) == len(perms)


def test_p1_model_is_not_invariant_outside_its_group():
    """ECN-P-1 is more expressive than ECN-S_Lambda: a cell permutation outside P-1 changes its output."""
    batch, g = batch_for("ecn-p1")
    model = model_for("ecn-p1")
    table = g.cell_pattern("P-1").edge_colors
    outside = node_permutation([1, 0, 2, 3, 4, 5, 6, 7], range(g.num_sites))  # swap two cells only
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(model, batch, [outside], table, g.num_sites)
    # while ECN-S_Lambda is invariant under the same permutation
    batch_s, gs = batch_for("ecn-s")
    assert_equivariant(model_for("ecn-s"), batch_s, [outside], gs.cell_pattern("S").edge_colors, gs.num_sites)


@pytest.mark.parametrize("name", ["mpnn", "cgcnn", "megnet"])
def test_unit_cell_models_are_permutation_equivariant(name):
    batch, g = batch_for(name)
    model = model_for(name)
    rng = np.random.default_rng(1)
    perms = [rng.permutation(batch.num_nodes) for _ in range(6)]
    assert_equivariant(model, batch, perms, None, g.num_sites)


def test_egnn_is_rotation_invariant():
    from dataclasses import replace

    batch, _ = batch_for("egnn")
    model = model_for("egnn").eval()
    q, _ = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3)))
    with torch.no_grad():
        a = model(batch)
        b = model(replace(batch, edge_vector=batch.edge_vector @ q.T, positions=batch.positions @ q.T))
    assert float((a - b).abs().max()) < 1e-10


def test_float32_tolerance_and_shapes():
    batch, g = batch_for("ecn-s", torch.float32)
    model = model_for("ecn-s", dtype=torch.float32)
    assert model(batch).shape == (1, 1)
    # per site of the unit cell, also on the explicit supercell (8 copies of each site)
    assert batch.num_nodes == 8 * g.num_sites
    assert model_for("ecn-s", readout="node", dtype=torch.float32)(batch).shape == (g.num_sites, 1)
    assert_equivariant(model, batch, cell_group_perms("S", g, count=3), g.cell_pattern("S").edge_colors, g.num_sites)


def test_color_linear_equals_a_loop_over_colours():
    torch.manual_seed(0)
    layer = ColorLinear(5, 3, num_colors=4).double()
    x = torch.randn(50, 5, dtype=torch.float64)
    color = torch.randint(0, 4, (50,))
    expected = torch.stack([x[k] @ layer.weight[color[k]] + layer.bias[color[k]] for k in range(50)])
    assert torch.allclose(layer(x, color), expected, atol=1e-12)
    with pytest.raises(ValueError, match="colours in 0..3"):
        layer(x, torch.full((50,), 4))


def test_scatter_backends_agree():
    src = torch.randn(100, 7, dtype=torch.float64)
    index = torch.randint(0, 13, (100,))
    original = scatter_module.backend()
    scatter_module.set_backend("native")
    native = scatter_module.scatter_sum(src, index, 13), scatter_module.scatter_mean(src, index, 13)
    if scatter_module.torch_scatter_available():
        scatter_module.set_backend("torch_scatter")
        fast = scatter_module.scatter_sum(src, index, 13), scatter_module.scatter_mean(src, index, 13)
        for a, b in zip(native, fast):
            assert torch.allclose(a, b, atol=1e-12)
    dense = torch.zeros(13, 7, dtype=torch.float64).index_put_((index,), src, accumulate=True)
    assert torch.allclose(native[0], dense, atol=1e-12)
    with pytest.raises(ValueError):
        scatter_module.set_backend("cuda-magic")
    scatter_module.set_backend(original)


def test_permute_batch_rejects_non_permutations():
    batch, _ = batch_for("ecn-s")
    with pytest.raises(ValueError, match="permutation"):
        permute_batch(batch, [0] * batch.num_nodes)


def test_color_edge_linear_equals_a_per_colour_linear_on_the_concatenation():
    from ecn.nn.layers import ColorEdgeLinear

    torch.manual_seed(1)
    for colors, edges in ((1, 30), (3, 30), (3, 1)):  # (3, 1): the few-edges path
        layer = ColorEdgeLinear(4, 2, 5, num_colors=colors).double()
        h = torch.randn(6, 4, dtype=torch.float64)
        i, j = torch.randint(0, 6, (edges,)), torch.randint(0, 6, (edges,))
        e = torch.randn(edges, 2, dtype=torch.float64)
        c = torch.randint(0, colors, (edges,))
        W = torch.cat([layer.weight_i, layer.weight_j, layer.weight_e]).reshape(10, colors, 5)
        x = torch.cat([h[i], h[j], e], dim=1)
        expected = torch.stack([x[k] @ W[:, c[k]] + layer.bias[c[k]] for k in range(edges)])
        assert torch.allclose(layer(h, i, j, e, c), expected, atol=1e-12)


def test_extensive_outputs_scale_with_the_cell_and_intensive_ones_do_not():
    """A crystal written in a doubled cell: extensive outputs double, intensive ones stay.

    With one colour, no same-atom branch and no cell one-hot, each atom's state depends only on its
    neighbourhood in the infinite crystal, which the choice of cell does not change."""
    from ecn.models import CrystalModel, ModelConfig

    doubled = Crystal(
        np.diag([2, 1, 1]) @ CRYSTAL.lattice,
        np.concatenate([CRYSTAL.frac * [0.5, 1, 1], CRYSTAL.frac * [0.5, 1, 1] + [0.5, 0, 0]]),
        np.concatenate([CRYSTAL.numbers, CRYSTAL.numbers]),
    )
    feats = FeatureSettings(cell_onehot=False)
    torch.manual_seed(0)
    model = (
        CrystalModel(
            ModelConfig(
                name="ecn-s",
                node_in=feats.node_dim(8),
                width=16,
                edge_dim=8,
                layers=2,
                out_dim=2,
                extensive=(True, False),
                num_colors=1,
                delta=False,
            )
        )
        .double()
        .eval()
    )
    outs = []
    for crystal in (CRYSTAL, doubled):
        b = collate([crystal_graph(crystal)], group="S", features=feats)
        from dataclasses import replace

        b = replace(b, x=b.x.double(), edge_attr=b.edge_attr.double(), edge_color=b.edge_color * 0, num_edge_colors=1)
        with torch.no_grad():
            outs.append(model(b)[0])
    assert float(outs[1][0]) == pytest.approx(2 * float(outs[0][0]), rel=1e-9)
    assert float(outs[1][1]) == pytest.approx(float(outs[0][1]), rel=1e-9)


@pytest.mark.parametrize("name", ["ecn-s", "ecn-p1", "ecn-g", "mpnn", "cgcnn", "megnet"])
def test_every_parameter_gets_a_gradient(name):
    """What DistributedDataParallel needs without find_unused_parameters (the E(n) model is the exception)."""
    batch, _ = batch_for(name, torch.float32)
    model = model_for(name, dtype=torch.float32)
    model(batch).sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert missing == []


@pytest.mark.parametrize("in_features", [3, 200])
@pytest.mark.parametrize("with_bias", [True, False])
def test_color_matmul_equals_a_loop_over_rows(in_features, with_bias):
    from ecn.nn.layers import color_matmul

    torch.manual_seed(1)
    x = torch.randn(60, in_features, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(4, in_features, 5, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(4, 5, dtype=torch.float64) if with_bias else None
    color = torch.randint(0, 4, (60,))
    color[:3] = 2  # colour 3 may be absent; colour 2 is present
    expected = torch.stack([x[k] @ weight[color[k]] + (bias[color[k]] if with_bias else 0) for k in range(60)])
    got = color_matmul(x, weight, color, bias)
    assert torch.allclose(got, expected, atol=1e-12)
    grads = torch.autograd.grad(got.sum(), (x, weight))
    expected_grads = torch.autograd.grad(expected.sum(), (x, weight))
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(grads, expected_grads))


def test_color_matmul_on_no_rows_still_reaches_every_weight():
    from ecn.nn.layers import color_matmul

    weight = torch.randn(3, 4, 2, requires_grad=True)
    bias = torch.randn(3, 2, requires_grad=True)
    out = color_matmul(torch.zeros(0, 4), weight, torch.zeros(0, dtype=torch.long), bias)
    out.sum().backward()
    assert out.shape == (0, 2) and weight.grad is not None and bias.grad is not None
