"""The Materials Project pipeline on a sample of summary documents, replayed without the network.

The sample (tests/ecn/fixtures/mp_summary_sample.json) is written in the summary endpoint's
document format from pymatgen-built structures: NaCl twice (a duplicate), NaCl as CsCl type,
diamond, graphite (layers), a 64-atom cell, FeO (GGA+U), an N2 molecular crystal, a 48-atom cell.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from ecn.data.dimensionality import component_dimensionalities, dimensionality
from ecn.data.materials_project import (
    clean_materials_project,
    fetch_materials_project,
    hubbard_u_applies,
    split_indices,
)
from ecn.data.neighbors import isayev_neighbors

SAMPLE = Path(__file__).parent / "fixtures" / "mp_summary_sample.json"


class ReplayClient:
    """Stands where ``MPRester`` stands: ``client.materials.summary.search(fields=...)``."""

    def __init__(self, docs):
        from pymatgen.core import Structure

        self.calls = []
        outer = self

        class Summary:
            def search(self, fields, chunk_size=1000):
                outer.calls.append(tuple(fields))
                return [{k: (Structure.from_dict(v) if k == "structure" else v) for k, v in d.items() if k in fields}
                        for d in docs]

        class Materials:
            summary = Summary()

        self.materials = Materials()


@pytest.fixture(scope="module")
def records():
    client = ReplayClient(json.loads(SAMPLE.read_text()))
    out = fetch_materials_project(client=client)
    assert client.calls and "structure" in client.calls[0]
    return out


def test_cleaning_steps_and_counts(records):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        splits, report = clean_materials_project(records, seed=0)
    counts = list(report.counts.values())
    assert counts == [9, 8, 7, 5, 5]  # the NaCl duplicate; the 64-atom cell; graphite and N2 (not 3D)
    ids = sorted(g.id for part in splits.values() for g in part)
    assert ids == ["mp-1", "mp-3", "mp-4", "mp-7", "mp-9"]  # mp-1 is the lower-energy NaCl of the pair
    assert sum(report.split.values()) == 5
    feo = next(g for part in splits.values() for g in part if g.id == "mp-7")
    assert feo.targets["hubbard"] == 1.0 and feo.targets["magnetization_per_atom"] == pytest.approx(3.9 / 2)
    assert "->" in report.summary()


def test_fetch_needs_a_key(monkeypatch):
    monkeypatch.delenv("MP_API_KEY", raising=False)
    with pytest.raises(RuntimeError, match="MP_API_KEY"):
        fetch_materials_project()


def test_split_is_seeded_and_partitions():
    a, b = split_indices(1000, seed=3), split_indices(1000, seed=3)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert sorted(np.concatenate(list(a.values())).tolist()) == list(range(1000))
    assert [len(v) for v in a.values()] == [800, 100, 100]


def test_hubbard_rule():
    assert hubbard_u_applies([25, 9]) and not hubbard_u_applies([25, 7]) and not hubbard_u_applies([8, 1])


@pytest.mark.parametrize("mid,expected", [("mp-4", 3), ("mp-5", 2), ("mp-8", 0), ("mp-1", 3)])
def test_dimensionality_matches_pymatgens_larsen_on_the_same_bonds(records, mid, expected):
    from pymatgen.analysis.dimensionality import get_dimensionality_larsen
    from pymatgen.analysis.graphs import StructureGraph

    structure = next(r["structure"] for r in records if r["material_id"] == mid)
    edges = isayev_neighbors(structure.lattice.matrix, structure.frac_coords, [s.specie.Z for s in structure])
    ours = dimensionality(len(structure), edges.src, edges.dst, edges.image)
    graph = StructureGraph.from_empty_graph(structure)
    for i, j, image in zip(edges.src.tolist(), edges.dst.tolist(), edges.image.tolist()):
        if (i, j, tuple(image)) < (j, i, tuple(-np.array(image))):  # one direction of each bond
            graph.add_edge(i, j, to_jimage=tuple(image), warn_duplicates=False)
    assert ours == expected == get_dimensionality_larsen(graph)


def test_component_dimensionalities_of_a_layer_and_a_molecule():
    # site 0 bonded to its images along a and b (a layer), site 1 alone (a molecule of one atom)
    src, dst = [0, 0, 0, 0], [0, 0, 0, 0]
    image = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]]
    assert component_dimensionalities(2, src, dst, image) == [2, 0]
