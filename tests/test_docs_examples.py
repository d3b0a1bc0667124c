"""Every fenced example of README.md and docs/*.md runs, as written, in a fresh folder.

A block is a fence opened with ```bash, ```sh, ```console or ```python.  Each block runs in
its own temporary folder (so no example may rely on another's output):

* shell blocks (bash, sh): one command per line (``\\`` continues a line, ``#`` starts a
  comment), run in order without a shell; ``gdchaos`` is ``python -m gdchaos.cli`` of this
  interpreter, ``python`` this interpreter.  ``pip install`` and ``make`` lines are not run
  (they install or run the whole suite): the test id says so;
* console blocks: the lines after ``$ `` are commands as above; the other lines are their
  expected output, checked loosely (whitespace ignored, ``...`` matches anything);
* python blocks: written to a file and run with this interpreter (``if __name__ ==
  "__main__":`` guards work).  A block whose first line is ``# NAME.py`` (or ``# NAME.py: ...``)
  is that file: it is
  written under its name, run, and can be used by other blocks (``uses``, below).

A visible marker on the line before a fence changes how it runs (``;`` separates items):

* ``<!-- docs-test: --grid 16 --iters 20 -->``: flags added to every ``gdchaos`` command of the
  block, replacing the command's own values of those flags (``--set KEY=V`` replaces the
  command's ``--set KEY=...``);
* ``<!-- docs-test: nn slice: --grid 4 -->``: the same for the ``gdchaos nn slice`` commands of
  the block only;
* ``<!-- docs-test: OLD => NEW -->``: a text replacement in the block (for python blocks, to run
  them at a tiny size);
* ``<!-- docs-test: uses mine.py from docs/problems.md -->``: write that file block first (the
  doc is this one without ``from``);
* ``<!-- docs-test: slow (reason) -->``: the example runs under the ``slow`` marker only
  (``make test-slow``), for what takes minutes even at the tiny size;
* ``<!-- docs-test: skip (reason) -->``: only where the example cannot run here (a browser
  server, a download, a remote scheduler); the reason is in the test id.

Nothing downloads (``GDCHAOS_OFFLINE=1``); pictures use matplotlib's Agg backend.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
LANGS = {"bash", "sh", "console", "python"}
FENCE = re.compile(r"^```\s*([A-Za-z0-9_+-]*)\s*$")
MARKER = re.compile(r"^<!--\s*docs-test:\s*(.*?)\s*-->\s*$")
FILE_BLOCK = re.compile(r"^#\s*([A-Za-z_][A-Za-z0-9_]*\.py)\s*(:.*)?$")  # "# mine.py[: ...]"
TIMEOUT = 600  # per command: a hang fails the test instead of stopping the suite
NOT_RUN = {"pip": "pip install lines are not run (they install packages)",
           "make": "make lines are not run (they build a venv and run the whole suite)"}


@dataclass
class Block:
    doc: Path
    line: int  # the line of the opening fence (1-based)
    lang: str
    text: str
    marker: str = ""
    flags: list = field(default_factory=list)
    scoped: list = field(default_factory=list)  # (subcommand words, flags)
    replace: list = field(default_factory=list)
    uses: list = field(default_factory=list)
    skip: str = ""
    slow: str = ""

    @property
    def where(self):
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def file_name(self):
        first = self.text.splitlines()[0] if self.text.strip() else ""
        m = FILE_BLOCK.match(first.strip()) if self.lang == "python" else None
        return m.group(1) if m else None


def parse_marker(block: Block) -> None:
    for item in (s.strip() for s in block.marker.split(";")):
        if not item:
            continue
        if item.startswith("skip"):
            block.skip = item[4:].strip().strip("()") or "no reason given"
        elif item.startswith("slow"):
            block.slow = item[4:].strip().strip("()") or "long"
        elif item.startswith("uses "):
            name, _, doc = item[5:].partition(" from ")
            block.uses.append((name.strip(), ROOT / doc.strip() if doc else block.doc))
        elif "=>" in item:
            old, new = (s.strip() for s in item.split("=>", 1))
            block.replace.append((old, new))
        elif item.startswith("--"):
            block.flags += shlex.split(item)
        elif re.match(r"^[a-z][a-z0-9 -]*:\s*--", item):
            words, _, flags = item.partition(":")
            block.scoped.append((words.split(), shlex.split(flags)))
        else:
            raise ValueError(f"unknown docs-test marker item {item!r}")


def extract(doc: Path) -> list[Block]:
    """The runnable fenced blocks of one Markdown file."""
    lines = doc.read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        lang = m.group(1).lower()
        if lang in LANGS:
            k = i - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            mk = MARKER.match(lines[k].strip()) if k >= 0 else None
            b = Block(doc, i + 1, lang, "\n".join(lines[i + 1:j]) + "\n",
                      marker=mk.group(1) if mk else "")
            parse_marker(b)
            for old, new in b.replace:
                assert old in b.text, f"{b.where}: marker replaces {old!r}, not in the block"
                b.text = b.text.replace(old, new)
            blocks.append(b)
        i = j + 1
    return blocks


ALL = [b for d in DOCS for b in extract(d)]


def logical_lines(text: str) -> list[str]:
    out, cur = [], ""
    for raw in text.splitlines():
        if raw.rstrip().endswith("\\"):
            cur += raw.rstrip()[:-1] + " "
            continue
        out.append(cur + raw)
        cur = ""
    if cur:
        out.append(cur)
    return [s for s in out if s.strip()]


def apply_flags(argv: list[str], flags: list[str]) -> list[str]:
    """``argv`` with ``flags`` appended, each replacing the command's own value of that flag
    (``--set K=V`` replaces ``--set K=...``; a flag followed by a flag takes no value)."""
    pairs, i = [], 0
    while i < len(flags):
        if i + 1 < len(flags) and not flags[i + 1].startswith("--"):
            pairs.append((flags[i], flags[i + 1]))
            i += 2
        else:
            pairs.append((flags[i], None))
            i += 1
    out = list(argv)
    for flag, value in pairs:
        key = value.split("=", 1)[0] + "=" if flag == "--set" and value else None
        i, kept = 0, []
        while i < len(out):
            a = out[i]
            if a == flag and (key is None or (i + 1 < len(out) and out[i + 1].startswith(key))):
                i += 1 if value is None else 2
                continue
            if a.startswith(flag + "=") and key is None:
                i += 1
                continue
            kept.append(a)
            i += 1
        out = kept + ([flag] if value is None else [flag, value])
    return out


def shell_commands(block: Block, text: str):
    """(argv or None, why-not-run) for each command line of ``text``."""
    for line in logical_lines(text):
        argv = shlex.split(line, comments=True)
        if not argv:
            continue
        if argv[0] in NOT_RUN:
            yield None, NOT_RUN[argv[0]]
            continue
        if argv[0] == "gdchaos":
            args = apply_flags(argv[1:], block.flags)
            for words, flags in block.scoped:
                if args[:len(words)] == words:
                    args = apply_flags(args, flags)
            argv = [sys.executable, "-m", "gdchaos.cli"] + args
        elif argv[0] == "python":
            argv = [sys.executable] + argv[1:]
        yield argv, ""


def console_steps(text: str):
    """(command text, expected output text) pairs of a console block."""
    steps = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append([line[2:], ""])
        elif steps:
            steps[-1][1] += line + "\n"
    return steps


def loosely_matches(expected: str, got: str) -> bool:
    """Every piece of ``expected`` is in ``got``, whitespace ignored: pieces are split at
    ``...`` (anything) and before each ``"key"`` of a JSON object (the docs show some keys)."""
    squeeze = (lambda s: re.sub(r"\s+", "", s))
    got = squeeze(got)
    return all(part in got for part in re.split(r'\.\.\.|,(?=")', squeeze(expected)) if part)


def not_run_reasons(block: Block) -> list[str]:
    if block.lang not in ("bash", "sh", "console"):
        return []
    text = block.text if block.lang != "console" else "\n".join(
        c for c, _ in console_steps(block.text))
    return sorted({why for argv, why in shell_commands(block, text) if argv is None})


def block_id(block: Block) -> str:
    bits = [block.where]
    if block.skip:
        bits.append(f"skip: {block.skip}")
    bits += [f"not run: {r}" for r in not_run_reasons(block)]
    if block.flags or block.scoped or block.replace:
        bits.append("tiny")
    if block.slow:
        bits.append(f"slow: {block.slow}")
    return " ".join(bits)


def param(block: Block):
    marks = [pytest.mark.slow] if block.slow else []
    return pytest.param(block, id=block_id(block), marks=marks)


def env():
    return dict(os.environ, GDCHAOS_OFFLINE="1", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")


def run(argv, cwd, where):
    r = subprocess.run(argv, cwd=cwd, env=env(), capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, (f"{where}: {shlex.join(argv)} exited {r.returncode}\n"
                               f"stdout: {r.stdout[-3000:]}\nstderr: {r.stderr[-3000:]}")
    return r.stdout


def file_block(name: str, doc: Path) -> Block:
    found = [b for b in extract(doc) if b.file_name == name]
    assert found, f"no python block starting with '# {name}' in {doc}"
    return found[0]


@pytest.mark.parametrize("block", [param(b) for b in ALL])
def test_docs_example_runs(block, tmp_path):
    if block.skip:
        pytest.skip(block.skip)
    for name, doc in block.uses:
        (tmp_path / name).write_text(file_block(name, doc).text)
    if block.lang == "python":
        script = tmp_path / (block.file_name or "docs_example.py")
        script.write_text(block.text)
        run([sys.executable, script.name], tmp_path, block.where)
        return
    if block.lang == "console":
        steps = console_steps(block.text)
    else:
        steps = [(block.text, "")]
    ran = 0
    for cmd, expected in steps:
        out = ""
        for argv, _ in shell_commands(block, cmd):
            if argv is not None:
                out += run(argv, tmp_path, block.where)
                ran += 1
        if expected.strip():
            assert loosely_matches(expected, out), (
                f"{block.where}: output of {cmd!r} is not the documented one:\n{out}")
    if not ran:
        pytest.skip("; ".join(not_run_reasons(block)))


def test_the_examples_are_found():
    """The extraction sees the blocks it must (so the parametrized test cannot pass vacuously),
    and skips stay rare: each with its reason."""
    docs = {b.doc.name for b in ALL}
    assert {"README.md", "maps.md", "cluster.md", "nn.md", "problems.md", "figures.md"} <= docs
    assert {b.lang for b in ALL} == LANGS - {"sh"} or {b.lang for b in ALL} == LANGS
    assert len(ALL) > 20
    skipped = [b for b in ALL if b.skip]
    assert len(skipped) <= 4 and all(b.skip != "no reason given" for b in skipped)
    assert file_block("mine.py", ROOT / "docs" / "problems.md").text.startswith("# mine.py")


def test_flag_replacement():
    assert apply_flags(["map", "--grid", "128", "--out", "a"], ["--grid", "16"]) == \
        ["map", "--out", "a", "--grid", "16"]
    assert apply_flags(["figure", "1", "--set", "grid=800", "--set", "seed=3"],
                       ["--set", "grid=16"]) == ["figure", "1", "--set", "seed=3", "--set",
                                                 "grid=16"]
    assert apply_flags(["x", "--iters=5"], ["--iters", "2"]) == ["x", "--iters", "2"]
    assert loosely_matches('{"Q": 5.07...,\n "a": 1}', '{"Q": 5.0769, "a": 1}')
    assert not loosely_matches('{"Q": 6.0...}', '{"Q": 5.0769}')
    assert not loosely_matches('eta* = 0.70', 'eta* = 0.69')
