"""Tests of gedl_ref.so3: irreps, generators, Wigner-D, Clebsch–Gordan, harmonics.

Everything runs in float64. "Exact" identities (homomorphism, equivariance,
orthogonality) hold up to the rounding of a few small matrix products and
one matrix exponential: errors ~1e-14, tolerance 1e-10 (relative where the
values grow, as polynomials of degree l do).
"""

from __future__ import annotations

import math

import pytest
import torch

from gedl_ref.so3 import (
    Irrep,
    Irreps,
    angles_to_matrix,
    clebsch_gordan,
    matrix_to_angles,
    random_rotation,
    so3_generators,
    spherical_harmonics,
    wigner_D,
    wigner_D_from_matrix,
)

TOL = 1e-10
LS = list(range(7))
TRIPLES = [
    (l1, l2, l3)
    for l1 in range(5)
    for l2 in range(5)
    for l3 in range(abs(l1 - l2), l1 + l2 + 1)
]


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


def _close(a: torch.Tensor, b: torch.Tensor, tol: float = TOL) -> None:
    err = (a - b).abs().max().item()
    assert err <= tol * max(1.0, b.abs().max().item()), f"max error {err:.3g}"


# ----------------------------------------------------------------------------
# Irreps
# ----------------------------------------------------------------------------


def test_irreps_parse_dim_and_string():
    irreps = Irreps("16x0e + 8x1o + 4x2e")
    assert irreps.dim == 16 + 24 + 20
    assert irreps.num_irreps == 28
    assert [str(b) for b in irreps] == ["16x0e", "8x1o", "4x2e"]
    assert Irreps(str(irreps)) == irreps
    assert irreps.slices() == [slice(0, 16), slice(16, 40), slice(40, 60)]
    assert Irreps("1o + 2e")[0].mul == 1
    assert Irreps("3y")[0].ir == Irrep(3, -1)
    assert Irreps("2x0e") + "1x1o" == Irreps("2x0e + 1x1o")


@pytest.mark.parametrize("text", ["8x1q", "x1o", "1.5e", "8 1o", "2x-1e"])
def test_irreps_parse_rejects_garbage(text):
    with pytest.raises(ValueError, match="written like"):
        Irreps(text)


def test_irrep_product_follows_selection_and_parity():
    vector, tensor = Irrep.parse("1o"), Irrep.parse("2e")
    assert vector * tensor == [Irrep(1, -1), Irrep(2, -1), Irrep(3, -1)]
    assert vector * vector == [Irrep(0, 1), Irrep(1, 1), Irrep(2, 1)]


def test_spherical_harmonics_irreps():
    assert str(Irreps.spherical_harmonics(3)) == "1x0e+1x1o+1x2e+1x3o"


# ----------------------------------------------------------------------------
# Generators and rotations
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("l", LS)
def test_generators_are_antisymmetric_and_close_the_algebra(l):
    L_x, L_y, L_z = so3_generators(l)
    for L in (L_x, L_y, L_z):
        _close(L, -L.T)
    _close(L_x @ L_y - L_y @ L_x, L_z)
    _close(L_y @ L_z - L_z @ L_y, L_x)
    _close(L_z @ L_x - L_x @ L_z, L_y)


def test_generators_of_degree_one_are_cross_products(gen):
    v = torch.randn(3, dtype=torch.float64, generator=gen)
    for a, L in enumerate(so3_generators(1)):
        e = torch.zeros(3, dtype=torch.float64)
        e[a] = 1
        _close(L @ v, torch.linalg.cross(e, v))


def test_random_rotations_are_rotations(gen):
    R = random_rotation(50, generator=gen)
    _close(R @ R.transpose(-1, -2), torch.eye(3, dtype=torch.float64).expand(50, 3, 3))
    _close(torch.linalg.det(R), torch.ones(50, dtype=torch.float64))


def test_euler_angles_round_trip(gen):
    R = random_rotation(100, generator=gen)
    _close(angles_to_matrix(*matrix_to_angles(R)), R)


def test_euler_angles_are_y_x_y():
    """R_y(α) R_x(β) R_y(γ), each counter-clockwise about its axis."""
    a = torch.tensor(0.3, dtype=torch.float64)
    zero = torch.zeros((), dtype=torch.float64)
    R = angles_to_matrix(a, zero, zero)
    c, s = math.cos(0.3), math.sin(0.3)
    _close(R, torch.tensor([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=torch.float64))
    R = angles_to_matrix(zero, a, zero)
    _close(R, torch.tensor([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=torch.float64))


# ----------------------------------------------------------------------------
# Wigner-D
# ----------------------------------------------------------------------------


def test_wigner_D_of_degree_one_is_the_rotation(gen):
    R = random_rotation(20, generator=gen)
    _close(wigner_D_from_matrix(1, R), R)


@pytest.mark.parametrize("l", LS)
def test_wigner_D_is_a_homomorphism(l, gen):
    R1, R2 = random_rotation(2, 10, generator=gen)
    _close(
        wigner_D_from_matrix(l, R1 @ R2),
        wigner_D_from_matrix(l, R1) @ wigner_D_from_matrix(l, R2),
    )


@pytest.mark.parametrize("l", LS)
def test_wigner_D_is_orthogonal_with_identity_and_inverse(l, gen):
    R = random_rotation(10, generator=gen)
    D = wigner_D_from_matrix(l, R)
    eye = torch.eye(2 * l + 1, dtype=torch.float64)
    _close(D @ D.transpose(-1, -2), eye.expand_as(D))
    _close(wigner_D_from_matrix(l, R.transpose(-1, -2)), D.transpose(-1, -2))
    _close(wigner_D_from_matrix(l, torch.eye(3, dtype=torch.float64)), eye)


@pytest.mark.parametrize("l", LS)
def test_wigner_D_from_angles_is_the_product_of_exponentials(l, gen):
    """The closed form of exp(θ L_y) against torch.matrix_exp."""
    a, b, c = 2 * math.pi * torch.rand(3, 5, dtype=torch.float64, generator=gen)
    L_x, L_y, _ = so3_generators(l)
    expected = (
        torch.matrix_exp(a[:, None, None] * L_y)
        @ torch.matrix_exp(b[:, None, None] * L_x)
        @ torch.matrix_exp(c[:, None, None] * L_y)
    )
    _close(wigner_D(l, a, b, c), expected)


@pytest.mark.parametrize("l", LS)
def test_wigner_D_of_an_axis_angle_is_the_exponential(l, gen):
    """D(exp(θ [n]×)) = exp(θ n·L): D is the exponential of the Lie algebra."""
    n = torch.randn(3, dtype=torch.float64, generator=gen)
    n = n / n.norm()
    theta = 1.234
    generators = so3_generators(l)
    R = torch.matrix_exp(theta * torch.einsum("a,aij->ij", n, so3_generators(1)))
    D = torch.matrix_exp(theta * torch.einsum("a,aij->ij", n, generators))
    _close(wigner_D_from_matrix(l, R), D)


@pytest.mark.parametrize("ir", ["0e", "0o", "1o", "1e", "2e", "3o"])
def test_parity_of_improper_rotations(ir, gen):
    irrep = Irrep.parse(ir)
    eye = torch.eye(irrep.dim, dtype=torch.float64)
    _close(irrep.D_from_matrix(-torch.eye(3, dtype=torch.float64)), irrep.p * eye)
    R = random_rotation(5, generator=gen)
    _close(irrep.D_from_matrix(-R), irrep.p * wigner_D_from_matrix(irrep.l, R))


def test_irreps_D_is_block_diagonal(gen):
    R = random_rotation(generator=gen)
    D = Irreps("2x0e + 1x1o").D_from_matrix(R)
    assert D.shape == (5, 5)
    _close(D[:2, :2], torch.eye(2, dtype=torch.float64))
    _close(D[2:, 2:], R)
    assert D[:2, 2:].abs().max() == 0


# ----------------------------------------------------------------------------
# Clebsch–Gordan coefficients
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("l1, l2, l3", TRIPLES, ids=lambda v: str(v))
def test_clebsch_gordan_is_equivariant_with_unit_norm(l1, l2, l3, gen):
    C = clebsch_gordan(l1, l2, l3)
    assert C.shape == (2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1)
    _close(C.norm(), torch.tensor(1.0, dtype=torch.float64), 1e-12)
    R = random_rotation(generator=gen)
    D1, D2, D3 = (wigner_D_from_matrix(l, R) for l in (l1, l2, l3))
    rotated = torch.einsum("ijk,ia,jb,kc->abc", C, D1, D2, D3)
    _close(rotated, C)


@pytest.mark.parametrize("l1, l2", [(1, 1), (2, 1), (2, 2), (3, 2), (4, 3)])
def test_clebsch_gordan_are_orthogonal(l1, l2):
    """Σ_ij C^{l3}[i,j,k] C^{l3'}[i,j,k'] = δ_{l3 l3'} δ_{kk'} / (2 l3 + 1).

    Together they form an orthogonal change of basis V1 ⊗ V2 → ⊕ V3.
    """
    ls = range(abs(l1 - l2), l1 + l2 + 1)
    U = torch.cat(
        [clebsch_gordan(l1, l2, l3) * math.sqrt(2 * l3 + 1) for l3 in ls], dim=-1
    ).flatten(0, 1)  # [M1·M2, Σ M3]
    assert U.shape[0] == U.shape[1]
    _close(U.T @ U, torch.eye(U.shape[1], dtype=torch.float64), 1e-12)


@pytest.mark.parametrize("l1, l2, l3", [(1, 1, 1), (2, 2, 3), (3, 2, 4), (4, 4, 4)])
def test_clebsch_gordan_spans_the_invariant_space(l1, l2, l3):
    """The null space of the summed generators is one-dimensional and is C.

    An independent computation (SVD of the Lie-algebra constraint) that pins
    the coefficients to 1e-12, up to their sign.
    """
    L1, L2, L3 = (so3_generators(l) for l in (l1, l2, l3))
    I1, I2, I3 = (torch.eye(L.shape[-1], dtype=torch.float64) for L in (L1, L2, L3))
    A = torch.cat(
        [
            torch.kron(torch.kron(L1[a], I2), I3)
            + torch.kron(torch.kron(I1, L2[a]), I3)
            + torch.kron(torch.kron(I1, I2), L3[a])
            for a in range(3)
        ]
    )
    _, s, vh = torch.linalg.svd(A)
    assert s[-1] < 1e-12 and s[-2] > 1e-3
    null = vh[-1]
    C = clebsch_gordan(l1, l2, l3).flatten()
    _close(null * torch.sign(null @ C), C, 1e-12)


@pytest.mark.parametrize("l1, l2, l3", [(0, 0, 1), (1, 1, 3), (2, 0, 1), (1, 3, 1)])
def test_clebsch_gordan_selection_rule(l1, l2, l3):
    with pytest.raises(ValueError, match="selection rule"):
        clebsch_gordan(l1, l2, l3)


def test_clebsch_gordan_of_two_vectors():
    """1 ⊗ 1 → 0 is the dot product, 1 ⊗ 1 → 1 the cross product (e3nn's sign):
    ``Σ_ij C[i, j, k] x_i y_j = (x × y)_k / √6``."""
    eye = torch.eye(3, dtype=torch.float64)
    _close(clebsch_gordan(1, 1, 0)[:, :, 0], eye / math.sqrt(3))
    epsilon = torch.zeros(3, 3, 3, dtype=torch.float64)
    for i, j, k in [(0, 1, 2), (1, 2, 0), (2, 0, 1)]:
        epsilon[i, j, k], epsilon[j, i, k] = 1, -1
    _close(clebsch_gordan(1, 1, 1), epsilon / math.sqrt(6))


# ----------------------------------------------------------------------------
# Spherical harmonics
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("l", LS)
def test_spherical_harmonics_are_equivariant(l, gen):
    x = torch.randn(30, 3, dtype=torch.float64, generator=gen)
    R = random_rotation(generator=gen)
    D = wigner_D_from_matrix(l, R)
    Y = spherical_harmonics(l, x, normalize=True)
    _close(spherical_harmonics(l, x @ R.T, normalize=True), Y @ D.T)
    _close(spherical_harmonics(l, -x, normalize=True), (-1) ** l * Y)


def test_spherical_harmonics_low_degrees(gen):
    x = torch.randn(10, 3, dtype=torch.float64, generator=gen)
    x = x / x.norm(dim=-1, keepdim=True)
    Y = spherical_harmonics([0, 1], x, True, normalization="component")
    _close(Y[:, 0], torch.ones(10, dtype=torch.float64))
    _close(Y[:, 1:], math.sqrt(3) * x)


@pytest.mark.parametrize("l", LS)
def test_spherical_harmonics_at_the_pole(l):
    y_axis = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    expected = torch.zeros(2 * l + 1, dtype=torch.float64)
    expected[l] = math.sqrt(2 * l + 1)
    _close(spherical_harmonics(l, y_axis, True, "component"), expected)


@pytest.mark.parametrize("normalization", ["component", "norm"])
def test_spherical_harmonics_pointwise_normalisation(normalization, gen):
    x = torch.randn(40, 3, dtype=torch.float64, generator=gen)
    for l in LS:
        Y = spherical_harmonics(l, x, True, normalization)
        target = 2 * l + 1 if normalization == "component" else 1
        _close((Y**2).sum(-1), torch.full((40,), float(target), dtype=torch.float64))


def test_spherical_harmonics_integral_normalisation():
    """∫ Y_m Y_m' = δ_mm' on a quadrature exact for degree <= 2 lmax.

    Gauss–Legendre in cos θ (n nodes, exact to degree 2n - 1) times a uniform
    grid in φ (exact for trigonometric degree < n_phi).
    """
    lmax = 6
    nodes, weights = _gauss_legendre(lmax + 2)
    phi = torch.arange(2 * lmax + 3, dtype=torch.float64) * (
        2 * math.pi / (2 * lmax + 3)
    )
    c, p = torch.meshgrid(nodes, phi, indexing="ij")
    s = (1 - c**2).sqrt()
    points = torch.stack([s * p.sin(), c, s * p.cos()], -1).reshape(-1, 3)
    w = (weights[:, None] * (2 * math.pi / phi.numel())).expand_as(c).reshape(-1)
    Y = spherical_harmonics(list(range(lmax + 1)), points, True, "integral")
    gram = Y.T @ (w[:, None] * Y)
    _close(gram, torch.eye(Y.shape[1], dtype=torch.float64))


def _gauss_legendre(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes and weights of the n-point Gauss–Legendre rule (Golub–Welsch)."""
    k = torch.arange(1, n, dtype=torch.float64)
    beta = k / torch.sqrt(4 * k**2 - 1)
    J = torch.diag(beta, 1) + torch.diag(beta, -1)
    nodes, vectors = torch.linalg.eigh(J)
    return nodes, 2 * vectors[0] ** 2


@pytest.mark.parametrize("l", [0, 1, 3, 5])
def test_spherical_harmonics_are_homogeneous(l, gen):
    x = torch.randn(10, 3, dtype=torch.float64, generator=gen)
    r = x.norm(dim=-1, keepdim=True)
    _close(
        spherical_harmonics(l, x, normalize=False),
        r**l * spherical_harmonics(l, x, normalize=True),
    )


def test_spherical_harmonics_of_any_degree(gen):
    """Degree 15 (beyond e3nn's hard-coded 11): still equivariant and normalised."""
    x = torch.randn(20, 3, dtype=torch.float64, generator=gen)
    R = random_rotation(generator=gen)
    Y = spherical_harmonics(15, x, True, "norm")
    _close((Y**2).sum(-1), torch.ones(20, dtype=torch.float64))
    _close(
        spherical_harmonics(15, x @ R.T, True, "norm"),
        Y @ wigner_D_from_matrix(15, R).T,
    )


def test_spherical_harmonics_reject_bad_arguments():
    x = torch.randn(4, 3)
    with pytest.raises(ValueError, match="normalization"):
        spherical_harmonics(1, x, True, "unit")
    with pytest.raises(ValueError, match="parity"):
        spherical_harmonics("1e", x, True)
    with pytest.raises(ValueError, match=r"\[\.\.\., 3\]"):
        spherical_harmonics(1, torch.randn(4, 2), True)
