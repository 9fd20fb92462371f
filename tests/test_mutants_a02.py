"""Assignment 2 through the command line: the solution earns full marks, the
released stub zero, and every mutant is caught by the test named for it."""

from __future__ import annotations

import json

import pytest
from conftest import REPO, grade, place, with_cell
from mutants_a02 import MUTANTS

ASSIGNMENT = "02_lifting_conv"
SOLUTION = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
RELEASE = REPO / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    solution = json.loads(SOLUTION.read_text())
    folder = tmp_path_factory.mktemp("a02") / "submissions"
    for mutant in MUTANTS:
        notebook = with_cell(solution, mutant.cell, mutant.old, mutant.new)
        place(folder, mutant.name, notebook, assignment=ASSIGNMENT)
    place(folder, "solution", solution, assignment=ASSIGNMENT)
    place(
        folder, "released_stub", json.loads(RELEASE.read_text()), assignment=ASSIGNMENT
    )
    result = grade(
        folder, tmp_path_factory.mktemp("a02-grades"), "--assignment", ASSIGNMENT
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_solution_scores_full_marks(run):
    record = run.record("solution", ASSIGNMENT)
    failed = [
        (c["id"], c["message"]) for c in record["cases"] if c["status"] != "passed"
    ]
    assert failed == []
    assert record["score"] == pytest.approx(record["max_score"])


def test_released_stub_scores_zero_cleanly(run):
    record = run.record("released_stub", ASSIGNMENT)
    assert record["score"] == 0
    assert all(c["ok"] for c in record["cells"])
    assert {c["status"] for c in record["cases"]} == {"not_attempted"}


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_caught(run, mutant):
    case = run.case(mutant.name, mutant.killed_by, ASSIGNMENT)
    assert case["status"] != "passed", f"{mutant.name} survived {mutant.killed_by}"
    assert run.case("solution", mutant.killed_by, ASSIGNMENT)["status"] == "passed"


def test_at_least_twelve_mutants():
    assert len(MUTANTS) >= 12
