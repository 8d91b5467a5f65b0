"""``ecn predict`` and :mod:`ecn.predict` on real Perov-5 structures, through real subprocesses."""

import csv
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO, read_cifs

from ecn.checkpoint import load_checkpoint, save_checkpoint
from ecn.config import TrainConfig
from ecn.data import crystal_from_cif, crystal_graph
from ecn.models import ModelConfig, build_model, num_colors_for
from ecn.predict import Predictor, iter_inputs, structure_files
from ecn.train import Normalizer, _config_of, _predict, graph_settings, model_from_checkpoint, predict_files

CKPT = REPO / "docs" / "results" / "checkpoints"


def _ecn(*args, stdin=None, timeout=300):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "ecn", *map(str, args)], capture_output=True, text=True,
                          input=stdin, timeout=timeout, env=env, cwd=REPO)


@pytest.fixture(scope="module")
def rows(data_dir):
    return read_cifs(data_dir / "perov_5" / "test.csv.gz", limit=40)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, rows):
    """A folder with CIFs, a nested POSCAR, a two-frame extended XYZ, a bad CIF and a note; a CSV file."""
    from ase.io import write
    from pymatgen.io.ase import AseAtomsAdaptor

    root = tmp_path_factory.mktemp("inputs")
    folder = root / "structures"
    (folder / "nested").mkdir(parents=True)
    for mid, cif in rows[:4]:
        (folder / f"{mid}.cif").write_text(cif)
    atoms = [AseAtomsAdaptor.get_atoms(crystal_from_cif_structure(cif)) for _, cif in rows[4:6]]
    write(folder / "nested" / "POSCAR", atoms[0], format="vasp")
    write(folder / "nested" / "two.extxyz", atoms, format="extxyz")
    (folder / "broken.cif").write_text("data_broken\n_cell_length_a 4.0\n")
    (folder / "notes.txt").write_text("not a structure")
    table = root / "table.csv"
    with table.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["material_id", "cif"])
        for mid, cif in rows[6:16]:
            writer.writerow([mid, cif])
        writer.writerow(["bad-row", "not a cif"])
    return {"folder": folder, "csv": table, "rows": rows}


def crystal_from_cif_structure(cif):
    from pymatgen.core import Structure

    return Structure.from_str(cif, fmt="cif")


def test_folders_are_searched_recursively_for_every_reader(inputs):
    names = [p.relative_to(inputs["folder"]).as_posix() for p in structure_files(inputs["folder"])]
    assert "notes.txt" not in names and "nested/POSCAR" in names and "nested/two.extxyz" in names
    assert len(names) == 7
    items = list(iter_inputs([str(inputs["csv"]), str(inputs["folder"] / "missing.cif")]))
    assert [it[0] for it in items] == ["cif"] * 11 + ["error"]
    assert items[0][2] == inputs["rows"][6][0] and items[-1][3] == "no such file or folder"


def test_cli_folder_and_csv_to_a_csv_file_with_errors_reported(inputs, tmp_path):
    out = tmp_path / "pred.csv"
    r = _ecn("predict", "perov5-cgcnn", inputs["folder"], inputs["csv"], "--out", out, "--batch-size", "4",
             "--workers", "2")
    assert r.returncode == 1, r.stderr
    table = list(csv.DictReader(out.open()))
    assert list(table[0]) == ["id", "source", "heat_all", "error"]
    assert len(table) == 7 + 1 + 11  # 7 files, the XYZ's second frame, 11 CSV rows
    bad = [t for t in table if t["error"]]
    assert sorted(t["id"] for t in bad) == ["bad-row", "broken"]
    assert all(t["heat_all"] == "" for t in bad)
    good = [t for t in table if not t["error"]]
    assert all(np.isfinite(float(t["heat_all"])) for t in good)
    assert {t["source"] for t in good} >= {f"{inputs['csv']}:1", str(inputs["folder"] / "nested" / "two.extxyz") + ":2"}
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("ecn: predicting heat_all (eV per 5-atom cell) with perov5-cgcnn")
    assert any(line.startswith(f"{inputs['csv']}:11: expected a parsable CIF") for line in lines)
    assert any(line.startswith(str(inputs["folder"] / "broken.cif") + ": ") for line in lines)
    assert lines[-1].startswith("ecn: 17 of 19 structures predicted, 2 failed")
    # the same structure read from CIF, POSCAR and extended XYZ gets the same prediction
    by_source = {t["source"]: float(t["heat_all"]) for t in good}
    poscar = by_source[str(inputs["folder"] / "nested" / "POSCAR")]
    assert poscar == pytest.approx(by_source[str(inputs["folder"] / "nested" / "two.extxyz") + ":1"], abs=1e-5)


def test_predict_files_names_the_files_it_cannot_read(inputs, tmp_path):
    """One unreadable file is named alone; of seven, the count is given and the first five are named."""
    good = sorted(str(p) for p in inputs["folder"].glob("*.cif") if p.stem != "broken")[:2]
    broken = str(inputs["folder"] / "broken.cif")
    with pytest.raises(ValueError, match=r"got 1 that cannot: " + re.escape(broken) + ": expected") as info:
        predict_files(CKPT / "perov5-cgcnn.pt", [*good, broken])
    assert "; " not in str(info.value)  # one file named, so no separator
    seven = [tmp_path / f"broken{k}.cif" for k in range(7)]
    for path in seven:
        path.write_text("data_broken\n_cell_length_a 4.0\n")
    with pytest.raises(ValueError, match=r"got 7 that cannot: ") as info:
        predict_files(CKPT / "perov5-cgcnn.pt", [*good, *map(str, seven)])
    named = [part.split(": ")[0] for part in str(info.value).split("cannot: ", 1)[1].split("; ")]
    assert named == [str(p) for p in seven[:5]]
    assert [source for source, _ in predict_files(CKPT / "perov5-cgcnn.pt", good)] == good


def test_cli_stdout_lines_and_stdin_list(inputs):
    files = sorted(str(p) for p in inputs["folder"].glob("*.cif") if p.stem != "broken")
    r = _ecn("predict", "perov5-cgcnn", "-", stdin="\n".join(files) + "\n")
    assert r.returncode == 0, r.stderr
    lines = [line.split("\t") for line in r.stdout.strip().splitlines()]
    assert [line[0] for line in lines] == files and all(len(line) == 2 for line in lines)
    direct = predict_files(CKPT / "perov5-cgcnn.pt", files)
    assert [float(line[1]) for line in lines] == pytest.approx([v[0] for _, v in direct], abs=1e-5)
    r = _ecn("predict", "perov5-cgcnn", inputs["csv"])  # CSV rows: named by their id
    assert r.returncode == 1
    names = [line.split("\t")[0] for line in r.stdout.strip().splitlines()]
    assert names == [mid for mid, _ in inputs["rows"][6:16]] + ["bad-row"]
    assert r.stdout.splitlines()[-1] == "bad-row\t"


def test_ensemble_mean_and_std(inputs, tmp_path):
    out = tmp_path / "ens.csv"
    r = _ecn("predict", CKPT / "perov5-cgcnn.pt", "perov5-mpnn", inputs["csv"], "--out", out, "--workers", "0")
    assert r.returncode == 1
    table = [t for t in csv.DictReader(out.open()) if not t["error"]]
    assert list(table[0]) == ["id", "source", "heat_all", "heat_all_std", "error"]
    files = []
    for k, (mid, cif) in enumerate(inputs["rows"][6:9]):
        files.append(tmp_path / f"{mid}.cif")
        files[-1].write_text(cif)
    a = np.array([v for _, v in predict_files(CKPT / "perov5-cgcnn.pt", files)])
    b = np.array([v for _, v in predict_files(CKPT / "perov5-mpnn.pt", files)])
    got = np.array([[float(t["heat_all"]), float(t["heat_all_std"])] for t in table[:3]])
    assert got[:, 0] == pytest.approx((a + b)[:, 0] / 2, abs=2e-5)
    assert got[:, 1] == pytest.approx(np.abs(a - b)[:, 0] / 2, abs=2e-5)


def _usage(*args):
    """``ecn predict ARGS`` in a fresh process: its exit status, stderr, and whether it imported torch."""
    code = ("import sys; from ecn.cli import main; status = main(sys.argv[1:]); "
            "print(status, 'torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code, "predict", *map(str, args)], capture_output=True, text=True,
                       timeout=300, cwd=REPO)
    status, torch_loaded = r.stdout.splitlines()[-1].split()  # after what the command itself printed
    return int(status), r.stderr, torch_loaded == "True"


def test_usage_errors_exit_2_and_come_before_torch_is_imported(inputs):
    for args, message in [
        (["no-such-model", inputs["csv"]], "'no-such-model' is neither a .pt file nor a published name among ["),
        (["perov5-cgcnn"], "expected at least one INPUT (a structure file, a folder, a CSV file or -), got none"),
        (["perov5-cgcnn", inputs["csv"], "--batch-size", "0"], "expected --batch-size >= 1 and --workers >= 0, got 0"),
        (["perov5-cgcnn", inputs["csv"], "--workers", "-1"], "and --workers >= 0, got 256 and -1"),
    ]:
        status, err, torch_loaded = _usage(*args)
        assert (status, torch_loaded) == (2, False) and message in err and err.startswith("ecn: error: "), err
    assert _usage("--list")[::2] == (0, False)
    r = _ecn("predict", "--checkpoint", "missing.pt", inputs["csv"])  # found out by loading it
    assert r.returncode == 2 and "missing.pt" in r.stderr
    r = _ecn("predict", "--list")
    assert r.returncode == 0 and "perov5-ecn-s" in r.stdout.split()


def _graphs(rows, config):
    return [crystal_graph(crystal_from_cif(cif, id=mid), settings=graph_settings(config)) for mid, cif in rows]


def test_same_numbers_as_the_training_predict_path_for_every_model_form(rows, tmp_path):
    """Published ECN-S (explicit supercell, cell one-hot), a quotient-form ECN-P1 and CGCNN."""
    quotient = TrainConfig(model="ecn-p1", width=16, layers=2, edge_dim=8)
    torch.manual_seed(0)
    model = build_model(ModelConfig(name="ecn-p1", node_in=104, width=16, layers=2, edge_dim=8,
                                    num_colors=num_colors_for("ecn-p1")))
    save_checkpoint(tmp_path / "q.pt", {"model": model.state_dict(), "config": quotient.to_dict(),
                                        "model_config": vars(model.config),
                                        "normalizer": {"mean": [0.5], "std": [2.0]}, "epoch": 1})
    for path in (CKPT / "perov5-ecn-s.pt", tmp_path / "q.pt", CKPT / "perov5-cgcnn.pt"):
        payload = load_checkpoint(path)
        config = _config_of(payload)
        expected = _predict(model_from_checkpoint(payload), _graphs(rows[:12], config), config,
                            Normalizer.from_dict(payload["normalizer"]),
                            torch.device("cpu"), batch_size=5)
        items = [("cif", f"row{k}", mid, cif) for k, (mid, cif) in enumerate(rows[:12])]
        predictor = Predictor([path])
        for workers in (0, 2):
            got = np.array([r.values for r in predictor.stream(items, batch_size=5, workers=workers)])
            if workers == 0:  # the same batches in the same process: bit for bit
                np.testing.assert_array_equal(got, expected)
            else:  # graphs built in other processes: a merged class of gauges may be run through another
                # of its members (ecn.data.frames), which gives the same output to float32 rounding
                np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_rows_already_written_survive_a_kill(data_dir, tmp_path):
    out = tmp_path / "killed.csv"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "ecn", "predict", "perov5-cgcnn",
                             data_dir / "perov_5" / "test.csv.gz", "--out", out, "--batch-size", "8", "--workers", "1",
                             "--quiet"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and (not out.exists() or out.read_text().count("\n") < 40):
            time.sleep(0.2)
        seen = out.read_text().count("\n")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = Path(out).read_text()
    assert text.endswith("\n") and seen >= 40
    table = list(csv.DictReader(text.splitlines()))
    assert len(table) >= seen - 1 and len(table) < 3785
    assert all(np.isfinite(float(t["heat_all"])) and t["error"] == "" for t in table)


def test_predictor_predict_objects_and_errors(rows):
    from ase import Atoms
    from pymatgen.io.ase import AseAtomsAdaptor

    predictor = Predictor([CKPT / "perov5-cgcnn.pt"])
    structure = crystal_from_cif_structure(rows[0][1])
    atoms = Atoms(AseAtomsAdaptor.get_atoms(structure))  # plain ASE Atoms (pymatgen's MSONAtoms is refused)
    values = predictor.predict([structure, atoms])
    assert values.shape == (2, 1) and values[0, 0] == pytest.approx(values[1, 0], abs=1e-5)
    with pytest.raises(ValueError, match=r"structures\[1\]: expected a pymatgen Structure"):
        predictor.predict([structure, b"not a structure object"])
    nan = predictor.predict([structure, 3], errors="nan")
    assert np.isfinite(nan[0, 0]) and np.isnan(nan[1, 0])
