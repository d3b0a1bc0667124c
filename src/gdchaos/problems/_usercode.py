"""Errors of users' code in one line (file, class, method, line), and the import of a user's
file (``path/to/file.py:ClassName``): shared by users' problems and users' optimizers."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import re
import sys
import traceback

from ..errors import GdchaosInputError

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class UserCodeError(GdchaosInputError):
    """An error in a user's problem file, in one line naming file, class, method and line."""


def _file_of(cls):
    """The file of ``cls`` (relative to the working folder where it lies inside it)."""
    mod = sys.modules.get(getattr(cls, "__module__", None) or "")
    path = getattr(mod, "__file__", None)
    if not path:
        return "<unknown file>"
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _definition_line(cls, name):
    """The line of ``cls``'s source that defines ``name`` (a method's ``def``, an assignment in
    the class or ``self.name = ...``), else the class's own line."""
    fn = inspect.getattr_static(cls, name, None)
    fn = fn.fget if isinstance(fn, property) else getattr(fn, "__func__", fn)
    code = getattr(getattr(fn, "py_func", fn), "__code__", None)
    if code is not None and os.path.abspath(code.co_filename) == os.path.abspath(_file_of(cls)):
        return code.co_firstlineno
    try:
        lines, start = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return None
    pat = re.compile(rf"^\s*(def\s+{name}\b|(self\.)?{name}\s*(:[^=]*)?=(?!=))")
    for i, text in enumerate(lines):
        if pat.match(text):
            return start + i
    return start


def _user_line(exc, path, fallback):
    """The deepest line of the user's file in the traceback of ``exc`` (or in a Numba error's
    text), else ``fallback``."""
    target, line = os.path.abspath(path), None
    for fr in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(fr.filename) == target:
            line = fr.lineno
    if line is None and isinstance(exc, SyntaxError) and exc.filename and \
            os.path.abspath(exc.filename) == target:
        line = exc.lineno
    if line is None:
        for m in re.finditer(r'File "([^"]+)", line (\d+)', _text(exc)):
            if os.path.abspath(m.group(1)) == target:
                line = int(m.group(2))
    return line or fallback


def _text(exc):
    try:
        return _ANSI.sub("", str(exc))
    except Exception:  # noqa: BLE001 - a user's exception whose __str__ fails
        return ""


def _short(v):
    try:
        return repr(v)[:60]
    except Exception:  # noqa: BLE001 - a user's object whose __repr__ fails
        return f"a {type(v).__name__}"


def _describe(exc):
    """``Type: message`` in one line (a Numba error: its first informative line)."""
    text = _text(exc)
    if type(exc).__module__.split(".")[0] == "numba":
        skip = ("Failed in", "During:", "File ", "<source", "^", "def ")
        lines = [t.strip() for t in text.splitlines() if t.strip()
                 and not t.strip().startswith(skip)]
        return "Numba cannot compile it: " + " ".join((lines[0] if lines else text).split())[:300]
    text = " ".join(text.split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def user_code_error(where, method, exc) -> UserCodeError:
    """The one-line error for ``exc``, raised by the user's ``method`` of ``where`` (a problem
    or its class): ``FILE, line N, in Class.method: Type: message``."""
    if isinstance(exc, UserCodeError):
        return exc
    cls = where if isinstance(where, type) else type(where)
    path = _file_of(cls)
    line = _user_line(exc, path, _definition_line(cls, method))
    loc = f"{path}, line {line}" if line else path
    return UserCodeError(f"{loc}, in {cls.__name__}.{method}: {_describe(exc)}")


def definition_error(where, name, msg) -> UserCodeError:
    """The one-line error for a definition ``name`` of a user's class that is not usable."""
    cls = where if isinstance(where, type) else type(where)
    line = _definition_line(cls, name)
    loc = f"{_file_of(cls)}, line {line}" if line else _file_of(cls)
    return UserCodeError(f"{loc}, in {cls.__name__}: {msg}")


def _call(where, method, fn, *args):
    """``fn(*args)``, the user's code: anything it raises becomes one line (KeyboardInterrupt
    excepted)."""
    try:
        return fn(*args)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - the user's code: its error, in one line
        raise user_code_error(where, method, exc) from None


def import_user_file(spec: str, flag: str = "--problem"):
    """Import the file of ``"path/to/file.py:ClassName"`` (once per path); returns ``(module,
    ClassName)``.  Every failure is one line naming ``flag`` (:class:`GdchaosInputError`),
    whatever the user's file raises (``SystemExit`` included)."""
    path, sep, cls_name = str(spec).rpartition(":")
    if not sep or not path.endswith(".py") or not cls_name.isidentifier():
        raise GdchaosInputError(f"{flag} {spec!r}: a user's definition is written "
                                "path/to/file.py:ClassName")
    if not os.path.isfile(path):
        raise GdchaosInputError(f"{flag} {spec!r}: no file {path!r}")
    key = hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:12]
    mod_name = f"gdchaos_user_{key}"
    try:
        loader_spec = importlib.util.spec_from_file_location(mod_name, path)
        mod = importlib.util.module_from_spec(loader_spec)
        sys.modules[mod_name] = mod
        loader_spec.loader.exec_module(mod)
    except KeyboardInterrupt:
        sys.modules.pop(mod_name, None)
        raise
    except BaseException as exc:  # noqa: BLE001 - the user's file: its error, in one line
        sys.modules.pop(mod_name, None)
        line = _user_line(exc, path, None)
        raise GdchaosInputError(f"{flag} {spec!r}: importing {path} failed"
                                f"{f' (line {line})' if line else ''}: {_describe(exc)}") \
            from None
    return mod, cls_name
