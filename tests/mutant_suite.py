"""The tests every assignment's mutants go through, written once.

A test module of assignment NN binds what :func:`suite` returns into its own
namespace, where pytest collects it::

    from mutant_suite import suite
    from mutants_aNN import MUTANTS

    globals().update(suite("NN_topic", MUTANTS, minimum=12))

The module then grades, in one run of the real command line, the solution,
the released stub and every mutant (the solution with one plausible bug put
in), and checks that the solution earns full marks, the stub zero with every
case "not attempted", and that each mutant fails the hidden case named for it
while the solution passes that very case.
"""

from __future__ import annotations

import json

import pytest
from conftest import REPO, grade, place, with_cell


def suite(assignment: str, mutants: list, minimum: int) -> dict:
    """The fixture and tests for ``assignment``'s mutants, by name."""
    solution_path = REPO / "solutions" / assignment / f"{assignment}.ipynb"
    release_path = REPO / "assignments" / assignment / f"{assignment}.ipynb"

    @pytest.fixture(scope="module")
    def run(tmp_path_factory):
        solution = json.loads(solution_path.read_text())
        folder = tmp_path_factory.mktemp(assignment) / "submissions"
        for mutant in mutants:
            notebook = with_cell(solution, mutant.cell, mutant.old, mutant.new)
            place(folder, mutant.name, notebook, assignment=assignment)
        place(folder, "solution", solution, assignment=assignment)
        stub = json.loads(release_path.read_text())
        place(folder, "released_stub", stub, assignment=assignment)
        out = tmp_path_factory.mktemp(f"{assignment}-grades")
        result = grade(folder, out, "--assignment", assignment)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    def test_solution_scores_full_marks(run):
        record = run.record("solution", assignment)
        failed = [
            (c["id"], c["message"]) for c in record["cases"] if c["status"] != "passed"
        ]
        assert failed == []
        assert record["score"] == pytest.approx(record["max_score"])

    def test_released_stub_scores_zero_cleanly(run):
        record = run.record("released_stub", assignment)
        assert record["score"] == 0
        assert all(c["ok"] for c in record["cells"])
        assert {c["status"] for c in record["cases"]} == {"not_attempted"}

    @pytest.mark.parametrize("mutant", mutants, ids=[m.name for m in mutants])
    def test_mutant_is_caught(run, mutant):
        case = run.case(mutant.name, mutant.killed_by, assignment)
        assert case["status"] != "passed", f"{mutant.name} survived {mutant.killed_by}"
        solution = run.case("solution", mutant.killed_by, assignment)
        assert solution["status"] == "passed"

    def test_enough_mutants():
        assert len(mutants) >= minimum
        assert len({m.name for m in mutants}) == len(mutants)

    tests = [
        test_solution_scores_full_marks,
        test_released_stub_scores_zero_cleanly,
        test_mutant_is_caught,
        test_enough_mutants,
    ]
    return {"run": run, **{test.__name__: test for test in tests}}
