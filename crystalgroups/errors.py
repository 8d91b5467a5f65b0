"""Exceptions and warnings raised by :mod:`crystalgroups`.

Every error raised on user input is a :class:`ValueError` or :class:`TypeError` subclass with a
message of the form "expected ..., got ...", so that callers can catch the standard types.
All of them derive from :class:`CrystalGroupsError`, so ``except CrystalGroupsError`` catches
every bad-input error of the package (wrong types included).
"""

from __future__ import annotations

__all__ = [
    "CrystalGroupsError",
    "CrystalGroupsTypeError",
    "UnknownBravaisTypeError",
    "IncompatibleSupercellError",
    "LatticeError",
    "SizeLimitError",
    "ExcessSymmetryWarning",
    "ToleranceWarning",
]


class CrystalGroupsError(ValueError):
    """Base class of the errors that :mod:`crystalgroups` raises on bad input."""


class CrystalGroupsTypeError(CrystalGroupsError, TypeError):
    """An argument of the wrong type (also a :class:`TypeError`)."""


class UnknownBravaisTypeError(CrystalGroupsError, KeyError):
    """A Bravais type or group name that is not known; the message lists the valid choices."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else ""


class IncompatibleSupercellError(CrystalGroupsError):
    """The point group does not map the supercell's sublattice onto itself."""


class LatticeError(CrystalGroupsError):
    """A singular, non-finite, badly scaled or badly shaped lattice basis, or a bad tolerance."""


class SizeLimitError(CrystalGroupsError):
    """An input whose answer would not fit the size limits (a dense ``cells x cells`` array and the like).

    Raised before anything large is allocated; the message gives the size asked for and the limit.
    """


class ExcessSymmetryWarning(UserWarning):
    """A colouring is invariant under more permutations than the group that produced it.

    The layer is then equivariant to a larger group than asked for, and less expressive
    (paper Appendix A.3: the hexagonal 2x2 pattern collapses to the symmetric group's).
    """


class ToleranceWarning(UserWarning):
    """The tolerance asked for gave operations that are not a group, and a smaller one was used.

    ``requested`` is the tolerance asked for, ``used`` the one that gave the group returned.
    """

    def __init__(self, message: str = "", requested: float | None = None, used: float | None = None) -> None:
        super().__init__(message)
        self.requested = requested
        self.used = used
