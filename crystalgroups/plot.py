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

__all__ = ["plot_pattern_matrix", "plot_pattern_graph", "plot_pattern_grid", "plot_pattern_summary", "save_pattern",
           "pattern_png", "palette", "KINDS", "MAX_MATRIX_NODES"]

#: The kinds of picture :func:`save_pattern` and :meth:`Pattern.plot` draw.
KINDS = ("matrix", "graph", "summary")
#: Above this many nodes Jupyter shows :func:`plot_pattern_summary` instead of the whole matrix.
MAX_MATRIX_NODES = 512
#: Up to this many colours the pictures carry a legend.
_LEGEND_MAX = 20


def _check_kind(kind) -> str:
    from .errors import CrystalGroupsError

    if kind not in KINDS:
        raise CrystalGroupsError(f"expected kind among {list(KINDS)}, got {kind!r}")
    return kind


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


def _legend(ax, colours, label: str, title: str) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=c, edgecolor="none", label=f"{label} {i}") for i, c in enumerate(colours)]
    ax.legend(handles=handles, title=title, fontsize=6, title_fontsize=7, loc="upper left",
              bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)


def plot_pattern_matrix(p, ax=None, title: str | None = None, labels: bool | None = None, legend: bool | None = None):
    """Draw ``edge_colors`` as a coloured ``n x n`` matrix; returns the axes.

    Row ``i``, column ``j`` is the colour of the ordered pair ``(i, j)``. Cells are numbered as in
    :class:`crystalgroups.supercell.Supercell` (C order of their coordinates). ``legend`` (default:
    up to 20 colours, when the function makes its own figure) names each colour.
    """
    from matplotlib.colors import ListedColormap

    from ._validate import check_dense_size

    check_dense_size(p.num_nodes**2, "a matrix picture (draw kind='summary' instead)",
                     f"{p.num_nodes:,} nodes", limit=4096**2)
    own_figure = ax is None
    ax = _new_axes(ax)
    k = p.num_edge_colors
    colours = palette(k)
    ax.imshow(p.edge_colors, cmap=ListedColormap(colours), vmin=-0.5, vmax=k - 0.5, interpolation="nearest")
    if legend is None:  # on a figure of its own; in someone else's axes only when asked
        legend = own_figure and k <= _LEGEND_MAX
    if legend:
        _legend(ax, colours, "colour", "edge colours")
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
    ax.set_xlabel("node j (second of the pair)", fontsize=8)
    ax.set_ylabel("node i (first of the pair)", fontsize=8)
    ax.set_title(title if title is not None else f"{p.group_name}: {k} edge colours", fontsize=9)
    return ax


def plot_pattern_graph(p, ax=None, title: str | None = None, edge_index=None, layout: str = "circular",
                       legend: bool | None = None):
    """Draw the pattern as a coloured directed graph (networkx); returns the axes.

    Without ``edge_index`` every ordered pair ``i != j`` is drawn (fine for a few nodes); with a
    ``(2, E)`` edge list only those edges are drawn, as for a restricted pattern (Example 6.1).
    """
    import networkx as nx

    from .patterns import SparsePattern

    if isinstance(p, SparsePattern):  # draw a restricted pattern on its own edges
        edge_index = p.edge_index if edge_index is None else edge_index
        p = p.parent
    own_figure = ax is None
    ax = _new_axes(ax)
    n = p.num_nodes
    if edge_index is None:
        if n > 64:
            from .errors import SizeLimitError

            raise SizeLimitError(f"expected at most 64 nodes for a graph of every ordered pair, got {n:,} nodes "
                                 "(give edge_index, or draw kind='matrix')")
        src, dst = np.nonzero(~np.eye(n, dtype=bool))
    else:
        src, dst = np.asarray(edge_index)
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(range(n))
    colours = palette(p.num_edge_colors)
    node_colours = _node_palette(max(p.num_node_colors, 1))
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
    shown = sorted({c for _, _, c in edges})
    if legend if legend is not None else (own_figure and len(shown) <= _LEGEND_MAX):
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        handles = [Line2D([0], [0], color=colours[c], lw=2, label=f"edge colour {c}") for c in shown]
        handles += [Patch(facecolor=node_colours[c], edgecolor="black", label=f"node colour {c}")
                    for c in range(p.num_node_colors)]
        ax.legend(handles=handles, fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def _node_palette(k: int) -> np.ndarray:
    """Node colours drawn from a different family than the edge colours (pale, so labels stay readable)."""
    from matplotlib import colormaps

    if k <= 8:
        return np.array(colormaps["Pastel2"].colors[:k])
    return 0.55 + 0.45 * palette(k)


def plot_pattern_summary(p, ax=None, title: str | None = None, block: int = 256, axes=None):
    """A picture of a large pattern that stays cheap: its first ``block`` nodes and the colour class sizes.

    Left: the ``block x block`` corner of the colour matrix; right: how many ordered pairs each
    colour has (sorted). Costs at most ``O(n^2)`` integer counting (``O(n)`` for lattice
    patterns), not an ``n x n`` image. ``ax`` draws the corner only; ``axes=(left, right)``
    both panels into given axes; neither: a figure of its own. Returns the left axes.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    if axes is not None:
        left, right = axes
        fig = left.figure
    elif ax is None:
        fig = Figure(figsize=(8.0, 3.6), layout="constrained")
        left, right = fig.subplots(1, 2)
    else:
        fig = ax.figure
        left, right = ax, None
    n, k = p.num_nodes, p.num_edge_colors
    b = min(block, n)
    corner = p.edge_colors[:b, :b]
    left.imshow(corner, cmap=ListedColormap(palette(k)), vmin=-0.5, vmax=k - 0.5, interpolation="nearest")
    left.set_xticks([])
    left.set_yticks([])
    left.set_title(f"first {b} of {n:,} nodes", fontsize=8)
    if right is not None:
        if p.metadata.get("translation_invariant"):  # colour of (a, b) is that of (0, b - a): count row 0
            sizes = n * np.bincount(p.edge_colors[0], minlength=k)
        else:
            sizes = np.bincount(p.edge_colors.ravel(), minlength=k)
        sizes = np.sort(sizes)[::-1]
        right.bar(np.arange(k), sizes, width=1.0, color="0.35")
        right.set_yscale("log")
        right.set_xlabel("edge colour (sorted by size)", fontsize=8)
        right.set_ylabel("ordered pairs", fontsize=8)
        right.tick_params(labelsize=7)
    fig.suptitle(title if title is not None else
                 f"{p.group_name}: {n:,} nodes, {k:,} edge colours, node colours: {p.num_node_colors}", fontsize=9)
    return left


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
    draws = {"matrix": plot_pattern_matrix, "graph": plot_pattern_graph, "summary": plot_pattern_summary}
    draw = draws[_check_kind(kind)]
    ax = draw(p, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(path, format=suffix, dpi=dpi)
    return path


def pattern_png(p) -> bytes:
    """PNG bytes of what Jupyter shows: the matrix, or above :data:`MAX_MATRIX_NODES` nodes the summary."""
    ax = plot_pattern_matrix(p) if p.num_nodes <= MAX_MATRIX_NODES else plot_pattern_summary(p)
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=90)
    return buf.getvalue()
