"""Helpers shared by the hidden tests of assignment 2."""

from __future__ import annotations

import math

import torch

from autograder.grading import GradingFailure, as_tensor
from gedl_ref import conv as ref_conv
from gedl_ref import groups as ref_groups

#: name -> (the group in the student's namespace, the reference group)
GROUPS = {
    "C4": (lambda ns: ns.CyclicGroup(4), ref_groups.CyclicGroup(4)),
    "C8": (lambda ns: ns.CyclicGroup(8), ref_groups.CyclicGroup(8)),
    "D4": (lambda ns: ns.DihedralGroup(4), ref_groups.DihedralGroup(4)),
}
LAYERS = {"lifting": "LiftingConvolution", "group": "GroupConvolution"}


def elements(group) -> torch.Tensor:
    return group.elements(dtype=torch.float64)


def index_table(group) -> torch.Tensor:
    """``table[a, i]`` is the index of ``a⁻¹ g_i``: the group axis of
    ``L_a y`` at ``g_i`` reads ``y`` at ``a⁻¹ g_i``."""
    e = elements(group)
    moved = group.product(group.inverse(e)[:, None, :], e[None, :, :])  # [G, G, D]
    distance = (moved[:, :, None, :] - e[None, None, :, :]).abs().sum(-1)
    return distance.argmin(-1)  # [G, G]


def exact_elements(group) -> list[int]:
    """Indices of the elements that act exactly on a pixel grid (90° steps)."""
    angles = elements(group)[:, 0] / (math.pi / 2)
    return [i for i, a in enumerate(angles.tolist()) if abs(a - round(a)) < 1e-9]


def spatial(group, a: int, f: torch.Tensor) -> torch.Tensor:
    """L_a on the two last axes, for an exact element (flip, then rot90)."""
    theta, *flag = elements(group)[a].tolist()
    if flag and flag[0] > 0.5:
        f = torch.flip(f, dims=(-2,))
    return torch.rot90(f, round(theta / (math.pi / 2)) % 4, dims=(-2, -1))


def on_group_maps(group, a: int, y: torch.Tensor) -> torch.Tensor:
    """L_a on a feature map ``[B, C, G, H, W]``: permute the group axis by
    ``a⁻¹ g``, and transform the planes."""
    return spatial(group, a, y[:, :, index_table(group)[a]])


def reference_layer(kind: str, group_name: str, c_in: int, c_out: int, k: int, rng):
    """A float64 reference layer with random weights and bias."""
    group = GROUPS[group_name][1]
    layer = getattr(ref_conv, LAYERS[kind])(group, c_in, c_out, k).double()
    with torch.no_grad():
        layer.weight.copy_(
            torch.randn(layer.weight.shape, generator=rng, dtype=torch.float64)
        )
        layer.weight.mul_(1 / math.sqrt(layer.weight[0].numel()))
        layer.bias.copy_(torch.randn(c_out, generator=rng, dtype=torch.float64))
    return layer


def student_layer(student, kind: str, group_name: str, ref_layer, dtype=torch.float64):
    """The student's layer of the same shape, holding the reference's weights."""
    make_group = GROUPS[group_name][0]
    c_out, c_in, *_, k = ref_layer.weight.shape
    name = LAYERS[kind]
    layer = getattr(student, name)(make_group(student), c_in, c_out, k)
    layer = layer.double() if dtype == torch.float64 else layer.float()
    for param in ("weight", "bias"):
        value = getattr(layer, param)
        expected = tuple(getattr(ref_layer, param).shape)
        as_tensor(value, f"{name}.{param}", shape=expected)
    state = {p: getattr(ref_layer, p).detach().to(dtype) for p in ("weight", "bias")}
    layer.load_state_dict(state, strict=False)
    return layer


def relative_error(actual, expected, what: str) -> float:
    actual = as_tensor(actual, what, shape=tuple(expected.shape))
    if not torch.isfinite(actual).all():
        raise GradingFailure(f"{what} returned NaN or inf")
    scale = expected.detach().abs().max().clamp_min(1e-30)
    diff = (actual.double() - expected.detach().double()).abs().max()
    return float(diff / scale.detach())
