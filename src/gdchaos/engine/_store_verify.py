"""Checks of a store's contents: checksums of tiles and static arrays, the metadata against
the marker, and :func:`verify_store` (a report, changing nothing)."""

from __future__ import annotations

import hashlib
import os

import google_crc32c
import numpy as np

from . import _store_fs as fs


def _crc(arr, dtype=None) -> int:
    a = np.ascontiguousarray(arr if dtype is None else np.asarray(arr).astype(dtype, copy=False))
    return google_crc32c.value(a.view(np.uint8).reshape(-1)) if a.size else 0


def _metadata_problem(group, marker, run_json=None, expected=None) -> str:
    """Why a store's zarr metadata are damaged or not those of ``marker`` (and ``run_json``,
    ``expected`` name -> (shape, dtype, chunks)), or ''."""
    try:
        run = group.attrs.get("gdchaos_run")
        if run is None or hashlib.sha256(run.encode()).hexdigest() != marker.get("run_sha256"):
            return "root metadata do not match the marker"
        if run_json is not None and run != run_json:
            return "root metadata differ"
        for name in marker.get("variables", []):
            if group[name].chunks[0] != marker.get("tile_rows"):
                return f"array {name} has another layout"
        for name, (shape, dtype, chunks) in (expected or {}).items():
            a = group[name]
            if a.shape != shape or a.dtype != dtype or a.chunks != chunks:
                return f"array {name} has another layout"
        crcs = marker.get("static_crc32c", {})
        for name in crcs:
            if _crc(group[name][...]) != crcs[name]:
                return f"array {name} fails its checksum"
    except Exception as exc:  # noqa: BLE001 - any unreadable metadata means: rebuild
        return f"unreadable metadata ({type(exc).__name__})"
    return ""


def _tile_ok(path, arrays, dtypes, sl, i) -> bool:
    """Tile ``i`` (rows ``sl``) has its record and every variable matches its checksum."""
    rec = fs.read_json(os.path.join(path, fs.TILES, f"{i}.json"))
    if rec is None or rec.get("rows") != [sl.start, sl.stop]:
        return False
    crcs = rec.get("crc32c", {})
    try:
        for name, dtype in dtypes.items():
            if _crc(arrays[name][sl], dtype) != crcs.get(name):
                return False
    except Exception:  # noqa: BLE001 - a missing or torn chunk fails the tile
        return False
    return True


def verify_store(path) -> dict:
    """Check a store without changing it.  Returns a report: ``kind`` (``ours``, ``legacy``,
    ``foreign``, ``absent``, ``empty``, ``file``), ``n_tiles``, ``done`` and ``pending`` tile
    lists (pending: never run, or failing their checksums), ``problem`` (damaged metadata, or
    None) and ``ok`` (complete and verified)."""
    import zarr

    path = os.fspath(path)
    kind = fs.classify(path)
    rep = {"path": path, "kind": kind, "n_tiles": 0, "done": [], "pending": [], "problem": None,
           "ok": False}
    if kind == "legacy":
        try:
            flags = np.asarray(zarr.open_group(path, mode="r")["tile_done"][...])
        except Exception as exc:  # noqa: BLE001
            rep["problem"] = f"unreadable tile_done ({type(exc).__name__})"
            return rep
        rep.update(n_tiles=int(flags.size), done=[int(i) for i in np.flatnonzero(flags == 1)],
                   pending=[int(i) for i in np.flatnonzero(flags != 1)])
        rep["ok"] = not rep["pending"]
        return rep
    if kind != "ours":
        rep["problem"] = {"absent": "no such folder", "file": "not a folder",
                          "empty": "an empty folder"}.get(kind, "not a gdchaos store")
        return rep
    marker = fs.read_marker(path)
    rep["n_tiles"] = n = int(marker.get("n_tiles", 0))
    try:
        group = zarr.open_group(path, mode="r", use_consolidated=False)
        arrays = {name: group[name] for name in marker["variables"]}
        dtypes = {name: a.dtype for name, a in arrays.items()}
        ny = group[marker["variables"][0]].shape[0]
        tr = int(marker["tile_rows"])
    except Exception as exc:  # noqa: BLE001
        rep["problem"] = f"unreadable metadata ({type(exc).__name__})"
        return rep
    rep["problem"] = _metadata_problem(group, marker) or None
    if rep["problem"]:
        return rep
    for i in range(n):
        sl = slice(i * tr, min(ny, (i + 1) * tr))
        (rep["done"] if _tile_ok(path, arrays, dtypes, sl, i) else rep["pending"]).append(i)
    rep["ok"] = not rep["pending"]
    return rep
