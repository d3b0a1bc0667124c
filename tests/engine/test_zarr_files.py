"""The zarr files the stores write directly are those zarr writes: documents that parse to the
same metadata, chunks with the same bytes (edge chunks padded with the fill value), and a
TiledStore that zarr and xarray read back as written."""

import json
import os

import numpy as np
import pytest

zarr = pytest.importorskip("zarr")

from gdchaos.engine import _zarr_files as zf  # noqa: E402
from gdchaos.engine import TiledStore, VarSpec, open_store, verify_store  # noqa: E402

CASES = [  # shape, chunks, dtype, fill, dims, compressed
    ((7, 5), (3, 5), "int8", -1, ("y", "x"), True),
    ((7, 5), (3, 5), "int32", -1, ("y", "x"), True),
    ((7, 5), (3, 5), "float64", np.nan, ("y", "x"), False),
    ((7, 5, 4), (2, 5, 4), "float64", np.inf, ("y", "x", "param"), False),
    ((7, 5), (3, 5), "float32", -np.inf, ("y", "x"), True),
    ((6,), (6,), "float64", 0, ("x",), True),
    ((6,), (6,), "int64", 0, ("x",), True),
    ((4,), (1,), "int8", 0, ("tile",), True),
    ((3, 2), (3, 2), "uint16", 7, ("a", "b"), True),
    ((3,), (3,), "bool", False, ("a",), True),
    ((3,), (3,), "complex128", 1 + 2j, ("a",), False),
]


def _zarr_array(folder, shape, chunks, dtype, fill, dims, compressed, attrs):
    from zarr.codecs import BloscCodec

    comp = BloscCodec(cname="lz4", clevel=5, shuffle="shuffle") if compressed else None
    g = zarr.open_group(folder, mode="a")
    return g.create_array("a", shape=shape, chunks=chunks, dtype=dtype, fill_value=fill,
                          dimension_names=list(dims), compressors=comp, attributes=attrs,
                          config={"write_empty_chunks": True})


@pytest.mark.parametrize("case", CASES, ids=[f"{c[2]}{len(c[0])}d" for c in CASES])
def test_documents_and_chunks_are_zarrs(tmp_path, case):
    shape, chunks, dtype, fill, dims, compressed = case
    attrs = {"description": "x", "n": 3}
    theirs = _zarr_array(tmp_path / "z", shape, chunks, dtype, fill, dims, compressed, attrs)
    mine_dir = tmp_path / "m" / "a"
    zf.write_document(tmp_path / "m", zf.group_document({}))
    zf.write_document(mine_dir, zf.array_document(shape, chunks, dtype, fill, dims, compressed,
                                                  attrs))
    mine = zarr.open_group(tmp_path / "m", mode="r")["a"]
    assert mine.metadata.to_dict() == theirs.metadata.to_dict()
    with open(mine_dir / "zarr.json") as f:
        doc = json.load(f)
    with open(tmp_path / "z" / "a" / "zarr.json") as f:
        assert doc == json.load(f)
    # every chunk, the edge chunk included, written by both: the same bytes, the same array
    rng = np.random.default_rng(1)
    data = (rng.standard_normal(shape) * 50).astype(dtype)
    if np.dtype(dtype).kind == "c":
        data = data + 1j * rng.standard_normal(shape)
    theirs[...] = data
    w = zf.ChunkWriter(mine_dir, chunks, dtype, fill, compressed)
    grid = [-(-s // c) for s, c in zip(shape, chunks)]
    for index in np.ndindex(*grid):
        sl = tuple(slice(i * c, min(s, (i + 1) * c)) for i, c, s in zip(index, chunks, shape))
        w.write(index, data[sl])
        key = os.path.join("c", *map(str, index))
        with open(mine_dir / key, "rb") as f1, open(tmp_path / "z" / "a" / key, "rb") as f2:
            assert f1.read() == f2.read(), key
    np.testing.assert_array_equal(mine[...], data)


def test_unsupported_kinds_go_through_zarr():
    assert zf.supported((3,), "float64") and zf.supported((2, 2), "int8")
    assert not zf.supported((), "float64")  # 0-d
    assert not zf.supported((0, 3), "float64")  # empty
    assert not zf.supported((3,), "U5")  # strings


@pytest.mark.filterwarnings("ignore:The data type")  # zarr: no V3 spec of fixed-length strings
def test_store_with_static_arrays_of_every_kind(tmp_path):
    """A store's template (coordinates, static arrays, also those zarr writes) reads back."""
    ny, nx = 5, 4
    coords = {"y": np.linspace(0, 1, ny), "x": np.arange(nx), "name": np.array(["a", "b"])}
    static = {"empty": (("e",), np.zeros(0)),
              "dirs": (("basis", "x"), np.eye(2, nx))}
    variables = {"status": VarSpec(("y", "x"), "int8", -1, {"codes": "c"}),
                 "v": VarSpec(("y", "x"), "float64", np.nan),
                 "p": VarSpec(("y", "x", "name"), "float32", np.nan)}
    ts = TiledStore(tmp_path / "s", coords, variables, {"k": 1}, tile_rows=2,
                    sizes={"e": 0}, static=static, attrs={"a": 1})
    assert ts.open() == [0, 1, 2]
    rng = np.random.default_rng(0)
    full = {"status": rng.integers(-1, 4, (ny, nx)).astype(np.int8),
            "v": rng.standard_normal((ny, nx)), "p": rng.standard_normal((ny, nx, 2))}
    for i in range(3):
        ts.write_tile(i, {k: v[ts.tile_rows_slice(i)] for k, v in full.items()})
    ts.close()
    assert verify_store(tmp_path / "s")["ok"]
    ds = open_store(tmp_path / "s")
    np.testing.assert_array_equal(ds["status"].values, full["status"])
    np.testing.assert_array_equal(ds["v"].values, full["v"])
    np.testing.assert_array_equal(ds["p"].values, full["p"].astype(np.float32))
    assert "tile_done" not in ds.variables  # bookkeeping, outside the dataset
    flags = zarr.open_group(tmp_path / "s", mode="r", use_consolidated=False)["gdchaos/tile_done"]
    np.testing.assert_array_equal(flags[...], [1, 1, 1])
    assert ds["empty"].shape == (0,)
    assert list(ds["name"].values) == ["a", "b"]
    np.testing.assert_array_equal(ds["dirs"].values, np.eye(2, nx))
    assert ds["status"].attrs["codes"] == "c" and ds.attrs["a"] == 1


def test_read_blocks_decodes_our_tiles_as_zarr_reads_them(tmp_path):
    """The store's integer variables read tile by tile without zarr equal zarr's reading
    (compressed int8, edge tile, a missing chunk as the fill value); other layouts say None."""
    import gdchaos as gc
    from gdchaos.engine._zarr_files import read_blocks

    path = str(tmp_path / "s.zarr")
    gc.basin(gc.QuotientMap(y=0.5, lam=0.2), gc.Slice2D.axes(2, (-2.5, 3), (0, 10), 13, 11),
             eta=1.0, max_iter=30, store=path, tile_rows=4)
    g = zarr.open_group(path, mode="r", use_consolidated=False)
    for name in ("status", "iterations", "minimizer"):
        got = np.concatenate(list(read_blocks(path, name)))
        np.testing.assert_array_equal(got, g[name][...])
    os.remove(os.path.join(path, "status", "c", "1", "0"))
    blocks = list(read_blocks(path, "status"))
    assert (blocks[1] == -1).all() and len(blocks) == 3 and blocks[2].shape == (3, 13)
    assert read_blocks(path, "final_loss") is None  # floats: read with zarr
    assert read_blocks(path, "no_such") is None


def test_basin_store_without_a_picture_imports_no_xarray(tmp_path):
    """``gdchaos basin --out S --json`` reads its fractions from the tiles: neither xarray nor
    zarr is imported (start-up), and the fractions equal those of the opened store."""
    import subprocess
    import sys

    code = (
        "import sys, json, io, contextlib\n"
        "from gdchaos.cli import main\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    rc = main(['basin', '--problem', 'quotient', '--y', '0.5', '--lam', '0.2', '--grid',"
        " '40', '--eta', '1', '--iters', '50', '--tile-rows', '8', '--out', 's.zarr', '--json'])\n"
        "print(json.dumps([rc, 'xarray' in sys.modules, 'zarr' in sys.modules,"
        " json.loads(buf.getvalue())['fractions']]))\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rc, xr_in, zarr_in, fr = json.loads(r.stdout.strip().splitlines()[-1])
    assert rc == 0 and not xr_in and not zarr_in
    import gdchaos as gc

    assert fr == gc.status_fractions(gc.open_store(tmp_path / "s.zarr").status)
