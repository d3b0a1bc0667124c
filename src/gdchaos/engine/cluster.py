"""Maps computed on a Dask cluster: scheduler parsing, client start/stop, the tile-task runner.

A long command given ``--scheduler`` (or a library call given ``scheduler=`` / ``client=``) runs
each tile of its store as one Dask task:

* the client opens the store first (it builds the template, or verifies a resumed store, and
  holds the store's writer lock for the whole run: a second client is refused with one line);
* every task opens the existing store for region writes (:meth:`TiledStore.attach`, no lock),
  computes its tile and writes it with :meth:`TiledStore.write_tile`: the same chunks, checksum
  record and ``tile_done`` flag as the single-process path; no two tasks write the same chunk;
* a task lost with its worker is run again elsewhere by the scheduler and writes the same bytes
  (a tile is a pure function of the run's parameters); a killed client leaves a store that the
  same command resumes;
* the client receives only small per-tile summaries, never a tile's data: memory stays flat in the
  map size (fractions are computed chunk by chunk from the store: :func:`store_fractions`).

Scheduler strings: ``local`` / ``local:N`` (a ``LocalCluster`` of N single-threaded worker
processes, started and stopped around the run) or ``tcp://HOST:PORT`` (``tls://``) of a running
``dask scheduler``.  Details: docs/cluster.md.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass

from ..errors import GdchaosInputError
from .threads import set_threads

SCHEDULER_HELP = ("run the tiles on a Dask cluster: local[:N] (N worker processes started for "
                  "this run, default one per core) or tcp://HOST:PORT of a running scheduler; "
                  "needs the 'dask' extra")
_ADDRESS = re.compile(r"^(tcp|tls|ucx)://[^\s/:]+(:\d{1,5})?$")
_MEMORY = re.compile(r"^\s*(\d+(\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$", re.I)
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "kib": 2**10,
          "mib": 2**20, "gib": 2**30, "tib": 2**40}


@dataclass(frozen=True)
class Scheduler:
    """Where tiles run: ``kind`` ``"local"`` (``workers`` processes, ``memory_limit`` bytes each
    or None for Dask's default share of the machine) or ``"address"`` (``address``)."""

    kind: str
    workers: int = 0
    address: str | None = None
    memory_limit: int | None = None
    threads_per_worker: int = 1

    def describe(self) -> str:
        if self.kind == "local":
            mem = "" if self.memory_limit is None else f", {self.memory_limit / 1e9:g} GB each"
            return f"local cluster of {self.workers} worker process(es){mem}"
        return f"scheduler {self.address}"


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def parse_memory(text) -> int | None:
    """``"2GB"``, ``"1.5GiB"``, ``"500MB"`` or a number of bytes -> bytes; None stays None."""
    if text is None:
        return None
    m = _MEMORY.match(str(text))
    if not m:
        raise GdchaosInputError(f"worker memory must be a size like 2GB or 1.5GiB, got {text!r}")
    n = int(float(m.group(1)) * _UNITS[(m.group(3) or "b").lower()])
    if n < 2**26:
        raise GdchaosInputError(f"worker memory must be at least 64 MiB, got {text!r}")
    return n


#: ``local:N`` beyond this many workers per usable core is refused unless ``allow_large``
WORKERS_PER_CORE = 2


def parse_scheduler(text, memory=None, allow_large=True) -> Scheduler | None:
    """The ``--scheduler`` value (None or '' = no cluster: the single-process path).
    ``allow_large=False`` (the command line without ``--allow-large``) refuses ``local:N`` with
    more than :data:`WORKERS_PER_CORE` workers per usable core: each worker is a process with
    its own memory, and more of them than cores only oversubscribe the machine."""
    if isinstance(text, Scheduler):
        return text
    mem = parse_memory(memory)
    if text is None or str(text).strip() == "":
        if mem is not None:
            raise GdchaosInputError("--worker-memory applies to --scheduler local[:N] only")
        return None
    t = str(text).strip()
    if t == "local" or t.startswith("local:"):
        n = t[6:] if t != "local" else str(usable_cores())
        if not n.isdigit() or int(n) < 1:
            raise GdchaosInputError(f"--scheduler local:N needs N >= 1 workers, got {text!r}")
        cores = usable_cores()
        if not allow_large and int(n) > WORKERS_PER_CORE * cores:
            raise GdchaosInputError(f"--scheduler {t}: {n} worker processes on {cores} usable "
                                    f"core(s) (limit {WORKERS_PER_CORE * cores}); pass "
                                    "--allow-large to start them anyway")
        return Scheduler("local", workers=int(n), memory_limit=mem)
    if _ADDRESS.match(t):
        if mem is not None:
            raise GdchaosInputError("--worker-memory applies to --scheduler local[:N] only (a "
                                    "running cluster's workers have their own limits)")
        return Scheduler("address", address=t)
    raise GdchaosInputError(f"--scheduler must be local, local:N or tcp://HOST:PORT, got {text!r}")


def check_reachable(spec: Scheduler | None, timeout: float = 5.0) -> None:
    """Refuse now (one line), before anything is written or started, a scheduler address that
    nothing answers at: a TCP connection to its host and port within ``timeout`` seconds."""
    import socket

    if spec is None or spec.kind != "address":
        return
    rest = spec.address.split("://", 1)[1]
    host, _, port = rest.rpartition(":")
    if not host:
        host, port = rest, "8786"  # Dask's default scheduler port
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except (OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise GdchaosInputError(f"--scheduler {spec.address}: cannot reach the Dask scheduler "
                                f"there ({why}); start one with `dask scheduler` or use "
                                "--scheduler local[:N]") from None


def import_distributed():
    """``dask.distributed``, or one line naming the extra."""
    import importlib.util

    if importlib.util.find_spec("distributed") is None or importlib.util.find_spec("dask") is None:
        raise GdchaosInputError("--scheduler needs the 'dask' extra: pip install 'gdchaos[dask]'")
    import distributed

    return distributed


def is_client(obj) -> bool:
    return type(obj).__name__ == "Client" and type(obj).__module__.startswith("distributed")


@contextlib.contextmanager
def connect(scheduler=None, client=None, timeout=None):
    """Yield a ``distributed.Client``: ``client`` as it is (left open), or one for ``scheduler``
    (a string or :class:`Scheduler`); a local cluster is started here and stopped on exit.
    ``timeout`` to reach a scheduler: default Dask's ``distributed.comm.timeouts.connect``."""
    if client is not None:
        if not is_client(client):
            raise GdchaosInputError(f"client must be a dask.distributed.Client, got "
                                    f"{type(client).__name__}")
        yield client
        return
    spec = parse_scheduler(scheduler)
    if spec is None:
        raise GdchaosInputError("a cluster run needs a scheduler or a client")
    distributed = import_distributed()
    if spec.kind == "local":
        cluster = distributed.LocalCluster(
            n_workers=spec.workers, threads_per_worker=spec.threads_per_worker, processes=True,
            memory_limit=spec.memory_limit if spec.memory_limit is not None else "auto",
            dashboard_address=None, silence_logs=50)
        try:
            with distributed.Client(cluster) as cl:
                yield cl
        finally:
            cluster.close()
        return
    try:
        cl = distributed.Client(spec.address, **({} if timeout is None else {"timeout": timeout}))
    except (OSError, TimeoutError) as exc:
        raise GdchaosInputError(f"cannot reach the Dask scheduler {spec.address}: "
                                f"{type(exc).__name__}") from None
    try:
        yield cl
    finally:
        cl.close()


def check_store_free(path) -> None:
    """Refuse now (one line) a store that another run is writing, before a cluster starts."""
    from . import _store_fs as fs

    path = os.fspath(path)
    if fs.classify(path) != "ours":
        return
    lock = fs.WriterLock.acquire(os.path.join(path, fs.LOCK), path)  # raises the clear line
    lock.release()


def check_device_on_workers(client, backend, device) -> None:
    """Check ``device`` where the tiles run (a GPU may exist on the workers only)."""
    from ._device import check_device

    if backend != "torch":
        check_device(backend, device)
        return
    fut = client.submit(check_device, backend, device, pure=False)
    try:
        fut.result()
    finally:
        fut.release()


# ------------------------------------------------------------------------- the task runner
def run_tasks(client, task, spec, items, *, on_result=None, progress=False, desc="tiles",
              initial=0, total=None, weight=None):
    """Run ``task(spec, item)`` for every item on the cluster; ``on_result(result)`` on the
    client in completion order.  ``spec`` (shared by every task) travels once, as the result of
    a task (so a copy lost with a worker is recomputed); the progress bar counts tiles (or
    ``weight(result)``).  A task error cancels the rest and is raised here."""
    from tqdm.auto import tqdm

    distributed = import_distributed()
    items = list(items)
    total = len(items) + initial if total is None else total
    bar = tqdm(total=total, initial=initial, disable=not progress, desc=desc, leave=False)
    spec_f = client.submit(_identity, spec, pure=False)
    futs = [client.submit(task, spec_f, it, pure=False) for it in items]
    try:
        for fut in distributed.as_completed(futs):
            res = fut.result()
            fut.release()
            if on_result is not None:
                on_result(res)
            bar.update(1 if weight is None else weight(res))
    except BaseException:
        client.cancel(futs)
        raise
    finally:
        spec_f.release()
        bar.close()


def _identity(x):
    return x


def _apply(fn, job):
    return fn(job)


def run_jobs(scheduler, client, fn, jobs, on_result, bar, weight=None):
    """``fn(job)`` for every job as one task each on a cluster (``scheduler`` or ``client``),
    ``on_result(result)`` on the client in completion order, ``bar.update(weight(result))``:
    the cluster form of the process-pool runner of the network commands, whose tiles are small
    enough to come back to the client (which holds the store's lock and writes them)."""
    with connect(scheduler, client) as cl:
        def done(res):
            on_result(res)
            bar.update(1 if weight is None else weight(res))

        run_tasks(cl, _apply, fn, jobs, on_result=done)


def peak_rss() -> int:
    """Peak resident memory of this process (bytes)."""
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


# ------------------------------------------------------------------------- basin tiles
_ATTACHED = {}  # worker side: stores opened for region writes, by (path, run hash)


def _attached(store_args, key):
    from ._store import TiledStore

    ts = _ATTACHED.get(key)
    if ts is None:
        ts = TiledStore(**store_args).attach()
        _ATTACHED.clear()  # one store at a time per worker
        _ATTACHED[key] = ts
    return ts


def basin_tile_task(spec, i) -> dict:
    """One tile of a store (a basin's or a hyperparameter map's), computed and written on a
    worker."""
    t0 = time.perf_counter()
    if spec["backend"] == "numba":
        set_threads(spec["threads"])  # every library: Numba, torch, BLAS
    ts = _attached(spec["store"], spec["key"])
    data = spec["compute"](sl=ts.tile_rows_slice(i))
    ts.write_tile(i, data)
    return {"tile": int(i), "seconds": time.perf_counter() - t0, "pid": os.getpid(),
            "peak_rss": peak_rss()}


def run_basin_tiles(client, ts, store_args, compute, backend, pending, *, threads=None,
                    progress=False, desc="basin"):
    """Compute the ``pending`` tiles of the opened store ``ts`` on the cluster (each task runs
    ``compute(sl=rows)``, a function of its arguments only, and writes its rows); returns a
    summary (tiles, seconds, workers, peak memory of the worker processes)."""
    store_args = dict(store_args, tile_rows=ts.tile_rows)  # the opened store's layout wins
    spec = {"store": store_args, "key": (ts.path, ts.run_hash), "compute": compute,
            "backend": backend, "threads": int(threads or 1)}
    t0 = time.perf_counter()
    stats = {"tiles_computed": 0, "task_seconds": 0.0, "peak_rss": {}}

    def on_result(res):
        stats["tiles_computed"] += 1
        stats["task_seconds"] += res["seconds"]
        stats["peak_rss"][res["pid"]] = max(stats["peak_rss"].get(res["pid"], 0), res["peak_rss"])

    run_tasks(client, basin_tile_task, spec, pending, on_result=on_result, progress=progress,
              desc=desc, initial=ts.n_tiles - len(pending), total=ts.n_tiles)
    stats["seconds"] = time.perf_counter() - t0
    stats["workers"] = len(client.scheduler_info(n_workers=-1).get("workers", {}))
    stats["worker_peak_rss_bytes"] = max(stats.pop("peak_rss").values(), default=0)
    stats["client_peak_rss_bytes"] = peak_rss()
    return stats


# ------------------------------------------------------------------------- summaries
def store_fractions(path, variable="status", codes=None) -> dict:
    """Status fractions of a store (:func:`gdchaos.status.status_fractions`), read tile by tile:
    the whole map is never in memory.  The tiles of gdchaos' own stores are decoded without
    zarr (:func:`gdchaos.engine._zarr_files.read_blocks`), others through zarr."""
    from ..status import status_fractions
    from ._zarr_files import read_blocks

    blocks = read_blocks(os.fspath(path), variable)
    if blocks is None:
        import zarr

        blocks = zarr.open_group(os.fspath(path), mode="r")[variable]
    return status_fractions(blocks, codes)
