"""Helpers shared by the hidden tests of assignment 5."""

from __future__ import annotations

import torch

from autograder.grading import GradingFailure, as_tensor
from gedl_ref import egnn as ref_egnn
from gedl_ref.graph import knn_graph

F64 = torch.float64

#: name -> constructor options of the layer (the reference's names)
OPTIONS = {
    "plain": {},
    "attention": {"attention": True},
    "normalize": {"normalize": True},
    "velocity": {"velocity": True},
    "all": {"attention": True, "normalize": True, "velocity": True},
}


def graph(rng, n=40, c=8, edge_dim=2, k=6, dtype=F64) -> dict:
    """A random cloud with its kNN graph, thinned so that in-degrees vary
    (and node 0 receives nothing), and random features."""
    x = torch.randn(n, 3, generator=rng, dtype=F64)
    edges = knn_graph(x, k)
    keep = (torch.rand(edges.shape[1], generator=rng) < 0.7) & (edges[1] != 0)
    edges = edges[:, keep].contiguous()
    e = edges.shape[1]
    return {
        "h": torch.randn(n, c, generator=rng, dtype=F64).to(dtype),
        "x": x.to(dtype),
        "edge_index": edges,
        "edge_attr": torch.randn(e, edge_dim, generator=rng, dtype=F64).to(dtype),
        "v": torch.randn(n, 3, generator=rng, dtype=F64).to(dtype),
    }


def args(g: dict, options: dict) -> tuple:
    v = g["v"] if options.get("velocity") else None
    return g["h"], g["x"], g["edge_index"], g["edge_attr"], v


def randomise(module: torch.nn.Module, rng) -> torch.nn.Module:
    """Redraw every parameter ~ N(0, 1/fan_in), so that no layer is near its
    tiny initial coordinate weights and biases are non-zero."""
    with torch.no_grad():
        for p in module.parameters():
            fan_in = p.shape[-1] if p.ndim > 1 else 4
            p.copy_(torch.randn(p.shape, generator=rng, dtype=F64) / fan_in**0.5)
    return module


def reference_layer(options: dict, rng, c=8, hidden=16, edge_dim=2):
    layer = ref_egnn.EGNNLayer(c, hidden, edge_dim=edge_dim, **options).double()
    return randomise(layer, rng)


def reference_model(options: dict, rng, c=8, hidden=16, out=3, layers=3):
    model = ref_egnn.EGNN(c, hidden, out, edge_dim=2, num_layers=layers, **options)
    return randomise(model.double(), rng)


def state_of(module: torch.nn.Module, dtype=F64) -> dict:
    return {k: t.detach().to(dtype) for k, t in module.state_dict().items()}


def load(remote, reference: torch.nn.Module, what: str, dtype=F64):
    """Load the reference's weights into the student's module (strictly),
    after casting it to ``dtype`` so that no weight is rounded on the way."""
    remote = remote.double() if dtype == F64 else remote.float()
    try:
        remote.load_state_dict(state_of(reference, dtype))
    except Exception as error:  # the student's parameter names or shapes differ
        raise GradingFailure(
            f"{what}: could not load the reference's weights ({error}); keep "
            "__init__ as given (edge_mlp, coord_mlp, node_mlp, att_mlp, vel_mlp)"
        ) from None
    return remote


def student_layer(student, options: dict, reference, dtype=F64):
    c, hidden = reference.node_dim, reference.hidden_dim
    layer = student.EGNNLayer(c, hidden, edge_dim=reference.edge_dim, **options)
    return load(layer, reference, "EGNNLayer", dtype)


def student_model(student, options: dict, reference, dtype=F64):
    first = reference.layers[0]
    model = student.EGNN(
        reference.embedding.in_features,
        first.hidden_dim,
        reference.readout.out_features,
        edge_dim=first.edge_dim,
        num_layers=len(reference.layers),
        **options,
    )
    return load(model, reference, "EGNN", dtype)


def pair(out, what: str, n: int, c: int) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise GradingFailure(f"{what} must return a pair (h_new, x_new)")
    h, x = out
    as_tensor(h, f"{what}: h_new", shape=(n, c))
    as_tensor(x, f"{what}: x_new", shape=(n, 3))
    for t, name in ((h, "h_new"), (x, "x_new")):
        if not torch.isfinite(t).all():
            raise GradingFailure(f"{what}: {name} holds NaN or inf")
    return h, x


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    scale = expected.detach().abs().max().clamp_min(1e-30)
    return float((actual.double() - expected.detach().double()).abs().max() / scale)
