"""ECN-G on crystals with large lattice groups: cubic (48), hexagonal (24), tetragonal (16).

tests/ecn/test_models.py checks ECN-G on a triclinic crystal, whose lattice group is P-1 (order 2); here the model
must be invariant under every sampled element of the full group G_Lambda x| T on the explicit 2x2x2 supercell
(``collate(..., quotient=False)``), with and without the cell one-hot, and must not be invariant under a cell
permutation outside the group.
"""

import numpy as np
import pytest
import torch

import crystalgroups
from ecn.data import Crystal, FeatureSettings, collate, crystal_graph
from ecn.models import MODELS, build_model
from ecn.testing import assert_equivariant, node_permutation

SITES = [[0.0, 0.0, 0.0], [0.52, 0.48, 0.5], [0.5, 0.03, 0.47]]  # general positions: no site symmetry
LATTICES = {
    "cubic": (np.eye(3) * 3.9, 48),
    "hexagonal": ([[3.6, 0, 0], [-1.8, 3.6 * np.sqrt(3) / 2, 0], [0, 0, 4.6]], 24),
    "tetragonal": (np.diag([3.9, 3.9, 4.6]), 16),
}


def _setup(kind, cell_onehot):
    lattice, order = LATTICES[kind]
    g = crystal_graph(Crystal(lattice, SITES, [38, 22, 8]), **MODELS["ecn-g"][1])
    pg = g.lattice_point_group()
    assert pg.order == order and g.supercell_point_group().order == order
    features = FeatureSettings(cell_onehot=cell_onehot)
    batch = collate([g], group="G", features=features, quotient=False)
    floats = {k: getattr(batch, k).double() for k in ("x", "edge_attr", "edge_length", "edge_vector", "positions")}
    from dataclasses import replace

    batch = replace(batch, **floats)
    torch.manual_seed(0)
    model = build_model("ecn-g", width=16, edge_dim=8, layers=2, node_in=features.node_dim(8)).double()
    table = g.geometric_rank()[g.cell_pattern("G").edge_colors]
    return g, pg, batch, model, table


@pytest.mark.parametrize("cell_onehot", [False, True])
@pytest.mark.parametrize("kind", list(LATTICES))
def test_ecn_g_is_invariant_under_the_full_lattice_group(kind, cell_onehot):
    g, pg, batch, model, table = _setup(kind, cell_onehot)
    lg = crystalgroups.LatticeGroup(pg, (2, 2, 2))
    every = lg.all_permutations()
    assert len(every) == 8 * pg.order
    rng = np.random.default_rng(1)
    chosen = [every[k] for k in rng.choice(len(every), 10, replace=False)] + list(lg.generators)
    perms = [node_permutation(c, rng.permutation(g.num_sites)) for c in chosen]
    result = assert_equivariant(model, batch, perms, table, g.num_sites)
    assert len(result["errors"]) == len(perms)
    # a cell permutation outside the group (two cells swapped) changes the output: the check can fail
    outside = node_permutation([1, 0, 2, 3, 4, 5, 6, 7], range(g.num_sites))
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(model, batch, [outside], table, g.num_sites)
