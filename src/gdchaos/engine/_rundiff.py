"""Which parameters of two runs differ: the words of the "store X holds a run with different
parameters" refusal (a run's parameters are the JSON of its store's ``gdchaos_run``)."""

from __future__ import annotations

import json
import os

_MISSING = object()
ABSENT = "(absent)"


def run_differences(stored, wanted, prefix="") -> list[tuple[str, object, object]]:
    """``(key, stored value, wanted value)`` for every leaf where two parameter dicts differ
    (as JSON: ``1`` and ``1.0`` differ), nested keys joined with dots (``optimizer.eta``), in
    sorted key order; the side without a key gives ``"(absent)"``."""
    if isinstance(stored, dict) and isinstance(wanted, dict):
        out = []
        for key in sorted(set(stored) | set(wanted), key=str):
            a, b = stored.get(key, _MISSING), wanted.get(key, _MISSING)
            out += run_differences(a, b, f"{prefix}{key}.")
        return out
    if stored is _MISSING or wanted is _MISSING:
        return [(prefix[:-1], ABSENT if stored is _MISSING else stored,
                 ABSENT if wanted is _MISSING else wanted)]
    if _json(stored) != _json(wanted):
        return [(prefix[:-1], stored, wanted)]
    return []


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _short(value, width=40) -> str:
    text = value if value is ABSENT else _json(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def describe_differences(stored, wanted, limit=3) -> str:
    """``grid: stored [256, 256], asked [128, 128]; optimizer.eta: stored 1.0, asked 0.1`` (at
    most ``limit`` keys, then ``and N more``), or '' when nothing differs."""
    diffs = run_differences(stored, wanted)
    parts = [f"{key}: stored {_short(a)}, asked {_short(b)}" for key, a, b in diffs[:limit]]
    if len(diffs) > limit:
        parts.append(f"and {len(diffs) - limit} more")
    return "; ".join(parts)


def stored_run(path):
    """The run parameters of the store at ``path`` (its root ``gdchaos_run``), or None when
    they cannot be read."""
    try:
        with open(os.path.join(os.fspath(path), "zarr.json"), encoding="utf-8") as f:
            run = json.load(f)["attributes"]["gdchaos_run"]
        run = json.loads(run) if isinstance(run, str) else run
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return run if isinstance(run, dict) else None


def mismatch_detail(path, wanted) -> str:
    """`` (grid: stored ..., asked ...)`` for the refusal message, or '' when the stored
    parameters cannot be read or do not differ as dicts (then only the hash does)."""
    stored = stored_run(path)
    text = describe_differences(stored, wanted) if stored is not None else ""
    return f" ({text})" if text else ""
