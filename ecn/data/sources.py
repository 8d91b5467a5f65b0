"""Named datasets (``perov5``, ``carbon24``): found locally or downloaded, always sha256-checked.

Resolution order for ``dataset_file("perov5", "train")``:

1. ``$ECN_DATA_DIR/perov_5/train.csv.gz`` (or ``.csv``): the layout of the project's shared data;
2. the user cache, ``$ECN_CACHE_DIR`` or ``~/.cache/ecn``, under ``data/perov_5/train.csv``;
3. a download from the public source (the DiffCSP / CDVAE repositories at pinned commits) into
   the user cache, streamed to a temporary file, checked against the pinned sha256, then renamed.

A file whose sha256 does not match is never used: a corrupt or truncated download is deleted and
reported with both hashes.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DATASETS", "DatasetSpec", "dataset_file", "download", "DownloadError", "cache_dir", "data_dir"]

log = logging.getLogger("ecn.data")


class DownloadError(RuntimeError):
    """A download failed, was truncated, or its sha256 did not match."""


@dataclass(frozen=True)
class SplitFile:
    url: str
    sha256_csv: str  # of the uncompressed CSV (what the source serves)
    sha256_gz: str | None = None  # of the gzip copy in the shared data folder, where there is one


@dataclass(frozen=True)
class DatasetSpec:
    """A named dataset: folder, files per split, targets and whether targets are intensive."""

    name: str
    folder: str
    splits: dict
    targets: tuple[str, ...]
    default_target: str
    description: str


_DIFFCSP = "https://raw.githubusercontent.com/jiaor17/DiffCSP/7121d159826efa2ba9500bf299250d96da37f146/data"
_CDVAE = "https://raw.githubusercontent.com/txie-93/cdvae/f857f598d6f6cca5dc1ea0582d228f12dcc2c2ea/data"

DATASETS: dict[str, DatasetSpec] = {
    "perov5": DatasetSpec(
        "perov5", "perov_5",
        {
            "train": SplitFile(f"{_DIFFCSP}/perov_5/train.csv",
                               "6144a97ead4828a781a1c269c56fedc34b65945977c6433a055a720c47bf77f6",
                               "42c3888740e27a4c55729ea6607199746f85c7d0521aa84b62abebeee70fbeba"),
            "val": SplitFile(f"{_DIFFCSP}/perov_5/val.csv",
                             "efb9c832756439747f093e03a35daf073fcc9a5fc43a8a5292addee2f3d7ce90",
                             "f94f4139bbbaba539fa587b4793c2b8474de21ee58a521d61597921297931deb"),
            "test": SplitFile(f"{_DIFFCSP}/perov_5/test.csv",
                              "2511340f0e08b25699e9386e100ae0b30cd9b9c8a5b29622c3533644e04c95fa",
                              "97d70ec6a4aed36db3d56ecd6a2ecc0b8a193fdd57b0ffbf18ead750a30c6f25"),
        },
        ("heat_all", "heat_ref", "dir_gap", "ind_gap"), "heat_all",
        "Perov-5 (CDVAE split 11,356 / 3,787 / 3,785): heat of formation, eV per 5-atom cell",
    ),
    "carbon24": DatasetSpec(
        "carbon24", "carbon_24",
        {
            "val": SplitFile(f"{_CDVAE}/carbon_24/val.csv",
                             "36c00689cd63073c954a58bc6ed6e2adb7aeed5a630c994970959a1babffd50e",
                             "bf1d3e91bbd70e0c84b3be67c19ddcc796331b797a08a9e275691a3b7a564dec"),
            "test": SplitFile(f"{_CDVAE}/carbon_24/test.csv",
                              "386b17c08816f434818d51e46687bf72ff3f92348f3ba24823e4758f1fe8a969",
                              "f51a69674f1d15fb06fa8be60f09abbda60283f77fd1a21d44d6ec2c9a039f65"),
        },
        ("energy_per_atom",), "energy_per_atom",
        "Carbon-24 (val and test only; the train split is not public): energy per atom, eV",
    ),
}


def data_dir() -> Path | None:
    value = os.environ.get("ECN_DATA_DIR")
    return Path(value) if value else None


def cache_dir() -> Path:
    value = os.environ.get("ECN_CACHE_DIR")
    return Path(value) if value else Path.home() / ".cache" / "ecn"


def _sha256(path: Path, gunzip: bool = False) -> str:
    h = hashlib.sha256()
    opener = gzip.open if gunzip else open
    try:
        with opener(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DownloadError(f"expected a complete gzip file, got {path}, which ends early or is corrupt ({exc}): "
                            f"the file is truncated; copy or download it again") from None
    return h.hexdigest()


def _spec(name: str) -> DatasetSpec:
    key = name.replace("_", "").replace("-", "").lower()
    if key not in DATASETS:
        raise ValueError(f"Could not resolve dataset {name!r} among choices {sorted(DATASETS)}")
    return DATASETS[key]


def dataset_file(name: str, split: str, base_url: str | None = None, download_missing: bool = True) -> Path:
    """The verified local file of one split of a named dataset (see the module doc).

    ``base_url`` replaces the source's address (``<base_url>/<folder>/<split>.csv``), for mirrors.
    """
    spec = _spec(name)
    if split not in spec.splits:
        raise ValueError(f"expected a split of {spec.name} among {sorted(spec.splits)}, got {split!r}")
    entry = spec.splits[split]
    root = data_dir()
    if root is not None:
        folder = root / spec.folder
        for candidate, gz in ((folder / f"{split}.csv.gz", True), (folder / f"{split}.csv", False)):
            if candidate.exists():
                expected = entry.sha256_gz if gz and entry.sha256_gz else entry.sha256_csv
                got = _sha256(candidate, gunzip=gz and not entry.sha256_gz)
                if got != expected:
                    raise DownloadError(f"expected {candidate} with sha256 {expected}, got {got}: the file is corrupt")
                return candidate
    cached = cache_dir() / "data" / spec.folder / f"{split}.csv"
    if cached.exists():
        got = _sha256(cached)
        if got == entry.sha256_csv:
            return cached
        log.warning("cached %s has sha256 %s, expected %s; downloading again", cached, got, entry.sha256_csv)
        cached.unlink()
    if not download_missing:
        raise FileNotFoundError(f"expected {spec.name}/{split} under $ECN_DATA_DIR or {cached.parent}, found none")
    url = f"{base_url.rstrip('/')}/{spec.folder}/{split}.csv" if base_url else entry.url
    return download(url, cached, entry.sha256_csv)


def download(url: str, target: Path, sha256: str, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``target`` atomically, checking length and sha256; raises :class:`DownloadError`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".part")
    h = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    expected_size = response.headers.get("Content-Length")
                    while True:
                        block = response.read(1 << 20)
                        if not block:
                            break
                        h.update(block)
                        out.write(block)
                        size += len(block)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise DownloadError(f"expected to download {url}, got an error: {exc}") from exc
            except Exception as exc:  # http.client.IncompleteRead and friends
                raise DownloadError(
                    f"expected to download {url}, got a broken transfer after {size} bytes: {exc}"
                ) from exc
        if expected_size is not None and (not expected_size.strip().isdigit() or int(expected_size) != size):
            raise DownloadError(f"expected {expected_size} bytes from {url}, got {size}: the download was truncated")
        if h.hexdigest() != sha256:
            raise DownloadError(
                f"expected sha256 {sha256} for {url}, got {h.hexdigest()}: the file is corrupt or changed"
            )
        os.replace(tmp, target)
        log.info("downloaded %s to %s (%d bytes, sha256 ok)", url, target, size)
        return target
    finally:
        Path(tmp).unlink(missing_ok=True)
