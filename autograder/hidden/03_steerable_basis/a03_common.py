"""Helpers shared by the hidden tests of assignment 3."""

from __future__ import annotations

import math

import torch

from autograder.grading import GradingFailure, as_tensor
from gedl_ref import steerable as ref
from gedl_ref import steerable_irreps as ref_irreps
from gedl_ref.grid import pixel_grid, sample_signal

#: group_order -> readable name
NAMES = {None: "SO(2)", 3: "C3", 4: "C4", 5: "C5", 6: "C6", 8: "C8"}


def frequencies(group_order: int | None, top: int = 3) -> list[int]:
    """The irreps tested: 0..top for SO(2), all of C_N."""
    return list(range(top + 1 if group_order is None else group_order // 2 + 1))


def angles(group_order: int | None, rng: torch.Generator, count: int = 6):
    """Random continuous angles (SO(2)) or every element of C_N, float64."""
    if group_order is None:
        return torch.rand(count, generator=rng, dtype=torch.float64) * 2 * math.pi
    return torch.arange(group_order, dtype=torch.float64) * (2 * math.pi / group_order)


def rotate_points(theta: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Points ``[..., 2]`` rotated by every angle ``[T]`` -> ``[T, ..., 2]``."""
    c, s = torch.cos(theta), torch.sin(theta)
    matrix = torch.stack((torch.stack((c, -s), -1), torch.stack((s, c), -1)), -2)
    return torch.einsum("tij,...j->t...i", matrix, points)


def relative_error(actual, expected, what: str) -> float:
    """Largest |difference| relative to the largest |expected| entry."""
    actual = as_tensor(actual, what, shape=tuple(expected.shape))
    if not torch.isfinite(actual).all():
        raise GradingFailure(f"{what} returned NaN or inf")
    if expected.numel() == 0:
        return 0.0
    scale = expected.detach().abs().max().clamp_min(1e-30)
    diff = (actual.double() - expected.detach().double()).abs().max()
    return float(diff / scale)


def act(field_type, group_order, theta, f):
    """ρ(θ) on the channel axis of ``f [B, D, H, W]`` (reference matrices)."""
    rho = ref_irreps.type_representation(field_type, theta, group_order)
    return torch.einsum("pq,bqhw->bphw", rho, f)


def reference_layer(type_in, type_out, k, group_order, rng):
    """A float64 reference layer with random coefficients."""
    layer = ref.SteerableConvolution(type_in, type_out, k, group_order).double()
    with torch.no_grad():
        weight = torch.randn(layer.weight.shape, generator=rng, dtype=torch.float64)
        layer.weight.copy_(weight * layer.weight.std())
    return layer


def student_layer(student, ref_layer, dtype=torch.float64):
    """The student's layer of the same types, holding the reference's weights."""
    layer = student.SteerableConvolution(
        ref_layer.type_in,
        ref_layer.type_out,
        ref_layer.kernel_size,
        ref_layer.group_order,
    )
    layer = layer.double() if dtype == torch.float64 else layer.float()
    expected = tuple(ref_layer.weight.shape)
    as_tensor(layer.weight, "SteerableConvolution.weight", shape=expected)
    layer.load_state_dict({"weight": ref_layer.weight.detach().to(dtype)}, strict=False)
    return layer


def student_own_layer(student, type_in, type_out, k, group_order, rng):
    """The student's layer with random coefficients over its own basis.

    Equivariance does not depend on the size or order of the basis, so the
    equivariance tests use whatever basis the student built.
    """
    layer = student.SteerableConvolution(type_in, type_out, k, group_order).double()
    weight = as_tensor(layer.weight, "SteerableConvolution.weight")
    if weight.ndim != 1 or not weight.numel():
        raise GradingFailure(
            f"SteerableConvolution.weight has shape {list(weight.shape)}; expected "
            "[P], one coefficient per basis element"
        )
    value = torch.randn(weight.shape, generator=rng, dtype=torch.float64)
    layer.load_state_dict({"weight": value / math.sqrt(len(value))}, strict=False)
    return layer


def smooth_disk(channels: int, size: int, rng) -> torch.Tensor:
    """Smooth random inputs supported in a disk of radius 12: [1, C, H, W]."""
    p = pixel_grid(size, size, dtype=torch.float64)
    r2 = (p**2).sum(-1)
    centres = torch.rand(channels, 3, 2, generator=rng, dtype=torch.float64) - 0.5
    bumps = torch.exp(-((p - 8 * centres[:, :, None, None]) ** 2).sum(-1) / 18)
    return (bumps.sum(1) * (r2 <= 12**2))[None]


def rotate_image(f: torch.Tensor, theta: float) -> torch.Tensor:
    """``(L_g f)(p) = f(g⁻¹ p)`` on the last two axes, bilinear."""
    size = f.shape[-1]
    p = pixel_grid(size, size, dtype=torch.float64)
    back = rotate_points(torch.tensor([-theta], dtype=torch.float64), p)[0]
    return sample_signal(f, back)


def solution_space(m, n, top, group_order, phi, rng):
    """The numerical null space of the constraint among frequencies <= top.

    Unknowns: ``k(φ) = Σ_{a=0..top} cos(aφ) X_a + sin(aφ) Y_a`` (no ``Y_0``);
    equations: ``k(φ + θ) = ψ_n(θ) k(φ) ψ_m(θ)ᵀ`` at the sample angles φ for
    every element of C_N or random angles of SO(2). Returns the solutions
    sampled at ``phi``, ``[S, Φ·d_out·d_in]`` (row-major over φ, then the
    matrix entries).
    """
    d_in = ref_irreps.irrep_dimension(m, group_order)
    d_out = ref_irreps.irrep_dimension(n, group_order)
    eye = torch.eye(d_out * d_in, dtype=torch.float64).view(-1, d_out, d_in)

    def sample(shift):  # [unknowns, Φ, d_out, d_in]
        values = [torch.cos(0 * phi)]
        for a in range(1, top + 1):
            values += [torch.cos(a * (phi + shift)), torch.sin(a * (phi + shift))]
        stacked = torch.stack(values)  # [F, Φ]
        return torch.einsum("fz,eoi->fezoi", stacked, eye).flatten(0, 1)

    base = sample(0.0)
    rows = []
    for t in angles(group_order, rng, 8):
        psi_out = ref_irreps.irrep(n, t, group_order)
        psi_in = ref_irreps.irrep(m, t, group_order)
        rotated = torch.einsum("po,uzoi,qi->uzpq", psi_out, base, psi_in)
        rows.append((sample(t) - rotated).flatten(1))
    system = torch.cat(rows, dim=1).T  # [equations, unknowns]
    _, s, vh = torch.linalg.svd(system)
    rank = int((s > 1e-9 * s[0]).sum())
    return vh[rank:] @ base.flatten(1)
