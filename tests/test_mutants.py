"""Every mutant of the solution (a plausible student bug) is caught by the
hidden test named for it; and the engine's messages for broken submissions
(missing notebook, renamed class, odd file name) are clear."""

from __future__ import annotations

import json

import pytest
from conftest import ASSIGNMENT, RELEASE, grade, place, with_cell
from mutants_a01 import MUTANTS

MAX = 70.0


@pytest.fixture(scope="module")
def mutant_run(tmp_path_factory, solution_notebook):
    folder = tmp_path_factory.mktemp("mutants") / "submissions"
    for mutant in MUTANTS:
        notebook = with_cell(solution_notebook, mutant.cell, mutant.old, mutant.new)
        place(folder, mutant.name, notebook)
    renamed = with_cell(
        solution_notebook,
        "cyclic_group",
        "class CyclicGroup(GroupBase):",
        "class Cyclic_Group(GroupBase):",
    )
    place(folder, "renamed_class", renamed)
    place(folder, "solution", solution_notebook)
    place(folder, "released_stub", json.loads(RELEASE.read_text()))
    place(folder, "odd_file_name", solution_notebook, name="my work (1).ipynb")
    (folder / "no_notebook" / ASSIGNMENT).mkdir(parents=True)
    lost = json.loads(json.dumps(solution_notebook))
    for cell in lost["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "so2":
            cell["metadata"] = {}
    place(folder, "lost_metadata", lost)
    run = grade(folder, tmp_path_factory.mktemp("mutant-grades"))
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_caught(mutant_run, mutant):
    case = mutant_run.case(mutant.name, mutant.killed_by)
    assert case["status"] == "failed", f"{mutant.name} survived {mutant.killed_by}"
    assert mutant_run.record(mutant.name)["score"] < MAX


def test_solution_scores_full_marks(mutant_run):
    record = mutant_run.record("solution")
    failed = [
        (c["id"], c["message"]) for c in record["cases"] if c["status"] != "passed"
    ]
    assert failed == []
    assert record["score"] == pytest.approx(MAX) == record["max_score"]


def test_released_stub_scores_zero_cleanly(mutant_run):
    record = mutant_run.record("released_stub")
    assert record["score"] == 0
    assert all(c["ok"] for c in record["cells"])
    assert {c["status"] for c in record["cases"]} == {"not_attempted"}


def test_every_killer_passes_on_the_solution(mutant_run):
    for mutant in MUTANTS:
        assert mutant_run.case("solution", mutant.killed_by)["status"] == "passed"


def test_at_least_ten_mutants():
    assert len(MUTANTS) >= 10
    assert len({m.killed_by.split("[")[0] for m in MUTANTS}) >= 8


def test_renamed_class_is_reported_by_name(mutant_run):
    case = mutant_run.case(
        "renamed_class", "test_groups::test_product_matches_reference[C4]"
    )
    assert "`CyclicGroup` is not defined in your notebook" in case["message"]
    so2 = mutant_run.case(
        "renamed_class", "test_groups::test_product_matches_reference[SO2]"
    )
    assert so2["status"] == "passed"


def test_notebook_under_another_name_is_found(mutant_run):
    assert mutant_run.record("odd_file_name")["score"] == pytest.approx(MAX)


def test_missing_notebook(mutant_run):
    record = mutant_run.record("no_notebook")
    assert record["status"] == "missing" and record["score"] == 0
    assert "no notebook found" in record["notes"][0]


def test_cell_without_metadata_is_named(mutant_run):
    record = mutant_run.record("lost_metadata")
    assert any("cell `so2` is missing" in note for note in record["notes"])
    assert 0 < record["score"] < MAX
