"""Assignment 1, performance: product and action on 10⁶ elements, timed
against the reference in the same run (a Python loop over elements fails)."""

from __future__ import annotations

import torch
from a01_common import build

from autograder.grading import graded


def _size(device: str) -> int:
    return 4_000_000 if device == "cuda" else 1_000_000


@graded(points=3, category="performance")
def test_product_speed(student, perf, device, rng):
    """R² ⋊ C4 product of 10⁶ pairs, timed against the reference"""
    _, ref = build(student, "R2xC4")
    n = _size(device)
    seeds = torch.randint(0, 2**31, (16,), generator=rng).tolist()

    def make_inputs(rep):
        gen = torch.Generator().manual_seed(seeds[rep])
        return (ref.sample((n,), generator=gen), ref.sample((n,), generator=gen))

    return perf.compare(
        "R2xC4.product",
        lambda ns: ns.RotoTranslationGroup(ns.CyclicGroup(4)).product,
        make_inputs,
        lambda args: ref.product(*args),
        atol=1e-4,
    )


@graded(points=3, category="performance")
def test_action_speed(student, perf, device, rng):
    """SE(2) action on 10⁶ points, timed against the reference"""
    _, ref = build(student, "SE2")
    n = _size(device)
    seeds = torch.randint(0, 2**31, (16,), generator=rng).tolist()

    def make_inputs(rep):
        gen = torch.Generator().manual_seed(seeds[rep])
        return (ref.sample((n,), generator=gen), torch.randn(n, 2, generator=gen))

    return perf.compare(
        "SE2.left_action_on_R2",
        lambda ns: ns.SE2().left_action_on_R2,
        make_inputs,
        lambda args: ref.left_action_on_R2(*args),
        atol=1e-4,
    )
