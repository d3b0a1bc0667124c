"""Datasets for the network experiments: CIFAR-10 (two classes) and scikit-learn's digits.

CIFAR-10 is read from, in this order of preference, inside a data folder:

1. ``cifar-10-batches-py/`` (the extracted standard python-format dataset),
2. ``cifar-10-python.tar.gz`` (the same, read straight from the tarball),
3. ``cifar10_{train,test}_first1000_hwc.npz`` (the first 1,000 images of ``data_batch_1`` /
   ``test_batch``, shipped for offline use; keys ``x`` uint8 (N, 32, 32, 3), ``y``, ``index``,
   ``label_names``).

**One flattening convention for every source**: an image is the 3072-vector of its R, G and B
planes of 32 x 32 pixels, each row-major (channel, row, column), i.e. the layout of the pickles'
``b'data'`` rows.  The HWC arrays of the ``.npz`` files are transposed to it.

The data folder is, in order: the ``data_dir`` argument, the ``GDCHAOS_DATA`` environment variable,
``../shared/data`` next to the repository holding this package or next to the working directory
(where it holds CIFAR-10 files), else ``~/.cache/gdchaos`` (where :func:`download_cifar10` writes).
Nothing is downloaded unless asked (:func:`download_cifar10` or ``download=True``).

By default images are drawn among the first ``pool=1000`` images of the split, so that the full
dataset and the ``.npz`` files give the same images for the same seed.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import tarfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .._errors import GdchaosInputError

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_TARBALL = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_LABELS = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                  "truck")
NPZ_NAMES = {"train": "cifar10_train_first1000_hwc.npz", "test": "cifar10_test_first1000_hwc.npz"}
PICKLE_MEMBERS = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
PREPROCESSING = ("unit", "center", "standardize")
TARGETS = ("01", "pm1")
DATASETS = ("cifar10", "digits")


# ----------------------------------------------------------------------------------- locations
def _repo_root() -> Path:
    # src/gdchaos/nn/data.py -> parents: nn, gdchaos, src, <repo>
    return Path(__file__).resolve().parents[3]


def _has_cifar(d: Path) -> bool:
    return d.is_dir() and ((d / CIFAR10_FOLDER).is_dir() or (d / CIFAR10_TARBALL).is_file()
                           or any((d / n).is_file() for n in NPZ_NAMES.values()))


def cache_dir() -> Path:
    return Path.home() / ".cache" / "gdchaos"


def default_data_dir() -> Path:
    """The data folder used when none is given (see the module docstring)."""
    env = os.environ.get("GDCHAOS_DATA")
    if env:
        return Path(env).expanduser()
    for cand in (_repo_root().parent / "shared" / "data", Path.cwd().parent / "shared" / "data"):
        if _has_cifar(cand):
            return cand
    return cache_dir()


def resolve_data_dir(data_dir=None) -> Path:
    return Path(data_dir).expanduser() if data_dir is not None else default_data_dir()


# ----------------------------------------------------------------------------------- download
def md5sum(path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def download_cifar10(data_dir=None, url: str = CIFAR10_URL, md5: str = CIFAR10_MD5,
                     extract: bool = True, quiet: bool = False) -> Path:
    """Download ``cifar-10-python.tar.gz`` into the data folder, verify its MD5, extract it.

    Only ever called on the user's explicit request.  An existing tarball with the right checksum
    is not downloaded again.  Returns the folder.  Raises :class:`GdchaosInputError` on a network
    error or a checksum mismatch (the partial file is removed).
    """
    d = resolve_data_dir(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    target = d / CIFAR10_TARBALL
    if not (target.is_file() and md5sum(target) == md5):
        part = target.with_name(target.name + ".part")
        h = hashlib.md5()
        try:
            with urllib.request.urlopen(url, timeout=60) as resp, open(part, "wb") as out:
                total = int(resp.headers.get("Content-Length") or 0) or None
                from tqdm.auto import tqdm

                with tqdm(total=total, unit="B", unit_scale=True, desc="cifar-10",
                          disable=quiet, file=sys.stderr) as bar:
                    for block in iter(lambda: resp.read(1 << 20), b""):
                        out.write(block)
                        h.update(block)
                        bar.update(len(block))
        except (OSError, ValueError) as exc:
            part.unlink(missing_ok=True)
            raise GdchaosInputError(f"download of {url} failed: {exc}") from None
        if h.hexdigest() != md5:
            part.unlink(missing_ok=True)
            raise GdchaosInputError(
                f"download of {url}: MD5 {h.hexdigest()} differs from the expected {md5}")
        part.replace(target)
    if extract and not (d / CIFAR10_FOLDER).is_dir():
        with tarfile.open(target, "r:gz") as tf:
            tf.extractall(d, filter="data")
    return d


# ----------------------------------------------------------------------------------- reading
class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that only rebuilds NumPy arrays, lists, dicts, bytes and numbers."""

    _ALLOWED = frozenset({
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"), ("builtins", "bytearray"),
    })

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR-10 pickle")


def _read_batch(raw: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        obj = _ArrayUnpickler(io.BytesIO(raw), encoding="bytes").load()
        data = np.asarray(obj[b"data"], dtype=np.uint8)
        labels = np.asarray(obj[b"labels"], dtype=np.int64)
    except (pickle.UnpicklingError, KeyError, TypeError, ValueError, EOFError) as exc:
        raise GdchaosInputError(f"{name} is not a CIFAR-10 batch pickle: {exc}") from None
    if data.ndim != 2 or data.shape[1] != 3072 or labels.shape != (data.shape[0],):
        raise GdchaosInputError(f"{name}: expected data of shape (N, 3072) and N labels, got "
                                f"{data.shape} and {labels.shape}")
    return data, labels


def hwc_to_flat(images: np.ndarray) -> np.ndarray:
    """(N, 32, 32, 3) HWC images -> (N, 3072) rows of R, G, B planes (the pickles' layout)."""
    images = np.asarray(images)
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(images.shape[0], -1)


def flat_to_hwc(flat: np.ndarray) -> np.ndarray:
    """Inverse of :func:`hwc_to_flat`."""
    flat = np.asarray(flat)
    return np.ascontiguousarray(flat.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


@dataclass(frozen=True)
class RawImages:
    """Images of one split: ``x`` uint8 (N, 3072) as R, G, B planes; ``y`` int64 labels."""

    x: np.ndarray
    y: np.ndarray
    label_names: tuple
    source: str


def _check_split(split: str) -> str:
    if split not in PICKLE_MEMBERS:
        raise GdchaosInputError(f"split must be 'train' or 'test', got {split!r}")
    return split


def _concat(batches, source: str) -> RawImages:
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    return RawImages(x, y, CIFAR10_LABELS, source)


def read_cifar10_folder(folder, split: str = "train") -> RawImages:
    """Read the extracted ``cifar-10-batches-py`` folder."""
    folder = Path(folder)
    batches = []
    for m in PICKLE_MEMBERS[_check_split(split)]:
        p = folder / m
        if not p.is_file():
            raise GdchaosInputError(f"CIFAR-10 folder {folder} lacks {m}")
        batches.append(_read_batch(p.read_bytes(), str(p)))
    return _concat(batches, str(folder))


def read_cifar10_tarball(path, split: str = "train") -> RawImages:
    """Read ``cifar-10-python.tar.gz`` without extracting it."""
    path = Path(path)
    batches = []
    try:
        with tarfile.open(path, "r:*") as tf:
            members = {Path(m.name).name: m for m in tf.getmembers()
                       if m.isfile() and Path(m.name).parent.name == CIFAR10_FOLDER}
            for m in PICKLE_MEMBERS[_check_split(split)]:
                if m not in members:
                    raise GdchaosInputError(f"tarball {path} lacks {CIFAR10_FOLDER}/{m}")
                batches.append(_read_batch(tf.extractfile(members[m]).read(), f"{path}:{m}"))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise GdchaosInputError(f"cannot read tarball {path}: {exc}") from None
    return _concat(batches, str(path))


def read_cifar10_npz(path) -> RawImages:
    """Read one of the ``cifar10_*_first1000_hwc.npz`` files (HWC, converted to planes)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            x, y = z["x"], z["y"]
            names = tuple(str(s) for s in z["label_names"]) if "label_names" in z else CIFAR10_LABELS
    except (OSError, KeyError, ValueError) as exc:
        raise GdchaosInputError(f"cannot read {path}: {exc}") from None
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (32, 32, 3) or y.shape != x.shape[:1]:
        raise GdchaosInputError(f"{path}: expected x uint8 (N, 32, 32, 3) and y (N,), got "
                                f"{x.dtype} {x.shape} and {y.shape}")
    return RawImages(hwc_to_flat(x), y.astype(np.int64), names, str(path))


def load_cifar10(data_dir=None, split: str = "train", source: str = "auto",
                 download: bool = False) -> RawImages:
    """All images of a CIFAR-10 split found in the data folder.

    ``source``: ``"auto"`` (folder, then tarball, then ``.npz``), ``"folder"``, ``"tarball"`` or
    ``"npz"``.  ``download=True`` fetches the tarball first when no source is present.
    """
    _check_split(split)
    if source not in ("auto", "folder", "tarball", "npz"):
        raise GdchaosInputError(f"source must be auto, folder, tarball or npz, got {source!r}")
    d = resolve_data_dir(data_dir)
    folder, tarball, npz = d / CIFAR10_FOLDER, d / CIFAR10_TARBALL, d / NPZ_NAMES[split]
    if download and source in ("auto", "folder", "tarball") and not (folder.is_dir() or tarball.is_file()):
        download_cifar10(d, extract=source != "tarball")
    if source in ("auto", "folder") and folder.is_dir():
        return read_cifar10_folder(folder, split)
    if source in ("auto", "tarball") and tarball.is_file():
        return read_cifar10_tarball(tarball, split)
    if source in ("auto", "npz") and npz.is_file():
        return read_cifar10_npz(npz)
    raise GdchaosInputError(
        f"no CIFAR-10 data ({source}) in {d}: expected {CIFAR10_FOLDER}/, {CIFAR10_TARBALL} or "
        f"{NPZ_NAMES[split]}; set GDCHAOS_DATA or --data-dir, or pass --download")


def load_digits_images() -> RawImages:
    """scikit-learn's bundled 8 x 8 handwritten digits (offline), pixels 0..16 as uint8."""
    from sklearn.datasets import load_digits

    b = load_digits()
    return RawImages(b.data.astype(np.uint8), b.target.astype(np.int64),
                     tuple(str(t) for t in b.target_names), "sklearn.datasets.load_digits")


# ----------------------------------------------------------------------------------- pairs
@dataclass(frozen=True)
class PairData:
    """A two-class training set: ``X`` (N, d) and ``y`` (N,) float tensors, plus provenance."""

    X: torch.Tensor
    y: torch.Tensor
    labels: np.ndarray  # original class labels of the rows
    indices: np.ndarray  # positions of the rows in the split
    classes: tuple
    class_names: tuple
    source: str
    info: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def dim(self) -> int:
        return int(self.X.shape[1])


def select_pair(labels: np.ndarray, classes=(0, 1), n_per_class: int = 25, seed: int = 0,
                pool: int | None = 1000) -> np.ndarray:
    """Indices of ``n_per_class`` random images of each of the two classes (first class first,
    each class's indices sorted), drawn among the first ``pool`` images, reproducible from seed."""
    labels = np.asarray(labels)
    a, b = (int(c) for c in classes)
    if a == b:
        raise GdchaosInputError(f"the two classes must differ, got {a} and {b}")
    n_per_class = int(n_per_class)
    if n_per_class < 1:
        raise GdchaosInputError(f"images per class must be >= 1, got {n_per_class}")
    if pool is not None:
        if int(pool) > labels.shape[0]:
            raise GdchaosInputError(
                f"pool of {pool} images asked but the source holds {labels.shape[0]}")
        labels = labels[:int(pool)]
    rng = np.random.default_rng(int(seed))
    out = []
    for c in (a, b):
        idx = np.flatnonzero(labels == c)
        if idx.size < n_per_class:
            raise GdchaosInputError(
                f"class {c} has {idx.size} images among the first {labels.shape[0]}, "
                f"{n_per_class} asked")
        out.append(np.sort(rng.choice(idx, n_per_class, replace=False)))
    return np.concatenate(out)


def _preprocess(x: np.ndarray, scale: float, how: str) -> np.ndarray:
    x = x.astype(np.float64) / scale
    if how == "unit":
        return x
    if how == "center":
        return x - x.mean(axis=0, keepdims=True)
    if how == "standardize":
        sd = x.std(axis=0, keepdims=True)
        return (x - x.mean(axis=0, keepdims=True)) / np.where(sd > 0, sd, 1.0)
    raise GdchaosInputError(f"preprocess must be one of {', '.join(PREPROCESSING)}, got {how!r}")


def load_pair(dataset: str = "cifar10", classes=(0, 1), n_per_class: int = 25, seed: int = 0,
              data_dir=None, split: str = "train", pool: int | None = 1000,
              preprocess: str = "unit", targets: str = "01", source: str = "auto",
              download: bool = False, dtype: torch.dtype = torch.float64) -> PairData:
    """Two classes of a dataset, ``n_per_class`` images each, as a training set.

    Defaults are the paper's: CIFAR-10 classes 0 and 1 (airplane, automobile), 25 images each,
    pixels scaled to [0, 1] and flattened (``preprocess="unit"``; ``"center"`` subtracts the mean
    image, ``"standardize"`` also divides by each pixel's standard deviation over the selection),
    targets 0 for the first class and 1 for the second (``targets="pm1"``: -1 and +1).
    ``dataset="digits"`` uses scikit-learn's 8 x 8 digits (pixels 0..16 scaled to [0, 1]; ``pool``
    applies likewise, ``None`` for all 1,797).
    """
    if dataset == "cifar10":
        raw, scale = load_cifar10(data_dir, split, source=source, download=download), 255.0
    elif dataset == "digits":
        raw, scale = load_digits_images(), 16.0
    else:
        raise GdchaosInputError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    if targets not in TARGETS:
        raise GdchaosInputError(f"targets must be one of {', '.join(TARGETS)}, got {targets!r}")
    if preprocess not in PREPROCESSING:
        raise GdchaosInputError(
            f"preprocess must be one of {', '.join(PREPROCESSING)}, got {preprocess!r}")
    nclass = len(raw.label_names)
    if len(tuple(classes)) != 2 or not all(0 <= int(c) < nclass for c in classes):
        raise GdchaosInputError(f"classes must be two labels in 0..{nclass - 1}, got {classes!r}")
    idx = select_pair(raw.y, classes, n_per_class, seed, pool)
    x = _preprocess(raw.x[idx], scale, preprocess)
    lab = raw.y[idx]
    t = (lab == int(classes[1])).astype(np.float64)
    if targets == "pm1":
        t = 2.0 * t - 1.0
    names = tuple(raw.label_names[int(c)] for c in classes)
    info = {"dataset": dataset, "classes": [int(c) for c in classes], "class_names": list(names),
            "n_per_class": int(n_per_class), "seed": int(seed), "split": split,
            "pool": None if pool is None else int(pool), "preprocess": preprocess,
            "targets": targets, "source": raw.source, "indices": idx.tolist()}
    return PairData(torch.as_tensor(x, dtype=dtype), torch.as_tensor(t, dtype=dtype), lab, idx,
                    tuple(int(c) for c in classes), names, raw.source, info)
