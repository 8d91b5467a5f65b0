"""Gauges that a message-passing network cannot tell apart, found by colour refinement.

A structure with tied gauges (:meth:`ecn.data.CrystalGraph.frames`) is evaluated as the mean of
the model over all of them. Many of them are the same graph with its atoms relabelled: in a
cubic perovskite the crystal's own symmetry maps one tree of shortest bonds onto another, and
the two gauges differ only by which of several equivalent bonds leaves the cell. Every ECN model
(and every other model here) is a message-passing network: a node's state after each layer is a
function of its state before, and of the multiset of (neighbour state, bond) over its bonds, and
the readout is a function of the multiset of node states (per site, of the site's state). Two
gauges that 1-dimensional Weisfeiler-Leman colour refinement cannot tell apart therefore get the
same output from every such network, whatever its weights (for a per-site readout: gauges in which
refinement gives every site the same colour). :func:`distinct_frames` refines all
gauges of a batch together and keeps one gauge of each class, with its count as a weight, so
that the weighted mean equals the mean over all gauges.

What a bond carries into the refinement is what a model reads of it: its colour, whether it joins
an atom to its own image, and its length, rounded to ``length_resolution`` (1e-6 A). Bonds whose
lengths agree to that resolution count as equal, so the weighted mean can differ from the full
mean by what a 1e-6 A change of a bond does to the model (below float32 rounding for the
published models; tested). Node states start from the atomic number; the other node inputs of
the models (the cell one-hot is excluded: such models are not run on quotient graphs) are the same
on every gauge of one structure.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LENGTH_RESOLUTION", "distinct_frames", "refine"]

#: Bond lengths (A) that agree to this resolution count as equal in :func:`distinct_frames`.
LENGTH_RESOLUTION = 1e-6


def _ids(rows: np.ndarray) -> np.ndarray:
    """Dense integer ids of the rows of an integer matrix (equal rows, equal ids).

    The columns are combined into one integer (mixed radix over their ranges) wherever that fits
    in 62 bits, else folded in one at a time; then one 1-D ``np.unique`` numbers them (much faster
    than ``np.unique(axis=0)``).
    """
    rows = np.asarray(rows, dtype=np.int64).reshape(len(rows), -1)
    out = np.zeros(len(rows), dtype=np.int64)
    radix = 1
    for column in rows.T:
        low = int(column.min(initial=0))
        span = int(column.max(initial=0)) - low + 1
        if radix * span >= 1 << 62:  # renumber what is combined so far, then go on
            out = np.unique(out, return_inverse=True)[1].reshape(-1)
            radix = int(out.max(initial=0)) + 1
            if radix * span >= 1 << 62:
                column = np.unique(column, return_inverse=True)[1].reshape(-1)
                low, span = 0, int(column.max(initial=0)) + 1
        out = out * span + (column - low)
        radix *= span
    return np.unique(out, return_inverse=True)[1].reshape(-1)


def refine(num_nodes: int, src: np.ndarray, dst: np.ndarray, node_label: np.ndarray,
           edge_label: np.ndarray) -> np.ndarray:
    """The stable colouring of 1-WL refinement on a directed multigraph (integer node and edge labels).

    Each round gives a node a new colour from its colour and the multisets of ``(edge label,
    colour of the other end)`` over its outgoing and over its incoming edges, until the number of
    colours stops growing. Returns one integer colour per node; colours are comparable across the
    whole graph, so components of a disjoint union can be compared with each other.

    >>> import numpy as np
    >>> # a path a-b-c: the two ends look alike, the middle does not
    >>> c = refine(3, np.array([0, 1, 1, 2]), np.array([1, 0, 2, 1]), np.zeros(3, int), np.zeros(4, int))
    >>> bool(c[0] == c[2] != c[1])
    True
    """
    colour = _ids(np.asarray(node_label, dtype=np.int64).reshape(num_nodes, -1))
    if len(src) == 0:
        return colour
    edge_label = _ids(edge_label)
    owner = np.concatenate([src, dst])  # the node whose multiset an entry joins
    other = np.concatenate([dst, src])
    # (direction, edge label) as one integer: 0..L-1 outgoing, L..2L-1 incoming
    labels = np.concatenate([edge_label, edge_label + int(edge_label.max()) + 1])
    order = np.argsort(owner, kind="stable")
    owner, other, labels = owner[order], other[order], labels[order]
    bounds = (8 * np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=num_nodes))])).tolist()
    count = len(np.unique(colour))
    while True:
        # a node's new colour: its colour and the sorted keys (label, colour of the other end) of
        # its entries, as bytes; a dict numbers the distinct ones (exact, no hashing of values)
        key = labels * num_nodes + colour[other]
        key = key[np.lexsort((key, owner))].tobytes()
        numbering: dict = {}
        new = np.array([numbering.setdefault((c, key[a:b]), len(numbering))
                        for c, a, b in zip(colour.tolist(), bounds[:-1], bounds[1:])], dtype=np.int64)
        colour = new
        if len(numbering) == count:
            return colour
        count = len(numbering)


def distinct_frames(frames_of: list, colours_of, per_site: bool = False,
                    length_resolution: float = LENGTH_RESOLUTION) -> list:
    """For each structure's list of gauges, the gauges to evaluate and their weights.

    ``frames_of[k]`` is the list of quotient graphs (``CrystalGraph``) of structure ``k``;
    ``colours_of(frame)`` gives a frame's bond colours (``frame.quotient_colors(group)[0]``).
    Returns, per structure, ``(kept, weights)``: one gauge of each class that colour refinement
    cannot tell apart (the first in order), and the share of the structure's gauges in its class.
    Two gauges are alike when their multisets of refined site colours are equal (a graph-level
    readout cannot tell them apart); ``per_site=True``, for a per-site readout, asks for the same
    colour at every site. A gauge related to another by a symmetry that permutes the sites is alike
    as a whole but not site by site: cubic SrTiO3 has 56 gauges, 3 classes as wholes and 7 site by site.

    >>> import numpy as np
    >>> from ecn.data.structures import Crystal
    >>> from ecn.data.graph import crystal_graph
    >>> g = crystal_graph(Crystal(np.eye(3) * 3.9, [[0, 0, 0], [.5, .5, .5], [.5, .5, 0], [.5, 0, .5], [0, .5, .5]],
    ...                           [38, 22, 8, 8, 8]))
    >>> frames = g.frames("S")
    >>> len(frames)   # Sr-O and O-O bonds tie: 56 trees are equally short
    56
    >>> colours = lambda f: f.quotient_colors("S")[0]
    >>> [(len(kept), [round(x * 56) for x in w]) for kept, w in distinct_frames([frames], colours)]
    [(3, [24, 24, 8])]
    >>> len(distinct_frames([frames], colours, per_site=True)[0][0])
    7
    """
    # the gauges of one structure share its atoms, bonds and lengths (a gauge changes images only)
    srcs, dsts, node_labels, edge_labels, sizes = [], [], [], [], []
    offset = 0
    for k, frames in enumerate(frames_of):
        if not frames:
            continue
        f0 = frames[0]
        n, count = f0.num_sites, len(frames)
        if any(f.num_sites != n or f.num_unit_edges != f0.num_unit_edges for f in frames):
            raise ValueError(f"expected gauges of one structure with the same atoms and bonds, got others ({f0.id!r})")
        shift = offset + n * np.arange(count)[:, None]
        srcs.append((f0.unit_edge_index[0][None, :] + shift).reshape(-1))
        dsts.append((f0.unit_edge_index[1][None, :] + shift).reshape(-1))
        node_labels.append(np.tile(np.stack([np.full(n, k), f0.numbers], axis=1), (count, 1)))
        bond = np.stack([f0.unit_same_site.astype(np.int64),
                         np.rint(np.asarray(f0.unit_edge_length) / length_resolution).astype(np.int64)], axis=1)
        colours = np.concatenate([np.asarray(colours_of(f), dtype=np.int64) for f in frames])
        edge_labels.append(np.concatenate([colours[:, None], np.tile(bond, (count, 1))], axis=1))
        sizes += [n] * count
        offset += n * count
    if not sizes:
        return [([], []) for _ in frames_of]
    colour = refine(offset, np.concatenate(srcs), np.concatenate(dsts), np.concatenate(node_labels),
                    _ids(np.concatenate(edge_labels)))
    starts = np.concatenate([[0], np.cumsum(sizes)])
    flat = [(k, f) for k, frames in enumerate(frames_of) for f in frames]
    out = [([], []) for _ in frames_of]
    seen: list[dict] = [{} for _ in frames_of]
    for n, (k, f) in enumerate(flat):
        nodes = colour[starts[n]:starts[n + 1]]
        key = nodes.tobytes() if per_site else np.sort(nodes).tobytes()
        slot = seen[k].get(key)
        if slot is None:
            seen[k][key] = len(out[k][0])
            out[k][0].append(f)
            out[k][1].append(1)
        else:
            out[k][1][slot] += 1
    return [(kept, [c / len(frames_of[k]) for c in counts]) for k, (kept, counts) in enumerate(out)]
