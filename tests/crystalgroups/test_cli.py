"""The command-line interface that outside checks use."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from conftest import read_cifs

from crystalgroups import bravais_types
from crystalgroups.cli import main

SPECS_3D = [t.symbol for t in bravais_types(3)] + ["P-1", "S"]
SPECS_2D = [t.symbol for t in bravais_types(2)] + ["P-1", "S"]


def run_json(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


def test_list_json_has_all_types(capsys):
    rows = run_json(capsys, "list", "--json")
    assert [r["symbol"] for r in rows] == [t.symbol for t in bravais_types()]
    assert [r["point_group_order"] for r in run_json(capsys, "list", "--dim", "2", "--json")] == [2, 4, 4, 8, 12]


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("spec,dim", [(s, 3) for s in SPECS_3D] + [(s, 2) for s in SPECS_2D])
def test_pattern_json_answers_for_every_type(capsys, spec, dim, n):
    out = run_json(capsys, "pattern", spec, "--supercell", *([str(n)] * dim), "--json")
    cells = n**dim
    assert out["type"] == spec and out["dim"] == dim and out["supercell"] == [n] * dim
    assert len(out["node_colors"]) == cells and np.array(out["edge_colors"]).shape == (cells, cells)
    assert out["num_edge_colors"] == len(set(np.ravel(out["edge_colors"]).tolist()))
    assert out["group_order"] == cells * out["point_group_order"]
    if spec == "S":
        assert out["permutation_group_order"] == math.factorial(cells) and out["num_edge_colors"] == min(2, cells)
    else:
        assert out["permutation_group_order"] <= out["group_order"]
        assert out["group_order"] % out["permutation_group_order"] == 0


def test_pattern_on_a_compatible_non_cubic_supercell(capsys):
    out = run_json(capsys, "pattern", "tP", "--supercell", "2", "2", "3", "--json")
    assert out["group_order"] == 12 * 16


@pytest.mark.parametrize("args,fragment", [
    (["pattern", "cP", "--supercell", "2", "2", "3"], "does not preserve its sublattice"),
    (["pattern", "fcx", "--supercell", "2", "2", "2"], "Did you mean 'fcc'"),
    (["pattern", "cP", "--supercell", "2", "0", "2"], "positive integer supercell sizes"),
    (["pattern", "cP", "--supercell", "2"], "expected 2 or 3 supercell sizes"),
    (["classify", "/nonexistent.cif"], "no file at"),
])
def test_bad_input_exits_nonzero_with_one_line(capsys, args, fragment):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_plot_option_writes_a_picture(tmp_path, capsys):
    target = tmp_path / "p.svg"
    assert main(["pattern", "hR", "--supercell", "2", "2", "2", "--plot", str(target)]) == 0
    assert target.read_text().lstrip().startswith("<?xml")


def test_classify_real_cifs(data_dir, tmp_path, capsys):
    (mid, cif), = read_cifs(data_dir / "perov_5" / "test.csv.gz", limit=1)
    path = tmp_path / f"{mid}.cif"
    path.write_text(cif)
    out = run_json(capsys, "classify", str(path), "--json")
    assert out["bravais_type"] == "cP" and out["point_group_order"] == 48
    bad = tmp_path / "bad.cif"
    bad.write_text("data_x\n_cell_length_a oops\n")
    assert main(["classify", str(bad)]) == 2
    assert "cannot parse" in capsys.readouterr().err


def test_console_script_and_module_entry_points():
    for cmd in (["crystalgroups"], [sys.executable, "-m", "crystalgroups"]):
        exe = (
            cmd
            if cmd[0] != "crystalgroups"
            else [str(__import__("pathlib").Path(sys.executable).parent / "crystalgroups")]
        )
        result = subprocess.run(
            exe + ["pattern", "S", "--supercell", "2", "2", "--json"], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["num_edge_colors"] == 2
    result = subprocess.run(
        [sys.executable, "-m", "crystalgroups", "pattern", "nope", "--supercell", "2", "2"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1


def test_classify_uses_the_crystals_primitive_lattice_by_default(tmp_path, capsys):
    import warnings

    from pymatgen.core import Lattice as PmgLattice
    from pymatgen.core import Structure

    path = tmp_path / "Cu.cif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Structure.from_spacegroup("Fm-3m", PmgLattice.cubic(3.615), ["Cu"], [[0, 0, 0]]).to(filename=str(path))
    primitive = run_json(capsys, "classify", str(path), "--json")
    as_given = run_json(capsys, "classify", str(path), "--cell", "given", "--json")
    assert (primitive["bravais_type"], primitive["num_sites"]) == ("cF", 1)
    assert (as_given["bravais_type"], as_given["num_sites"]) == ("cP", 4)


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["patern"], "invalid choice"),
        (["pattern", "cP"], "--supercell"),
        (["pattern", "cP", "--supercell", "100", "100", "100"], "at most 8,000 cells"),
        (["pattern", "cP", "--supercell", "2", "2", "2", "--plot", "/proc/version/x.png"], "existing folder"),
        (["pattern", "cP", "--supercell", "2", "2", "2", "--plot", "/no/such/folder/x.png"], "existing folder"),
        (["pattern", "cP", "--supercell", "2", "2", "2", "--plot", "/proc/x.png"], "writable file"),
        (["pattern", "cf", "--supercell", "2", "2", "2"], "Did you mean 'cF'"),
        (["pattern", "Fm-3m", "--supercell", "2", "2"], "which is the 3-dimensional type 'cF'"),
        (["pattern", "cP", "--supercell-matrix", "1", "2", "3"], "4 or 9 integers"),
        (["pattern", "cP", "--supercell", "2", "2", "2", "--sites", "0"], "positive number of --sites"),
        (["pattern", "cX", "--supercell", "2", "2", "2"], "'P1' (translations only) and 'S'"),
    ],
)
def test_more_bad_input_is_one_line(args, fragment):
    result = subprocess.run([sys.executable, "-m", "crystalgroups", *args], capture_output=True, text=True)
    assert result.returncode == 2 and fragment in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_a_huge_tolerance_is_an_error_not_a_memory_blowup(data_dir, tmp_path, capsys):
    ((mid, cif),) = read_cifs(data_dir / "perov_5" / "test.csv.gz", limit=1)
    path = tmp_path / "x.cif"
    path.write_text(cif)
    assert main(["classify", str(path), "--tol", "5"]) == 2
    assert "expected a tolerance well below the size of the cell" in capsys.readouterr().err


def test_new_pattern_options(capsys):
    rows = run_json(capsys, "pattern", "tp", "--supercell-rows", "1", "1", "-1", "1", "--json")
    cols = run_json(capsys, "pattern", "tp", "--supercell-matrix", "1", "-1", "1", "1", "--json")
    assert rows["edge_colors"] == cols["edge_colors"] and rows["num_cells"] == 2
    sites = run_json(capsys, "pattern", "cP", "--supercell", "2", "2", "2", "--sites", "2", "--json")
    plain = run_json(capsys, "pattern", "cP", "--supercell", "2", "2", "2", "--json")
    assert sites["num_nodes"] == 16 and sites["num_edge_colors"] == 2 * plain["num_edge_colors"]
    assert sites["group_order"] == 2 * plain["group_order"] and sites["num_cells"] == 8
    big = run_json(capsys, "pattern", "cP", "--supercell", "5", "5", "5", "--json")
    assert big["excess_symmetry"] is None  # not checked by default above 64 cells
    checked = run_json(capsys, "pattern", "cF", "--supercell", "2", "2", "2", "--no-excess-check", "--json")
    assert checked["excess_symmetry"] is None
    assert run_json(capsys, "pattern", "cF", "--supercell", "2", "2", "2", "--json")["excess_symmetry"] is True


def test_version_and_quiet_broken_pipe():
    exe = str(__import__("pathlib").Path(sys.executable).parent / "crystalgroups")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("crystalgroups ")
    piped = subprocess.run(
        f"'{exe}' pattern cP --supercell 6 6 6 --json | head -c 10; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
    )
    assert piped.returncode == 0 and piped.stderr == "" and piped.stdout == '{"type": "'
