"""Assignment 2, equivariance: exact for 90° rotations, reflections and
translations; approximate, with a stated tolerance, for 45° in C8."""

from __future__ import annotations

import math

import pytest
import torch
from a02_common import (
    GROUPS,
    elements,
    exact_elements,
    on_group_maps,
    reference_layer,
    spatial,
    student_layer,
)

from autograder.grading import GradingFailure, as_tensor, graded
from gedl_checks.equivariance import check_equivariance

# float64, exact pixel permutations: only the order of summation changes.
EXACT = 1e-10


def _labels(group, indices):
    out = []
    for a in indices:
        theta, *flag = elements(group)[a].tolist()
        out.append(
            f"{round(math.degrees(theta))}°" + ("·m" if flag and flag[0] else "")
        )
    return out


def _check(student_fn, group_name, kind, x, feedback, title):
    group = GROUPS[group_name][1]
    indices = exact_elements(group)

    def act_in(a, f):
        return spatial(group, a, f) if kind == "lifting" else on_group_maps(group, a, f)

    def act_out(a, y):
        return on_group_maps(group, a, y)

    report = check_equivariance(
        student_fn,
        indices,
        act_in,
        act_out,
        x,
        tolerance=EXACT,
        x_other=torch.randn_like(x),
        labels=_labels(group, indices),
    )
    feedback.add_equivariance(title, report)
    if not report.ok:
        raise GradingFailure(
            report.message(title) + " Hint: the group axis must be "
            "permuted exactly (rolled for C_N), never interpolated; "
            "transform kernels by g⁻¹; pad k // 2 on every side."
        )


def _fn(layer, what):
    def apply(x):
        return as_tensor(layer(x), what)

    return apply


@graded(points=8, category="equivariance")
@pytest.mark.parametrize(
    "group, k, size",
    [
        ("C4", 3, (21, 25)),
        ("C4", 4, (21, 25)),
        ("C8", 5, (15, 15)),
        ("C8", 4, (16, 12)),
    ],
    ids=["C4-k3-21x25", "C4-k4-21x25", "C8-k5-15x15", "C8-k4-16x12"],
)
def test_lifting_rot90_exact(student, rng, feedback, group, k, size):
    """lifting(rot90 f) = rot90 of lifting(f) with the group axis rolled"""
    ref = reference_layer("lifting", group, 2, 3, k, rng)
    layer = student_layer(student, "lifting", group, ref)
    x = torch.randn(1, 2, *size, generator=rng, dtype=torch.float64)
    _check(
        _fn(layer, "LiftingConvolution"),
        group,
        "lifting",
        x,
        feedback,
        f"lifting, {group}, k={k}, {size[0]}×{size[1]}",
    )


@graded(points=8, category="equivariance")
@pytest.mark.parametrize(
    "group, k, size",
    [
        ("C4", 3, (13, 17)),
        ("C4", 4, (12, 12)),
        ("C8", 3, (11, 11)),
        ("C8", 4, (10, 14)),
    ],
    ids=["C4-k3-13x17", "C4-k4-12x12", "C8-k3-11x11", "C8-k4-10x14"],
)
def test_group_conv_rot90_exact(student, rng, feedback, group, k, size):
    """group conv of a rotated feature map is the rotated, rolled output"""
    ref = reference_layer("group", group, 2, 2, k, rng)
    layer = student_layer(student, "group", group, ref)
    g = GROUPS[group][1].order
    x = torch.randn(1, 2, g, *size, generator=rng, dtype=torch.float64)
    _check(
        _fn(layer, "GroupConvolution"),
        group,
        "group",
        x,
        feedback,
        f"group conv, {group}, k={k}, {size[0]}×{size[1]}",
    )


@graded(points=6, category="equivariance")
@pytest.mark.parametrize("kind", ["lifting", "group"])
def test_dihedral_reflections_exact(student, rng, feedback, kind):
    """D4: reflections and rotations of the input permute the group axis"""
    ref = reference_layer(kind, "D4", 2, 2, 3, rng)
    layer = student_layer(student, kind, "D4", ref)
    shape = (1, 2, 11, 11) if kind == "lifting" else (1, 2, 8, 11, 11)
    x = torch.randn(*shape, generator=rng, dtype=torch.float64)
    _check(_fn(layer, f"{kind} layer"), "D4", kind, x, feedback, f"{kind}, D4")


@graded(points=3, category="equivariance")
@pytest.mark.parametrize("kind", ["lifting", "group"])
def test_translations_exact(student, rng, kind):
    """shifting the input by whole pixels shifts the output (away from borders)"""
    ref = reference_layer(kind, "C4", 1, 2, 3, rng)
    layer = student_layer(student, kind, "C4", ref)
    lead = (1, 1) if kind == "lifting" else (1, 1, 4)
    x = torch.zeros(*lead, 24, 24, dtype=torch.float64)
    x[..., 6:14, 5:13] = torch.randn(*lead, 8, 8, generator=rng, dtype=torch.float64)
    shifted = torch.roll(x, shifts=(3, -2), dims=(-2, -1))
    out = as_tensor(layer(x), f"{kind} layer").double()
    out_shifted = as_tensor(layer(shifted), f"{kind} layer").double()
    _not_trivial(out, f"{kind} layer")
    expected = torch.roll(out, shifts=(3, -2), dims=(-2, -1))
    err = (out_shifted - expected)[..., 4:20, 4:20].abs().max().item()
    if not err <= EXACT * max(1.0, out.abs().max().item()):
        raise GradingFailure(
            f"{kind}: translating the input by (3, −2) pixels does "
            f"not translate the output (error {err:.3g}); stride 1, "
            "zero padding, no position-dependent terms"
        )


@graded(points=3, category="equivariance")
def test_c8_45_degrees_approximately(student, rng, feedback):
    """C8 lifting, 45° rotation of a smooth disk: approximately equivariant"""
    ref = reference_layer("lifting", "C8", 1, 2, 5, rng)
    grid = torch.linspace(-2, 2, 5, dtype=torch.float64)
    smooth = torch.exp(-(grid[:, None] ** 2 + grid[None, :] ** 2) / 2)
    with torch.no_grad():  # smooth kernels: interpolation error is small
        ref.weight.copy_(smooth * (1 + 0.3 * ref.weight))
    layer = student_layer(student, "lifting", "C8", ref)
    size = 33
    c = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    r2 = c[:, None] ** 2 + c[None, :] ** 2
    bumps = torch.exp(-((c[:, None] - 4) ** 2 + (c[None, :] + 2) ** 2) / 18)
    f = (bumps + 0.5 * torch.exp(-r2 / 60)) * (r2 <= 12**2)  # smooth, in a disk
    g = elements(GROUPS["C8"][1])[1:2]  # 45°
    f_rot = GROUPS["C8"][1].left_regular_representation(g, f)[0]
    shape = (1, 2, 8, size, size)
    out = as_tensor(layer(f[None, None]), "LiftingConvolution", shape=shape).double()
    out_rot = as_tensor(layer(f_rot[None, None]), "LiftingConvolution", shape=shape)
    out_rot = out_rot.double()
    expected = GROUPS["C8"][1].left_regular_representation(
        g, torch.roll(out, 1, dims=2)
    )
    disk = r2 <= 9**2
    err = ((out_rot - expected)[..., disk].norm() / expected[..., disk].norm()).item()
    # The reference itself is off by ~0.005 here (bilinear kernels and
    # images); a wrong direction or an unrolled group axis gives ~1.
    tolerance = 0.05
    feedback.add_equivariance("C8, 45°", _Single("45°", err, tolerance))
    if not err <= tolerance:
        raise GradingFailure(
            f"C8 lifting is not approximately equivariant to 45° "
            f"rotations: relative error {err:.3g} > {tolerance}"
        )


@graded(points=2, category="equivariance")
def test_pooled_features_invariant(student, rng):
    """group pooling after lifting gives rotation-invariant features (C4)"""
    ref = reference_layer("lifting", "C4", 1, 2, 3, rng)
    layer = student_layer(student, "lifting", "C4", ref)
    pool = student.GroupPooling("max")
    x = torch.randn(1, 1, 15, 15, generator=rng, dtype=torch.float64)
    a = as_tensor(pool(layer(x)), "GroupPooling(lifting(x))").double()
    b = as_tensor(pool(layer(torch.rot90(x, 1, (-2, -1)))), "pooled").double()
    _not_trivial(a, "GroupPooling(lifting(x))")
    err = (b - torch.rot90(a, 1, (-2, -1))).abs().max().item()
    if not err <= EXACT * max(1.0, a.abs().max().item()):
        raise GradingFailure(
            f"pooling over the group axis after lifting is not "
            f"invariant to rot90 (error {err:.3g})"
        )


def _not_trivial(out: torch.Tensor, what: str) -> None:
    """A constant output is trivially equivariant: ask for a real response.

    Inputs and weights are O(1) random, so a working layer's output is O(1)
    and varies; 1e-6 is far below that and far above float64 rounding.
    """
    spread = (out - out.mean(dim=(-2, -1), keepdim=True)).abs().max().item()
    if not spread > 1e-6:
        raise GradingFailure(
            f"{what} is constant over the image (largest deviation from its "
            f"mean {spread:.3g}): a layer that ignores its input is trivially "
            "equivariant"
        )


class _Single:
    def __init__(self, label, error, tolerance):
        self.labels, self.errors, self.tolerance = [label], [error], tolerance
