"""Assignment 3, correctness: the irreps of SO(2) and C_N, and the Fourier
transform on C_N (round trip, Plancherel, block-diagonalisation of the
regular representation, agreement with the reference)."""

from __future__ import annotations

import pytest
import torch
from a03_common import NAMES, angles, frequencies, relative_error

from autograder.grading import GradingFailure, graded
from gedl_ref import steerable_irreps as ref

# float64 evaluations of cos and sin (and sums of N of them, N <= 8) agree to
# ~1e-15; 1e-10 leaves room for any exact formula.
TIGHT = 1e-10


@graded(points=6, category="correctness")
@pytest.mark.parametrize("group_order", [None, 5, 8], ids=["SO2", "C5", "C8"])
def test_irreps_match_reference(student, rng, group_order):
    """irrep(k, θ) is ψ_k(θ): (1), (cos kθ) for k = N/2, else R(kθ)"""
    theta = torch.randn(3, 4, generator=rng, dtype=torch.float64) * 4
    for k in frequencies(group_order, 4):
        expected = ref.irrep(k, theta, group_order)
        got = student.irrep(k, theta, group_order)
        err = relative_error(got, expected, f"irrep({k}, theta [3, 4], {group_order})")
        if not err <= TIGHT:
            hint = "the rotation is transposed (clockwise)"
            if k and relative_error(got, expected.transpose(-1, -2), "") > TIGHT:
                hint = "ψ_k(θ) = [[cos kθ, −sin kθ], [sin kθ, cos kθ]]"
            raise GradingFailure(
                f"irrep({k}, ·) of {NAMES[group_order]} is off by {err:.3g}: {hint}"
            )


@graded(points=3, category="correctness")
@pytest.mark.parametrize("group_order", [None, 6], ids=["SO2", "C6"])
def test_irreps_are_homomorphisms(student, rng, group_order):
    """ψ_k(a + b) = ψ_k(a) ψ_k(b) for random elements"""
    a, b = angles(group_order, rng), angles(group_order, rng).roll(1)
    for k in frequencies(group_order):
        product = student.irrep(k, a, group_order) @ student.irrep(k, b, group_order)
        err = relative_error(student.irrep(k, a + b, group_order), product, "irrep")
        if not err <= TIGHT:
            raise GradingFailure(
                f"ψ_{k}(a + b) ≠ ψ_{k}(a) ψ_{k}(b) for {NAMES[group_order]} "
                f"(error {err:.3g})"
            )


ORDERS = [1, 2, 4, 5, 8]


@graded(points=4, category="correctness")
@pytest.mark.parametrize("group_order", ORDERS, ids=[f"C{n}" for n in ORDERS])
def test_fourier_round_trip(student, rng, group_order):
    """inverse_fourier_transform(fourier_transform(f)) = f, and the other way"""
    f = torch.randn(3, 2, group_order, generator=rng, dtype=torch.float64)
    there = student.fourier_transform(f, group_order)
    back = student.inverse_fourier_transform(there, group_order)
    err = relative_error(back, f, "inverse_fourier_transform(fourier_transform(f))")
    again = student.fourier_transform(
        student.inverse_fourier_transform(f, group_order), group_order
    )
    err = max(err, relative_error(again, f, "fourier(inverse(f̂))"))
    if not err <= TIGHT:
        raise GradingFailure(
            f"C{group_order}: the round trip through the Fourier transform is off "
            f"by {err:.3g}; the inverse of an orthogonal matrix is its transpose"
        )


@graded(points=4, category="correctness")
@pytest.mark.parametrize("group_order", ORDERS, ids=[f"C{n}" for n in ORDERS])
def test_fourier_plancherel(student, rng, group_order):
    """||F f|| = ||f|| (orthonormal transform)"""
    f = torch.randn(6, group_order, generator=rng, dtype=torch.float64)
    got = student.fourier_transform(f, group_order)
    relative_error(got, f, "fourier_transform(f)")  # shape and finiteness
    ratio = (got.double().norm(dim=-1) / f.norm(dim=-1)).tolist()
    if not all(abs(r - 1) <= TIGHT for r in ratio):
        raise GradingFailure(
            f"C{group_order}: ||F f|| / ||f|| = {min(ratio):.4g}..{max(ratio):.4g}, "
            "not 1: normalise by 1/√N (frequencies 0 and N/2) and √(2/N) (pairs)"
        )


@graded(points=6, category="correctness")
@pytest.mark.parametrize("group_order", [3, 4, 6, 8], ids=["C3", "C4", "C6", "C8"])
def test_fourier_block_diagonalises_regular(student, rng, group_order):
    """F(ρ_reg(g) f) = (⊕_k ψ_k(g)) F(f) for every element of C_N"""
    f = torch.randn(2, group_order, generator=rng, dtype=torch.float64)
    theta = angles(group_order, rng)
    shifted = torch.einsum(
        "tij,bj->tbi", ref.regular_representation(theta, group_order), f
    )
    irreps = ref.type_representation(frequencies(group_order), theta, group_order)
    lhs = student.fourier_transform(shifted, group_order)
    rhs = torch.einsum("tij,bj->tbi", irreps, student.fourier_transform(f, group_order))
    err = relative_error(lhs, rhs.detach(), "fourier_transform")
    if not err <= TIGHT:
        raise GradingFailure(
            f"C{group_order}: the transform of a shifted signal is not the "
            f"irreps applied to the transform (error {err:.3g}); order the "
            "coefficients by frequency, (cos, sin) per pair"
        )


@graded(points=3, category="correctness")
@pytest.mark.parametrize("group_order", [4, 7], ids=["C4", "C7"])
def test_fourier_matches_reference(student, rng, group_order):
    """fourier_transform agrees with the reference's basis and order"""
    f = torch.randn(3, group_order, generator=rng, dtype=torch.float64)
    err = relative_error(
        student.fourier_transform(f, group_order),
        ref.fourier_transform(f, group_order),
        "fourier_transform",
    )
    if not err <= TIGHT:
        raise GradingFailure(
            f"C{group_order}: fourier_transform differs from the convention by "
            f"{err:.3g}: rows 1/√N, √(2/N) (cos kθ_j, sin kθ_j) for k = 1, 2, ..., "
            "then (−1)^j / √N for even N"
        )
