"""Every assignment's release: what a student receives holds no solution, no
hidden test and no output, keeps every other cell as the instructor wrote it,
and the demo students of every assignment are in sync with the release.

tests/test_release.py goes deeper into assignment 1 (the release machinery
itself); this file holds each assignment, present and future, to the same
contract.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())


def _notebooks(assignment: str) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    name = f"{assignment}.ipynb"
    solution = nbformat.read(ROOT / "solutions" / assignment / name, as_version=4)
    released = nbformat.read(ROOT / "assignments" / assignment / name, as_version=4)
    return solution, released


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _solution_only_lines(nb: nbformat.NotebookNode) -> set[str]:
    """Stripped lines between solution markers that occur nowhere else."""
    inside, outside = set(), set()
    for cell in nb.cells:
        in_solution = False
        for line in cell.source.split("\n"):
            text = line.strip()
            if "BEGIN SOLUTION" in text:
                in_solution = True
            elif "END SOLUTION" in text:
                in_solution = False
            else:
                (inside if in_solution else outside).add(text)
    # Short lines ("return x", "pass") are shared with stubs by chance.
    return {line for line in inside - outside if len(line) > 12}


def test_every_assignment_is_released():
    released = sorted(p.name for p in (ROOT / "assignments").iterdir() if p.is_dir())
    assert released == ASSIGNMENTS
    assert len(ASSIGNMENTS) >= 2


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_gives_nothing_away(assignment):
    solution, released = _notebooks(assignment)
    text = (ROOT / "assignments" / assignment / f"{assignment}.ipynb").read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "MARK SCHEME"):
        assert marker not in text
    secret = _solution_only_lines(solution)
    assert len(secret) >= 10, "too few solution lines for this test to mean much"
    released_lines = {
        line.strip() for cell in released.cells for line in cell.source.split("\n")
    }
    assert sorted(secret & released_lines) == []
    for cell in released.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_keeps_every_other_cell(assignment):
    solution, released = _notebooks(assignment)
    assert [c.get("id") for c in solution.cells] == [
        c.get("id") for c in released.cells
    ]
    for ours, theirs in zip(solution.cells, released.cells, strict=True):
        assert _meta(ours).get("grade_id") == _meta(theirs).get("grade_id")
        if _meta(ours).get("solution"):
            assert not _meta(theirs).get("locked")
        else:
            assert ours.source == theirs.source


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_code_cells_name_no_grader_module(assignment):
    solution, _ = _notebooks(assignment)
    assert solution.metadata.kernelspec.name == "python3"
    solution_ids = []
    for cell in solution.cells:
        if cell.cell_type != "code":
            continue
        for module in ("gedl_ref", "autograder", "e3nn", "escnn"):
            assert f"import {module}" not in cell.source
            assert f"from {module}" not in cell.source
        meta = _meta(cell)
        if meta.get("solution"):
            assert "### BEGIN SOLUTION" in cell.source and not meta["locked"]
            solution_ids.append(meta["grade_id"])
    assert len(solution_ids) == len(set(solution_ids)) >= 3


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_tests_exist_for_every_assignment(assignment):
    hidden = ROOT / "autograder" / "hidden" / assignment
    config = json.loads((hidden / "assignment.json").read_text())
    assert config["notebook"] == f"{assignment}.ipynb"
    assert list(hidden.glob("test_*.py"))


def _demo_class_module():
    path = ROOT / "tools" / "make_demo_class.py"
    spec = importlib.util.spec_from_file_location("make_demo_class", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_demo_students_are_in_sync(assignment):
    demo = _demo_class_module()
    assert assignment in demo.CLASSES, "every assignment needs demo students"
    students = demo.CLASSES[assignment]
    assert {"alice_perfect", "carol_untouched"} <= set(students)
    assert len(students) >= 3
    for relative, content in demo.build(ROOT, assignment).items():
        assert (ROOT / relative).read_bytes() == content, relative


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_folder_ships_only_the_checks_it_uses(assignment):
    shipped = ROOT / "assignments" / assignment / "gedl_checks"
    names = {p.name for p in shipped.glob("*.py")}
    own = [n for n in names if n.startswith(f"a{assignment[:2]}_")]
    assert len(own) == 1 and {"__init__.py", "runner.py"} <= names
    imported, todo = set(), ["__init__.py", "runner.py", "equivariance.py", *own]
    while todo:  # the closure of what these modules import
        name = todo.pop()
        if name in imported:
            continue
        imported.add(name)
        text = (shipped / name).read_text()
        found = re.findall(r"^from gedl_checks\.(\w+) import", text, re.M)
        todo += [f"{m}.py" for m in found]
    assert names == imported
    for name in names:
        source = ROOT / "gedl_checks" / name
        assert (shipped / name).read_bytes() == source.read_bytes()
