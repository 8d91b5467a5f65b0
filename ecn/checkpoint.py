"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)`` only.

A checkpoint is a dict of tensors and plain values (numbers, strings, lists, dicts): the model
state, the resolved config, the target normalisation, the package version and the format
version, and for ``last.pt`` the optimiser and scheduler states and the epoch log. Nothing in it
is executed on load; a tampered or foreign file is refused with a clear message.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

import torch

from . import __version__

__all__ = ["save_checkpoint", "load_checkpoint", "CheckpointError", "FORMAT"]

FORMAT = "ecn-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used (missing, foreign, tampered, or of another format)."""


def save_checkpoint(path, payload: dict) -> Path:
    """``torch.save`` to a temporary file in the same folder, then an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save({**payload, "format": FORMAT, "ecn_version": __version__}, tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def load_checkpoint(path, map_location="cpu") -> dict:
    """Load with ``weights_only=True``; raises :class:`CheckpointError` on anything unexpected."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"expected a checkpoint file, got no file at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"expected an ecn checkpoint, got {path}, which was refused by torch.load(weights_only=True) "
            f"(tampered, truncated or not a checkpoint): {first[:200]}"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        got = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"expected an ecn checkpoint of format {FORMAT!r}, got {got!r} in {path}")
    return payload
