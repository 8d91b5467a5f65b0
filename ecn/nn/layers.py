"""Equivariant message passing from parameter-sharing patterns (paper Claim 6.1, Eq. 8-10, 15, 26).

Shapes (``N`` nodes, ``E`` edges, ``F`` node features, ``D`` edge features, ``C`` colours):
``h (N, F)``, ``edge_index (2, E)``, ``edge_attr (E, D)``, ``edge_color (E,)`` in ``0 .. C-1``,
``same_site (E,)`` bool, optionally ``edge_weight (E,)``. An edge ``(i, j)`` of :mod:`ecn.data`
lists atom ``j`` as a neighbour of atom ``i`` (row 0 the atom, row 1 its neighbour), so each atom
``i`` aggregates the messages ``m_ij`` of its neighbours, as in CGCNN; for the symmetric bond graphs
of the paper this is the same as the other direction.
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
    """``y_k = x_k weight[color_k] (+ bias[color_k])`` for all rows, with each row's own colour's weights only.

    The rows are sorted by colour (one stable ``argsort``), each colour's contiguous block is
    multiplied by its weight matrix (one ``torch.mm``/``addmm`` per colour present: exactly the
    multiply-adds of one ``(E, in) x (in, out)`` product, no zero padding and no one-hot lifting),
    and the result is put back in the rows' order. The loop runs over the colours present, at most
    a few dozen small calls; the work in it is matmul only.

    Shapes: ``x (E, in)``, ``weight (C, in, out)``, ``color (E,)``, ``bias (C, out)`` -> ``(E, out)``.

    >>> w = torch.stack([torch.eye(2), 2 * torch.eye(2)])
    >>> color_matmul(torch.ones(3, 2), w, torch.tensor([1, 0, 1]))
    tensor([[2., 2.],
            [1., 1.],
            [2., 2.]])
    """
    C = weight.shape[0]
    E = len(color)
    if E == 0:  # still a function of the weights, so that every parameter takes part in backward
        return x @ weight[0] if bias is None else torch.addmm(bias[0], x, weight[0])
    order = torch.argsort(color, stable=True)
    counts = torch.bincount(color, minlength=C).tolist()
    xs = torch.index_select(x, 0, order)  # its backward is index_add_, fast on CPU
    parts, start = [], 0
    for c, n in enumerate(counts):
        if n:
            block = xs[start:start + n]
            parts.append(block @ weight[c] if bias is None else torch.addmm(bias[c], block, weight[c]))
        start += n
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(E, device=order.device)
    return torch.index_select(torch.cat(parts), 0, inverse)


class ColorLinear(nn.Module):
    """A linear layer with one weight matrix and bias per colour: ``y_e = x_e W[c_e] + b[c_e]``.

    All colours' weights live in one ``(C, in, out)`` tensor; rows are multiplied by their own
    colour's weights only (:func:`color_matmul`): no one-hot lifting of the input (which would
    multiply the work by ``C``) and no zero padding.

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
    per-colour linear layer on the concatenation. Of two exact strategies the cheaper one runs:
    when there are at least as many edges as nodes x colours (S_Lambda's 2 colours), the node
    terms are projected once per node for every colour (``N x F x C x H`` work) and gathered per
    edge by ``node * C + colour``, and the edge term is projected with its own colour's weights
    only; otherwise (P-1's 8 colours, 14 on 3x3x3) each edge's ``[h_i, h_j, e_ij]`` is multiplied
    by its own colour's weights only (:func:`color_matmul`, ``E x (2F + D) x H`` work). All colours'
    weights are single tensors, and nothing is lifted to a one-hot.

    Shapes: ``h (N, F)``, ``i, j (E,)``, ``e (E, D)``, ``color (E,)`` -> ``(E, H)``.

    >>> layer = ColorEdgeLinear(4, 2, 3, num_colors=2)
    >>> i, j, color = torch.tensor([0, 1]), torch.tensor([1, 4]), torch.tensor([1, 0])
    >>> layer(torch.randn(5, 4), i, j, torch.randn(2, 2), color).shape
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
        if C == 1:
            return take(h @ self.weight_i, 0, i) + take(h @ self.weight_j, 0, j) + e @ self.weight_e + self.bias[0]
        if h.shape[0] * C <= len(i):
            # many edges per node and colour: project every node for every colour once, gather per edge
            P = (h @ self.weight_i).reshape(-1, H)  # row node * C + colour
            Q = (h @ self.weight_j).reshape(-1, H)
            # the edge term, with the bias riding on it, takes only its own colour's weights
            R = color_matmul(e, self.weight_e.reshape(-1, C, H).transpose(0, 1), color, self.bias)
            return take(P, 0, i * C + color) + take(Q, 0, j * C + color) + R
        # fewer edges than nodes x colours: gather the end points, multiply each edge by its own colour only
        x = torch.cat([take(h, 0, i), take(h, 0, j), e], dim=1)
        W = torch.cat([self.weight_i, self.weight_j, self.weight_e]).reshape(-1, C, H).transpose(0, 1)
        return color_matmul(x, W, color, self.bias)

    def extra_repr(self) -> str:
        return (f"node_dim={self.node_dim}, edge_dim={self.edge_dim}, out_features={self.out_features}, "
                f"num_colors={self.num_colors}")


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

    def __init__(
        self, node_dim: int, edge_dim: int, num_colors: int, hidden: int | None = None, delta: bool = True,
        norm: str = "none",
    ) -> None:
        super().__init__()
        if norm not in ("none", "batch"):
            raise ValueError(f"expected norm 'none' or 'batch', got {norm!r}")
        hidden = hidden or node_dim
        self.node_dim, self.edge_dim, self.num_colors, self.delta = node_dim, edge_dim, num_colors, delta
        # "batch": batch normalisation of the summed messages (as CGCNN normalises its sums); the
        # paper's layer has none. Statistics over the nodes of a batch are the same on the quotient
        # graph as on the explicit supercell (every node is repeated once per cell there).
        self.norm = nn.BatchNorm1d(node_dim) if norm == "batch" else None
        self.edge = _EdgeFunction(node_dim, edge_dim, hidden, node_dim, num_colors)
        self.same = _EdgeFunction(node_dim, edge_dim, hidden, node_dim, num_colors) if delta else None
        self.gate = nn.Linear(node_dim, 1)
        self.node = nn.Sequential(nn.Linear(2 * node_dim, hidden), nn.SiLU(), nn.Linear(hidden, node_dim))

    def reset_parameters(self) -> None:
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, h, edge_index, edge_attr, edge_color, same_site, edge_weight=None):
        """``edge_weight`` (optional, ``(E,)``): each edge's message counts this many times in the sum,
        as if the edge were listed that often (a compressed batch, :func:`ecn.data.batch.compress_edges_of`)."""
        i, j = edge_index
        m = self.edge(h, i, j, edge_attr, edge_color)  # phi_e^alpha(h_i, h_j, e_ij)
        if self.same is not None:  # runs on an empty selection too, so every parameter takes part
            idx = torch.nonzero(same_site, as_tuple=True)[0]
            m = m.index_add(0, idx, self.same(h, i[idx], j[idx], edge_attr[idx], edge_color[idx]))
        m = torch.sigmoid(self.gate(m)) * m
        if edge_weight is not None:
            m = m * edge_weight[:, None].to(m.dtype)
        agg = scatter_sum(m, i, h.shape[0])
        if self.norm is not None:
            agg = self.norm(agg)
        return h + self.node(torch.cat([h, agg], dim=1))

    def extra_repr(self) -> str:
        norm = ", norm=batch" if self.norm is not None else ""
        return (f"node_dim={self.node_dim}, edge_dim={self.edge_dim}, num_colors={self.num_colors}, "
                f"delta={self.delta}{norm}")
