"""Training throughput on Perov-5: every model, the quotient form of ECN against the explicit supercell.

Each model runs forward + backward + an AdamW step on the same Perov-5 training structures (batch
128, the paper's width 100, 6 layers, edge embedding 20), with the batches its training run would
make (``ecn.train.collater``, compressed where training compresses, and ECN-S_Lambda on the paper's
bonds and on the radius graph without compression too): ECN-S_Lambda, ECN-P-1 and ECN-G_Lambda on
the quotient graph (one node per site, the default), ECN-S_Lambda on the explicit 2x2x2 supercell
with the cell one-hot and 8 colours of weights (as the 8-epoch table in docs/results trained it),
the unit-cell MPNN, CGCNN and MEGNet; at 1 and 2 threads, all in one process, so the ratios compare
like with like. Targets: ECN-S_Lambda (quotient) >= 0.9x the MPNN and >= 8x the explicit supercell
model.

It also measures the matmul rate at the edge MLP's shape and the GFLOP/s that ECN-S's edge MLPs
reach, and (``--compile``) ``torch.compile`` against eager for ECN-S (quotient), checked to agree.

    python benchmarks/train_throughput.py [--structures 1024] [--steps 8] [--threads 1 2] [--compile]

Results: printed, and written to benchmarks/results/train_throughput.json (``--json`` to change).
Run it on an otherwise idle machine: other processes on the same cores change every figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from _util import cpu_name, write_json_atomic  # noqa: E402

from ecn.config import TrainConfig  # noqa: E402
from ecn.data import load_dataset  # noqa: E402
from ecn.models import ModelConfig, build_model, num_colors_for  # noqa: E402
from ecn.train import collater, feature_settings, graph_settings  # noqa: E402

#: name -> (model, settings, colours of weights or None for the model's own count, compressed batches).
#: Training compresses the batches of the ECN models and the MPNN (equal edges merged and counted,
#: ``collate(..., compress_edges=True)``); the "uncompressed" rows run every edge, for the ratio.
VARIANTS = {
    "ecn-s": ("ecn-s", {}, None, True),
    "ecn-s uncompressed": ("ecn-s", {}, None, False),
    "ecn-s radius": ("ecn-s", {"neighbors": "radius"}, None, True),
    "ecn-s radius uncompressed": ("ecn-s", {"neighbors": "radius"}, None, False),
    "ecn-p1": ("ecn-p1", {}, None, True),
    "ecn-g": ("ecn-g", {}, None, True),
    "ecn-s explicit + cell one-hot": ("ecn-s", {"cell_onehot": True}, 8, False),
    "mpnn": ("mpnn", {}, None, True),
    "cgcnn": ("cgcnn", {}, None, False),
    "megnet": ("megnet", {}, None, False),
}




def make_batches(name: str, structures: int, device):
    model, settings, colors, compress = VARIANTS[name]
    config = TrainConfig(model=model, **settings)
    graphs, _ = load_dataset("perov5", "train", ["heat_all"], graph_settings(config), limit=structures, progress=False)
    make = collater(config, frames=False, compress=compress)  # what training feeds: one gauge per structure
    batches = [make(graphs[k:k + 128]).to(device) for k in range(0, len(graphs) - 127, 128)]
    num_cells = graphs[0].num_cells
    model_config = ModelConfig(name=model, node_in=feature_settings(config).node_dim(num_cells),
                               num_colors=colors or num_colors_for(model))
    return batches, model_config


def step_fn(model):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step(batch):
        loss = (model(batch).squeeze(-1) - batch.y.squeeze(-1)).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return step


def timed(step, batches, steps, device) -> float:
    """Structures per second over ``steps`` training steps, after two warm-up steps."""
    for b in batches[:2]:
        step(b)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    done = 0
    for k in range(steps):
        b = batches[k % len(batches)]
        step(b)
        done += b.num_graphs
    if device.type == "cuda":
        torch.cuda.synchronize()
    return done / (time.perf_counter() - t0)


def matmul_rate(m, k, n, device, repeat=30) -> float:
    a, b = torch.randn(m, k, device=device), torch.randn(k, n, device=device)
    torch.mm(a, b)
    t0 = time.perf_counter()
    for _ in range(repeat):
        torch.mm(a, b)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return 2 * m * k * n * repeat / (time.perf_counter() - t0)


def edge_mlp_flops(batch, width=100, edge_dim=20, layers=6) -> float:
    """Multiply-adds x 2 of the edge MLPs in one training step (forward x 3 for forward + backward):
    the per-colour first layer (its edge term per edge, its node terms per node and colour), hidden and
    output layers, for all edges and for the same-site branch's edges."""
    E, N, C = batch.edge_index.shape[1], batch.num_nodes, batch.num_edge_colors
    same = int(batch.same_site.sum())
    per_edge = edge_dim * width + 2 * width * width
    per_node = 2 * width * C * width
    forward = (E + same) * per_edge + 2 * N * per_node
    return 2 * 3 * layers * forward


def compile_check(batches, model_config, steps, device) -> dict:
    """torch.compile against eager for one model: speed, and the largest difference of the loss."""
    torch.manual_seed(0)
    eager = build_model(model_config).to(device)
    torch.manual_seed(0)
    compiled_model = build_model(model_config).to(device)
    try:
        compiled = torch.compile(compiled_model, dynamic=True)
        t0 = time.perf_counter()
        step_c = step_fn(compiled)
        for b in batches[:2]:
            step_c(b)
        compile_seconds = time.perf_counter() - t0
    except Exception as exc:  # no C compiler, or an unsupported operation
        return {"available": False, "reason": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
    step_e = step_fn(eager)
    for b in batches[:2]:
        step_e(b)
    diff = 0.0
    for b in batches[2:4]:
        diff = max(diff, abs(float(step_e(b).detach()) - float(step_c(b).detach())))
    rate_eager = timed(step_e, batches, steps, device)
    rate_compiled = timed(step_c, batches, steps, device)
    return {"available": True, "compile_seconds": compile_seconds, "eager_structures_per_s": rate_eager,
            "compiled_structures_per_s": rate_compiled, "speedup": rate_compiled / rate_eager,
            "max_loss_difference_after_4_steps": diff}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--models", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--compile", action="store_true", help="also time torch.compile for ECN-S (quotient)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--json", default=str(Path(__file__).parent / "results" / "train_throughput.json"))
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    data = {name: make_batches(name, args.structures, device) for name in args.models}
    result = {
        "device": str(device),
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "batch": 128,
        "structures": args.structures,
        "steps": args.steps,
        "width": 100,
        "layers": 6,
        "command": "python benchmarks/train_throughput.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "threads": {},
    }
    print(f"{result['cpu']} ({result['cores']} cores), torch {torch.__version__}, device {device}")
    for threads in args.threads:
        torch.set_num_threads(threads)
        rates = {}
        for name in args.models:
            batches, model_config = data[name]
            torch.manual_seed(0)
            model = build_model(model_config).to(device)
            rates[name] = {
                "structures_per_s": timed(step_fn(model), batches, args.steps, device),
                "nodes_per_batch": sum(b.num_nodes for b in batches) / len(batches),
                "edges_per_batch": sum(b.edge_index.shape[1] for b in batches) / len(batches),
                "num_colors": model_config.num_colors,
                "parameters": sum(p.numel() for p in model.parameters()),
            }
        entry = {"rates": rates}
        for plain in ("ecn-s", "ecn-s radius"):
            if plain in rates and f"{plain} uncompressed" in rates:
                entry[f"{plain.replace(' ', '_').replace('-', '_')}_compressed_vs_uncompressed"] = (
                    rates[plain]["structures_per_s"] / rates[f"{plain} uncompressed"]["structures_per_s"])
        if "ecn-s" in rates:
            q = rates["ecn-s"]["structures_per_s"]
            if "mpnn" in rates:
                entry["ecn_s_vs_mpnn"] = q / rates["mpnn"]["structures_per_s"]
            if "ecn-s explicit + cell one-hot" in rates:
                entry["ecn_s_quotient_vs_explicit"] = q / rates["ecn-s explicit + cell one-hot"]["structures_per_s"]
            batch = data["ecn-s"][0][0]
            flops = edge_mlp_flops(batch)
            peak = matmul_rate(int(batch.edge_index.shape[1]), 100, 100, device)
            step_seconds = 128 / q
            entry.update(
                matmul_gflops=peak / 1e9,
                edge_mlp_gflops_lower_bound=flops / step_seconds / 1e9,
                edge_mlp_fraction_of_matmul_lower_bound=flops / step_seconds / peak,
            )
        result["threads"][str(threads)] = entry
        print(f"\n{threads} thread(s): structures per second (training steps, batch 128)")
        for name, r in rates.items():
            print(
                f"  {name:32s} {r['structures_per_s']:8.1f}   ({r['nodes_per_batch']:.0f} nodes, "
                f"{r['edges_per_batch']:.0f} edges per batch, {r['num_colors']} colours, "
                f"{r['parameters']:,} parameters)"
            )
        for key in ("ecn_s_vs_mpnn", "ecn_s_quotient_vs_explicit"):
            if key in entry:
                print(f"  {key}: {entry[key]:.2f}")
        if "matmul_gflops" in entry:
            print(
                f"  matmul ({int(data['ecn-s'][0][0].edge_index.shape[1])} x 100 x 100): {entry['matmul_gflops']:.1f} "
                f"GFLOP/s; ECN-S edge MLPs at least {entry['edge_mlp_gflops_lower_bound']:.1f} GFLOP/s "
                f"({100 * entry['edge_mlp_fraction_of_matmul_lower_bound']:.0f} %; the whole step's time counted)"
            )
    if args.compile and "ecn-s" in data:
        torch.set_num_threads(args.threads[0])
        result["compile"] = {"threads": args.threads[0], **compile_check(*data["ecn-s"], args.steps, device)}
        print(f"\ntorch.compile, ECN-S (quotient), {args.threads[0]} thread(s): {result['compile']}")
    write_json_atomic(args.json, result)
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
