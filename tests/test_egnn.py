"""Tests of gedl_ref.egnn: E(3) and permutation equivariance, the layer's
equations against a per-node loop and a dense implementation, sparse memory,
and a short N-body training run that learns.

Float64 tolerances: the transformed and untransformed computations differ
only by rounding of matrix products and sums (~1e-15 relative); 1e-10
leaves room for growth through four layers. Float32: rounding ~1e-7
relative, grown through the MLPs; 1e-4 relative.
"""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from benchmarks.egnn import dense_egnn_layer
from gedl_ref.egnn import EGNN, EGNNLayer, JoinOutputs
from gedl_ref.graph import knn_graph, radius_graph
from gedl_ref.nbody import make_nbody_dataset, nbody_graph

F64 = torch.float64
EXACT = {"rtol": 1e-10, "atol": 1e-10}

OPTIONS = {
    "plain": {},
    "attention": {"attention": True},
    "normalize": {"normalize": True},
    "velocity": {"velocity": True},
    "tanh": {"tanh": True},
    "sum-coords": {"coord_aggregation": "sum"},
    "mean-messages": {"message_aggregation": "mean"},
    "everything": {
        "attention": True,
        "normalize": True,
        "velocity": True,
        "tanh": True,
    },
}


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Seed the global generator, which initialises the weights."""
    torch.manual_seed(0)


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


def haar_orthogonal(gen, dtype=F64) -> torch.Tensor:
    """A Haar-random element of O(3) (QR with the sign fix of Mezzadri)."""
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=gen, dtype=F64))
    return (q * torch.sign(torch.diagonal(r))).to(dtype)


def random_graph(gen, n=30, c=8, edge_dim=0, dtype=F64):
    """A cloud of n points with its kNN graph and random features."""
    x = torch.randn(n, 3, generator=gen, dtype=F64).to(dtype)
    edges = knn_graph(x, 6)
    h = torch.randn(n, c, generator=gen, dtype=F64).to(dtype)
    v = torch.randn(n, 3, generator=gen, dtype=F64).to(dtype)
    a = torch.randn(edges.shape[1], edge_dim, generator=gen, dtype=F64).to(dtype)
    return h, x, v, edges, (a if edge_dim else None)


def layer_with(options: dict, c=8, hidden=16, edge_dim=0, dtype=F64) -> EGNNLayer:
    layer = EGNNLayer(c, hidden, edge_dim=edge_dim, **options).to(dtype)
    with torch.no_grad():
        # The coordinate MLP starts tiny (gain 0.001); make it count.
        layer.coord_mlp[-1].weight.normal_(0, 1.0)
    return layer


def call(model, h, x, v, edges, a, options):
    return model(h, x, edges, a, v if options.get("velocity") else None)


@pytest.mark.parametrize("name", list(OPTIONS))
@pytest.mark.parametrize("reflect", [False, True], ids=["rotation", "reflection"])
def test_layer_is_e3_equivariant(gen, name, reflect):
    options = OPTIONS[name]
    layer = layer_with(options, edge_dim=2)
    h, x, v, edges, a = random_graph(gen, edge_dim=2)
    q = haar_orthogonal(gen)
    if (torch.linalg.det(q) > 0) == reflect:
        q = -q
    t = torch.randn(3, generator=gen, dtype=F64) * 5
    h1, x1 = call(layer, h, x, v, edges, a, options)
    h2, x2 = call(layer, h, x @ q.T + t, v @ q.T, edges, a, options)
    torch.testing.assert_close(h2, h1, **EXACT)
    torch.testing.assert_close(x2, x1 @ q.T + t, **EXACT)
    # Non-trivial: the positions moved and the features changed.
    assert (x1 - x).norm() > 1e-2 * x.norm()
    assert (h1 - h).norm() > 1e-2 * h.norm()


@pytest.mark.parametrize("name", ["plain", "everything"])
def test_model_is_e3_equivariant_in_float32(gen, name):
    options = OPTIONS[name]
    model = EGNN(8, 32, 4, edge_dim=2, num_layers=4, **options)
    h, x, v, edges, a = random_graph(gen, edge_dim=2, dtype=torch.float32)
    q = haar_orthogonal(gen, torch.float32)
    t = torch.randn(3, generator=gen) * 5
    h1, x1 = call(model, h, x, v, edges, a, options)
    h2, x2 = call(model, h, x @ q.T + t, v @ q.T, edges, a, options)
    # Float32 rounding (~1e-7) of inputs near |x + t| ~ 10, through 4 layers.
    torch.testing.assert_close(h2, h1, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(x2, x1 @ q.T + t, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["plain", "everything"])
def test_model_is_e3_equivariant_in_float64(gen, name):
    options = OPTIONS[name]
    model = EGNN(8, 32, 4, edge_dim=2, num_layers=4, **options).double()
    h, x, v, edges, a = random_graph(gen, edge_dim=2)
    q = haar_orthogonal(gen)
    t = torch.randn(3, generator=gen, dtype=F64) * 5
    h1, x1 = call(model, h, x, v, edges, a, options)
    h2, x2 = call(model, h, x @ q.T + t, v @ q.T, edges, a, options)
    torch.testing.assert_close(h2, h1, **EXACT)
    torch.testing.assert_close(x2, x1 @ q.T + t, **EXACT)


@pytest.mark.parametrize("name", ["plain", "everything"])
def test_layer_is_permutation_equivariant(gen, name):
    options = OPTIONS[name]
    layer = layer_with(options, edge_dim=2)
    h, x, v, edges, a = random_graph(gen, edge_dim=2)
    n, e = len(h), edges.shape[1]
    perm = torch.randperm(n, generator=gen)  # new node k is old node perm[k]
    inverse = torch.argsort(perm)
    edge_perm = torch.randperm(e, generator=gen)  # and the edges reordered
    new_edges = inverse[edges][:, edge_perm]
    h1, x1 = call(layer, h, x, v, edges, a, options)
    h2, x2 = call(layer, h[perm], x[perm], v[perm], new_edges, a[edge_perm], options)
    # Permute back and compare: only the order of the scatter sums differs.
    torch.testing.assert_close(h2[inverse], h1, **EXACT)
    torch.testing.assert_close(x2[inverse], x1, **EXACT)


def loop_layer(layer, h, x, edges, a, v):
    """The layer's equations, one target node at a time (no scatter)."""
    h_out, x_out = [], []
    for i in range(len(h)):
        sources = edges[0, edges[1] == i].tolist()
        slots = torch.nonzero(edges[1] == i).squeeze(1).tolist()
        m_sum = torch.zeros(layer.hidden_dim, dtype=h.dtype)
        shift = torch.zeros(3, dtype=h.dtype)
        for j, e in zip(sources, slots, strict=True):
            d = x[i] - x[j]
            inp = torch.cat([h[i], h[j], (d * d).sum()[None], a[e]])
            m = layer.edge_mlp(inp)
            if layer.attention:
                m = m * torch.sigmoid(layer.att_mlp(m))
            w = layer.coord_mlp(m)
            if layer.tanh:
                w = layer.coords_range * torch.tanh(w)
            if layer.normalize:
                d = d / (d.norm() + layer.norm_constant)
            shift += d * w
            m_sum += m
        shift = shift / max(len(sources), 1)  # coord_aggregation == "mean"
        x_new = x[i] + shift
        if layer.velocity:
            x_new = x_new + layer.vel_mlp(h[i]) * v[i]
        x_out.append(x_new)
        h_out.append(h[i] + layer.node_mlp(torch.cat([h[i], m_sum])))
    return torch.stack(h_out), torch.stack(x_out)


@pytest.mark.parametrize("name", ["plain", "everything"])
def test_layer_equals_per_node_loop(gen, name):
    options = OPTIONS[name]
    layer = layer_with(options, edge_dim=2)
    h, x, v, edges, a = random_graph(gen, n=12, edge_dim=2)
    edges = edges[:, edges[1] != 3]  # node 3 receives nothing
    a = a[: edges.shape[1]]
    with torch.no_grad():
        got = call(layer, h, x, v, edges, a, options)
        want = loop_layer(layer, h, x, edges, a, v)
    torch.testing.assert_close(got[0], want[0], **EXACT)
    torch.testing.assert_close(got[1], want[1], **EXACT)


@pytest.mark.parametrize("name", ["plain", "everything", "sum-coords", "mean-messages"])
def test_layer_equals_dense_implementation(gen, name):
    options = OPTIONS[name]
    layer = layer_with(options)
    h, x, v, edges, _ = random_graph(gen, n=25)
    adjacency = torch.zeros(25, 25, dtype=torch.bool)
    adjacency[edges[1], edges[0]] = True
    got = call(layer, h, x, v, edges, None, options)
    want = dense_egnn_layer(layer, h, x, adjacency, v=v)
    torch.testing.assert_close(got[0], want[0], **EXACT)
    torch.testing.assert_close(got[1], want[1], **EXACT)


def test_large_graph_allocates_per_edge_not_per_pair(gen):
    # 10⁴ nodes, ~1.6·10⁵ edges: every tensor of forward and backward is at
    # most E × hidden (the messages); a dense layer would need N² × hidden.
    n, hidden = 10_000, 16
    side = (n * 4 / 3 * torch.pi / 16) ** (1 / 3)
    x = torch.rand(n, 3, generator=gen) * side
    edges = radius_graph(x, 1.0)
    layer = EGNNLayer(hidden, hidden)
    h = torch.randn(n, hidden, generator=gen, requires_grad=True)
    with LargestTensor() as probe:
        h1, x1 = layer(h, x, edges)
        (h1.sum() + x1.sum()).backward()
    e = edges.shape[1]
    assert e > 10 * n
    assert probe.largest <= e * (2 * hidden + 1)  # the edge MLP's input
    assert h.grad.shape == h.shape


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


def test_short_nbody_training_learns():
    # 512 systems, 10 epochs of a 2-layer model: the validation MSE of the
    # positions 1000 steps ahead drops well below linear extrapolation
    # x + v t (0.070 on these systems), to ~0.03; the bound leaves margin.
    steps = {"start_step": 100, "horizon": 1000}
    train = make_nbody_dataset(512, seed=1, **steps)
    val = nbody_graph(make_nbody_dataset(256, seed=2, **steps))
    linear = float(((val.x + val.v - val.target) ** 2).mean())
    model = EGNN(1, 32, 1, edge_dim=2, num_layers=2, velocity=True)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(10):
        order = torch.randperm(len(train), generator=gen)
        for first in range(0, len(train), 64):
            g = nbody_graph(train[order[first : first + 64]])
            _, x = model(g.h, g.x, g.edge_index, g.edge_attr, g.v)
            loss = ((x - g.target) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    with torch.no_grad():
        _, x = model(val.h, val.x, val.edge_index, val.edge_attr, val.v)
    mse = float(((x - val.target) ** 2).mean())
    assert mse < 0.6 * linear, (mse, linear)


def test_errors_say_what_to_do(gen):
    with pytest.raises(ValueError, match="residual=False"):
        EGNNLayer(8, 16, out_dim=4)
    with pytest.raises(ValueError, match="coord_aggregation"):
        EGNNLayer(8, 16, coord_aggregation="max")
    h, x, v, edges, _ = random_graph(gen, dtype=torch.float32)
    with pytest.raises(ValueError, match="pass v"):
        EGNNLayer(8, 16, velocity=True)(h, x, edges)
    with pytest.raises(ValueError, match="edge_dim=2"):
        EGNNLayer(8, 16, edge_dim=2)(h, x, edges)
    with pytest.raises(ValueError, match=r"\[2, E\]"):
        EGNNLayer(8, 16)(h, x, edges.T.contiguous())


def test_join_outputs_concatenates_features_and_positions(gen):
    layer = layer_with({})
    h, x, _, edges, _ = random_graph(gen)
    h1, x1 = layer(h, x, edges)
    assert torch.equal(JoinOutputs(layer)(h, x, edges), torch.cat([h1, x1], dim=-1))
