"""Assignment 1, equivariance: representations are homomorphisms, and the
left-regular representation acts exactly on pixel grids."""

from __future__ import annotations

import math

import pytest
import torch
from a01_common import build, raw_elements

from autograder.grading import GradingFailure, as_tensor, assert_close, graded
from gedl_checks.equivariance import check_equivariance


def _image(rng, *shape):
    return torch.randn(*shape, generator=rng, dtype=torch.float64)


@graded(points=6, category="equivariance")
@pytest.mark.parametrize("name", ["C4", "C5", "D4", "SO2", "R2xC4", "SE2"])
def test_matrix_representation_is_homomorphism(student, rng, name):
    """M(gh) = M(g) M(h), and M(g) applied to x is g·x"""
    group, ref = build(student, name)
    g, h = raw_elements(ref, (40,), rng), raw_elements(ref, (40,), rng)
    size = 3 if name.startswith(("R2", "SE")) else 2
    shape = (40, size, size)
    m_gh = as_tensor(
        group.matrix_representation(group.product(g, h)), f"{name}: M(gh)", shape=shape
    )
    m_g = as_tensor(group.matrix_representation(g), f"{name}: M(g)", shape=shape)
    m_h = as_tensor(group.matrix_representation(h), f"{name}: M(h)", shape=shape)
    assert_close(
        m_gh,
        m_g @ m_h,
        f"{name}: M(gh) against M(g) M(h)",
        atol=1e-9,
        hint="a representation must be a homomorphism",
    )
    x = 5 * torch.randn(40, 2, generator=rng, dtype=torch.float64)
    moved = as_tensor(
        group.left_action_on_R2(g, x), f"{name}.left_action_on_R2", shape=(40, 2)
    )
    if size == 3:
        x = torch.cat([x, torch.ones(40, 1, dtype=x.dtype)], -1)
    via_matrix = (m_g @ x[..., None])[..., :2, 0]
    assert_close(
        moved,
        via_matrix,
        f"{name}: g·x against M(g) x",
        atol=1e-9,
        hint="the action and the matrix representation must agree",
    )


@graded(points=4, category="equivariance")
@pytest.mark.parametrize(
    "size", [(9, 9), (10, 10), (21, 25), (8, 12)], ids=["9x9", "10x10", "21x25", "8x12"]
)
def test_regular_representation_rot90_exact(student, rng, feedback, size):
    """L_g for the C4 rotations is an exact pixel permutation (rot90)"""
    group, ref = build(student, "C4")
    f = _image(rng, 3, *size)
    elements = ref.elements(dtype=torch.float64)
    out = as_tensor(
        group.left_regular_representation(elements[:, None], f),
        "C4.left_regular_representation",
        shape=(4, 3, *size),
    )
    expected = ref.left_regular_representation(elements[:, None], f)
    errors = [(out[k] - expected[k]).abs().max().item() for k in range(4)]
    feedback.add_equivariance(f"L_g f on {size[0]}×{size[1]}", _Errors(errors, 0.0))
    if size[0] == size[1]:
        rotated = torch.rot90(f, 1, (-2, -1))
        if not torch.equal(out[1], rotated):
            raise GradingFailure(
                "L_g for g = 90° is not exactly torch.rot90(f, 1, dims=(-2, -1)) on a "
                f"{size[0]}×{size[1]} image: (L_g f)(x) = f(g⁻¹x) (mind the inverse) "
                "and the pixel grid must be centred"
            )
    bad = [k for k, e in enumerate(errors) if e != 0.0]
    if bad:
        raise GradingFailure(
            f"L_g on a {size[0]}×{size[1]} image differs from the exact permutation "
            f"for rotation(s) {[90 * k for k in bad]}° (largest error "
            f"{max(errors):.3g}): use g⁻¹ and the centred pixel grid"
        )


@graded(points=3, category="equivariance")
@pytest.mark.parametrize("name", ["D4", "R2xD4"])
def test_regular_representation_reflection_exact(student, rng, name):
    """L_g for reflections is an exact flip of the image"""
    group, ref = build(student, name)
    f = _image(rng, 2, 11, 11)
    elements = ref.elements(dtype=torch.float64) if name == "D4" else None
    if elements is None:
        d4 = ref.rotations.elements(dtype=torch.float64)
        elements = torch.cat([torch.zeros(8, 2, dtype=torch.float64), d4], -1)
    out = as_tensor(
        group.left_regular_representation(elements[:, None], f),
        f"{name}.left_regular_representation",
        shape=(8, 2, 11, 11),
    )
    if not torch.equal(out[4], torch.flip(f, (-2,))):
        raise GradingFailure(
            f"{name}: L_m for the reflection m: (x, y) ↦ (x, −y) is not exactly the "
            "vertical flip of the image (torch.flip(f, dims=(-2,)))"
        )
    expected = ref.left_regular_representation(elements[:, None], f)
    if not torch.equal(out, expected):
        k = int(((out - expected).abs().amax((1, 2, 3)) > 0).nonzero()[0])
        raise GradingFailure(
            f"{name}: L_g is not exact for element {elements[k].tolist()}"
        )


@graded(points=3, category="equivariance")
@pytest.mark.parametrize("shift", [(3, -2), (-5, 0)], ids=["3,-2", "-5,0"])
def test_regular_representation_translation_exact(student, rng, shift):
    """L_g for an integer translation shifts the image exactly (zeros enter)"""
    group, ref = build(student, "R2xC4")
    f = _image(rng, 12, 15)
    g = torch.tensor([shift[0], shift[1], 0.0], dtype=torch.float64)
    out = as_tensor(
        group.left_regular_representation(g, f),
        "R2xC4.left_regular_representation",
        shape=(12, 15),
    )
    expected = torch.zeros_like(f)
    dx, dy = shift  # x right, y up: rows move by -dy
    src = f[max(0, dy) : 12 + min(0, dy), max(0, -dx) : 15 + min(0, -dx)]
    expected[max(0, -dy) : 12 + min(0, -dy), max(0, dx) : 15 + min(0, dx)] = src
    if not torch.equal(out, expected):
        raise GradingFailure(
            f"translating by (tx, ty) = {shift} must move the image {dx} pixel(s) "
            "right "
            f"and {dy} up exactly, with zeros where nothing comes in; largest error "
            f"{(out - expected).abs().max().item():.3g}"
        )


@graded(points=4, category="equivariance")
@pytest.mark.parametrize("name", ["C4", "D4"])
def test_regular_representation_homomorphism(student, rng, feedback, name):
    """L_g L_h f = L_{gh} f exactly, for every pair of elements"""
    group, ref = build(student, name)
    f = _image(rng, 13, 13)
    elements = ref.elements(dtype=torch.float64)
    n = ref.order
    g, h = elements.repeat_interleave(n, 0), elements.repeat(n, 1)
    gh = ref.product(g, h)
    l_h = as_tensor(
        group.left_regular_representation(h, f), f"{name}: L_h f", shape=(n * n, 13, 13)
    )
    l_g_l_h = group.left_regular_representation(g, l_h)
    l_gh = as_tensor(
        group.left_regular_representation(gh, f),
        f"{name}: L_gh f",
        shape=(n * n, 13, 13),
    )
    l_g_l_h = as_tensor(l_g_l_h, f"{name}: L_g L_h f", shape=(n * n, 13, 13))
    errors = (l_g_l_h - l_gh).abs().amax((1, 2))
    feedback.add_equivariance(
        f"{name}: L_g L_h f − L_gh f", _Errors(errors.tolist(), 0.0)
    )
    if (errors > 0).any():
        k = int((errors > 0).nonzero()[0])
        raise GradingFailure(
            f"{name}: L_g L_h f differs from L_gh f for g = {g[k].tolist()}, h = "
            f"{h[k].tolist()} (error {errors[k].item():.3g}): (L_g f)(x) = f(g⁻¹x)"
        )


@graded(points=3, category="equivariance")
def test_regular_representation_commutes_in_c4(student, rng, feedback):
    """L_h is C4-equivariant (C4 is abelian): L_h L_g f = L_g L_h f, exactly"""
    group, ref = build(student, "C4")
    f = _image(rng, 15, 15)
    elements = ref.elements(dtype=torch.float64)
    h = elements[1]

    def apply_h(signal):
        return as_tensor(
            group.left_regular_representation(h, signal),
            "C4: L_h f",
            shape=tuple(signal.shape),
        )

    def act(g, signal):
        return torch.rot90(signal, round(g.item() / (math.pi / 2)), (-2, -1))

    report = check_equivariance(
        apply_h,
        list(elements),
        act,
        act,
        f,
        tolerance=1e-12,
        x_other=_image(rng, 15, 15),
        labels=[f"{90 * k}°" for k in range(4)],
    )
    feedback.add_equivariance("L_h under rotations", report)
    if not report.ok:
        raise GradingFailure(report.message("C4.left_regular_representation"))


@graded(points=2, category="equivariance")
def test_regular_representation_interpolates_se2(student, rng):
    """L_g for continuous SE(2) elements agrees with the reference's bilinear
    sampling (same helper, so up to rounding)"""
    group, ref = build(student, "SE2")
    f = _image(rng, 4, 17, 17)
    g = ref.sample((4,), generator=rng, dtype=torch.float64, translation_range=3.0)
    out = group.left_regular_representation(g, f)
    assert_close(
        out,
        ref.left_regular_representation(g, f),
        "SE2.left_regular_representation",
        atol=1e-9,
        hint="compute g⁻¹·p for every pixel p with your inverse and "
        "left_action_on_R2, then read f there with sample_signal",
    )


class _Errors:
    """Adapter: a list of errors shown like an equivariance report."""

    def __init__(self, errors, tolerance):
        self.errors = list(errors)
        self.labels = [f"#{i}" for i in range(len(self.errors))]
        self.tolerance = tolerance
