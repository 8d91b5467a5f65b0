"""ecn.nn.layers against a reference written edge by edge from the layer's definition (float64).

The reference spells out paper Eq. 8-10 with the gate of Eq. 15 and the same-site term of Eq. 26, as
ECNLayer's docstring states them: for every edge its own colour's first-layer weights on
``[h_i, h_j, e_ij]``, the shared hidden and output layers, the same-site branch on edges between
copies of one atom, the gate, the (weighted) sum over neighbours, the optional batch normalisation
and the residual node update. Both strategies of ColorEdgeLinear (gather per node and colour, or
multiply each edge by its own colour) are driven, and one colour, and no edges at all.
"""

import math

import pytest
import torch
from torch.nn import functional as F

from ecn.nn.layers import ColorEdgeLinear, ColorLinear, ECNLayer, color_matmul


def _first_layer(first: ColorEdgeLinear, h, a, b, e, c):
    """One edge through the per-colour first layer: its colour's slices of the stacked weights."""
    C, H = first.num_colors, first.out_features
    wi = first.weight_i.reshape(first.node_dim, C, H)[:, c]
    wj = first.weight_j.reshape(first.node_dim, C, H)[:, c]
    we = first.weight_e.reshape(first.edge_dim, C, H)[:, c]
    return h[a] @ wi + h[b] @ wj + e @ we + first.bias[c]


def _edge_function(f, h, a, b, e, c):
    x = F.silu(_first_layer(f.first, h, a, b, e, c))
    return f.out(F.silu(f.hidden(x)))


def reference(layer: ECNLayer, h, edge_index, e, color, same, weight=None):
    n, d = h.shape
    agg = torch.zeros(n, d, dtype=h.dtype)
    for k in range(edge_index.shape[1]):
        a, b, c = int(edge_index[0, k]), int(edge_index[1, k]), int(color[k])
        m = _edge_function(layer.edge, h, a, b, e[k], c)
        if layer.same is not None and bool(same[k]):
            m = m + _edge_function(layer.same, h, a, b, e[k], c)
        m = torch.sigmoid(layer.gate(m)) * m
        agg[a] += m * (1.0 if weight is None else float(weight[k]))
    if layer.norm is not None:
        bn = layer.norm
        if bn.training:
            mean, var = agg.mean(0), agg.var(0, unbiased=False)
        else:
            mean, var = bn.running_mean, bn.running_var
        agg = (agg - mean) / torch.sqrt(var + bn.eps) * bn.weight + bn.bias
    return h + layer.node(torch.cat([h, agg], dim=1))


def _graph(nodes, edges, colors, edge_dim, seed):
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(nodes, 6, generator=g, dtype=torch.float64)
    edge_index = torch.randint(0, nodes, (2, edges), generator=g)
    e = torch.randn(edges, edge_dim, generator=g, dtype=torch.float64)
    color = torch.randint(0, colors, (edges,), generator=g)
    same = torch.rand(edges, generator=g) < 0.3
    return h, edge_index, e, color, same


@pytest.mark.parametrize("nodes,edges,colors,gather", [
    (5, 40, 2, True),  # many edges per node and colour: project every node per colour, gather per edge
    (4, 40, 3, True),  # the same with a number of colours that is not a power of two (rows node * C + colour)
    (9, 12, 8, False),  # few edges: each edge multiplied by its own colour's weights
    (4, 10, 1, None),  # one colour: no colour at all
    (3, 0, 3, False),  # no edges: only the node update
])
@pytest.mark.parametrize("delta", [True, False])
@pytest.mark.parametrize("norm", ["none", "batch"])
def test_the_layer_equals_its_definition_edge_by_edge(nodes, edges, colors, gather, delta, norm):
    torch.manual_seed(1)
    layer = ECNLayer(6, 3, colors, hidden=5, delta=delta, norm=norm).double()
    h, edge_index, e, color, same = _graph(nodes, edges, colors, 3, seed=nodes + edges)
    assert gather is None or (nodes * colors <= edges) == gather  # the strategy ColorEdgeLinear takes
    torch.testing.assert_close(layer(h, edge_index, e, color, same), reference(layer, h, edge_index, e, color, same),
                               rtol=0, atol=1e-12)
    if norm == "batch" and nodes > 1:  # evaluation mode: the running statistics, not the batch's
        layer.norm.running_mean.uniform_(-1, 1)
        layer.norm.running_var.uniform_(0.5, 2)
        layer.eval()
        torch.testing.assert_close(layer(h, edge_index, e, color, same),
                                   reference(layer, h, edge_index, e, color, same), rtol=0, atol=1e-12)


def test_an_edge_weight_counts_the_edge_that_many_times():
    torch.manual_seed(2)
    layer = ECNLayer(6, 3, 2, hidden=5).double()
    h, edge_index, e, color, same = _graph(5, 30, 2, 3, seed=3)
    weight = torch.randint(1, 4, (30,))
    repeated = torch.repeat_interleave(torch.arange(30), weight)
    expanded = layer(h, edge_index[:, repeated], e[repeated], color[repeated], same[repeated])
    torch.testing.assert_close(layer(h, edge_index, e, color, same, edge_weight=weight), expanded, rtol=0, atol=1e-12)
    torch.testing.assert_close(layer(h, edge_index, e, color, same, edge_weight=weight.double() / 2),
                               reference(layer, h, edge_index, e, color, same, weight.double() / 2), rtol=0, atol=1e-12)


def test_colour_linear_rows_take_their_own_colour():
    torch.manual_seed(3)
    layer = ColorLinear(4, 3, num_colors=3).double()
    x = torch.randn(7, 4, dtype=torch.float64)
    color = torch.tensor([2, 0, 1, 2, 2, 0, 1])
    expected = torch.stack([x[k] @ layer.weight[c] + layer.bias[c] for k, c in enumerate(color.tolist())])
    torch.testing.assert_close(layer(x, color), expected, rtol=0, atol=1e-12)
    one = ColorLinear(4, 3, num_colors=1).double()
    torch.testing.assert_close(one(x, torch.zeros(7, dtype=torch.long)), x @ one.weight[0] + one.bias[0])
    assert color_matmul(x, layer.weight, color).shape == (7, 3)
    torch.testing.assert_close(color_matmul(x, layer.weight, color),
                               torch.stack([x[k] @ layer.weight[c] for k, c in enumerate(color.tolist())]))


def test_initial_weights_are_uniform_within_the_fan_in_bound():
    torch.manual_seed(4)
    lin = ColorLinear(16, 8, num_colors=3)
    bound = 1 / math.sqrt(16)
    for w in (lin.weight, lin.bias):
        assert w.abs().max() <= bound and w.abs().max() > 0.8 * bound and w.std() > 0.4 * bound
    edge = ColorEdgeLinear(10, 5, 8, num_colors=2)
    bound = 1 / math.sqrt(2 * 10 + 5)  # nn.Linear's bound on the concatenation [h_i, h_j, e_ij]
    for w in (edge.weight_i, edge.weight_j, edge.weight_e, edge.bias):
        assert w.abs().max() <= bound and w.abs().max() > 0.8 * bound
    layer = ECNLayer(6, 3, 2)
    before = [p.detach().clone() for p in layer.parameters()]
    layer.reset_parameters()
    assert all(not torch.equal(a, b) for a, b in zip(before, layer.parameters()) if a.numel() > 1)


@pytest.mark.parametrize("make,error,message", [
    (lambda: ColorLinear(3, 2, num_colors=0), ValueError, "expected at least one colour, got 0"),
    (lambda: ECNLayer(4, 2, 2, norm="layer"), ValueError, "expected norm 'none' or 'batch', got 'layer'"),
    (lambda: ColorLinear(3, 2, num_colors=2)(torch.zeros(2, 3), torch.tensor([0, 2])), ValueError,
     "expected colours in 0..1, got 0..2"),
    (lambda: ColorLinear(3, 2, num_colors=2)(torch.zeros(2, 3), torch.tensor([0, 5])), ValueError,
     "expected colours in 0..1, got 0..5"),
    (lambda: ColorLinear(3, 2, num_colors=2)(torch.zeros(2, 3), torch.tensor([-1, 1])), ValueError,
     "expected colours in 0..1, got -1..1"),
    (lambda: ColorEdgeLinear(3, 1, 2, num_colors=3)(torch.zeros(2, 3), torch.tensor([0]), torch.tensor([1]),
                                                     torch.zeros(1, 1), torch.tensor([3])), ValueError,
     "expected colours in 0..2, got 3..3"),
])
def test_errors_name_what_was_expected(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert str(info.value) == message


def test_the_layers_describe_themselves():
    assert repr(ColorLinear(3, 2, num_colors=4)) == "ColorLinear(in_features=3, out_features=2, num_colors=4)"
    assert "ColorEdgeLinear(node_dim=4, edge_dim=2, out_features=3, num_colors=2)" in repr(ColorEdgeLinear(4, 2, 3, 2))
    assert ECNLayer(4, 2, 3).extra_repr() == "node_dim=4, edge_dim=2, num_colors=3, delta=True"
    assert ECNLayer(4, 2, 3, delta=False, norm="batch").extra_repr() == (
        "node_dim=4, edge_dim=2, num_colors=3, delta=False, norm=batch")
    assert ECNLayer(4, 2, 3, delta=False).same is None and ECNLayer(4, 2, 3, hidden=7).edge.first.out_features == 7


@pytest.mark.parametrize("colors", [1, 3])
def test_no_rows_give_no_output_but_still_reach_the_first_colours_weights(colors):
    weight = torch.randn(colors, 4, 3, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(colors, 3, dtype=torch.float64, requires_grad=True)
    for b in (bias, None):
        out = color_matmul(torch.zeros(0, 4, dtype=torch.float64), weight, torch.zeros(0, dtype=torch.long), b)
        assert out.shape == (0, 3)
        out.sum().backward()
        assert weight.grad is not None and not weight.grad.any()
    assert bias.grad is not None and not bias.grad.any()


def test_colours_need_not_start_at_zero_and_norm_may_come_from_a_file():
    torch.manual_seed(5)
    layer = ColorLinear(4, 3, num_colors=3).double()
    x = torch.randn(3, 4, dtype=torch.float64)
    expected = torch.stack([x[k] @ layer.weight[c] + layer.bias[c] for k, c in enumerate([1, 2, 2])])
    torch.testing.assert_close(layer(x, torch.tensor([1, 2, 2])), expected, rtol=0, atol=1e-12)
    read = "".join(["bat", "ch"])  # a string built at run time, as one read from a settings file is
    assert isinstance(ECNLayer(4, 2, 2, norm=read).norm, torch.nn.BatchNorm1d)
    assert ECNLayer(4, 2, 2, norm="".join(["no", "ne"])).norm is None


def test_initial_weights_take_both_signs():
    torch.manual_seed(6)
    for w in (*ColorEdgeLinear(10, 5, 8, num_colors=2).parameters(), *ColorLinear(16, 8, num_colors=3).parameters()):
        assert w.min() < -0.5 * w.abs().max() and w.max() > 0.5 * w.abs().max()
