"""A gdchaos CLI in a subprocess held at a gate, for tests that act while a writer runs (kill
it, start a second writer) whatever the speed of the machine: nothing depends on durations.

At GDCHAOS_GATE_AT ("build": the first zarr document of the store's template; "tile:N": the
computation of its N-th tile, counted from 0) the child creates the file "ready" in the folder
GDCHAOS_GATE and waits until the test creates "go" there.
"""

import os
import subprocess
import sys
import time

GATE_CODE = r"""
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C as in a terminal, even if
from gdchaos.engine import _run, _zarr_files               # the test runs in the background

gate, at = os.environ["GDCHAOS_GATE"], os.environ["GDCHAOS_GATE_AT"]
calls = {"build": 0, "tile": 0}

def gated(real, kind):
    def f(*a, **k):
        n = calls[kind]
        calls[kind] += 1
        if at in (kind, f"{kind}:{n}"):
            open(os.path.join(gate, "ready"), "w").close()
            while not os.path.exists(os.path.join(gate, "go")):
                time.sleep(0.01)
        return real(*a, **k)
    return f

_run._tile = gated(_run._tile, "tile")
_zarr_files.write_document = gated(_zarr_files.write_document, "build")
from gdchaos.cli import main
sys.exit(main(sys.argv[1:]))
"""


def gated(args, gate, at):
    """The CLI in a subprocess, held at its gate ``at`` (see GATE_CODE) until :func:`release`."""
    gate.mkdir()
    env = dict(os.environ, GDCHAOS_GATE=str(gate), GDCHAOS_GATE_AT=at)
    return subprocess.Popen([sys.executable, "-c", GATE_CODE] + args, env=env)


def at_gate(gate, proc):
    """Wait until the writer waits at its gate (it cannot end before the test releases it)."""
    while not (gate / "ready").exists():
        assert proc.poll() is None, "the writer ended before reaching its gate"
        time.sleep(0.01)


def release(gate):
    (gate / "go").touch()
