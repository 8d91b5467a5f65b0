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
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise CheckpointError(f"expected a readable checkpoint file, got {path}: {exc.strerror or exc}") from None
    if head != b"PK\x03\x04":  # torch.save writes a zip archive
        shown = head.hex(" ") if head else "nothing (an empty file)"
        raise CheckpointError(f"expected an ecn checkpoint (a torch zip archive), got {path}, which starts with "
                              f"{shown}: not a checkpoint, or damaged (zero-filled, cut at the start)")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = first.split(". ")[0].split(" weights_only=False")[0]  # torch's advice to run the file: not ours
        raise CheckpointError(
            f"expected an ecn checkpoint, got {path}, which holds objects other than tensors and plain values and was "
            f"refused by torch.load(weights_only=True) without running them (tampered or not an ecn checkpoint): "
            f"{first[:160]}") from None
    except (EOFError, OSError):  # torch says "[Errno 22] Invalid argument" for a cut zip archive
        raise CheckpointError(f"expected a complete ecn checkpoint, got {path}, which ends early or is damaged "
                              f"(truncated: a full disk, or a copy cut short)") from None
    except (RuntimeError, ValueError, AttributeError, TypeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"expected a complete ecn checkpoint, got {path}, which torch cannot read (truncated or damaged): "
            f"{first.split('. ')[0][:160]}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        got = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"expected an ecn checkpoint of format {FORMAT!r}, got {got!r} in {path}")
    return payload
