"""Edge colours per group and supercell: the number of first-layer weight sets an ECN model allocates.

For S_Lambda (every permutation of the cells), P-1 and the holohedry of each of the 14 Bravais
types (written in its representative basis), the number of orbits on ordered pairs of cells of
an n x n x n supercell (every point operation maps those onto themselves) and of 1 x 2 x 3 (only
the operations that map that sublattice onto itself: the compatible subgroup), computed exactly
by ``crystalgroups``. ECN-G_Lambda takes each structure's own lattice group, so a model that accepts
every crystal has the P-1 count (the triclinic lattices' group, a subgroup of every other one).

    python benchmarks/colour_counts.py   # writes docs/results/colour_counts.{json,md}
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _util import write_json_atomic, write_text_atomic  # noqa: E402

import crystalgroups  # noqa: E402

SUPERCELLS = [(1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 4), (1, 2, 3)]
TYPES = ["aP", "mP", "mS", "oP", "oS", "oI", "oF", "tP", "tI", "hR", "hP", "cP", "cI", "cF"]


def count(group, supercell) -> tuple[int, int]:
    """(edge colours, point operations kept) of a group on a supercell."""
    sc = crystalgroups.Supercell.diagonal(*supercell)
    if group in ("S", "P-1"):
        p = crystalgroups.pattern(group, sc, warn=False)
        return p.num_edge_colors, (0 if group == "S" else 2)
    pg = crystalgroups.bravais_group(group).point_group
    kept = [W for W in pg.elements if sc.is_compatible(W)]
    sub = crystalgroups.PointGroup.from_elements(kept)
    return crystalgroups.pattern(sub, sc, warn=False).num_edge_colors, len(kept)


def main() -> int:
    out = Path(__file__).resolve().parents[1] / "docs" / "results"
    rows = {}
    for group in ["S", "P-1", *TYPES]:
        rows[group] = {
            "x".join(map(str, sc)): dict(zip(("colors", "operations"), count(group, sc))) for sc in SUPERCELLS
        }
    result = {
        "supercells": ["x".join(map(str, sc)) for sc in SUPERCELLS],
        "rows": rows,
        "date": time.strftime("%Y-%m-%d"),
        "command": "python benchmarks/colour_counts.py",
    }
    write_json_atomic(out / "colour_counts.json", result)
    head = "| group | " + " | ".join(result["supercells"]) + " |"
    lines = [
        "<!-- written by benchmarks/colour_counts.py; do not edit by hand -->",
        "",
        head,
        "|---" * (len(SUPERCELLS) + 1) + "|",
    ]
    for group, cells in rows.items():
        label = {"S": "S_Lambda", "P-1": "P-1"}.get(group, f"{group} holohedry")
        entries = []
        for name, c in cells.items():
            kept = f" ({c['operations']} ops)" if group in TYPES and name == "1x2x3" else ""
            entries.append(f"{c['colors']}{kept}")
        lines.append(f"| {label} | " + " | ".join(entries) + " |")
    write_text_atomic(out / "colour_counts.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
