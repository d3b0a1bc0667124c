"""Settings shared by the sweep and slice experiments: data selection, network, stopping rules."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import math
import os
import tempfile

import torch

from ..errors import GdchaosInputError
from .data import DATASETS, PREPROCESSING, TARGETS, PairData, load_pair
from .models import INITS, check_loss


#: what status CONVERGED means for networks: the data loss fell below ``tol`` (no stability
#: test; the engine's rule is ``"loss_below_tol_and_stable"``).  Stored with every run.
CONVERGENCE_RULE = "loss_below_tol"  # a key of gdchaos.status.CONVERGENCE_RULES
CONVERGENCE_RULES = (CONVERGENCE_RULE,)


def check_convergence_rule(rule: str) -> str:
    """The network runs' one convergence rule (:data:`CONVERGENCE_RULE`); anything else is
    refused (networks have no stability test)."""
    if rule not in CONVERGENCE_RULES:
        raise GdchaosInputError(f"convergence rule must be one of {', '.join(CONVERGENCE_RULES)} "
                                f"(networks have no stability test), got {rule!r}")
    return rule


@dataclasses.dataclass(frozen=True)
class DataSettings:
    """Which images an experiment trains on (shared by sweeps and slices)."""

    dataset: str = "cifar10"
    classes: tuple = (0, 1)
    n_per_class: int = 25
    data_seed: int = 0
    image_pool: int | None = 1000
    preprocess: str = "unit"
    targets: str = "01"
    data_dir: str | None = None
    download: bool = False


def settings_dict(s) -> dict:
    """A settings dataclass as a JSON-able dict (tuples become lists)."""
    return json_clean(dataclasses.asdict(s))


def json_clean(obj):
    if isinstance(obj, dict):
        return {k: json_clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_clean(v) for v in obj]
    return obj


def check_data_settings(s) -> None:
    if s.dataset not in DATASETS:
        raise GdchaosInputError(f"dataset must be one of {', '.join(DATASETS)}, got {s.dataset!r}")
    if s.preprocess not in PREPROCESSING:
        raise GdchaosInputError(f"preprocess must be one of {', '.join(PREPROCESSING)}")
    if s.targets not in TARGETS:
        raise GdchaosInputError(f"targets must be one of {', '.join(TARGETS)}")
    check_loss(s.loss)
    if s.loss == "ce" and s.targets != "01":
        raise GdchaosInputError("cross-entropy needs targets 0/1 (--targets 01)")
    init = getattr(s, "init", "torch")
    if init not in INITS:
        raise GdchaosInputError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    if not s.hidden or any(int(h) < 1 for h in s.hidden):
        raise GdchaosInputError(f"hidden widths must be positive integers, got {s.hidden!r}")
    for name in ("seed", "data_seed"):
        v = getattr(s, name)
        if int(v) != v or v < 0:
            raise GdchaosInputError(f"{name} must be a non-negative integer, got {v!r}")
    if int(s.iters) < 1:
        raise GdchaosInputError(f"iterations must be >= 1, got {s.iters}")
    if not (s.weight_decay >= 0 and math.isfinite(s.weight_decay)):
        raise GdchaosInputError(f"weight decay must be >= 0, got {s.weight_decay}")
    if s.sharpness_method not in ("lanczos", "power", "none"):
        raise GdchaosInputError("sharpness method must be lanczos, power or none")
    if int(s.pool) < 1:
        raise GdchaosInputError(f"pool must be >= 1, got {s.pool}")
    if s.tol is not None and not s.tol > 0:
        raise GdchaosInputError(f"convergence threshold must be > 0, got {s.tol}")
    if not s.div > (s.tol or 0):
        raise GdchaosInputError(f"divergence threshold must exceed the convergence one, got {s.div}")
    check_convergence_rule(s.convergence_rule)


def load_data(s) -> PairData:
    return load_pair(s.dataset, tuple(s.classes), s.n_per_class, s.data_seed, s.data_dir,
                     pool=s.image_pool, preprocess=s.preprocess, targets=s.targets,
                     download=s.download, dtype=torch.float64)


def widths_of(s, data: PairData) -> tuple[int, ...]:
    return (data.dim,) + tuple(int(h) for h in s.hidden) + (1,)


def package_version() -> str:
    from ..version import __version__

    return __version__


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run the block with ``n`` torch CPU threads (restored afterwards); ``None`` leaves torch's
    setting alone.  One thread makes every result independent of the caller's thread count
    (matrix products and reductions split their sums differently across threads)."""
    if n is None:
        yield
        return
    n = int(n)
    if n < 1:
        raise GdchaosInputError(f"threads must be >= 1, got {n}")
    old = torch.get_num_threads()
    if old == n:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def threaded(fn):
    """Decorator: run ``fn`` under :func:`torch_threads` with its keyword-only ``threads``
    argument (default from ``fn``'s signature)."""
    default = inspect.signature(fn).parameters["threads"].default

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with torch_threads(kwargs.get("threads", default)):
            return fn(*args, **kwargs)

    return wrapper


class _Networks:
    """Feeds a bar counted in networks with one job's progress (fractions of networks, from
    :func:`gdchaos.nn.train.train_batch`) in whole networks, so that the bar shows whole
    numbers; :meth:`finish` tops it up to the job's size."""

    def __init__(self, bar):
        self.bar, self.done, self.sent = bar, 0.0, 0
        self.finished = False

    def __call__(self, n):
        self.done += n
        whole = int(self.done + 1e-9) - self.sent
        if whole > 0 and not self.finished:
            self.sent += whole
            self.bar.update(whole)

    def finish(self, n_networks):
        if not self.finished and n_networks > self.sent:
            self.bar.update(n_networks - self.sent)
        self.finished, self.sent = True, max(self.sent, n_networks)


#: in a worker process: the queue its jobs' progress goes to (:func:`_worker_init`)
_PROGRESS = {"queue": None}


def _worker_init(queue) -> None:
    _PROGRESS["queue"] = queue


class _Sender:
    """A job's progress in a worker process: whole networks, as ``(job, n)`` on the queue."""

    def __init__(self, job_index):
        self.i, self.done, self.sent = job_index, 0.0, 0

    def __call__(self, n):
        self.done += n
        whole = int(self.done + 1e-9) - self.sent
        if whole > 0:
            self.sent += whole
            _PROGRESS["queue"].put((self.i, whole))


def _run_reporting(fn, job_index, job):
    """``fn(job)`` in a worker process, its progress going back to the parent."""
    return fn(job, progress=_Sender(job_index))


def run_jobs(fn, jobs, workers: int, on_result, bar) -> None:
    """Run ``fn(job, progress=...)`` for every job, inline (``workers=1``) or in ``workers``
    spawned processes; ``on_result(result)`` in this process, in completion order.  The
    progress bar (in networks) moves as the networks train, in whole networks, whatever
    ``workers`` (worker processes send theirs back through a queue); each job's result tops it
    up to its ``n_networks``.  Each job's result must not depend on where it ran."""
    workers = int(workers)
    if workers < 1:
        raise GdchaosInputError(f"workers must be >= 1, got {workers}")
    if workers == 1 or len(jobs) <= 1:
        for job in jobs:
            feed = _Networks(bar)
            res = fn(job, progress=feed)
            on_result(res)
            feed.finish(res["n_networks"])
        return
    import concurrent.futures as cf
    import multiprocessing
    import queue as queue_mod

    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    feeds = [_Networks(bar) for _ in jobs]

    def drain():
        while True:
            try:
                i, n = q.get_nowait()
            except queue_mod.Empty:
                return
            feeds[i](n)

    try:
        with cf.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx,
                                    initializer=_worker_init, initargs=(q,)) as ex:
            futs = {ex.submit(_run_reporting, fn, i, job): i for i, job in enumerate(jobs)}
            todo = set(futs)
            try:
                while todo:
                    done, todo = cf.wait(todo, timeout=0.25, return_when=cf.FIRST_COMPLETED)
                    drain()
                    for f in done:
                        res = f.result()
                        on_result(res)
                        feeds[futs[f]].finish(res["n_networks"])
            except BaseException:
                for f in futs:
                    f.cancel()
                raise
    finally:
        q.close()
        q.cancel_join_thread()


def store_path(out, name: str):
    """``(path, tmp)``: the store at ``out``, or in a temporary folder (``tmp``, to clean up)."""
    if out is not None:
        return os.fspath(out), None
    tmp = tempfile.TemporaryDirectory(prefix=f"gdchaos_{name}_")
    return os.path.join(tmp.name, f"{name}.zarr"), tmp


def finish_run(store, ds, summary: dict, plot, png, out, path) -> None:
    """Record the summary beside the data (``gdchaos/last_run.json``: its timings and counts are
    not part of the dataset), draw the PNG, and name the outputs in the summary."""
    store.finish(summary=summary)
    if png is not None:
        plot(ds, png)
        summary["outputs"]["png"] = os.fspath(png)
    if out is not None:
        summary["outputs"]["store"] = path


def final_sharpness_arg(method: str) -> str | None:
    """Settings' ``sharpness_method`` -> :func:`train_batch`'s ``final_sharpness``."""
    return None if method == "none" else method
