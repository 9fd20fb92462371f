"""Assignment 3, performance: forward and backward of the layer, timed against
the reference in the same run; and the structure that makes it fast: one
convolution, and a kernel expansion whose number of operations does not grow
with the number of basis elements (no Python loop over them)."""

from __future__ import annotations

import torch
from a03_common import reference_layer, student_own_layer

from autograder.grading import GradingFailure, graded

SIZES = {
    "cpu": {"batch": 4, "fields": 2, "size": 32, "repeat": 10},
    "cuda": {"batch": 16, "fields": 8, "size": 64, "repeat": 50},
}


def _convolutions(student, session, rng) -> int:
    """How many convolutions one forward of a small layer runs."""
    layer = student_own_layer(student, ["regular"], ["regular"] * 2, 3, 4, rng)
    x = torch.randn(1, 4, 9, 9, generator=rng, dtype=torch.float64)
    return session.count_operators(layer, (x,)).get("aten::convolution", 0)


def _expansion_costs(student, session, rng) -> tuple[list[int], list[int]]:
    """Operations of kernel() for 3 and for 144 basis elements, and the sizes."""
    counts, sizes = [], []
    for types in (([0], [0], 5, None), (["regular"], ["regular"], 7, 8)):
        layer = student_own_layer(student, *types, rng)  # 3 and 144 elements
        sizes.append(int(layer.weight.numel()))
        counts.append(sum(session.count_operators(layer.kernel, ()).values()))
    return counts, sizes


def _loops(counts: list[int]) -> bool:
    # A handful of operations more for the larger basis is a reshape or a
    # cast; a loop adds one or more per basis element (141 more here).
    return counts[1] > counts[0] + 8


@graded(points=4, category="performance")
def test_layer_speed(student, session, perf, device, rng):
    """SteerableConvolution(C8 regular fields), forward+backward, vs the reference"""
    # Time only a layer built the fast way: on a small CPU a loop over the
    # basis costs ~5x, within the half-points band of honest variations, so
    # time alone would still pay it.
    convolutions = _convolutions(student, session, rng)
    counts, _ = _expansion_costs(student, session, rng)
    if convolutions != 1 or _loops(counts):
        raise GradingFailure(
            "SteerableConvolution is not timed: it runs "
            + (
                f"{convolutions} convolutions per forward"
                if convolutions != 1
                else "a Python loop over the basis elements in kernel()"
            )
            + ", so it gets no speed points (see the two structural tests)"
        )
    # A dense expansion (the solution) measures ~1-2x here; the reference
    # stores its basis per pair of distinct fields.
    perf.full_ratio, perf.half_ratio = 4.0, 12.0
    size = SIZES[device]
    field_type = ["regular"] * size["fields"]
    ref = reference_layer(field_type, field_type, 5, 8, rng).float()
    state = {"weight": ref.weight.detach()}
    seeds = torch.randint(0, 2**31, (16,), generator=rng).tolist()
    channels = ref.in_channels

    def build(ns):
        layer = ns.SteerableConvolution(field_type, field_type, 5, 8)
        layer.load_state_dict(state, strict=False)
        return layer.to(device=device, dtype=torch.float32)

    def make_inputs(rep):
        gen = torch.Generator().manual_seed(seeds[rep])
        shape = (size["batch"], channels, size["size"], size["size"])
        return (torch.randn(*shape, generator=gen),)

    with torch.no_grad():
        return perf.compare(
            "SteerableConvolution(C8, regular fields) forward+backward",
            build,
            make_inputs,
            lambda args: ref(args[0]),
            atol=1e-3,
            backward=True,
            repeat=size["repeat"],
        )


@graded(points=3, category="performance")
def test_one_convolution_per_forward(student, session, rng):
    """one convolution for all output fields (counted by torch's profiler)"""
    convolutions = _convolutions(student, session, rng)
    if convolutions != 1:
        raise GradingFailure(
            f"SteerableConvolution ran {convolutions} convolutions in one forward "
            "pass; expand the whole kernel [D_out, D_in, k, k] and call F.conv2d once"
        )


@graded(points=3, category="performance")
def test_expansion_does_not_loop_over_the_basis(student, session, rng):
    """the kernel expansion costs the same number of operations for 3 or 144
    basis elements (one tensor contraction, no loop over the basis)"""
    counts, sizes = _expansion_costs(student, session, rng)
    if _loops(counts):
        raise GradingFailure(
            f"kernel() ran {counts[0]} operations for {sizes[0]} basis elements "
            f"and {counts[1]} for {sizes[1]}: expand all basis elements at "
            "once (weight @ basis.flatten(1), or einsum), not in a Python loop"
        )
