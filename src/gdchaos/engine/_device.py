"""Which devices a backend can run on: checked before a run starts (here, or on a cluster's
workers)."""

from __future__ import annotations

from ..errors import GdchaosInputError


def check_device(backend, device):
    """Refuse a device the backend cannot use: any ``device`` with numba, the torch backend
    without torch installed, or a torch device that does not exist or is not available here."""
    if backend != "torch":
        if device is not None:
            raise GdchaosInputError(f"device {device!r} applies to the torch backend only "
                                    f"(backend is {backend!r})")
        return
    from ._torch import _import_torch

    torch = _import_torch()
    if device is None:
        return
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise GdchaosInputError(f"unknown torch device {device!r} (cpu, cuda, cuda:N, mps)") \
            from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise GdchaosInputError(f"device {device!r}: CUDA is not available to torch here")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise GdchaosInputError(f"device {device!r}: only {torch.cuda.device_count()} CUDA "
                                    "device(s)")
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise GdchaosInputError(f"device {device!r}: MPS is not available to torch here")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise GdchaosInputError(f"device {device!r}: the torch backend runs on cpu, cuda or mps")
