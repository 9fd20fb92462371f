"""Assignment 1, correctness: the groups' operations against the reference,
the axioms on batches, angle wrapping and broadcasting."""

from __future__ import annotations

import pytest
import torch
from a01_common import (
    assert_elements_close,
    assert_wrapped,
    build,
    circular_error,
    raw_elements,
)

from autograder.grading import GradingFailure, as_tensor, assert_close, graded

ALL = ["C4", "C5", "C8", "D4", "D6", "SO2", "R2xC4", "R2xD4", "SE2"]
FINITE = ["C4", "C5", "C8", "D4", "D6"]
# float64 results agree to rounding of a few operations on angles up to ~20.
ATOL = 1e-9

SEMIDIRECT_HINT = "the semidirect product is (x, g)(y, h) = (x + g·y, gh)"
INVERSE_HINT = "the inverse of (x, g) is (−g⁻¹·x, g⁻¹), not (−x, g⁻¹)"


def _hint(name: str, op: str) -> str:
    if name.startswith(("R2", "SE")):
        return SEMIDIRECT_HINT if op == "product" else INVERSE_HINT
    if name.startswith("D"):
        return "in D_N, (a, s)(b, t) = (a + (−1)^s b, s xor t)"
    return ""


@graded(points=9, category="correctness")
@pytest.mark.parametrize("name", ALL)
def test_product_matches_reference(student, rng, name):
    """product(g, h) agrees with the reference (float64, unwrapped inputs)"""
    group, ref = build(student, name)
    g, h = raw_elements(ref, (64,), rng), raw_elements(ref, (64,), rng)
    out = group.product(g, h)
    assert_elements_close(
        out, ref.product(g, h), ref, f"{name}.product", ATOL, _hint(name, "product")
    )


@graded(points=9, category="correctness")
@pytest.mark.parametrize("name", ALL)
def test_inverse_matches_reference(student, rng, name):
    """inverse(g) agrees with the reference (float64, unwrapped inputs)"""
    group, ref = build(student, name)
    g = raw_elements(ref, (64,), rng)
    assert_elements_close(
        group.inverse(g),
        ref.inverse(g),
        ref,
        f"{name}.inverse",
        ATOL,
        _hint(name, "inverse"),
    )


@graded(points=6, category="correctness")
@pytest.mark.parametrize("name", ["C4", "D4", "SO2", "R2xC4", "R2xD4", "SE2"])
def test_group_axioms(student, rng, name):
    """associativity, identity and inverse hold on random batches"""
    group, ref = build(student, name)
    g, h, k = (raw_elements(ref, (32,), rng) for _ in range(3))
    e = as_tensor(
        group.identity(dtype=torch.float64), f"{name}.identity", shape=(ref.dimension,)
    )
    e = e.expand_as(g)
    pairs = {
        "(gh)k = g(hk)": (
            group.product(group.product(g, h), k),
            group.product(g, group.product(h, k)),
        ),
        "eg = g": (group.product(e, g), ref.normalize_group_parameterization(g)),
        "ge = g": (group.product(g, e), ref.normalize_group_parameterization(g)),
        "g g⁻¹ = e": (group.product(g, group.inverse(g)), e),
        "g⁻¹ g = e": (group.product(group.inverse(g), g), e),
    }
    for law, (left, right) in pairs.items():
        left = as_tensor(left, f"{name}: {law}", shape=tuple(right.shape))
        err = circular_error(left, right, [2] if name.startswith(("R2", "SE")) else [0])
        if not (err <= ATOL).all():
            raise GradingFailure(
                f"{name}: the axiom {law} fails (error {err.max().item():.3g} for "
                f"element {int(err.amax(-1).argmax())})"
            )


@graded(points=4, category="correctness")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["C8", "SO2", "D4", "SE2"])
def test_angles_wrapped(student, rng, name, dtype):
    """returned angles lie in [0, 2π), also for negative and large inputs"""
    group, ref = build(student, name)
    g = raw_elements(ref, (200,), rng, dtype=dtype, spread=5)
    h = raw_elements(ref, (200,), rng, dtype=dtype, spread=5)
    for op, value in (("product", group.product(g, h)), ("inverse", group.inverse(g))):
        value = as_tensor(value, f"{name}.{op}", shape=tuple(g.shape), dtype=dtype)
        assert_wrapped(value, ref, f"{name}.{op} ({str(dtype)[6:]})")


@graded(points=2, category="correctness")
@pytest.mark.parametrize("name", ["C4", "C5", "C8", "D6"])
def test_cyclic_products_are_elements(student, name):
    """products of elements are exactly (bit for bit) elements again"""
    group, ref = build(student, name)
    elements = as_tensor(
        group.elements(dtype=torch.float32),
        f"{name}.elements",
        shape=(ref.order, ref.dimension),
    )
    expected = ref.elements(dtype=torch.float32)
    assert_elements_close(elements, expected, ref, f"{name}.elements", 1e-6)
    n = ref.order
    left = elements.repeat_interleave(n, 0)
    right = elements.repeat(n, 1)
    out = as_tensor(
        group.product(left, right), f"{name}.product", shape=(n * n, ref.dimension)
    )
    member = (out[:, None, :] == elements[None, :, :]).all(-1).any(-1)
    if not member.all():
        i = int((~member).nonzero()[0])
        raise GradingFailure(
            f"{name}.product({left[i].tolist()}, {right[i].tolist()}) = "
            f"{out[i].tolist()} is not exactly one of elements(): snap the angle to "
            "k·(2π/N) with k = round(θN/2π) mod N, computed as elements() does"
        )


@graded(points=2, category="correctness")
@pytest.mark.parametrize("name", ["C4", "SO2", "D4", "SE2"])
def test_broadcasting(student, rng, name):
    """batch axes broadcast: [5, 1, D] with [1, 7, D] gives [5, 7, D]"""
    group, ref = build(student, name)
    g, h = raw_elements(ref, (5, 1), rng), raw_elements(ref, (1, 7), rng)
    assert_elements_close(
        group.product(g, h),
        ref.product(g, h),
        ref,
        f"{name}.product of [5, 1, D] and [1, 7, D]",
        ATOL,
    )
    x = torch.randn(3, 1, 1, 2, generator=rng, dtype=torch.float64)
    out = group.left_action_on_R2(g[None], x)
    expected = ref.left_action_on_R2(g[None], x)
    assert_close(
        out,
        expected,
        f"{name}.left_action_on_R2 of [1, 5, 1, D] and [3, 1, 1, 2]",
        atol=ATOL,
    )


@graded(points=6, category="correctness")
@pytest.mark.parametrize("name", ["C4", "D4", "SO2", "R2xC4", "R2xD4", "SE2"])
def test_action_and_matrix_match_reference(student, rng, name):
    """left_action_on_R2 and matrix_representation agree with the reference"""
    group, ref = build(student, name)
    g = raw_elements(ref, (40,), rng)
    x = 10 * torch.randn(40, 2, generator=rng, dtype=torch.float64)
    out = as_tensor(
        group.left_action_on_R2(g, x), f"{name}.left_action_on_R2", shape=(40, 2)
    )
    err = (out - ref.left_action_on_R2(g, x)).abs().max().item()
    if not err <= 1e-8:
        raise GradingFailure(
            f"{name}.left_action_on_R2 is off by {err:.3g}: positive angles rotate "
            "counter-clockwise, (x, y) ↦ (x cos θ − y sin θ, x sin θ + y cos θ)"
        )
    size = 3 if name.startswith(("R2", "SE")) else 2
    matrix = as_tensor(
        group.matrix_representation(g),
        f"{name}.matrix_representation",
        shape=(40, size, size),
    )
    err = (matrix - ref.matrix_representation(g)).abs().max().item()
    if not err <= 1e-9:
        raise GradingFailure(f"{name}.matrix_representation is off by {err:.3g}")


@graded(points=1, category="correctness")
def test_identity_and_elements_exist(student):
    """identity() and elements() have the documented shapes and values"""
    for name in ("C4", "D6"):
        group, ref = build(student, name)
        e = as_tensor(
            group.identity(dtype=torch.float64),
            f"{name}.identity",
            shape=(ref.dimension,),
        )
        if not torch.equal(e, ref.identity(dtype=torch.float64)):
            raise GradingFailure(f"{name}.identity() is {e.tolist()}")
        got = as_tensor(
            group.elements(dtype=torch.float64),
            f"{name}.elements",
            shape=(ref.order, ref.dimension),
        )
        err = (got - ref.elements(dtype=torch.float64)).abs().max().item()
        if not err <= 1e-12:
            raise GradingFailure(
                f"{name}.elements() differs from k·2π/N in order (k first, then the "
                f"reflection flag) by {err:.3g}"
            )
