"""Batching graphs into one disjoint graph (a PyG-like ``Batch``) and a DataLoader.

Shapes in a :class:`Batch` of ``B`` graphs with ``N`` nodes and ``E`` edges in all: node fields
``(N, ...)``, edge fields ``(E, ...)``, ``edge_index (2, E)`` offset so that it indexes the
concatenated nodes, ``batch (N,)`` the graph of each node, ``ptr (B + 1,)`` node offsets, ``y (B, T)``
the targets in the order of ``target_names`` (per-site targets, ``per_site=True``: ``y (S, T)`` for
the ``S`` unit-cell sites of the structures, structure by structure, site by site).

A batch is either the explicit supercell graphs (one node per ``(cell, site)``) or their
quotients (``quotient=True``: one node per site of the unit cell, each bond coloured by the cell
pair it joins, see :meth:`ecn.data.CrystalGraph.quotient_colors`). Without the cell one-hot,
every layer of an ECN model computes the same numbers on both (``docs/concepts.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace

import numpy as np
import torch

from .features import FeatureSettings, gaussian_expansion, node_features
from .frames import distinct_frames
from .graph import CrystalGraph

__all__ = ["Batch", "collate", "Collater", "make_loader", "target_rows", "compress_edges_of"]


@dataclass
class Batch:
    """A disjoint union of graphs as tensors (see the module doc for shapes)."""

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    edge_length: torch.Tensor
    edge_vector: torch.Tensor
    edge_color: torch.Tensor
    same_site: torch.Tensor
    atomic_number: torch.Tensor
    site_index: torch.Tensor
    cell_index: torch.Tensor
    positions: torch.Tensor
    batch: torch.Tensor
    ptr: torch.Tensor
    y: torch.Tensor
    num_edge_colors: int
    target_names: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    num_cells: int = 1
    quotient: bool = False
    frame_of: torch.Tensor | None = None
    frame_site_of: torch.Tensor | None = None
    frame_weight: torch.Tensor | None = None  # (slots,) share of its structure's gauges a slot stands for
    frames_per_site: bool = True  # False: gauges merged as wholes (valid for graph-level readouts only)
    num_structures: int = 0
    structure_sites: torch.Tensor | None = None  # (structures,) unit-cell sites of each structure
    edge_weight: torch.Tensor | None = None  # (E,) float32 multiplicity of each edge of a compressed batch

    @property
    def cell_weight(self) -> float:
        """The share of a unit cell that one node stands for: a sum over the nodes times this is a
        sum over one unit cell (1 for a quotient batch, ``1 / num_cells`` for explicit supercells)."""
        return 1.0 if self.quotient else 1.0 / self.num_cells

    @property
    def num_graphs(self) -> int:
        return len(self.ptr) - 1

    @property
    def num_nodes(self) -> int:
        return len(self.batch)

    def to(self, device) -> Batch:
        """Move every tensor to ``device``."""
        moved = {
            f.name: getattr(self, f.name).to(device)
            for f in fields(self)
            if isinstance(getattr(self, f.name), torch.Tensor)
        }
        return replace(self, **moved)

    def __repr__(self) -> str:
        form = ", quotient" if self.quotient and self.num_cells > 1 else ""
        if self.frame_of is not None:
            form += f", {self.num_structures} structures in {self.num_graphs} gauges"
        return (
            f"Batch(graphs={self.num_graphs}, nodes={self.num_nodes}, edges={self.edge_index.shape[1]}, "
            f"node_dim={self.x.shape[1]}, edge_colors={self.num_edge_colors}, targets={list(self.target_names)}"
            f"{form}{', compressed' if self.edge_weight is not None else ''})"
        )


def collate(
    graphs: Sequence[CrystalGraph],
    group: str = "S",
    target_names: Sequence[str] = (),
    features: FeatureSettings = FeatureSettings(),
    symprec: float = 1e-3,
    quotient: bool = False,
    frames: bool = False,
    per_site: bool = False,
    merge_frames: bool = False,
    compress_edges: bool = False,
) -> Batch:
    """Concatenate graphs into a :class:`Batch`, with features and the edge colours of ``group``.

    ``group`` is one of ``"P-1"``, ``"G"``, ``"S"``, ``"S_N"`` (see
    :meth:`CrystalGraph.edge_colors`). All graphs must share one supercell. A missing target
    is NaN. ``quotient=True`` gives the unit-cell form (one node per site), which cannot carry
    the cell one-hot (``features.cell_onehot`` must be off). ``frames=True`` puts every gauge of
    each graph (:meth:`CrystalGraph.frames`) into the batch, and a model averages its outputs over
    them (``frame_of`` maps each graph slot to its structure, ``frame_site_of`` each site of a slot
    to the structure's site, ``frame_weight`` is the share of the structure's gauges a slot stands
    for; ``y`` and ``ids`` stay per structure). ``merge_frames=True`` (quotient batches, for models
    that read a graph through its elements, bond lengths, colours and same-site flags only:
    :data:`ecn.models.LENGTH_ONLY_MODELS`) puts the gauges that colour refinement cannot tell apart
    into one slot, weighted by their count (:func:`ecn.data.frames.distinct_frames`): as wholes, or
    site by site with ``per_site=True``. ``per_site=True`` also collates per-site targets
    (:func:`target_rows`), for a model with ``readout="node"`` (which refuses a batch whose gauges
    were merged as wholes). ``compress_edges=True`` keeps one edge of each set
    of edges with the same end sites, colour, same-site flag and float32 length, and its count as
    ``edge_weight`` (:func:`compress_edges`): a layer that sums messages of ``(h_i, h_j, e_ij,
    colour)`` (the ECN layer) computes the same sums from fewer messages.

    >>> from ecn.data.structures import Crystal
    >>> from ecn.data.graph import crystal_graph
    >>> g = crystal_graph(Crystal(np.eye(3) * 3.6, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17]), targets={"e": 1.0})
    >>> collate([g, g], group="P-1", target_names=["e"])
    Batch(graphs=2, nodes=32, edges=352, node_dim=112, edge_colors=8, targets=['e'])
    >>> collate([g, g], group="P-1", target_names=["e"], features=FeatureSettings(cell_onehot=False), quotient=True)
    Batch(graphs=2, nodes=4, edges=44, node_dim=104, edge_colors=8, targets=['e'], quotient)
    """
    if not graphs:
        raise ValueError("expected at least one graph to collate, got none")
    if frames and (group == "P-1" or features.cell_onehot or any(g.num_frames > 1 for g in graphs)):
        return _collate_frames(graphs, group, target_names, features, symprec, quotient and merge_frames, quotient,
                               per_site, compress_edges)
    sizes = {g.supercell for g in graphs}
    if len(sizes) != 1:
        raise ValueError(f"expected graphs of one supercell size, got {sorted(map(str, sizes))}")
    if quotient and features.cell_onehot:
        raise ValueError(
            "expected features without the cell one-hot for a quotient batch (the one-hot tells the "
            "cells apart, so they no longer compute the same), got cell_onehot=True"
        )
    num_cells = graphs[0].num_cells
    colors, num_colors = [], 0
    for g in graphs:
        c, k = g.quotient_colors(group, symprec) if quotient else g.edge_colors(group, symprec)
        colors.append(c)
        num_colors = max(num_colors, k)
    if quotient:
        counts = np.array([g.num_sites for g in graphs])
        index = [g.unit_edge_index for g in graphs]
        nodes = {
            "atomic_number": [g.numbers for g in graphs],
            "site_index": [np.arange(g.num_sites) for g in graphs],
            "cell_index": [np.zeros(g.num_sites, np.int64) for g in graphs],
            "positions": [g.frac @ g.lattice for g in graphs],
        }
        edges = {
            "edge_length": [g.unit_edge_length for g in graphs],
            "edge_vector": [g.unit_edge_vector for g in graphs],
            "same_site": [g.unit_same_site for g in graphs],
        }
    else:
        counts = np.array([g.num_nodes for g in graphs])
        index = [g.edge_index for g in graphs]
        nodes = {
            name: [getattr(g, name) for g in graphs]
            for name in ("atomic_number", "site_index", "cell_index", "positions")
        }
        edges = {name: [getattr(g, name) for g in graphs] for name in ("edge_length", "edge_vector", "same_site")}
    offsets = np.concatenate([[0], np.cumsum(counts)])
    edge_index = np.concatenate([e + offsets[k] for k, e in enumerate(index)], axis=1)

    def cat(parts):
        return torch.from_numpy(np.concatenate(parts))

    atomic_number = cat(nodes["atomic_number"])
    cell_index = cat(nodes["cell_index"])
    hubbard = torch.from_numpy(np.repeat([float(g.targets.get("hubbard", 0.0)) for g in graphs], counts))
    edge_length = cat(edges["edge_length"]).to(torch.float32)
    edge_color = np.concatenate(colors).astype(np.int64)
    same_site = np.concatenate(edges["same_site"])
    edge_vector = cat(edges["edge_vector"]).to(torch.float32)
    edge_weight = None
    if compress_edges:
        keep, count = compress_edges_of(edge_index, edge_color, same_site, edge_length.numpy())
        edge_index, edge_color, same_site = edge_index[:, keep], edge_color[keep], same_site[keep]
        edge_length, edge_vector = edge_length[keep], edge_vector[keep]
        edge_weight = torch.from_numpy(count.astype(np.float32))
    y = torch.from_numpy(target_rows(graphs, target_names, per_site)).to(torch.float32)
    return Batch(
        x=node_features(atomic_number, cell_index, num_cells, hubbard, features),
        edge_index=torch.from_numpy(edge_index),
        edge_attr=gaussian_expansion(edge_length, features),
        edge_length=edge_length,
        edge_vector=edge_vector,
        edge_color=torch.from_numpy(edge_color),
        same_site=torch.from_numpy(same_site),
        atomic_number=atomic_number,
        site_index=cat(nodes["site_index"]),
        cell_index=cell_index,
        positions=cat(nodes["positions"]).to(torch.float32),
        batch=torch.repeat_interleave(torch.arange(len(graphs)), torch.from_numpy(counts)),
        ptr=torch.from_numpy(offsets),
        y=y,
        num_edge_colors=num_colors,
        target_names=tuple(target_names),
        ids=tuple(g.id for g in graphs),
        num_cells=num_cells,
        quotient=quotient,
        num_structures=len(graphs),
        structure_sites=torch.tensor([g.num_sites for g in graphs], dtype=torch.int64),
        edge_weight=edge_weight,
    )


def compress_edges_of(edge_index: np.ndarray, color: np.ndarray, same_site: np.ndarray, length: np.ndarray):
    """``(keep, count)``: the first edge of each set of edges with equal ``(i, j, colour, same_site,
    length)`` (lengths compared as float32 bit patterns), in edge order, and the size of its set.

    In a symmetric crystal an atom often meets one neighbour site at several periodic images at
    the same distance and in the same colour (in a cubic perovskite an A cation sees each of the
    three anion sites at four images): their messages are equal, so one message times the count
    gives the same sum. Nothing is rounded: lengths that differ in one float32 bit stay apart.

    >>> keep, count = compress_edges_of(np.array([[0, 0, 0, 1], [1, 1, 1, 0]]), np.array([0, 0, 1, 0]),
    ...                                 np.zeros(4, bool), np.array([2.0, 2.0, 2.0, 2.0], np.float32))
    >>> keep.tolist(), count.tolist()
    ([0, 2, 3], [2, 1, 1])
    """
    bits = np.ascontiguousarray(length, dtype=np.float32).view(np.int32).astype(np.int64)
    key = np.stack([edge_index[0], edge_index[1], color, same_site.astype(np.int64), bits], axis=1)
    _, first, count = np.unique(key, axis=0, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")  # the kept edges in their original order
    return first[order], count[order]


def _collate_frames(graphs, group, target_names, features, symprec, merge, quotient, per_site,
                    compress_edges=False) -> Batch:
    per_graph = [g.frames(group, symprec, basis=features.cell_onehot) for g in graphs]
    if merge:  # gauges no message-passing network can tell apart are run once, weighted by their count
        chosen = distinct_frames(per_graph, lambda f: f.quotient_colors(group, symprec)[0], per_site=per_site)
    else:
        chosen = [(frames, [1.0 / len(frames)] * len(frames)) for frames in per_graph]
    expanded = [f for frames, _ in chosen for f in frames]
    owner = [k for k, (frames, _) in enumerate(chosen) for _ in frames]
    weight = [w for _, weights in chosen for w in weights]
    batch = collate(expanded, group, (), features, symprec, quotient, compress_edges=compress_edges)
    # site n of slot s is site n of structure owner[s], whose sites start at start[owner[s]]
    sites = np.array([g.num_sites for g in graphs], dtype=np.int64)
    start = np.cumsum(sites) - sites
    frame_site_of = np.concatenate([start[k] + np.arange(sites[k]) for k in owner])
    return replace(
        batch,
        y=torch.from_numpy(target_rows(graphs, target_names, per_site)).to(torch.float32),
        target_names=tuple(target_names),
        ids=tuple(g.id for g in graphs),
        frame_of=torch.tensor(owner),
        frame_site_of=torch.from_numpy(frame_site_of),
        frame_weight=torch.tensor(weight, dtype=torch.float64),
        frames_per_site=bool(per_site or not merge),
        num_structures=len(graphs),
        structure_sites=torch.from_numpy(sites),
    )


def target_rows(graphs: Sequence[CrystalGraph], names: Sequence[str], per_site: bool = False) -> np.ndarray:
    """The targets of graphs as a float64 array, NaN where a graph lacks one.

    ``(B, T)``, a row per graph, for graph-level targets; ``per_site=True``: ``(S, T)``, a row per
    unit-cell site (graph by graph), for per-site targets (arrays in ``graph.targets``). A target
    of the other kind is an error that names the graph.

    >>> from ecn.data.structures import Crystal
    >>> from ecn.data.graph import crystal_graph
    >>> g = crystal_graph(Crystal(np.eye(3) * 3.6, [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17]),
    ...                   targets={"e": 1.0, "q": np.array([0.9, -0.9])})
    >>> target_rows([g, g], ["e"]).tolist(), target_rows([g], ["q"], per_site=True).tolist()
    ([[1.0], [1.0]], [[0.9], [-0.9]])
    """
    names = list(names)
    if not per_site:
        for g in graphs:
            for t in names:
                if np.ndim(g.targets.get(t, 0.0)):
                    raise ValueError(f"expected one number for the target {t} of {g.id!r}, got one value per site "
                                     "(a per-site target: train it with readout=node)")
        return np.array([[float(g.targets.get(t, np.nan)) for t in names] for g in graphs],
                        dtype=np.float64).reshape(len(graphs), len(names))
    blocks = []
    for g in graphs:
        block = np.full((g.num_sites, len(names)), np.nan)
        for k, t in enumerate(names):
            value = g.targets.get(t)
            if value is None:
                continue
            if not np.ndim(value) or len(value) != g.num_sites:
                got = "one number for the structure" if not np.ndim(value) else f"{len(value)} values"
                raise ValueError(f"expected one value per site ({g.num_sites}) for the per-site target {t} of "
                                 f"{g.id!r} (readout=node), got {got}")
            block[:, k] = value
        blocks.append(block)
    return np.concatenate(blocks) if blocks else np.zeros((0, len(names)))


@dataclass(frozen=True)
class Collater:
    """A picklable ``collate_fn`` (for DataLoader worker processes)."""

    group: str = "S"
    target_names: tuple[str, ...] = ()
    features: FeatureSettings = field(default_factory=FeatureSettings)
    symprec: float = 1e-3
    quotient: bool = False
    frames: bool = False
    per_site: bool = False
    merge_frames: bool = False
    compress_edges: bool = False

    def __call__(self, graphs):
        return collate(graphs, self.group, self.target_names, self.features, self.symprec, self.quotient, self.frames,
                       self.per_site, self.merge_frames, self.compress_edges)


def make_loader(
    graphs: Sequence[CrystalGraph],
    batch_size: int = 128,
    shuffle: bool = False,
    group: str = "S",
    target_names: Sequence[str] = (),
    features: FeatureSettings = FeatureSettings(),
    seed: int = 0,
    num_workers: int = 0,
    sampler=None,
    drop_last: bool = False,
    quotient: bool = False,
) -> torch.utils.data.DataLoader:
    """A :class:`torch.utils.data.DataLoader` over a list of graphs that yields :class:`Batch` objects.

    Shuffling is seeded (same order for the same seed); pass a ``sampler`` (for example a
    ``DistributedSampler``) instead of ``shuffle`` for multi-process training; ``quotient=True``
    yields unit-cell batches (see :func:`collate`).
    """
    generator = torch.Generator()
    generator.manual_seed(seed)
    return torch.utils.data.DataLoader(
        list(graphs),
        batch_size=batch_size,
        shuffle=shuffle if sampler is None else False,
        sampler=sampler,
        collate_fn=Collater(group, tuple(target_names), features, quotient=quotient),
        num_workers=num_workers,
        generator=generator,
        drop_last=drop_last,
    )
