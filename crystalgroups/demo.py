"""The main job of ``make demo``: compute, print and draw parameter-sharing patterns.

Prints every Bravais type's pattern on a 2x2 (2D) or 2x2x2 (3D) supercell next to P-1 and S,
draws them like the paper's Figures 7 and 8, works the graphene Example 6.1, and writes a JSON
summary. Run ``python -m crystalgroups.demo --out DIR``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
import warnings
from pathlib import Path

from .bravais import bravais_types
from .errors import ExcessSymmetryWarning
from .examples import graphene_pattern
from .patterns import pattern
from .plot import plot_pattern_graph, plot_pattern_grid, plot_pattern_matrix


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def run(out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows, figures = [], {2: [], 3: []}
    print(f"{'group':<6} {'name':<28} {'|P|':>4} {'|G|':>5} {'perms':>6} {'edge colours':>12}  note")
    for dim, size in ((2, (2, 2)), (3, (2, 2, 2))):
        for spec in [t.symbol for t in bravais_types(dim)] + ["S"]:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ExcessSymmetryWarning)
                p = pattern(spec, size)
            m = p.metadata
            name = next((t.name for t in bravais_types(dim) if t.symbol == spec), "symmetric group on the cells")
            note = "colouring has more symmetry than the group" if caught else ""
            if spec != "S" and m["permutation_group_order"] == math.factorial(p.num_nodes):
                note = "acts as the full symmetric group (paper A.3)"
            print(f"{spec:<6} {name:<28} {m['point_group_order']:>4} {m['group_order']:>5} "
                  f"{m['permutation_group_order']:>6} {p.num_edge_colors:>12}  {note}")
            rows.append({"type": spec, "dim": dim, "supercell": list(size), "num_edge_colors": p.num_edge_colors,
                         "point_group_order": m["point_group_order"], "group_order": m["group_order"],
                         "permutation_group_order": m["permutation_group_order"], "excess_symmetry": bool(caught)})
            figures[dim].append(p)
    for dim, fig_name in ((2, "figure7_2d_patterns.png"), (3, "figure8_3d_patterns.png")):
        fig = plot_pattern_grid(figures[dim], ncols=5 if dim == 3 else 6)
        fig.savefig(out / fig_name, dpi=110)
        print(f"wrote {out / fig_name}")

    full, sparse = graphene_pattern()
    print(f"\ngraphene (Example 6.1): {full!r}; restricted to the bonds: {sparse!r}")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    plot_pattern_matrix(full, ax=left, title="P2 x S2 on a 2x2 supercell")
    plot_pattern_graph(full, ax=right, edge_index=sparse.edge_index, title="kept on graphene's bonds")
    fig.savefig(out / "graphene_example.png", dpi=110)
    print(f"wrote {out / 'graphene_example.png'}")

    big = pattern("cP", (10, 10, 10))
    print(f"\ncP on 10x10x10: {big.num_nodes**2:,} ordered pairs in {big.num_edge_colors} colours")
    summary = {"patterns": rows, "graphene": {"edge_colors": full.num_edge_colors, "kept": sparse.num_edge_colors},
               "seconds": round(time.perf_counter() - start, 3)}
    _atomic_write_text(out / "patterns.json", json.dumps(summary, indent=1))
    print(f"wrote {out / 'patterns.json'} ({summary['seconds']} s)")
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo-output", help="folder for pictures and the JSON summary")
    args = parser.parse_args(argv)
    run(Path(args.out))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
