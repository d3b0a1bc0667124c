"""The project's own fuzz of bad input (issue 18): every case is one line of data in
``tests/fuzz_cases/*.txt``, and every case must be refused the same way: exit code 2, exactly one
line on stderr (``gdchaos[ CMD]: error: ...``), no traceback, and the working folder unchanged,
file for file and byte for byte (nothing written, nothing deleted).

A case line is ``CLASS | ARGV [| WORD]``:

* ``CLASS``: the kind of defect the case stands for (``traceback``, ``exit_code``, ``silent``,
  ``target``, ``message``, ``left_behind``, ``unbounded``, ``data_lost``, ``user_problem``);
  the closing note counts cases by class;
* ``ARGV``: the command line after ``gdchaos`` (shell words), with placeholders set up in the
  case's fresh working folder before the run:

  - ``{user:NAME}``: the user problem file ``tests/fuzz_cases/problems/NAME.py``, copied in as
    ``NAME.py`` (write ``--problem {user:NAME}:ClassName``);
  - ``{npy:NAME}``: the array ``ARRAYS[NAME]()`` of ``tests/fuzz_cases/arrays.py`` saved as
    ``NAME.npy``;
  - ``{userdir:PATH}``: a folder of the user's own at PATH (``thesis.txt`` and
    ``sub/data.csv``), not a gdchaos store;
  - ``{file:PATH}``: a plain file of the user's at PATH;
  - ``{rodir:PATH}``: an empty folder that ``os.access`` reports as read-only (tests run as
    root, where chmod would not stop a write);
  - ``{store:PATH}``: a small finished ``gdchaos basin`` store (quotient map, 8 x 8) at PATH;
  - ``{busyport}``: a TCP port on 127.0.0.1 that another socket holds for the case's run;
  - ``{tmp}``: the working folder itself;
  - ``{+KIND:PATH}`` (a ``+`` before any kind above): the same set-up, but the placeholder
    expands to the empty string and a word left empty is dropped: a set-up that is not an
    argument (``figure 3 --out figs {+userdir:figs/fig03_left.zarr}``); placeholders are set up
    in the order written;
* ``WORD`` (optional): a word the error line must contain (case-insensitive).

Adding the next kind of bad input is one line in a ``.txt`` file.  Commands run in-process
(``gdchaos.cli.main``) in a fresh working folder each; a case that would compute past its
refusal is cut by the per-test timeout.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from _tree import snapshot  # noqa: E402 - tests/ is on sys.path

CASES_DIR = Path(__file__).resolve().parent / "fuzz_cases"
ERROR_LINE = re.compile(r"^gdchaos( [a-z-]+)*: error: \S")
CLASSES = {"traceback", "exit_code", "silent", "target", "message", "left_behind", "unbounded",
           "data_lost", "user_problem"}
_PLACEHOLDER = re.compile(r"\{(\+?)(user|npy|userdir|file|rodir|store|busyport|tmp)(?::([^}]*))?\}")
TIMEOUT = int(os.environ.get("GDCHAOS_FUZZ_TIMEOUT", "120"))


def _read_cases():
    cases = []
    for f in sorted(CASES_DIR.glob("*.txt")):
        for n, raw in enumerate(f.read_text().splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split(" | ")]
            assert len(parts) in (2, 3), f"{f.name}:{n}: write CLASS | ARGV [| WORD]"
            cls, argv = parts[0], parts[1]
            assert cls in CLASSES, f"{f.name}:{n}: unknown class {cls!r}"
            word = parts[2] if len(parts) == 3 else None
            cases.append(pytest.param(cls, argv, word, id=f"{f.stem}:{n}:{cls}"))
    return cases


CASES = _read_cases()




def _user_folder(p: Path):
    (p / "sub").mkdir(parents=True, exist_ok=True)
    (p / "thesis.txt").write_text("chapter 1\n")
    (p / "sub" / "data.csv").write_text("a,b\n1,2\n")


_STORES: dict = {}


def _make_store(p: Path, cache: Path):
    """A small finished basin store, computed once per session and copied."""
    if "quotient" not in _STORES:
        from gdchaos.cli import main

        src = cache / "fuzz_store.zarr"
        rc = main(["basin", "--problem", "quotient", "--y", "0.5", "--lam", "0.2", "--eta", "1",
                   "--grid", "8", "--iters", "20", "--out", str(src), "--quiet"])
        assert rc == 0
        _STORES["quotient"] = src
    p.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(_STORES["quotient"], p)


def _setup(argv: str, work: Path, read_only: set, cache: Path, held: list) -> list[str]:
    def sub(m):
        made = setup(m.group(2), m.group(3))
        return "" if m.group(1) else made  # {+KIND:PATH}: set up only

    def setup(kind, arg):
        if kind == "tmp":
            return str(work)
        if kind == "busyport":
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            held.append(s)
            return str(s.getsockname()[1])
        if kind == "user":
            shutil.copy(CASES_DIR / "problems" / f"{arg}.py", work / f"{arg}.py")
            return f"{arg}.py"
        if kind == "npy":
            from fuzz_cases.arrays import ARRAYS  # noqa: PLC0415 - tests/ is on sys.path

            np.save(work / f"{arg}.npy", ARRAYS[arg]())
            return f"{arg}.npy"
        target = work / arg
        if kind == "userdir":
            _user_folder(target)
        elif kind == "file":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("the user's own file\n")
        elif kind == "rodir":
            target.mkdir(parents=True, exist_ok=True)
            read_only.add(str(target))
        elif kind == "store":
            _make_store(target, cache)
        return arg

    words = [(w, _PLACEHOLDER.sub(sub, w)) for w in shlex.split(argv)]
    return [new for old, new in words if new or not old]  # a word emptied by {+...}: dropped


@pytest.fixture
def fuzz_env(tmp_path, tmp_path_factory, monkeypatch):
    work = tmp_path / "w"
    work.mkdir()
    monkeypatch.chdir(work)
    read_only: set = set()
    real = os.access

    def access(path, mode, *a, **k):
        p = os.path.abspath(os.fspath(path))
        if mode & os.W_OK and any(p == r or p.startswith(r + os.sep) for r in read_only):
            return False
        return real(path, mode, *a, **k)

    monkeypatch.setattr(os, "access", access)
    held: list = []
    yield work, read_only, tmp_path_factory.getbasetemp(), held
    for s in held:
        s.close()


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("cls,argv,word", CASES)
def test_fuzz_case_refused_cleanly(cls, argv, word, fuzz_env, capsys):
    from gdchaos.cli import main

    work, read_only, cache, held = fuzz_env
    args = _setup(argv, work, read_only, cache, held)
    capsys.readouterr()
    before = snapshot(work)
    try:
        rc = main(args)
    except SystemExit as exc:  # argparse errors, or a user's file calling sys.exit
        rc = exc.code
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert "Traceback" not in out.err, out.err[-3000:]
    assert rc == 2, f"exit code {rc!r}; stderr: {out.err[-2000:]}"
    assert len(lines) == 1 and ERROR_LINE.match(lines[0]), f"not one error line: {out.err!r}"
    after = snapshot(work)
    assert after == before, ("the folder changed: added "
                             f"{sorted(set(after) - set(before))[:10]}, removed "
                             f"{sorted(set(before) - set(after))[:10]}, changed "
                             f"{[k for k in before if k in after and before[k] != after[k]][:10]}")
    if word is not None:
        assert word.lower() in lines[0].lower(), lines[0]


def test_fuzz_has_cases_of_every_class():
    """At least 300 cases, and every class is represented."""
    seen = {p.values[0] for p in CASES}
    assert len(CASES) >= 300, len(CASES)
    assert seen == CLASSES, CLASSES - seen
