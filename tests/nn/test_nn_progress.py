"""The network commands' progress bars move while the networks train (issue 22): per network
of work, before the sweep (or a job in a worker process) finishes, not once per arm."""

import os
import time

import pytest


class FakeBar:
    """Stands in for tqdm: records every update (amount, whether training had returned)."""

    made = []

    def __init__(self, *a, total=None, disable=False, **k):
        self.total, self.n, self.updates = total, 0, []
        self.state = {"returned": False}
        self.flag = None
        FakeBar.made.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        self.n += n
        self.updates.append((n, self.state["returned"]))
        if self.flag is not None:
            open(self.flag, "w").close()


def test_sweep_bar_moves_before_training_returns(monkeypatch):
    """One arm of 3 step sizes, 300 steps, none stopping early: the bar moves by whole
    networks as the steps go (3 updates, 2 of them while ``train_batch`` still runs), not by 3
    at once when they stop; in all it counts the 3 networks."""
    import importlib

    import tqdm.auto

    from gdchaos.nn.sweep import run_sweep, sweep_preset

    FakeBar.made.clear()
    monkeypatch.setattr(tqdm.auto, "tqdm", FakeBar)
    T = importlib.import_module("gdchaos.nn.train")  # (gdchaos.nn.train is also a function)
    real = T.train_batch

    def watched(*a, **k):
        out = real(*a, **k)
        FakeBar.made[-1].state["returned"] = True
        return out

    monkeypatch.setattr(T, "train_batch", watched)
    s = sweep_preset("quick", dataset="digits", n_per_class=5, hidden=(4, 4), momenta=(0.0,),
                     eta_ranges=((1e-4, 2e-4),), n_eta=3, iters=300, tol=1e-12, div=1e12,
                     sharpness_every=0, sharpness_method="none")
    res = run_sweep(s, quiet=False, workers=1)
    assert (res.dataset["steps"].values == 300).all()  # nobody stopped early
    bar = FakeBar.made[-1]
    assert bar.total == 3 and bar.n == 3
    during = [n for n, returned in bar.updates if not returned]
    assert len(during) >= 2 and all(n == 1 for n, _ in bar.updates)


def test_train_batch_progress_adds_up_to_the_networks(digits_small):
    """Networks that stop at different steps (some diverge at once): the progress calls still
    add up to the number of networks, and come every step."""
    from gdchaos.nn import train_batch
    from gdchaos.nn.models import init_params

    X, y = digits_small.X, digits_small.y
    widths = (X.shape[1], 4, 4, 1)
    p0 = init_params(widths, 0)
    calls = []
    res = train_batch(p0[None], X, y, widths, [1e-3, 0.05, 50.0, 500.0], n_networks=4,
                      iters=200, final_sharpness=None, progress=calls.append)
    assert res.status[-1] == 2  # the largest step size diverged early
    assert sum(calls) == pytest.approx(4.0, abs=1e-9)
    assert len(calls) >= 200


def _reporting_job(job, progress=None):
    """A job that reports one network done, then waits (up to a minute) until the parent's bar
    has shown it (the flag file) before it returns."""
    flag, = job
    progress(1.0)
    t = time.monotonic()
    while not os.path.exists(flag) and time.monotonic() - t < 60:
        time.sleep(0.05)
    return {"n_networks": 2, "saw": os.path.exists(flag)}


def test_worker_processes_send_progress_before_they_finish(tmp_path):
    """With worker processes the bar hears of a job's networks while the job still runs (each
    job here waits until the bar moved), and each job's result tops it up to its size."""
    from gdchaos.nn._common import run_jobs

    bar = FakeBar(total=4)
    bar.flag = str(tmp_path / "moved")
    results = []
    run_jobs(_reporting_job, [(bar.flag,), (bar.flag,)], 2, results.append, bar)
    assert [r["saw"] for r in results] == [True, True]
    assert bar.n == 4
    assert bar.updates[0][0] == 1  # a network of a running job, not a finished job's 2
