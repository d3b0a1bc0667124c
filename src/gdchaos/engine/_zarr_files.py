"""Zarr (format 3) arrays written as files directly: metadata documents and chunks.

The tiled stores (:mod:`gdchaos.engine._store`) lay out a fixed, simple kind of zarr array: a
regular chunk grid, the default ``c/i/j`` chunk keys, the ``bytes`` codec (little-endian) and
optionally Blosc.  Zarr's own writer goes through its asyncio event loop for every array created
and every chunk written (a few milliseconds each, more when the kernels keep the processors
busy); writing the same files here costs the encoding and one file write.  The documents are
those zarr writes (tested: zarr and xarray read them back, the metadata compare equal to zarr's
own, and a chunk written here decodes to the same array as one written by zarr).  Reading always
goes through zarr.
"""

from __future__ import annotations

import json
import math
import os
import uuid

import numpy as np

_KINDS = "biufc"  # bool, int, uint, float, complex: the data types written here
BLOSC = {"cname": "lz4", "clevel": 5, "shuffle": "shuffle", "blocksize": 0}
_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


def supported(shape, dtype) -> bool:
    """Whether an array of this shape and dtype is written here (else: through zarr)."""
    return np.dtype(dtype).kind in _KINDS and len(shape) > 0 and all(s > 0 for s in shape)


def _float_json(x):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return float(x)


def fill_json(dtype, fill):
    """The ``fill_value`` of a zarr.json for ``fill`` in ``dtype`` (as zarr writes it)."""
    dt = np.dtype(dtype)
    v = np.asarray(fill if fill is not None else 0).astype(dt)[()]
    if dt.kind == "b":
        return bool(v)
    if dt.kind in "iu":
        return int(v)
    if dt.kind == "f":
        return _float_json(float(v))
    return [_float_json(float(v.real)), _float_json(float(v.imag))]


def compressed(dtype=None) -> bool:
    """The stores' codec choice: Blosc LZ4 with byte shuffle for integer arrays (statuses,
    iteration counts: they shrink 10-100x for little work) and for coordinates and static arrays
    (``dtype`` None); none for float variables, whose mantissas barely compress and whose encoding
    would cost the writer thread more than the disk does (docs/engine.md, "Stores")."""
    return dtype is None or np.dtype(dtype).kind != "f"


def codecs(dtype, compressed):
    """The codec chain: ``bytes`` (little-endian for multi-byte types) then Blosc if
    ``compressed``."""
    dt = np.dtype(dtype)
    out = [{"name": "bytes"} if dt.itemsize == 1 else
           {"name": "bytes", "configuration": {"endian": "little"}}]
    if compressed:
        out.append({"name": "blosc", "configuration": dict(BLOSC, typesize=dt.itemsize)})
    return out


def array_document(shape, chunks, dtype, fill, dims, compressed, attrs=None) -> dict:
    """The ``zarr.json`` of an array."""
    return {"shape": [int(s) for s in shape], "data_type": np.dtype(dtype).name,
            "chunk_grid": {"name": "regular",
                           "configuration": {"chunk_shape": [int(c) for c in chunks]}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": fill_json(dtype, fill), "codecs": codecs(dtype, compressed),
            "attributes": attrs or {}, "dimension_names": list(dims), "zarr_format": 3,
            "node_type": "array", "storage_transformers": []}


def group_document(attrs) -> dict:
    return {"attributes": attrs, "zarr_format": 3, "node_type": "group"}


def write_document(folder, doc) -> None:
    """Write ``doc`` as ``folder/zarr.json`` (the folder is created)."""
    os.makedirs(folder, exist_ok=True)
    _write_atomic(os.path.join(folder, "zarr.json"),
                  json.dumps(doc, allow_nan=True, indent=2).encode())


def _write_atomic(path, data, more=()) -> None:
    """Write ``data`` then the pieces ``more`` to ``path`` through a temporary file."""
    tmp = f"{path}.{uuid.uuid4().hex}.partial"  # zarr's own temporary names
    with open(tmp, "wb") as f:
        f.write(data)
        for piece in more:
            f.write(piece)
    os.replace(tmp, path)


class ChunkWriter:
    """Writes whole chunks of one array (its folder ``path``) laid out by
    :func:`array_document` with the same arguments."""

    def __init__(self, path, chunks, dtype, fill, compressed):
        self.path = os.fspath(path)
        self.chunks = tuple(int(c) for c in chunks)
        self.dtype = np.dtype(dtype).newbyteorder("<") if np.dtype(dtype).itemsize > 1 \
            else np.dtype(dtype)
        self.fill = fill
        self._blosc = None
        if compressed:
            from numcodecs import Blosc  # zarr's own Blosc binding (a dependency of zarr)

            self._blosc = Blosc(cname=BLOSC["cname"], clevel=BLOSC["clevel"],
                                shuffle=_SHUFFLE[BLOSC["shuffle"]],
                                blocksize=BLOSC["blocksize"], typesize=self.dtype.itemsize)

    def encode(self, block) -> bytes:
        """The stored bytes of a chunk holding ``block`` (an edge chunk's ``block`` is smaller
        than the chunk: the rest is the fill value, as zarr pads it)."""
        block = np.asarray(block)
        if block.shape != self.chunks:
            full = np.full(self.chunks, self._fill_value(), dtype=self.dtype)
            full[tuple(slice(0, s) for s in block.shape)] = block
            block = full
        raw = np.ascontiguousarray(block, dtype=self.dtype)
        if self._blosc is None:
            return memoryview(raw.view(np.uint8).reshape(-1))
        return self._blosc.encode(raw.view(np.uint8).reshape(-1))

    def _fill_value(self):
        return self.fill if self.fill is not None else 0

    def write(self, index, block) -> None:
        """Write ``block`` as the chunk at grid position ``index`` (a tuple of ints)."""
        folder = os.path.join(self.path, "c", *(str(int(i)) for i in index[:-1]))
        os.makedirs(folder, exist_ok=True)
        block = np.asarray(block)
        path = os.path.join(folder, str(int(index[-1])))
        if self._blosc is None and block.shape[1:] == self.chunks[1:] \
                and block.shape[0] < self.chunks[0]:
            # an edge chunk short of rows, stored raw: its bytes, then the fill value's
            raw = np.ascontiguousarray(block, dtype=self.dtype)
            _write_atomic(path, memoryview(raw.view(np.uint8).reshape(-1)),
                          self._fill_bytes(int(np.prod(self.chunks)) - raw.size))
        else:
            _write_atomic(path, self.encode(block))

    def _fill_bytes(self, count):
        """Pieces of bytes of ``count`` fill values (one small pattern, written repeatedly)."""
        piece = np.full(min(count, 1 << 16), self._fill_value(), dtype=self.dtype)
        mv = memoryview(piece.view(np.uint8).reshape(-1))
        while count > 0:
            k = min(count, piece.size)
            yield mv[:k * self.dtype.itemsize]
            count -= k


def write_array(folder, arr, dims, compressed, fill=0, attrs=None) -> None:
    """A whole (small) array in one chunk: its document and its chunk."""
    arr = np.asarray(arr)
    write_document(folder, array_document(arr.shape, arr.shape, arr.dtype, fill, dims,
                                          compressed, attrs))
    ChunkWriter(folder, arr.shape, arr.dtype, fill, compressed).write((0,) * arr.ndim, arr)


def write_with_zarr(folder, name, dims, arr) -> None:
    """A static array of a kind not written here (0-d, empty, not numeric), written by zarr
    into the group at ``folder``."""
    import zarr
    from zarr.codecs import BloscCodec

    g = zarr.open_group(folder, mode="a")
    a = g.create_array(name, shape=arr.shape, chunks=arr.shape or (1,), dtype=arr.dtype,
                       dimension_names=list(dims),
                       compressors=BloscCodec(cname=BLOSC["cname"], clevel=BLOSC["clevel"],
                                              shuffle=BLOSC["shuffle"]))
    a[...] = arr


def codec_problem(path, layout) -> str:
    """Why the arrays ``layout`` (name -> (shape, dtype, ...)) of the store at ``path`` do not
    have the codecs written here, or ''."""
    for name, (_, dtype, *_) in layout.items():
        try:
            with open(os.path.join(path, name, "zarr.json")) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            return f"unreadable metadata of {name}"
        if not isinstance(doc, dict) or doc.get("codecs") != codecs(dtype, compressed(dtype)):
            return f"array {name} has other codecs"
    return ""


def _node_documents(path):
    """relative path -> zarr.json document of every node below the root of the store ``path``
    (groups and arrays; chunk folders and our other files are not nodes)."""
    out = {}
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        rel = os.path.relpath(folder, path)
        if rel == "." or "zarr.json" not in files:
            continue
        with open(os.path.join(folder, "zarr.json")) as f:
            doc = json.load(f)
        out[rel.replace(os.sep, "/")] = doc
        if doc.get("node_type") == "array":
            dirs[:] = []  # an array's folders hold its chunks
    return dict(sorted(out.items()))


def consolidate(path) -> None:
    """Write the consolidated metadata of the store ``path`` into its root ``zarr.json`` (zarr's
    ``inline`` kind, as ``zarr.consolidate_metadata`` writes it), so that ``xarray.open_zarr``
    opens it silently and in one read.  gdchaos reads its stores without them (the per-node
    documents are the truth); they are rewritten whenever a document changes."""
    root_path = os.path.join(path, "zarr.json")
    with open(root_path) as f:
        root = json.load(f)
    root["consolidated_metadata"] = {"kind": "inline", "must_understand": False,
                                     "metadata": _node_documents(path)}
    _write_atomic(root_path, json.dumps(root, allow_nan=True, indent=2).encode())


def update_root_attributes(path, attrs) -> None:
    """Add ``attrs`` to the root group's attributes of the store ``path`` (its consolidated
    metadata kept)."""
    root_path = os.path.join(path, "zarr.json")
    with open(root_path) as f:
        root = json.load(f)
    root.setdefault("attributes", {}).update(attrs)
    _write_atomic(root_path, json.dumps(root, allow_nan=True, indent=2).encode())


def read_blocks(path, name):
    """The chunks of the array ``name`` of the store ``path`` along its first axis, decoded here
    when they are laid out as this module writes them (one chunk per tile of whole rows, our
    codecs), as NumPy arrays in order; ``None`` for any other layout (read it with zarr).  A
    missing chunk reads as the fill value, as zarr reads it."""
    try:
        with open(os.path.join(path, name, "zarr.json")) as f:
            doc = json.load(f)
        dtype = np.dtype(doc["data_type"])
        shape = tuple(doc["shape"])
        chunks = tuple(doc["chunk_grid"]["configuration"]["chunk_shape"])
        fill = doc["fill_value"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    packed = doc.get("codecs") == codecs(dtype, True)
    if not shape or tuple(chunks[1:]) != tuple(shape[1:]) or dtype.kind not in "biu" or \
            not (packed or doc.get("codecs") == codecs(dtype, False)):
        return None
    return _blocks(os.path.join(path, name), dtype, shape, chunks, fill, packed)


def _blocks(folder, dtype, shape, chunks, fill, packed):
    from numcodecs import Blosc

    le = dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype
    rest = (0,) * (len(shape) - 1)
    for i in range(-(-shape[0] // chunks[0])):
        rows = min(chunks[0], shape[0] - i * chunks[0])
        key = os.path.join(folder, "c", str(i), *map(str, rest))
        try:
            with open(key, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            yield np.full((rows,) + shape[1:], fill, dtype=dtype)
            continue
        if packed:
            raw = Blosc().decode(raw)
        yield np.frombuffer(raw, dtype=le).reshape(chunks)[:rows]
