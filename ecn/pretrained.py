"""Published models by name: ``ecn.load("perov5-ecn-s")``, ``ecn.list_models()``.

A folder of published checkpoints holds ``NAME.pt`` (or ``NAME-seedK.pt`` for several seeds of one
model) with its ``.yaml`` config, and ``registry.json``: for every name, its files and their
sha256. A name stands for all its seeds (an ensemble) and ``NAME-seedK`` for one of them. A file
whose sha256 differs from the registry is refused. Replacing a checkpoint by a newer one with the
same name means rewriting the registry with one command::

    python -m ecn.pretrained docs/results/checkpoints

Folders searched, first match wins: ``$ECN_PRETRAINED_DIR``, ``ecn/checkpoints`` inside the
installed package (where a packaging step may copy them), and ``docs/results/checkpoints`` beside
the package in a clone of the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

__all__ = [
    "REGISTRY",
    "PretrainedError",
    "checkpoint_folders",
    "list_models",
    "load",
    "resolve",
    "resolve_checkpoints",
    "write_registry",
]

REGISTRY = "registry.json"
FORMAT = "ecn-pretrained-1"
_SEED = re.compile(r"^(?P<name>.+)-seed(?P<seed>\d+)$")


class PretrainedError(ValueError):
    """A published name that cannot be resolved, or a file that does not match its registry."""


def checkpoint_folders() -> list[Path]:
    """The folders searched for published checkpoints, in order (only those that exist)."""
    here = Path(__file__).resolve().parent
    candidates = [os.environ.get("ECN_PRETRAINED_DIR", ""), here / "checkpoints",
                  here.parent / "docs" / "results" / "checkpoints"]
    return [Path(c) for c in candidates if c and Path(c).is_dir()]


def _sha256(path: Path) -> str:
    from .data.build import file_sha256

    return file_sha256(path)


def write_registry(folder) -> Path:
    """Write ``folder/registry.json`` from the ``*.pt`` files there (their names, metadata and sha256).

    >>> import tempfile
    >>> write_registry(tempfile.mkdtemp()).read_text()[:40]
    '{\\n "format": "ecn-pretrained-1",\\n "model'
    """
    from .checkpoint import load_checkpoint

    folder = Path(folder)
    if not folder.is_dir():
        raise PretrainedError(f"expected a folder of checkpoints, got no folder at {folder}")
    models: dict = {}
    for file in sorted(folder.glob("*.pt")):
        payload = load_checkpoint(file)
        config = payload.get("config", {})
        match = _SEED.match(file.stem)
        base = match["name"] if match else file.stem
        member = {"file": file.name, "sha256": _sha256(file), "seed": config.get("seed"),
                  "epoch": payload.get("epoch"), "ecn_version": payload.get("ecn_version")}
        yaml_file = file.with_suffix(".yaml")
        if yaml_file.is_file():
            member["config"] = yaml_file.name
        info = {"model": config.get("model"), "data": config.get("data"), "targets": list(config.get("targets", [])),
                "task": config.get("task", "regression")}
        models.setdefault(base, {**info, "members": []})["members"].append(member)
        if match:
            models[file.stem] = {**info, "members": [member]}
    registry = {"format": FORMAT, "models": {k: models[k] for k in sorted(models)}}
    path = folder / REGISTRY
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(registry, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def _registries() -> list[tuple[Path, dict]]:
    out = []
    for folder in checkpoint_folders():
        path = folder / REGISTRY
        if not path.is_file():
            continue
        try:
            registry = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise PretrainedError(f"expected a JSON registry at {path}, got an unreadable file: {exc}") from None
        if registry.get("format") != FORMAT:
            raise PretrainedError(f"expected a registry of format {FORMAT!r}, got {registry.get('format')!r} in {path}")
        out.append((folder, registry))
    return out


def list_models() -> list[str]:
    """The names of the published models (sorted); ``NAME-seedK`` names appear when seeds are published.

    >>> "perov5-ecn-s" in list_models()   # in a clone of the repository
    True
    """
    return sorted({name for _, registry in _registries() for name in registry["models"]})


def resolve(name: str) -> list[Path]:
    """The checkpoint files of a published name, each checked against its registry's sha256."""
    for folder, registry in _registries():
        entry = registry["models"].get(name)
        if entry is None:
            continue
        files = []
        for member in entry["members"]:
            path = folder / member["file"]
            if not path.is_file():
                raise PretrainedError(f"expected {path} for {name!r} (listed in {folder / REGISTRY}), got no file; "
                                      f"rewrite the registry with: python -m ecn.pretrained {folder}")
            got = _sha256(path)
            if got != member["sha256"]:
                raise PretrainedError(
                    f"expected {path} with sha256 {member['sha256']} (from {folder / REGISTRY}), got {got}: the "
                    f"file was replaced or damaged; if it is a new checkpoint, rewrite the registry with: "
                    f"python -m ecn.pretrained {folder}")
            files.append(path)
        return files
    choices = list_models()
    raise PretrainedError(f"Could not resolve model {name!r} among choices {choices}"
                          + ("" if choices else f" (no {REGISTRY} in any of {[str(f) for f in checkpoint_folders()]})"))


def resolve_checkpoints(specs) -> tuple[list[Path], list[str]]:
    """Paths and labels for checkpoint paths or published names (a name may stand for several seeds)."""
    paths, names = [], []
    for spec in specs:
        path = Path(spec)
        if path.is_file():
            paths.append(path)
            names.append(path.stem)
            continue
        if path.suffix == ".pt" or os.sep in str(spec):
            from .checkpoint import CheckpointError

            raise CheckpointError(f"expected a checkpoint file, got no file at {spec}")
        files = resolve(str(spec))
        paths += files
        names += [spec if len(files) == 1 else f.stem for f in files]
    return paths, names


def is_checkpoint(spec: str) -> bool:
    """Whether a command-line word names a checkpoint: a ``.pt`` path or a published name."""
    if spec.endswith(".pt"):
        return True
    if Path(spec).exists():
        return False
    try:
        return spec in list_models()
    except PretrainedError:
        return False


def load(name, device: str = "cpu"):
    """A :class:`ecn.predict.Predictor` for a published name, a checkpoint path, or a list of them.

    A name with several published seeds, or a list, gives an ensemble (mean and standard deviation).

    >>> import ecn
    >>> model = ecn.load("perov5-cgcnn")
    >>> model.targets, model.units
    (('heat_all',), {'heat_all': 'eV per 5-atom cell'})
    """
    from .predict import Predictor

    specs = [name] if isinstance(name, (str, os.PathLike)) else list(name)
    paths, names = resolve_checkpoints([str(s) for s in specs])
    return Predictor(paths, names=names, device=device)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecn.pretrained",
                                     description="Rewrite the registry (names, sha256) of a folder of checkpoints.")
    parser.add_argument("folder", nargs="?", help="default: the first folder searched")
    args = parser.parse_args(argv)
    folders = checkpoint_folders()
    folder = args.folder or (folders[0] if folders else None)
    if folder is None:
        print("ecn.pretrained: error: expected a folder of checkpoints, got none", file=sys.stderr)
        return 2
    try:
        path = write_registry(folder)
    except ValueError as exc:
        print(f"ecn.pretrained: error: {exc}", file=sys.stderr)
        return 2
    registry = json.loads(path.read_text())
    for name, entry in registry["models"].items():
        print(f"{name}\t{entry['model']}\t{','.join(entry['targets'])}\t{len(entry['members'])} checkpoint(s)")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
