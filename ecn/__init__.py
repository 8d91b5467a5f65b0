"""Equivariant Crystal Networks: the PyTorch layer on top of :mod:`crystalgroups`.

The data pipeline, models and training command line arrive in later releases; this package
is importable now so that the layout and the one-way dependency (``ecn`` -> ``crystalgroups``)
are fixed from the start.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
