"""Tests of gedl_ref.steerable_irreps and gedl_ref.steerable.

Everything runs in float64. Tolerances: "analytic" identities between
trigonometric expressions hold to ~1e-15 per entry; 1e-12 leaves room for
sums of a few dozen terms. Rotations by 90° permute the pixel grid exactly,
so the sampled basis and the layer are exact up to the rounding of cos(π/2)
and of conv2d's summation order (1e-10 relative, as in test_conv.py).
"""

from __future__ import annotations

import math

import pytest
import torch

from gedl_ref.grid import pixel_grid, sample_signal
from gedl_ref.steerable import (
    FourierReLU,
    NormReLU,
    SteerableConvolution,
    field_basis,
    harmonic_basis,
    pair_basis,
    ring_parameters,
    steerable_basis,
)
from gedl_ref.steerable_irreps import (
    fourier_matrix,
    fourier_transform,
    inverse_fourier_transform,
    irrep,
    irrep_dimension,
    regular_representation,
    type_dimension,
    type_representation,
)

ANALYTIC = {"rtol": 1e-12, "atol": 1e-12}
EXACT = {"rtol": 1e-10, "atol": 1e-10}
ORDERS = [None, 3, 4, 6, 8]
ORDER_IDS = ["SO2", "C3", "C4", "C6", "C8"]


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _frequencies(group_order: int | None) -> list[int]:
    return list(range(4)) if group_order is None else list(range(group_order // 2 + 1))


def _pairs(group_order: int | None) -> list[tuple[int, int]]:
    freqs = _frequencies(group_order)
    return [(m, n) for m in freqs for n in freqs]


def _angles(group_order: int | None, gen: torch.Generator) -> torch.Tensor:
    """Random continuous angles (SO(2)) or every element of C_N."""
    if group_order is None:
        return torch.rand(7, generator=gen, dtype=torch.float64) * 2 * math.pi
    return torch.arange(group_order, dtype=torch.float64) * (2 * math.pi / group_order)


def _rotate(theta: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Rotate points [..., 2] counter-clockwise by theta [T] -> [T, ..., 2]."""
    c, s = torch.cos(theta), torch.sin(theta)
    x, y = points[..., 0], points[..., 1]
    shape = (-1,) + (1,) * x.ndim
    c, s = c.view(shape), s.view(shape)
    return torch.stack((c * x - s * y, s * x + c * y), dim=-1)


# ----------------------------------------------------------------------------
# Irreps and the Fourier transform
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("group_order", ORDERS, ids=ORDER_IDS)
def test_irreps_are_homomorphisms(group_order, gen) -> None:
    a, b = _angles(group_order, gen), _angles(group_order, gen).roll(1)
    for k in _frequencies(group_order):
        product = irrep(k, a, group_order) @ irrep(k, b, group_order)
        torch.testing.assert_close(irrep(k, a + b, group_order), product, **ANALYTIC)


def test_irrep_dimensions_and_values() -> None:
    assert [irrep_dimension(k) for k in range(3)] == [1, 2, 2]
    assert [irrep_dimension(k, 4) for k in range(3)] == [1, 2, 1]
    assert [irrep_dimension(k, 5) for k in range(3)] == [1, 2, 2]
    quarter = irrep(1, torch.tensor(math.pi / 2, dtype=torch.float64))
    torch.testing.assert_close(
        quarter, torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)
    )
    with pytest.raises(ValueError, match="0 <= k <= 2"):
        irrep(3, torch.zeros(1), 4)


@pytest.mark.parametrize("group_order", [1, 2, 3, 4, 7, 8])
def test_fourier_round_trip_and_plancherel(group_order, gen) -> None:
    f = torch.randn(5, group_order, generator=gen, dtype=torch.float64)
    f_hat = fourier_transform(f, group_order)
    torch.testing.assert_close(
        inverse_fourier_transform(f_hat, group_order), f, **ANALYTIC
    )
    torch.testing.assert_close(f_hat.norm(dim=-1), f.norm(dim=-1), **ANALYTIC)
    matrix = fourier_matrix(group_order, torch.float64)
    eye = torch.eye(group_order, dtype=torch.float64)
    torch.testing.assert_close(matrix @ matrix.T, eye, **ANALYTIC)


@pytest.mark.parametrize("group_order", [2, 3, 4, 5, 8])
def test_fourier_block_diagonalises_the_regular_representation(group_order) -> None:
    """F ρ_reg(g) Fᵀ = ⊕_k ψ_k(g) for every g, and the shift is f[j - a]."""
    theta = _angles(group_order, None)
    regular = regular_representation(theta, group_order)  # [G, N, N]
    f = torch.arange(group_order, dtype=torch.float64)
    assert torch.equal(regular[1] @ f, f.roll(1))  # (ρ(r_1) f)[j] = f[j - 1]
    matrix = fourier_matrix(group_order, torch.float64)
    irreps = type_representation(_frequencies(group_order), theta, group_order)
    torch.testing.assert_close(matrix @ regular @ matrix.T, irreps, **ANALYTIC)
    torch.testing.assert_close(
        type_representation(["regular"], theta, group_order), regular
    )


# ----------------------------------------------------------------------------
# The basis: sizes, constraint, independence, completeness
# ----------------------------------------------------------------------------

PAIRS = [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2), (2, 3)]
#: escnn's R2Conv basis sizes of these pairs for SO(2) (issue 4).
SIZES = {5: [3, 4, 10, 4, 6, 4], 7: [4, 6, 14, 8, 8, 6]}


@pytest.mark.parametrize("kernel_size", [5, 7], ids=["k5", "k7"])
def test_basis_sizes_match_escnn(kernel_size) -> None:
    points = pixel_grid(kernel_size, kernel_size, dtype=torch.float64)
    sizes = [pair_basis(m, n, points, kernel_size).shape[0] for m, n in PAIRS]
    assert sizes == SIZES[kernel_size]


def test_ring_parameters() -> None:
    assert ring_parameters(5) == [(0.0, 0.005, 0), (1.0, 0.6, 2), (2.0, 0.4, 2)]
    assert [top for *_, top in ring_parameters(9)] == [0, 2, 3, 6, 2]
    with pytest.raises(NotImplementedError, match="odd kernel_size"):
        ring_parameters(4)


@pytest.mark.parametrize("group_order", ORDERS, ids=ORDER_IDS)
def test_constraint_at_random_points_and_angles(group_order, gen) -> None:
    """basis(g x) = ψ_n(g) basis(x) ψ_m(g)ᵀ on the analytic basis."""
    points = (torch.rand(40, 2, generator=gen, dtype=torch.float64) - 0.5) * 6
    theta = _angles(group_order, gen)  # [T]
    moved = _rotate(theta, points)  # [T, 40, 2]
    for m, n in _pairs(group_order):
        basis = pair_basis(m, n, points, 7, group_order)  # [B, do, di, 40]
        lhs = pair_basis(m, n, moved, 7, group_order)  # [B, do, di, T, 40]
        psi_out = irrep(n, theta, group_order)  # [T, do, do]
        psi_in = irrep(m, theta, group_order)  # [T, di, di]
        rhs = torch.einsum("tpo,boiz,tqi->bpqtz", psi_out, basis, psi_in)
        torch.testing.assert_close(lhs, rhs, **ANALYTIC, msg=f"{m} -> {n}")


@pytest.mark.parametrize("kernel_size", [3, 5], ids=["k3", "k5"])
@pytest.mark.parametrize("group_order", [None, 4, 8], ids=["SO2", "C4", "C8"])
def test_sampled_basis_is_exact_for_rot90(group_order, kernel_size) -> None:
    """On the pixel grid, basis(r x) = rot90(basis, -1)(x) = ρ_out basis ρ_inᵀ."""
    theta = torch.tensor(math.pi / 2, dtype=torch.float64)
    field_type = [0, 1, 2] if group_order is None else ["regular", 1]
    basis = steerable_basis(field_type, field_type, kernel_size, group_order)
    rho = type_representation(field_type, theta, group_order)  # [D, D]
    lhs = torch.rot90(basis, -1, dims=(-2, -1))
    rhs = torch.einsum("po,boixy,qi->bpqxy", rho, basis, rho)
    torch.testing.assert_close(lhs, rhs, **EXACT)


@pytest.mark.parametrize("kernel_size", [3, 5, 7], ids=["k3", "k5", "k7"])
@pytest.mark.parametrize("group_order", [None, 4, 8], ids=["SO2", "C4", "C8"])
def test_sampled_basis_is_linearly_independent(group_order, kernel_size) -> None:
    field_type = [0, 1, 2, 3] if group_order is None else ["regular"]
    basis = steerable_basis(field_type, field_type, kernel_size, group_order)
    flat = basis.flatten(1)  # [P, D·D·k·k]
    assert int(torch.linalg.matrix_rank(flat)) == flat.shape[0]


def _solution_space(m, n, top, group_order, phi):
    """Numerical null space of the constraint among frequencies |a| <= top.

    Unknowns: ``k(φ) = Σ_{a=0..top} cos(aφ) X_a + sin(aφ) Y_a`` (no Y_0).
    Equations: ``k(φ + θ) = ψ_n(θ) k(φ) ψ_m(θ)ᵀ`` on sample angles φ and
    on θ (all of C_N, or random angles of SO(2)). Returns the solutions
    sampled at ``phi``: ``[S, len(phi)·d_out·d_in]``.
    """
    d_in, d_out = irrep_dimension(m, group_order), irrep_dimension(n, group_order)
    gen = torch.Generator().manual_seed(7)
    theta = _angles(group_order, gen)
    unknowns = (2 * top + 1) * d_out * d_in

    def sample(shift):  # the unknowns' functions at φ + shift
        values = []
        for a in range(top + 1):
            values.append(torch.cos(a * (phi + shift)))
            if a:
                values.append(torch.sin(a * (phi + shift)))
        values = torch.stack(values)  # [F, Φ]
        eye = torch.eye(d_out * d_in, dtype=phi.dtype).view(-1, d_out, d_in)
        return torch.einsum("fz,eoi->fezoi", values, eye)  # [F, E, Φ, d_out, d_in]

    base = sample(0.0).reshape(unknowns, len(phi), d_out, d_in)
    rows = []
    for t in theta:
        moved = sample(t).reshape(unknowns, len(phi), d_out, d_in)
        psi_out, psi_in = irrep(n, t, group_order), irrep(m, t, group_order)
        rotated = torch.einsum("po,uzoi,qi->uzpq", psi_out, base, psi_in)
        rows.append((moved - rotated).reshape(unknowns, -1))
    system = torch.cat(rows, dim=1).T  # [equations, unknowns]
    _, s, vh = torch.linalg.svd(system)
    rank = int((s > 1e-9 * s[0]).sum()) if s.numel() and s[0] > 0 else 0
    null = vh[rank:]  # [S, unknowns]
    return null @ base.reshape(unknowns, -1)


@pytest.mark.parametrize("group_order", ORDERS, ids=ORDER_IDS)
def test_basis_is_complete(group_order) -> None:
    """Every band-limited solution of the constraint is in the basis' span."""
    phi = torch.linspace(0, 2 * math.pi, 41, dtype=torch.float64)[:-1]
    for m, n in _pairs(group_order):
        for top in (0, 1, 2, 3):
            ours = harmonic_basis(m, n, phi, top, group_order)  # [E, do, di, Φ]
            size = len(phi) * ours.shape[1] * ours.shape[2]
            ours = ours.permute(0, 3, 1, 2).reshape(ours.shape[0], size)
            numeric = _solution_space(m, n, top, group_order, phi)
            rank = int(torch.linalg.matrix_rank(ours)) if ours.numel() else 0
            assert rank == ours.shape[0], f"{m} -> {n}, L={top}: dependent"
            both = torch.cat((ours, numeric))
            together = int(torch.linalg.matrix_rank(both)) if both.numel() else 0
            assert together == rank == numeric.shape[0], (
                f"{m} -> {n}, L={top}: basis {rank}, solutions {numeric.shape[0]}"
            )


def test_regular_basis_is_steerable_for_every_element() -> None:
    """Regular fields of C_8: the change of basis Q = Fᵀ, at all 8 angles."""
    gen = torch.Generator().manual_seed(3)
    points = (torch.rand(30, 2, generator=gen, dtype=torch.float64) - 0.5) * 4
    theta = _angles(8, None)
    basis = field_basis("regular", 1, 5, 8, points=points)  # [B, 2, 8, 30]
    moved = field_basis("regular", 1, 5, 8, points=_rotate(theta, points))
    rho_in = regular_representation(theta, 8)
    rhs = torch.einsum("tpo,boiz,tqi->bpqtz", irrep(1, theta, 8), basis, rho_in)
    torch.testing.assert_close(moved, rhs, **ANALYTIC)


def test_origin_is_masked() -> None:
    """Frequency ≠ 0 elements vanish at the centre pixel; others need not."""
    basis = pair_basis(0, 1, pixel_grid(5, 5, dtype=torch.float64), 5)
    assert basis[..., 2, 2].abs().max() == 0
    assert (
        pair_basis(1, 1, pixel_grid(5, 5, dtype=torch.float64), 5)[0, 0, 0, 2, 2] == 1
    )


# ----------------------------------------------------------------------------
# The layer
# ----------------------------------------------------------------------------

LAYER_CASES = {
    "SO2-irreps": ([0, 1, 2], [0, 1, 1, 2, 3], None),
    "C4-regular": (["regular"] * 2, ["regular"] * 3, 4),
    "C8-mixed": ([0, "regular", 1], ["regular", 2, 0, "regular"], 8),
    "C8-trivial-in": ([0], ["regular"] * 2, 8),
}


def _layer(case: str, kernel_size: int = 5, bias: bool = True):
    type_in, type_out, order = LAYER_CASES[case]
    layer = SteerableConvolution(type_in, type_out, kernel_size, order, bias=bias)
    if layer.bias is not None:
        with torch.no_grad():
            layer.bias.normal_()
    return layer.double(), type_in, type_out, order


def _act(field_type, group_order, theta, f):
    """ρ(θ) on the channel axis of f [B, D, H, W]."""
    rho = type_representation(field_type, theta, group_order)
    return torch.einsum("pq,bqhw->bphw", rho, f)


@pytest.mark.parametrize("case", list(LAYER_CASES))
def test_layer_agrees_with_the_dense_basis(case, gen) -> None:
    layer, type_in, type_out, order = _layer(case)
    basis = steerable_basis(type_in, type_out, 5, order)
    assert basis.shape[0] == layer.weight.shape[0]
    dense = torch.einsum("p,poixy->oixy", layer.weight.detach(), basis)
    torch.testing.assert_close(layer.kernel().detach(), dense, **EXACT)


@pytest.mark.parametrize("kernel_size", [3, 5], ids=["k3", "k5"])
@pytest.mark.parametrize("case", list(LAYER_CASES))
def test_layer_rot90_is_exact(case, kernel_size, gen) -> None:
    layer, type_in, type_out, order = _layer(case, kernel_size)
    theta = torch.tensor(math.pi / 2, dtype=torch.float64)
    x = torch.randn(2, layer.in_channels, 13, 16, generator=gen, dtype=torch.float64)
    moved = torch.rot90(_act(type_in, order, theta, x), 1, dims=(-2, -1))
    expected = torch.rot90(_act(type_out, order, theta, layer(x)), 1, dims=(-2, -1))
    torch.testing.assert_close(layer(moved), expected, **EXACT)


def _smooth_disk(channels: int, size: int, gen) -> torch.Tensor:
    """Smooth random fields supported in a disk: [1, C, size, size]."""
    p = pixel_grid(size, size, dtype=torch.float64)
    r2 = (p**2).sum(-1)
    centres = (torch.rand(channels, 3, 2, generator=gen, dtype=torch.float64) - 0.5) * 8
    bumps = torch.exp(-((p - centres[:, :, None, None]) ** 2).sum(-1) / 18).sum(1)
    return (bumps * (r2 <= 11**2))[None]  # [1, C, H, W]


@pytest.mark.parametrize("case", ["SO2-irreps", "C8-mixed"])
def test_layer_45_degrees_is_approximately_equivariant(case, gen) -> None:
    """Bilinear rotation of smooth disk inputs: the reference measures
    0.004-0.009 (interpolation of the input); a wrong layer gives ~1."""
    layer, type_in, type_out, order = _layer(case, bias=False)
    theta = torch.tensor(math.pi / 4, dtype=torch.float64)
    x = _smooth_disk(layer.in_channels, 33, gen)

    def rotate(f):  # (L_g f)(p) = f(g⁻¹ p), bilinear
        p = pixel_grid(33, 33, dtype=torch.float64)
        return sample_signal(f, _rotate(-theta[None], p)[0])

    out_rot = layer(rotate(_act(type_in, order, theta, x)))
    expected = rotate(_act(type_out, order, theta, layer(x)))
    disk = (pixel_grid(33, 33) ** 2).sum(-1) <= 9**2
    err = (out_rot - expected)[..., disk].norm() / expected[..., disk].norm()
    assert err < 0.03, float(err)


def test_layer_gradients_bias_and_shapes(gen) -> None:
    layer, *_ = _layer("C8-mixed")
    x = torch.randn(1, layer.in_channels, 9, 9, generator=gen, dtype=torch.float64)
    layer(x).square().sum().backward()
    assert layer.weight.grad.abs().max() > 0 and layer.bias.grad.abs().max() > 0
    assert layer.bias.shape == (3,)  # two regular fields and one trivial
    bias = layer.expanded_bias()
    assert torch.equal(bias[8:10], torch.zeros(2, dtype=torch.float64))  # ψ_2
    assert layer(x).shape == (1, 8 + 2 + 1 + 8, 9, 9)
    with pytest.raises(ValueError, match=r"\[B, 11, H, W\]"):
        layer(torch.zeros(1, 3, 9, 9, dtype=torch.float64))
    with pytest.raises(ValueError, match="regular"):
        SteerableConvolution(["regular"], [0], 5)


def test_layer_weight_init_gives_unit_variance() -> None:
    layer = SteerableConvolution(["regular"] * 8, ["regular"] * 8, 5, 8)
    x = torch.randn(4, 64, 32, 32)
    with torch.no_grad():
        variance = float(layer(x)[..., 4:-4, 4:-4].var())
    assert 0.5 < variance < 2.0


# ----------------------------------------------------------------------------
# Nonlinearities
# ----------------------------------------------------------------------------


def test_norm_relu_commutes_with_every_rotation(gen) -> None:
    field_type = [0, 1, 2, 3]
    layer = NormReLU(field_type).double()
    x = torch.randn(2, 7, 5, 5, generator=gen, dtype=torch.float64)
    for theta in torch.rand(5, generator=gen, dtype=torch.float64) * 2 * math.pi:
        lhs = layer(_act(field_type, None, theta, x))
        torch.testing.assert_close(lhs, _act(field_type, None, theta, layer(x)))
    assert (layer(x) - x).abs().max() > 0.01  # it does something


@pytest.mark.parametrize("group_order", [None, 8])
def test_fourier_relu(group_order, gen) -> None:
    """Exact for the C_S rotations, approximate for SO(2); the identity on
    signals whose samples are all positive."""
    top = 2 if group_order is None else 4
    samples = 12 if group_order is None else 8
    layer = FourierReLU(3, top, samples, group_order).double()
    field_type = layer.field_type
    x = torch.randn(2, type_dimension(field_type, group_order), 4, 4, generator=gen)
    x = x.double()
    for theta in torch.arange(samples, dtype=torch.float64) * 2 * math.pi / samples:
        lhs = layer(_act(field_type, group_order, theta, x))
        rhs = _act(field_type, group_order, theta, layer(x))
        torch.testing.assert_close(lhs, rhs, **ANALYTIC)
    if group_order is None:  # 12 samples of frequencies <= 2: aliasing of relu
        theta = torch.tensor(0.3, dtype=torch.float64)
        lhs = layer(_act(field_type, None, theta, x))
        rhs = _act(field_type, None, theta, layer(x))
        assert 1e-6 < float((lhs - rhs).norm() / rhs.norm()) < 0.3
    positive = x.clone()  # a large constant term: every sample is positive
    positive.unflatten(1, (3, -1))[:, :, 0] += 100.0
    torch.testing.assert_close(layer(positive), positive, **ANALYTIC)


# ----------------------------------------------------------------------------
# Cross-check with escnn (where installed: tools/escnn_venv.sh)
# ----------------------------------------------------------------------------


def _escnn_filters(gspace, enn, rep_in, rep_out, kernel_size):
    """escnn's R2Conv basis, expanded element by element: [B, D_out, D_in, k, k]."""
    types = (enn.FieldType(gspace, [rep_in]), enn.FieldType(gspace, [rep_out]))
    try:
        conv = enn.R2Conv(*types, kernel_size, padding=kernel_size // 2)
    except ValueError:  # escnn refuses an empty basis
        return torch.zeros(0, dtype=torch.float64)
    size = conv.basisexpansion.dimension()
    weights = torch.eye(size, dtype=conv.weights.dtype)
    filters = [conv.basisexpansion(w) for w in weights]
    return torch.stack(filters).double().reshape(size, -1)


@pytest.mark.parametrize("group_order", [None, 3, 4, 8], ids=["SO2", "C3", "C4", "C8"])
def test_basis_spans_escnns(group_order) -> None:
    """Same size and same span as escnn's R2Conv basis, pair by pair."""
    escnn = pytest.importorskip("escnn")
    from escnn import nn as enn

    if group_order is None:
        gspace = escnn.gspaces.rot2dOnR2(N=-1, maximum_frequency=6)
    else:
        gspace = escnn.gspaces.rot2dOnR2(N=group_order)
    fields = [(m, n) for m, n in _pairs(group_order)]
    reps = {m: gspace.irrep(m) for pair in fields for m in pair}
    cases = [(reps[m], reps[n], pair_basis, (m, n)) for m, n in fields]
    if group_order is not None:
        cases.append((gspace.regular_repr, gspace.regular_repr, None, None))
    for rep_in, rep_out, _, pair in cases:
        for k in (5, 7):
            theirs = _escnn_filters(gspace, enn, rep_in, rep_out, k)
            if pair is None:
                ours = steerable_basis(["regular"], ["regular"], k, group_order)
            else:
                grid = pixel_grid(k, k, dtype=torch.float64)
                ours = pair_basis(*pair, grid, k, group_order)
            ours = ours.flatten(1)
            assert len(theirs) == len(ours), (pair, k)
            if len(ours):
                rank = torch.linalg.matrix_rank(ours, rtol=1e-6)
                both = torch.linalg.matrix_rank(torch.cat((ours, theirs)), rtol=1e-6)
                assert rank == both == len(ours), (pair, k)
