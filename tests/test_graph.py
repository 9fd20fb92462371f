"""Tests of gedl_ref.graph: graph builders against brute force, memory
without an N × N matrix, and scatter aggregation against Python loops."""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from gedl_ref.graph import fully_connected_graph, knn_graph, radius_graph, scatter


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


class LargestTensor(TorchDispatchMode):
    """Records the largest number of elements of any tensor an op returns."""

    def __init__(self) -> None:
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.numel())
        return out


def brute_force_radius(pos, r, batch, loop):
    """Edges from the full matrix of squared distances (same arithmetic as the
    builder: sum of squared differences, compared with r²)."""
    n = len(pos)
    dist2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
    close = (dist2 < r * r) & (batch[:, None] == batch[None, :])
    if not loop:
        close.fill_diagonal_(False)
    target, source = torch.nonzero(close, as_tuple=True)
    order = torch.argsort(target * n + source)
    return torch.stack([source[order], target[order]])


@pytest.mark.parametrize("loop", [False, True], ids=["no-loop", "loop"])
@pytest.mark.parametrize("dim", [1, 2, 3, 4], ids=lambda d: f"{d}d")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_radius_graph_equals_brute_force(gen, dim, loop, dtype):
    n = 400
    pos = (torch.randn(n, dim, generator=gen, dtype=torch.float64) * 2).to(dtype)
    batch = torch.randint(0, 3, (n,), generator=gen).sort().values
    for r in (0.3, 1.0, 2.5):
        got = radius_graph(pos, r, batch, loop=loop)
        assert torch.equal(got, brute_force_radius(pos, r, batch, loop)), r


def test_radius_graph_handles_shifted_and_degenerate_clouds(gen):
    # Far from the origin, all points in one cell, and coincident points.
    pos = torch.randn(50, 3, generator=gen, dtype=torch.float64) * 0.1 + 1e4
    pos[10] = pos[11]
    batch = torch.zeros(50, dtype=torch.long)
    for r in (0.05, 10.0):
        want = brute_force_radius(pos, r, batch, False)
        assert torch.equal(radius_graph(pos, r), want)


def test_radius_graph_is_symmetric(gen):
    pos = torch.rand(500, 3, generator=gen)
    j, i = radius_graph(pos, 0.2)
    forward = set(zip(j.tolist(), i.tolist(), strict=True))
    assert forward == {(b, a) for a, b in forward}


def test_radius_graph_without_dense_matrix(gen):
    # 10⁵ points with ~10 neighbours each: a dense distance matrix would have
    # 10¹⁰ entries. The cell list processes one neighbour offset at a time, so
    # no tensor grows beyond a small multiple of the candidate pairs of one
    # offset (~N × points per cell, about 10 N) or of the edges.
    n = 100_000
    side = (n * 4 / 3 * torch.pi / 10) ** (1 / 3)
    pos = torch.rand(n, 3, generator=gen) * side
    with LargestTensor() as probe:
        edges = radius_graph(pos, 1.0)
    assert 5 * n < edges.shape[1] < 20 * n
    assert probe.largest <= 4 * edges.shape[1] + 3 * n, probe.largest
    assert probe.largest < n * n // 1000  # a dense matrix has n² entries


def brute_force_knn(pos, k, batch, loop):
    n = len(pos)
    dist = torch.cdist(pos, pos)
    dist[batch[:, None] != batch[None, :]] = float("inf")
    if not loop:
        dist.fill_diagonal_(float("inf"))
    edges = set()
    for i in range(n):
        value, source = dist[i].sort()
        for j in source[torch.isfinite(value)][:k].tolist():
            edges.add((j, i))
    return edges


@pytest.mark.parametrize("loop", [False, True], ids=["no-loop", "loop"])
def test_knn_graph_equals_brute_force(gen, loop):
    n, k = 300, 6
    pos = torch.randn(n, 3, generator=gen, dtype=torch.float64)
    batch = torch.cat([torch.zeros(4, dtype=torch.long), torch.ones(n - 4).long()])
    got = knn_graph(pos, k, batch, loop=loop)
    pairs = set(zip(*got.tolist(), strict=True))
    assert pairs == brute_force_knn(pos, k, batch, loop)
    # Each target in the small graph of 4 has only 3 (4 with loop) sources.
    per_target = torch.bincount(got[1], minlength=n)
    assert per_target[:4].tolist() == [4 if loop else 3] * 4
    assert (per_target[4:] == k).all()


def test_knn_graph_without_dense_matrix(gen):
    n = 12_000
    pos = torch.rand(n, 3, generator=gen)
    with LargestTensor() as probe:
        edges = knn_graph(pos, 8)
    assert edges.shape == (2, 8 * n)
    # Distances are computed in blocks of at most 2^22 entries (16 MiB).
    assert probe.largest <= 1 << 22
    assert probe.largest < n * n // 20  # a dense matrix has n² entries


def test_fully_connected_graph_equals_brute_force():
    batch = torch.tensor([0, 0, 0, 1, 2, 2, 2, 2])
    n = len(batch)
    for loop in (False, True):
        want = brute_force_radius(torch.zeros(n, 1), 1.0, batch, loop)
        assert torch.equal(fully_connected_graph(batch, loop=loop), want)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
@pytest.mark.parametrize("shape", [(), (3,), (2, 4)], ids=["scalar", "vec", "mat"])
def test_scatter_equals_loop(gen, reduce, shape):
    e, n = 40, 7
    src = torch.randn(e, *shape, generator=gen, dtype=torch.float64)
    index = torch.randint(0, n - 1, (e,), generator=gen)  # row n − 1 stays empty
    got = scatter(src, index, n, reduce)
    assert got.shape == (n, *shape)
    for i in range(n):
        rows = src[index == i]
        if len(rows) == 0:
            want = torch.zeros(shape, dtype=src.dtype)
        else:
            want = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.amax(0)}
            want = want[reduce]
        # Sums of up to 40 float64 terms in another order: rounding ~1e-15.
        torch.testing.assert_close(got[i], want, rtol=1e-12, atol=1e-12)


def test_scatter_gradient_of_sum_is_gather(gen):
    src = torch.randn(10, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    index = torch.randint(0, 4, (10,), generator=gen)
    weight = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    (scatter(src, index, 4) * weight).sum().backward()
    assert torch.equal(src.grad, weight[index])


def test_errors_say_what_to_do():
    pos = torch.zeros(5, 3)
    with pytest.raises(ValueError, match="positive"):
        radius_graph(pos, 0.0)
    with pytest.raises(ValueError, match=r"\[N, d\]"):
        radius_graph(torch.zeros(5), 1.0)
    with pytest.raises(TypeError, match="floating"):
        knn_graph(torch.zeros(5, 3, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="one entry per point"):
        radius_graph(pos, 1.0, batch=torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="sorted"):
        fully_connected_graph(torch.tensor([1, 0]))
    with pytest.raises(ValueError, match="reduce"):
        scatter(pos, torch.zeros(5, dtype=torch.long), 1, "min")
