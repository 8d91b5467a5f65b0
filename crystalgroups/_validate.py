"""Input checks shared by the public constructors (private)."""

from __future__ import annotations

import numpy as np

from .errors import CrystalGroupsError, LatticeError


def as_integer_matrix(value, name: str, dim: int | None = None) -> np.ndarray:
    """Return ``value`` as a read-only square int64 matrix, or raise a clear error.

    >>> as_integer_matrix([[2, 0], [0, 2]], "supercell").tolist()
    [[2, 0], [0, 2]]
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise CrystalGroupsError(f"expected {name} as a square integer matrix, got {value!r}") from exc
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] not in (2, 3):
        raise CrystalGroupsError(
            f"expected {name} as a 2x2 or 3x3 integer matrix, got shape {arr.shape}"
        )
    if dim is not None and arr.shape[0] != dim:
        raise CrystalGroupsError(f"expected {name} of size {dim}x{dim}, got {arr.shape}")
    if arr.dtype.kind not in "iub":
        if arr.dtype.kind not in "f" or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise CrystalGroupsError(f"expected {name} with integer entries, got {arr.tolist()}")
    out = arr.astype(np.int64)
    out.setflags(write=False)
    return out


def as_float_basis(value, name: str = "lattice") -> np.ndarray:
    """Return a float64 basis (vectors as rows), checking shape, finiteness and rank."""
    try:
        arr = np.asarray(value, dtype=float)
    except Exception as exc:
        raise LatticeError(f"expected {name} as a 2x2 or 3x3 array of numbers, got {value!r}") from exc
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] not in (2, 3):
        raise LatticeError(f"expected {name} vectors as rows of a 2x2 or 3x3 array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise LatticeError(f"expected finite {name} vectors, got {arr.tolist()}")
    scale = max(float(np.abs(arr).max()), 1e-300)
    if abs(np.linalg.det(arr / scale)) < 1e-12:
        raise LatticeError(f"expected linearly independent {name} vectors, got a singular basis {arr.tolist()}")
    return arr


def check_tolerance(tol: float) -> float:
    """Return ``tol`` as a float if it is finite and non-negative."""
    try:
        t = float(tol)
    except (TypeError, ValueError) as exc:
        raise LatticeError(f"expected a non-negative tolerance, got {tol!r}") from exc
    if not np.isfinite(t) or t < 0:
        raise LatticeError(f"expected a non-negative tolerance, got {tol!r}")
    return t
