"""Every figure of the paper, by number."""

from __future__ import annotations

from importlib import import_module

from ..errors import GdchaosInputError

#: figure number -> module (under ``gdchaos.experiments``) declaring ``SPEC``
FIGURE_MODULES = {n: f"fig{n:02d}" for n in range(1, 14)}


def get_figure(n):
    try:
        n = int(n)
    except (TypeError, ValueError):
        raise GdchaosInputError(f"figure number must be an integer, got {n!r}") from None
    if n not in FIGURE_MODULES:
        raise GdchaosInputError(f"no figure {n}; figures are {sorted(FIGURE_MODULES)}")
    return import_module(f".{FIGURE_MODULES[n]}", __package__).SPEC


def all_figures():
    return [get_figure(n) for n in sorted(FIGURE_MODULES)]
