"""CIFAR-10 and digits loaders: .npz files, the standard pickle folder and tarball, downloads."""

import hashlib
import pickle
import tarfile

import numpy as np
import pytest
import torch

from gdchaos.errors import GdchaosInputError
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
def test_npz_files_shapes_labels_and_flattening(cifar_npz):
    raw = D.load_cifar10(cifar_npz, "train", source="npz")
    assert raw.x.shape == (1000, 3072) and raw.x.dtype == np.uint8
    assert np.bincount(raw.y, minlength=10).tolist() == [102, 112, 99, 92, 99, 85, 107, 102, 99,
                                                         103]
    assert raw.y[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    with np.load(cifar_npz / "cifar10_train_first1000_hwc.npz") as z:
        hwc = z["x"]
    # one convention: R, G, B planes of 32 x 32, row-major (the pickles' layout)
    assert np.array_equal(raw.x[7, :1024].reshape(32, 32), hwc[7, :, :, 0])
    assert np.array_equal(raw.x[7, 2048:].reshape(32, 32), hwc[7, :, :, 2])
    assert np.array_equal(D.flat_to_hwc(raw.x), hwc)
    test = D.load_cifar10(cifar_npz, "test", source="npz")
    assert test.x.shape == (1000, 3072)


def test_pickles_built_from_npz_load_identically(cifar_npz, tmp_path):
    with np.load(cifar_npz / "cifar10_train_first1000_hwc.npz") as z:
        tx, ty = D.hwc_to_flat(z["x"]), z["y"]
    with np.load(cifar_npz / "cifar10_test_first1000_hwc.npz") as z:
        vx, vy = D.hwc_to_flat(z["x"]), z["y"]
    (tmp_path / "f").mkdir()
    folder = _standard_layout(tmp_path / "f", tx, ty, vx, vy)
    tar = _tar(folder, tmp_path / D.CIFAR10_TARBALL)
    npz = D.load_cifar10(cifar_npz, "train", source="npz")
    fold = D.read_cifar10_folder(folder, "train")
    tball = D.read_cifar10_tarball(tar, "train")
    assert fold.x.shape == (1020, 3072) and tball.x.shape == (1020, 3072)
    assert np.array_equal(fold.x[:1000], npz.x) and np.array_equal(tball.x[:1000], npz.x)
    assert np.array_equal(fold.y[:1000], npz.y)
    assert np.array_equal(D.read_cifar10_folder(folder, "test").x, vx)
    # the same images and tensors for a class pair, whichever source
    a = D.load_pair("cifar10", (0, 1), 25, seed=3, data_dir=cifar_npz)
    b = D.load_pair("cifar10", (0, 1), 25, seed=3, data_dir=tmp_path / "f")
    c = D.load_pair("cifar10", (0, 1), 25, seed=3, data_dir=tmp_path, source="tarball")
    assert a.source.endswith(".npz") and b.source.endswith(D.CIFAR10_FOLDER)
    assert c.source.endswith(".tar.gz")
    for other in (b, c):
        assert np.array_equal(a.indices, other.indices)
        assert torch.equal(a.X, other.X) and torch.equal(a.y, other.y)


def test_pair_selection_and_paper_preprocessing(cifar_data):
    p = D.load_pair(data_dir=cifar_data)
    assert p.X.shape == (50, 3072) and p.X.dtype == torch.float64
    assert p.y.tolist() == [0.0] * 25 + [1.0] * 25
    assert np.all(p.labels[:25] == 0) and np.all(p.labels[25:] == 1)
    assert float(p.X.min()) >= 0.0 and float(p.X.max()) <= 1.0
    assert p.class_names == ("airplane", "automobile")
    raw = D.load_cifar10(cifar_data)
    assert torch.equal(p.X, torch.as_tensor(raw.x[p.indices] / 255.0))
    again = D.load_pair(data_dir=cifar_data)
    other = D.load_pair(data_dir=cifar_data, seed=1)
    assert np.array_equal(p.indices, again.indices)
    assert not np.array_equal(p.indices, other.indices)
    pm = D.load_pair(data_dir=cifar_data, targets="pm1", preprocess="standardize")
    assert pm.y.tolist() == [-1.0] * 25 + [1.0] * 25
    assert torch.allclose(pm.X.mean(0), torch.zeros(3072, dtype=torch.float64), atol=1e-12)
    with pytest.raises(GdchaosInputError, match="class 5 has 85"):
        D.load_pair(classes=(0, 5), n_per_class=90, data_dir=cifar_data)
    with pytest.raises(GdchaosInputError, match="pool"):
        D.load_pair(data_dir=cifar_data, pool=5000)


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


@pytest.fixture
def online(monkeypatch):
    """Downloads allowed (the suite sets GDCHAOS_OFFLINE) but only ever from local file:// URLs
    built by the test; no earlier failure remembered."""
    monkeypatch.delenv("GDCHAOS_OFFLINE", raising=False)
    monkeypatch.setattr(D, "_FAILED_DOWNLOADS", {})


def _fake_tarball(tmp_path, n_train=1000):
    """A tiny deterministic stand-in for cifar-10-python.tar.gz: ``n_train`` images in
    data_batch_1 (labels cycling 0..9), one image in each other batch; returns (path, md5, x)."""
    rng = np.random.default_rng(2)
    x = (rng.integers(0, 4, (n_train, 3072)) * 85).astype(np.uint8)  # compresses well
    src = tmp_path / "src"
    src.mkdir()
    folder = _standard_layout(src, x, np.arange(n_train) % 10, x[:10], np.arange(10), extra=1)
    tar = _tar(folder, tmp_path / "remote.tar.gz")
    return tar, hashlib.md5(tar.read_bytes()).hexdigest(), x


def test_download_verifies_md5_and_extracts(tmp_path, online):
    tar, md5, x = _fake_tarball(tmp_path, 20)
    url = tar.as_uri()  # a local file: no network
    dest = tmp_path / "dest"
    with pytest.raises(D.DataUnavailable, match="MD5"):
        D.download_cifar10(dest, url=url, md5="0" * 32, quiet=True)
    assert not any(dest.iterdir())  # no partial file left
    out = D.download_cifar10(dest, url=url, md5=md5, quiet=True)
    assert (out / D.CIFAR10_TARBALL).is_file() and (out / D.CIFAR10_FOLDER).is_dir()
    assert np.array_equal(D.load_cifar10(out).x[:20], x)
    with pytest.raises(GdchaosInputError, match="download of"):
        D.download_cifar10(tmp_path / "d2", url=(tmp_path / "missing.tar.gz").as_uri(), quiet=True)


def test_offline_switch_refuses_every_download(tmp_path):
    tar, md5, _ = _fake_tarball(tmp_path, 20)
    assert D.offline()  # tests/conftest.py sets GDCHAOS_OFFLINE=1 for the whole suite
    with pytest.raises(D.DataUnavailable, match="GDCHAOS_OFFLINE"):
        D.download_cifar10(tmp_path / "dest", url=tar.as_uri(), md5=md5, quiet=True)
    with pytest.raises(D.DataUnavailable, match="no CIFAR-10 data in .*GDCHAOS_OFFLINE"):
        D.load_pair("cifar10", data_dir=tmp_path / "dest", download=True)
    assert not (tmp_path / "dest").exists()


def _bare_user(monkeypatch, tmp_path):
    """No GDCHAOS_DATA, an empty cache, the working directory outside any repository."""
    monkeypatch.delenv("GDCHAOS_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path / "xdg" / "gdchaos"


def test_first_use_downloads_into_the_cache(tmp_path, online, monkeypatch, capfd):
    """What a user meets: a network figure on a machine without the data fetches the tarball
    (progress bar on stderr, MD5-checked) into the cache folder, then reads it from there."""
    from gdchaos.experiments.runner import run_figure
    from gdchaos.experiments.registry import get_figure

    tar, md5, x = _fake_tarball(tmp_path)
    cache = _bare_user(monkeypatch, tmp_path)
    monkeypatch.setenv("GDCHAOS_CIFAR10_URL", tar.as_uri())
    monkeypatch.setenv("GDCHAOS_CIFAR10_MD5", md5)
    assert D.default_data_dir() == cache and not cache.exists()
    rec = run_figure(get_figure(5), "tiny", {"grid": 3, "zoom_grid": 2, "iters": 20},
                     str(tmp_path / "fig"), progress=False, formats=("png",))
    assert "cifar-10" in capfd.readouterr().err  # the progress bar
    assert (cache / D.CIFAR10_TARBALL).is_file() and (cache / D.CIFAR10_FOLDER).is_dir()
    assert D.md5sum(cache / D.CIFAR10_TARBALL) == md5
    assert rec["numbers"]["data_source"] == str(cache / D.CIFAR10_FOLDER)
    # second use: found in the cache, nothing fetched (the address is gone)
    tar.unlink()
    assert D.default_data_dir() == cache
    p = D.load_pair("cifar10", (0, 1), 25, download=True)
    assert np.array_equal(p.X.numpy(), x[p.indices] / 255.0)


def test_checksum_mismatch_on_first_use_leaves_nothing(tmp_path, online, monkeypatch):
    tar, _, _ = _fake_tarball(tmp_path, 20)
    cache = _bare_user(monkeypatch, tmp_path)
    monkeypatch.setenv("GDCHAOS_CIFAR10_URL", tar.as_uri())  # MD5: the real CIFAR-10's
    with pytest.raises(D.DataUnavailable, match=f"MD5 .* differs from the expected "
                                                f"{D.CIFAR10_MD5}"):
        D.load_pair("cifar10", download=True)
    assert not any(cache.iterdir())


def test_network_failure_says_why_and_is_not_retried(tmp_path, online, monkeypatch):
    missing = tmp_path / "mirror" / D.CIFAR10_TARBALL
    monkeypatch.setenv("GDCHAOS_CIFAR10_URL", missing.as_uri())
    with pytest.raises(D.DataUnavailable, match="download of .* failed.*run with internet"):
        D.load_pair("cifar10", data_dir=tmp_path / "d", download=True)
    # the same run does not wait for the network again (one attempt per process)
    tar, md5, _ = _fake_tarball(tmp_path, 20)
    missing.parent.mkdir()
    tar.rename(missing)
    monkeypatch.setenv("GDCHAOS_CIFAR10_MD5", D.CIFAR10_MD5)
    with pytest.raises(D.DataUnavailable, match="failed"):
        D.load_pair("cifar10", data_dir=tmp_path / "d", download=True)


def test_no_download_when_the_npz_files_are_there(tmp_path, online, monkeypatch):
    monkeypatch.setenv("GDCHAOS_CIFAR10_URL", (tmp_path / "nowhere.tar.gz").as_uri())
    x = np.zeros((30, 32, 32, 3), np.uint8)
    np.savez(tmp_path / D.NPZ_NAMES["train"], x=x, y=np.arange(30) % 10)
    raw = D.load_cifar10(tmp_path, download=True)  # auto: the .npz is a source, no download
    assert raw.source.endswith(".npz")


def test_lookup_order(tmp_path, monkeypatch):
    """--data-dir, $GDCHAOS_DATA, the cache (when it holds CIFAR-10), shared/data beside the
    working directory's repository, else the cache; never where the package is installed."""
    cache = _bare_user(monkeypatch, tmp_path)
    assert D.default_data_dir() == cache  # nothing anywhere (even where ../shared/data sits
    # beside this checkout, as in CI: the package's own location is not consulted)
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("")
    dev = tmp_path / "shared" / "data"
    dev.mkdir(parents=True)
    monkeypatch.chdir(repo / "sub")
    assert D.default_data_dir() == cache  # the development folder holds no CIFAR-10 yet
    (dev / D.NPZ_NAMES["train"]).write_bytes(b"")
    assert D.default_data_dir() == dev
    cache.mkdir(parents=True)
    (cache / D.CIFAR10_TARBALL).write_bytes(b"")
    assert D.default_data_dir() == cache
    monkeypatch.setenv("GDCHAOS_DATA", str(tmp_path / "env"))
    assert D.default_data_dir() == tmp_path / "env"
    assert D.resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert D.cache_dir() == tmp_path / "home" / ".cache" / "gdchaos"


def test_data_lookup_does_not_use_the_package_location():
    import inspect

    src = inspect.getsource(D)
    assert "__file__" not in src and "_repo_root" not in src


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
