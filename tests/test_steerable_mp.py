"""Tests of gedl_ref.steerable_mp: O(3), translation and permutation
equivariance of the layer and model, the gate, and the message equation.

Float64 throughout: the transformed and untransformed computations differ by
rounding of the Wigner matrices and of sums (~1e-15); tolerance 1e-10.
"""

from __future__ import annotations

import math

import pytest
import torch

from gedl_ref.graph import radius_graph, scatter
from gedl_ref.so3 import Irreps, spherical_harmonics
from gedl_ref.steerable_mp import (
    Gate,
    ScalarVectorLayer,
    SteerableEnergyModel,
    SteerableMessagePassing,
)

F64 = torch.float64
EXACT = {"rtol": 1e-10, "atol": 1e-10}
HIDDEN = "8x0e + 2x0o + 4x1o + 2x1e + 2x2e"


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


def haar_orthogonal(gen, proper: bool) -> torch.Tensor:
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=gen, dtype=F64))
    q = q * torch.sign(torch.diagonal(r))
    return q if (torch.linalg.det(q) > 0) == proper else -q


def rep(irreps: Irreps, q: torch.Tensor) -> torch.Tensor:
    """The block-diagonal matrix of ``q`` on features of ``irreps``."""
    blocks = [b.ir.D_from_matrix(q) for b in Irreps(irreps) for _ in range(b.mul)]
    return torch.block_diag(*blocks)


def cloud(gen, n=24):
    x = torch.randn(n, 3, generator=gen, dtype=F64) * 1.5
    return x, radius_graph(x, 2.0)


@pytest.mark.parametrize("proper", [True, False], ids=["rotation", "reflection"])
def test_layer_is_o3_equivariant(gen, proper):
    layer = SteerableMessagePassing(HIDDEN, HIDDEN, lmax=3).double()
    x, edges = cloud(gen)
    h = torch.randn(len(x), Irreps(HIDDEN).dim, generator=gen, dtype=F64)
    q = haar_orthogonal(gen, proper)
    t = torch.randn(3, generator=gen, dtype=F64) * 5
    D = rep(HIDDEN, q)
    out = layer(h, x, edges)
    moved = layer(h @ D.T, x @ q.T + t, edges)
    torch.testing.assert_close(moved, out @ D.T, **EXACT)
    # Non-trivial: the layer changed every kind of feature.
    for s in Irreps(HIDDEN).slices():
        assert (out - h)[:, s].norm() > 1e-3 * h[:, s].norm()


@pytest.mark.parametrize("proper", [True, False], ids=["rotation", "reflection"])
def test_model_energy_invariant_vectors_equivariant(gen, proper):
    model = SteerableEnergyModel(3, HIDDEN, num_layers=3).double()
    x, edges = cloud(gen)
    h = torch.randn(len(x), 3, generator=gen, dtype=F64)
    batch = (torch.arange(len(x)) >= 10).long()
    edges = edges[:, batch[edges[0]] == batch[edges[1]]]
    q = haar_orthogonal(gen, proper)
    t = torch.randn(3, generator=gen, dtype=F64) * 5
    energy, vectors = model(h, x, edges, batch)
    energy2, vectors2 = model(h, x @ q.T + t, edges, batch)
    assert energy.shape == (2,) and vectors.shape == (len(x), 3)
    torch.testing.assert_close(energy2, energy, **EXACT)
    torch.testing.assert_close(vectors2, vectors @ q.T, **EXACT)
    assert vectors.norm() > 1e-3 and energy.abs().min() > 1e-6


def test_layer_is_permutation_equivariant(gen):
    layer = SteerableMessagePassing(HIDDEN, HIDDEN).double()
    x, edges = cloud(gen)
    h = torch.randn(len(x), Irreps(HIDDEN).dim, generator=gen, dtype=F64)
    perm = torch.randperm(len(x), generator=gen)
    inverse = torch.argsort(perm)
    new_edges = inverse[edges][:, torch.randperm(edges.shape[1], generator=gen)]
    out = layer(h, x, edges)
    moved = layer(h[perm], x[perm], new_edges)
    torch.testing.assert_close(moved[inverse], out, **EXACT)


def test_messages_follow_the_equation(gen):
    # Rebuild Σ_j TP_{w(r)}(h_j, Y(x̂_ij)) from the layer's parts, with
    # x_ij = x_i − x_j (target minus source), and compare the layer's output.
    layer = SteerableMessagePassing("4x0e + 2x1o", "4x0e + 2x1o", avg_num_neighbors=4.0)
    layer = layer.double()
    x, edges = cloud(gen, n=10)
    h = torch.randn(10, Irreps("4x0e + 2x1o").dim, generator=gen, dtype=F64)
    j, i = edges
    d = x[i] - x[j]
    u = d / d.norm(dim=-1, keepdim=True)
    Y = spherical_harmonics([0, 1, 2], u, normalize=False, normalization="component")
    w = layer.radial(layer.radial_basis(d.norm(dim=-1, keepdim=True)))
    m = scatter(layer.tp(h[j], Y, w), i, 10) / 2.0  # sqrt(k) = 2
    ones = torch.ones(10, 1, dtype=F64)
    pre = layer.linear(m, ones) + layer.self_connection(h, ones)
    torch.testing.assert_close(layer(h, x, edges), h + layer.gate(pre), **EXACT)


def test_gate_scales_each_channel_by_its_own_gate():
    gate = Gate("1x0e + 1x0o + 2x1o")
    assert str(gate.irreps_in) == "1x0e+1x0o+2x0e+2x1o"
    x = torch.tensor([1.0, 2.0, 0.0, 100.0, 1, 2, 3, 4, 5, 6], dtype=F64)
    out = gate(x)
    want = torch.tensor(
        [1.0 / (1 + math.exp(-1.0)), math.tanh(2.0), 0.5, 1.0, 1.5, 4, 5, 6],
        dtype=F64,
    )
    torch.testing.assert_close(out, want, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="scalars first"):
        Gate("1x1o + 1x0e")


@pytest.mark.parametrize("proper", [True, False], ids=["rotation", "reflection"])
def test_scalar_vector_layer_is_e3_equivariant(gen, proper):
    layer = ScalarVectorLayer(6, avg_num_neighbors=4.0).double()
    x, edges = cloud(gen)
    s = torch.randn(len(x), 6, generator=gen, dtype=F64)
    V = torch.randn(len(x), 6, 3, generator=gen, dtype=F64)
    q = haar_orthogonal(gen, proper)
    t = torch.randn(3, generator=gen, dtype=F64) * 5
    s1, V1 = layer(s, V, x, edges)
    s2, V2 = layer(s, V @ q.T, x @ q.T + t, edges)
    torch.testing.assert_close(s2, s1, **EXACT)
    torch.testing.assert_close(V2, V1 @ q.T, **EXACT)
    assert (s1 - s).norm() > 1e-3 * s.norm() and (V1 - V).norm() > 1e-3 * V.norm()


def test_scalar_vector_layer_is_permutation_equivariant(gen):
    layer = ScalarVectorLayer(4).double()
    x, edges = cloud(gen)
    s = torch.randn(len(x), 4, generator=gen, dtype=F64)
    V = torch.randn(len(x), 4, 3, generator=gen, dtype=F64)
    perm = torch.randperm(len(x), generator=gen)
    inverse = torch.argsort(perm)
    new_edges = inverse[edges][:, torch.randperm(edges.shape[1], generator=gen)]
    s1, V1 = layer(s, V, x, edges)
    s2, V2 = layer(s[perm], V[perm], x[perm], new_edges)
    torch.testing.assert_close(s2[inverse], s1, **EXACT)
    torch.testing.assert_close(V2[inverse], V1, **EXACT)


def test_scalar_vector_paths_on_one_edge():
    # One edge 1 -> 0 along +z at length 1, one channel, all path weights 1:
    # S = s_1 + V_1·u, W = s_1 u + V_1 (the four paths by hand).
    layer = ScalarVectorLayer(1).double()
    with torch.no_grad():
        layer.radial[-1].weight.zero_()
        layer.radial[-1].bias.fill_(1.0)
        layer.mix_scalars.weight.copy_(torch.tensor([[1.0], [0.0]]))
        layer.mix_scalars.bias.zero_()
        layer.mix_vectors.weight.fill_(1.0)
    x = torch.tensor([[0.0, 0, 1], [0.0, 0, 0]], dtype=F64)
    s = torch.tensor([[0.0], [2.0]], dtype=F64)
    V = torch.tensor([[[0.0, 0, 0]], [[1.0, 2.0, 3.0]]], dtype=F64)
    s1, V1 = layer(s, V, x, torch.tensor([[1], [0]]))
    S, W = 2.0 + 3.0, torch.tensor([1.0, 2.0, 3.0 + 2.0], dtype=F64)
    silu = S / (1 + math.exp(-S))
    torch.testing.assert_close(s1[0, 0], torch.tensor(silu, dtype=F64))
    torch.testing.assert_close(V1[0, 0], 0.5 * W)  # gate σ(0) = 1/2
