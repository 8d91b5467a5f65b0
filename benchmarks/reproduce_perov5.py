"""Reproduce the paper's Perov-5 table (Table 2, target heat_all): every model, several seeds.

Trains ECN-S_Lambda, ECN-P-1, ECN-G_Lambda, CGCNN, MEGNet and the plain MPNN on perov_5 with the
paper's protocol (AdamW 1e-3, batch 128, ReduceLROnPlateau 0.5 / 25 on validation MAE, until 1000
epochs or lr <= 1e-6; ``--epochs`` caps it for a smaller budget), ``--seeds`` each, and writes
``RESULTS/perov5.json`` and ``RESULTS/perov5.md``: test MAE mean +- std per model, epochs run,
wall time and hardware, next to the paper's numbers. Runs live in ``RUNS/<model>-seed<k>/`` and
are resumed (``last.pt``) or skipped (``metrics.json``) when the script is started again, so a
budget can be spread over several sessions. ``--jobs`` runs several side by side (spawned
processes, one thread each on CPU). The checkpoint of each model's best seed (by validation MAE) is
copied to ``RESULTS/checkpoints/`` (or ``--checkpoints``) and evaluated again from there.
``--ablation`` adds variants of ECN-S_Lambda (group + period features instead of one-hot Z; the
paper's exact input, the cell one-hot on the explicit supercell; a 3x3x3 supercell),
``--gauge-study`` ECN-S_Lambda on the atoms' images as the files give them (no tree gauge, Qhull's
own faces), ``--graph-study`` the MPNN and ECN-S_Lambda on CGCNN's radius graph and CGCNN on the
paper's bonds; ``--variants`` names variants one by one. ``--no-publish`` leaves checkpoints and
figures out (a screening budget); ``--publish NAME...`` publishes only those models, and the
others keep the entry of an earlier start as long as the file it names is still their run's
(its ``.yaml`` is the run's ``config.yaml``). ``--publish-variant VARIANT=NAME`` publishes a
variant's best seed as ``perov5-NAME`` (``ecn.load("perov5-NAME")``). ``--first NAME...`` runs those first.

    python benchmarks/reproduce_perov5.py --epochs 8 --set lr_schedule=cosine --jobs 2 --ablation --graph-study
    python benchmarks/reproduce_perov5.py --epochs 1000 --device cuda --jobs 3 --results docs/results/full
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import signal
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from _util import write_bytes_atomic, write_json_atomic, write_text_atomic

from ecn.config import load_config
from ecn.data.build import _stop as stop_pool
from ecn.train import train

PAPER = {"ecn-s": "0.038 +- 0.004", "cgcnn": "0.047 +- 0.000", "megnet": "0.059 +- 0.006"}
MODELS = ("ecn-s", "ecn-p1", "ecn-g", "cgcnn", "megnet", "mpnn")
LABELS = {"ecn-s": "ECN-S_Lambda", "ecn-p1": "ECN-P-1", "ecn-g": "ECN-G_Lambda", "cgcnn": "CGCNN",
          "megnet": "MEGNet", "mpnn": "MPNN (unit cell)"}
#: Variants: name -> (model, settings, study, label). "ablation": ECN-S_Lambda's input features and
#: symmetry breaking (``--ablation``); "graph": the bond rule against the radius graph on the cheap
#: unit-cell models, to separate the graph from the architecture (``--graph-study``); "norm": the
#: ECN layer with batch normalisation, as CGCNN has; "ties": CGCNN's radius graph without grouping
#: tied neighbours, as its first paper-protocol seed was trained (both ``--variants`` only).
VARIANTS = {
    "ecn-s+period_group": ("ecn-s", ["element_features=period_group"], "ablation", "group + period features"),
    "ecn-s+cell_onehot": (
        "ecn-s",
        ["cell_onehot=true"],
        "ablation",
        "the paper's exact input: cell one-hot, explicit supercell",
    ),
    "ecn-s+3x3x3": ("ecn-s", ["supercell=3,3,3"], "ablation", "3x3x3 supercell"),
    "ecn-s+as_given": ("ecn-s", ["gauge=as_given", "neighbor_tol=0"], "gauge", "images as the files give them"),
    "cgcnn+tol0": (
        "cgcnn",
        ["gauge=as_given", "neighbor_tol=0"],
        "ties",
        "neighbours tied at the 12th place not grouped (neighbor_tol 0)",
    ),
    "mpnn+radius": ("mpnn", ["neighbors=radius"], "graph", "radius graph (8 A, 12 neighbours)"),
    "ecn-s+radius": ("ecn-s", ["neighbors=radius"], "graph", "radius graph (8 A, 12 neighbours)"),
    "ecn-s+bn": ("ecn-s", ["norm=batch"], "norm", "batch normalisation of each layer's summed messages"),
    "ecn-s+radius+bn": (
        "ecn-s",
        ["neighbors=radius", "norm=batch"],
        "norm",
        "radius graph and batch normalisation of the summed messages",
    ),
    "cgcnn+isayev": ("cgcnn", ["neighbors=isayev"], "graph", "the paper's bonds (IsayevNN)"),
    "ecn-s+radius+bn+l1": (
        "ecn-s",
        ["neighbors=radius", "norm=batch", "loss=l1"],
        "recipe",
        "radius graph, batch normalisation, L1 loss (the metric) instead of MSE",
    ),
    "ecn-s+radius+bn+fine": (
        "ecn-s",
        ["neighbors=radius", "norm=batch", "gaussians=41", "gaussian_max=8.0", "gaussian_width=0.2"],
        "edges",
        "radius graph, batch normalisation, 41 Gaussians to 8 A of width 0.2 A (CGCNN's) instead of 20 to 6 A of 0.6 A",
    ),
    "ecn-s+radius+bn+props": (
        "ecn-s",
        ["neighbors=radius", "norm=batch", "element_features=onehot+properties"],
        "elements",
        "radius graph, batch normalisation, one-hot Z and 37 element properties (period, group, 11 physical)",
    ),
    "cgcnn+props+fine+l1": (
        "cgcnn",
        ["element_features=onehot+properties", "gaussians=41", "gaussian_max=8.0", "gaussian_width=0.2", "loss=l1"],
        "combined",
        "element properties, CGCNN's Gaussians, L1 loss (the inputs and loss of the best ECN variant)",
    ),
    "ecn-s+radius+bn+props+fine+l1": (
        "ecn-s",
        ["neighbors=radius", "norm=batch", "element_features=onehot+properties", "gaussians=41", "gaussian_max=8.0",
         "gaussian_width=0.2", "loss=l1"],
        "combined",
        "radius graph, batch normalisation, element properties, CGCNN's Gaussians, L1 loss",
    ),
}


def hardware(device: str, jobs: int) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    name = platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        name = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            name,
        )
    return f"CPU ({name}, {os.cpu_count()} cores), {jobs} run(s) side by side, 1 thread each"


def run_one(name: str, overrides: list, seed: int, args: argparse.Namespace) -> dict:
    """Train (or resume, or just read) one run; executed in a worker process of its own."""
    run_dir = Path(args.runs) / f"{name}-seed{seed}"
    model = VARIANTS[name][0] if name in VARIANTS else name
    metrics_file = run_dir / "metrics.json"
    if metrics_file.exists():
        finished = json.loads(metrics_file.read_text())
        if "wall_seconds" in finished:  # written by this script, so the run is complete
            return {**finished, "epoch_seconds": _epoch_seconds(run_dir)}
    config = load_config(
        overrides=[
            "data=perov5",
            "targets=heat_all",
            f"model={model}",
            f"seed={seed}",
            f"epochs={args.epochs}",
            f"device={args.device}",
            "quiet=true",
            "workers=1",
            "deterministic=true",
            *overrides,
            *args.set,
        ]
    )
    start = time.perf_counter()
    metrics = train(config, run_dir, resume=(run_dir / "last.pt").exists())
    metrics["wall_seconds"] = time.perf_counter() - start
    metrics["threads"] = torch.get_num_threads()
    metrics["seed"] = seed
    write_json_atomic(metrics_file, metrics)
    metrics["epoch_seconds"] = _epoch_seconds(run_dir)
    print(
        f"{name} seed {seed}: test MAE {metrics['test_mae']:.4f} ({metrics['epochs_run']} epochs, "
        f"{metrics['wall_seconds'] / 60:.1f} min)",
        flush=True,
    )
    return metrics


def _epoch_seconds(run_dir: Path) -> float:
    """The training time of a run, summed over its epochs (``log.csv``): a run resumed over several
    starts has no single wall time."""
    import csv

    with (run_dir / "log.csv").open() as fh:
        return sum(float(row["seconds"]) for row in csv.DictReader(fh))


def run_all(plan: list, args: argparse.Namespace) -> dict:
    """Every (name, overrides) x seed, ``args.jobs`` at a time, the most expensive runs first."""
    jobs = [
        (name, overrides, seed)
        for name, overrides in plan
        for seed in (
            args.seeds_of.get(name)
            or (args.ablation_seeds if name in VARIANTS and VARIANTS[name][2] in ("ablation", "gauge") else args.seeds)
        )
    ]
    # the names of --first in their order, then the table (its ECN runs before the baselines), the variants last
    first = {name: k for k, name in enumerate(args.first)}
    jobs.sort(key=lambda job: (first.get(job[0], len(first)), job[0] in VARIANTS, not job[0].startswith("ecn")))
    results = {name: {} for name, _ in plan}
    pool = ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_end_with_parent, initargs=(os.getpid(),))
    try:
        futures = {pool.submit(run_one, name, overrides, seed, args): (name, seed) for name, overrides, seed in jobs}
        for future in as_completed(futures):
            name, seed = futures[future]
            results[name][seed] = {**future.result(), "seed": seed}
    except BaseException:  # Ctrl-C, kill (SIGTERM) or a failed run: no training goes on without this script
        # the graph build's way of stopping a pool; a run keeps its last finished epoch (last.pt) and resumes
        stop_pool(pool, list(getattr(pool, "_processes", {}).values()))
        raise
    pool.shutdown()
    return {name: [runs[s] for s in sorted(runs)] for name, runs in results.items()}


def _end_with_parent(parent: int) -> None:
    """In each worker: end it when the script that started it is gone (killed with SIGKILL, which no handler
    sees), so that no orphaned run keeps training, and writing, a run folder that a new start resumes too."""
    import threading

    def watch():
        while os.getppid() == parent:
            time.sleep(2.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _row(runs: list) -> dict:
    maes = [r["test_mae"] for r in runs]
    return {
        "test_mae_mean": statistics.mean(maes),
        "test_mae_std": statistics.pstdev(maes) if len(maes) > 1 else 0.0,
        "test_mae": maes,
        "val_mae": [r["val_mae"] for r in runs],
        "train_mae": [r["train_mae"] for r in runs],
        "seeds": [r["seed"] for r in runs],
        "epochs_run": [r["epochs_run"] for r in runs],
        "best_epoch": [r["best_epoch"] for r in runs],
        "wall_seconds": [round(r["wall_seconds"]) for r in runs],
        "epoch_seconds": [round(r["epoch_seconds"]) for r in runs],
    }


def publish(name: str, runs: list, args: argparse.Namespace, as_name: str = "") -> dict:
    """Copy the best seed's (lowest validation MAE) best checkpoint and config into the results
    folder (as ``perov5-NAME``, or ``perov5-AS_NAME`` for a variant), then evaluate the copy on the
    test split as a user would, and compare."""
    import yaml

    from ecn.train import evaluate_checkpoint

    chosen = min(runs, key=lambda r: r["val_mae"])
    run_dir = Path(args.runs) / f"{name}-seed{chosen['seed']}"
    folder = Path(args.checkpoints or Path(args.results) / "checkpoints")
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint, config = folder / f"perov5-{as_name or name}.pt", folder / f"perov5-{as_name or name}.yaml"
    write_bytes_atomic(checkpoint, (run_dir / "best.pt").read_bytes())
    write_text_atomic(config, (run_dir / "config.yaml").read_text())
    limit = yaml.safe_load(config.read_text()).get("limit_test", 0)  # 0 (all) in the real runs
    evaluated = evaluate_checkpoint(checkpoint, data="perov5", split="test", limit=limit)["mae"]
    return {
        "checkpoint": checkpoint.as_posix(),
        "seed": chosen["seed"],
        "test_mae": chosen["test_mae"],
        "evaluate_test_mae": evaluated,
        "reproduced": evaluated == chosen["test_mae"],
        "difference": evaluated - chosen["test_mae"],
        "size_mb": round(checkpoint.stat().st_size / 1e6, 1),
    }


def _still_published(names: list, results: dict, args: argparse.Namespace) -> dict:
    """The entries of an earlier ``RESULTS/perov5.json`` for ``names`` whose checkpoint file is still the
    one published from this table's run: its config beside it is the run's ``config.yaml``."""
    kept = {}
    for name, entry in _previously_published(args).items():
        if name not in names or not entry.get("checkpoint"):
            continue
        run = entry.get("variant", name)  # a published variant is kept under its published name
        config = Path(entry["checkpoint"]).with_suffix(".yaml")
        run_config = Path(args.runs) / f"{run}-seed{entry['seed']}" / "config.yaml"
        if (config.exists() and run_config.exists() and entry["seed"] in [r["seed"] for r in results.get(run, [])]
                and config.read_text() == run_config.read_text()):
            kept[name] = entry
    return kept


def _previously_published(args: argparse.Namespace) -> dict:
    """The ``published`` entries of an earlier ``RESULTS/perov5.json`` (none without one)."""
    previous = Path(args.results) / "perov5.json"
    return json.loads(previous.read_text()).get("published", {}) if previous.exists() else {}


def figures(results: dict, published: dict, args: argparse.Namespace) -> None:
    """Validation MAE per epoch (every run) and test parity plots (published checkpoints)."""
    import csv

    import numpy as np
    from matplotlib.figure import Figure

    out = Path(args.results)
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for k, (name, runs) in enumerate(results.items()):
        for n, r in enumerate(runs):
            rows = list(csv.DictReader((Path(args.runs) / f"{name}-seed{r['seed']}" / "log.csv").open()))
            ax.plot(
                [int(x["epoch"]) for x in rows],
                [float(x["val_mae"]) for x in rows],
                color=f"C{k}",
                lw=1.2,
                alpha=0.8,
                label=name if n == 0 else None,
            )
    ax.set(yscale="log", xlabel="epoch", ylabel="validation MAE (eV per cell)", title="Perov-5: validation MAE")
    ax.grid(True, which="both", lw=0.3)
    ax.legend(fontsize=8)
    fig.savefig(out / "perov5_curves.png", dpi=110)

    # parity plots of the published seeds whose run folder holds its test predictions
    published = {n: p for n, p in published.items()
                 if (Path(args.runs) / f"{p.get('variant', n)}-seed{p['seed']}" / "predictions.csv").exists()}
    if not published:
        return
    fig = Figure(figsize=(3.2 * min(3, len(published)), 3.2 * math.ceil(len(published) / 3)), layout="constrained")
    for k, (name, pub) in enumerate(published.items()):
        ax = fig.add_subplot(math.ceil(len(published) / 3), min(3, len(published)), k + 1)
        run = f"{pub.get('variant', name)}-seed{pub['seed']}"
        rows = list(csv.DictReader((Path(args.runs) / run / "predictions.csv").open()))
        true = np.array([float(r["heat_all_true"]) for r in rows])
        pred = np.array([float(r["heat_all_pred"]) for r in rows])
        ax.scatter(true, pred, s=2, alpha=0.4)
        lo, hi = min(true.min(), pred.min()), max(true.max(), pred.max())
        ax.plot([lo, hi], [lo, hi], "k:", lw=0.8)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        ax.set(
            title=f"{name} (seed {pub['seed']}): MAE {pub['test_mae']:.3f} eV/cell",
            xlabel="DFT heat_all (eV per cell)",
            ylabel="predicted (eV per cell)",
        )
        ax.title.set_fontsize(9)
    fig.savefig(out / "perov5_parity.png", dpi=110)


def summarise(results: dict, args: argparse.Namespace) -> tuple[dict, str]:
    Path(args.results).mkdir(parents=True, exist_ok=True)
    main_rows = {name: _row(runs) for name, runs in results.items() if name not in VARIANTS}
    chosen = [] if args.no_publish else [n for n in main_rows if args.publish is None or n in args.publish]
    published = {name: publish(name, results[name], args) for name in chosen}
    if args.publish is not None:  # the other rows keep what an earlier start published, while it still holds
        published.update(_still_published([n for n in main_rows if n not in chosen], results, args))
    if not args.no_publish:  # variants only when named, published under their own names
        for variant, as_name in args.publish_variant.items():
            if results.get(variant):
                published[as_name] = {**publish(variant, results[variant], args, as_name), "variant": variant}
        earlier = [n for n, entry in _previously_published(args).items() if "variant" in entry and n not in published]
        published.update(_still_published(earlier, results, args))
    if published:
        figures({n: r for n, r in results.items() if n in main_rows}, published, args)
    extra = f"; changed settings: {', '.join(args.set)}" if args.set else ""
    meta = {
        "protocol": f"paper (A.7) model, optimiser, batch and split; at most {args.epochs} epochs{extra}",
        "hardware": hardware(args.device, args.jobs),
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d"),
        "command": "python benchmarks/reproduce_perov5.py " + " ".join(sys.argv[1:]),
    }
    table = []
    for name, row in main_rows.items():
        pub = published.get(name)
        checkpoint = (
            f"`{Path(pub['checkpoint']).name}` (seed {pub['seed']}, {pub['test_mae']:.4f}, "
            + ("reproduced)" if pub["reproduced"] else f"evaluates to {pub['evaluate_test_mae']:.6f} today)")
            if pub
            else "not published"
        )
        table.append(
            f"| {LABELS.get(name, name)} | {row['test_mae_mean']:.4f} +- {row['test_mae_std']:.4f} | "
            f"{PAPER.get(name, '-')} | {len(row['seeds'])} | {', '.join(map(str, row['epochs_run']))} | "
            f"{statistics.mean(row['epoch_seconds']) / 60:.0f} min | {checkpoint} |"
        )
    variant_rows = {name: _row(runs) for name, runs in results.items() if name in VARIANTS}
    variants, published_variants = [], []
    for as_name, pub in published.items():
        if "variant" in pub:
            published_variants.append(
                f"- `{Path(pub['checkpoint']).name}`: {LABELS[VARIANTS[pub['variant']][0]]}, "
                f"{VARIANTS[pub['variant']][3]} (variant `{pub['variant']}`, seed {pub['seed']}, test MAE "
                f"{pub['test_mae']:.4f}, " + ("reproduced)" if pub["reproduced"]
                                              else f"evaluates to {pub['evaluate_test_mae']:.6f} today)"))
    for name, row in variant_rows.items():
        model, _, study, label = VARIANTS[name]
        base = [r for r in results.get(model, []) if r["seed"] in row["seeds"]]  # the same seeds
        base_text = f"{_row(base)['test_mae_mean']:.4f} ({LABELS[model]})" if base else "-"
        variants.append(
            f"| {study} | {LABELS[model]}, {label} | {row['test_mae_mean']:.4f} +- "
            f"{row['test_mae_std']:.4f} | {', '.join(f'{m:.4f}' for m in row['test_mae'])} | "
            f"{base_text} | {', '.join(map(str, row['seeds']))} |"
        )
    md = "\n".join(
        [
            "<!-- written by benchmarks/reproduce_perov5.py; do not edit by hand -->",
            "",
            f"Protocol: {meta['protocol']}. Hardware: {meta['hardware']}. torch {meta['torch']}. {meta['date']}.",
            (
                f"Command: `{meta['command']}`. Test MAE in eV per cell, mean +- std (population) over seeds; "
                "the published checkpoint is the seed with the lowest validation MAE; `ecn evaluate` on the "
                "committed file gives its test MAE again (checked by the script)."
            ),
            "",
            *(
                [
                    "| model | test MAE (ours) | paper (1000-epoch protocol) | seeds | epochs run | "
                    "training time per run | published checkpoint |",
                    "|---|---|---|---|---|---|---|",
                    *table,
                    "",
                ]
                if table
                else []
            ),
            *(
                [
                    "Variants (same protocol); the last but one column is the unchanged model on the same seeds:",
                    "",
                    "| study | variant | test MAE | per seed | unchanged model | seeds |",
                    "|---|---|---|---|---|---|",
                    *variants,
                    "",
                ]
                if variants
                else []
            ),
            *(["Published variants (the seed with the lowest validation MAE):", "", *published_variants, ""]
              if published_variants else []),
        ]
    )
    summary = {"meta": meta, "rows": main_rows, "published": published, "variants": variant_rows}
    return summary, md


def status(args: argparse.Namespace) -> int:
    """What the run folders hold now, finished or not: ``RESULTS/perov5_progress.{json,md}``."""
    import csv

    rows = []
    for folder in sorted(Path(args.runs).glob("*-seed*")):
        log = folder / "log.csv"
        if not log.exists():
            continue
        epochs = list(csv.DictReader(log.open()))
        if not epochs:
            continue
        import yaml

        config = yaml.safe_load((folder / "config.yaml").read_text())
        best = min(epochs, key=lambda r: float(r["val_mae"]))
        seconds = sorted(float(r["seconds"]) for r in epochs)
        finished = (folder / "metrics.json").exists()
        metrics = json.loads((folder / "metrics.json").read_text()) if finished else {}
        rows.append({"run": folder.name, "model": config["model"], "seed": config["seed"],
                     "gauge": config.get("gauge", "as_given"), "schedule": config.get("lr_schedule", "plateau"),
                     "epochs": len(epochs), "lr": float(epochs[-1]["lr"]), "best_val_mae": float(best["val_mae"]),
                     "best_epoch": int(best["epoch"]), "median_seconds_per_epoch": seconds[len(seconds) // 2],
                     "finished": finished, "test_mae": metrics.get("test_mae")})
    meta = {"hardware": hardware(args.device, args.jobs), "date": time.strftime("%Y-%m-%d %H:%M"),
            "command": f"python benchmarks/reproduce_perov5.py --status --runs {args.runs} --results {args.results}"}
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "perov5_progress.json", {"meta": meta, "runs": rows})
    lines = ["<!-- written by benchmarks/reproduce_perov5.py --status; do not edit by hand -->", "",
             f"State of the runs on {meta['date']} ({meta['hardware']}). Validation MAE in eV per cell; "
             "a run that is not finished has no test MAE yet.", "",
             "| run | gauge | epochs so far | learning rate now | best val MAE (epoch) | s/epoch | test MAE |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        test = f"{r['test_mae']:.4f}" if r["test_mae"] is not None else "unfinished"
        lines.append(f"| {r['run']} | {r['gauge']} | {r['epochs']} | {r['lr']:.2g} | {r['best_val_mae']:.4f} "
                     f"({r['best_epoch']}) | {r['median_seconds_per_epoch']:.0f} | {test} |")
    write_text_atomic(out / "perov5_progress.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--ablation", action="store_true")
    parser.add_argument("--graph-study", action="store_true", help="MPNN and CGCNN with each other's graph rule")
    parser.add_argument("--gauge-study", action="store_true", help="ECN-S_Lambda on the images as the files give them")
    parser.add_argument("--status", action="store_true", help="only report the runs' progress (perov5_progress.*)")
    parser.add_argument("--variants", nargs="*", default=[], choices=sorted(VARIANTS), help="variants by name")
    parser.add_argument("--checkpoints", default="", help="publish into this folder (default: RESULTS/checkpoints)")
    parser.add_argument("--no-publish", action="store_true", help="no checkpoints or figures in RESULTS")
    parser.add_argument("--publish", nargs="+", metavar="NAME",
                        help="publish only these models; the others keep an earlier start's entry while it holds")
    parser.add_argument("--publish-variant", action="append", default=[], metavar="VARIANT=NAME",
                        help="publish a variant's best seed as perov5-NAME (repeatable)")
    parser.add_argument("--ablation-seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--jobs", type=int, default=1, help="runs side by side (CPU: one thread each)")
    parser.add_argument("--first", nargs="*", default=[], metavar="NAME",
                        help="run these models or variants before the others, in this order")
    parser.add_argument("--set", action="append", default=[], help="extra key=value settings for every run")
    parser.add_argument("--runs", default="runs/perov5")
    parser.add_argument("--results", default="docs/results")
    parser.add_argument("--seeds-of", action="append", default=[], metavar="NAME=K,K,...",
                        help="the seeds of one model or variant, instead of --seeds / --ablation-seeds (repeatable)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # kill: stop the runs too (see run_all)
    seeds_of = {}
    for item in args.seeds_of:
        name, sep, seeds = item.partition("=")
        try:
            seeds_of[name] = [int(k) for k in seeds.split(",")]
        except ValueError:
            seeds_of[name] = []
        if not sep or not seeds_of[name] or (name not in MODELS and name not in VARIANTS):
            parser.error(f"expected --seeds-of NAME=K,K,... with a model or variant name, got {item!r}")
    args.seeds_of = seeds_of
    publish_variant = {}
    for item in args.publish_variant:
        variant, _, as_name = item.partition("=")
        if (variant not in VARIANTS or not as_name.replace("-", "").isalnum() or as_name != as_name.lower()
                or as_name in MODELS):
            parser.error(f"expected --publish-variant VARIANT=NAME with a variant name and a new lower-case name of "
                         f"letters, digits and '-', got {item!r}")
        publish_variant[variant] = as_name
    args.publish_variant = publish_variant
    unknown = [name for name in args.first if name not in MODELS and name not in VARIANTS]
    if unknown:
        parser.error(f"expected --first with model or variant names, got {unknown}")
    if args.status:
        return status(args)
    studies = {"ablation"} if args.ablation else set()
    studies |= {"graph"} if args.graph_study else set()
    studies |= {"gauge"} if args.gauge_study else set()
    plan = [(m, []) for m in args.models] + [
        (name, v[1]) for name, v in VARIANTS.items() if v[2] in studies or name in args.variants
    ]
    results = run_all(plan, args)
    summary, md = summarise(results, args)
    if summary["published"]:  # published names resolve, sha256-checked, to the new files
        from ecn.pretrained import write_registry

        write_registry(Path(args.checkpoints or Path(args.results) / "checkpoints"))
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "perov5.json", summary)
    write_text_atomic(out / "perov5.md", md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
