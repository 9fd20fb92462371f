"""Assignment 5, equivariance: E(3) (Haar-random rotations, reflections,
translations) and permutations of the nodes and edges, for the layer and the
model. h' must be invariant, x' must move with the points."""

from __future__ import annotations

import pytest
import torch
from a05_common import (
    F64,
    OPTIONS,
    args,
    graph,
    pair,
    reference_layer,
    reference_model,
    student_layer,
    student_model,
)

from autograder.grading import GradingFailure, graded
from gedl_checks.equivariance import check_equivariance

# float64: the two sides differ by rounding of matrix products and sums
# (~1e-15 relative), grown through at most three layers.
EXACT = 1e-9
# float32: rounding ~1e-7 relative of inputs shifted by |t| ~ 5, grown
# through three layers; measured ~1e-6, bound 1e-4.
FLOAT32 = 1e-4


def _elements(rng, dtype) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """Haar-random rotations and reflections (QR with Mezzadri's sign fix),
    a translation, and a rotation with a translation."""
    out = []
    for k in range(5):
        q, r = torch.linalg.qr(torch.randn(3, 3, generator=rng, dtype=F64))
        q = q * torch.sign(torch.diagonal(r))
        if (torch.linalg.det(q) > 0) != (k < 3):
            q = -q
        out.append((("rotation" if k < 3 else "reflection") + f" {k}", q, None))
    t = torch.randn(3, generator=rng, dtype=F64) * 5
    out.append(("translation", torch.eye(3, dtype=F64), t))
    out.append(("rotation + translation", out[0][1], t))
    return [
        (name, q.to(dtype), (0 * q[0] if t is None else t).to(dtype))
        for name, q, t in out
    ]


def _check_e3(fn, g, rng, dtype, tolerance, feedback, title):
    elements = _elements(rng, dtype)

    def act_in(e, inputs):
        _, q, t = e
        return {**inputs, "x": inputs["x"] @ q.T + t, "v": inputs["v"] @ q.T}

    def act_out(e, out):
        _, q, t = e
        return out[0], out[1] @ q.T + t

    other = {**g, "h": torch.randn(g["h"].shape, generator=rng, dtype=F64).to(dtype)}
    report = check_equivariance(
        fn,
        elements,
        act_in,
        act_out,
        g,
        tolerance=tolerance,
        x_other=other,
        labels=[e[0] for e in elements],
    )
    feedback.add_equivariance(title, report)
    if report.ok:
        return
    bad = {report.labels[i] for i in report.failures}
    if bad and all("translation" in b for b in bad):
        hint = "only translations fail: update with x_i − x_j and add the result to x_i"
    elif "translation" not in bad:
        hint = (
            "rotations or reflections fail: messages may see positions only "
            "through |x_i − x_j|² (squared, summed over the last axis), and "
            "x_new may add only scalars times x_i − x_j (or v_i)"
        )
    else:
        hint = "h_new must be invariant and x_new must move with the points"
    raise GradingFailure(report.message(title) + " Hint: " + hint)


def _fn(module, options, what, n, c):
    def apply(inputs):
        return pair(module(*args(inputs, options)), what, n, c)

    return apply


@graded(points=8, category="equivariance")
@pytest.mark.parametrize("name", ["plain", "attention", "normalize", "velocity"])
def test_layer_e3_equivariant(student, rng, feedback, name):
    """EGNNLayer: h' invariant and x' equivariant under E(3), float64"""
    options = OPTIONS[name]
    layer = student_layer(student, options, reference_layer(options, rng))
    fn = _fn(layer, options, f"EGNNLayer ({name})", 40, 8)
    _check_e3(fn, graph(rng), rng, F64, EXACT, feedback, f"EGNNLayer ({name}), E(3)")


@graded(points=4, category="equivariance")
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_model_e3_equivariant(student, rng, feedback, dtype):
    """EGNN: invariant features and equivariant positions (float64 tight,
    float32 within 1e-4)"""
    options = OPTIONS["velocity"]
    model = student_model(student, options, reference_model(options, rng), dtype)
    fn = _fn(model, options, "EGNN", 40, 3)
    tol = EXACT if dtype == torch.float64 else FLOAT32
    g = graph(rng, dtype=dtype)
    _check_e3(fn, g, rng, dtype, tol, feedback, f"EGNN ({dtype}), E(3)")


@graded(points=6, category="equivariance")
@pytest.mark.parametrize("kind", ["layer", "model"])
def test_permutation_equivariant(student, rng, kind):
    """renumbering nodes and reordering edges permutes the output the same way"""
    options = OPTIONS["all"] if kind == "layer" else OPTIONS["velocity"]
    if kind == "layer":
        module = student_layer(student, options, reference_layer(options, rng))
        c = 8
    else:
        module = student_model(student, options, reference_model(options, rng))
        c = 3
    g = graph(rng)
    n, e = 40, g["edge_index"].shape[1]
    perm = torch.randperm(n, generator=rng)  # new node k is old node perm[k]
    inverse = torch.argsort(perm)
    order = torch.randperm(e, generator=rng)
    moved = {
        "h": g["h"][perm],
        "x": g["x"][perm],
        "v": g["v"][perm],
        "edge_index": inverse[g["edge_index"]][:, order],
        "edge_attr": g["edge_attr"][order],
    }
    h1, x1 = pair(module(*args(g, options)), kind, n, c)
    h2, x2 = pair(module(*args(moved, options)), kind, n, c)
    # Permute back and compare; only the order of scatter sums differs.
    err = max(
        float((h2[inverse] - h1).abs().max() / h1.abs().max().clamp_min(1e-30)),
        float((x2[inverse] - x1).abs().max() / x1.abs().max().clamp_min(1e-30)),
    )
    if not err <= EXACT:
        raise GradingFailure(
            f"{kind}: renumbering the nodes and reordering the edges changed the "
            f"output by {err:.3g} (relative) after numbering it back. Aggregate "
            "with a scatter over edge_index[1], never by position in the edge list"
        )
