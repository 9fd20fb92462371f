"""Helpers shared by the hidden tests of assignment 4."""

from __future__ import annotations

import torch

from autograder.grading import GradingFailure, as_tensor
from gedl_ref import so3
from gedl_ref import tensor_product as ref_tp

#: Irreps of the layers under test, up to l = 4, both parities.
IN1 = "2x0e + 2x1o + 1x2e + 1x3o + 1x4e"
IN2 = "1x0e + 1x1o + 1x1e + 1x2e"
OUT = "2x0e + 1x0o + 2x1o + 1x1e + 2x2e + 1x2o + 1x3o + 1x3e + 1x4e + 1x4o"
SMALL = ("2x0e + 1x1o", "1x0e + 1x1o", "1x0e + 1x1o + 1x1e")


def relative_error(actual, expected: torch.Tensor, what: str) -> float:
    """Largest |difference| relative to the largest |expected| entry."""
    actual = as_tensor(actual, what, shape=tuple(expected.shape))
    if actual.is_complex():
        raise GradingFailure(f"{what} is complex; the convention is the real basis")
    if not torch.isfinite(actual).all():
        raise GradingFailure(f"{what} returned NaN or inf")
    scale = expected.detach().abs().max().clamp_min(1e-30)
    diff = (actual.double() - expected.detach().double()).abs().max()
    return float(diff / scale)


def orthogonal_matrices(rng: torch.Generator, count: int, improper: bool):
    """Haar-random rotations, or rotations times -1 (improper, det = -1)."""
    R = so3.random_rotation(count, generator=rng)
    return -R if improper else R


def irreps_D(irreps: str, Q: torch.Tensor) -> torch.Tensor:
    """The reference's block-diagonal D(Q) on these irreps, parity included."""
    return so3.Irreps(irreps).D_from_matrix(Q)


def reference_tp(irreps1: str, irreps2: str, irreps_out: str, rng):
    """A float64 reference FullyConnectedTensorProduct with random weights."""
    layer = ref_tp.FullyConnectedTensorProduct(irreps1, irreps2, irreps_out).double()
    with torch.no_grad():
        weight = torch.randn(layer.weight.shape, generator=rng, dtype=torch.float64)
        layer.weight.copy_(weight)
    return layer


def student_tp(student, ref_layer, dtype=torch.float64):
    """The student's layer of the same irreps, holding the reference's weights."""
    irreps = [str(ref_layer.irreps_in1), str(ref_layer.irreps_in2)]
    irreps.append(str(ref_layer.irreps_out))
    layer = student.FullyConnectedTensorProduct(*irreps)
    layer = layer.double() if dtype == torch.float64 else layer.float()
    weight = as_tensor(layer.weight, "FullyConnectedTensorProduct.weight")
    if tuple(weight.shape) != tuple(ref_layer.weight.shape):
        raise GradingFailure(
            f"{irreps[0]} ⊗ {irreps[1]} -> {irreps[2]}: `weight` has shape "
            f"{list(weight.shape)}, expected {list(ref_layer.weight.shape)} (one "
            "weight [mul1, mul2, mul_out] per path with |l1 - l2| <= l_out <= "
            "l1 + l2 and p_out = p1 p2)"
        )
    layer.load_state_dict({"weight": ref_layer.weight.detach().to(dtype)}, strict=False)
    return layer


def student_own_tp(student, irreps, rng, dtype=torch.float64):
    """The student's layer with random weights of its own size.

    Equivariance and bilinearity hold for any weights, so these tests do not
    depend on the number or layout of the student's paths: a layer with a
    forbidden path fails them for that reason, not for a shape mismatch.
    """
    layer = student.FullyConnectedTensorProduct(*irreps)
    layer = layer.double() if dtype == torch.float64 else layer.float()
    weight = as_tensor(layer.weight, "FullyConnectedTensorProduct.weight")
    if weight.ndim != 1 or not weight.numel():
        raise GradingFailure(
            f"FullyConnectedTensorProduct.weight has shape {list(weight.shape)}; "
            "expected [weight_numel], all paths' weights in one vector"
        )
    value = torch.randn(weight.shape, generator=rng, dtype=torch.float64)
    layer.load_state_dict({"weight": value.to(dtype)}, strict=False)
    return layer


def inputs(rng, irreps: str, *batch: int, dtype=torch.float64) -> torch.Tensor:
    """Unit-variance features [*batch, dim] of these irreps."""
    dim = so3.Irreps(irreps).dim
    return torch.randn(*batch, dim, generator=rng, dtype=torch.float64).to(dtype)
