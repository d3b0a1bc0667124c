"""``--threads N`` reaches every library (issue 20): Numba, torch and the BLAS pools, whether
torch is imported before or after, and inside the computation of a tile."""

import subprocess
import sys
import textwrap

import pytest

from gdchaos.errors import GdchaosInputError

pytest.importorskip("threadpoolctl")


def _run(code):
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return eval(r.stdout.strip().splitlines()[-1])  # noqa: S307 - our own dict literal


@pytest.mark.parametrize("torch_first", [False, True])
def test_one_thread_reaches_numba_torch_and_blas(torch_first):
    pytest.importorskip("torch")
    got = _run(f"""
        import numpy as np
        if {torch_first}:
            import torch
        from gdchaos.engine import set_threads, threads_in_effect
        set_threads(1)
        import torch
        print(threads_in_effect())
    """)
    assert got["numba"] == 1 and got["torch"] == 1, got
    assert got["blas"] in (1, None), got


def test_threads_read_inside_a_tile(tmp_path):
    """``gdchaos basin --threads 1``: the thread counts read while a tile is computed (in a
    fresh process: the setting is process-wide)."""
    got = _run(f"""
        from gdchaos.cli import main
        from gdchaos.engine import _run, threads_in_effect
        seen = []
        real = _run._tile
        def spy(*a, **k):
            seen.append(threads_in_effect())
            return real(*a, **k)
        _run._tile = spy
        assert main(["basin", "--problem", "scalar", "--grid", "16", "--eta", "1", "--iters",
                     "20", "--threads", "1", "--out", {str(tmp_path / "t.zarr")!r},
                     "--quiet"]) == 0
        print(seen)
    """)
    assert got and all(s["numba"] == 1 and s["blas"] in (1, None) for s in got), got


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_bad_thread_counts_are_refused(bad):
    from gdchaos.engine import set_threads

    with pytest.raises(GdchaosInputError, match="--threads"):
        set_threads(bad)
