"""The notebook of assignment 5 runs in a real kernel: the solution from top
to bottom with every public check passing, the released stubs up to their
first check, which says what is not implemented yet.

(The public-check tests of assignments 1–4 do the same, with assertions on
their own experiments and figures.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import notebook_runner as nr
import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ["05_equivariant_gnn"]


def _is_check(cell) -> bool:
    return (nr.grade_id(cell) or "").startswith("check")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_runs_top_to_bottom(kernel_env, assignment):
    folder = kernel_env / "solution"
    shutil.copytree(ROOT / "gedl_checks", folder / "gedl_checks")
    source = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    nb = nr.execute(nbformat.read(source, as_version=4), folder)
    failed = {nr.grade_id(c) or c.get("id"): nr.errors(c) for c in nb.cells}
    assert {k: v for k, v in failed.items() if v} == {}
    checks = [nr.printed(c).strip() for c in nb.cells if _is_check(c)]
    assert len(checks) >= 3
    assert all(line.startswith("✓") for line in checks), checks


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_stubs_run_to_first_check(kernel_env, assignment):
    folder = kernel_env / "release"
    shutil.copytree(ROOT / "assignments" / assignment, folder)
    nb = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if _is_check(c))
    nb.cells = nb.cells[: first + 1]
    nb = nr.execute(nb, folder)
    for cell in nb.cells[:first]:
        assert nr.errors(cell) == [], nr.grade_id(cell)
    (error,) = nr.errors(nb.cells[first])
    assert error.startswith("CheckFailed: not implemented yet: ")
