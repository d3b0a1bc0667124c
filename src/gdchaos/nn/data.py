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

The data folder is, in order:

1. the ``data_dir`` argument (the command line's ``--data-dir``),
2. the ``GDCHAOS_DATA`` environment variable,
3. the user cache folder, ``$XDG_CACHE_HOME/gdchaos`` or ``~/.cache/gdchaos``, when it holds
   CIFAR-10 files (downloads go there),
4. a development folder: ``shared/data`` beside the repository that holds the working directory
   (the nearest folder above it with ``pyproject.toml`` or ``.git``) or beside the working
   directory itself, when it holds CIFAR-10 files,
5. else the cache folder again (where a download would write).

The lookup never depends on where the package itself is installed.  ``download=True`` (what the
figures of the paper pass) fetches ``cifar-10-python.tar.gz`` into the chosen folder when no
source is there (MD5-checked, progress bar), as torchvision does; the environment variable
``GDCHAOS_OFFLINE=1`` forbids any download (the test suite sets it), ``GDCHAOS_CIFAR10_URL`` and
``GDCHAOS_CIFAR10_MD5`` replace the download address and checksum (a mirror).  Data that cannot
be found or fetched raise :class:`DataUnavailable` (a :class:`GdchaosInputError`) with the reason.

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
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import GdchaosInputError

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
class DataUnavailable(GdchaosInputError):
    """No CIFAR-10 source in the data folder and none could be downloaded (offline, downloads
    disabled, network error or checksum mismatch).  The message says why."""


def has_cifar10(d) -> bool:
    """Whether folder ``d`` holds a CIFAR-10 source (folder, tarball or one of the ``.npz``)."""
    d = Path(d)
    return d.is_dir() and ((d / CIFAR10_FOLDER).is_dir() or (d / CIFAR10_TARBALL).is_file()
                           or any((d / n).is_file() for n in NPZ_NAMES.values()))


def cache_dir() -> Path:
    """The user cache folder: ``$XDG_CACHE_HOME/gdchaos``, else ``~/.cache/gdchaos``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "gdchaos"


def development_dirs(cwd=None) -> list[Path]:
    """Candidate development folders: ``shared/data`` beside the repository holding ``cwd``
    (nearest ancestor with ``pyproject.toml`` or ``.git``), then beside ``cwd`` itself."""
    cwd = Path.cwd() if cwd is None else Path(cwd)
    cwd = cwd.resolve()
    out = []
    for d in (cwd, *cwd.parents):
        if (d / "pyproject.toml").is_file() or (d / ".git").exists():
            out.append(d.parent / "shared" / "data")
            break
    cand = cwd.parent / "shared" / "data"
    if cand not in out:
        out.append(cand)
    return out


def default_data_dir() -> Path:
    """The data folder used when none is given (see the module docstring)."""
    env = os.environ.get("GDCHAOS_DATA")
    if env:
        return Path(env).expanduser()
    cache = cache_dir()
    if has_cifar10(cache):
        return cache
    for cand in development_dirs():
        if has_cifar10(cand):
            return cand
    return cache


def resolve_data_dir(data_dir=None) -> Path:
    return Path(data_dir).expanduser() if data_dir is not None else default_data_dir()


def offline() -> bool:
    """True when ``GDCHAOS_OFFLINE`` is set to anything but ``""``, ``0``, ``false`` or ``no``."""
    return os.environ.get("GDCHAOS_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def cifar10_url() -> str:
    return os.environ.get("GDCHAOS_CIFAR10_URL") or CIFAR10_URL


def cifar10_md5() -> str:
    return (os.environ.get("GDCHAOS_CIFAR10_MD5") or CIFAR10_MD5).lower()


# ----------------------------------------------------------------------------------- download
def md5sum(path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


#: downloads that failed in this process ((url, md5) -> message): not tried again in the same
#: run, so that an offline reproduction does not wait for the network once per figure
_FAILED_DOWNLOADS: dict = {}


def download_cifar10(data_dir=None, url: str | None = None, md5: str | None = None,
                     extract: bool = True, quiet: bool = False) -> Path:
    """Download ``cifar-10-python.tar.gz`` into the data folder, verify its MD5, extract it.

    ``url`` and ``md5`` default to ``$GDCHAOS_CIFAR10_URL`` / ``$GDCHAOS_CIFAR10_MD5``, else the
    official address and checksum.  An existing tarball with the right checksum is not
    downloaded again.  Returns the folder.  Raises :class:`DataUnavailable` when downloads are
    disabled (``GDCHAOS_OFFLINE``), on a network error or on a checksum mismatch (the partial
    file is removed; nothing else is touched).
    """
    url = url or cifar10_url()
    md5 = (md5 or cifar10_md5()).lower()
    d = resolve_data_dir(data_dir)
    target = d / CIFAR10_TARBALL
    if not (target.is_file() and md5sum(target) == md5):
        if offline():
            raise DataUnavailable("offline: GDCHAOS_OFFLINE is set, nothing is downloaded")
        if (url, md5) in _FAILED_DOWNLOADS:
            raise DataUnavailable(_FAILED_DOWNLOADS[url, md5])
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataUnavailable(f"cannot create the data folder {d}: {exc}") from None
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
            msg = f"download of {url} failed: {exc}"
            _FAILED_DOWNLOADS[url, md5] = msg
            raise DataUnavailable(msg) from None
        if h.hexdigest() != md5:
            part.unlink(missing_ok=True)
            msg = f"download of {url}: MD5 {h.hexdigest()} differs from the expected {md5}"
            _FAILED_DOWNLOADS[url, md5] = msg
            raise DataUnavailable(msg)
        part.replace(target)
    if extract and not (d / CIFAR10_FOLDER).is_dir():
        with tarfile.open(target, "r:gz") as tf:
            tf.extractall(d, filter="data")
    return d


# ----------------------------------------------------------------------------------- availability
def looked_in(data_dir=None) -> list[Path]:
    """The folders where CIFAR-10 is looked for: the one given or ``$GDCHAOS_DATA``, else the
    cache folder and the development folders."""
    if data_dir is not None or os.environ.get("GDCHAOS_DATA"):
        return [resolve_data_dir(data_dir)]
    return [cache_dir(), *development_dirs()]


def cifar10_unavailable(data_dir=None, download: bool = False, quiet: bool = False) -> str | None:
    """Why CIFAR-10 cannot be read, in a few words (for one line); ``None`` when it can.

    Nothing is fetched unless ``download=True`` and downloads are allowed (``GDCHAOS_OFFLINE``
    unset): then the tarball is downloaded into the data folder when no source is there, as
    :func:`load_cifar10` does, and a failure is summed up (the network error itself, long, is
    not repeated; a failed download is not tried again in the same process)."""
    d = resolve_data_dir(data_dir)
    if has_cifar10(d):
        return None
    where = "not found in " + ", ".join(map(str, looked_in(data_dir)))
    if offline():
        return f"{where}, GDCHAOS_OFFLINE forbids the download"
    if not download:
        return where
    try:
        download_cifar10(d, quiet=quiet)
    except DataUnavailable:
        host = urllib.parse.urlsplit(cifar10_url()).netloc or "its address"
        return f"{where}, the download from {host} failed"
    return None


def cifar10_hint(data_dir=None) -> str:
    """How to make CIFAR-10 available, in one sentence naming the folder(s) looked in."""
    dirs = looked_in(data_dir)
    where = str(dirs[0]) if len(dirs) == 1 else "one of " + ", ".join(map(str, dirs))
    return (f"to use CIFAR-10, put {CIFAR10_TARBALL} (or {CIFAR10_FOLDER}/) in {where}, or set "
            "GDCHAOS_DATA to a folder holding it (the nn commands: --data-dir), or allow the "
            "download (unset GDCHAOS_OFFLINE, with internet access)")


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
    ``"npz"``.  ``download=True`` fetches the tarball first when the folder holds no source that
    ``source`` accepts (never when ``GDCHAOS_OFFLINE`` is set).  Raises
    :class:`DataUnavailable` when there are no data, with the reason.
    """
    _check_split(split)
    if source not in ("auto", "folder", "tarball", "npz"):
        raise GdchaosInputError(f"source must be auto, folder, tarball or npz, got {source!r}")
    d = resolve_data_dir(data_dir)
    folder, tarball, npz = d / CIFAR10_FOLDER, d / CIFAR10_TARBALL, d / NPZ_NAMES[split]
    present = {"folder": folder.is_dir(), "tarball": tarball.is_file(), "npz": npz.is_file()}
    wanted = ("folder", "tarball", "npz") if source == "auto" else (source,)
    if download and source != "npz" and not any(present[k] for k in wanted):
        try:
            download_cifar10(d, extract=source != "tarball")
        except DataUnavailable as exc:
            raise DataUnavailable(f"no CIFAR-10 data in {d} ({exc}); set GDCHAOS_DATA to a "
                                  "folder holding it, or run with internet") from None
    if source in ("auto", "folder") and folder.is_dir():
        return read_cifar10_folder(folder, split)
    if source in ("auto", "tarball") and tarball.is_file():
        return read_cifar10_tarball(tarball, split)
    if source in ("auto", "npz") and npz.is_file():
        return read_cifar10_npz(npz)
    raise DataUnavailable(
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
