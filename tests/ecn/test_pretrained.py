"""Published models by name: the registry, sha256 checks, ensembles of seeds, ``ecn.load``."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, read_cifs

import ecn
from ecn.pretrained import PretrainedError, checkpoint_folders, resolve, write_registry

CKPT = REPO / "docs" / "results" / "checkpoints"


def test_published_names_resolve_to_files_matching_the_committed_registry():
    names = ecn.list_models()
    assert {f"perov5-{m}" for m in ("ecn-s", "ecn-p1", "ecn-g", "mpnn", "cgcnn", "megnet")} <= set(names)
    for name in names:  # fails when a checkpoint was replaced without `python -m ecn.pretrained`
        assert all(p.is_file() and p.parent == CKPT for p in resolve(name))
    with pytest.raises(PretrainedError, match="Could not resolve model 'perov5-nope' among choices"):
        resolve("perov5-nope")


def test_load_by_name_predicts_structures_atoms_and_paths(data_dir, tmp_path):
    from ase import Atoms
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    mid, cif = read_cifs(data_dir / "perov_5" / "test.csv.gz", limit=1)[0]
    path = tmp_path / f"{mid}.cif"
    path.write_text(cif)
    structure = Structure.from_str(cif, fmt="cif")
    model = ecn.load("perov5-ecn-s")
    assert model.targets == ("heat_all",) and model.units == {"heat_all": "eV per 5-atom cell"}
    values = model.predict([structure, Atoms(AseAtomsAdaptor.get_atoms(structure)), str(path)])
    assert values.shape == (3, 1)
    assert np.ptp(values) < 1e-5
    from ecn.train import predict_files

    assert values[2, 0] == pytest.approx(predict_files(CKPT / "perov5-ecn-s.pt", [path])[0][1][0], abs=1e-6)


@pytest.fixture
def seeds(tmp_path, monkeypatch):
    """A folder publishing two seeds of one name (two real checkpoints with the same target)."""
    folder = tmp_path / "published"
    folder.mkdir()
    shutil.copy(CKPT / "perov5-cgcnn.pt", folder / "perov5-small-seed0.pt")
    shutil.copy(CKPT / "perov5-mpnn.pt", folder / "perov5-small-seed1.pt")
    monkeypatch.setenv("ECN_PRETRAINED_DIR", str(folder))
    return folder


def test_a_name_with_several_seeds_is_an_ensemble(seeds, data_dir, tmp_path):
    write_registry(seeds)
    assert checkpoint_folders()[0] == seeds
    assert {"perov5-small", "perov5-small-seed0", "perov5-small-seed1"} <= set(ecn.list_models())
    model = ecn.load("perov5-small")
    assert model.names == ["perov5-small-seed0", "perov5-small-seed1"]
    mid, cif = read_cifs(data_dir / "perov_5" / "test.csv.gz", limit=1)[0]
    path = tmp_path / "one.cif"
    path.write_text(cif)
    mean, std = model.predict([path], return_std=True)
    a, b = ecn.load("perov5-small-seed0").predict([path]), ecn.load("perov5-small-seed1").predict([path])
    assert mean[0, 0] == pytest.approx((a[0, 0] + b[0, 0]) / 2, abs=1e-6)
    assert std[0, 0] == pytest.approx(abs(a[0, 0] - b[0, 0]) / 2, abs=1e-6)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "ecn", "predict", "perov5-small", path], capture_output=True,
                       text=True, env=env, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stderr
    name, value, spread = r.stdout.strip().split("\t")
    assert name == str(path) and float(value) == pytest.approx(mean[0, 0], abs=1e-5)
    assert float(spread) == pytest.approx(std[0, 0], abs=1e-5)
    assert "an ensemble of 2: perov5-small-seed0, perov5-small-seed1" in r.stderr


def test_a_replaced_checkpoint_is_refused_until_the_registry_is_rewritten(seeds):
    write_registry(seeds)
    shutil.copy(CKPT / "perov5-megnet.pt", seeds / "perov5-small-seed1.pt")  # a newer file, same name
    with pytest.raises(PretrainedError, match=r"file was replaced or damaged.*python -m ecn\.pretrained"):
        ecn.load("perov5-small")
    r = subprocess.run([sys.executable, "-m", "ecn.pretrained", seeds], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "perov5-small\tcgcnn" in r.stdout
    registry = json.loads((seeds / "registry.json").read_text())
    assert [m["file"] for m in registry["models"]["perov5-small"]["members"]] == ["perov5-small-seed0.pt",
                                                                                  "perov5-small-seed1.pt"]
    assert ecn.load("perov5-small").names == ["perov5-small-seed0", "perov5-small-seed1"]


def test_import_ecn_loads_neither_torch_nor_pymatgen():
    code = "import sys, ecn; print('torch' in sys.modules, 'pymatgen' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.split() == ["False", "False"]
