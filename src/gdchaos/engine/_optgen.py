"""Every backend's step of an optimizer, derived from its one definition
(:mod:`gdchaos.engine.optimizers`): the Numba source the kernels compile, and the definition's
functions with the arithmetic names (:data:`~gdchaos.engine.optimizers.OPS`) bound to NumPy's
or torch's functions."""

from __future__ import annotations

import inspect
import types

from ..problems import function_source
from .optimizers import OPS

#: the arithmetic names in a generated Numba kernel
_NUMBA_OPS = '''
sqrt, sign, exp, log = np.sqrt, np.sign, np.exp, np.log
maximum, minimum = np.maximum, np.minimum


@njit(inline="always")
def where(c, a, b):
    return a if c else b

'''


def numba_source(cls) -> str:
    """The Numba text of ``cls``: ``_opt_update``, ``_opt_threshold`` and ``_opt_step_test``
    (the last two ``None``-safe: a definition without them gets the defaults), each compiled
    from the definition's own source (marked with its file and line)."""
    parts = [_NUMBA_OPS]
    hyper = ", ".join(cls.hyper)
    for name, default in (("update", None), ("threshold", "2.0"), ("step_test", "True")):
        fn = inspect.getattr_static(cls, name)
        parts.append(f'\n@njit(inline="always")\n')
        if fn is None:
            parts.append(f"def _opt_{name}({hyper}):\n    return {default}\n")
            continue
        fn = fn.__func__
        code = fn.__code__
        parts.insert(-1, f"\n# {cls.__name__}.{name}, from {code.co_filename}:"
                     f"{code.co_firstlineno}")
        parts.append(function_source(fn, f"_opt_{name}"))
    return "".join(parts) + "\n"


def bound(cls, name, ops: dict):
    """The function ``name`` of ``cls`` with the arithmetic names bound to ``ops`` (``None``
    where the definition has none)."""
    raw = inspect.getattr_static(cls, name)
    if raw is None:
        return None
    fn = raw.__func__
    return types.FunctionType(fn.__code__, {**fn.__globals__, **ops}, fn.__name__,
                              fn.__defaults__, fn.__closure__)


def numpy_ops() -> dict:
    import numpy as np

    return {"sqrt": np.sqrt, "sign": np.sign, "exp": np.exp, "log": np.log,
            "maximum": np.maximum, "minimum": np.minimum, "where": np.where}


def torch_ops(torch) -> dict:
    def _t(a, like):
        return a if torch.is_tensor(a) else torch.as_tensor(a, dtype=like.dtype,
                                                            device=like.device)

    def maximum(a, b):
        ref = a if torch.is_tensor(a) else b
        return torch.maximum(_t(a, ref), _t(b, ref))

    def minimum(a, b):
        ref = a if torch.is_tensor(a) else b
        return torch.minimum(_t(a, ref), _t(b, ref))

    ops = {"sqrt": torch.sqrt, "sign": torch.sign, "exp": torch.exp, "log": torch.log,
           "maximum": maximum, "minimum": minimum, "where": torch.where}
    assert set(ops) == set(OPS)
    return ops


def steps(cls, ops: dict):
    """``(update, threshold, step_test)`` of ``cls`` on arrays of the backend of ``ops``
    (``threshold`` ``None`` where the definition has none; ``step_test`` defaults to true)."""
    upd = bound(cls, "update", ops)
    n_state = len(cls.state)

    def update(x, xp, g, eta, state, hyper):
        out = upd(x, xp, g, eta, *state, *hyper)
        return (out, ()) if n_state == 0 else (out[0], tuple(out[1:]))

    test = bound(cls, "step_test", ops)
    return update, bound(cls, "threshold", ops), (test or (lambda *h: True))
