"""The group core stays free of torch and pymatgen (house style 1)."""

import subprocess
import sys


def test_import_crystalgroups_leaves_torch_and_pymatgen_out():
    code = (
        "import sys, crystalgroups, crystalgroups.patterns, crystalgroups.cli, crystalgroups.plot;"
        "crystalgroups.pattern('cP', (2, 2, 2));"
        "bad = [m for m in ('torch', 'pymatgen', 'ecn', 'matplotlib') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ecn_is_importable_and_depends_one_way():
    result = subprocess.run(
        [sys.executable, "-c", "import ecn, sys; print('crystalgroups' in sys.modules or True)"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "crystalgroups"
    offenders = [p.name for p in root.rglob("*.py") if "import ecn" in p.read_text() or "from ecn" in p.read_text()]
    assert offenders == []
