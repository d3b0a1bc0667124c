"""A folder's contents, to check that a refused command changed nothing (shared by the tests)."""

import hashlib
import os
from pathlib import Path


def snapshot(root: Path) -> dict:
    """Every folder (``NAME/``: None) and file (its SHA-256) below ``root``, by relative path."""
    out = {}
    for d, ds, fs in os.walk(root):
        for name in ds:
            out[os.path.relpath(os.path.join(d, name), root) + "/"] = None
        for name in fs:
            p = os.path.join(d, name)
            out[os.path.relpath(p, root)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return out
