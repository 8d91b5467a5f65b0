"""PyTorch Geometric interop (the optional extra ``ecn[pyg]``: ``pip install 'ecn[pyg]'``).

:func:`to_pyg` turns a :class:`ecn.data.CrystalGraph` (with a batch maker, e.g.
``ecn.train.collater(config)``), a list of them, or an :class:`ecn.data.Batch` into a
:class:`CrystalData` / ``torch_geometric.data.Batch`` whose attributes carry the model inputs
under ecn's names (``x``, ``edge_index``, ``edge_attr``, ``edge_color``, ``same_site``,
``edge_length``, ``edge_vector``, ``atomic_number``, ``site_index``, ``cell_index``, ``pos``,
``y``) and the graph-level facts (``num_edge_colors``, ``num_cells``, ``quotient``, ``id``).
Graphs converted from a ``CrystalGraph`` also carry their unit cell (``lattice``, ``frac``,
``numbers``, ``unit_edge_index``, ``unit_edge_image``, ``unit_edge_length``, ``supercell``), so
:func:`to_graphs` gives the ``CrystalGraph``\\ s back. :func:`from_pyg` makes an
:class:`ecn.data.Batch` of any of them, for every ecn model; the ECN layers take the PyG tensors
directly (``ECNLayer(...)(data.x, data.edge_index, e, data.edge_color, data.same_site)``).

``site_index`` and ``cell_index`` are numbers of sites and cells, not of nodes: :class:`CrystalData`
tells PyG not to offset them when it batches (and to offset ``unit_edge_index`` by the number
of sites).
"""

from __future__ import annotations

import numpy as np
import torch

try:
    from torch_geometric.data import Batch as PyGBatch
    from torch_geometric.data import Data
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("expected torch_geometric for ecn.pyg, got ImportError; install the extra with "
                      "pip install 'ecn[pyg]' (or pip install torch_geometric)") from exc

__all__ = ["CrystalData", "from_pyg", "to_graphs", "to_pyg"]

_NODE = ("x", "atomic_number", "site_index", "cell_index")
_EDGE = ("edge_attr", "edge_length", "edge_vector", "edge_color", "same_site")
_CELL = ("lattice", "frac", "numbers", "unit_edge_index", "unit_edge_image", "unit_edge_length")


class CrystalData(Data):
    """A ``torch_geometric.data.Data`` of one crystal graph; batches like any ``Data``."""

    def __inc__(self, key, value, *args, **kwargs):
        if key in ("site_index", "cell_index"):
            return 0
        if key == "unit_edge_index":
            return int(self["frac"].shape[0])
        return super().__inc__(key, value, *args, **kwargs)

    def __cat_dim__(self, key, value, *args, **kwargs):
        if key in ("site_index", "cell_index"):
            return 0
        if key == "unit_edge_index":
            return 1
        return super().__cat_dim__(key, value, *args, **kwargs)


def _data_list(batch) -> list[CrystalData]:
    """One :class:`CrystalData` per graph of an :class:`ecn.data.Batch`."""
    ptr = batch.ptr.tolist()
    edge_graph = batch.batch[batch.edge_index[0]]
    edge_counts = torch.bincount(edge_graph, minlength=batch.num_graphs).tolist()
    edge_ptr = np.concatenate([[0], np.cumsum(edge_counts)]).tolist()
    order = torch.argsort(edge_graph, stable=True)  # edges of a batch are already grouped by graph
    sites = batch.structure_sites.tolist()
    site_ptr = np.concatenate([[0], np.cumsum(sites)]).tolist()
    per_site = batch.y.shape[0] == site_ptr[-1] != batch.num_graphs  # per-site targets: a block of rows each
    out = []
    for k in range(batch.num_graphs):
        a, b = ptr[k], ptr[k + 1]
        e = order[edge_ptr[k]:edge_ptr[k + 1]]
        fields = {name: getattr(batch, name)[a:b] for name in _NODE}
        fields.update({name: getattr(batch, name)[e] for name in _EDGE})
        out.append(CrystalData(
            edge_index=batch.edge_index[:, e] - a, pos=batch.positions[a:b],
            y=batch.y[site_ptr[k]:site_ptr[k + 1]] if per_site else batch.y[k:k + 1], **fields,
            num_edge_colors=int(batch.num_edge_colors), num_cells=int(batch.num_cells), quotient=bool(batch.quotient),
            id=batch.ids[k] if batch.ids else "", target_names=tuple(batch.target_names), num_nodes=b - a))
    return out


def _with_cell(data: CrystalData, graph) -> CrystalData:
    data.lattice = torch.from_numpy(np.array(graph.lattice, dtype=np.float64)).reshape(1, 3, 3)
    data.frac = torch.from_numpy(np.array(graph.frac, dtype=np.float64))
    data.numbers = torch.from_numpy(np.array(graph.numbers, dtype=np.int64))
    data.unit_edge_index = torch.from_numpy(np.array(graph.unit_edge_index, dtype=np.int64))
    data.unit_edge_image = torch.from_numpy(np.array(graph.unit_edge_image, dtype=np.int64))
    data.unit_edge_length = torch.from_numpy(np.array(graph.unit_edge_length, dtype=np.float64))
    data.supercell = graph.supercell
    data.targets = dict(graph.targets)
    return data


def to_pyg(obj, collater=None):
    """A :class:`CrystalData` for one ``CrystalGraph``, a PyG ``Batch`` for a list of them or an ecn ``Batch``.

    ``collater`` makes the model inputs of graphs (default :class:`ecn.data.Collater` ``()``: S_Lambda
    colours, explicit supercell); use ``ecn.train.collater(config)`` for a trained model's form.
    A PyG ``Data`` holds one graph, so each structure comes in its first gauge: ecn's own batches
    (``collater(config)``) average a model over all of a structure's tied gauges, PyG ones do not.
    """
    import dataclasses

    from .data.batch import Batch, Collater
    from .data.graph import CrystalGraph

    if isinstance(obj, Batch):
        if obj.frame_of is not None:
            raise ValueError("expected a batch with one gauge per structure (collate(..., frames=False)), got one "
                             f"with {obj.num_graphs} gauges of {obj.num_structures} structures")
        return PyGBatch.from_data_list(_data_list(obj))
    make = collater or Collater()
    if getattr(make, "frames", False):
        make = dataclasses.replace(make, frames=False)
    if isinstance(obj, CrystalGraph):
        return _with_cell(_data_list(make([obj]))[0], obj)
    graphs = list(obj)
    if not graphs or not all(isinstance(g, CrystalGraph) for g in graphs):
        raise TypeError(f"expected a CrystalGraph, a list of them or an ecn Batch, got {type(obj).__name__}")
    return PyGBatch.from_data_list([_with_cell(d, g) for d, g in zip(_data_list(make(graphs)), graphs)])


def _graph_values(data, name, count):
    """A graph-level attribute as a list of one value per graph (PyG batches numbers into tensors)."""
    value = getattr(data, name, None)
    if isinstance(value, torch.Tensor):
        value = value.reshape(-1).tolist()
    if count == 1 and not (isinstance(value, list) and len(value) == 1 and name != "target_names"):
        return [value]
    return list(value) if isinstance(value, (list, tuple)) else [value] * count


def from_pyg(data):
    """An :class:`ecn.data.Batch` of a :class:`CrystalData` or a PyG ``Batch`` of them (any ecn model runs on it)."""
    from .data.batch import Batch

    x = data.x
    n = x.shape[0]
    batch = getattr(data, "batch", None)
    if batch is None:
        batch = torch.zeros(n, dtype=torch.long)
    num_graphs = int(data.num_graphs) if hasattr(data, "num_graphs") else 1
    ptr = getattr(data, "ptr", None)
    if ptr is None:
        counts = torch.bincount(batch, minlength=num_graphs)
        ptr = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(counts, 0)])
    colors = _graph_values(data, "num_edge_colors", num_graphs)
    cells = _graph_values(data, "num_cells", num_graphs)
    quotient = _graph_values(data, "quotient", num_graphs)
    ids = _graph_values(data, "id", num_graphs)
    names = _graph_values(data, "target_names", num_graphs)
    if len(set(cells)) != 1 or len(set(quotient)) != 1:
        raise ValueError(f"expected graphs of one supercell and one form, got num_cells {sorted(set(cells))} and "
                         f"quotient {sorted(set(quotient))}")
    return Batch(
        x=x, edge_index=data.edge_index, edge_attr=data.edge_attr, edge_length=data.edge_length,
        edge_vector=data.edge_vector, edge_color=data.edge_color, same_site=data.same_site,
        atomic_number=data.atomic_number, site_index=data.site_index, cell_index=data.cell_index,
        positions=data.pos, batch=batch, ptr=ptr, y=data.y, num_edge_colors=max(int(c) for c in colors),
        target_names=tuple(names[0] or ()), ids=tuple(str(i) for i in ids), num_cells=int(cells[0]),
        quotient=bool(quotient[0]), num_structures=num_graphs,
        structure_sites=torch.diff(ptr) // (1 if quotient[0] else int(cells[0])))


def _supercell(value):
    value = value.tolist() if isinstance(value, torch.Tensor) else value
    return tuple(tuple(r) for r in value) if isinstance(value[0], (list, tuple)) else tuple(int(v) for v in value)


def to_graphs(data) -> list:
    """The ``CrystalGraph``\\ s of a :class:`CrystalData` or PyG ``Batch`` made by :func:`to_pyg` from graphs."""
    from .data.graph import CrystalGraph

    parts = data.to_data_list() if isinstance(data, PyGBatch) else [data]
    out = []
    for d in parts:
        if getattr(d, "frac", None) is None:
            raise ValueError("expected a PyG graph made from a CrystalGraph (with its unit cell: lattice, frac, ...), "
                             "got one made from a Batch")
        out.append(CrystalGraph(
            lattice=d.lattice.reshape(3, 3).numpy(), frac=d.frac.numpy(), numbers=d.numbers.numpy(),
            unit_edge_index=d.unit_edge_index.numpy(), unit_edge_image=d.unit_edge_image.numpy(),
            unit_edge_length=d.unit_edge_length.numpy(), supercell=_supercell(d.supercell), id=str(d.id),
            targets={k: np.asarray(v, dtype=float) if np.ndim(v) else float(v)
                     for k, v in dict(d.targets or {}).items()}))
    return out
