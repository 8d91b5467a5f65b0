"""Training, evaluation and prediction through the real command line, on real Perov-5 data."""

import csv
import gzip
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from ecn.checkpoint import CheckpointError, load_checkpoint
from ecn.cli import main

TINY = ["--set", "width=16", "--set", "layers=2", "--set", "edge_dim=8", "--set", "batch_size=16",
        "--set", "limit_val=32", "--set", "limit_test=32", "--quiet"]


@pytest.fixture(autouse=True)
def _env(data_dir, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ECN_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ECN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "ecn-cache"))


def _train(tmp_path, *extra, model="ecn-s", epochs=2, limit=64, name="run"):
    out = tmp_path / name
    code = main(["train", "--data", "perov5", "--target", "heat_all", "--model", model, "--epochs", str(epochs),
                 "--limit-train", str(limit), "--out", str(out), *TINY, *extra])
    assert code == 0
    return out


def test_train_writes_the_run_folder_and_evaluate_reproduces_it(tmp_path, capsys, data_dir):
    out = _train(tmp_path)
    for name in ("config.yaml", "log.csv", "best.pt", "last.pt", "metrics.json", "predictions.csv", "parity.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"test_mae", "val_mae", "train_mae", "best_epoch", "epochs_run"} <= set(metrics)
    keys = [line.split(":")[0] for line in (out / "config.yaml").read_text().splitlines() if line[:1].isalpha()]
    assert keys == sorted(keys) and {"model", "lr", "seed"} <= set(keys)  # sorted: two runs' configs diff line by line
    capsys.readouterr()
    assert main(["evaluate", str(out / "best.pt"), "--data", "perov5", "--split", "test", "--limit", "32"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["mae"] == metrics["test_mae"]
    rows = list(csv.DictReader((out / "log.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert 0 < sum(float(r["seconds"]) for r in rows) <= metrics["train_seconds"]  # each epoch's own time
    assert [r["row"] for r in csv.DictReader((out / "predictions.csv").open())] == [str(k) for k in range(1, 33)]
    # predict: one line per file
    cifs = []
    with gzip.open(data_dir / "perov_5" / "test.csv.gz", "rt") as fh:
        csv.field_size_limit(1 << 30)
        for k, row in zip(range(2), csv.DictReader(fh)):
            path = tmp_path / f"{row['material_id']}.cif"
            path.write_text(row["cif"])
            cifs.append(str(path))
    assert main(["predict", str(out / "best.pt"), *cifs]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == cifs and all(len(line.split("\t")) == 2 for line in lines)


def test_same_seed_same_metrics(tmp_path):
    a = json.loads((_train(tmp_path, name="a") / "metrics.json").read_text())
    b = json.loads((_train(tmp_path, name="b") / "metrics.json").read_text())
    assert a["test_mae"] == b["test_mae"] and a["val_mae"] == b["val_mae"]


@pytest.mark.parametrize("model", ["ecn-p1", "ecn-g", "mpnn", "cgcnn", "megnet", "egnn"])
def test_every_model_trains(tmp_path, model):
    metrics = json.loads((_train(tmp_path, model=model, epochs=1, limit=32) / "metrics.json").read_text())
    assert metrics["test_mae"] == metrics["test_mae"]  # a number, not NaN


def test_several_targets_and_yaml_config(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("targets: [heat_all, heat_ref]\nweight_decay: 0.0\n")
    out = tmp_path / "multi"
    assert main(["train", "--config", str(config), "--data", "perov5", "--epochs", "1", "--limit-train", "32",
                 "--out", str(out), *TINY]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert "test_mae_heat_all" in metrics and "test_mae_heat_ref" in metrics


def _labelled_csv(data_dir, path, count, label):
    """The first ``count`` Perov-5 validation structures with a binary column ``stable = label(row)``."""
    rows = []
    with gzip.open(data_dir / "perov_5" / "val.csv.gz", "rt") as fh:
        csv.field_size_limit(1 << 30)
        for _, row in zip(range(count), csv.DictReader(fh)):
            rows.append({"material_id": row["material_id"], "cif": row["cif"], "stable": label(row)})
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["material_id", "cif", "stable"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def _train_classifier(path, out):
    assert main(["train", "--data", str(path), "--target", "stable", "--set", "task=classification", "--epochs", "2",
                 "--out", str(out), *TINY[:8], "--quiet", "--set", "limit_val=0", "--set", "limit_test=0"]) == 0
    return out


def test_classification_on_a_csv_file(tmp_path, data_dir):
    path = _labelled_csv(data_dir, tmp_path / "labels.csv", 120, lambda row: int(float(row["heat_all"]) < 1.0))
    out = _train_classifier(path, tmp_path / "cls")
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["test_roc_auc"] <= 1.0 and "test_precision_0_stable" in metrics
    assert (out / "roc.png").is_file()
    normalizer = load_checkpoint(out / "best.pt")["normalizer"]  # 0/1 labels are never shifted or scaled
    assert (list(normalizer["mean"]), list(normalizer["std"])) == ([0.0], [1.0])
    # --overwrite with a regression run (the same 0/1 column): no file of the classifier stays, not its ROC curve
    assert main(["train", "--data", str(path), "--target", "stable", "--epochs", "1", "--out", str(out),
                 "--overwrite", *TINY[:8], "--quiet", "--set", "limit_val=0", "--set", "limit_test=0"]) == 0
    assert not (out / "roc.png").exists() and (out / "parity.png").is_file()
    assert "test_roc_auc" not in json.loads((out / "metrics.json").read_text())


def test_cosine_schedule_decays_every_epoch_to_min_lr(tmp_path):
    """40 structures in batches of 16: three steps an epoch, the last of 8 structures (counted, not floored)."""
    out = _train(tmp_path, "--set", "lr_schedule=cosine", "--set", "min_lr=1e-5", epochs=3, limit=40)
    lrs = [float(r["lr"]) for r in csv.DictReader((out / "log.csv").open())]
    assert len(lrs) == 3 and lrs[0] < 1e-3 and lrs[0] > lrs[1] > lrs[2]
    assert lrs[2] == pytest.approx(1e-5)  # the last batch of the last epoch lands on min_lr


def test_graph_rule_can_be_chosen_apart_from_the_model(tmp_path):
    from ecn.config import load_config
    from ecn.train import graph_settings, load_graphs

    paper = graph_settings(load_config(overrides=["model=mpnn"]))
    radius = graph_settings(load_config(overrides=["model=mpnn", "neighbors=radius"]))
    bonds = graph_settings(load_config(overrides=["model=cgcnn", "neighbors=isayev"]))
    assert (paper.neighbors, paper.cutoff) == ("isayev", 6.0)
    assert (radius.neighbors, radius.cutoff, radius.max_neighbors, radius.supercell) == ("radius", 8.0, 12, (1, 1, 1))
    assert (bonds.neighbors, bonds.cutoff) == ("isayev", 6.0)
    # on real structures the radius rule gives each atom its 12 nearest neighbours (ties kept)
    graphs, _ = load_graphs(load_config(overrides=["model=mpnn", "neighbors=radius"]), "val", 8)
    assert all(np.bincount(g.edge_index[0], minlength=g.num_nodes).min() >= 12 for g in graphs)
    out = _train(tmp_path, "--set", "neighbors=radius", model="mpnn", epochs=1, limit=32)
    assert "neighbors: radius" in (out / "config.yaml").read_text()


@pytest.mark.parametrize("args,fragment", [
    (["--set", "colour=5"], "Could not resolve setting 'colour'"),
    (["--set", "neighbors=voronoi"], "expected neighbors '', 'isayev' or 'radius'"),
    (["--set", "lr_schedule=linear"], "expected lr_schedule 'plateau' or 'cosine'"),
    (["--set", "lr=1e-6", "--set", "min_lr=1e-6"], "expected lr above min_lr for the plateau schedule"),
    (["--set", "epochs=many"], "expected epochs as int"),
    (["--model", "transformer"], "Could not resolve model"),
    (["--preset", "fast"], "Could not resolve preset"),
])
def test_bad_settings_are_one_line_errors(tmp_path, capsys, args, fragment):
    code = main(["train", "--data", "perov5", "--out", str(tmp_path / "x"), "--epochs", "1", "--limit-train", "8",
                 *TINY, *args])
    assert code == 2 and fragment in capsys.readouterr().err


def test_tampered_checkpoint_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "ecn-checkpoint-1", "model": Evil()}, path)
    with pytest.raises(CheckpointError, match="weights_only"):
        load_checkpoint(path)
    assert not marker.exists()
    torch.save({"format": "something-else"}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="format"):
        load_checkpoint(tmp_path / "foreign.pt")


def _cli(*args, env):
    return subprocess.Popen(
        [sys.executable, "-m", "ecn", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_resume_after_sigkill_ends_with_the_same_metrics(tmp_path):
    env = {**os.environ}
    args = [
        "train",
        "--data",
        "perov5",
        "--target",
        "heat_all",
        "--model",
        "ecn-s",
        "--epochs",
        "6",
        "--limit-train",
        "96",
        *TINY,
    ]
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0  # the reference, uninterrupted, in this process
    killed = _cli(*args, "--out", str(tmp_path / "killed"), env=env)
    log = tmp_path / "killed" / "log.csv"
    deadline = time.time() + 300
    while time.time() < deadline:  # kill it as soon as two epochs are done: mid-way through the third
        if log.exists() and len(log.read_text().strip().splitlines()) >= 3:
            break
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "killed" / "metrics.json").exists()
    resumed = _cli("train", "--resume", str(tmp_path / "killed"), env=env)
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read()
    a = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    b = json.loads((tmp_path / "killed" / "metrics.json").read_text())
    assert {k: v for k, v in a.items() if "seconds" not in k} == {k: v for k, v in b.items() if "seconds" not in k}
    assert [r["epoch"] for r in csv.DictReader((tmp_path / "killed" / "log.csv").open())] == [
        str(k) for k in range(1, 7)
    ]


def _torchrun(args: list[str], timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc_per_node=2 ARGS`` (one thread each), ended if it runs past ``timeout``
    seconds (processes waiting on each other never return) by a SIGTERM, on which torchrun ends its workers
    (each in a session of its own, out of reach of a signal to torchrun's process group)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *args],
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.communicate(timeout=120)
        pytest.fail(f"expected the two processes to finish within {timeout} s, got them still running")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


#: Runs ``ecn`` as torchrun's worker; a run that finishes ends the process group it started.
ENDS_ITS_GROUP_WORKER = """
import sys
import torch.distributed
from ecn.cli import main
code = main(sys.argv[1:])
if code == 0 and torch.distributed.is_initialized():
    sys.exit("expected no process group left once the run returned, got one still initialised")
sys.exit(code)
"""


def test_two_processes_match_one(tmp_path):
    """torchrun with 2 gloo processes (per-process batch halved) gives the metrics of one process."""
    args = [
        "train",
        "--data",
        "perov5",
        "--target",
        "heat_all",
        "--model",
        "ecn-s",
        "--epochs",
        "2",
        "--limit-train",
        "64",
        "--set",
        "shuffle=false",
        *TINY,
    ]
    assert main([*args, "--out", str(tmp_path / "one")]) == 0  # one process: this one
    worker = tmp_path / "worker.py"
    worker.write_text(ENDS_ITS_GROUP_WORKER)
    double = _torchrun([str(worker), *args, "--out", str(tmp_path / "two")])
    assert double.returncode == 0, double.stderr[-3000:]
    assert sum(line.startswith("{") for line in double.stdout.splitlines()) == 1  # process 0 alone reports
    a = json.loads((tmp_path / "one" / "metrics.json").read_text())
    b = json.loads((tmp_path / "two" / "metrics.json").read_text())
    for key in ("train_mae", "val_mae", "test_mae"):
        assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-6), key


#: Runs ``ecn`` as torchrun's worker; on process 1 its clock runs a million times fast (so its time limit passes
#: after one epoch, and never on process 0) and every training loss from its 9th step on is NaN (epoch 3 of a fresh
#: run: 4 steps per epoch of one structure, 7 structures shared by two processes). With OWN_GROUP set, the worker
#: starts the process group itself, and a run that finishes leaves it to the worker.
DISAGREEING_WORKER = """
import math, os, sys, time
import torch.distributed
import ecn.train
if os.environ.get("OWN_GROUP"):
    torch.distributed.init_process_group("gloo")
if os.environ["RANK"] == "1":
    class FastClock:
        def __getattr__(self, name):
            return getattr(time, name)
        @staticmethod
        def perf_counter():
            return time.perf_counter() * 1e6
    calls = []
    loss = ecn.train._loss
    def nan_from_epoch_3(*args):
        calls.append(1)
        return loss(*args) * (math.nan if len(calls) > 8 else 1.0)
    ecn.train.time = FastClock()
    ecn.train._loss = nan_from_epoch_3
from ecn.cli import main
code = main(sys.argv[1:])
if code == 0 and torch.distributed.is_initialized() != bool(os.environ.get("OWN_GROUP")):
    sys.exit("expected the process group to end with the run that started it, and only then")
sys.exit(code)
"""


def test_processes_that_disagree_follow_process_0_and_stop_together_on_a_nan(tmp_path):
    """Two gloo processes whose clocks disagree train on until process 0's time limit (none here), and a NaN
    loss on process 1 alone stops both before their step, process 0 naming it as another process's loss; the
    run then resumes in two processes from its last good checkpoint. The model is the E(n) network, whose last
    coordinate update gets no gradient (DDP must be told), and the batch of one structure is smaller than the
    number of processes (each still trains one per step)."""
    worker = tmp_path / "worker.py"
    worker.write_text(DISAGREEING_WORKER)
    run = _torchrun([str(worker), "train", "--data", "perov5", "--target", "heat_all", "--model", "egnn",
                     "--epochs", "4", "--limit-train", "7", "--set", "time_limit=5", *TINY, "--set", "batch_size=1",
                     "--set", "lr_schedule=cosine", "--set", "min_lr=1e-5",
                     "--out", str(tmp_path / "run")])
    assert run.returncode != 0
    assert "a training loss of nan in epoch 3" in run.stderr
    assert "a training loss of" in run.stderr and "(on another process) in epoch 3" in run.stderr
    with open(tmp_path / "run" / "log.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [1, 2]  # epoch 2 ran though process 1's time was up
    assert load_checkpoint(tmp_path / "run" / "last.pt")["epoch"] == 2
    # resumed in two processes (each reading the run's settings from last.pt) in a process group the caller
    # started: epochs 3 and 4, then the metrics
    resumed = _torchrun([str(worker), "train", "--resume", str(tmp_path / "run")], env={"OWN_GROUP": "1"})
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    with open(tmp_path / "run" / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert float(rows[-1]["lr"]) == pytest.approx(1e-5)  # the cosine's steps counted per process: it ends on min_lr
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs_run"] == 4


@pytest.mark.parametrize(
    "yaml_text,fragment",
    [
        ("epochs: two\n", "expected epochs as int"),
        ("a: [\n", "YAML cannot read"),
        ("colour: 5\n", "Could not resolve settings"),
    ],
)
def test_bad_yaml_configs_are_one_line_errors(tmp_path, capsys, yaml_text, fragment):
    config = tmp_path / "c.yaml"
    config.write_text(yaml_text)
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1


def test_yaml_scientific_notation_and_resume_alone(tmp_path, capsys):
    from ecn.config import load_config

    config = tmp_path / "c.yaml"
    config.write_text("lr: 1e-3\nepochs: 3\n")
    assert load_config(config).lr == 0.001
    assert main(["train", "--resume", str(tmp_path), "--epochs", "5"]) == 2
    assert "--resume alone" in capsys.readouterr().err


def test_unknown_target_is_named(tmp_path, capsys):
    """The first of the unknown targets is named, with the dataset's choices."""
    assert main(["train", "--data", "perov5", "--target", "heat_al", "--target", "heat", "--out",
                 str(tmp_path / "x"), *TINY]) == 2
    err = capsys.readouterr().err
    assert "Could not resolve target 'heat_al' of perov5 among choices ['heat_all', 'heat_ref'," in err


def test_an_undefined_validation_metric_still_gives_a_best_checkpoint(tmp_path, data_dir):
    path = _labelled_csv(data_dir, tmp_path / "one_class.csv", 60, lambda row: 0)
    out = _train_classifier(path, tmp_path / "run")
    assert (out / "best.pt").is_file() and (out / "metrics.json").is_file()


def test_time_limit_holds_across_resumes(tmp_path):
    out = _train(tmp_path, "--set", "time_limit=0.00001", epochs=5, limit=32, name="limited")
    first = json.loads((out / "metrics.json").read_text())["epochs_run"]
    assert main(["train", "--resume", str(out)]) == 0
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == first == 1
