"""Write ``ecn/data/element_properties.json``: physical properties of the elements H .. Lr.

The node features ``element_features="properties"`` and ``"onehot+properties"``
(:mod:`ecn.data.features`) read this file. It is generated once from pymatgen's periodic table
(and the Cordero covalent radii of :mod:`ecn.data.radii`) and committed, so that the features of a
trained model do not change when pymatgen updates its tables; rerun this script only together with
a new feature-format version.

    python tools/element_table.py            # rewrites the file
    python tools/element_table.py --check    # exit 1 if the committed file differs from pymatgen's today
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "ecn" / "data" / "element_properties.json"

#: column -> (description with units, how it is read from a pymatgen Element)
COLUMNS = {
    "electronegativity": ("Pauling electronegativity", lambda e: e.X),
    "covalent_radius": ("Cordero covalent radius (A)", None),
    "atomic_radius": ("empirical atomic radius (A)", lambda e: e.atomic_radius),
    "ionic_radius": ("mean ionic radius over the common oxidation states (A)", lambda e: e.average_ionic_radius),
    "ionization_energy": ("first ionisation energy (eV)", lambda e: e.ionization_energies[0]),
    "electron_affinity": ("electron affinity (eV)", lambda e: e.electron_affinity),
    "atomic_mass": ("atomic mass (u)", lambda e: e.atomic_mass),
    "molar_volume": ("molar volume of the element (cm^3/mol)", lambda e: e.molar_volume),
    "mendeleev_number": ("Mendeleev number (Pettifor)", lambda e: e.mendeleev_no),
    "min_oxidation_state": ("lowest oxidation state", lambda e: e.min_oxidation_state),
    "max_oxidation_state": ("highest oxidation state", lambda e: e.max_oxidation_state),
}


def _value(read, element):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = read(element)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None
    if value is None:
        return None
    value = float(value)
    return None if not math.isfinite(value) or (value == 0 and read is COLUMNS["ionic_radius"][1]) else value


def table() -> dict:
    import pymatgen.core
    from pymatgen.core.periodic_table import Element

    from ecn.data.radii import MAX_Z, RADIUS_BY_Z

    rows = {}
    for z in range(1, MAX_Z + 1):
        element = Element.from_Z(z)
        row = []
        for name, (_, read) in COLUMNS.items():
            if name == "covalent_radius":
                radius = float(RADIUS_BY_Z[z])
                row.append(None if math.isnan(radius) else radius)
            else:
                row.append(_value(read, element))
        rows[str(z)] = row
    return {
        "source": f"pymatgen {pymatgen.core.__version__} periodic table; Cordero covalent radii (ecn.data.radii)",
        "written_by": "tools/element_table.py",
        "columns": list(COLUMNS),
        "units": {name: desc for name, (desc, _) in COLUMNS.items()},
        "missing": "null: the source gives no value (the feature is then the mean over the elements that have one)",
        "rows": rows,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    args = parser.parse_args(argv)
    data = table()
    if args.check:
        committed = json.loads(OUT.read_text())
        same = committed["columns"] == data["columns"] and committed["rows"] == data["rows"]
        print("element table: " + ("unchanged" if same else "differs from pymatgen's today"))
        return 0 if same else 1
    tmp = OUT.with_name(OUT.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(OUT)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(data['rows'])} elements x {len(data['columns'])} properties")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
