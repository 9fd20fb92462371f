"""Assignment 5, the steerable layer on scalars and vectors (l <= 1):
agreement with the reference given the same weights, O(3) and translation
equivariance, permutations."""

from __future__ import annotations

import pytest
import torch
from a05_common import F64, graph, randomise, relative_error, state_of

from autograder.grading import GradingFailure, as_tensor, graded
from gedl_checks.equivariance import check_equivariance
from gedl_ref.steerable_mp import ScalarVectorLayer

# float64, same operations up to the order of sums: ~1e-15 relative.
AGREE = 1e-9
EXACT = 1e-9
C = 6


def _layer(student, rng):
    ref = randomise(ScalarVectorLayer(C, avg_num_neighbors=4.0).double(), rng)
    layer = student.ScalarVectorLayer(C, avg_num_neighbors=4.0).double()
    try:
        layer.load_state_dict(state_of(ref))
    except Exception as error:
        raise GradingFailure(
            f"ScalarVectorLayer: could not load the reference's weights ({error}); "
            "keep __init__ as given (radial, mix_scalars, mix_vectors)"
        ) from None
    return ref, layer


def _inputs(rng) -> dict:
    g = graph(rng, c=C)
    return {
        "s": g["h"],
        "V": torch.randn(40, C, 3, generator=rng, dtype=F64),
        "x": g["x"] * 1.5,
        "edge_index": g["edge_index"],
    }


def _call(layer, g):
    out = layer(g["s"], g["V"], g["x"], g["edge_index"])
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise GradingFailure("ScalarVectorLayer must return a pair (s_new, V_new)")
    s = as_tensor(out[0], "ScalarVectorLayer: s_new", shape=(40, C))
    V = as_tensor(out[1], "ScalarVectorLayer: V_new", shape=(40, C, 3))
    if not (torch.isfinite(s).all() and torch.isfinite(V).all()):
        raise GradingFailure("ScalarVectorLayer returned NaN or inf")
    return s, V


@graded(points=6, category="correctness")
def test_scalar_vector_layer_matches_reference(student, rng):
    """ScalarVectorLayer agrees with the reference given the same weights"""
    ref, layer = _layer(student, rng)
    g = _inputs(rng)
    got = _call(layer, g)
    with torch.no_grad():
        want = ref(g["s"], g["V"], g["x"], g["edge_index"])
    for name, a, b, hint in (
        ("s_new", got[0], want[0], "the 0e⊗0e and 1o⊗1o paths, silu(t)"),
        ("V_new", got[1], want[1], "the 0e⊗1o and 1o⊗0e paths, σ(g) · mix_vectors(W)"),
    ):
        err = relative_error(a, b)
        if not err <= AGREE:
            raise GradingFailure(
                f"ScalarVectorLayer: {name} differs from the reference by {err:.3g} "
                f"(relative). Check {hint}, the unit direction u = (x_i − x_j)/"
                "|x_i − x_j|, the target i = edge_index[1], and the division by "
                "sqrt(avg_num_neighbors)"
            )


@graded(points=6, category="equivariance")
@pytest.mark.parametrize("kind", ["rotations", "reflections"])
def test_scalar_vector_layer_e3(student, rng, feedback, kind):
    """scalars invariant, vectors rotated, under O(3) and translations"""
    _, layer = _layer(student, rng)
    g = _inputs(rng)
    elements = []
    for k in range(3):
        q, r = torch.linalg.qr(torch.randn(3, 3, generator=rng, dtype=F64))
        q = q * torch.sign(torch.diagonal(r))
        if (torch.linalg.det(q) > 0) != (kind == "rotations"):
            q = -q
        t = torch.randn(3, generator=rng, dtype=F64) * (5 if k == 2 else 0)
        elements.append(
            (f"{kind[:-1]} {k}" + (" + translation" if k == 2 else ""), q, t)
        )

    def act_in(e, inputs):
        _, q, t = e
        return {**inputs, "x": inputs["x"] @ q.T + t, "V": inputs["V"] @ q.T}

    def act_out(e, out):
        return out[0], out[1] @ e[1].T

    report = check_equivariance(
        lambda inputs: _call(layer, inputs),
        elements,
        act_in,
        act_out,
        g,
        tolerance=EXACT,
        x_other={**g, "s": torch.randn(g["s"].shape, generator=rng, dtype=F64)},
        labels=[e[0] for e in elements],
    )
    feedback.add_equivariance(f"ScalarVectorLayer, {kind}", report)
    if not report.ok:
        raise GradingFailure(
            report.message(f"ScalarVectorLayer, {kind}")
            + " Hint: the direction may enter scalars only through V_j · u, and "
            "vectors only as scalars times u or V_j (no cross product: it is a "
            "pseudovector and fails reflections)"
        )


@graded(points=3, category="equivariance")
def test_scalar_vector_layer_permutation(student, rng):
    """renumbering nodes and reordering edges permutes the output the same way"""
    _, layer = _layer(student, rng)
    g = _inputs(rng)
    perm = torch.randperm(40, generator=rng)
    inverse = torch.argsort(perm)
    order = torch.randperm(g["edge_index"].shape[1], generator=rng)
    moved = {
        "s": g["s"][perm],
        "V": g["V"][perm],
        "x": g["x"][perm],
        "edge_index": inverse[g["edge_index"]][:, order],
    }
    s1, V1 = _call(layer, g)
    s2, V2 = _call(layer, moved)
    err = max(relative_error(s2[inverse], s1), relative_error(V2[inverse], V1))
    if not err <= EXACT:
        raise GradingFailure(
            f"ScalarVectorLayer: renumbering nodes and edges changed the output by "
            f"{err:.3g} (relative) after numbering it back: aggregate with "
            "scatter_sum over edge_index[1]"
        )
