"""The training part of ``make demo``: a short CPU training of ECN-S_Lambda on a Perov-5 subset.

ECN-S_Lambda at the paper's size (width 100, 6 layers) on 1,500 Perov-5 structures, on the quotient
graph (one node per atom of the unit cell) in the tree gauge, 60 epochs with a cosine schedule, for
at most ``--minutes`` of training; then it prints the test MAE next to the mean predictor's
(predicting the training mean for every structure) and writes the run folder with its parity
plot and ``demo.json`` (the figures, the machine and the time taken). Run ``python -m ecn.demo
--out DIR``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from .config import load_config
from .train import load_graphs, train


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo-output/ecn-s")
    parser.add_argument("--minutes", type=float, default=2.0, help="training time budget")
    args = parser.parse_args(argv)
    config = load_config(overrides=[
        "data=perov5", "targets=heat_all", "model=ecn-s", "batch_size=64", "epochs=60", "lr_schedule=cosine",
        "limit_train=1500", "limit_val=300", "limit_test=600", f"time_limit={args.minutes}",
    ])
    start = time.perf_counter()
    metrics = train(config, Path(args.out))
    train_graphs, _ = load_graphs(config, "train", config.limit_train)
    test_graphs, _ = load_graphs(config, "test", config.limit_test)
    mean = float(np.mean([g.targets["heat_all"] for g in train_graphs]))
    baseline = float(np.mean([abs(g.targets["heat_all"] - mean) for g in test_graphs]))
    print(f"\nECN-S_Lambda on {len(train_graphs)} Perov-5 structures, {metrics['epochs_run']} epochs in "
          f"{time.perf_counter() - start:.0f} s (CPU):")
    print(f"  test MAE {metrics['test_mae']:.4f} eV/cell   mean predictor {baseline:.4f} eV/cell   "
          f"({len(test_graphs)} test structures)")
    print(f"  run folder {args.out}: parity.png, predictions.csv, metrics.json, best.pt")
    import os
    import platform

    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine()) if Path("/proc/cpuinfo").exists() else ""
    summary = {"test_mae": metrics["test_mae"], "mean_predictor_mae": baseline, "epochs": metrics["epochs_run"],
               "seconds": time.perf_counter() - start, "train_seconds": metrics["train_seconds"],
               "cpu": cpu, "cores": os.cpu_count(), "threads": torch.get_num_threads(), "torch": torch.__version__,
               "date": time.strftime("%Y-%m-%d")}
    (Path(args.out) / "demo.json").write_text(json.dumps(summary, indent=1))
    return 0 if metrics["test_mae"] < baseline else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
