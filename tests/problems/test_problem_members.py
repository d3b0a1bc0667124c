"""docs/problems.md's table of a problem's members is the class: every member it names exists
on :class:`gdchaos.problems.Problem`, the required core is abstract there (or a backend's
definition), and every public member of the class is in the table."""

import re
from pathlib import Path

from gdchaos.problems import Problem

DOC = Path(__file__).resolve().parents[2] / "docs" / "problems.md"
#: public members that are the class's machinery, not a problem's definition
MACHINERY = {"name", "check_X", "has_torch", "step", "gd", "sq_norm", "imbalance",
             "minimizer_label", "records", "RECORD_DOCS"}


def _table():
    text = DOC.read_text()
    start = text.index("| member | required |")
    rows = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        for name in re.findall(r"`([A-Za-z_]+)", cells[0]):
            rows[name] = cells[1]
    return rows


def test_the_table_is_the_class():
    rows = _table()
    for name in rows:
        assert hasattr(Problem, name), f"docs/problems.md names {name}, which Problem lacks"
    public = {n for n in dir(Problem) if not n.startswith("_")}
    missing = public - set(rows) - MACHINERY
    assert not missing, f"members of Problem missing from docs/problems.md's table: {missing}"


def test_the_required_core_is_abstract():
    rows = _table()
    required = [n for n, r in rows.items() if r == "yes"]
    assert set(required) == {"n_params", "loss", "grad", "min_value", "minimizers", "consts",
                             "params"}
    for name in required:  # the base class cannot answer them
        attr = vars(Problem)[name]
        fn = attr.fget if isinstance(attr, property) else attr
        assert "NotImplementedError" in fn.__code__.co_names, name
