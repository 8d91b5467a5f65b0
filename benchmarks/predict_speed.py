"""Prediction speed: ``ecn predict``'s streaming path against one structure at a time, in one run.

For each published Perov-5 checkpoint named (default ECN-S_Lambda and CGCNN), on the first
``--structures`` rows of the Perov-5 test split (CIF text from $ECN_DATA_DIR, CIF parsing
included in every time):

* ``one_at_a_time``: the previous ``predict_files`` loop, per structure: parse the CIF, build the
  graph, batch it alone and run the model (first ``--single`` rows only);
* ``streamed``: :meth:`ecn.predict.Predictor.stream` with ``--workers`` graph-building processes
  and batches of ``--batch-size`` (what ``ecn predict`` runs), and the same with no worker
  process (``in_process``);
* ``stages``: where one core's time goes, in milliseconds per structure, on one thread: parsing
  the CIF, building the graph (of which finding the bonds), the gauges (frames), collating and
  the forward passes, with the mean number of gauges a structure is averaged over and of the
  forward passes that takes once gauges that no message-passing network can tell apart are merged.

``--checkpoint NAME=PATH`` (repeatable) adds any other checkpoint, e.g. a run's ``best.pt``.

Writes ``benchmarks/results/predict_speed.json`` with the machine (CPU, cores, load average before
and after, torch) so that numbers from a busy machine are recognisable as such.

    python benchmarks/predict_speed.py [--structures 2000] [--single 200] [--workers 2] [--models ecn-s cgcnn]
                                       [--checkpoint ecn-s-tree=runs/ecn-s/best.pt]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import torch  # noqa: E402
from _util import cpu_name, write_json_atomic  # noqa: E402

from ecn.checkpoint import load_checkpoint  # noqa: E402
from ecn.data import crystal_from_cif, crystal_graph, dataset_file, iter_csv_rows  # noqa: E402
from ecn.predict import Predictor  # noqa: E402
from ecn.train import Normalizer, _config_of, _predict, graph_settings, model_from_checkpoint  # noqa: E402


def one_at_a_time(path: Path, rows) -> float:
    payload = load_checkpoint(path)
    config = _config_of(payload)
    model = model_from_checkpoint(payload)
    normalizer = Normalizer.from_dict(payload["normalizer"])
    settings = graph_settings(config)
    t0 = time.perf_counter()
    for row in rows:
        graph = crystal_graph(crystal_from_cif(row["cif"], id=row["id"]), settings=settings)
        _predict(model, [graph], config, normalizer, torch.device("cpu"))
    return time.perf_counter() - t0


def streamed(path: Path, rows, workers: int, batch_size: int) -> tuple[float, int]:
    predictor = Predictor([path])
    items = [("cif", f"test.csv:{k}", row["id"], row["cif"]) for k, row in enumerate(rows, start=1)]
    t0 = time.perf_counter()
    done = sum(1 for r in predictor.stream(items, batch_size=batch_size, workers=workers) if r.ok)
    return time.perf_counter() - t0, done


def stages(path: Path, rows) -> dict:
    """Milliseconds per structure of each step of the in-process path, on one thread."""
    from ecn.data.graph import reduced_basis, unit_cell_edges

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    member = Predictor([path]).members[0]
    settings, n = member.settings, len(rows)

    def timed(work):
        t0 = time.perf_counter()
        out = work()
        return out, 1e3 * (time.perf_counter() - t0) / n

    try:
        crystals, cif = timed(lambda: [crystal_from_cif(r["cif"], id=r["id"]) for r in rows])
        _, bonds = timed(lambda: [unit_cell_edges(reduced_basis(c, settings), settings) for c in crystals])
        graphs, graph = timed(lambda: [crystal_graph(c, settings=settings) for c in crystals])
        _, frames = timed(lambda: [g.frames(member.make_batch.group) for g in graphs])
        size = 256
        batches, collate = timed(lambda: [member.make_batch(graphs[k:k + size]) for k in range(0, n, size)])
        member.model.eval()
        with torch.no_grad():
            _, forward = timed(lambda: [member.model(b) for b in batches])
    finally:
        torch.set_num_threads(threads)
    return {"cif_ms": cif, "graph_ms": graph, "of_which_bonds_ms": bonds, "frames_ms": frames,
            "collate_ms": collate, "forward_ms": forward, "total_ms": cif + graph + collate + forward,
            "gauges_per_structure": sum(len(g.frames(member.make_batch.group)) for g in graphs) / n
            if member.make_batch.frames else 1.0,
            "forward_passes_per_structure": sum(b.num_graphs for b in batches) / n}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=int, default=2000)
    parser.add_argument("--single", type=int, default=200)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--models", nargs="+", default=["ecn-s", "cgcnn"])
    parser.add_argument("--checkpoint", action="append", default=[], metavar="NAME=PATH",
                        help="another checkpoint to time (repeatable)")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "predict_speed.json"))
    args = parser.parse_args(argv)
    rows = []
    for row in iter_csv_rows(dataset_file("perov5", "test")):
        rows.append(row)
        if len(rows) >= args.structures:
            break
    result = {"machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version(), "torch": torch.__version__,
                          "load_average_before": list(os.getloadavg())},
              "structures": len(rows), "single_structures": min(args.single, len(rows)), "workers": args.workers,
              "batch_size": args.batch_size, "models": {}}
    paths = {f"perov5-{name}": ROOT / "docs" / "results" / "checkpoints" / f"perov5-{name}.pt" for name in args.models}
    for item in args.checkpoint:
        name, sep, path = item.partition("=")
        if not sep or not name or not Path(path).is_file():
            parser.error(f"expected --checkpoint NAME=PATH of an existing file, got {item!r}")
        paths[name] = Path(path)
    for name, path in paths.items():
        single = one_at_a_time(path, rows[:args.single])
        fast, done = streamed(path, rows, args.workers, args.batch_size)
        local, _ = streamed(path, rows, 0, args.batch_size)
        entry = {"one_at_a_time_per_second": result["single_structures"] / single,
                 "streamed_per_second": done / fast, "in_process_per_second": len(rows) / local,
                 "streamed_seconds": fast, "predicted": done, "checkpoint": str(path),
                 "stages": stages(path, rows)}
        entry["speedup"] = entry["streamed_per_second"] / entry["one_at_a_time_per_second"]
        result["models"][name] = entry
        st = entry["stages"]
        print(f"{name}: one at a time {entry['one_at_a_time_per_second']:.0f}/s, streamed "
              f"({args.workers} workers) {entry['streamed_per_second']:.0f}/s, in process "
              f"{entry['in_process_per_second']:.0f}/s, x{entry['speedup']:.1f}; ms per structure on one thread: CIF "
              f"{st['cif_ms']:.1f}, graph {st['graph_ms']:.1f} (bonds {st['of_which_bonds_ms']:.1f}), collate "
              f"{st['collate_ms']:.1f}, forward {st['forward_ms']:.1f} over {st['gauges_per_structure']:.1f} gauges "
              f"({st['forward_passes_per_structure']:.1f} after merging those alike)",
              flush=True)
    result["machine"]["load_average_after"] = list(os.getloadavg())
    write_json_atomic(args.json, result)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
