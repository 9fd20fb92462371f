"""Assignment 5, performance: forward and backward of the EGNN layer on a
large sparse graph, timed against the reference in the same run. The cost
must grow with the number of edges: a layer that forms N × N tensors runs
out of time or memory here and loses these points."""

from __future__ import annotations

import torch
from a05_common import OPTIONS, randomise, state_of

from autograder.grading import graded
from gedl_ref import egnn as ref_egnn
from gedl_ref.graph import knn_graph

# CPU: 6000 nodes, 16 neighbours each (96 000 edges): the reference takes
# ~0.1-0.3 s forward and backward on 2 cores, a dense layer would hold
# 6000² × 33 floats (4.8 GB) per activation. GPU: the 2·10⁴ nodes
# and 3.2·10⁵ edges.
SIZES = {
    "cpu": {"nodes": 6000, "k": 16, "hidden": 16, "repeat": 1},
    "cuda": {"nodes": 20000, "k": 16, "hidden": 32, "repeat": 5},
}


@graded(points=6, category="performance", timeout=120)
def test_layer_speed(student, perf, device, rng):
    """EGNNLayer forward+backward on a large kNN graph, against the reference"""
    size = SIZES[device]
    perf.full_ratio, perf.half_ratio = 4.0, 12.0
    n, c = size["nodes"], size["hidden"]
    options = OPTIONS["attention"]
    ref = randomise(ref_egnn.EGNNLayer(c, c, **options).double(), rng).float()
    state = state_of(ref, torch.float32)
    seeds = torch.randint(0, 2**31, (16,), generator=rng).tolist()
    edges_of = {}

    def build(ns):
        layer = ns.EGNNLayer(c, c, **options)
        layer.load_state_dict(state)
        return ns.JoinOutputs(layer).to(device)

    def make_inputs(rep):
        gen = torch.Generator().manual_seed(seeds[rep])
        x = torch.rand(n, 3, generator=gen) * (n / 8) ** (1 / 3)
        if rep not in edges_of:
            edges_of[rep] = knn_graph(x, size["k"])
        h = torch.randn(n, c, generator=gen)
        return (h, x, edges_of[rep])

    def expected(inputs):
        with torch.no_grad():
            return ref_egnn.JoinOutputs(ref)(*inputs)

    return perf.compare(
        f"EGNNLayer, {n} nodes, {n * size['k']} edges, forward+backward",
        build,
        make_inputs,
        expected,
        atol=1e-3,
        backward=True,
        repeat=size["repeat"],
    )
