"""Node and edge features (paper Section 5 and Section 7), computed from a graph's integer fields.

Features are made when a batch is formed (:func:`ecn.data.batch.collate`), not stored: they are
cheap, and storing one-hot vectors and Gaussian expansions would make the graph cache 20-50x
larger.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .radii import MAX_Z

__all__ = ["FeatureSettings", "node_features", "gaussian_expansion", "element_properties", "ELEMENT_FEATURES", "PERIOD",
           "GROUP", "NUM_GROUP_SLOTS"]


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

#: The element encodings of :class:`FeatureSettings` and their widths (``None``: the table's columns).
ELEMENT_FEATURES = ("onehot", "period_group", "properties", "onehot+properties")


@functools.cache
def element_properties() -> tuple[tuple[str, ...], np.ndarray]:
    """The property columns and a ``(MAX_Z + 1, P)`` float32 table of them, standardised per column.

    Read from ``element_properties.json`` (pymatgen's periodic table and the Cordero radii, written
    by ``tools/element_table.py``): each column is shifted and scaled to mean 0 and standard
    deviation 1 over the elements H .. Lr that have a value; an element without one gets 0 (the
    mean). Row 0 (no element) is all zeros.

    >>> names, table = element_properties()
    >>> names[0], table.shape
    ('electronegativity', (104, 11))
    >>> bool(table[9, 0] > table[55, 0])   # F is more electronegative than Cs
    True
    """
    data = json.loads((Path(__file__).with_name("element_properties.json")).read_text())
    raw = np.full((MAX_Z + 1, len(data["columns"])), np.nan)
    for z, row in data["rows"].items():
        raw[int(z)] = [np.nan if v is None else v for v in row]
    values = raw[1:]
    mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    table = np.where(np.isnan(raw), 0.0, (raw - mean) / np.where(std > 0, std, 1.0))
    table[0] = 0.0
    table = table.astype(np.float32)
    table.setflags(write=False)
    return tuple(data["columns"]), table


@dataclass(frozen=True)
class FeatureSettings:
    """How node and edge features are made.

    ``element``: ``"onehot"`` (one-hot Z, 103, the paper's), ``"period_group"`` (one-hot
    period, 7, and group, 19 with the f-block), ``"properties"`` (period and group one-hot and 11
    standardised physical properties: electronegativity, radii, ionisation energy, electron
    affinity, mass, molar volume, Mendeleev number, oxidation states; :func:`element_properties`),
    or ``"onehot+properties"`` (both); ``cell_onehot``: append the one-hot cell index inside the
    supercell (the symmetry breaking of Section 5); ``hubbard``: append the GGA+U flag;
    Gaussian edge expansion ``exp(-(d - mu)^2 / width^2)`` with ``num_gaussians`` centres
    evenly from 0 to ``max_distance`` (the paper's: 20 centres to 6 A, width 0.6 A).

    >>> FeatureSettings().node_dim(8), FeatureSettings(element="onehot+properties", cell_onehot=False).node_dim(8)
    (112, 141)
    """

    element: str = "onehot"
    cell_onehot: bool = True
    hubbard: bool = True
    num_gaussians: int = 20
    max_distance: float = 6.0
    width: float = 0.6

    def __post_init__(self) -> None:
        if self.element not in ELEMENT_FEATURES:
            raise ValueError(f"expected element features among {list(ELEMENT_FEATURES)}, got {self.element!r}")
        if self.num_gaussians < 1 or not self.width > 0 or not self.max_distance > 0:
            raise ValueError(f"expected num_gaussians >= 1, width > 0 and max_distance > 0, got {self.num_gaussians}, "
                             f"{self.width}, {self.max_distance}")

    def node_dim(self, num_cells: int) -> int:
        element = {"onehot": MAX_Z, "period_group": 7 + NUM_GROUP_SLOTS,
                   "properties": 7 + NUM_GROUP_SLOTS + len(element_properties()[0]),
                   "onehot+properties": MAX_Z + 7 + NUM_GROUP_SLOTS + len(element_properties()[0])}[self.element]
        return element + (num_cells if self.cell_onehot else 0) + (1 if self.hubbard else 0)


def node_features(atomic_number: torch.Tensor, cell_index: torch.Tensor, num_cells: int,
                  hubbard: torch.Tensor | None, settings: FeatureSettings) -> torch.Tensor:
    """Node feature matrix ``(N, settings.node_dim(num_cells))``, float32.

    >>> x = node_features(torch.tensor([1, 8]), torch.tensor([0, 7]), 8, None, FeatureSettings())
    >>> x.shape, int(x[1, 7]), int(x[1, 103 + 7])
    (torch.Size([2, 112]), 1, 1)
    """
    z = atomic_number.long()
    parts = []
    if settings.element in ("onehot", "onehot+properties"):
        parts.append(torch.nn.functional.one_hot(z - 1, MAX_Z))
    if settings.element != "onehot":
        period = torch.as_tensor(PERIOD, device=z.device)[z]
        group = torch.as_tensor(GROUP, device=z.device)[z]
        parts += [torch.nn.functional.one_hot(period - 1, 7), torch.nn.functional.one_hot(group - 1, NUM_GROUP_SLOTS)]
    if settings.element.endswith("properties"):
        parts.append(torch.tensor(element_properties()[1], device=z.device)[z])  # a copy: the table is read-only
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
