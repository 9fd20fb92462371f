"""Assignment 4, performance: forward and backward of the tensor product,
timed against the reference in the same run; and the structure that makes it
fast: the number of operators of a forward pass does not grow with the batch
(no loop over samples) nor with the number of paths (no loop over paths).

On 2 CPU cores a timing ratio does not separate a loop over the paths from a
fused layer at sizes that fit the time budget (both read 0.5-1x the
reference), so most of the points are on the structure, counted by torch's
profiler, and a loop over either axis loses them."""

from __future__ import annotations

import torch
from a04_common import reference_tp

from autograder.grading import GradingFailure, graded
from gedl_ref import so3

SIZES = {
    "cpu": {"irreps": "8x0e + 8x1o + 4x2e", "batch": 256, "repeat": 5},
    "cuda": {"irreps": "16x0e + 16x1o + 8x2e", "batch": 4096, "repeat": 20},
}
EDGE = "1x0e + 1x1o + 1x2e"


def _layer(student, irreps, rng):
    """The student's layer with random weights of its own."""
    layer = student.FullyConnectedTensorProduct(*irreps).double()
    numel = int(layer.weight.numel())
    value = torch.randn(numel, generator=rng, dtype=torch.float64)
    layer.load_state_dict({"weight": value}, strict=False)
    return layer


def _inputs(rng, irreps, batch):
    dims = [so3.Irreps(i).dim for i in irreps[:2]]
    return tuple(
        torch.randn(batch, d, generator=rng, dtype=torch.float64) for d in dims
    )


@graded(points=3, category="performance")
def test_layer_speed(student, perf, device, rng):
    """FullyConnectedTensorProduct, forward+backward, vs the reference"""
    # Measured on 2 busy CPU cores: the solution (one dense bilinear form)
    # 0.5-0.7x the reference, a loop over the paths 0.5-1.0x, a loop over the
    # samples 6-8x (half points at most; test_forward_is_vectorised takes the
    # rest).
    perf.full_ratio, perf.half_ratio = 3.0, 8.0
    size = SIZES[device]
    irreps = (size["irreps"], EDGE, size["irreps"])
    ref = reference_tp(*irreps, rng).float()
    state = {"weight": ref.weight.detach()}
    seeds = torch.randint(0, 2**31, (16,), generator=rng).tolist()

    def build(ns):
        layer = ns.FullyConnectedTensorProduct(*irreps)
        layer.load_state_dict(state, strict=False)
        return layer.to(device=device, dtype=torch.float32)

    def make_inputs(rep):
        gen = torch.Generator().manual_seed(seeds[rep])
        return (
            torch.randn(size["batch"], ref.irreps_in1.dim, generator=gen),
            torch.randn(size["batch"], ref.irreps_in2.dim, generator=gen),
        )

    with torch.no_grad():
        return perf.compare(
            "FullyConnectedTensorProduct forward+backward",
            build,
            make_inputs,
            lambda args: ref(*args),
            atol=1e-3,
            backward=True,
            repeat=size["repeat"],
        )


def _operator_count(session, layer, args) -> int:
    return sum(session.count_operators(layer, args).values())


@graded(points=8, category="performance")
def test_forward_is_vectorised(student, session, rng):
    """a forward pass runs as many operators for 2 samples as for 32, and for 1
    path as for 17 (no Python loop over samples or paths)"""
    irreps = ("4x0e + 2x1o", EDGE, "4x0e + 2x1o + 1x1e")
    layer = _layer(student, irreps, rng)
    counts = [
        _operator_count(session, layer, _inputs(rng, irreps, batch))
        for batch in (2, 32)
    ]
    if counts[1] > counts[0] + 4:
        raise GradingFailure(
            f"forward ran {counts[0]} operators for 2 samples and {counts[1]} for "
            "32: do not loop over the samples; batch axes broadcast through "
            "matrix products"
        )

    counts, paths = [], []
    for irreps in (
        ("2x0e", "1x0e", "2x0e"),
        ("2x0e + 2x1o + 1x2e", EDGE, "2x0e + 2x1o + 1x1e + 2x2e + 1x2o + 1x3o"),
    ):
        layer = _layer(student, irreps, rng)
        paths.append(len(layer.instructions))
        counts.append(_operator_count(session, layer, _inputs(rng, irreps, 4)))
    if counts[1] > counts[0] + 8:
        raise GradingFailure(
            f"forward ran {counts[0]} operators for {paths[0]} path and "
            f"{counts[1]} for {paths[1]} paths: do not loop over the paths in "
            "forward; precompute the index structure of all paths in __init__ and "
            "contract them together"
        )
