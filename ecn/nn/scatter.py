"""Scatter sums and means: torch-scatter when it is installed, native ``index_add_`` otherwise.

Both backends give the same results (tested); :func:`set_backend` picks one explicitly, and
``ECN_SCATTER=native`` in the environment disables torch-scatter.
"""

from __future__ import annotations

import os

import torch

__all__ = ["scatter_sum", "scatter_mean", "set_backend", "backend", "torch_scatter_available"]

try:  # pragma: no cover - depends on the environment
    import torch_scatter as _ts
except Exception:  # ImportError, or an ABI mismatch with the installed torch
    _ts = None

_backend = "torch_scatter" if _ts is not None and os.environ.get("ECN_SCATTER", "") != "native" else "native"


def torch_scatter_available() -> bool:
    return _ts is not None


def set_backend(name: str) -> None:
    """``"torch_scatter"`` or ``"native"``."""
    global _backend
    if name not in ("torch_scatter", "native"):
        raise ValueError(f"expected backend 'torch_scatter' or 'native', got {name!r}")
    if name == "torch_scatter" and _ts is None:
        raise RuntimeError("expected torch-scatter to be installed for backend 'torch_scatter', got ImportError")
    _backend = name


def backend() -> str:
    return _backend


def scatter_sum(src: torch.Tensor, index: torch.Tensor, dim_size: int) -> torch.Tensor:
    """``out[index[k]] += src[k]`` along dimension 0, ``out`` of length ``dim_size``.

    >>> scatter_sum(torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([0, 2, 0]), 3).ravel().tolist()
    [4.0, 0.0, 2.0]
    """
    if _backend == "torch_scatter":
        return _ts.scatter(src, index, dim=0, dim_size=dim_size, reduce="sum")
    out = src.new_zeros((dim_size,) + tuple(src.shape[1:]))
    return out.index_add_(0, index, src)


def scatter_mean(src: torch.Tensor, index: torch.Tensor, dim_size: int) -> torch.Tensor:
    """Mean of the rows of ``src`` that share an ``index`` (0 where none)."""
    if _backend == "torch_scatter":
        return _ts.scatter(src, index, dim=0, dim_size=dim_size, reduce="mean")
    total = scatter_sum(src, index, dim_size)
    count = torch.zeros(dim_size, dtype=src.dtype, device=src.device).index_add_(
        0, index, torch.ones_like(index, dtype=src.dtype)
    )
    return total / count.clamp(min=1).reshape((-1,) + (1,) * (src.dim() - 1))
