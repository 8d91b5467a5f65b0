"""Pictures of parameter-sharing patterns: coloured matrices (paper Figures 7-8) and coloured graphs.

matplotlib is imported only when a picture is drawn. Figures are built with
:class:`matplotlib.figure.Figure` directly (no pyplot state), so drawing works headless and from
threads.

>>> from crystalgroups import pattern
>>> fig = plot_pattern_matrix(pattern("tp", (2, 2))).figure
>>> fig.get_axes()[0].get_title()
'tp on 2 x 2: 3 edge colours'
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

__all__ = ["plot_pattern_matrix", "plot_pattern_graph", "plot_pattern_grid", "save_pattern", "pattern_png", "palette"]


def palette(k: int) -> np.ndarray:
    """``k`` distinguishable RGB colours (tab10/tab20, then evenly spaced hues), shape ``(k, 3)``."""
    from matplotlib import colormaps
    from matplotlib.colors import hsv_to_rgb

    if k <= 10:
        return np.array(colormaps["tab10"].colors[:k])
    if k <= 20:
        return np.array(colormaps["tab20"].colors[:k])
    hues = (np.arange(k) * 0.618033988749895) % 1.0
    return hsv_to_rgb(np.stack([hues, np.full(k, 0.65), np.full(k, 0.9)], axis=1))


def _new_axes(ax, size=(4.0, 4.0)):
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig.add_subplot()


def plot_pattern_matrix(p, ax=None, title: str | None = None, labels: bool | None = None):
    """Draw ``edge_colors`` as a coloured ``n x n`` matrix; returns the axes.

    Row ``i``, column ``j`` is the colour of the ordered pair ``(i, j)``. Cells are numbered as in
    :class:`crystalgroups.supercell.Supercell` (C order of their coordinates).
    """
    from matplotlib.colors import ListedColormap

    ax = _new_axes(ax)
    k = p.num_edge_colors
    ax.imshow(p.edge_colors, cmap=ListedColormap(palette(k)), vmin=-0.5, vmax=k - 0.5, interpolation="nearest")
    n = p.num_nodes
    if labels is None:
        labels = n <= 16
    if labels:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(p.edge_colors[i, j]), ha="center", va="center", fontsize=7, color="black")
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_title(title if title is not None else f"{p.group_name}: {k} edge colours", fontsize=9)
    return ax


def plot_pattern_graph(p, ax=None, title: str | None = None, edge_index=None, layout: str = "circular"):
    """Draw the pattern as a coloured directed graph (networkx); returns the axes.

    Without ``edge_index`` every ordered pair ``i != j`` is drawn (fine for a few nodes); with a
    ``(2, E)`` edge list only those edges are drawn, as for a restricted pattern (Example 6.1).
    """
    import networkx as nx

    ax = _new_axes(ax)
    n = p.num_nodes
    if edge_index is None:
        src, dst = np.nonzero(~np.eye(n, dtype=bool))
    else:
        src, dst = np.asarray(edge_index)
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(range(n))
    colours = palette(p.num_edge_colors)
    node_colours = palette(max(p.num_node_colors, 1))
    pos = nx.circular_layout(graph) if layout == "circular" else nx.spring_layout(graph, seed=0)
    for s, t in zip(src.tolist(), dst.tolist()):
        graph.add_edge(s, t, color=int(p.edge_colors[s, t]))
    edges = list(graph.edges(data="color"))
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=[node_colours[c] for c in p.node_colors], node_size=300)
    nx.draw_networkx_labels(graph, pos, ax=ax, font_size=8)
    nx.draw_networkx_edges(
        graph, pos, ax=ax, edgelist=[(s, t) for s, t, _ in edges], edge_color=[colours[c] for _, _, c in edges],
        arrows=True, arrowsize=8, connectionstyle="arc3,rad=0.12", node_size=300,
    )
    ax.set_axis_off()
    ax.set_title(title if title is not None else f"{p.group_name}", fontsize=9)
    return ax


def plot_pattern_grid(patterns, titles=None, ncols: int = 5, kind: str = "matrix"):
    """Several patterns side by side (like the paper's Figures 7 and 8); returns the figure."""
    from matplotlib.figure import Figure

    patterns = list(patterns)
    nrows = -(-len(patterns) // ncols)
    fig = Figure(figsize=(2.6 * ncols, 2.8 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    draw = plot_pattern_matrix if kind == "matrix" else plot_pattern_graph
    for i, ax in enumerate(axes):
        if i >= len(patterns):
            ax.set_axis_off()
            continue
        p = patterns[i]
        title = titles[i] if titles else f"{p.group_name} ({p.num_edge_colors})"
        if kind == "matrix":
            draw(p, ax=ax, title=title, labels=False)
        else:
            draw(p, ax=ax, title=title)
    return fig


def save_pattern(p, path, kind: str = "matrix", dpi: int = 120, **kwargs) -> Path:
    """Write the picture of a pattern to ``path``; the suffix picks the format (png, svg, pdf)."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("png", "svg", "pdf"):
        from .errors import CrystalGroupsError

        raise CrystalGroupsError(f"expected a .png, .svg or .pdf file name, got {str(path)!r}")
    draw = plot_pattern_matrix if kind == "matrix" else plot_pattern_graph
    ax = draw(p, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(path, format=suffix, dpi=dpi)
    return path


def pattern_png(p) -> bytes:
    """PNG bytes of the matrix picture (what Jupyter shows for a pattern)."""
    ax = plot_pattern_matrix(p)
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=90)
    return buf.getvalue()
