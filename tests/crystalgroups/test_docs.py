"""The benchmark figures in docs/benchmarks.md are those of the JSON that `make bench` writes."""

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results" / "bench_pair_orbits.json"


def test_benchmarks_page_quotes_the_bench_json():
    r = json.loads(RESULTS.read_text())
    page = (REPO / "docs" / "benchmarks.md").read_text()
    assert all(r["checks"].values())
    sy = r["timings"]["sympy_stabilizer_orbits"]["best_ms"]
    quoted = [f"**{r['ratios']['sympy_over_default_call']:.1f}x**", f"**{r['ratios']['sympy_over_fast']:.1f}x**",
              f"**{r['big']['seconds']:.2f} s**", f"**{r['big']['peak_rss_mb']:.0f} MB**", f"Run of {r['date']}"]
    for key, t in r["timings"].items():
        quoted += [f"| {t['best_ms']:.2f} ms | {t['median_ms']:.2f} ms | {sy / t['best_ms']:.1f}x |"]
    missing = [q for q in quoted if q not in page]
    assert not missing, f"docs/benchmarks.md does not quote {missing} from {RESULTS.name}: re-run make bench and update"
    assert "{literalinclude} ../benchmarks/results/bench_pair_orbits.json" in page
