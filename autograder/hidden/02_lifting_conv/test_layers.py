"""Assignment 2, correctness: the layers agree with the reference given the
same weights; shapes; pooling; gradients reach every parameter."""

from __future__ import annotations

import pytest
import torch
from a02_common import GROUPS, reference_layer, relative_error, student_layer

from autograder.grading import GradingFailure, as_tensor, graded
from gedl_ref import conv as ref_conv

# float64 convolutions of O(1) data agree to ~1e-15 relative; 1e-9 leaves
# room for a different (but exact) order of summation.
AGREE = 1e-9

CASES = [("C4", 3), ("C8", 5), ("D4", 4)]
IDS = ["C4-k3", "C8-k5", "D4-k4"]


def _input(rng, *shape):
    return torch.randn(*shape, generator=rng, dtype=torch.float64)


@graded(points=6, category="correctness")
@pytest.mark.parametrize("group, k", CASES, ids=IDS)
def test_lifting_matches_reference(student, rng, group, k):
    """LiftingConvolution agrees with the reference given the same weights"""
    ref = reference_layer("lifting", group, 2, 3, k, rng)
    layer = student_layer(student, "lifting", group, ref)
    x = _input(rng, 2, 2, 13, 11)
    err = relative_error(layer(x), ref(x), "LiftingConvolution(x)")
    if not err <= AGREE:
        kernels = relative_error(
            layer.transformed_kernels(),
            ref.transformed_kernels(),
            "transformed_kernels()",
        )
        hint = (
            "the transformed kernels already differ: (L_g w)(x) = w(g⁻¹x), "
            "stacked in the order of group.elements()"
            if kernels > AGREE
            else "the kernels agree, so look at the conv2d call: stacking, padding "
            "k // 2 on every side, bias"
        )
        raise GradingFailure(
            f"{group}, k={k}: LiftingConvolution differs from the "
            f"reference by {err:.3g} (relative); {hint}"
        )


@graded(points=6, category="correctness")
@pytest.mark.parametrize("group, k", CASES, ids=IDS)
def test_group_conv_matches_reference(student, rng, group, k):
    """GroupConvolution agrees with the reference given the same weights"""
    ref = reference_layer("group", group, 2, 3, k, rng)
    layer = student_layer(student, "group", group, ref)
    g = GROUPS[group][1].order
    x = _input(rng, 2, 2, g, 12, 10)
    err = relative_error(layer(x), ref(x), "GroupConvolution(x)")
    if not err <= AGREE:
        kernels = relative_error(
            layer.transformed_kernels(),
            ref.transformed_kernels(),
            "transformed_kernels()",
        )
        hint = (
            "the transformed kernels already differ: w(g⁻¹h, g⁻¹x), the group "
            "axis permuted exactly by the product table"
            if kernels > AGREE
            else "the kernels agree, so look at the conv2d call"
        )
        raise GradingFailure(
            f"{group}, k={k}: GroupConvolution differs from the "
            f"reference by {err:.3g} (relative); {hint}"
        )


@graded(points=2, category="correctness")
@pytest.mark.parametrize(
    "k, size, expected",
    [
        (3, (21, 25), (21, 25)),
        (4, (21, 25), (22, 26)),
        (5, (8, 6), (8, 6)),
    ],
    ids=["k3-21x25", "k4-21x25", "k5-8x6"],
)
def test_output_shapes(student, rng, k, size, expected):
    """outputs have shape [B, C_out, G, H', W'] (H' = H + 1 for even k)"""
    ref = reference_layer("lifting", "C4", 1, 2, k, rng)
    layer = student_layer(student, "lifting", "C4", ref)
    out = layer(_input(rng, 1, 1, *size))
    as_tensor(
        out,
        f"LiftingConvolution, k={k}, input {size[0]}×{size[1]}",
        shape=(1, 2, 4, *expected),
    )


@graded(points=2, category="correctness")
@pytest.mark.parametrize("mode", ["max", "mean"])
def test_group_pooling(student, rng, mode):
    """GroupPooling reduces the group axis by max or mean"""
    x = _input(rng, 2, 3, 8, 5, 4)
    out = student.GroupPooling(mode)(x)
    expected = ref_conv.GroupPooling(mode)(x)
    err = relative_error(out, expected, f"GroupPooling({mode!r})")
    if not err <= 1e-12:
        raise GradingFailure(
            f"GroupPooling({mode!r}) is off by {err:.3g}: reduce "
            "axis 2 (the group axis) of [B, C, G, H, W]"
        )


@graded(points=2, category="correctness")
@pytest.mark.parametrize("kind", ["lifting", "group"])
def test_gradients_reach_every_parameter(student, session, rng, kind):
    """the backward pass reaches the weight and the bias (non-trivial layer)"""
    ref = reference_layer(kind, "C4", 2, 2, 3, rng)
    layer = student_layer(student, kind, "C4", ref)
    shape = (1, 2, 9, 9) if kind == "lifting" else (1, 2, 4, 9, 9)
    x = _input(rng, *shape)
    result = session.backward(layer, (x,))
    for name in ("weight", "bias"):
        grad = result["param_grads"].get(name)
        if grad is None or not torch.isfinite(grad).all() or grad.abs().max() == 0:
            raise GradingFailure(
                f"no gradient reached {name} of your {kind} layer: build the kernels "
                "from self.weight inside forward, with differentiable torch operations"
            )
