"""Crystal structures to periodic supercell graphs, batched tensors and cached datasets.

>>> from ecn.data import Crystal, crystal_graph
>>> g = crystal_graph(Crystal([[3.6, 0, 0], [0, 3.6, 0], [0, 0, 3.6]], [[0, 0, 0], [0.5, 0.5, 0.5]], [55, 17]))
>>> g.edge_index.shape, g.cell_offset.max(), sorted(set(g.site_index.tolist()))
((2, 176), np.int64(1), [0, 1])
"""

from .batch import Batch, Collater, collate, make_loader
from .build import BuildLimits, BuildReport, GraphCache, build_graphs, graph_from_row
from .datasets import iter_cif_folder, iter_csv_rows
from .features import FeatureSettings, gaussian_expansion, node_features
from .graph import GROUPS, CrystalGraph, GraphError, GraphSettings, crystal_graph
from .load import load_dataset
from .neighbors import NeighborError, isayev_neighbors, radius_neighbors
from .parity import compare_rows, parity_rows
from .sources import DATASETS, DownloadError, dataset_file, download
from .structures import Crystal, StructureError, crystal_from_cif, to_crystal

__all__ = [
    "Batch", "Collater", "collate", "make_loader",
    "BuildLimits", "BuildReport", "GraphCache", "build_graphs", "graph_from_row",
    "iter_cif_folder", "iter_csv_rows",
    "FeatureSettings", "gaussian_expansion", "node_features",
    "GROUPS", "CrystalGraph", "GraphError", "GraphSettings", "crystal_graph",
    "load_dataset",
    "NeighborError", "isayev_neighbors", "radius_neighbors",
    "compare_rows", "parity_rows",
    "DATASETS", "DownloadError", "dataset_file", "download",
    "Crystal", "StructureError", "crystal_from_cif", "to_crystal",
]
