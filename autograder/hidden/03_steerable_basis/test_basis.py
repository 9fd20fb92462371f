"""Assignment 3: the steerable kernel basis. The constraint at random angles
(analytic, tight) and on the pixel grid for 90° (exact); sizes per pair and
kernel size; linear independence and completeness; agreement with the
reference's order and normalisation."""

from __future__ import annotations

import math

import pytest
import torch
from a03_common import (
    NAMES,
    angles,
    frequencies,
    relative_error,
    rotate_points,
    solution_space,
)

from autograder.grading import GradingFailure, as_tensor, graded
from gedl_ref import steerable as ref
from gedl_ref import steerable_irreps as ref_irreps
from gedl_ref.grid import pixel_grid

# Analytic identities between a few dozen float64 trigonometric terms hold to
# ~1e-15; on the pixel grid rot90 is an exact permutation and cos(π/2) rounds
# to 6e-17. A wrong sign or frequency gives errors of order 1.
TIGHT = 1e-10

GROUPS = [None, 4, 6, 8]
GROUP_IDS = ["SO2", "C4", "C6", "C8"]


def _points(rng, count=40, scale=6.0):
    return (torch.rand(count, 2, generator=rng, dtype=torch.float64) - 0.5) * scale


@graded(points=8, category="equivariance")
@pytest.mark.parametrize("group_order", GROUPS, ids=GROUP_IDS)
def test_constraint_at_random_angles(student, rng, group_order):
    """pair_basis(g x) = ψ_n(g) pair_basis(x) ψ_m(g)ᵀ at random points, angles"""
    points = _points(rng)
    theta = angles(group_order, rng)
    moved = rotate_points(theta, points)  # [T, 40, 2]
    for m in frequencies(group_order):
        for n in frequencies(group_order):
            if not ref.pair_basis(m, n, points, 7, group_order).numel():
                continue  # no solution (the grader cannot receive empty tensors)
            basis = as_tensor(
                student.pair_basis(m, n, points, 7, group_order),
                f"pair_basis({m}, {n}, points [40, 2], 7)",
            ).double()
            got = as_tensor(
                student.pair_basis(m, n, moved, 7, group_order),
                f"pair_basis({m}, {n}, points [T, 40, 2], 7)",
            ).double()
            rhs = torch.einsum(
                "tpo,boiz,tqi->bpqtz",
                ref_irreps.irrep(n, theta, group_order),
                basis,
                ref_irreps.irrep(m, theta, group_order),
            )
            err = relative_error(got, rhs, f"pair_basis({m}, {n}, ...)")
            if not err <= TIGHT:
                raise GradingFailure(
                    f"{NAMES[group_order]}, {m} -> {n}: k(g x) ≠ ψ_n(g) k(x) "
                    f"ψ_m(g)⁻¹ (relative error {err:.3g}); the frequencies are "
                    "a ≡ n − m and b ≡ n + m (mod N for C_N), φ = atan2(y, x)"
                )


@graded(points=6, category="equivariance")
@pytest.mark.parametrize(
    "type_in, type_out, group_order",
    [
        ([0, 1, 2], [1, 0, 3, 2], None),
        (["regular", 1], [0, "regular", 2], 4),
        (["regular"], ["regular", 0], 8),
    ],
    ids=["SO2-irreps", "C4-regular", "C8-regular"],
)
def test_sampled_basis_rot90_exact(student, type_in, type_out, group_order):
    """on the 5×5 grid: basis(r x) = ρ_out(r) basis(x) ρ_in(r)ᵀ for r = 90°"""
    theta = torch.tensor(math.pi / 2, dtype=torch.float64)
    basis = as_tensor(
        student.steerable_basis(type_in, type_out, 5, group_order),
        f"steerable_basis({type_in}, {type_out}, 5)",
    ).double()
    if basis.ndim != 5 or basis.shape[0] == 0:
        raise GradingFailure(
            f"steerable_basis returned shape {list(basis.shape)}, expected "
            "[P, D_out, D_in, k, k] with P > 0"
        )
    rho_in = ref_irreps.type_representation(type_in, theta, group_order)
    rho_out = ref_irreps.type_representation(type_out, theta, group_order)
    lhs = torch.rot90(basis, -1, dims=(-2, -1))
    rhs = torch.einsum("po,boixy,qi->bpqxy", rho_out, basis, rho_in)
    err = relative_error(lhs, rhs, "steerable_basis")
    if not err <= TIGHT:
        away = torch.ones(5, 5, dtype=torch.bool)
        away[2, 2] = False
        if "regular" in type_in:
            hint = "regular fields need the change of basis Q_out K Q_inᵀ, Q = Fᵀ"
        elif relative_error(lhs[..., away], rhs[..., away], "basis") <= TIGHT:
            hint = (
                "only the centre pixel is wrong: at r = 0 an element of frequency "
                "a ≠ 0 must vanish (take the average over the circle)"
            )
        else:
            hint = "check the frequencies and matrices of the angular solutions"
        raise GradingFailure(
            f"{NAMES[group_order]}: the sampled basis breaks the constraint for "
            f"90° (relative error {err:.3g}); {hint}"
        )


#: escnn's R2Conv sizes for SO(2): 0→0, 0→1, 1→1, 1→2, 2→2, 2→3
ESCNN_SIZES = {5: [3, 4, 10, 4, 6, 4], 7: [4, 6, 14, 8, 8, 6]}
PAIRS = [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2), (2, 3)]


@graded(points=6, category="correctness")
@pytest.mark.parametrize("kernel_size", [5, 7], ids=["k5", "k7"])
def test_basis_sizes_so2(student, kernel_size):
    """basis sizes per irrep pair for SO(2) are those of escnn's R2Conv"""
    points = pixel_grid(kernel_size, kernel_size, dtype=torch.float64)
    got = []
    for m, n in PAIRS:
        basis = as_tensor(
            student.pair_basis(m, n, points, kernel_size, None),
            f"pair_basis({m}, {n}, grid, {kernel_size})",
        )
        got.append(int(basis.shape[0]))
    if got != ESCNN_SIZES[kernel_size]:
        raise GradingFailure(
            f"k = {kernel_size}: the pairs {PAIRS} have {got} elements, expected "
            f"{ESCNN_SIZES[kernel_size]}: difference AND sum frequencies, only "
            "|a| <= L on each ring, frequency 0 only on the ring at radius 0"
        )


@graded(points=6, category="correctness")
@pytest.mark.parametrize(
    "group_order, kernel_size",
    [(3, 5), (4, 5), (8, 7)],
    ids=["C3-k5", "C4-k5", "C8-k7"],
)
def test_basis_sizes_cyclic(student, group_order, kernel_size):
    """basis sizes per irrep pair for C_N, with aliased frequencies"""
    points = pixel_grid(kernel_size, kernel_size, dtype=torch.float64)
    for m in frequencies(group_order):
        for n in frequencies(group_order):
            expected = ref.pair_basis(m, n, points, kernel_size, group_order).shape[0]
            if expected:
                basis = student.pair_basis(m, n, points, kernel_size, group_order)
                got = int(as_tensor(basis, f"pair_basis({m}, {n}, ...)").shape[0])
            else:  # count it next to the 0 -> 0 block: empty tensors cannot travel
                types = ([m, 0], [n, 0], kernel_size, group_order)
                total = as_tensor(student.steerable_basis(*types), "steerable_basis")
                got = int(total.shape[0]) - ref.steerable_basis(*types).shape[0]
            if got != expected:
                raise GradingFailure(
                    f"{NAMES[group_order]}, k = {kernel_size}, {m} -> {n}: {got} "
                    f"elements, expected {expected}; for C_N every a ≡ n ∓ m "
                    "(mod N) with |a| <= L is a solution (aliasing)"
                )


@graded(points=8, category="correctness")
@pytest.mark.parametrize("group_order", [None, 4, 6, 8], ids=GROUP_IDS)
def test_basis_independent_and_complete(student, rng, group_order):
    """harmonic_basis is independent and spans every band-limited solution"""
    phi = torch.linspace(0, 2 * math.pi, 41, dtype=torch.float64)[:-1]
    for m in frequencies(group_order):
        for n in frequencies(group_order):
            for top in (1, 3):
                if not ref.harmonic_basis(m, n, phi, top, group_order).numel():
                    continue  # the grader cannot receive empty tensors
                ours = as_tensor(
                    student.harmonic_basis(m, n, phi, top, group_order),
                    f"harmonic_basis({m}, {n}, phi [40], {top})",
                ).double()
                count = ours.shape[0]
                ours = ours.permute(0, 3, 1, 2).reshape(count, -1) if count else None
                numeric = solution_space(m, n, top, group_order, phi, rng)
                rank = int(torch.linalg.matrix_rank(ours)) if count else 0
                label = f"{NAMES[group_order]}, {m} -> {n}, L = {top}"
                if rank < count:
                    raise GradingFailure(
                        f"{label}: the {count} solutions are linearly dependent "
                        f"(rank {rank}): a frequency is listed twice"
                    )
                both = numeric if ours is None else torch.cat((ours, numeric))
                span = int(torch.linalg.matrix_rank(both)) if len(both) else 0
                if span > rank:
                    raise GradingFailure(
                        f"{label}: the constraint has {numeric.shape[0]} independent "
                        f"solutions with |a| <= L, your basis spans {rank} of them; "
                        "missing: sum frequencies (b ≡ n + m) or aliases (mod N)"
                    )


@graded(points=3, category="correctness")
def test_sampled_basis_independent(student):
    """steerable_basis between regular fields of C8 is linearly independent"""
    basis = as_tensor(
        student.steerable_basis(["regular"], ["regular"], 5, 8), "steerable_basis"
    ).double()
    rank = int(torch.linalg.matrix_rank(basis.flatten(1)))
    expected = ref.steerable_basis(["regular"], ["regular"], 5, 8).shape[0]
    if rank != basis.shape[0] or basis.shape[0] != expected:
        raise GradingFailure(
            f"steerable_basis(['regular'], ['regular'], 5, 8) has {basis.shape[0]} "
            f"elements of rank {rank}, expected {expected} independent ones"
        )


@graded(points=6, category="correctness")
@pytest.mark.parametrize("group_order", [None, 8], ids=["SO2", "C8"])
def test_pair_basis_matches_reference(student, rng, group_order):
    """pair_basis agrees with the reference: rings, widths, order, origin"""
    points = torch.cat((torch.zeros(1, 2, dtype=torch.float64), _points(rng, 30, 5)))
    for m in frequencies(group_order, 2):
        for n in frequencies(group_order, 2):
            expected = ref.pair_basis(m, n, points, 5, group_order)
            if not expected.numel():
                continue  # the grader cannot receive empty tensors
            got = student.pair_basis(m, n, points, 5, group_order)
            err = relative_error(got, expected, f"pair_basis({m}, {n}, ...)")
            if not err <= TIGHT:
                raise GradingFailure(
                    f"{NAMES[group_order]}, {m} -> {n}: pair_basis differs from the "
                    f"reference by {err:.3g}: rings inner first, profile "
                    "exp(−(r − ρ)² / (2σ²)), angular solutions in the order of the "
                    "table, the average over the circle at the origin"
                )


@graded(points=6, category="correctness")
@pytest.mark.parametrize(
    "type_in, type_out, group_order",
    [([0, 2], [1, 0], None), ([1, "regular"], ["regular", 0], 4)],
    ids=["SO2", "C4-regular"],
)
def test_steerable_basis_matches_reference(student, type_in, type_out, group_order):
    """steerable_basis agrees with the reference: blocks, order, change of basis"""
    expected = ref.steerable_basis(type_in, type_out, 5, group_order)
    got = student.steerable_basis(type_in, type_out, 5, group_order)
    err = relative_error(got, expected, f"steerable_basis({type_in}, {type_out}, 5)")
    if not err <= TIGHT:
        raise GradingFailure(
            f"steerable_basis({type_in}, {type_out}) differs from the reference by "
            f"{err:.3g}: blocks ordered by output field then input field; regular "
            "fields Q_out K Q_inᵀ with Q = Fᵀ"
        )


@graded(points=4, category="correctness")
@pytest.mark.parametrize("group_order", [None, 6], ids=["SO2", "C6"])
def test_harmonic_basis_matches_reference(student, rng, group_order):
    """harmonic_basis lists the solutions in the order of the table"""
    phi = torch.rand(3, 5, generator=rng, dtype=torch.float64) * 7
    for m in frequencies(group_order):
        for n in frequencies(group_order):
            expected = ref.harmonic_basis(m, n, phi, 3, group_order)
            if not expected.numel():
                continue  # the grader cannot receive empty tensors
            got = student.harmonic_basis(m, n, phi, 3, group_order)
            err = relative_error(got, expected, f"harmonic_basis({m}, {n}, ...)")
            if not err <= TIGHT:
                raise GradingFailure(
                    f"{NAMES[group_order]}, {m} -> {n}: harmonic_basis differs from "
                    f"the table's order by {err:.3g} (difference family first, "
                    "ascending frequencies, S = I then J)"
                )
