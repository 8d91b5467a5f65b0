"""Training throughput of ECN-S_Lambda against a plain MPNN of the same width on the same graphs.

Both models run forward + backward + an AdamW step on the same batches of Perov-5 2x2x2 supercell
graphs (batch 128, width 100, 6 layers, edge embedding 20: the paper's sizes). The plain MPNN is
the same scaffold with one colour and no same-atom branch, so the ratio isolates the cost of the
colouring. The target is ECN-S >= 0.7x the MPNN's structures per second.

It also measures this machine's matmul rate (torch.mm at the edge MLP's shapes) and reports the
fraction of it that the edge MLPs of ECN-S reach (their multiply-adds per step / step time).

    python benchmarks/train_throughput.py [--structures 1024] [--steps 6] [--device cpu|cuda] [--json FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from _util import write_json_atomic  # noqa: E402
from ecn.data import FeatureSettings, collate, load_dataset  # noqa: E402
from ecn.data.graph import GraphSettings  # noqa: E402
from ecn.models import ModelConfig, build_model  # noqa: E402


def timed_steps(model, batches, steps, device):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()

    def step(batch):
        loss = (model(batch).squeeze(-1) - batch.y.squeeze(-1)).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step(batches[0])  # warm-up
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
    return done / (time.perf_counter() - t0), (time.perf_counter() - t0) / steps


def matmul_rate(m, k, n, device, repeat=20):
    a, b = torch.randn(m, k, device=device), torch.randn(k, n, device=device)
    torch.mm(a, b)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeat):
        torch.mm(a, b)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return 2 * m * k * n * repeat / (time.perf_counter() - t0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    graphs, _ = load_dataset("perov5", "train", ["heat_all"], GraphSettings(), limit=args.structures, progress=False)
    feats = FeatureSettings()
    batches = [collate(graphs[k:k + 128], group="S", target_names=["heat_all"], features=feats).to(device)
               for k in range(0, len(graphs) - 127, 128)]
    torch.manual_seed(0)
    ecn = build_model(ModelConfig(name="ecn-s", node_in=feats.node_dim(8), num_colors=2)).to(device)
    plain = build_model(ModelConfig(name="ecn-s", node_in=feats.node_dim(8), num_colors=1, delta=False)).to(device)
    rate_ecn, step_ecn = timed_steps(ecn, batches, args.steps, device)
    from dataclasses import replace

    uncoloured = [replace(b, edge_color=torch.zeros_like(b.edge_color)) for b in batches]
    rate_plain, step_plain = timed_steps(plain, uncoloured, args.steps, device)
    edges = sum(b.edge_index.shape[1] for b in batches) / len(batches)
    same = sum(int(b.same_site.sum()) for b in batches) / len(batches)
    # edge MLP multiply-adds per step (forward x 3 for forward + backward): first (220 -> 100), hidden, out
    per_edge = (2 * 100 + 20) * 100 + 100 * 100 + 100 * 100
    flops = 2 * 3 * 6 * per_edge * (edges + same)
    peak = matmul_rate(int(edges), 220, 100, device)
    result = {
        "device": str(device), "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "torch": torch.__version__, "threads": torch.get_num_threads(), "batch": 128, "edges_per_batch": edges,
        "ecn_s_structures_per_s": rate_ecn, "mpnn_structures_per_s": rate_plain, "ratio": rate_ecn / rate_plain,
        "matmul_gflops": peak / 1e9, "edge_mlp_gflops": flops / step_ecn / 1e9, "edge_mlp_fraction_of_matmul": flops / step_ecn / peak,
    }
    print(f"{result['machine']}, torch {torch.__version__}, {result['threads']} threads, device {device}")
    print(f"ECN-S_Lambda: {rate_ecn:8.1f} structures/s   plain MPNN (same width, same graphs): {rate_plain:8.1f} structures/s"
          f"   ratio {result['ratio']:.2f} [{'met' if result['ratio'] >= 0.7 else 'MISSED'}: >= 0.7]")
    print(f"matmul at the edge MLP's shape ({int(edges)} x 220 x 100): {peak / 1e9:.1f} GFLOP/s; "
          f"ECN-S edge MLPs reach {flops / step_ecn / 1e9:.1f} GFLOP/s = {100 * result['edge_mlp_fraction_of_matmul']:.0f} % of it")
    if args.json:
        write_json_atomic(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
