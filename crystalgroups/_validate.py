"""Input checks shared by the public constructors (private)."""

from __future__ import annotations

import numpy as np

from .errors import CrystalGroupsError, CrystalGroupsTypeError, LatticeError, SizeLimitError

#: The most entries any dense array built by :mod:`crystalgroups` may have (8,000 x 8,000: 512 MB of int64).
MAX_DENSE_ENTRIES = 8000 * 8000
#: Lattice vector lengths outside this range (in any unit) are rejected: their metric would lose precision.
_MIN_LENGTH, _MAX_LENGTH = 1e-100, 1e100
#: The smallest ``|det|`` of the basis scaled to unit rows that is not called singular.
_MIN_SCALED_DET = 1e-12


def check_dense_size(entries: int, what: str, shape: str = "", limit: int = MAX_DENSE_ENTRIES) -> None:
    """Raise :class:`SizeLimitError` if a dense array of ``entries`` entries would exceed ``limit``.

    >>> check_dense_size(10, "a test array")
    >>> check_dense_size(10**10, "a matrix", "10^5 x 10^5")
    Traceback (most recent call last):
    ...
    crystalgroups.errors.SizeLimitError: expected at most 64,000,000 entries in a matrix, got ... (10^5 x 10^5)
    """
    entries = int(entries)
    if entries > limit:
        detail = f" ({shape})" if shape else ""
        raise SizeLimitError(f"expected at most {limit:,} entries in {what}, got {entries:,}{detail}")


def as_integer_matrix(value, name: str, dim: int | None = None) -> np.ndarray:
    """Return ``value`` as a read-only square int64 matrix, or raise a clear error.

    >>> as_integer_matrix([[2, 0], [0, 2]], "supercell").tolist()
    [[2, 0], [0, 2]]
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise CrystalGroupsError(f"expected {name} as a square integer matrix, got {value!r}") from exc
    if arr.dtype == object:
        try:
            arr = np.asarray(value, dtype=float)
        except Exception as exc:
            raise CrystalGroupsTypeError(f"expected {name} as a square integer matrix, got {value!r}") from exc
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] not in (2, 3):
        raise CrystalGroupsError(f"expected {name} as a 2x2 or 3x3 integer matrix, got shape {arr.shape}")
    if dim is not None and arr.shape[0] != dim:
        raise CrystalGroupsError(f"expected {name} of size {dim}x{dim}, got {arr.shape}")
    if arr.dtype.kind not in "iub":
        if arr.dtype.kind not in "f" or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise CrystalGroupsError(f"expected {name} with integer entries, got {arr.tolist()}")
    if arr.dtype.kind == "f" and np.abs(arr).max() >= 2**53:
        raise CrystalGroupsError(f"expected {name} with entries below 2**53, got {arr.tolist()}")
    if arr.dtype.kind == "u" and arr.max() >= 2**63:
        raise CrystalGroupsError(f"expected {name} with entries below 2**63, got {arr.tolist()}")
    out = arr.astype(np.int64)
    out.setflags(write=False)
    return out


def basis_of(value):
    """The basis (rows) of a lattice-like object: an array, a :class:`~crystalgroups.Lattice`, or by duck
    typing a pymatgen ``Lattice`` (``.matrix``), a pymatgen ``Structure`` (``.lattice.matrix``) or an ASE
    ``Atoms``/``Cell`` (``.cell`` / ``get_cell()``), without importing those packages."""
    if hasattr(value, "basis") and not isinstance(value, np.ndarray):
        return value.basis
    if hasattr(value, "matrix") and not isinstance(value, np.ndarray):
        return value.matrix
    lattice = getattr(value, "lattice", None)
    if lattice is not None and hasattr(lattice, "matrix"):
        return lattice.matrix
    if hasattr(value, "get_cell"):
        return np.asarray(value.get_cell())
    if hasattr(value, "cell") and not isinstance(value, np.ndarray):
        return np.asarray(value.cell)
    return value


def as_float_basis(value, name: str = "lattice") -> np.ndarray:
    """Return a float64 basis (vectors as rows), checking shape, finiteness, scale and rank.

    >>> as_float_basis([[1, 0], [0, float("nan")]])
    Traceback (most recent call last):
    ...
    crystalgroups.errors.LatticeError: expected finite lattice vectors, got [[1.0, 0.0], [0.0, nan]]
    """
    value = basis_of(value)
    if isinstance(value, (str, bytes)):
        raise CrystalGroupsTypeError(f"expected {name} vectors as rows of a 2x2 or 3x3 array, got {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except Exception as exc:
        raise LatticeError(f"expected {name} as a 2x2 or 3x3 array of numbers, got {value!r}") from exc
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] not in (2, 3):
        raise LatticeError(f"expected {name} vectors as rows of a 2x2 or 3x3 array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise LatticeError(f"expected finite {name} vectors, got {arr.tolist()}")
    lengths = np.sqrt(np.sum((arr / max(float(np.abs(arr).max()), 1e-300)) ** 2, axis=1)) * np.abs(arr).max()
    if np.any(lengths == 0):
        raise LatticeError(f"expected non-zero {name} vectors, got {arr.tolist()}")
    if lengths.min() < _MIN_LENGTH or lengths.max() > _MAX_LENGTH:
        raise LatticeError(
            f"expected {name} vector lengths between {_MIN_LENGTH:g} and {_MAX_LENGTH:g} (any unit), got lengths "
            f"{[float(f'{v:.3g}') for v in lengths]}"
        )
    scaled = arr / lengths[:, None]  # unit rows: |det| is the volume over the product of the lengths
    det = abs(float(np.linalg.det(scaled)))
    if not det >= _MIN_SCALED_DET:
        raise LatticeError(
            f"expected linearly independent {name} vectors (volume / product of lengths >= {_MIN_SCALED_DET:g}), "
            f"got a singular or nearly singular basis {arr.tolist()} (ratio {det:.3g})"
        )
    return arr


def check_tolerance(tol: float, name: str = "tolerance") -> float:
    """Return ``tol`` as a float if it is finite and non-negative."""
    if isinstance(tol, bool):
        raise CrystalGroupsTypeError(f"expected a non-negative {name} (a number), got {tol!r}")
    try:
        t = float(tol)
    except (TypeError, ValueError) as exc:
        raise LatticeError(f"expected a non-negative {name}, got {tol!r}") from exc
    if not np.isfinite(t) or t < 0:
        raise LatticeError(f"expected a non-negative {name}, got {tol!r}")
    return t
