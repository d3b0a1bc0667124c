"""CIFAR-10 and digits loaders: .npz files, the standard pickle folder and tarball, downloads."""

import hashlib
import pickle
import tarfile

import numpy as np
import pytest
import torch

from gdchaos._errors import GdchaosInputError
from gdchaos.nn import data as D


def _batch_bytes(x, y):
    obj = {b"batch_label": b"synthetic", b"labels": [int(v) for v in y], b"data": x,
           b"filenames": [b"img%d.png" % i for i in range(len(y))]}
    return pickle.dumps(obj, protocol=2)


def _standard_layout(tmp_path, train_x, train_y, test_x, test_y, extra=5):
    """cifar-10-batches-py/ with data_batch_1 = the given images, 2..5 small random batches."""
    rng = np.random.default_rng(0)
    folder = tmp_path / D.CIFAR10_FOLDER
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(_batch_bytes(train_x, train_y))
    for i in range(2, 6):
        x = rng.integers(0, 256, (extra, 3072), dtype=np.uint8)
        (folder / f"data_batch_{i}").write_bytes(_batch_bytes(x, rng.integers(0, 10, extra)))
    (folder / "test_batch").write_bytes(_batch_bytes(test_x, test_y))
    (folder / "batches.meta").write_bytes(pickle.dumps(
        {b"label_names": [n.encode() for n in D.CIFAR10_LABELS]}, protocol=2))
    return folder


def _tar(folder, path):
    with tarfile.open(path, "w:gz") as tf:
        tf.add(folder, arcname=D.CIFAR10_FOLDER)
    return path


# ------------------------------------------------------------------------------ shared .npz
def test_npz_files_shapes_labels_and_flattening(shared_data):
    raw = D.load_cifar10(shared_data, "train", source="npz")
    assert raw.x.shape == (1000, 3072) and raw.x.dtype == np.uint8
    assert np.bincount(raw.y, minlength=10).tolist() == [102, 112, 99, 92, 99, 85, 107, 102, 99,
                                                         103]
    assert raw.y[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    with np.load(shared_data / "cifar10_train_first1000_hwc.npz") as z:
        hwc = z["x"]
    # one convention: R, G, B planes of 32 x 32, row-major (the pickles' layout)
    assert np.array_equal(raw.x[7, :1024].reshape(32, 32), hwc[7, :, :, 0])
    assert np.array_equal(raw.x[7, 2048:].reshape(32, 32), hwc[7, :, :, 2])
    assert np.array_equal(D.flat_to_hwc(raw.x), hwc)
    test = D.load_cifar10(shared_data, "test", source="npz")
    assert test.x.shape == (1000, 3072)


def test_pickles_built_from_npz_load_identically(shared_data, tmp_path):
    with np.load(shared_data / "cifar10_train_first1000_hwc.npz") as z:
        tx, ty = D.hwc_to_flat(z["x"]), z["y"]
    with np.load(shared_data / "cifar10_test_first1000_hwc.npz") as z:
        vx, vy = D.hwc_to_flat(z["x"]), z["y"]
    (tmp_path / "f").mkdir()
    folder = _standard_layout(tmp_path / "f", tx, ty, vx, vy)
    tar = _tar(folder, tmp_path / D.CIFAR10_TARBALL)
    npz = D.load_cifar10(shared_data, "train", source="npz")
    fold = D.read_cifar10_folder(folder, "train")
    tball = D.read_cifar10_tarball(tar, "train")
    assert fold.x.shape == (1020, 3072) and tball.x.shape == (1020, 3072)
    assert np.array_equal(fold.x[:1000], npz.x) and np.array_equal(tball.x[:1000], npz.x)
    assert np.array_equal(fold.y[:1000], npz.y)
    assert np.array_equal(D.read_cifar10_folder(folder, "test").x, vx)
    # the same images and tensors for a class pair, whichever source
    a = D.load_pair("cifar10", (0, 1), 25, seed=3, data_dir=shared_data)
    b = D.load_pair("cifar10", (0, 1), 25, seed=3, data_dir=tmp_path / "f")
    c = D.load_pair("cifar10", (0, 1), 25, seed=3, data_dir=tmp_path, source="tarball")
    assert a.source.endswith(".npz") and b.source.endswith(D.CIFAR10_FOLDER)
    assert c.source.endswith(".tar.gz")
    for other in (b, c):
        assert np.array_equal(a.indices, other.indices)
        assert torch.equal(a.X, other.X) and torch.equal(a.y, other.y)


def test_pair_selection_and_paper_preprocessing(shared_data):
    p = D.load_pair(data_dir=shared_data)
    assert p.X.shape == (50, 3072) and p.X.dtype == torch.float64
    assert p.y.tolist() == [0.0] * 25 + [1.0] * 25
    assert np.all(p.labels[:25] == 0) and np.all(p.labels[25:] == 1)
    assert float(p.X.min()) >= 0.0 and float(p.X.max()) <= 1.0
    assert p.class_names == ("airplane", "automobile")
    raw = D.load_cifar10(shared_data)
    assert torch.equal(p.X, torch.as_tensor(raw.x[p.indices] / 255.0))
    again = D.load_pair(data_dir=shared_data)
    other = D.load_pair(data_dir=shared_data, seed=1)
    assert np.array_equal(p.indices, again.indices)
    assert not np.array_equal(p.indices, other.indices)
    pm = D.load_pair(data_dir=shared_data, targets="pm1", preprocess="standardize")
    assert pm.y.tolist() == [-1.0] * 25 + [1.0] * 25
    assert torch.allclose(pm.X.mean(0), torch.zeros(3072, dtype=torch.float64), atol=1e-12)
    with pytest.raises(GdchaosInputError, match="class 5 has 85"):
        D.load_pair(classes=(0, 5), n_per_class=90, data_dir=shared_data)
    with pytest.raises(GdchaosInputError, match="pool"):
        D.load_pair(data_dir=shared_data, pool=5000)


# ------------------------------------------------------------------------------ synthetic
def test_synthetic_folder_and_tarball(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (40, 3072), dtype=np.uint8)
    y = np.arange(40) % 10
    folder = _standard_layout(tmp_path, x, y, x[:10], y[:10], extra=3)
    r = D.load_cifar10(tmp_path)  # auto: the folder
    assert r.x.shape == (52, 3072) and np.array_equal(r.x[:40], x) and np.array_equal(r.y[:40], y)
    (tmp_path / "t").mkdir()
    tar = _tar(folder, tmp_path / "t" / D.CIFAR10_TARBALL)
    r2 = D.load_cifar10(tar.parent, source="auto")
    assert np.array_equal(r2.x, r.x) and r2.source == str(tar)
    p = D.load_pair("cifar10", (3, 7), 2, seed=0, data_dir=tar.parent, pool=None)
    assert p.X.shape == (4, 3072) and p.labels.tolist() == [3, 3, 7, 7]
    (folder / "data_batch_3").unlink()
    with pytest.raises(GdchaosInputError, match="lacks data_batch_3"):
        D.load_cifar10(tmp_path)


def test_loader_refuses_code_in_pickles_and_bad_files(tmp_path):
    folder = tmp_path / D.CIFAR10_FOLDER
    folder.mkdir()

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    for i in range(1, 6):
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(GdchaosInputError, match="not a CIFAR-10 batch"):
        D.load_cifar10(tmp_path)
    bad = tmp_path / "b"
    bad.mkdir()
    np.savez(bad / D.NPZ_NAMES["train"], x=np.zeros((3, 8, 8, 3), np.uint8), y=np.zeros(3))
    with pytest.raises(GdchaosInputError, match="expected x uint8"):
        D.load_cifar10(bad)
    with pytest.raises(GdchaosInputError, match="no CIFAR-10 data"):
        D.load_cifar10(tmp_path / "empty")


def test_download_verifies_md5_and_extracts(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (20, 3072), dtype=np.uint8)
    src = tmp_path / "src"
    src.mkdir()
    folder = _standard_layout(src, x, np.arange(20) % 10, x, np.arange(20) % 10, extra=1)
    tar = _tar(folder, tmp_path / "remote.tar.gz")
    md5 = hashlib.md5(tar.read_bytes()).hexdigest()
    url = tar.as_uri()  # a local file: no network
    dest = tmp_path / "dest"
    with pytest.raises(GdchaosInputError, match="MD5"):
        D.download_cifar10(dest, url=url, md5="0" * 32, quiet=True)
    assert not any(dest.iterdir())  # no partial file left
    out = D.download_cifar10(dest, url=url, md5=md5, quiet=True)
    assert (out / D.CIFAR10_TARBALL).is_file() and (out / D.CIFAR10_FOLDER).is_dir()
    assert np.array_equal(D.load_cifar10(out).x[:20], x)
    with pytest.raises(GdchaosInputError, match="download of"):
        D.download_cifar10(tmp_path / "d2", url=(tmp_path / "missing.tar.gz").as_uri(), quiet=True)


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GDCHAOS_DATA", str(tmp_path))
    assert D.default_data_dir() == tmp_path
    monkeypatch.delenv("GDCHAOS_DATA")
    d = D.default_data_dir()
    assert d.name == "data" or d == D.cache_dir()


def test_digits_pair():
    p = D.load_pair("digits", (0, 1), 20, seed=0)
    assert p.X.shape == (40, 64) and p.y.tolist() == [0.0] * 20 + [1.0] * 20
    assert 0.0 <= float(p.X.min()) and float(p.X.max()) <= 1.0
    assert p.source == "sklearn.datasets.load_digits"
    q = D.load_pair("digits", (3, 8), 5, seed=0, targets="pm1", pool=None)
    assert q.labels.tolist() == [3] * 5 + [8] * 5 and q.y.tolist() == [-1.0] * 5 + [1.0] * 5
    with pytest.raises(GdchaosInputError):
        D.load_pair("digits", (0, 0))
    with pytest.raises(GdchaosInputError):
        D.load_pair("mnist")
    with pytest.raises(GdchaosInputError):
        D.load_pair("digits", (0, 11))
