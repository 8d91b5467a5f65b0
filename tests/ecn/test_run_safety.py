"""ecn never loses a run, never hangs, never reports a wrong number without saying so.

Real processes (a SIGKILLed build worker, SIGINT to a training process), real files (truncated
gzip, non-UTF-8 bytes, damaged checkpoints, a cache path that cannot be created), real Perov-5 rows.
"""

import csv
import gzip
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import read_cifs

from ecn.cli import main

TINY = ["--set", "width=16", "--set", "layers=2", "--set", "edge_dim=8", "--set", "batch_size=16", "--quiet"]
PEROV = ["--data", "perov5", "--limit-train", "32", "--set", "limit_val=16", "--set", "limit_test=16", *TINY]


@pytest.fixture(autouse=True)
def _env(data_dir, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ECN_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ECN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "ecn-cache"))
    monkeypatch.delenv("ECN_GRAPH_CACHE", raising=False)


@pytest.fixture(scope="module")
def cifs(data_dir):
    return read_cifs(data_dir / "perov_5" / "val.csv.gz", limit=40)


@pytest.fixture(scope="module")
def connected(data_dir):
    """30 Perov-5 structures whose graphs are connected (files other than the named datasets skip the others)."""
    from ecn.data import crystal_from_cif, crystal_graph

    rows = read_cifs(data_dir / "perov_5" / "val.csv.gz", limit=90)
    return [(mid, text) for mid, text in rows if crystal_graph(crystal_from_cif(text)).is_connected()][:30]


def _err(capsys) -> str:
    err = capsys.readouterr().err
    return "\n".join(line for line in err.splitlines() if line.startswith("ecn:"))


def _snapshot(folder):
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.iterdir())}


def _write_csv(path, rows, columns=("material_id", "cif", "heat_all")):
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


# -- 1. never lose a run ---------------------------------------------------------------------

def test_out_on_a_run_refuses_and_touches_nothing_resume_and_overwrite_work(tmp_path, capsys):
    from ecn.config import load_config
    from ecn.train import train

    out = tmp_path / "run"
    assert main(["train", *PEROV, "--epochs", "1", "--out", str(out)]) == 0
    before = _snapshot(out)
    capsys.readouterr()
    assert main(["train", *PEROV, "--epochs", "1", "--out", str(out)]) == 2
    err = _err(capsys)
    assert len(err.splitlines()) == 1 and "--resume" in err and "--overwrite" in err and "holds a finished run" in err
    assert _snapshot(out) == before
    # the Python pattern of benchmarks/reproduce_perov5.py: resume=True on a folder that holds a run
    config = load_config(overrides=["data=perov5", "limit_train=32", "limit_val=16", "limit_test=16", "width=16",
                                    "layers=2", "edge_dim=8", "batch_size=16", "quiet=true", "epochs=1"])
    (out / "last.ptab12.tmp").write_bytes(b"half")  # what a kill during torch.save leaves: removed on resuming
    assert train(config, out, resume=True)["epochs_run"] == 1
    assert not list(out.glob("*.tmp"))
    (out / "metrics.json").unlink()  # an unfinished run is named as such
    assert main(["train", *PEROV, "--epochs", "1", "--out", str(out)]) == 2
    assert "holds an unfinished run" in _err(capsys)
    with pytest.raises(ValueError, match=r"\(epochs: 1 in the run, 3 given\): start"):  # one named, no "..."
        train(config.replace(epochs=3), out, resume=True)
    four = config.replace(epochs=3, lr=2e-3, seed=5, width=8)  # four settings named; a fifth is left as "..."
    with pytest.raises(ValueError, match=r"seed: 0 in the run, 5 given, width: 16 in the run, 8 given\): start"):
        train(four, out, resume=True)
    with pytest.raises(ValueError, match=r"seed: 0 in the run, 5 given, \.\.\.\): start"):
        train(four.replace(layers=3), out, resume=True)
    with pytest.raises(ValueError, match="--overwrite"):
        train(config, out)
    fresh = tmp_path / "fresh"  # a folder without a run: a fresh run leaves the files it does not write
    fresh.mkdir()
    (fresh / "roc.png").write_bytes(b"someone's figure")
    assert main(["train", *PEROV, "--epochs", "1", "--out", str(fresh)]) == 0
    assert (fresh / "roc.png").read_bytes() == b"someone's figure"
    (out / "roc.png").write_bytes(b"a figure of the old run")  # as if it had been a classification run
    assert main(["train", *PEROV, "--epochs", "1", "--seed", "1", "--out", str(out), "--overwrite"]) == 0
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 1
    assert not (out / "roc.png").exists()  # every file of the old run went, not only those written again
    assert "seed: 1" in (out / "config.yaml").read_text()


def test_a_failed_fresh_run_leaves_no_folder_and_orphans_are_cleaned(tmp_path, capsys):
    out = tmp_path / "new" / "run"
    # classification on a continuous target: refused before anything is written
    assert main(["train", *PEROV, "--epochs", "1", "--set", "task=classification", "--out", str(out)]) == 2
    assert "expected classification targets of 0 or 1" in _err(capsys)
    assert not out.exists()
    existing = tmp_path / "old"
    existing.mkdir()
    orphan = existing / "last.pt8f3k.tmp"  # what a SIGKILL during torch.save leaves
    orphan.write_bytes(b"half")
    (existing / "notes.txt").write_text("mine")
    assert main(["train", *PEROV, "--epochs", "1", "--set", "lr=1e30", "--out", str(existing)]) == 1
    err = _err(capsys)
    assert "diverged" in err and "nothing was kept" in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in existing.iterdir()) == ["notes.txt"]


def test_sigint_prints_one_line_and_leaves_a_resumable_run(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # min_lr=0: the plateau schedule never ends the run on its own, however fast its epochs are
    proc = subprocess.Popen([sys.executable, "-m", "ecn", "train", *PEROV, "--epochs", "5000", "--set", "min_lr=0",
                             "--out", str(out)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            # as from a terminal: a suite started in the background (`make test &`) ignores SIGINT,
                            # and a child would inherit that
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 300  # generous: a loaded machine builds graphs and imports torch slowly
    while time.time() < deadline and not ((out / "log.csv").exists() and (out / "last.pt").exists()):
        time.sleep(0.05)
    assert proc.poll() is None, "expected the run to be still training when interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the whole process group
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 130, err
    lines = [line for line in err.splitlines() if line.startswith("ecn:") or "Traceback" in line]
    assert len(lines) == 1 and "interrupted" in lines[0] and f"--resume {out}" in lines[0], err
    from ecn.checkpoint import load_checkpoint

    assert f"holds epoch {load_checkpoint(out / 'last.pt')['epoch']}:" in lines[0], err  # the epoch it can resume
    assert (out / "last.pt").is_file() and not (out / "metrics.json").exists()
    assert not list(out.glob("*.tmp"))


# -- 2. never hang ---------------------------------------------------------------------------

def test_the_three_splits_of_a_file_cost_one_build(tmp_path, monkeypatch, connected):
    import ecn.train as train_module
    from ecn.config import TrainConfig

    path = _write_csv(tmp_path / "d.csv", [(mid, text, f"{k / 10}") for k, (mid, text) in enumerate(connected[:20])])
    builds = []
    real = train_module.load_dataset
    monkeypatch.setattr(train_module, "load_dataset", lambda *a, **k: builds.append(a) or real(*a, **k))
    config = TrainConfig(data=str(path), targets=("heat_all",))
    sizes = [len(train_module.load_graphs(config, split)[0]) for split in ("train", "val", "test")]
    assert len(builds) == 1 and sum(sizes) == 20, (builds, sizes)


def test_a_killed_build_worker_fails_the_build_at_once(cifs):
    from ecn.data import build_graphs
    from ecn.data.build import BuildError

    killed = []

    def rows():
        for k in range(10_000):
            if k == 64 and not killed:  # the first chunk is with the workers: kill one, as the OOM killer would
                worker = multiprocessing.active_children()[0]
                os.kill(worker.pid, signal.SIGKILL)
                killed.append(worker.pid)
            mid, text = cifs[k % len(cifs)]
            yield {"id": f"{mid}-{k}", "cif": text}

    def hang(*_):
        raise TimeoutError("the build hung after its worker was killed")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)
    started = time.perf_counter()
    try:
        with pytest.raises(BuildError, match="memory") as info:
            build_graphs(rows(), workers=2, progress=False, chunk=64)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert killed and time.perf_counter() - started < 30
    message = str(info.value)  # the signal is named when the dead worker was reaped in time, else "killed"
    assert "workers=1" in message and ("SIGKILL" in message or "(killed)" in message)
    assert not multiprocessing.active_children()  # the other worker was stopped too


# -- 3. say what was skipped, 4. no silent wrong result ---------------------------------------

def test_skipped_rows_and_duplicates_are_summarised_and_written(tmp_path, capsys, connected):
    path = tmp_path / "mixed.csv"
    assert len(connected) == 30
    rows = [(mid, text, "1.5") for mid, text in connected]
    rows[3] = (rows[3][0], "this is not a CIF", "1.0")
    rows[7] = (rows[2][0], rows[7][1], "1.2")  # a duplicate id
    _write_csv(path, rows)
    raw = path.read_bytes().replace(rows[10][0].encode() + b",", rows[10][0].encode() + b"\xff,", 1)
    path.write_bytes(raw)  # one byte that is not UTF-8, in one row
    out = tmp_path / "run"
    assert main(["train", "--data", str(path), "--target", "heat_all", "--epochs", "1", *TINY, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "30 rows read, 28 graphs kept, 2 skipped" in err
    assert f"unparsable CIF (first: {rows[3][0]})" in err and "not UTF-8" in err
    assert f"duplicate ids (kept, told apart by their row): {rows[2][0]}" in err
    assert "split train 22, val 3, test 3 graphs (seed 0)" in err
    report = list(csv.DictReader((out / "data_report.csv").open()))
    reasons = {r["id"]: r["reason"] for r in report}
    assert reasons[rows[3][0]].startswith("unparsable CIF") and reasons[rows[2][0]] == "duplicate id (kept)"
    assert [r["split"] for r in report] == ["all"] * 3  # one file: one build, each row once, before the split
    assert any(r["reason"].startswith("not UTF-8: row 11 of") and "column material_id (byte 0xff)" in r["reason"]
               for r in report)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data"]["train"]["skipped"] == {"not UTF-8": 1, "unparsable CIF": 1}
    assert metrics["data"]["test"]["graphs"] == 3
    assert "row" in next(csv.reader((out / "predictions.csv").open()))
    from ecn.checkpoint import load_checkpoint
    from ecn.train import _config_of, evaluate_checkpoint, load_graphs

    capsys.readouterr()  # a Python caller's evaluation: the whole split by default, the file's one build summary
    assert evaluate_checkpoint(out / "best.pt")["structures"] == metrics["data"]["test"]["graphs"] == 3
    assert capsys.readouterr().err.startswith(f"{path}: 30 rows read, 28 graphs kept, 2 skipped")
    assert len(load_graphs(_config_of(load_checkpoint(out / "best.pt")), "test")[0]) == 3


def test_divergence_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    # weight decay 4000 x lr 1e-3: the weights triple (with alternating sign) each step; inf in epoch 2
    assert main(["train", *PEROV, "--epochs", "4", "--set", "weight_decay=4000", "--out", str(out)]) == 1
    err = _err(capsys)
    found = re.search(r"in epoch (\d+) \(the run diverged\): the last good checkpoint, .*last.pt \(epoch (\d+)\)", err)
    assert found and int(found[1]) >= 2 and int(found[2]) == int(found[1]) - 1, err
    assert not (out / "metrics.json").exists()
    assert (out / "config.yaml").is_file()  # the folder of the kept checkpoint stays whole
    from ecn.checkpoint import load_checkpoint

    state = load_checkpoint(out / "last.pt")
    assert state["epoch"] == int(found[2]) and all(torch.isfinite(v).all() for v in state["model"].values())


def test_a_file_too_small_for_a_validation_split_is_refused_before_training(tmp_path, capsys, connected):
    """Two structures with a target (a third has none) split 80/10/10 give a training split of 2 and no
    validation split: the run stops with both counts before it trains, and leaves no folder behind."""
    rows = [(mid, text, "1.0" if k else "") for k, (mid, text) in enumerate(connected[:3])]
    assert main(["train", "--data", str(_write_csv(tmp_path / "two.csv", rows)), "--target", "heat_all",
                 "--epochs", "1", *TINY, "--out", str(tmp_path / "r")]) == 2
    err = _err(capsys)
    assert "expected training and validation graphs, got 2 and 0" in err and "every row" not in err  # one has
    assert not (tmp_path / "r").exists()


def test_a_file_without_any_target_value_says_so(tmp_path, capsys, connected):
    """No row of 300 has a heat_all (the first's is empty, the others' 'n/a'): no graph is kept, and the error
    names the reason of the first row (300 rows: counts past CPython's cache of small integers compare by value)."""
    path = _write_csv(tmp_path / "none.csv", [(f"{connected[k % 10][0]}-{k}", connected[k % 10][1], "n/a" if k else "")
                                              for k in range(300)])
    assert main(["train", "--data", str(path), "--target", "heat_all", "--epochs", "1", *TINY,
                 "--out", str(tmp_path / "r")]) == 2
    assert "got 0 and 0 (every row lacks a target: missing target: heat_all is '')" in _err(capsys)


def test_huge_targets_and_bad_numbers_are_refused(tmp_path, capsys, cifs):
    path = _write_csv(tmp_path / "huge.csv", [(mid, text, "1e200" if k == 5 else "1.0")
                                              for k, (mid, text) in enumerate(cifs[:30])])
    assert main(["train", "--data", str(path), "--target", "heat_all", "--epochs", "1", *TINY,
                 "--out", str(tmp_path / "a")]) == 2
    err = _err(capsys)
    assert "normalised" in err and cifs[5][0] in err and not (tmp_path / "a").exists()
    for bad in ("lr=inf", "lr=nan", "min_lr=-1"):
        assert main(["train", *PEROV, "--set", bad, "--out", str(tmp_path / "b")]) == 2
        assert "expected" in _err(capsys)


def test_evaluate_refuses_missing_targets_bad_limits_and_splits(tmp_path, capsys, cifs):
    out = tmp_path / "run"
    assert main(["train", *PEROV, "--epochs", "1", "--out", str(out)]) == 0
    other = _write_csv(tmp_path / "other.csv", [(mid, text, "0.1") for mid, text in cifs[:20]],
                       columns=("material_id", "cif", "band_gap"))
    capsys.readouterr()
    cases = [(["--data", str(other)], "carrying the target(s) ['heat_all'] of"),
             (["--data", str(other)], "got none of 20 rows (20 missing target)"),
             (["--limit", "-5"], "--limit as an integer >= 0"),
             (["--data", str(other), "--split", "foo"], "expected a split among")]
    for extra, fragment in cases:
        assert main(["evaluate", str(out / "best.pt"), *extra]) == 2
        err = _err(capsys)
        assert fragment in err and len(err.splitlines()) == 1, err
    # a file with a broken row and no duplicate ids: evaluated, and the skipped row is reported on stderr
    rows = [(mid, text, "0.1") for mid, text in cifs[:20]] + [("broken-row", "data_x\nnot a CIF", "0.2")]
    broken = _write_csv(tmp_path / "broken.csv", rows)
    assert main(["evaluate", str(out / "best.pt"), "--data", str(broken), "--split", "train"]) == 0
    err = capsys.readouterr().err
    assert "21 rows read" in err and "skipped" in err and "broken-row" in err and "duplicate" not in err, err


def test_resume_refuses_changed_data_but_not_an_unrecorded_hash(tmp_path, capsys, cifs):
    from ecn.checkpoint import load_checkpoint, save_checkpoint

    path = _write_csv(tmp_path / "d.csv", [(mid, text, f"{k / 10}") for k, (mid, text) in enumerate(cifs[:30])])
    out = tmp_path / "run"
    assert main(["train", "--data", str(path), "--target", "heat_all", "--epochs", "1", *TINY, "--out", str(out)]) == 0
    recorded = load_checkpoint(out / "last.pt")["data_sha256"]["train"]
    _write_csv(path, [(mid, text, f"{k / 5}") for k, (mid, text) in enumerate(cifs[:30])])
    capsys.readouterr()
    assert main(["train", "--resume", str(out)]) == 2
    err = _err(capsys)
    assert "expected the train data of the run" in err and f"(sha256 {recorded[:16]}... when the run started)" in err
    assert re.search(r"got sha256 [0-9a-f]{16}\.\.\.:", err) and recorded[:16] not in err.split("got sha256")[1]
    first = re.search(r"got sha256 ([0-9a-f]{16})", err)[1] > recorded[:16]
    for d in [d for d in range(6, 60) if d != 10]:  # (k / 10: the run's own data) changed data whose sha256
        # sorts on the other side of the recorded one: refused too
        _write_csv(path, [(mid, text, f"{k / d}") for k, (mid, text) in enumerate(cifs[:30])])
        assert main(["train", "--resume", str(out)]) == 2
        now = re.search(r"got sha256 ([0-9a-f]{16})", _err(capsys))[1]
        if (now > recorded[:16]) != first:
            break
    else:
        pytest.fail("expected a rewrite whose sha256 sorts on the other side of the recorded one")
    state = load_checkpoint(out / "last.pt")  # a run from before the hash was recorded
    save_checkpoint(out / "last.pt", {k: v for k, v in state.items() if k not in ("data_sha256", "format")})
    assert main(["train", "--resume", str(out)]) == 0


# -- 5. folders of CIFs with labels ------------------------------------------------------------

def test_a_folder_of_cifs_with_labels_trains_and_evaluates(tmp_path, capsys, cifs):
    folder = tmp_path / "cifs"
    folder.mkdir()
    for k, (mid, text) in enumerate(cifs[:30]):
        (folder / (f"{mid}.CIF" if k == 0 else f"{mid}.cif")).write_text(text)  # an upper-case suffix counts
    args = ["train", "--data", str(folder), "--target", "heat_all", "--epochs", "1", *TINY]
    assert main([*args, "--out", str(tmp_path / "none")]) == 2
    err = _err(capsys)
    assert "id_prop.csv" in err and "no labels" in err and not (tmp_path / "none").exists()
    with (folder / "id_prop.csv").open("w") as fh:  # CGCNN's convention: id,value, no header
        fh.writelines(f"{mid},{k / 10}\n" for k, (mid, _) in enumerate(cifs[:30]))
    out = tmp_path / "run"
    assert main([*args, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "30 rows read" in err and "missing CIF" not in err and "skipped: not UTF-8" not in err
    val = int(re.search(r"split train \d+, val (\d+)", err)[1])
    assert cifs[0][0] in (out / "predictions.csv").read_text() + (out / "data_report.csv").read_text() or val
    assert main(["evaluate", str(out / "best.pt"), "--data", str(folder), "--split", "val"]) == 0
    assert json.loads(capsys.readouterr().out)["structures"] == val > 0


# -- 6. one-line errors ------------------------------------------------------------------------

def test_broken_files_and_settings_are_one_line_errors(tmp_path, capsys, cifs):
    full = tmp_path / "full.csv.gz"
    with gzip.open(full, "wt", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["material_id", "cif", "heat_all"])
        writer.writerows((mid, text, "1.0") for mid, text in cifs[:30])
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(full.read_bytes()[:len(full.read_bytes()) // 2])
    assert main(["train", "--data", str(cut), "--target", "heat_all", "--epochs", "1", *TINY,
                 "--out", str(tmp_path / "r")]) == 2
    err = _err(capsys)
    assert "expected a complete gzip file" in err and str(cut) in err and len(err.splitlines()) == 1
    for text, fragment in (("targets: 5\n", "expected targets as a name"), ("data: [a, b]\n", "expected data as text"),
                           ("supercell: {a: 1}\n", "expected supercell")):
        (tmp_path / "c.yaml").write_text(text)
        assert main(["train", "--config", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "r")]) == 2
        err = _err(capsys)
        assert fragment in err and len(err.splitlines()) == 1
    assert main(["train", "--data", str(full), "--set", "limit_train=-1",
                 "--out", str(tmp_path / "r")]) == 2
    assert "limit_train >= 0" in _err(capsys)


def test_damaged_and_foreign_checkpoints_are_named(tmp_path, capsys):
    from ecn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

    good = save_checkpoint(tmp_path / "good.pt", {"model": {"w": torch.zeros(5000)}})
    data = good.read_bytes()
    (tmp_path / "head.pt").write_bytes(data[:200])  # torch: "failed finding central directory"
    (tmp_path / "cut.pt").write_bytes(data[:len(data) * 9 // 10])  # torch: "[Errno 22] Invalid argument"
    (tmp_path / "zero.pt").write_bytes(bytes(len(data)))  # torch: "... set to `False` will likely succeed"
    (tmp_path / "empty.pt").write_bytes(b"")
    for name in ("head.pt", "cut.pt", "zero.pt", "empty.pt"):
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(tmp_path / name)
        message = str(info.value)
        assert str(tmp_path / name) in message and "False" not in message and "Errno" not in message
        assert "\n" not in message
        assert main(["evaluate", str(tmp_path / name)]) == 2
        assert name in _err(capsys)


def test_limits_that_mean_nothing_are_refused(cifs):
    from ecn.data import GraphSettings, build_graphs, load_dataset

    rows = [{"id": mid, "cif": text} for mid, text in cifs[:2]]
    for bad in ({"max_neighbors": 0}, {"max_neighbors": -3}):
        with pytest.raises(ValueError, match="max_neighbors as an integer >= 1"):
            build_graphs(rows, GraphSettings(neighbors="radius", **bad), workers=1, progress=False)
        with pytest.raises(ValueError, match="max_neighbors"):
            load_dataset("perov5", "val", settings=GraphSettings(neighbors="radius", **bad), limit=2, progress=False)
    for kwargs, fragment in (({"workers": -1}, "workers"), ({"limit": -5}, "limit"), ({"chunk": 0}, "chunk")):
        with pytest.raises(ValueError, match=fragment):
            build_graphs(rows, progress=False, **kwargs)


def test_the_graph_cache_can_be_moved_or_turned_off_and_an_unwritable_one_is_found_first(tmp_path, capsys,
                                                                                         monkeypatch, cifs):
    from ecn.data import load_dataset

    path = _write_csv(tmp_path / "d.csv", [(mid, text, "1.0") for mid, text in cifs[:4]])
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ECN_GRAPH_CACHE", str(blocker / "graphs"))
    built = []
    import ecn.data.load as load

    real = load.build_graphs
    monkeypatch.setattr(load, "build_graphs", lambda *a, **k: built.append(1) or real(*a, **k))
    with pytest.raises(ValueError, match="ECN_GRAPH_CACHE=off") as info:
        load_dataset(path, target_names=["heat_all"], progress=False, workers=1)
    assert str(blocker / "graphs") in str(info.value) and not built  # refused before the build
    assert f"{blocker / 'graphs'} (Not a directory): set" in str(info.value)  # the OS's reason, in words
    monkeypatch.setenv("ECN_GRAPH_CACHE", "off")
    graphs, _ = load_dataset(path, target_names=["heat_all"], progress=False, workers=1)
    assert graphs and built
    moved = tmp_path / "moved"
    monkeypatch.setenv("ECN_GRAPH_CACHE", str(moved))
    load_dataset(path, target_names=["heat_all"], progress=False, workers=1)
    assert len(list(moved.glob("d-*.npz"))) == 1


def test_models_refuse_bad_sizes_and_batches_coloured_for_another_group(cifs):
    from ecn.data import Collater, FeatureSettings, crystal_from_cif, crystal_graph
    from ecn.models import build_model

    for bad in ({"width": 0}, {"layers": 0}, {"num_colors": -1}):  # num_colors=0 means "the group's own number"
        with pytest.raises(ValueError, match="expected"):
            build_model("ecn-s", **bad)
    graphs = [crystal_graph(crystal_from_cif(text)) for _, text in cifs[:2]]
    batch = Collater("P-1", (), FeatureSettings())(graphs)  # ECN-P-1's colours
    model = build_model("ecn-s", node_in=batch.x.shape[1], width=8, layers=1, num_colors=2)  # S_Lambda: 2 colours
    with pytest.raises(ValueError, match="edge colours"):
        model(batch)


def test_a_run_folder_that_another_process_trains_is_refused_and_left_as_it_is(tmp_path, capsys):
    """The folder's lock (``.lock``, an flock) is held by another open file here, as it is by another process
    that trains the folder: a fresh run, a resumed one and one with --overwrite are refused, exit status 2,
    and nothing in the folder changes; once the lock is released the run resumes, and leaves no lock file."""
    import fcntl

    from ecn.train import RunBusyError, train

    out = tmp_path / "run"
    assert main(["train", *PEROV, "--epochs", "1", "--out", str(out)]) == 0
    assert not (out / ".lock").exists()
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with open(out / ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for args in (["--resume", str(out)], [*PEROV, "--epochs", "2", "--out", str(out), "--overwrite"]):
            capsys.readouterr()
            assert main(["train", *args]) == 2
            err = capsys.readouterr().err
            assert f"expected no other process training {out}" in err and len(err.splitlines()) == 1, err
        with pytest.raises(RunBusyError):
            train(None, out, resume=True)
        assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != ".lock"} == before
    (out / ".lock").unlink()
    assert main(["train", *PEROV, "--epochs", "2", "--out", str(out), "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(before)  # the same files again, no lock left
