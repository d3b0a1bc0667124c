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
