#!/usr/bin/env python
"""Benchmark: orbits of the cubic lattice group on ordered pairs of supercell cells.

Run from the repository root::

    .venv/bin/python benchmarks/bench_pair_orbits.py [--n 10] [--repeat 5] [--json FILE]

What is compared
----------------
The group is ``T x| P`` with ``P`` the holohedry of the primitive cubic lattice
(``bravais_group("cP").point_group``, Pm-3m, 48 elements) and ``T`` the translations of an
``n x n x n`` periodic supercell, acting on its ``N = n^3`` cells (default ``n = 10``: 1000 cells,
``10^6`` ordered pairs). All methods answer the same question -- which ordered pairs of cells are
related by a symmetry -- and all run in this one process, on the same inputs:

1. **fast path**, :func:`crystalgroups.orbits.lattice_pair_orbits`, given the point-group
   generators and ``Supercell.diagonal(n, n, n)``: it labels the difference vectors by the orbits
   of ``P`` and writes the full ``N x N`` colour matrix. Timed once with the 3 generators of
   ``P`` and once with all 48 elements (the form :meth:`LatticeGroup.pair_orbits` uses).
2. **generic path**, :func:`crystalgroups.orbits.pair_orbits` on
   ``LatticeGroup(pg, (n, n, n)).generators`` (the cell permutations of the 3 unit translations
   and the 3 point-group generators): connected components of the graph on all ``N^2`` pairs.
   It knows nothing about translations and would work for any permutation group.
3. **sympy**, its fastest route to the same information: a
   ``sympy.combinatorics.PermutationGroup`` built from the *same* cell-permutation generators,
   then ``G.stabilizer(0).orbits()``. Because the translations act transitively on the cells,
   the orbits of ``G`` on pairs are in bijection with the orbits of the stabiliser ``G_0`` on
   cells (``(a, b) ~ (0, g^-1 b)`` for any ``g`` with ``g(0) = a``). (Alternatives tried while
   writing this benchmark -- ``schreier_sims_incremental(base=[0])`` and ``schreier_sims()`` with
   ``basic_stabilizers[1]`` -- were about 1.7x and 2.1x slower for n = 10.)

Why the comparison is fair, and favours sympy
---------------------------------------------
sympy's answer is a list of ``N`` cells split into a few dozen orbits; the crystalgroups paths
return the full ``N x N`` (``10^6`` entry, 8 MB) matrix of canonical colours, and the fast path
also builds the cell permutations from the integer matrices itself. Turning sympy's stabiliser
orbits into that matrix would cost sympy extra, and none of that is charged. sympy's timing does
include building its group from the integer generator arrays (``Permutation(list)``), since that
is the only way in; the generic path's timing likewise includes building the ``LatticeGroup``
and its generators, and the fast path's includes building the ``Supercell``. Every method is
called once to warm up and then timed ``repeat`` times with :func:`time.perf_counter`; the best
(minimum) time is reported, with the garbage collector paused during each timed call (as
:mod:`timeit` does), which helps the allocation-heavy sympy code most.

Correctness is checked in the same run: fast (generators) == generic, elementwise over all
``N^2`` pairs; fast (generators) == fast (48 elements); the number of sympy stabiliser orbits
equals the number of colours; and row 0 of the colour matrix induces exactly sympy's partition
of the cells. The script exits with status 1 if a check fails (and, with ``--strict``, with
status 2 if a speed target is missed; timings are machine-dependent, so targets are reported
but not enforced by default).

Targets: the fast path (generators) at least 100x faster than sympy; the generic path under
3 seconds.

The default call
----------------
What a user runs is ``crystalgroups.pattern("cP", (n, n, n))`` with default arguments: it builds
the ``LatticeGroup``, its generators and orders, the colour matrix and the ``Pattern``. That call
is timed the same way (4.), against sympy in the same run (target: at least 100x faster); the
excess-symmetry search it skips by default above 64 cells is timed once, for reference
(``warn=True``). Finally the default call on a ``--big-n`` (default 20) cube, 8,000 cells and a
64,000,000-entry colour matrix, runs in a fresh subprocess that reports its wall time and peak
resident memory (targets: under 2 s and 1 GB).

Every figure goes to ``benchmarks/results/bench_pair_orbits.json`` (or ``--json FILE``), which
``docs/benchmarks.md`` quotes.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

import json  # noqa: E402
import subprocess  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import sympy  # noqa: E402
from _util import write_json_atomic  # noqa: E402
from sympy.combinatorics import Permutation  # noqa: E402
from sympy.combinatorics import PermutationGroup as SympyPermutationGroup  # noqa: E402

import crystalgroups  # noqa: E402
from crystalgroups.bravais import bravais_group  # noqa: E402
from crystalgroups.groups import LatticeGroup  # noqa: E402
from crystalgroups.orbits import lattice_pair_orbits, pair_orbits  # noqa: E402
from crystalgroups.supercell import Supercell  # noqa: E402

FAST_SPEEDUP_TARGET = 100.0  # fast path at least this many times faster than sympy
DEFAULT_SPEEDUP_TARGET = 100.0  # the default pattern() call at least this many times faster than sympy
GENERIC_LIMIT_S = 3.0  # generic path under this many seconds
BIG_LIMIT_S, BIG_LIMIT_MB = 2.0, 1024.0  # the default call on 20^3 cells
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "bench_pair_orbits.json"

BIG_SCRIPT = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
import crystalgroups
n = int(sys.argv[1])
crystalgroups.bravais_group("cP").point_group  # the table of Bravais types, built once per process
start = time.perf_counter()
p = crystalgroups.pattern("cP", (n, n, n))
wall = time.perf_counter() - start
print(json.dumps({"seconds": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "cells": p.num_nodes, "colours": p.num_edge_colors}))
"""


def run_big(n: int) -> dict[str, Any]:
    """The default call on an n^3 cube in a fresh process: wall time and peak resident memory."""
    out = subprocess.run([sys.executable, "-c", BIG_SCRIPT, str(n), str(ROOT)], capture_output=True, text=True,
                         check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return json.loads(out.stdout)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Call ``fn`` once to warm up, then ``repeat`` times timed; return (seconds, warm-up result)."""
    result = fn()
    times = []
    for _ in range(repeat):
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        finally:
            if gc_was_enabled:
                gc.enable()
    return times, result


def machine_info() -> dict[str, Any]:
    """Processor, CPU count and library versions."""
    processor = platform.processor()
    if not processor:  # often empty on Linux; fall back to the kernel's model name
        try:
            with open("/proc/cpuinfo") as f:
                processor = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
        except OSError:
            processor = ""
    return {
        "processor": processor or "unknown",
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sympy": sympy.__version__,
    }


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labellings of the same points induce the same partition (a bijection of labels)."""
    a, b = np.asarray(a), np.asarray(b)
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


def run(n: int, repeat: int, sympy_repeat: int) -> dict[str, Any]:
    pg = bravais_group("cP").point_group
    num_cells = n**3
    # The cell permutations sympy starts from (the generic path rebuilds them in its timed call).
    cell_gens = LatticeGroup(pg, (n, n, n)).generators

    def fast_generators():
        return lattice_pair_orbits(pg.generators, Supercell.diagonal(n, n, n))

    def fast_elements():
        return lattice_pair_orbits(pg.elements, Supercell.diagonal(n, n, n))

    def generic():
        return pair_orbits(LatticeGroup(pg, (n, n, n)).generators)

    def sympy_stabiliser_orbits():
        G = SympyPermutationGroup([Permutation(g.tolist()) for g in cell_gens])
        return G.stabilizer(0).orbits()

    def default_call():
        return crystalgroups.pattern("cP", (n, n, n))

    def with_excess_check():
        return crystalgroups.pattern("cP", (n, n, n), warn=True)

    t_fast, fast = timed(fast_generators, repeat)
    t_default, default = timed(default_call, repeat)
    t_excess, _ = timed(with_excess_check, 1)
    t_fast48, fast48 = timed(fast_elements, repeat)
    t_generic, gen = timed(generic, repeat)
    t_sympy, sy_orbits = timed(sympy_stabiliser_orbits, sympy_repeat)

    # ---- correctness -------------------------------------------------------------------------
    num_colours = int(fast.max()) + 1
    sy_label = np.full(num_cells, -1, dtype=np.int64)
    for k, orbit in enumerate(sy_orbits):
        sy_label[list(orbit)] = k
    covers = bool(np.all(sy_label >= 0)) and sum(len(o) for o in sy_orbits) == num_cells
    checks = {
        "fast_equals_generic": bool(fast.shape == (num_cells, num_cells) and np.array_equal(fast, gen)),
        "fast_generators_equals_fast_elements": bool(np.array_equal(fast, fast48)),
        "default_call_equals_fast": bool(np.array_equal(default.edge_colors, fast)),
        "sympy_orbit_count_equals_colours": len(sy_orbits) == num_colours,
        "row0_partition_equals_sympy_orbits": covers and same_partition(fast[0], sy_label),
    }

    best = {k: min(v) for k, v in
            {"fast": t_fast, "fast48": t_fast48, "generic": t_generic, "sympy": t_sympy,
             "default": t_default}.items()}
    targets = {
        "fast_at_least_100x_faster_than_sympy": best["sympy"] / best["fast"] >= FAST_SPEEDUP_TARGET,
        "default_call_at_least_100x_faster_than_sympy": best["sympy"] / best["default"] >= DEFAULT_SPEEDUP_TARGET,
        "generic_under_3_s": best["generic"] < GENERIC_LIMIT_S,
    }

    def ms(ts: list[float]) -> dict[str, Any]:
        return {"best_ms": 1e3 * min(ts), "median_ms": 1e3 * statistics.median(ts),
                "all_ms": [1e3 * t for t in ts], "repeats": len(ts)}

    return {
        "bravais_type": "cP",
        "point_group_order": pg.order,
        "point_group_generators": len(pg.generators),
        "supercell": [n, n, n],
        "cells": num_cells,
        "ordered_pairs": num_cells**2,
        "colours": num_colours,
        "sympy_stabiliser_orbits": len(sy_orbits),
        "timings": {
            "default_pattern_call": ms(t_default),
            "pattern_call_with_excess_check": ms(t_excess),
            "fast_generators": ms(t_fast),
            "fast_all_elements": ms(t_fast48),
            "generic": ms(t_generic),
            "sympy_stabilizer_orbits": ms(t_sympy),
        },
        "ratios": {
            "sympy_over_default_call": best["sympy"] / best["default"],
            "sympy_over_fast": best["sympy"] / best["fast"],
            "sympy_over_fast_all_elements": best["sympy"] / best["fast48"],
            "sympy_over_generic": best["sympy"] / best["generic"],
        },
        "checks": checks,
        "targets": targets,
        "target_values": {"fast_speedup_min": FAST_SPEEDUP_TARGET, "default_speedup_min": DEFAULT_SPEEDUP_TARGET,
                          "generic_max_s": GENERIC_LIMIT_S, "big_max_s": BIG_LIMIT_S, "big_max_mb": BIG_LIMIT_MB},
        "machine": machine_info(),
    }


def report(r: dict[str, Any]) -> str:
    n = r["supercell"][0]
    t, ratio, m = r["timings"], r["ratios"], r["machine"]
    sy = t["sympy_stabilizer_orbits"]["best_ms"]
    lines = [
        f"Pair orbits of cP (Pm-3m, |P| = {r['point_group_order']}) on a {n} x {n} x {n} supercell: "
        f"{r['cells']:,} cells, {r['ordered_pairs']:,} ordered pairs",
        f"machine: {m['processor']} ({m['machine']}), {m['cpu_count']} CPUs; Python {m['python']}, "
        f"numpy {m['numpy']}, scipy {m['scipy']}, sympy {m['sympy']}",
        "",
        f"{'method':<52} {'output':<22} {'best ms':>10} {'median ms':>10} {'runs':>5} {'sympy/this':>11}",
    ]
    rows = [
        ("default call, pattern(\"cP\", (n, n, n))", f"Pattern ({r['cells']}x{r['cells']})",
         t["default_pattern_call"]),
        ("pattern(..., warn=True) (excess-symmetry search)", f"Pattern ({r['cells']}x{r['cells']})",
         t["pattern_call_with_excess_check"]),
        (f"fast path, lattice_pair_orbits ({r['point_group_generators']} generators)",
         f"{r['cells']}x{r['cells']} colours", t["fast_generators"]),
        (f"fast path, lattice_pair_orbits ({r['point_group_order']} elements)",
         f"{r['cells']}x{r['cells']} colours", t["fast_all_elements"]),
        ("generic path, pair_orbits (6 cell generators)", f"{r['cells']}x{r['cells']} colours", t["generic"]),
        ("sympy, PermutationGroup(...).stabilizer(0).orbits()", f"{r['sympy_stabiliser_orbits']} orbits of cells",
         t["sympy_stabilizer_orbits"]),
    ]
    for name, out, tm in rows:
        lines.append(f"{name:<52} {out:<22} {tm['best_ms']:>10.2f} {tm['median_ms']:>10.2f} {tm['repeats']:>5} "
                     f"{sy / tm['best_ms']:>10.1f}x")
    lines += [
        "",
        f"edge colours (pair orbits): {r['colours']}; sympy stabiliser orbits: {r['sympy_stabiliser_orbits']}",
        f"sympy / fast = {ratio['sympy_over_fast']:.1f}x   sympy / fast (48 elements) = "
        f"{ratio['sympy_over_fast_all_elements']:.1f}x   sympy / generic = {ratio['sympy_over_generic']:.2f}x",
        "",
        "checks:",
    ]
    for name, ok in r["checks"].items():
        lines.append(f"  [{'ok' if ok else 'FAIL'}] {name}")
    lines.append("targets:")
    lines.append(f"  [{'met' if r['targets']['fast_at_least_100x_faster_than_sympy'] else 'MISSED'}] "
                 f"fast path >= {FAST_SPEEDUP_TARGET:.0f}x faster than sympy: {ratio['sympy_over_fast']:.1f}x")
    lines.append(f"  [{'met' if r['targets']['default_call_at_least_100x_faster_than_sympy'] else 'MISSED'}] "
                 f"default pattern() call >= {DEFAULT_SPEEDUP_TARGET:.0f}x faster than sympy: "
                 f"{ratio['sympy_over_default_call']:.1f}x")
    lines.append(f"  [{'met' if r['targets']['generic_under_3_s'] else 'MISSED'}] "
                 f"generic path < {GENERIC_LIMIT_S:.0f} s: {t['generic']['best_ms'] / 1e3:.3f} s")
    if "big" in r:
        b = r["big"]
        lines.append(f"  [{'met' if r['targets']['big_default_call_within_limits'] else 'MISSED'}] default call on "
                     f"{b['n']}^3 = {b['cells']:,} cells < {BIG_LIMIT_S:.0f} s and {BIG_LIMIT_MB:.0f} MB: "
                     f"{b['seconds']:.2f} s, {b['peak_rss_mb']:.0f} MB peak (fresh process)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10, help="supercell is n x n x n (default 10: 10^6 ordered pairs)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats of each crystalgroups path (default 5)")
    parser.add_argument("--sympy-repeat", type=int, default=3, help="timed repeats of the sympy route (default 3)")
    parser.add_argument("--big-n", type=int, default=20, help="also time the default call on a big-n^3 cube in a "
                        "fresh process, with its peak memory (default 20; 0 skips)")
    parser.add_argument("--json", metavar="FILE", default=str(DEFAULT_JSON),
                        help=f"write the figures as JSON to FILE (default {DEFAULT_JSON.relative_to(ROOT)})")
    parser.add_argument("--strict", action="store_true", help="exit with status 2 if a speed target is missed")
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeat < 1 or args.sympy_repeat < 1:
        parser.error("--n, --repeat and --sympy-repeat must be positive")

    start = time.perf_counter()
    result = run(args.n, args.repeat, args.sympy_repeat)
    if args.big_n > 0:
        big = run_big(args.big_n)
        result["big"] = {"n": args.big_n, **big}
        result["targets"]["big_default_call_within_limits"] = bool(
            big["seconds"] < BIG_LIMIT_S and big["peak_rss_mb"] < BIG_LIMIT_MB)
    result["date"] = time.strftime("%Y-%m-%d")
    result["wall_s"] = time.perf_counter() - start
    print(report(result))
    print(f"\ntotal run time: {result['wall_s']:.2f} s")
    if args.json:
        write_json_atomic(args.json, result)
        print(f"wrote {args.json}")
    if not all(result["checks"].values()):
        print("FAILED: a correctness check failed", file=sys.stderr)
        return 1
    if args.strict and not all(result["targets"].values()):
        print("FAILED: a speed target was missed (--strict)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
