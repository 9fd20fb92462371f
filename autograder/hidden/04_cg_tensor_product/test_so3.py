"""Assignment 4: generators, Wigner-D matrices, Clebsch–Gordan coefficients
and spherical harmonics, against the reference and against their defining
properties (homomorphism, invariance, orthogonality, equivariance)."""

from __future__ import annotations

import math

import pytest
import torch
from a04_common import irreps_D, orthogonal_matrices, relative_error

from autograder.grading import GradingFailure, graded
from gedl_checks.equivariance import check_equivariance
from gedl_ref import so3

# float64: matrix exponentials of [M, M] matrices with entries O(l) and sums of
# at most a few hundred O(1) products agree to ~1e-14 relative (measured: the
# solution differs from the reference by < 1e-14); 1e-9 leaves room for any
# exact method (closed forms, another order of products) and catches every
# convention error, which is O(1).
TIGHT = 1e-9
LS = [0, 1, 2, 3, 4]
LIDS = [f"l{l}" for l in LS]


def _angles(rng, count=6):
    return torch.rand(3, count, generator=rng, dtype=torch.float64) * 2 * math.pi


def _triples(top: int):
    return [
        (l1, l2, l3)
        for l1 in range(top + 1)
        for l2 in range(top + 1)
        for l3 in range(abs(l1 - l2), l1 + l2 + 1)
    ]


@graded(points=3, category="correctness")
@pytest.mark.parametrize("l", LS, ids=LIDS)
def test_generators_match_reference(student, l):
    """so3_generators(l) agrees with the reference (e3nn's basis)"""
    err = relative_error(
        student.so3_generators(l), so3.so3_generators(l), f"so3_generators({l})"
    )
    if not err <= TIGHT:
        raise GradingFailure(
            f"so3_generators({l}) differs from the reference by {err:.3g} (relative): "
            "for l = 1 they are the matrices of v ↦ e_a × v; L_x = Q^†(-iJ_y)Q, "
            "L_y = Q^†(iJ_z)Q, L_z = Q^†(iJ_x)Q with Q = change_of_basis(l)"
        )


@graded(points=5, category="correctness")
@pytest.mark.parametrize("l", LS, ids=LIDS)
def test_wigner_D_matches_reference(student, rng, l):
    """wigner_D(l, α, β, γ) agrees with the reference (Y-X-Y Euler angles)"""
    a, b, c = _angles(rng)
    expected = so3.wigner_D(l, a, b, c)
    got = student.wigner_D(l, a, b, c)
    err = relative_error(got, expected, f"wigner_D({l}, α, β, γ)")
    if err <= TIGHT:
        return
    hints = [
        (expected.transpose(-1, -2), "it is transposed (D(R)ᵀ = D(R⁻¹))"),
        (so3.wigner_D(l, c, b, a), "the Euler angles are applied in reverse order"),
    ]
    for candidate, hint in hints:
        if l > 0 and relative_error(got, candidate, "wigner_D") <= 1e-6:
            raise GradingFailure(f"wigner_D({l}, α, β, γ) is wrong: {hint}")
    raise GradingFailure(
        f"wigner_D({l}, α, β, γ) differs from the reference by {err:.3g} "
        "(relative); D = exp(α L_y) exp(β L_x) exp(γ L_y)"
    )


@graded(points=5, category="equivariance")
@pytest.mark.parametrize("l", LS[1:], ids=LIDS[1:])
def test_wigner_D_homomorphism(student, rng, l):
    """D(R1 R2) = D(R1) D(R2) and D(R) Dᵀ(R) = I for Haar-random rotations"""
    R1 = so3.random_rotation(5, generator=rng)
    R2 = so3.random_rotation(5, generator=rng)
    D1, D2, D12 = (
        student.wigner_D(l, *so3.matrix_to_angles(R)) for R in (R1, R2, R1 @ R2)
    )
    for D, what in ((D1, "D(R1)"), (D2, "D(R2)"), (D12, "D(R1 R2)")):
        relative_error(D, so3.wigner_D_from_matrix(l, R1), what)  # shape, finite
    err = relative_error(D1.double() @ D2.double(), D12.double(), "D(R1) D(R2)")
    if not err <= TIGHT:
        raise GradingFailure(
            f"l = {l}: D(R1 R2) = D(R1) D(R2) fails by {err:.3g} (relative) at "
            "Haar-random rotations; is the order of the three exponentials "
            "exp(α L_y) exp(β L_x) exp(γ L_y)?"
        )
    eye = torch.eye(2 * l + 1, dtype=torch.float64).expand(5, -1, -1)
    err = relative_error(D1.double() @ D1.double().transpose(-1, -2), eye, "D Dᵀ")
    if not err <= TIGHT:
        raise GradingFailure(f"D^{l}(R) is not orthogonal (|D Dᵀ - I| = {err:.3g})")


@graded(points=5, category="correctness")
@pytest.mark.parametrize("l1", LS, ids=[f"l1={l}" for l in LS])
def test_clebsch_gordan_matches_reference(student, l1):
    """clebsch_gordan(l1, l2, l3) agrees with the reference for l2 <= 4"""
    for _, l2, l3 in [t for t in _triples(4) if t[0] == l1]:
        expected = so3.clebsch_gordan(l1, l2, l3)
        got = student.clebsch_gordan(l1, l2, l3)
        err = relative_error(got, expected, f"clebsch_gordan({l1}, {l2}, {l3})")
        if err <= TIGHT:
            continue
        hint = "the real coefficients of e3nn, Frobenius norm 1"
        if relative_error(got, -expected, "C") <= TIGHT:
            hint = "it has the opposite sign: check the phase of the change of basis"
        elif abs(float(got.double().norm()) - 1) > 1e-6:
            hint = f"its Frobenius norm is {float(got.double().norm()):.4g}, not 1"
        raise GradingFailure(
            f"clebsch_gordan({l1}, {l2}, {l3}) differs from the reference by "
            f"{err:.3g} (relative): {hint}"
        )


@graded(points=5, category="equivariance")
def test_clebsch_gordan_invariance(student, rng):
    """Σ C[i,j,k] D1[i,a] D2[j,b] D3[k,c] = C[a,b,c] for random rotations, l <= 4"""
    R = so3.random_rotation(3, generator=rng)
    for l1, l2, l3 in _triples(4):
        if l3 > 4:
            continue
        C = student.clebsch_gordan(l1, l2, l3)
        relative_error(C, so3.clebsch_gordan(l1, l2, l3), "clebsch_gordan")  # shape
        D1, D2, D3 = (so3.wigner_D_from_matrix(l, R) for l in (l1, l2, l3))
        rotated = torch.einsum("ijk,ria,rjb,rkc->rabc", C.double(), D1, D2, D3)
        err = relative_error(rotated, C.double().expand_as(rotated), "D1 D2 D3 · C")
        if not err <= TIGHT:
            raise GradingFailure(
                f"C^({l1},{l2},{l3}) is not invariant: the rotated coefficients "
                f"differ by {err:.3g} (relative). Carry the complex coefficients "
                "to the real basis with Q1, Q2 and conj(Q3)"
            )


PAIRS = [(1, 1), (1, 2), (2, 2), (2, 3), (3, 4)]


@graded(points=4, category="correctness")
@pytest.mark.parametrize("pair", PAIRS, ids=[f"{a}x{b}" for a, b in PAIRS])
def test_clebsch_gordan_orthogonality(student, pair):
    """Σ_ij C^{l3}[i,j,k] C^{l3'}[i,j,k'] = δ δ / (2 l3 + 1) (norm 1 each)"""
    l1, l2 = pair
    blocks = []
    for l3 in range(abs(l1 - l2), l1 + l2 + 1):
        C = student.clebsch_gordan(l1, l2, l3)
        relative_error(C, so3.clebsch_gordan(l1, l2, l3), "clebsch_gordan")  # shape
        blocks.append(C.double().flatten(0, 1) * math.sqrt(2 * l3 + 1))
    U = torch.cat(blocks, dim=-1)  # [M1·M2, M1·M2], orthogonal
    eye = torch.eye(U.shape[0], dtype=torch.float64)
    err = relative_error(U.T @ U, eye, "the Gram matrix of the coefficients")
    if not err <= TIGHT:
        raise GradingFailure(
            f"the coefficients of {l1} ⊗ {l2} are not orthogonal under the norm-1 "
            f"normalisation: |Σ_ij C C - δ/(2 l3 + 1)| reaches {err:.3g}"
        )


@graded(points=5, category="correctness")
@pytest.mark.parametrize(
    "normalization",
    ["component", "norm", "integral"],
    ids=["component", "norm", "integral"],
)
def test_spherical_harmonics_match_reference(student, rng, normalization):
    """spherical_harmonics(l, x, normalize, normalization) agrees with the reference"""
    x = 2 * torch.randn(10, 3, generator=rng, dtype=torch.float64)
    for l in LS:
        for normalize in (True, False):
            expected = so3.spherical_harmonics(l, x, normalize, normalization)
            got = student.spherical_harmonics(l, x, normalize, normalization)
            what = f"spherical_harmonics({l}, x, {normalize}, {normalization!r})"
            err = relative_error(got, expected, what)
            if err <= TIGHT:
                continue
            hint = "Y^l(ŷ) = c e_(m=0) with c > 0; Y^1 ∝ (x, y, z)"
            if relative_error(got, -expected, what) <= TIGHT:
                hint = (
                    "it has the opposite sign: Y^l(ŷ) must have a positive m = 0 entry"
                )
            elif relative_error(got, expected.flip(-1), what) <= TIGHT:
                hint = "the m order is reversed: m runs from -l to l"
            elif normalize is False:
                hint = "with normalize=False, Y^l(x) = |x|^l Y^l(x / |x|)"
            raise GradingFailure(f"{what} differs by {err:.3g} (relative): {hint}")


@graded(points=6, category="equivariance")
@pytest.mark.parametrize("l", LS[1:], ids=LIDS[1:])
@pytest.mark.parametrize("improper", [False, True], ids=["rotations", "improper"])
def test_spherical_harmonics_equivariance(student, rng, feedback, l, improper):
    """Y(Q x) = D(Q) Y(x) for Haar-random rotations, and with parity (-1)^l"""
    Q = orthogonal_matrices(rng, 6, improper)
    D = irreps_D(f"1x{l}{'eo'[l % 2]}", Q)  # [6, M, M]
    x = torch.randn(12, 3, generator=rng, dtype=torch.float64)

    def fn(points):
        return student.spherical_harmonics(l, points, True, "component")

    report = check_equivariance(
        fn,
        range(len(Q)),
        lambda g, points: points @ Q[g].T,
        lambda g, y: y.double() @ D[g].T,
        x,
        tolerance=TIGHT,
        x_other=torch.randn(12, 3, generator=rng, dtype=torch.float64),
        labels=[f"{'-' if improper else ''}R{g}" for g in range(len(Q))],
    )
    title = f"spherical_harmonics({l}, ·)"
    feedback.add_equivariance(title, report)
    if not report.ok:
        raise GradingFailure(
            report.message(title) + " Build Y^(k+1) from x ⊗ Y^k with your "
            "Clebsch–Gordan coefficients; the m order is -l..l."
        )


# float32 (eps 6e-8): the recurrence multiplies l factors, each rounded, so the
# error grows with l; measured on the solution over 20 seeds: 0.9e-7 (l = 1)
# to 2.9e-7 (l = 4) relative. 1e-6 · (1 + l) leaves a margin of 17-20×.
def tolerance_f32(l: int) -> float:
    return 1e-6 * (1 + l)


@graded(points=2, category="equivariance")
@pytest.mark.parametrize("l", LS[1:], ids=LIDS[1:])
def test_spherical_harmonics_equivariance_float32(student, rng, feedback, l):
    """Y(R x) = D(R) Y(x) in float32, within a tolerance that grows with l"""
    R = so3.random_rotation(6, generator=rng)
    D = so3.wigner_D_from_matrix(l, R)  # [6, M, M] float64
    x = torch.randn(12, 3, generator=rng, dtype=torch.float64)

    def fn(points):
        return student.spherical_harmonics(l, points.float(), True, "component")

    report = check_equivariance(
        fn,
        range(len(R)),
        lambda g, points: points @ R[g].T,
        lambda g, y: y.double() @ D[g].T,
        x,
        tolerance=tolerance_f32(l),
        x_other=torch.randn(12, 3, generator=rng, dtype=torch.float64),
        labels=[f"R{g}" for g in range(len(R))],
    )
    title = f"spherical_harmonics({l}, ·) in float32"
    feedback.add_equivariance(title, report)
    if not report.ok:
        raise GradingFailure(
            report.message(title) + " Compute in the dtype of x (cast the "
            "coefficients to x.dtype); nothing here needs float64."
        )
