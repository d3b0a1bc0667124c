"""The first-hour walkthrough, docs/walkthrough.ipynb: it runs, and it is saved executed.

* ``test_walkthrough_runs_at_a_tiny_size`` executes the notebook with nbclient, in a fresh
  temporary folder as its working directory, with its ``parameters`` cell set to a tiny grid
  (``N = TINY_N``) in memory; any cell error fails the test, and a few printed numbers must be
  meaningful (the critical step size, theory against engine, the dimension and its interval,
  the Lyapunov exponent log 3).
* ``test_saved_walkthrough_is_executed`` reads the file as it is in the repository: every code
  cell executed in order with its outputs and figures, no errors, under 1 MB, and the code that
  produced the outputs is the code in the file (a hash of the code cells, written when the
  notebook was executed; an edited cell without re-execution fails here).

The kernel is this interpreter's own ipykernel, from a kernel spec written in a temporary
folder (``sys.executable -m ipykernel_launcher``): no kernel is registered anywhere, and a
``python3`` kernel spec elsewhere on the machine is never used.  Nothing downloads.

After editing the notebook, execute and save it again (at its own ``N``, in a temporary folder):

    python tests/test_notebook.py --execute
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat  # the test extra installs nbformat, nbclient and ipykernel (no skip)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "walkthrough.ipynb"
TINY_N = 64          # the tiny grid of the test (store_dimension needs 64 pixels a side)
CELL_TIMEOUT = 600   # seconds per cell: a hang fails the test instead of stopping the suite
MAX_BYTES = 1_000_000
PARAM = re.compile(r"^N\s*=\s*(\d+)\b", re.M)
KERNEL = "gdchaos-walkthrough"


def read(path=None):
    return nbformat.read(str(path or NOTEBOOK), as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def parameters_cell(nb):
    cells = [c for c in code_cells(nb) if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "the notebook needs exactly one code cell tagged 'parameters'"
    assert PARAM.search(cells[0].source), "the parameters cell must set N = <integer>"
    return cells[0]


def code_hash(nb) -> str:
    """sha256 of the code cells' sources, in order (what the saved outputs came from)."""
    return hashlib.sha256(json.dumps([c.source for c in code_cells(nb)]).encode()).hexdigest()


def with_size(nb, n):
    """A copy of ``nb`` whose parameters cell sets ``N = n`` (nothing else changed)."""
    nb = copy.deepcopy(nb)
    cell = parameters_cell(nb)
    cell.source = PARAM.sub(f"N = {int(n)}", cell.source, count=1)
    return nb


def kernel_env(home: Path) -> dict:
    """The kernel's environment: the inline matplotlib backend (MPLBACKEND unset, so figures
    come back as outputs), IPython's and Jupyter's files inside ``home``, no downloads."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(GDCHAOS_OFFLINE="1", IPYTHONDIR=str(home / "ipython"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_DATA_DIR=str(home / "data"),
               PYTHONDONTWRITEBYTECODE="1")
    return env


def execute(nb, cwd: Path, home: Path):
    """Run every cell of ``nb`` in ``cwd`` with this interpreter's ipykernel; returns the
    executed notebook (nbclient raises ``CellExecutionError`` at the first failing cell)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    spec = home / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "gdchaos walkthrough (this interpreter)", "language": "python"}))
    env = kernel_env(home)
    ksm = KernelSpecManager(kernel_dirs=[str(home / "kernels")], ensure_native_kernel=False)
    nb = copy.deepcopy(nb)
    # IPC sockets in a short temporary folder (a socket path has at most 107 bytes): the kernel
    # talks to this process through files, not TCP
    with tempfile.TemporaryDirectory(prefix="gdnb") as sockets:
        km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=ksm, transport="ipc",
                           connection_file=os.path.join(sockets, "kernel.json"))
        client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, record_timing=False,
                                resources={"metadata": {"path": str(cwd)}})
        try:
            client.execute(cwd=str(cwd), env=env)
        finally:  # a kernel manager we made is ours to stop (nbclient leaves it running)
            if km.has_kernel:
                km.shutdown_kernel(now=True)
            km.cleanup_resources()
    return nb


def text_of(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        if o.output_type == "stream":
            out.append(o.text)
        elif o.output_type in ("execute_result", "display_data"):
            out.append(o.get("data", {}).get("text/plain", ""))
    return "".join(out)


def all_text(nb) -> str:
    return "\n".join(text_of(c) for c in code_cells(nb))


def number(pattern, text):
    m = re.search(pattern, text)
    assert m, f"no output matching {pattern!r} in:\n{text[-3000:]}"
    return [float(g) for g in m.groups()]


def check_outputs(nb, saved=False):
    """The printed results are meaningful: at the tiny size, and more tightly in the saved
    notebook (``saved``: its larger grid resolves the boundary; the paper's figure 3 boundary
    reads about 1.16-1.19 by this box counting at 512^2-1024^2, docs/analysis.md)."""
    text = all_text(nb)
    assert "Traceback" not in text
    assert not [o for c in code_cells(nb) for o in c.get("outputs", [])
                if o.output_type == "error"]
    (eta_star,) = number(r"eta\* = ([0-9.]+)", text)
    assert abs(eta_star - 0.702058659608) < 1e-6                     # README's critical-step
    lines = re.findall(r"eta = [0-9.]+ = ([0-9.]+) eta\*: (\w+)", text)
    assert lines == [("0.98", "converged"), ("1.02", "diverged")], lines
    (agree,) = number(r"theory and engine agree on ([0-9.]+)%", text)
    assert agree > 99.0
    (hyper,) = number(r"the map agrees with the theory on ([0-9.]+)%", text)
    assert hyper > 90.0
    d, lo, hi, pixels = number(
        r"D = ([0-9.]+)\s+95% CI \[(-?[0-9.]+), (-?[0-9.]+)\]\s+\((\d+) boundary pixels", text)
    assert 0.9 < d < 1.6 and lo <= d <= hi, (d, lo, hi)
    assert pixels >= 10
    verdict = re.search(r"verdict: (fractal|smooth|undecided)", text)
    assert verdict, "fractal_test printed no verdict"
    if saved:
        assert 1.05 < d < 1.4 and hi - lo < 0.3 and lo > 1.0, (d, lo, hi)
        assert verdict.group(1) == "fractal"
    ly, ly_lo, ly_hi = number(
        r"Lyapunov exponent = ([0-9.]+)\s+95% CI \[([0-9.]+), ([0-9.]+)\]", text)
    assert abs(ly - math.log(3)) < 1e-3 and ly_lo <= ly <= ly_hi


def images(nb) -> int:
    return sum("image/png" in o.get("data", {}) for c in code_cells(nb)
               for o in c.get("outputs", []))


def check_figures(nb):
    """Every cell that shows a figure (``plt.show()``) has one picture among its outputs."""
    showing = [c for c in code_cells(nb) if "plt.show()" in c.source]
    assert len(showing) >= 5
    missing = [c.source.splitlines()[0] for c in showing
               if sum("image/png" in o.get("data", {}) for o in c.outputs) != 1]
    assert not missing, f"cells without their figure (inline backend lost?): {missing}"


def test_parameters_cell():
    nb = read()
    cell = parameters_cell(nb)
    assert code_cells(nb)[0] is cell, "the parameters cell comes first"
    tiny = with_size(nb, TINY_N)
    assert PARAM.search(parameters_cell(tiny).source).group(1) == str(TINY_N)
    changed = [i for i, (a, b) in enumerate(zip(code_cells(nb), code_cells(tiny)))
               if a.source != b.source]
    assert changed == [0] and len(code_cells(tiny)) == len(code_cells(nb))


def test_saved_walkthrough_is_executed():
    assert NOTEBOOK.stat().st_size < MAX_BYTES, "keep the notebook small (low-dpi figures)"
    nb = read()
    nbformat.validate(nb)
    cells = code_cells(nb)
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"not executed top to bottom in one run (execution counts {counts}); "
        "run: python tests/test_notebook.py --execute")
    meta = nb.metadata.get("gdchaos", {})
    assert meta.get("code_sha256") == code_hash(nb), (
        "the notebook's code changed since its outputs were made; "
        "run: python tests/test_notebook.py --execute")
    n = int(PARAM.search(parameters_cell(nb).source).group(1))
    assert meta.get("N") == n
    assert all(c.outputs for c in cells if c is not parameters_cell(nb)), \
        "every code cell but the parameters shows an output"
    check_figures(nb)
    check_outputs(nb, saved=True)
    stderr = [o.text for c in cells for o in c.outputs
              if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"the saved notebook shows warnings or errors: {stderr}"


def test_walkthrough_runs_at_a_tiny_size(tmp_path):
    saved = read()
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    tiny = with_size(saved, TINY_N)
    done = execute(tiny, work, home)
    # the code that ran is the saved code, with only the size changed
    assert [c.source for c in code_cells(done)][1:] == [c.source for c in code_cells(saved)][1:]
    check_outputs(done)
    check_figures(done)
    assert (work / f"fig3_{TINY_N}.zarr").is_dir(), "the store is written in the working folder"
    assert not list(NOTEBOOK.parent.glob("fig3_*.zarr")), "nothing is written beside the notebook"


def main(argv):
    """``--execute``: run the notebook at its own size in a temporary folder and save it with
    its outputs and the hash of its code (what ``test_saved_walkthrough_is_executed`` checks)."""
    if argv != ["--execute"]:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    nb = read()
    for c in code_cells(nb):
        c.outputs, c.execution_count = [], None
        c.metadata.pop("execution", None)
    with tempfile.TemporaryDirectory() as tmp:
        work, home = Path(tmp) / "work", Path(tmp) / "home"
        work.mkdir()
        home.mkdir()
        done = execute(nb, work, home)
    n = int(PARAM.search(parameters_cell(done).source).group(1))
    done.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                   "language": "python"}
    done.metadata["gdchaos"] = {"N": n, "code_sha256": code_hash(done),
                                "executed_by": "python tests/test_notebook.py --execute"}
    check_outputs(done, saved=True)
    check_figures(done)
    nbformat.write(done, str(NOTEBOOK))
    print(f"{NOTEBOOK.relative_to(ROOT)}: executed at N = {n}, "
          f"{NOTEBOOK.stat().st_size / 1e3:.0f} kB, {images(done)} figures")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
