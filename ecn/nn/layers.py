"""Equivariant message passing from parameter-sharing patterns (paper Claim 6.1, Eq. 8-10, 15, 26).

Shapes (``N`` nodes, ``E`` edges, ``F`` node features, ``D`` edge features, ``C`` colours):
``h (N, F)``, ``edge_index (2, E)``, ``edge_attr (E, D)``, ``edge_color (E,)`` in ``0 .. C-1``,
``same_site (E,)`` bool. An edge ``(i, j)`` of :mod:`ecn.data` lists atom ``j`` as a neighbour
of atom ``i`` (row 0 the atom, row 1 its neighbour), so each atom ``i`` aggregates the messages
``m_ij`` of its neighbours, as in CGCNN; for the symmetric bond graphs of the paper this is the
same as the other direction.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .scatter import scatter_sum

__all__ = ["ColorEdgeLinear", "ColorLinear", "ECNLayer", "color_matmul"]


def _check_colors(color: torch.Tensor, num_colors: int) -> None:
    if len(color) and (int(color.max()) >= num_colors or int(color.min()) < 0):
        raise ValueError(f"expected colours in 0..{num_colors - 1}, got {int(color.min())}..{int(color.max())}")


def color_matmul(x: torch.Tensor, weight: torch.Tensor, color: torch.Tensor, bias: torch.Tensor | None = None):
    """``y_k = x_k weight[color_k] (+ bias[color_k])`` for all rows at once, no loop over colours.

    Two exact strategies. Narrow inputs (``C * in <= 512``, e.g. 20 Gaussians x 8 colours) are
    lifted: row ``k`` is placed in block ``color_k`` of an ``(E, C * (in + 1))`` matrix (the extra
    column carries the bias) and multiplied once with all colours' stacked weights. Wider inputs
    are grouped by colour into a zero-padded ``(C, max count, in)`` batch and multiplied with one
    ``torch.baddbmm``: the work of one ``(E, in) x (in, out)`` product plus padding.

    Shapes: ``x (E, in)``, ``weight (C, in, out)``, ``color (E,)``, ``bias (C, out)`` -> ``(E, out)``.

    >>> w = torch.stack([torch.eye(2), 2 * torch.eye(2)])
    >>> color_matmul(torch.ones(3, 2), w, torch.tensor([1, 0, 1]))
    tensor([[2., 2.],
            [1., 1.],
            [2., 2.]])
    """
    C, in_features, out_features = weight.shape
    E = len(color)
    if C * in_features <= LIFT_LIMIT:
        if bias is not None:
            x = torch.cat([x, x.new_ones(E, 1)], dim=1)
            weight = torch.cat([weight, bias[:, None, :]], dim=1)
        rows = torch.arange(E, device=x.device) * C + color
        lifted = x.new_zeros(E * C, x.shape[1]).index_copy(0, rows, x)  # backward: index_select
        return lifted.reshape(E, -1) @ weight.reshape(-1, out_features)
    order = torch.argsort(color, stable=True)
    sorted_color = color[order]
    counts = torch.bincount(color, minlength=C)
    starts = torch.cumsum(counts, 0) - counts
    position = torch.arange(E, device=x.device) - starts[sorted_color]
    width = int(counts.max()) if E else 0
    padded = x.new_zeros(C, width, in_features)
    padded[sorted_color, position] = x[order]
    out = torch.bmm(padded, weight) if bias is None else torch.baddbmm(bias[:, None, :], padded, weight)
    result = x.new_empty(E, out_features)
    result[order] = out[sorted_color, position]
    return result


#: Inputs at most this wide (colours x features) are lifted by :func:`color_matmul`, wider ones padded.
LIFT_LIMIT = 512


class ColorLinear(nn.Module):
    """A linear layer with one weight matrix and bias per colour: ``y_e = x_e W[c_e] + b[c_e]``.

    All colours' weights live in one ``(C, in, out)`` tensor. The rows are grouped by colour
    into one padded batch and multiplied with a single ``torch.baddbmm``: no Python loop over
    colours and no one-hot lifting of the input (which would multiply the work by ``C``).

    Shapes: ``x (E, in)``, ``color (E,)`` -> ``(E, out)``.

    >>> layer = ColorLinear(3, 2, num_colors=4)
    >>> layer(torch.randn(5, 3), torch.tensor([0, 3, 3, 1, 0])).shape
    torch.Size([5, 2])
    """

    def __init__(self, in_features: int, out_features: int, num_colors: int) -> None:
        super().__init__()
        if num_colors < 1:
            raise ValueError(f"expected at least one colour, got {num_colors}")
        self.in_features, self.out_features, self.num_colors = in_features, out_features, num_colors
        self.weight = nn.Parameter(torch.empty(num_colors, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(num_colors, out_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.in_features)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor, color: torch.Tensor) -> torch.Tensor:
        if self.num_colors == 1:
            return x @ self.weight[0] + self.bias[0]
        _check_colors(color, self.num_colors)
        return color_matmul(x, self.weight, color, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, num_colors={self.num_colors}"


class ColorEdgeLinear(nn.Module):
    """The first layer of an edge function, one set of weights per colour, on ``[h_i, h_j, e_ij]``.

    ``y_ij = h_i A[c] + h_j B[c] + e_ij D[c] + b[c]`` with ``c = alpha(i, j)``: the same map as a
    per-colour linear layer on the concatenation, computed without forming it. The node terms are
    projected once per node for every colour (``N x F x C x H`` work, with ``N`` about a tenth of
    ``E``) and gathered per edge by ``node * C + colour``; the edge term is projected per edge with
    its own colour's weights only (:func:`color_matmul`). All colours' weights are single tensors; there is
    no Python loop over colours and no one-hot lifting.

    Shapes: ``h (N, F)``, ``i, j (E,)``, ``e (E, D)``, ``color (E,)`` -> ``(E, H)``.

    >>> layer = ColorEdgeLinear(4, 2, 3, num_colors=2)
    >>> layer(torch.randn(5, 4), torch.tensor([0, 1]), torch.tensor([1, 4]), torch.randn(2, 2), torch.tensor([1, 0])).shape
    torch.Size([2, 3])
    """

    def __init__(self, node_dim: int, edge_dim: int, out_features: int, num_colors: int) -> None:
        super().__init__()
        self.node_dim, self.edge_dim, self.out_features, self.num_colors = node_dim, edge_dim, out_features, num_colors
        self.weight_i = nn.Parameter(torch.empty(node_dim, num_colors * out_features))
        self.weight_j = nn.Parameter(torch.empty(node_dim, num_colors * out_features))
        self.weight_e = nn.Parameter(torch.empty(edge_dim, num_colors * out_features))
        self.bias = nn.Parameter(torch.empty(num_colors, out_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(2 * self.node_dim + self.edge_dim)  # as nn.Linear on the concatenation
        for w in (self.weight_i, self.weight_j, self.weight_e, self.bias):
            nn.init.uniform_(w, -bound, bound)

    def forward(self, h, i, j, e, color):
        C, H = self.num_colors, self.out_features
        _check_colors(color, C)
        take = torch.index_select  # its backward is index_add_, much faster on CPU than indexing's index_put_
        if 4 * len(i) < h.shape[0]:
            # few edges (e.g. the same-atom branch): gather the nodes first, project only those
            x = torch.cat([take(h, 0, i), take(h, 0, j), e], dim=1)
            W = torch.cat([self.weight_i, self.weight_j, self.weight_e])
            y = (x @ W).reshape(len(i), C, H) + self.bias
            return _pick(y, color)
        if C == 1:
            return take(h @ self.weight_i, 0, i) + take(h @ self.weight_j, 0, j) + e @ self.weight_e + self.bias[0]
        P = (h @ self.weight_i).reshape(-1, H)  # row node * C + colour
        Q = (h @ self.weight_j).reshape(-1, H)
        # the edge term, with the bias riding on it, takes only its own colour's weights
        R = color_matmul(e, self.weight_e.reshape(-1, C, H).transpose(0, 1), color, self.bias)
        return take(P, 0, i * C + color) + take(Q, 0, j * C + color) + R

    def extra_repr(self) -> str:
        return f"node_dim={self.node_dim}, edge_dim={self.edge_dim}, out_features={self.out_features}, num_colors={self.num_colors}"


def _pick(y: torch.Tensor, color: torch.Tensor) -> torch.Tensor:
    """``y[k, color[k]]`` for ``y (E, C, H)``, as one ``index_select`` on rows ``k * C + color[k]``."""
    E, C, H = y.shape
    rows = torch.arange(E, device=color.device) * C + color
    return torch.index_select(y.reshape(E * C, H), 0, rows)


class _EdgeFunction(nn.Module):
    """``phi_e^alpha``: first layer per colour, hidden and output layers shared (paper A.7)."""

    def __init__(self, node_dim: int, edge_dim: int, hidden: int, out_features: int, num_colors: int) -> None:
        super().__init__()
        self.first = ColorEdgeLinear(node_dim, edge_dim, hidden, num_colors)
        self.hidden = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, out_features)
        self.act = nn.SiLU()

    def forward(self, h, i, j, e, color):
        return self.out(self.act(self.hidden(self.act(self.first(h, i, j, e, color)))))


class ECNLayer(nn.Module):
    """One equivariant message-passing layer (paper Eq. 8-10 with the gate of Eq. 15 and Eq. 26).

    ``m_ij = phi_e^{alpha(i,j)}(h_i, h_j, e_ij)`` for every edge, plus
    ``phi_delta^{alpha(i,j)}(h_i, h_j, e_ij)`` on the edges between copies of the same atom of
    the unit cell (the delta term of Eq. 26: the ``S_C`` factor of the product group); each
    message is gated, ``m_ij <- sigmoid(phi_a(m_ij)) * m_ij``, summed over neighbours, and the node
    update is residual, ``h_i <- h_i + phi_h([h_i, m_i])`` (one node function: the action on the
    nodes is transitive, so there is one node colour).

    Equivariance holds for every permutation of the nodes that preserves ``edge_color`` and
    ``same_site`` (Claim 6.1): that is what the colours of a ``crystalgroups`` pattern guarantee.
    """

    def __init__(self, node_dim: int, edge_dim: int, num_colors: int, hidden: int | None = None,
                 delta: bool = True) -> None:
        super().__init__()
        hidden = hidden or node_dim
        self.node_dim, self.edge_dim, self.num_colors, self.delta = node_dim, edge_dim, num_colors, delta
        self.edge = _EdgeFunction(node_dim, edge_dim, hidden, node_dim, num_colors)
        self.same = _EdgeFunction(node_dim, edge_dim, hidden, node_dim, num_colors) if delta else None
        self.gate = nn.Linear(node_dim, 1)
        self.node = nn.Sequential(nn.Linear(2 * node_dim, hidden), nn.SiLU(), nn.Linear(hidden, node_dim))

    def reset_parameters(self) -> None:
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, h, edge_index, edge_attr, edge_color, same_site):
        i, j = edge_index
        m = self.edge(h, i, j, edge_attr, edge_color)  # phi_e^alpha(h_i, h_j, e_ij)
        if self.same is not None:  # runs on an empty selection too, so every parameter takes part
            idx = torch.nonzero(same_site, as_tuple=True)[0]
            m = m.index_add(0, idx, self.same(h, i[idx], j[idx], edge_attr[idx], edge_color[idx]))
        m = torch.sigmoid(self.gate(m)) * m
        agg = scatter_sum(m, i, h.shape[0])
        return h + self.node(torch.cat([h, agg], dim=1))

    def extra_repr(self) -> str:
        return f"node_dim={self.node_dim}, edge_dim={self.edge_dim}, num_colors={self.num_colors}, delta={self.delta}"
