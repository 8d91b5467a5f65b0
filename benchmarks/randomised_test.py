"""Test MAE on the Perov-5 test split as given and on a copy written in random gauges.

The copy holds the same crystals, each written another way: its sites in a random order, each atom
moved by a random lattice vector, a random origin (atoms wrapped into [0, 1)) and a random
unimodular change of basis (:func:`ecn.audit.rewrite`, one seeded draw per structure). A model
whose predictions depend on the crystal alone has the same MAE on both; a model trained on the
files' own gauge (``gauge=as_given``) meets on the copy settings it never saw in training. For
each checkpoint (evaluated with its own settings, as ``ecn evaluate`` does) the script writes the
MAE on both, their difference and the mean and largest change of a prediction, to
``docs/results/randomised_test.{json,md}`` (``--out``), with the hardware.

    python benchmarks/randomised_test.py CHECKPOINT... [--structures 0] [--seed 0] [--out PREFIX] [--append]

``--append`` keeps the rows of other checkpoints already in ``PREFIX.json`` (same structures and seed) whose
files are still there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from _util import cpu_name, write_json_atomic, write_text_atomic  # noqa: E402
from gauge_audit import _shown, read_split  # noqa: E402

from ecn.audit import checkpoint_predictor, rewrite  # noqa: E402
from ecn.checkpoint import load_checkpoint  # noqa: E402
from ecn.train import _config_of  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
#: The changes applied, one after the other, to every structure of the copy.
GAUGE = ("permute", "reimage", "origin", "basis")


def randomised(crystals, seed: int) -> list:
    """Every crystal rewritten by each change of :data:`GAUGE` in turn, from one seeded generator."""
    rng = np.random.default_rng(seed)
    out = []
    for c in crystals:
        for change in GAUGE:
            c = rewrite(c, change, rng)
        out.append(c)
    return out




def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--structures", type=int, default=0, help="the first N test structures (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "docs" / "results" / "randomised_test"))
    parser.add_argument("--append", action="store_true", help="keep the other checkpoints' rows of --out")
    args = parser.parse_args(argv)
    crystals, y = read_split("test", args.structures or 10**9)
    copy = randomised(crystals, args.seed)
    rows = []
    for path in map(Path, args.checkpoints):
        config = _config_of(load_checkpoint(path))
        t0 = time.perf_counter()
        predict = checkpoint_predictor(path)
        given = np.asarray(predict(crystals), dtype=float)[:, 0]
        rewritten = np.asarray(predict(copy), dtype=float)[:, 0]
        change = np.abs(rewritten - given)
        row = {"checkpoint": _shown(path), "model": config.model, "gauge": config.gauge,
               "neighbor_tol": config.neighbor_tol, "mae_as_given": float(np.mean(np.abs(given - y))),
               "mae_randomised": float(np.mean(np.abs(rewritten - y))), "change_mean": float(change.mean()),
               "change_max": float(change.max()), "seconds": time.perf_counter() - t0}
        rows.append(row)
        print(f"{row['checkpoint']}: MAE {row['mae_as_given']:.4f} as given, {row['mae_randomised']:.4f} randomised; "
              f"change mean {row['change_mean']:.2g}, max {row['change_max']:.2g}", flush=True)
    if args.append and Path(args.out + ".json").is_file():
        earlier = json.loads(Path(args.out + ".json").read_text())
        if (earlier["structures"], earlier["seed"]) != (len(crystals), args.seed):
            parser.error(f"expected {args.out}.json of {len(crystals)} structures and seed {args.seed} to append to, "
                         f"got {earlier['structures']} and {earlier['seed']}")
        new = {r["checkpoint"] for r in rows}
        kept = [r for r in earlier["rows"] if r["checkpoint"] not in new]
        gone = [r["checkpoint"] for r in kept if not (REPO / r["checkpoint"]).is_file()]
        for checkpoint in gone:
            print(f"dropped the row of {checkpoint}: the file is no longer there", flush=True)
        rows = [r for r in kept if r["checkpoint"] not in gone] + rows
    result = {"split": "test", "structures": len(crystals), "seed": args.seed, "changes": list(GAUGE),
              "date": time.strftime("%Y-%m-%d"), "hardware": f"{cpu_name()}, {os.cpu_count()} cores",
              "command": "python benchmarks/randomised_test.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "rows": rows}
    write_json_atomic(args.out + ".json", result)
    lines = ["<!-- written by benchmarks/randomised_test.py; do not edit by hand -->", "",
             f"Test MAE (eV per cell) on the {len(crystals)} structures of the Perov-5 test split as the files give "
             f"them and on a copy with every structure written in a random gauge ({', '.join(GAUGE)}; seed "
             f"{args.seed}), and the mean / largest change of a prediction between the two.", "",
             "| checkpoint | model | gauge | MAE as given | MAE randomised | change mean / max |", "|---" * 6 + "|"]
    for r in rows:
        lines.append(f"| `{r['checkpoint']}` | {r['model']} | {r['gauge']} | {r['mae_as_given']:.4f} | "
                     f"{r['mae_randomised']:.4f} | {r['change_mean']:.1e} / {r['change_max']:.1e} |")
    write_text_atomic(args.out + ".md", "\n".join(lines) + "\n")
    print(f"wrote {args.out}.json and .md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
