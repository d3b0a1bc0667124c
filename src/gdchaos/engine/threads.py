"""One thread setting for every library a run uses: Numba, torch and the BLAS/OpenMP pools.

``--threads N`` (and ``threads=N`` in Python) goes through :func:`set_threads`: Numba's parallel
loops, torch's intra-op pool (when torch is imported, and through ``OMP_NUM_THREADS`` for a torch
imported later) and the BLAS libraries NumPy and SciPy loaded (through ``threadpoolctl``; the
``*_NUM_THREADS`` variables for those loaded later) all get ``N``.  :func:`threads_in_effect`
reads them back (a test reads them inside a cluster task).
"""

from __future__ import annotations

import os
import sys

from ..errors import GdchaosInputError

#: the variables that BLAS and OpenMP libraries read when they load
ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def available_cores() -> int:
    """The processors this process may run on (its affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def set_threads(n) -> int | None:
    """Give every library ``n`` threads (``None``: leave the defaults); returns ``n``.

    Numba gets ``min(n, NUMBA_NUM_THREADS)`` (its pool cannot grow after start-up)."""
    if n is None:
        return None
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise GdchaosInputError(f"--threads must be an integer >= 1, got {n!r}")
    n = int(n)
    for var in ENV_VARS:  # libraries loaded from now on
        os.environ[var] = str(n)
    import numba

    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n)  # the BLAS and OpenMP pools already loaded
    return n


def threads_in_effect() -> dict:
    """The thread counts in effect now: ``numba``, ``torch`` (``None`` when torch is not
    imported) and ``blas`` (the largest of the loaded BLAS/OpenMP pools, ``None`` when none)."""
    import numba
    from threadpoolctl import threadpool_info

    torch = sys.modules.get("torch")
    pools = [int(p["num_threads"]) for p in threadpool_info()]
    return {"numba": int(numba.get_num_threads()),
            "torch": None if torch is None else int(torch.get_num_threads()),
            "blas": max(pools) if pools else None}
