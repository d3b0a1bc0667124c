"""The recorded ``command`` of a store, read and rewritten for a rerun (``gdchaos rerun``)."""

from __future__ import annotations

import shlex


def command_argv(attrs):
    """The recorded ``command`` as ``(words, options)`` (``["gdchaos", "basin"]``, the rest), or
    ``None`` when the store records none."""
    try:
        argv = shlex.split(attrs["command"])
    except (KeyError, TypeError, AttributeError, ValueError):
        return None
    n = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    return (argv[:n], argv[n:]) if argv else None


#: the commands' other spellings of a flag
ALIASES = {"--x-axis": ("--x",)}


def _is_flag(token, flag):
    """``token`` (``--iters``, ``--iters=5``, an alias, or ``--ite``: a prefix, as argparse read
    commands recorded before flags stopped being abbreviated) names ``flag``.  A prefix has at
    least three letters: ``--y`` is a problem's option, never ``--y-axis``."""
    head = token.split("=", 1)[0]
    if head == flag or head in ALIASES.get(flag, ()):
        return True
    return head.startswith("--") and len(head) >= 5 and flag.startswith(head)


def _scan(opts, flag):
    """``(values, others, at)``: the values of ``flag`` in the options ``opts``, the options
    without it, and where it stood in them (the end if absent)."""
    values, others, i, at = [], [], 0, None
    while i < len(opts):
        if _is_flag(opts[i], flag):
            at = len(others) if at is None else at
            values += opts[i].split("=", 1)[1:] if "=" in opts[i] else opts[i + 1:i + 2]
            i += 1 if "=" in opts[i] else 2
            continue
        others.append(opts[i])
        i += 1
    return values, others, len(others) if at is None else at


def flag_values(argv, flag):
    """The values given to ``flag`` in a command (``command_argv``), in order."""
    return [] if argv is None else _scan(argv[1], flag)[0]


def new_command(argv, changes, tile_rows, flags=None):
    """The ``command`` attribute of the rerun: the recorded one with the changed values
    (``flags``: more ``{flag: value}`` to set, e.g. a new window's)."""
    if argv is None:
        return None
    new = {}
    if "iters" in changes:
        new["--iters"] = changes["iters"][1]
    if "grid" in changes:
        nx, ny = changes["grid"][1]
        new["--grid"] = f"{nx}" if nx == ny else f"{nx},{ny}"
    if tile_rows is not None:
        new["--tile-rows"] = tile_rows
    new.update(flags or {})
    opts = list(argv[1])
    for flag, value in new.items():  # in place of the flag's own values, or at the end
        _, others, at = _scan(opts, flag)
        # a value starting with "-" (a window) goes in one word: --range=-2.5,3,0,10
        words = [f"{flag}={value}"] if str(value).startswith("-") else [flag, str(value)]
        opts = others[:at] + words + others[at:]
    return shlex.join(argv[0] + opts)


def param_values(items):
    """``--param`` values of a recorded command (``["a=1", "b=2,3"]`` -> ``{"a": 1.0, "b":
    [2.0, 3.0]}``: numbers, lists of numbers, else strings), as the command line reads them."""
    out = {}
    for k, _, v in (str(item).partition("=") for item in items):
        try:
            nums = [float(t) for t in v.split(",")]
            out[k.strip()] = nums[0] if len(nums) == 1 else nums
        except ValueError:
            out[k.strip()] = v
    return out
