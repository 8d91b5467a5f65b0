"""Node and edge features (paper Section 5 and Section 7), computed from a graph's integer fields.

Features are made when a batch is formed (:func:`ecn.data.batch.collate`), not stored: they are
cheap, and storing one-hot vectors and Gaussian expansions would make the graph cache 20-50x
larger.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .radii import MAX_Z

__all__ = ["FeatureSettings", "node_features", "gaussian_expansion", "PERIOD", "GROUP", "NUM_GROUP_SLOTS"]


def _periods_and_groups():
    period = np.zeros(MAX_Z + 1, dtype=np.int64)
    group = np.zeros(MAX_Z + 1, dtype=np.int64)  # 1..18, 19 = f-block (La-Lu, Ac-Lr)
    starts = [(1, 1), (3, 2), (11, 3), (19, 4), (37, 5), (55, 6), (87, 7)]
    ends = [2, 10, 18, 36, 54, 86, 118]
    for (start, p), end in zip(starts, ends):
        for z in range(start, min(end, MAX_Z) + 1):
            period[z] = p
            k = z - start
            if p == 1:
                group[z] = 1 if z == 1 else 18
            elif p in (2, 3):
                group[z] = k + 1 if k < 2 else k + 11
            elif p in (4, 5):
                group[z] = k + 1
            else:
                group[z] = k + 1 if k < 2 else (19 if k <= 16 else k - 13)
    return period, group


#: Period (1..7) and group (1..18, 19 for the f-block) of each atomic number (index Z).
PERIOD, GROUP = _periods_and_groups()
NUM_GROUP_SLOTS = 19


@dataclass(frozen=True)
class FeatureSettings:
    """How node and edge features are made.

    ``element``: ``"onehot"`` (one-hot Z, 103) or ``"period_group"`` (one-hot period, 7, and
    group, 19 with the f-block); ``cell_onehot``: append the one-hot cell index inside the
    supercell (the symmetry breaking of Section 5); ``hubbard``: append the GGA+U flag;
    Gaussian edge expansion ``exp(-(d - mu)^2 / width^2)`` with ``num_gaussians`` centres
    evenly from 0 to ``max_distance``.
    """

    element: str = "onehot"
    cell_onehot: bool = True
    hubbard: bool = True
    num_gaussians: int = 20
    max_distance: float = 6.0
    width: float = 0.6

    def __post_init__(self) -> None:
        if self.element not in ("onehot", "period_group"):
            raise ValueError(f"expected element features 'onehot' or 'period_group', got {self.element!r}")
        if self.num_gaussians < 1 or not self.width > 0:
            raise ValueError(f"expected num_gaussians >= 1 and width > 0, got {self.num_gaussians}, {self.width}")

    def node_dim(self, num_cells: int) -> int:
        element = MAX_Z if self.element == "onehot" else 7 + NUM_GROUP_SLOTS
        return element + (num_cells if self.cell_onehot else 0) + (1 if self.hubbard else 0)


def node_features(atomic_number: torch.Tensor, cell_index: torch.Tensor, num_cells: int,
                  hubbard: torch.Tensor | None, settings: FeatureSettings) -> torch.Tensor:
    """Node feature matrix ``(N, settings.node_dim(num_cells))``, float32.

    >>> x = node_features(torch.tensor([1, 8]), torch.tensor([0, 7]), 8, None, FeatureSettings())
    >>> x.shape, int(x[1, 7]), int(x[1, 103 + 7])
    (torch.Size([2, 112]), 1, 1)
    """
    z = atomic_number.long()
    if settings.element == "onehot":
        parts = [torch.nn.functional.one_hot(z - 1, MAX_Z)]
    else:
        period = torch.as_tensor(PERIOD, device=z.device)[z]
        group = torch.as_tensor(GROUP, device=z.device)[z]
        parts = [torch.nn.functional.one_hot(period - 1, 7), torch.nn.functional.one_hot(group - 1, NUM_GROUP_SLOTS)]
    if settings.cell_onehot:
        parts.append(torch.nn.functional.one_hot(cell_index.long(), num_cells))
    if settings.hubbard:
        flag = torch.zeros(len(z), 1) if hubbard is None else hubbard.reshape(-1, 1).to(torch.float32)
        parts.append(flag.to(z.device))
    return torch.cat([p.to(torch.float32) for p in parts], dim=1)


def gaussian_expansion(distance: torch.Tensor, settings: FeatureSettings = FeatureSettings()) -> torch.Tensor:
    """``exp(-(d - mu_k)^2 / width^2)`` for ``num_gaussians`` centres ``mu_k`` in ``[0, max_distance]``.

    >>> gaussian_expansion(torch.tensor([0.0, 6.0])).shape
    torch.Size([2, 20])
    """
    centers = torch.linspace(0.0, settings.max_distance, settings.num_gaussians, dtype=distance.dtype,
                             device=distance.device)
    return torch.exp(-((distance[:, None] - centers[None, :]) ** 2) / settings.width**2)
