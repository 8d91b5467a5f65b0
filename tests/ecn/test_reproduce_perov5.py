"""The committed reproduction script, end to end on a tiny budget: two models x two seeds run as
two real worker processes, checkpoints published and re-evaluated, a second start trains nothing."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TINY = ["--set", "limit_train=48", "--set", "limit_val=24", "--set", "limit_test=24", "--set", "width=12",
        "--set", "layers=2", "--set", "edge_dim=8", "--set", "batch_size=16", "--set", "lr_schedule=cosine"]


def _run(tmp_path, data_dir):
    env = {**os.environ, "ECN_DATA_DIR": str(data_dir), "ECN_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "reproduce_perov5.py"), "--models", "ecn-s", "cgcnn",
         "--seeds", "0", "1", "--epochs", "2", "--jobs", "2", "--ablation", "--runs", str(tmp_path / "runs"),
         "--results", str(tmp_path / "results"), *TINY],
        env=env, capture_output=True, text=True, timeout=1800, check=True)


def test_reproduce_script_writes_table_checkpoints_and_figures(tmp_path, data_dir):
    _run(tmp_path, data_dir)
    results = tmp_path / "results"
    summary = json.loads((results / "perov5.json").read_text())
    assert set(summary["rows"]) == {"ecn-s", "cgcnn"}
    for name, row in summary["rows"].items():
        assert row["seeds"] == [0, 1] and row["epochs_run"] == [2, 2]
        metrics = [json.loads((tmp_path / "runs" / f"{name}-seed{s}" / "metrics.json").read_text()) for s in (0, 1)]
        assert row["test_mae"] == [m["test_mae"] for m in metrics]
        published = summary["published"][name]
        assert published["reproduced"] and published["evaluate_test_mae"] == published["test_mae"]
        assert published["seed"] == min(metrics, key=lambda m: m["val_mae"])["seed"]
        assert (results / "checkpoints" / f"perov5-{name}.pt").is_file()
        assert (results / "checkpoints" / f"perov5-{name}.yaml").is_file()
    # the ablations ran on seed 0 with their own settings
    assert set(summary["variants"]) == {"ecn-s+period_group", "ecn-s+cell_onehot", "ecn-s+3x3x3"}
    assert summary["variants"]["ecn-s+period_group"]["seeds"] == [0]
    config = (tmp_path / "runs" / "ecn-s+period_group-seed0" / "config.yaml").read_text()
    assert "element_features: period_group" in config
    assert "cell_onehot: true" in (tmp_path / "runs" / "ecn-s+cell_onehot-seed0" / "config.yaml").read_text()
    assert "- 3\n- 3\n- 3" in (tmp_path / "runs" / "ecn-s+3x3x3-seed0" / "config.yaml").read_text()
    table = (results / "perov5.md").read_text()
    assert "| ECN-S_Lambda |" in table and "0.038 +- 0.004" in table and "the paper's exact input" in table
    # the published names resolve to the new files (their sha256 registry was rewritten)
    registry = json.loads((results / "checkpoints" / "registry.json").read_text())
    assert {"perov5-ecn-s", "perov5-cgcnn"} <= set(registry["models"])
    # the progress table reads every run folder
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "reproduce_perov5.py"), "--status", "--runs",
                    str(tmp_path / "runs"), "--results", str(tmp_path / "status")], check=True, capture_output=True)
    progress = json.loads((tmp_path / "status" / "perov5_progress.json").read_text())
    assert {r["run"] for r in progress["runs"]} >= {"ecn-s-seed0", "cgcnn-seed1", "ecn-s+3x3x3-seed0"}
    assert all(r["finished"] and r["epochs"] == 2 for r in progress["runs"])
    assert progress["meta"]["command"] == (f"python benchmarks/reproduce_perov5.py --status --runs {tmp_path / 'runs'} "
                                           f"--results {tmp_path / 'status'}")
    assert (results / "perov5_curves.png").stat().st_size > 0 and (results / "perov5_parity.png").stat().st_size > 0
    # a second start reads the finished runs: nothing is trained again
    stamp = (tmp_path / "runs" / "ecn-s-seed0" / "last.pt").stat().st_mtime_ns
    _run(tmp_path, data_dir)
    assert (tmp_path / "runs" / "ecn-s-seed0" / "last.pt").stat().st_mtime_ns == stamp
    assert json.loads((results / "perov5.json").read_text())["rows"] == summary["rows"]


def test_named_variants_screening_without_publishing_then_publishing_elsewhere(tmp_path, data_dir):
    env = {**os.environ, "ECN_DATA_DIR": str(data_dir), "ECN_CACHE_DIR": str(tmp_path / "cache")}
    common = [sys.executable, str(REPO / "benchmarks" / "reproduce_perov5.py"), "--models", "mpnn", "--seeds", "0",
              "--epochs", "1", "--runs", str(tmp_path / "runs"), "--results", str(tmp_path / "results"), *TINY]
    subprocess.run([*common, "--variants", "ecn-s+radius", "--no-publish", "--seeds-of", "ecn-s+radius=1"], env=env,
                   capture_output=True, text=True, timeout=900, check=True)
    summary = json.loads((tmp_path / "results" / "perov5.json").read_text())
    assert set(summary["rows"]) == {"mpnn"} and set(summary["variants"]) == {"ecn-s+radius"}
    assert summary["rows"]["mpnn"]["seeds"] == [0] and summary["variants"]["ecn-s+radius"]["seeds"] == [1]
    assert summary["published"] == {} and not (tmp_path / "results" / "checkpoints").exists()
    assert "neighbors: radius" in (tmp_path / "runs" / "ecn-s+radius-seed1" / "config.yaml").read_text()
    assert "not published" in (tmp_path / "results" / "perov5.md").read_text()
    # the same finished run published into another folder, with its registry; nothing trained again
    stamp = (tmp_path / "runs" / "mpnn-seed0" / "last.pt").stat().st_mtime_ns
    subprocess.run([*common, "--results", str(tmp_path / "fresh"), "--checkpoints", str(tmp_path / "published")],
                   env=env, capture_output=True, text=True,
                   timeout=900, check=True)
    assert (tmp_path / "runs" / "mpnn-seed0" / "last.pt").stat().st_mtime_ns == stamp
    assert (tmp_path / "published" / "perov5-mpnn.pt").is_file() and (tmp_path / "fresh" / "perov5.md").is_file()
    assert "perov5-mpnn" in json.loads((tmp_path / "published" / "registry.json").read_text())["models"]
    assert not (tmp_path / "results" / "checkpoints").exists()
    bad = subprocess.run([*common, "--seeds-of", "nope=1"], env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "expected --seeds-of NAME=K,K,..." in bad.stderr
    bad = subprocess.run([*common, "--first", "nope"], env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "expected --first with model or variant names" in bad.stderr
    # --publish: one more model published; mpnn keeps its entry while its checkpoint is still its run's
    more = [*common[:3], "mpnn", "cgcnn", *common[4:], "--results", str(tmp_path / "fresh"), "--checkpoints",
            str(tmp_path / "published"), "--publish", "cgcnn"]
    subprocess.run(more, env=env, capture_output=True, text=True, timeout=900, check=True)
    summary = json.loads((tmp_path / "fresh" / "perov5.json").read_text())
    assert set(summary["published"]) == {"mpnn", "cgcnn"} and summary["published"]["cgcnn"]["reproduced"]
    assert (tmp_path / "published" / "perov5-cgcnn.pt").is_file()
    # once the mpnn file is replaced by another run's, the table no longer claims it
    (tmp_path / "published" / "perov5-mpnn.yaml").write_text("model: mpnn\nepochs: 1000\n")
    subprocess.run(more, env=env, capture_output=True, text=True, timeout=900, check=True)
    summary = json.loads((tmp_path / "fresh" / "perov5.json").read_text())
    assert set(summary["published"]) == {"cgcnn"}
    table = (tmp_path / "fresh" / "perov5.md").read_text()
    assert "| MPNN (unit cell) |" in table and "not published" in table
    # a variant published under its own name (its run from the first start: nothing trained again)
    stamp = (tmp_path / "runs" / "ecn-s+radius-seed1" / "last.pt").stat().st_mtime_ns
    named = [*more, "--variants", "ecn-s+radius", "--seeds-of", "ecn-s+radius=1",
             "--publish-variant", "ecn-s+radius=ecn-s-radius"]
    subprocess.run(named, env=env, capture_output=True, text=True, timeout=900, check=True)
    assert (tmp_path / "runs" / "ecn-s+radius-seed1" / "last.pt").stat().st_mtime_ns == stamp
    summary = json.loads((tmp_path / "fresh" / "perov5.json").read_text())
    entry = summary["published"]["ecn-s-radius"]
    assert entry["variant"] == "ecn-s+radius" and entry["seed"] == 1 and entry["reproduced"]
    assert entry["test_mae"] == summary["variants"]["ecn-s+radius"]["test_mae"][0]
    assert (tmp_path / "published" / "perov5-ecn-s-radius.yaml").read_text() == (
        tmp_path / "runs" / "ecn-s+radius-seed1" / "config.yaml").read_text()
    assert "perov5-ecn-s-radius" in json.loads((tmp_path / "published" / "registry.json").read_text())["models"]
    assert "`perov5-ecn-s-radius.pt`: ECN-S_Lambda, radius graph" in (tmp_path / "fresh" / "perov5.md").read_text()
    # a later start that does not name it keeps the entry while the file is still the run's
    subprocess.run(more + ["--variants", "ecn-s+radius", "--seeds-of", "ecn-s+radius=1"], env=env,
                   capture_output=True, text=True, timeout=900, check=True)
    assert "ecn-s-radius" in json.loads((tmp_path / "fresh" / "perov5.json").read_text())["published"]
    for bad_name in ("ecn-s+radius=cgcnn", "ecn-s+radius=Bad_Name", "nope=fine"):
        bad = subprocess.run([*common, "--publish-variant", bad_name], env=env, capture_output=True, text=True,
                             timeout=300)
        assert bad.returncode == 2 and "expected --publish-variant VARIANT=NAME" in bad.stderr


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    """Running (a zombie, dead and not yet reaped, is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_script_leaves_no_run_training(tmp_path, data_dir, how):
    """Killed while its runs train (SIGTERM, or SIGKILL that no handler sees), the script leaves no worker
    behind: an orphaned worker would go on training, and writing, a run folder that the next start resumes."""
    env = {**os.environ, "ECN_DATA_DIR": str(data_dir), "ECN_CACHE_DIR": str(tmp_path / "cache")}
    script = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "reproduce_perov5.py"), "--models", "cgcnn",
         "--seeds", "0", "--epochs", "500", "--jobs", "1", "--no-publish", "--runs", str(tmp_path / "runs"),
         "--results", str(tmp_path / "results"), *TINY],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = []
    try:
        deadline = time.time() + 300
        logs = [tmp_path / "runs" / "cgcnn-seed0" / "log.csv"]
        while time.time() < deadline and not all(log.exists() for log in logs):  # the run is training
            time.sleep(0.2)
        workers = [p for p in _children(script.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]
        assert len(workers) == 1 and all(log.exists() for log in logs)
        script.send_signal(how)
        script.wait(timeout=60)
        deadline = time.time() + 30
        while time.time() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.2)
        assert not any(_alive(p) for p in workers)
    finally:  # whatever happened, nothing of this test goes on running
        script.kill()
        script.wait()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
