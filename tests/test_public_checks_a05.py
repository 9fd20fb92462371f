"""The public checks of assignment 5 (EGNN).

The checks must pass on the reference (``gedl_ref.egnn``) and on the solution
notebook's classes, and fail with a specific message on typical mistakes
(the mutants of ``mutants_a05``, applied to the solution's cells).
"""

from __future__ import annotations

import json

import pytest
import torch
from conftest import REPO, with_cell
from mutants_a05 import MUTANTS

from gedl_checks.a05_egnn import (
    CheckFailed,
    check_egnn_layer,
    check_egnn_model,
    check_scalar_vector_layer,
)

ASSIGNMENT = "05_equivariant_gnn"
SOLUTION = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
CELLS = ("setup_imports", "setup_graph", "egnn_layer", "egnn_model", "steerable_layer")

#: mutant name -> what the failing check's message must mention
DIAGNOSES = {
    "absolute_positions_in_update": "relative positions only",
    "update_not_added_to_x": "x_new = x + update",
    "difference_not_squared": "‖x_i − x_j‖²",
    "direction_leaked_into_messages": "‖x_i − x_j‖²",
    "velocity_term_uses_positions": "vel_mlp(h) v",
    "source_and_target_swapped": "edge_index[1]",
}
STEERABLE_DIAGNOSES = {
    "spherical_harmonics_of_unnormalised_vector": "u is normalised",
    "cross_product_path_into_vectors": "1o⊗0e path",
    "vector_gate_missing": "the gate σ(g)",
}


def namespace(notebook: dict) -> dict:
    """Run the setup and solution cells that define the layer and the model."""
    ns: dict = {}
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in CELLS:
            exec(compile("".join(cell["source"]), grade_id, "exec"), ns)
    return ns


@pytest.fixture(scope="module")
def solution() -> dict:
    return json.loads(SOLUTION.read_text())


def test_checks_pass_on_the_reference(capsys):
    from gedl_ref.egnn import EGNN, EGNNLayer
    from gedl_ref.steerable_mp import ScalarVectorLayer

    check_egnn_layer(EGNNLayer)
    check_egnn_model(EGNN)
    check_scalar_vector_layer(ScalarVectorLayer)
    assert capsys.readouterr().out.count("✓") == 7


def test_checks_pass_on_the_solution(solution, capsys):
    ns = namespace(solution)
    check_egnn_layer(ns["EGNNLayer"])
    check_egnn_model(ns["EGNN"])
    check_scalar_vector_layer(ns["ScalarVectorLayer"])
    assert capsys.readouterr().out.count("✓") == 7


def test_solution_agrees_with_the_reference(solution):
    from gedl_ref.egnn import EGNNLayer

    ns = namespace(solution)
    torch.manual_seed(0)
    ref = EGNNLayer(5, 8, edge_dim=2, attention=True, velocity=True).double()
    mine = ns["EGNNLayer"](5, 8, edge_dim=2, attention=True, velocity=True).double()
    mine.load_state_dict(ref.state_dict())
    gen = torch.Generator().manual_seed(3)
    h = torch.randn(9, 5, generator=gen, dtype=torch.float64)
    x = torch.randn(9, 3, generator=gen, dtype=torch.float64)
    v = torch.randn(9, 3, generator=gen, dtype=torch.float64)
    edges = torch.randint(0, 9, (2, 30), generator=gen)
    a = torch.randn(30, 2, generator=gen, dtype=torch.float64)
    for got, want in zip(mine(h, x, edges, a, v), ref(h, x, edges, a, v), strict=True):
        # Same operations in the same order: equal up to rounding.
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(DIAGNOSES))
def test_checks_diagnose_typical_mistakes(solution, name):
    mutant = next(m for m in MUTANTS if m.name == name)
    ns = namespace(with_cell(solution, mutant.cell, mutant.old, mutant.new))
    with pytest.raises(CheckFailed) as failure:
        check_egnn_layer(ns["EGNNLayer"])
    assert DIAGNOSES[name] in str(failure.value), str(failure.value)


@pytest.mark.parametrize("name", list(STEERABLE_DIAGNOSES))
def test_steerable_check_diagnoses_typical_mistakes(solution, name):
    mutant = next(m for m in MUTANTS if m.name == name)
    ns = namespace(with_cell(solution, mutant.cell, mutant.old, mutant.new))
    with pytest.raises(CheckFailed) as failure:
        check_scalar_vector_layer(ns["ScalarVectorLayer"])
    assert STEERABLE_DIAGNOSES[name] in str(failure.value), str(failure.value)
