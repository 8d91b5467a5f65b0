"""Equivariant Crystal Networks: the PyTorch layer on top of :mod:`crystalgroups`.

``ecn.load("perov5-ecn-s")`` gives a published model ready to predict (``ecn.list_models()``
lists the names); :mod:`ecn.data` makes graphs, :mod:`ecn.models` the models, :mod:`ecn.train`
trains them, :mod:`ecn.predict` predicts on many structures and :mod:`ecn.pyg` converts to and
from PyTorch Geometric. Importing ``ecn`` imports neither torch nor pymatgen; they load on use.
"""

__version__ = "0.2.0"
__all__ = ["__version__", "list_models", "load"]


def load(name, device: str = "cpu"):
    """A model ready to predict, by published name (``"perov5-ecn-s"``), checkpoint path, or a list
    of them (an ensemble); see :func:`ecn.pretrained.load`."""
    from .pretrained import load as _load

    return _load(name, device=device)


def list_models() -> list[str]:
    """The names of the published models; see :func:`ecn.pretrained.list_models`."""
    from .pretrained import list_models as _list_models

    return _list_models()
