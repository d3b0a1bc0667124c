"""The package's layout, read from the source with ``ast`` (nothing is imported):

* modules stay small (every module under src/, not a list);
* (a) no module imports another package's underscore module (``gdchaos.X._y`` only from inside
  ``gdchaos/X/``; the top-level ``gdchaos._cli`` only from ``gdchaos/cli.py`` and ``_cli`` itself);
* (b) imports go one way down the layers theory -> problems -> engine -> analysis -> nn ->
  experiments -> CLI.  ``status``, ``errors`` and ``version`` are leaves every layer may use (and
  they import only each other).  ``plotting`` sits beside ``analysis`` (same layer: it draws
  engine and analysis results, and nothing below it imports it; the two may use each other).
  The package's ``__init__`` (the public facade) sits with the CLI at the top;
* figure modules (``experiments/figNN.py``) import no other figure module;
* (c) no module compares a problem's name (``"scalar"``, ``"matrix"``, ``"deep"``,
  ``"quotient"``) outside that problem's own module ``problems/<name>.py``: what a problem does
  lives in its definition.

Lazy imports inside functions count like top-level ones: they are dependencies all the same.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path


SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "gdchaos"
MAX_LINES = 500

LEAVES = {"status", "errors", "version"}
LAYERS = {"theory": 0, "problems": 1, "engine": 2, "analysis": 3, "plotting": 3, "nn": 4,
          "experiments": 5, "explore": 6, "_cli": 6, "cli": 6, "__init__": 6}
PROBLEM_NAMES = {"scalar", "matrix", "deep", "quotient"}
_FIG = re.compile(r"gdchaos\.experiments\.fig\d\d")


def _modules():
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 50, f"found only {len(files)} modules under {SRC}"
    return files


def _name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _exists(module: str) -> bool:
    p = SRC.joinpath(*module.split("."))
    return p.with_suffix(".py").is_file() or (p / "__init__.py").is_file()


def _imports(path: Path):
    """``(line, absolute module)`` of every import in the file, at any depth; ``from P import
    n`` yields ``P.n`` when that is a module, else ``P``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    me = _name(path)
    base = me.split(".") if _is_package(path) else me.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pkg = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                mod = ".".join(pkg + ([node.module] if node.module else []))
            else:
                mod = node.module
            for a in node.names:
                sub = f"{mod}.{a.name}"
                yield node.lineno, sub if _exists(sub) else mod


def _ours(mod: str) -> bool:
    return mod == "gdchaos" or mod.startswith("gdchaos.")


def _top(mod: str) -> str:
    parts = mod.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def _layer_violations():
    """(a) and (b) over every module: ``[(file:line, message)]``."""
    bad = []
    for path in _modules():
        me = _name(path)
        if not _ours(me):
            continue
        for line, target in _imports(path):
            if not _ours(target):
                continue
            where = f"{path.relative_to(SRC)}:{line}"
            parts = target.split(".")
            # (a) underscore modules: only from inside their own package
            for i, part in enumerate(parts[1:], 1):
                if part.startswith("_") and not part.startswith("__"):
                    owner = ".".join(parts[:i])
                    if owner == "gdchaos" and part == "_cli":
                        allowed = me == "gdchaos.cli" or me.startswith("gdchaos._cli")
                    else:
                        allowed = me == owner or me.startswith(owner + ".")
                    if not allowed:
                        bad.append((where, f"(a) {me} imports {target}, private to {owner}"))
                    break
            # figure modules import no figure module (shared pieces live in a module both use)
            if _FIG.fullmatch(me) and _FIG.fullmatch(target) and me != target:
                bad.append((where, f"figure module {me} imports figure module {target}"))
            # (b) layers
            mt, tt = _top(me), _top(target)
            if mt == tt:
                continue
            if tt in LEAVES:
                continue
            if mt in LEAVES:
                bad.append((where, f"(b) leaf module {me} imports {target}"))
                continue
            if LAYERS[tt] > LAYERS[mt]:
                bad.append((where, f"(b) {me} (layer {mt}) imports {target} (higher layer {tt})"))
    return bad


def _problem_name_comparisons():
    """(c): ``[(file:line, message)]`` for comparisons with a built-in problem's name."""
    bad = []
    for path in _modules():
        rel = path.relative_to(PKG) if PKG in path.parents else path
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Compare):
                continue
            if not all(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops):
                continue
            names = set()
            for side in [node.left, *node.comparators]:
                elts = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
                names |= {e.value for e in elts
                          if isinstance(e, ast.Constant) and e.value in PROBLEM_NAMES}
            for n in names:
                if rel != Path("problems") / f"{n}.py":
                    bad.append((f"{path.relative_to(SRC)}:{node.lineno}",
                                f"(c) compares a problem's name with {n!r}: "
                                f"{ast.unparse(node)}"))
    return bad


def test_modules_stay_small():
    long = [(str(p.relative_to(SRC)), n) for p in _modules()
            if (n := len(p.read_text().splitlines())) >= MAX_LINES]
    assert not long, f"modules of {MAX_LINES} lines or more: {long}"


def test_no_private_imports_across_packages_and_no_imports_up_the_layers():
    bad = _layer_violations()
    assert not bad, "\n".join(f"{w}: {m}" for w, m in bad)


def test_no_problem_name_comparisons_outside_the_problems_own_module():
    bad = _problem_name_comparisons()
    assert not bad, "\n".join(f"{w}: {m}" for w, m in bad)


# ------------------------------------------------------------------- the checks themselves
PLANTED = {
    "gdchaos/__init__.py": "from .engine import run\n",
    "gdchaos/status.py": "",
    "gdchaos/cli.py": "from ._cli import main\n",
    "gdchaos/_cli/__init__.py": "from . import _common\n",
    "gdchaos/_cli/_common.py": "from ..errors import E\n",
    "gdchaos/errors.py": "",
    "gdchaos/theory/__init__.py": "",
    "gdchaos/problems/__init__.py": "",
    "gdchaos/problems/quotient.py": "def f(p):\n    return p.name == 'quotient'\n",
    "gdchaos/engine/__init__.py": "from ._run import run\n",
    "gdchaos/engine/_run.py": "from ..status import S\nfrom ..problems import quotient\n",
    "gdchaos/analysis/__init__.py": "",
    "gdchaos/nn/__init__.py": "",
    "gdchaos/experiments/__init__.py": "",
    # offenders, one per rule
    "gdchaos/nn/bad_private.py": "from ..engine._run import run\n",
    "gdchaos/experiments/bad_cli.py": "def f():\n    from .._cli import _common\n",
    "gdchaos/engine/bad_up.py": "def f():\n    from ..analysis import x\n",
    "gdchaos/errors_user.py": "",
    "gdchaos/analysis/bad_name.py": "def f(p):\n    return p.kernel in ('deep', 'x')\n",
    "gdchaos/experiments/fig01.py": "",
    "gdchaos/experiments/fig02.py": "from .fig01 import x\nfrom .shared import y\n",
    "gdchaos/experiments/shared.py": "",
}


def test_the_checks_catch_what_they_are_for(tmp_path, monkeypatch):
    """Each rule fires on a planted offender and spares the allowed imports (so the tests above
    cannot pass vacuously)."""
    import sys

    here = sys.modules[__name__]
    for rel, text in PLANTED.items():
        f = tmp_path / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    monkeypatch.setattr(here, "SRC", tmp_path)
    monkeypatch.setattr(here, "PKG", tmp_path / "gdchaos")
    monkeypatch.setattr(here, "LAYERS", dict(LAYERS, errors_user=6))
    monkeypatch.setattr(here, "_modules", lambda: sorted(tmp_path.rglob("*.py")))
    layer = sorted(m for _, m in _layer_violations())
    assert layer == [
        "(a) gdchaos.experiments.bad_cli imports gdchaos._cli._common, private to gdchaos",
        "(a) gdchaos.nn.bad_private imports gdchaos.engine._run, private to gdchaos.engine",
        "(b) gdchaos.engine.bad_up (layer engine) imports gdchaos.analysis (higher layer "
        "analysis)",
        "(b) gdchaos.experiments.bad_cli (layer experiments) imports gdchaos._cli._common "
        "(higher layer _cli)",
        "figure module gdchaos.experiments.fig02 imports figure module gdchaos.experiments.fig01",
    ], layer
    names = _problem_name_comparisons()
    assert [(w, m.split(":")[0]) for w, m in names] == [
        ("gdchaos/analysis/bad_name.py:2", "(c) compares a problem's name with 'deep'")], names
