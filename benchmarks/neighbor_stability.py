"""How often the paper's bond rule is unstable, and what ``neighbor_tol`` changes, on Perov-5 and Carbon-24.

For every ``--every``-th structure of each file: the unit-cell bonds with Qhull's own faces
(``neighbor_tol=0``, edge for edge pymatgen's ``IsayevNN``, benchmarks/graph_parity.py) and with
``neighbor_tol=1e-4`` (atoms on one empty sphere share a face); whether they differ; and, for
both, whether moving every atom by a random 1e-6 A (then wrapping into the cell) changes the
bonds (the multiset of site pairs, or the sorted lengths by more than 1e-5 A). Writes
benchmarks/results/neighbor_stability.json.

    python benchmarks/neighbor_stability.py [--every 4]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _util import write_json_atomic  # noqa: E402

from ecn.audit import rewrite  # noqa: E402
from ecn.data import GraphSettings, crystal_from_cif  # noqa: E402
from ecn.data.graph import unit_cell_edges  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FILES = ["perov_5/train", "perov_5/val", "perov_5/test", "carbon_24/val", "carbon_24/test"]


class Bonds:
    """The bonds of a unit cell up to re-imaging: the multiset of site pairs and the sorted lengths;
    two are equal when the pairs are and the lengths agree to 1e-5 A."""

    def __init__(self, crystal, tol):
        e = unit_cell_edges(crystal, GraphSettings(gauge="as_given", neighbor_tol=tol))
        self.pairs = Counter(zip(e.src.tolist(), e.dst.tolist()))
        self.lengths = np.sort(e.distance)

    def __eq__(self, other) -> bool:
        return (self.pairs == other.pairs and len(self.lengths) == len(other.lengths)
                and bool(np.allclose(self.lengths, other.lengths, rtol=0, atol=1e-5)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=4)
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "neighbor_stability.json"))
    args = parser.parse_args(argv)
    data = Path(os.environ.get("ECN_DATA_DIR", REPO.parent / "shared" / "data"))
    csv.field_size_limit(1 << 30)
    rng = np.random.default_rng(0)
    out = {"every": args.every, "date": time.strftime("%Y-%m-%d"), "files": {},
           "command": "python benchmarks/neighbor_stability.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    for name in FILES:
        counts = Counter()
        with gzip.open(data / f"{name}.csv.gz", "rt", newline="") as fh:
            for k, row in enumerate(csv.DictReader(fh)):
                if k % args.every:
                    continue
                crystal = crystal_from_cif(row["cif"], id=row["material_id"])
                moved = rewrite(crystal, "perturb", rng)
                try:
                    exact, tolerant = Bonds(crystal, 0.0), Bonds(crystal, 1e-4)
                    exact_moved, tolerant_moved = Bonds(moved, 0.0), Bonds(moved, 1e-4)
                except ValueError:
                    counts["no graph"] += 1
                    continue
                counts["structures"] += 1
                counts["tolerance adds bonds"] += exact != tolerant
                counts["unstable with Qhull's faces (neighbor_tol=0)"] += exact != exact_moved
                counts["unstable with neighbor_tol=1e-4"] += tolerant != tolerant_moved
        out["files"][name] = dict(counts)
        print(name, dict(counts), flush=True)
    write_json_atomic(args.json, out)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
