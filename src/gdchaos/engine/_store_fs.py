"""File-system side of the tiled stores: what is ours, atomic creation, the writer lock.

Nothing here deletes a path that this package did not create: a store is recognised by its
marker (``gdchaos/zarr.json`` with a ``gdchaos_store`` attribute), a folder being built by the
``.gdchaos-building`` file (or, killed before it, only our ``gdchaos/.lock``) inside a sibling
named ``.<name>.gdchaos-tmp-*``, a store being replaced by its marker inside a sibling named
``.<name>.gdchaos-old-*``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import time
import uuid

from ..errors import GdchaosInputError

FORMAT = 2  # version of the store layout described in docs/engine.md, "Stores"
#: format 1 (before 0.2) kept ``tile_done`` beside the data variables; such a store is read as
#: it is and recomputed when a run resumes it
META = "gdchaos"  # a zarr subgroup holding our bookkeeping (xarray ignores subgroups)
MARKER = os.path.join(META, "zarr.json")
LOCK = os.path.join(META, ".lock")
TILES = os.path.join(META, "tiles")
LAST_RUN = os.path.join(META, "last_run.json")
TILE_DONE = f"{META}/tile_done"  # the per-tile flags: bookkeeping, not a data variable
FLAGS_DOC = {"long_name": "1 where the tile (tile_rows rows of the grid) is computed (its "
                          "checksums are in gdchaos/tiles/)"}
BUILDING = ".gdchaos-building"


def write_json_atomic(path, obj) -> None:
    """Write ``obj`` as JSON to ``path`` through a temporary file and a rename (never torn)."""
    tmp = f"{path}.{uuid.uuid4().hex}.partial"
    with open(tmp, "w") as f:
        json.dump(obj, f, sort_keys=True)
    os.replace(tmp, path)


def read_json(path):
    """The JSON object in ``path``, or None if it is missing, empty or damaged."""
    try:
        with open(path) as f:
            obj = json.load(f)
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def read_marker(path):
    """The attributes of our marker in store ``path`` (a dict), or None when there is none."""
    m = read_json(os.path.join(path, MARKER))
    if m is None:
        return None
    attrs = m.get("attributes") or {}
    return attrs if attrs.get("gdchaos_store") else None


def classify(path) -> str:
    """``absent``, ``file``, ``empty`` (an empty folder), ``ours`` (a store with our marker),
    ``legacy`` (a store of gdchaos before the marker: root zarr.json with ``gdchaos_run``), or
    ``foreign`` (anything else: never written into, never deleted)."""
    if not os.path.lexists(path):
        return "absent"
    if not os.path.isdir(path):
        return "file"
    try:
        entries = os.listdir(path)
    except OSError as exc:
        raise GdchaosInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not entries:
        return "empty"
    if os.path.isdir(os.path.join(path, META)) and read_marker(path) is not None:
        return "ours"
    root = read_json(os.path.join(path, "zarr.json"))
    if root and "gdchaos_run" in (root.get("attributes") or {}) and "tile_done" in entries:
        return "legacy"
    return "foreign"


def contains_cwd(path) -> bool:
    here = os.path.realpath(os.getcwd())
    there = os.path.realpath(path)
    return here == there or here.startswith(there.rstrip(os.sep) + os.sep)


class WriterLock:
    """An exclusive lock on a store: ``flock`` on ``gdchaos/.lock``, which holds the pid, host and
    start time of the writer.  The kernel drops the lock when its process dies, so a crashed run
    never leaves a stuck lock (the file's stale text is overwritten by the next writer)."""

    def __init__(self, fd, label):
        self.fd = fd
        self.label = label

    @classmethod
    def acquire(cls, lock_path, label):
        for _ in range(5):
            try:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise GdchaosInputError(f"cannot lock store {label}: {exc.strerror or exc}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_fd(fd)
                os.close(fd)
                raise GdchaosInputError(
                    f"store {label} is being written by pid {holder.get('pid', '?')} on host "
                    f"{holder.get('host', '?')} since {holder.get('since', '?')}; wait for it to "
                    "finish or stop it") from None
            except OSError as exc:
                os.close(fd)
                raise GdchaosInputError(f"cannot lock store {label}: {exc.strerror or exc}") from None
            try:  # the file we locked must still be the one at lock_path (not one moved away)
                same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            info = {"pid": os.getpid(), "host": socket.gethostname(),
                    "since": time.strftime("%Y-%m-%d %H:%M:%S %z")}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
            return cls(fd, label)
        raise GdchaosInputError(f"cannot lock store {label}: its lock file keeps changing")

    def release(self) -> None:
        if self.fd is not None:
            try:
                os.ftruncate(self.fd, 0)
            except OSError:
                pass
            os.close(self.fd)  # closing drops the flock
            self.fd = None

    def __del__(self):
        try:
            self.release()
        except Exception:  # noqa: BLE001 - interpreter shutdown: the kernel drops the lock
            pass


def _read_fd(fd) -> dict:
    try:
        obj = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return obj if isinstance(obj, dict) else {}


def _lock_is_free(lock_path) -> bool:
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)  # also drops a lock we just took
    return True


def sibling(path, kind) -> str:
    parent, name = os.path.split(os.path.abspath(path))
    return os.path.join(parent, f".{name}.gdchaos-{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def remove_leftovers(path) -> None:
    """Remove our siblings of ``path`` left by killed runs: folders being built
    (``.<name>.gdchaos-tmp-*`` holding ``.gdchaos-building`` or our marker) and stores being
    replaced (``.<name>.gdchaos-old-*`` holding our marker or ``.gdchaos-building``: a figure's
    store set aside), unless their writer still runs."""
    parent, name = os.path.split(os.path.abspath(path))
    try:
        entries = os.listdir(parent)
    except OSError:
        return
    for e in entries:
        if not (e.startswith(f".{name}.gdchaos-tmp-") or e.startswith(f".{name}.gdchaos-old-")):
            continue
        full = os.path.join(parent, e)
        if not os.path.isdir(full) or os.path.islink(full):
            continue
        if not os.listdir(full):
            os.rmdir(full)
            continue
        ours = read_marker(full) is not None or os.path.isfile(os.path.join(full, BUILDING)) \
            or ("-tmp-" in e and _build_start(full))
        if ours and _lock_is_free(os.path.join(full, LOCK)):
            shutil.rmtree(full, ignore_errors=True)


def _build_start(folder) -> bool:
    """``folder`` holds what a build does before its ``.gdchaos-building`` file: our
    bookkeeping folder, empty or with its lock file only (a build killed at its start)."""
    try:
        return os.listdir(folder) == [META] and \
            set(os.listdir(os.path.join(folder, META))) <= {".lock"}
    except OSError:
        return False
