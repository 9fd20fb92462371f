"""Helpers shared by the hidden tests of assignment 1."""

from __future__ import annotations

import math

import torch

from autograder.grading import GradingFailure, as_tensor
from gedl_ref import groups as ref

TWO_PI = 2 * math.pi

#: name -> (how to build it in the student's namespace, the reference group)
GROUPS = {
    "C4": (lambda ns: ns.CyclicGroup(4), ref.CyclicGroup(4)),
    "C5": (lambda ns: ns.CyclicGroup(5), ref.CyclicGroup(5)),
    "C8": (lambda ns: ns.CyclicGroup(8), ref.CyclicGroup(8)),
    "D4": (lambda ns: ns.DihedralGroup(4), ref.DihedralGroup(4)),
    "D6": (lambda ns: ns.DihedralGroup(6), ref.DihedralGroup(6)),
    "SO2": (lambda ns: ns.SO2(), ref.SO2()),
    "R2xC4": (
        lambda ns: ns.RotoTranslationGroup(ns.CyclicGroup(4)),
        ref.RotoTranslationGroup(ref.CyclicGroup(4)),
    ),
    "R2xD4": (
        lambda ns: ns.RotoTranslationGroup(ns.DihedralGroup(4)),
        ref.RotoTranslationGroup(ref.DihedralGroup(4)),
    ),
    "SE2": (lambda ns: ns.SE2(), ref.SE2()),
}


def build(student, name: str):
    """The student's group and the reference group called ``name``."""
    make, reference = GROUPS[name]
    return make(student), reference


def angle_slots(group) -> list[int]:
    """Which parameters of an element are angles (compared on the circle)."""
    if isinstance(group, ref.RotoTranslationGroup):
        return [2]
    return [0]


def raw_elements(group, shape, rng, dtype=torch.float64, spread=3):
    """Random elements, with angles off by whole turns (negative and large),
    as a student's function may receive them."""
    g = group.sample(shape, generator=rng, dtype=dtype)
    turns = torch.randint(-spread, spread + 1, (*shape, 1), generator=rng)
    for slot in angle_slots(group):
        g[..., slot : slot + 1] += TWO_PI * turns.to(dtype)
    return g


def circular_error(a: torch.Tensor, b: torch.Tensor, slots: list[int]) -> torch.Tensor:
    """Entry-wise error, angles measured on the circle."""
    diff = (a.to(torch.float64) - b.to(torch.float64)).abs()
    for slot in slots:
        d = torch.remainder(diff[..., slot], TWO_PI)
        diff[..., slot] = torch.minimum(d, TWO_PI - d)
    return diff


def assert_elements_close(actual, expected, group, what: str, atol: float, hint=""):
    """Group elements agree (angles up to whole turns)."""
    actual = as_tensor(actual, what, shape=tuple(expected.shape))
    if not torch.isfinite(actual).all():
        raise GradingFailure(f"{what} returned NaN or inf")
    err = circular_error(actual, expected, angle_slots(group))
    if (err <= atol).all():
        return
    index = tuple(int(i) for i in torch.unravel_index(torch.argmax(err), err.shape))
    row = index[:-1]
    raise GradingFailure(
        f"{what} is wrong for element {list(row)}: got "
        f"{_fmt(actual[row])}, expected {_fmt(expected[row])} "
        f"(error {err.max().item():.3g} > {atol:g}). {hint}".strip()
    )


def assert_wrapped(value, group, what: str) -> None:
    """Every angle of an element lies in [0, 2π)."""
    for slot in angle_slots(group):
        angles = value[..., slot]
        bad = ~((angles >= 0) & (angles < TWO_PI))
        if bad.any():
            example = angles[bad].flatten()[0].item()
            raise GradingFailure(
                f"{what} returned the angle {example:.6g}, outside [0, 2π): angles "
                "must be wrapped mod 2π (torch.remainder)"
            )


def _fmt(t: torch.Tensor) -> str:
    return "[" + ", ".join(f"{v:.5g}" for v in t.flatten().tolist()) + "]"
