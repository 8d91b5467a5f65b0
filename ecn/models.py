"""The models of the paper on one scaffold: embedding, message-passing layers, readout.

Every model takes a :class:`ecn.data.Batch` and returns ``(B, out)`` for graph targets or
``(S, out)`` for per-site targets (``readout="node"``, e.g. site magnetic moments): one row per site
of each structure's unit cell, whichever form (quotient or explicit supercell) the batch has.

========== ============================== ================= ===========================
name       layer                          group / colours   graph
========== ============================== ================= ===========================
ecn-s      ECN (Eq. 8-10, 15, 26)         S_Lambda x S_C    2x2x2 supercell, Isayev
ecn-p1     ECN                            P-1 x S_C         2x2x2 supercell, Isayev
ecn-g      ECN                            G_Lambda x S_C    2x2x2 supercell, Isayev
mpnn       ECN with one pattern of S_N    S_N               unit cell, Isayev
cgcnn      CGCNN convolution (Xie 2018)   S_N               unit cell, radius 8 A, 12 nn
megnet     MEGNet blocks (Chen 2019)      S_N               unit cell, radius 8 A, 12 nn
egnn       E(n)-equivariant ECN (A.5)     S_Lambda x S_C    2x2x2 supercell, Isayev
========== ============================== ================= ===========================

The supercell models run on the quotient of their supercell graph (one node per site of the unit
cell, ``docs/concepts.md``) whenever the node inputs carry no cell one-hot: the same function at
the cost of a unit-cell network. Each model allocates first-layer weights for the colours its
group can produce on its supercell (:func:`num_colors_for`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .nn.layers import ColorLinear, ECNLayer, _EdgeFunction
from .nn.scatter import scatter_mean, scatter_sum

__all__ = ["ModelConfig", "build_model", "MODELS", "CrystalModel", "num_colors_for", "SUPERCELL_MODELS",
           "LENGTH_ONLY_MODELS", "COMPRESSIBLE_MODELS"]

#: model name -> (colour group for ecn.data, graph settings as a dict for GraphSettings)
MODELS = {
    "ecn-s": ("S", {"supercell": (2, 2, 2), "neighbors": "isayev"}),
    "ecn-p1": ("P-1", {"supercell": (2, 2, 2), "neighbors": "isayev"}),
    "ecn-g": ("G", {"supercell": (2, 2, 2), "neighbors": "isayev"}),
    "mpnn": ("S_N", {"supercell": (1, 1, 1), "neighbors": "isayev"}),
    "cgcnn": ("S_N", {"supercell": (1, 1, 1), "neighbors": "radius", "cutoff": 8.0, "max_neighbors": 12}),
    "megnet": ("S_N", {"supercell": (1, 1, 1), "neighbors": "radius", "cutoff": 8.0, "max_neighbors": 12}),
    "egnn": ("S", {"supercell": (2, 2, 2), "neighbors": "isayev"}),
}

#: The models whose graph is a supercell (and which can run on its quotient).
SUPERCELL_MODELS = ("ecn-s", "ecn-p1", "ecn-g", "egnn")

#: The models that read a graph through its elements, bond lengths, colours and same-site flags
#: only (message passing, sums over bonds, a readout of the multiset of node states): two gauges
#: that colour refinement cannot tell apart give them the same output (:mod:`ecn.data.frames`).
#: Not the E(n) model, which reads the bond vectors.
LENGTH_ONLY_MODELS = ("ecn-s", "ecn-p1", "ecn-g", "mpnn", "cgcnn", "megnet")


#: The models whose layers sum messages of ``(h_i, h_j, e_ij, colour, same_site)`` only, so that a
#: batch with equal edges merged and counted (``collate(..., compress_edges=True)``) gives the same
#: outputs; training uses it. Not CGCNN (batch normalisation over the edges), MEGNet (means over
#: the edges) or the E(n) model (bond vectors).
COMPRESSIBLE_MODELS = ("ecn-s", "ecn-p1", "ecn-g", "mpnn")


def num_colors_for(model: str, supercell=None) -> int:
    """The number of edge colours a model's group can produce on a supercell (default: the model's own).

    ``S`` (S_Lambda) has 2 on every supercell of more than one cell (same cell or not); ``P-1``
    the number of its orbits on cell pairs; ``G`` (each structure's own lattice group, coloured
    by geometric rank) at most as many as ``P-1``, its subgroup on every lattice, reached by
    triclinic lattices, so a model sized this way accepts every crystal; ``S_N`` 2.

    >>> [num_colors_for(m) for m in ("ecn-s", "ecn-p1", "ecn-g", "mpnn")]
    [2, 8, 8, 2]
    >>> num_colors_for("ecn-p1", (3, 3, 3)), num_colors_for("ecn-s", (3, 3, 3))
    (14, 2)
    """
    import crystalgroups

    if model not in MODELS:
        raise ValueError(f"Could not resolve model {model!r} among choices {sorted(MODELS)}")
    group, graph = MODELS[model]
    if group == "S_N":
        return 2
    supercell = graph["supercell"] if supercell is None else supercell
    from .data.graph import _canonical_supercell, _supercell_object

    sc = _supercell_object(_canonical_supercell(supercell))
    return crystalgroups.pattern("S" if group == "S" else "P-1", sc, warn=False).num_edge_colors


@dataclass(frozen=True)
class ModelConfig:
    """Architecture (paper A.7 defaults: 6 layers, width 100, edge embedding 20, SiLU)."""

    name: str = "ecn-s"
    node_in: int = 112
    edge_in: int = 20
    width: int = 100
    edge_dim: int = 20
    layers: int = 6
    readout: str = "mean"
    out_dim: int = 1
    num_colors: int = 0  # 0: num_colors_for(name) on the model's default supercell
    delta: bool = True
    extensive: tuple = ()  # per output: True = summed over atoms (extensive), False = intensive
    norm: str = "none"  # ECN layers (and the MPNN): "batch" normalises the summed messages; the paper's: none

    def __post_init__(self) -> None:
        object.__setattr__(self, "extensive", tuple(bool(v) for v in self.extensive))
        if self.extensive and len(self.extensive) != self.out_dim:
            raise ValueError(f"expected one extensive flag per output ({self.out_dim}), got {len(self.extensive)}")
        if self.name not in MODELS:
            raise ValueError(f"Could not resolve model {self.name!r} among choices {sorted(MODELS)}")
        if self.readout not in ("mean", "sum", "node"):
            raise ValueError(f"expected readout 'mean', 'sum' or 'node', got {self.readout!r}")
        if self.norm not in ("none", "batch"):
            raise ValueError(f"expected norm 'none' or 'batch', got {self.norm!r}")
        if self.norm != "none" and self.name not in ("ecn-s", "ecn-p1", "ecn-g", "mpnn"):
            raise ValueError(f"expected norm 'none' for {self.name} (only the ECN layer takes one), got {self.norm!r}")
        if self.num_colors == 0:
            object.__setattr__(self, "num_colors", num_colors_for(self.name))
        for name in ("node_in", "edge_in", "width", "edge_dim", "layers", "out_dim", "num_colors"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"expected {name} as an integer >= 1, got {value!r}")

    @property
    def group(self) -> str:
        return MODELS[self.name][0]

    @property
    def graph(self) -> dict:
        return dict(MODELS[self.name][1])


class CrystalModel(nn.Module):
    """Embedding -> message-passing layers -> readout MLP, shared by every model."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.embed = nn.Linear(c.node_in, c.width)
        self.edge_embed = nn.Linear(c.edge_in, c.edge_dim)
        self.blocks = nn.ModuleList(_make_block(c) for _ in range(c.layers if c.name not in ("cgcnn", "megnet") else
                                                                    (2 if c.name == "cgcnn" else 3)))
        self.head = nn.Sequential(nn.Linear(c.width, c.width), nn.SiLU(), nn.Linear(c.width, c.out_dim))

    def reset_parameters(self) -> None:
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def __repr__(self) -> str:
        params = sum(p.numel() for p in self.parameters())
        return (f"CrystalModel({self.config.name}, layers={len(self.blocks)}, width={self.config.width}, "
                f"parameters={params:,})")

    def node_states(self, batch, state: dict | None = None) -> torch.Tensor:
        h = self.embed(batch.x)
        e = self.edge_embed(batch.edge_attr)
        state = {} if state is None else state
        state.update(vector=batch.edge_vector, globals=None)
        for block in self.blocks:
            h, e = block(h, e, batch, state)
        return h

    def forward(self, batch) -> torch.Tensor:
        """Graph outputs: intensive ones are ``head(mean_i h_i)`` (the paper's readout), extensive ones
        ``sum_i head(h_i)`` over the atoms of one unit cell (an explicit supercell's sum divided by its
        number of cells); ``readout="sum"`` makes every output extensive, ``readout="node"`` returns
        ``head(h_i)`` per site of the unit cell, ``(S, out)`` (on an explicit supercell, the mean over
        the site's copies in the cells, which are equal without the cell one-hot)."""
        if self.config.name in SUPERCELL_MODELS and batch.num_edge_colors > self.config.num_colors:
            raise ValueError(
                f"expected a batch with at most {self.config.num_colors} edge colours (the weights of this "
                f"{self.config.name} model), got one coloured with {batch.num_edge_colors}: a larger "
                "supercell or another group than the model was built for"
            )
        if getattr(batch, "edge_weight", None) is not None and self.config.name not in COMPRESSIBLE_MODELS:
            raise ValueError(f"expected a batch without compressed edges for {self.config.name} (its layers read "
                             f"every edge; compressible: {list(COMPRESSIBLE_MODELS)}), got a compressed one")
        out = self._forward(batch)
        if self.config.readout == "node" and not batch.quotient and batch.num_cells > 1:
            out = _per_site(out, batch)
        if batch.frame_of is not None:  # average over the gauges of each structure
            node = self.config.readout == "node"
            if node and not batch.frames_per_site:
                raise ValueError(
                    "expected a batch whose gauges are merged site by site for a per-site model "
                    "(collate(..., frames=True, per_site=True)), got one merged as wholes"
                )
            index = batch.frame_site_of if node else batch.frame_of
            size = int(batch.structure_sites.sum()) if node else batch.num_structures
            if batch.frame_weight is None:
                return scatter_mean(out, index, size)
            weight = batch.frame_weight.to(out.dtype)
            if node:  # every site of a slot carries the slot's weight
                sites = torch.diff(batch.ptr) // (1 if batch.quotient else batch.num_cells)
                weight = torch.repeat_interleave(weight, sites)
            return scatter_sum(out * weight[:, None], index, size)
        return out

    def _forward(self, batch) -> torch.Tensor:
        state: dict = {}
        h = self.node_states(batch, state)
        if self.config.readout == "node":
            return self.head(h)
        extensive = self.config.extensive or (self.config.readout == "sum",) * self.config.out_dim
        pooled = scatter_mean(h, batch.batch, batch.num_graphs)
        if state.get("globals") is not None:  # MEGNet reads its global state out too
            pooled = pooled + state["globals"]
        out = self.head(pooled) if not all(extensive) else None
        if any(extensive):
            summed = scatter_sum(self.head(h), batch.batch, batch.num_graphs) * batch.cell_weight
            if out is None:
                return summed
            mask = torch.tensor(extensive, device=h.device)
            out = torch.where(mask, summed, out)
        return out


def _per_site(out: torch.Tensor, batch) -> torch.Tensor:
    """Node outputs of explicit supercells, ``(N, out)``, averaged over the cells: ``(S, out)``, per site."""
    sites = torch.diff(batch.ptr) // batch.num_cells
    start = torch.cumsum(sites, 0) - sites
    return scatter_mean(out, start[batch.batch] + batch.site_index, int(sites.sum()))


def build_model(config: ModelConfig | str, **overrides) -> CrystalModel:
    """A model by name (``"ecn-s"``, ...) or config; keyword arguments override config fields.

    >>> build_model("ecn-p1", width=16, layers=2)
    CrystalModel(ecn-p1, layers=2, width=16, parameters=...)
    """
    if isinstance(config, str):
        config = ModelConfig(name=config, **overrides)
    elif overrides:
        config = ModelConfig(**{**asdict(config), **overrides})
    return CrystalModel(config)


# -- blocks ----------------------------------------------------------------------------------


def _make_block(c: ModelConfig) -> nn.Module:
    if c.name in ("ecn-s", "ecn-p1", "ecn-g"):
        return _ECNBlock(c.width, c.edge_dim, c.num_colors, delta=c.delta, norm=c.norm)
    if c.name == "mpnn":
        return _ECNBlock(c.width, c.edge_dim, 2, delta=False, norm=c.norm)
    if c.name == "cgcnn":
        return _CGCNNBlock(c.width, c.edge_dim)
    if c.name == "megnet":
        return _MEGNetBlock(c.width, c.edge_dim)
    return _EGNNBlock(c.width, c.edge_dim, c.num_colors, delta=c.delta)


class _ECNBlock(nn.Module):
    def __init__(self, width, edge_dim, num_colors, delta, norm="none"):
        super().__init__()
        self.layer = ECNLayer(width, edge_dim, num_colors, delta=delta, norm=norm)

    def forward(self, h, e, batch, state):
        return self.layer(h, batch.edge_index, e, batch.edge_color, batch.same_site, batch.edge_weight), e


class _CGCNNBlock(nn.Module):
    """CGCNN convolution: ``h_i += sum_j sigmoid(z W_f) * softplus(z W_s)``, ``z = [h_i, h_j, e_ij]``."""

    def __init__(self, width, edge_dim):
        super().__init__()
        self.lin = nn.Linear(2 * width + edge_dim, 2 * width)
        self.bn_edge = nn.BatchNorm1d(2 * width)
        self.bn_node = nn.BatchNorm1d(width)

    def forward(self, h, e, batch, state):
        i, j = batch.edge_index
        z = self.bn_edge(self.lin(torch.cat([h[i], h[j], e], dim=1)))
        gate, core = z.chunk(2, dim=1)
        msg = torch.sigmoid(gate) * nn.functional.softplus(core)
        return nn.functional.softplus(h + self.bn_node(scatter_sum(msg, i, h.shape[0]))), e


class _MEGNetBlock(nn.Module):
    """One MEGNet block (edge, node and global-state updates, each a 2-layer MLP, with residuals)."""

    def __init__(self, width, edge_dim):
        super().__init__()
        w = width
        mlp = lambda i, o: nn.Sequential(nn.Linear(i, w), nn.SiLU(), nn.Linear(w, o))  # noqa: E731
        self.pre_e, self.pre_v = mlp(edge_dim, edge_dim), mlp(w, w)
        self.phi_e = mlp(2 * w + edge_dim + w, edge_dim)
        self.phi_v = mlp(w + edge_dim + w, w)
        self.phi_u = mlp(edge_dim + w + w, w)
        self.width = w

    def forward(self, h, e, batch, state):
        i, j = batch.edge_index
        u = state["globals"]
        if u is None:
            u = h.new_zeros(batch.num_graphs, self.width)
        e0, v0 = e, h
        e, v = self.pre_e(e), self.pre_v(h)
        graph_of_edge = batch.batch[i]
        e_new = self.phi_e(torch.cat([v[i], v[j], e, u[graph_of_edge]], dim=1))
        e_mean = scatter_mean(e_new, i, h.shape[0])
        v_new = self.phi_v(torch.cat([v, e_mean, u[batch.batch]], dim=1))
        u_new = self.phi_u(
            torch.cat(
                [
                    scatter_mean(e_new, graph_of_edge, batch.num_graphs),
                    scatter_mean(v_new, batch.batch, batch.num_graphs),
                    u,
                ],
                dim=1,
            )
        )
        state["globals"] = u + u_new
        return v0 + v_new, e0 + e_new


class _EGNNBlock(nn.Module):
    """E(n)-equivariant ECN layer (paper A.5): messages see ``|r_ij|^2`` and coordinates move along ``r_ij``.

    Coordinates enter through the edge vectors ``r_ij`` (true displacements to periodic images);
    each layer moves every node by ``C sum_j (x_i - x_j) phi_x^{alpha(i,j)}(m_ij)``, which changes
    every edge vector by the difference of its end points' moves.
    """

    def __init__(self, width, edge_dim, num_colors, delta):
        super().__init__()
        self.edge = _EdgeFunction(width, edge_dim + 1, width, width, num_colors)
        self.coord = ColorLinear(width, 1, num_colors)
        self.gate = nn.Linear(width, 1)
        self.node = nn.Sequential(nn.Linear(2 * width, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, h, e, batch, state):
        i, j = batch.edge_index
        r = state["vector"]  # r_ij = x_j - x_i, the true displacement to the neighbour's image
        d2 = (r * r).sum(dim=1, keepdim=True)
        m = self.edge(h, i, j, torch.cat([e, d2], dim=1), batch.edge_color)
        move = scatter_mean(-r * torch.tanh(self.coord(m, batch.edge_color)), i, h.shape[0])
        state["vector"] = r + move[j] - move[i]
        m = torch.sigmoid(self.gate(m)) * m
        return h + self.node(torch.cat([h, scatter_sum(m, i, h.shape[0])], dim=1)), e
