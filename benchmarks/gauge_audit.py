"""Gauge audit of checkpoints: how far predictions move when the same crystals are written another way.

For each checkpoint (default: every published one in docs/results/checkpoints) and the first
``--structures`` structures of a Perov-5 split, :func:`ecn.audit.gauge_audit` rewrites every
structure (site order, images, origin, basis, a 1e-6 A perturbation; ``ecn.audit.CHANGES``) and
records the mean and largest change of the prediction, in eV per cell. Each checkpoint is audited
as it was trained (its own gauge setting) and, where that is not already the tree gauge, again
with ``gauge=tree`` and ``neighbor_tol=1e-4`` (the same weights, graphs built the gauge-free way);
the MAE on the audited structures is given for both. Writes ``docs/results/gauge_audit.{json,md}``.

    python benchmarks/gauge_audit.py [--structures 40] [--split test] [CHECKPOINT ...]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _util import write_json_atomic, write_text_atomic  # noqa: E402

from ecn.audit import CHANGES, checkpoint_predictor, gauge_audit  # noqa: E402
from ecn.checkpoint import load_checkpoint  # noqa: E402
from ecn.data import crystal_from_cif  # noqa: E402
from ecn.train import _config_of  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _shown(path: Path) -> str:
    """A published checkpoint by its file name, any other file by its path in the repository (or
    under the home folder, as ``~/...``, or in full)."""
    path = path.resolve()
    if path.parent == REPO / "docs" / "results" / "checkpoints":
        return path.name
    if path.is_relative_to(REPO):
        return path.relative_to(REPO).as_posix()
    home = Path.home().resolve()
    return "~/" + path.relative_to(home).as_posix() if path.is_relative_to(home) else path.as_posix()


def read_split(split: str, limit: int):
    path = Path(os.environ.get("ECN_DATA_DIR", REPO.parent / "shared" / "data")) / "perov_5" / f"{split}.csv.gz"
    csv.field_size_limit(1 << 30)
    crystals, targets = [], []
    with gzip.open(path, "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            crystals.append(crystal_from_cif(row["cif"], id=row["material_id"]))
            targets.append(float(row["heat_all"]))
            if len(crystals) >= limit:
                break
    return crystals, np.array(targets)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="*")
    parser.add_argument("--structures", type=int, default=40)
    parser.add_argument("--split", default="test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "docs" / "results" / "gauge_audit"))
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.checkpoints] or sorted((REPO / "docs" / "results" / "checkpoints").glob("*.pt"))
    crystals, y = read_split(args.split, args.structures)
    rows = []
    for path in paths:
        config = _config_of(load_checkpoint(path))
        shown = _shown(path)
        forms = [("as trained", {})]
        if config.gauge != "tree" or config.neighbor_tol == 0:
            forms.append(("tree gauge", {"gauge": "tree", "neighbor_tol": 1e-4}))
        for label, override in forms:
            t0 = time.perf_counter()
            predict = checkpoint_predictor(path, **override)
            audit = gauge_audit(predict, crystals, seed=args.seed)
            mae = float(np.mean(np.abs(np.asarray(audit["reference"])[:, 0] - y)))
            rows.append({"checkpoint": shown, "model": config.model, "form": label,
                         "gauge": override.get("gauge", config.gauge),
                         "neighbor_tol": override.get("neighbor_tol", config.neighbor_tol),
                         "mae": mae, "seconds": time.perf_counter() - t0,
                         **{c: {k: audit[c][k] for k in ("mean", "max")} for c in CHANGES}})
            print(f"{shown:22s} {label:10s} MAE {mae:.4f}  " +
                  "  ".join(f"{c} {audit[c]['mean']:.2g}/{audit[c]['max']:.2g}" for c in CHANGES), flush=True)
    result = {"split": args.split, "structures": len(crystals), "seed": args.seed, "changes": list(CHANGES),
              "date": time.strftime("%Y-%m-%d"),
              "command": "python benchmarks/gauge_audit.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "rows": rows}
    write_json_atomic(args.out + ".json", result)
    lines = ["<!-- written by benchmarks/gauge_audit.py; do not edit by hand -->", "",
             f"Change of the prediction (eV per cell), mean / max over the first {len(crystals)} structures of the "
             f"Perov-5 {args.split} split, one random rewriting each (seed {args.seed}); MAE on the same structures.",
             "", "| checkpoint | form | MAE | " + " | ".join(CHANGES) + " |", "|---" * (len(CHANGES) + 3) + "|"]
    for r in rows:
        cells = " | ".join(f"{r[c]['mean']:.1e} / {r[c]['max']:.1e}" for c in CHANGES)
        lines.append(f"| `{r['checkpoint']}` | {r['form']} | {r['mae']:.4f} | {cells} |")
    write_text_atomic(args.out + ".md", "\n".join(lines) + "\n")
    print(f"wrote {args.out}.json and .md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
