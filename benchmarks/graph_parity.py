"""Edge-for-edge parity of ecn's supercell graphs with pymatgen's IsayevNN(tol=0.5, cutoff=6.0).

For every structure of the chosen datasets (default: perov_5 all splits and carbon_24 val/test,
read from $ECN_DATA_DIR), builds the 2x2x2 graph with ``ecn.data.crystal_graph`` and with
pymatgen's own ``IsayevNN`` on the same supercell, and compares the multisets of
``(site_i, site_j, (cell_j - cell_i) mod 2, length rounded to 1e-4 A)``.

Results go to ``OUT/<dataset>-<split>.jsonl``, one line per structure, appended as they come, so an
interrupted run resumes where it stopped. A summary (counts, every disagreement and every
pymatgen failure) is printed and written to ``OUT/summary.json``.

    python benchmarks/graph_parity.py --out benchmarks/results/parity [--every 1] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _util import write_json_atomic  # noqa: E402

from ecn.data.datasets import iter_csv_rows  # noqa: E402
from ecn.data.graph import crystal_graph  # noqa: E402
from ecn.data.parity import compare_rows, parity_rows  # noqa: E402
from ecn.data.structures import crystal_from_cif, isayev_reference_edges  # noqa: E402

SPLITS = {"perov_5": ("train", "val", "test"), "carbon_24": ("val", "test")}


def check(item):
    material_id, cif = item
    out = {"id": material_id}
    try:
        crystal = crystal_from_cif(cif, id=material_id)
        t0 = time.perf_counter()
        ours = parity_rows(
            crystal_graph(crystal, gauge="as_given", neighbor_tol=0.0)
        )  # pymatgen: images as written, Qhull faces
        t1 = time.perf_counter()
    except Exception as exc:  # reported, never fatal
        return {**out, "status": "ours_failed", "error": f"{type(exc).__name__}: {exc}"}
    try:
        reference = isayev_reference_edges(crystal)
        t2 = time.perf_counter()
    except Exception as exc:
        return {**out, "status": "pymatgen_failed", "error": f"{type(exc).__name__}: {exc}", "edges": len(ours)}
    result = compare_rows(ours, reference)
    out.update(status="equal" if result.equal else "differ", edges=len(ours), ours_s=t1 - t0, pymatgen_s=t2 - t1)
    if not result.equal:
        out.update(only_ours=result.only_ours[:50], only_pymatgen=result.only_reference[:50])
    return out


def run(data_dir: Path, out: Path, every: int, workers: int, datasets) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for name in datasets:
        for split in SPLITS[name]:
            path = data_dir / name / f"{split}.csv.gz"
            log = out / f"{name}-{split}.jsonl"
            done = set()
            if log.exists():
                for line in log.read_text().splitlines():
                    try:
                        done.add(json.loads(line)["id"])
                    except (json.JSONDecodeError, KeyError):
                        pass  # a line cut by a kill: that structure is redone
            todo = [
                (r["id"], r["cif"]) for k, r in enumerate(iter_csv_rows(path)) if k % every == 0 and r["id"] not in done
            ]
            print(f"{name}/{split}: {len(done)} done before, {len(todo)} to check", flush=True)
            with log.open("a") as fh, mp.Pool(workers) as pool:
                for k, res in enumerate(pool.imap_unordered(check, todo, chunksize=8)):
                    fh.write(json.dumps(res) + "\n")
                    if k % 200 == 0:
                        fh.flush()
                        print(f"  {k}/{len(todo)}", flush=True)
            rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
            counts = {}
            for r in rows:
                counts[r["status"]] = counts.get(r["status"], 0) + 1
            summary[f"{name}/{split}"] = {
                "checked": len(rows),
                "counts": counts,
                "differ": [r for r in rows if r["status"] == "differ"],
                "pymatgen_failed": [
                    {"id": r["id"], "error": r["error"]} for r in rows if r["status"] == "pymatgen_failed"
                ],
                "ours_failed": [{"id": r["id"], "error": r["error"]} for r in rows if r["status"] == "ours_failed"],
                "ours_ms_mean": 1000 * sum(r.get("ours_s", 0) for r in rows) / max(1, sum("ours_s" in r for r in rows)),
                "pymatgen_ms_mean": 1000
                * sum(r.get("pymatgen_s", 0) for r in rows)
                / max(1, sum("pymatgen_s" in r for r in rows)),
            }
            print(f"{name}/{split}: {counts}", flush=True)
    write_json_atomic(out / "summary.json", summary)
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("ECN_DATA_DIR", "../shared/data"))
    parser.add_argument("--out", default="benchmarks/results/parity")
    parser.add_argument("--every", type=int, default=1, help="check every k-th structure (1 = all)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--datasets", nargs="+", default=list(SPLITS), choices=list(SPLITS))
    args = parser.parse_args(argv)
    summary = run(Path(args.data_dir), Path(args.out), args.every, args.workers, args.datasets)
    total = {}
    for part in summary.values():
        for k, v in part["counts"].items():
            total[k] = total.get(k, 0) + v
    print("total:", total)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
