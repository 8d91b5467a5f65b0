"""The paper's Materials Project dataset (Appendix A.6), fetched with the official ``mp-api`` client.

``fetch_materials_project`` asks the summary endpoint for every material's structure and the
paper's targets (formation energy per atom, Fermi energy, band gap, total magnetisation, number
of sites, space group) when ``MP_API_KEY`` is set; ``clean_materials_project`` applies the
paper's cleaning and reports the count after each step, to compare with the paper's Table 4
(126,126 -> 114,605 -> 96,315 -> 82,229 -> 78,649):

1. duplicates: same reduced formula and same space group; keep the lowest formation energy;
2. at most 50 atoms in the cell;
3. 3D materials only: Larsen dimensionality 3 of the bond network (computed exactly here on the
   paper's own bonds, :mod:`ecn.data.dimensionality`; the Materials Project's field uses
   CrystalNN bonds instead);
4. connected supercell graphs;
5. a seeded 80 / 10 / 10 split.

GGA vs GGA+U: the Materials Project applies a Hubbard U exactly to oxides and fluorides that
contain Co, Cr, Fe, Mn, Mo, Ni, V or W (its ``MPRelaxSet`` rule), so the flag is derived from
the composition and stored as the ``hubbard`` target (a node feature in :mod:`ecn.data.features`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .build import BuildLimits
from .dimensionality import dimensionality
from .graph import GraphSettings, expand_to_supercell, unit_cell_edges
from .neighbors import NeighborError
from .structures import Crystal, to_crystal

__all__ = ["MP_FIELDS", "MP_TARGETS", "fetch_materials_project", "clean_materials_project", "CleaningReport",
           "hubbard_u_applies", "split_indices"]

log = logging.getLogger("ecn.data")

MP_FIELDS = ("material_id", "structure", "formation_energy_per_atom", "efermi", "band_gap",
             "total_magnetization", "nsites", "symmetry", "formula_pretty")
#: Targets of the paper's Table 1; magnetisation is per atom (total / nsites).
MP_TARGETS = ("formation_energy_per_atom", "efermi", "band_gap", "magnetization_per_atom", "is_metal", "hubbard")

_U_METALS = {24, 25, 26, 27, 28, 23, 42, 74}  # Cr Mn Fe Co Ni V Mo W
_U_ANIONS = {8, 9}  # O F


def hubbard_u_applies(numbers: Iterable[int]) -> bool:
    """Whether the Materials Project runs GGA+U for this composition (oxide or fluoride with a U metal).

    >>> hubbard_u_applies([26, 8]), hubbard_u_applies([26, 16]), hubbard_u_applies([29, 8])
    (True, False, False)
    """
    z = set(int(v) for v in numbers)
    return bool(z & _U_METALS) and bool(z & _U_ANIONS)


def _get(doc, name):
    return doc.get(name) if isinstance(doc, dict) else getattr(doc, name, None)


def fetch_materials_project(api_key: str | None = None, client=None, chunk_size: int = 1000) -> list[dict]:
    """Every material from the summary endpoint as plain dicts (structure as a pymatgen ``Structure``).

    ``client`` is an ``mp_api.client.MPRester`` (made from ``api_key`` or ``$MP_API_KEY`` when not
    given); anything with the same ``materials.summary.search(fields=...)`` method works, which is
    how the tests replay recorded responses without the network.
    """
    if client is None:
        api_key = api_key or os.environ.get("MP_API_KEY")
        if not api_key:
            raise RuntimeError("expected a Materials Project API key in MP_API_KEY (or api_key=...), got none")
        try:
            from mp_api.client import MPRester
        except ImportError as exc:
            raise RuntimeError("expected the mp-api package (pip install 'ecn[mp]'), got ImportError") from exc
        client = MPRester(api_key)
    docs = client.materials.summary.search(fields=list(MP_FIELDS), chunk_size=chunk_size)
    out = []
    for doc in docs:
        symmetry = _get(doc, "symmetry")
        out.append({
            "material_id": str(_get(doc, "material_id")),
            "structure": _get(doc, "structure"),
            "formation_energy_per_atom": _get(doc, "formation_energy_per_atom"),
            "efermi": _get(doc, "efermi"),
            "band_gap": _get(doc, "band_gap"),
            "total_magnetization": _get(doc, "total_magnetization"),
            "nsites": _get(doc, "nsites"),
            "spacegroup": int(_get(symmetry, "number")) if symmetry is not None else None,
            "formula_pretty": _get(doc, "formula_pretty"),
        })
    return out


@dataclass
class CleaningReport:
    """Counts after each cleaning step (compare the paper's Table 4), and the split sizes."""

    counts: dict = field(default_factory=dict)
    dropped: list = field(default_factory=list)
    split: dict = field(default_factory=dict)

    def summary(self) -> str:
        steps = " -> ".join(f"{name} {n}" for name, n in self.counts.items())
        return f"{steps}; split " + " / ".join(f"{k} {v}" for k, v in self.split.items())


def split_indices(n: int, seed: int = 0, fractions=(0.8, 0.1, 0.1)) -> dict:
    """A seeded random split of ``range(n)`` into train / val / test index arrays.

    >>> {k: len(v) for k, v in split_indices(10, seed=1).items()}
    {'train': 8, 'val': 1, 'test': 1}
    """
    order = np.random.default_rng(seed).permutation(n)
    n_train = int(round(fractions[0] * n))
    n_val = int(round(fractions[1] * n))
    return {"train": np.sort(order[:n_train]), "val": np.sort(order[n_train:n_train + n_val]),
            "test": np.sort(order[n_train + n_val:])}


def _reduced_formula(crystal: Crystal) -> str:
    from functools import reduce
    from math import gcd

    counts: dict[int, int] = {}
    for z in crystal.numbers.tolist():
        counts[z] = counts.get(z, 0) + 1
    g = reduce(gcd, counts.values())
    return " ".join(f"{z}:{n // g}" for z, n in sorted(counts.items()))


def clean_materials_project(records: Sequence[dict], settings: GraphSettings = GraphSettings(), seed: int = 0,
                            limits: BuildLimits = BuildLimits()) -> tuple[dict, CleaningReport]:
    """Apply the paper's cleaning (see the module doc); returns ``({split: graphs}, report)``."""
    report = CleaningReport()
    report.counts["all"] = len(records)
    crystals = []
    for r in records:
        try:
            crystal = to_crystal(r["structure"], id=r["material_id"])
            energy = float(r["formation_energy_per_atom"])
        except Exception as exc:
            report.dropped.append((r.get("material_id"), f"unusable record: {exc}"))
            continue
        crystals.append((r, crystal, energy))
    best: dict = {}
    for r, crystal, energy in crystals:
        key = (_reduced_formula(crystal), r.get("spacegroup"))
        if key not in best or energy < best[key][2]:
            best[key] = (r, crystal, energy)
    kept = sorted(best.values(), key=lambda t: t[0]["material_id"])
    report.counts["no duplicates"] = len(kept)
    kept = [t for t in kept if t[1].num_sites <= limits.max_sites]
    report.counts[f"<= {limits.max_sites} sites"] = len(kept)
    three_d, graphs = [], []
    for r, crystal, energy in kept:
        try:
            edges = unit_cell_edges(crystal, settings)
        except NeighborError as exc:
            report.dropped.append((r["material_id"], f"no graph: {exc}"))
            continue
        if dimensionality(crystal.num_sites, edges.src, edges.dst, edges.image) != 3:
            continue
        three_d.append(r["material_id"])
        targets = {
            "formation_energy_per_atom": energy,
            "efermi": _float(r.get("efermi")),
            "band_gap": _float(r.get("band_gap")),
            "magnetization_per_atom": _float(r.get("total_magnetization")) / crystal.num_sites,
            "is_metal": float(_float(r.get("band_gap")) <= 1e-5),
            "hubbard": float(hubbard_u_applies(crystal.numbers)),
        }
        graph = expand_to_supercell(crystal, edges, settings.supercell, id=r["material_id"],
                                    targets={k: v for k, v in targets.items() if np.isfinite(v)})
        if limits.require_connected and not graph.is_connected():
            continue
        graphs.append(graph)
    report.counts["3D"] = len(three_d)
    report.counts["valid graphs"] = len(graphs)
    parts = split_indices(len(graphs), seed)
    out = {name: [graphs[k] for k in idx] for name, idx in parts.items()}
    report.split = {name: len(v) for name, v in out.items()}
    log.info("Materials Project cleaning: %s", report.summary())
    return out, report


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
