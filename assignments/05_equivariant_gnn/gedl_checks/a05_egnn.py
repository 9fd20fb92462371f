"""Public checks of assignment 5: the EGNN layer and model.

Each check takes the class the notebook defines and tests properties that
every correct implementation has:

- the outputs are a pair ``(h', x')`` of the documented shapes, and a node
  that receives no edge keeps its position;
- coordinates move along relative positions: on a graph of two nodes,
  ``x_i' − x_i`` is parallel to ``x_i − x_j``;
- E(3) equivariance in float64 for Haar-random rotations, a reflection and
  a translation: ``h'`` invariant, ``x'`` transformed like ``x``, measured
  with :func:`gedl_checks.equivariance.check_equivariance`, with a diagnosis
  when only rotations, or only translations, fail;
- permutation equivariance: permute the nodes and the edges, permute the
  output back, compare;
- gradients reach every parameter.

For ``ScalarVectorLayer`` (scalars and vectors, ``l <= 1``): the four
Clebsch–Gordan paths on one edge with hand-set weights, O(3) and translation
equivariance (scalars invariant, vectors rotated), and permutations.

They never compare with a reference implementation. A failed check raises
:class:`CheckFailed` whose message names the property, the size of the error
and a hint; a passed check prints one line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from gedl_checks.equivariance import check_equivariance
from gedl_checks.runner import CheckFailed

__all__ = [
    "CheckFailed",
    "check_egnn_layer",
    "check_egnn_model",
    "check_scalar_vector_layer",
]

_SEED = 20250105
#: float64: transformed and untransformed runs differ only by rounding.
_TOL = 1e-9

_OPTIONS = {
    "plain": {},
    "attention": {"attention": True},
    "normalize": {"normalize": True},
    "velocity": {"velocity": True},
}


class _Failure(Exception):
    """One property failed; the message is written for the student."""


def _guard(title: str, name: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except _Failure as failure:
        raise CheckFailed(f"{title}, {name}: {failure}") from None
    except NotImplementedError:
        raise CheckFailed(
            f"not implemented yet: {title}. Replace the `raise "
            "NotImplementedError()` line with your code and run this cell again."
        ) from None
    except Exception as error:
        raise CheckFailed(
            f"{title}, {name}: your code raised {type(error).__name__}: {error} "
            "(the traceback above shows where)"
        ) from error


def _run(title: str, checks: Sequence[tuple[str, Callable[[], None]]]) -> None:
    for name, check in checks:
        _guard(title, name, check)
    names = ", ".join(name for name, _ in checks)
    print(f"✓ {title}: {names} ({len(checks)} checks passed)")


# ----------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------


def _gen(salt: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(_SEED + salt)


def _graph(n: int = 12, c: int = 6, edge_dim: int = 2, salt: int = 0) -> dict:
    """Random float64 features, positions, velocities and a sparse graph in
    which node 0 receives no edge."""
    gen = _gen(salt)
    x = torch.randn(n, 3, generator=gen, dtype=torch.float64)
    pairs = [(j, i) for i in range(1, n) for j in range(n) if j != i]
    keep = torch.rand(len(pairs), generator=gen) < 0.5
    edges = torch.tensor(pairs, dtype=torch.long)[keep].T.contiguous()  # [2, E]
    return {
        "h": torch.randn(n, c, generator=gen, dtype=torch.float64),
        "x": x,
        "v": torch.randn(n, 3, generator=gen, dtype=torch.float64),
        "edge_index": edges,
        "edge_attr": torch.randn(edges.shape[1], edge_dim, generator=gen).double(),
    }


def _orthogonal(salt: int, proper: bool) -> Tensor:
    """A Haar-random rotation (``proper``) or rotation times −1."""
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=_gen(salt), dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))
    return q if (torch.linalg.det(q) > 0) == proper else -q


def _build(cls: type, options: dict, c: int = 6, hidden: int = 16, **extra) -> Any:
    torch.manual_seed(_SEED)
    layer = cls(c, hidden, edge_dim=2, **options, **extra).double()
    with torch.no_grad():
        # Larger coordinate weights than at init, so that moves are visible.
        layer.coord_mlp[-1].weight.normal_(0, 0.5, generator=_gen(7))
    return layer


def _pair(out: Any, what: str, n: int, c_out: int) -> tuple[Tensor, Tensor]:
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise _Failure(f"{what} must return a pair (h_new, x_new), got {type(out)}")
    h, x = out
    for t, name, shape in ((h, "h_new", (n, c_out)), (x, "x_new", (n, 3))):
        if not isinstance(t, Tensor) or tuple(t.shape) != shape:
            got = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
            raise _Failure(f"{name} must be a tensor {list(shape)}, got {got}")
    return h, x


def _call(model: Any, g: dict, options: dict) -> tuple[Tensor, Tensor]:
    v = g["v"] if options.get("velocity") else None
    return model(g["h"], g["x"], g["edge_index"], g["edge_attr"], v)


# ----------------------------------------------------------------------------
# Properties
# ----------------------------------------------------------------------------


def _check_shapes_and_isolated(layer: Any, options: dict, c_out: int) -> None:
    g = _graph()
    h, x = _pair(_call(layer, g, options), "forward", 12, c_out)
    if not (torch.isfinite(h).all() and torch.isfinite(x).all()):
        raise _Failure("the output holds NaN or inf")
    moved = x[0] - g["x"][0]
    if options.get("velocity"):
        moved = moved - layer.vel_mlp(g["h"][0]) * g["v"][0]
    if moved.abs().max() > 1e-12:
        raise _Failure(
            f"node 0 receives no edge but moved by {moved.abs().max():.3g}: it must "
            "keep its position. Write x_new = x + update, with the update "
            "aggregated over the targets edge_index[1] (scatter_mean gives zero "
            "where nothing arrives), plus vel_mlp(h) v with velocity"
        )


def _check_relative_direction(layer: Any, options: dict) -> None:
    g = _graph(n=2)
    g["edge_index"] = torch.tensor([[1, 0], [0, 1]])
    g["edge_attr"] = g["edge_attr"][:1].expand(2, -1).contiguous()
    with torch.no_grad():
        _, x = _call(layer, {**g, "v": torch.zeros_like(g["v"])}, options)
    d = g["x"][0] - g["x"][1]
    for i, sign in ((0, 1.0), (1, -1.0)):
        move = x[i] - g["x"][i]
        across = torch.linalg.cross(move, sign * d).norm() / (d.norm() ** 2)
        if across > 1e-9 or move.norm() < 1e-9 * d.norm():
            raise _Failure(
                f"on a graph of two nodes, node {i} moved by {move.tolist()}, "
                f"not along x_{i} − x_{1 - i} = {(sign * d).tolist()} (off by "
                f"{across:.3g}). Move each node by Σ_j (x_i − x_j) φ_x(m_ij): "
                "relative positions only, never x_i alone"
            )


def _check_e3(layer: Any, options: dict) -> None:
    g = _graph()
    shift = torch.tensor([3.0, -2.0, 1.0], dtype=torch.float64)
    elements = [
        ("rotation 1", _orthogonal(1, True), 0 * shift),
        ("rotation 2", _orthogonal(2, True), 0 * shift),
        ("reflection", _orthogonal(3, False), 0 * shift),
        ("translation", torch.eye(3, dtype=torch.float64), shift),
        ("rotation + translation", _orthogonal(4, True), shift),
    ]

    def fn(inputs: dict) -> tuple[Tensor, Tensor]:
        return _call(layer, inputs, options)

    def act_in(e, inputs):
        _, q, t = e
        return {**inputs, "x": inputs["x"] @ q.T + t, "v": inputs["v"] @ q.T}

    def act_out(e, out):
        _, q, t = e
        return out[0], out[1] @ q.T + t

    report = check_equivariance(
        fn,
        elements,
        act_in,
        act_out,
        g,
        tolerance=_TOL,
        labels=[e[0] for e in elements],
    )
    if report.ok:
        return
    bad = {report.labels[i] for i in report.failures}
    if bad == {"translation", "rotation + translation"}:
        hint = (
            "only translations fail: use relative positions x_i − x_j in the "
            "coordinate update, and add it to x_i (x_new = x + update)"
        )
    elif "translation" not in bad:
        hint = (
            "rotations fail but translations pass: messages may see positions "
            "only through ‖x_i − x_j‖² (squared norm, summed over the last "
            "axis), and every vector term must be a scalar times x_i − x_j or v_i"
        )
    else:
        hint = "h_new must be invariant and x_new move with the positions"
    raise _Failure(report.message("E(3) equivariance") + " Hint: " + hint)


def _check_permutation(layer: Any, options: dict) -> None:
    g = _graph(salt=3)
    n, e = 12, g["edge_index"].shape[1]
    perm = torch.randperm(n, generator=_gen(11))  # new node k is old perm[k]
    inverse = torch.argsort(perm)
    order = torch.randperm(e, generator=_gen(12))
    moved = {
        "h": g["h"][perm],
        "x": g["x"][perm],
        "v": g["v"][perm],
        "edge_index": inverse[g["edge_index"]][:, order],
        "edge_attr": g["edge_attr"][order],
    }
    with torch.no_grad():
        h1, x1 = _call(layer, g, options)
        h2, x2 = _call(layer, moved, options)
    err = max(
        float((h2[inverse] - h1).abs().max() / h1.abs().max()),
        float((x2[inverse] - x1).abs().max() / x1.abs().max()),
    )
    if not err <= _TOL:
        raise _Failure(
            f"renumbering the nodes (and reordering the edges) changed the "
            f"output by {err:.3g} (relative) after numbering it back. Aggregate "
            "with a scatter over edge_index[1]; never rely on the order of edges"
        )


def _check_gradients(layer: Any, options: dict) -> None:
    g = _graph()
    h, x = _call(layer, g, options)
    (h.sum() + x.sum()).backward()
    missing = [
        name
        for name, p in layer.named_parameters()
        if p.grad is None or p.grad.abs().max() == 0
    ]
    layer.zero_grad()
    if missing:
        raise _Failure(
            f"no gradient reached {missing}: use every MLP of __init__ in "
            "forward (coord_mlp for x, node_mlp for h, edge_mlp for messages)"
        )


def _layer_checks(layer: Any, o: dict) -> list[tuple[str, Callable[[], None]]]:
    return [
        ("shapes", lambda: _check_shapes_and_isolated(layer, o, 6)),
        ("direction", lambda: _check_relative_direction(layer, o)),
        ("E(3)", lambda: _check_e3(layer, o)),
        ("permutation", lambda: _check_permutation(layer, o)),
        ("gradients", lambda: _check_gradients(layer, o)),
    ]


def _model_checks(model: Any, o: dict) -> list[tuple[str, Callable[[], None]]]:
    return [
        ("shapes", lambda: _pair(_call(model, _graph(), o), "EGNN", 12, 3)),
        ("E(3)", lambda: _check_e3(model, o)),
        ("permutation", lambda: _check_permutation(model, o)),
    ]


def check_egnn_layer(cls: type) -> None:
    """Check an ``EGNNLayer(node_dim, hidden_dim, out_dim=None, edge_dim=0,
    attention=False, normalize=False, velocity=False)`` class."""
    for name, options in _OPTIONS.items():
        title = f"EGNNLayer ({name})"
        layer = _guard(title, "construction", lambda o=options: _build(cls, o))
        _run(title, _layer_checks(layer, options))


def check_egnn_model(cls: type) -> None:
    """Check an ``EGNN(in_node_dim, hidden_dim, out_node_dim, edge_dim=0,
    num_layers=4, attention=False, normalize=False, velocity=False)`` class."""
    for name in ("plain", "velocity"):
        options = _OPTIONS[name]
        title = f"EGNN ({name})"

        def build(o=options):
            torch.manual_seed(_SEED)
            return cls(6, 16, 3, edge_dim=2, num_layers=3, **o).double()

        model = _guard(title, "construction", build)
        _run(title, _model_checks(model, options))


# ----------------------------------------------------------------------------
# ScalarVectorLayer
# ----------------------------------------------------------------------------


def _sv_inputs(n: int = 12, c: int = 4, salt: int = 20) -> dict:
    g = _graph(n=n, c=c, salt=salt)
    gen = _gen(salt + 1)
    return {
        "s": g["h"],
        "V": torch.randn(n, c, 3, generator=gen, dtype=torch.float64),
        "x": g["x"] * 1.5,
        "edge_index": g["edge_index"],
    }


def _sv_call(layer: Any, g: dict) -> tuple[Tensor, Tensor]:
    out = layer(g["s"], g["V"], g["x"], g["edge_index"])
    n, c = g["s"].shape
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise _Failure("forward must return a pair (s_new, V_new)")
    for t, name, shape in ((out[0], "s_new", (n, c)), (out[1], "V_new", (n, c, 3))):
        if not isinstance(t, Tensor) or tuple(t.shape) != shape:
            got = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
            raise _Failure(f"{name} must be a tensor {list(shape)}, got {got}")
    return out[0], out[1]


def _check_sv_paths(cls: type) -> None:
    """One edge 1 -> 0 along +z, at length 2, one channel, every path weight
    1: S = s_1 + V_1·u and W = s_1 u + V_1 with the UNIT direction u = e_z."""
    layer = cls(1).double()
    with torch.no_grad():
        layer.radial[-1].weight.zero_()
        layer.radial[-1].bias.fill_(1.0)
        layer.mix_scalars.weight.copy_(torch.tensor([[1.0], [0.0]]))
        layer.mix_scalars.bias.zero_()
        layer.mix_vectors.weight.fill_(1.0)
    x = torch.tensor([[0.0, 0.0, 2.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    s = torch.tensor([[0.0], [2.0]], dtype=torch.float64)
    V = torch.tensor([[[0.0, 0.0, 0.0]], [[1.0, 2.0, 3.0]]], dtype=torch.float64)
    with torch.no_grad():
        s1, V1 = _sv_call(
            layer, {"s": s, "V": V, "x": x, "edge_index": torch.tensor([[1], [0]])}
        )
    S = 2.0 + 3.0
    want_s = S / (1 + torch.exp(torch.tensor(-S, dtype=torch.float64)))
    want_V = 0.5 * torch.tensor([1.0, 2.0, 5.0], dtype=torch.float64)
    if abs(float(s1[0, 0] - want_s)) > 1e-9:
        raise _Failure(
            f"one edge 1 -> 0 along +z of length 2 with s_1 = 2, V_1 = (1, 2, 3) "
            f"and every path weight 1: expected s_0' = silu(s_1 + V_1·u) = "
            f"{float(want_s):.6g} with the unit direction u = (0, 0, 1), got "
            f"{float(s1[0, 0]):.6g}. Check the 0e⊗0e and 1o⊗1o paths, and that "
            "u is normalised (the length enters only through the radial weights)"
        )
    if (V1[0, 0] - want_V).abs().max() > 1e-9:
        raise _Failure(
            f"same edge: expected V_0' = σ(0)·(s_1 u + V_1) = {want_V.tolist()}, "
            f"got {V1[0, 0].tolist()}. Check the 0e⊗1o path (s_j times the unit "
            "u), the 1o⊗0e path (V_j), and the gate σ(g) on mix_vectors(W)"
        )
    if (s1[1] - s[1]).abs().max() > 1e-12 or (V1[1] - V[1]).abs().max() > 1e-12:
        raise _Failure(
            "node 1 receives no edge, so its features must come out unchanged "
            "(residual plus zero messages): aggregate at the target edge_index[1]"
        )


def _check_sv_e3(layer: Any) -> None:
    g = _sv_inputs()
    shift = torch.tensor([3.0, -2.0, 1.0], dtype=torch.float64)
    elements = [
        ("rotation 1", _orthogonal(21, True), 0 * shift),
        ("rotation 2", _orthogonal(22, True), 0 * shift),
        ("reflection", _orthogonal(23, False), 0 * shift),
        ("rotation + translation", _orthogonal(24, True), shift),
    ]

    def act_in(e, inputs):
        _, q, t = e
        return {**inputs, "x": inputs["x"] @ q.T + t, "V": inputs["V"] @ q.T}

    def act_out(e, out):
        return out[0], out[1] @ e[1].T

    report = check_equivariance(
        lambda inputs: _sv_call(layer, inputs),
        elements,
        act_in,
        act_out,
        g,
        tolerance=_TOL,
        labels=[e[0] for e in elements],
    )
    if not report.ok:
        raise _Failure(
            report.message("E(3) equivariance")
            + " Hint: scalars may use directions only through dot products "
            "V_j · u; vectors must be scalars times u or V_j; use x_i − x_j, "
            "never x_j alone"
        )


def _check_sv_permutation(layer: Any) -> None:
    g = _sv_inputs(salt=30)
    n, e = g["s"].shape[0], g["edge_index"].shape[1]
    perm = torch.randperm(n, generator=_gen(31))
    inverse = torch.argsort(perm)
    order = torch.randperm(e, generator=_gen(32))
    moved = {
        "s": g["s"][perm],
        "V": g["V"][perm],
        "x": g["x"][perm],
        "edge_index": inverse[g["edge_index"]][:, order],
    }
    with torch.no_grad():
        s1, V1 = _sv_call(layer, g)
        s2, V2 = _sv_call(layer, moved)
    err = max(
        float((s2[inverse] - s1).abs().max() / s1.abs().max()),
        float((V2[inverse] - V1).abs().max() / V1.abs().max()),
    )
    if not err <= _TOL:
        raise _Failure(
            f"renumbering nodes and edges changed the output by {err:.3g} after "
            "numbering it back: aggregate with scatter_sum over edge_index[1]"
        )


def check_scalar_vector_layer(cls: type) -> None:
    """Check a ``ScalarVectorLayer(channels, ...)`` class."""
    title = "ScalarVectorLayer"

    def build():
        torch.manual_seed(_SEED)
        return cls(4, avg_num_neighbors=3.0).double()

    layer = _guard(title, "construction", build)
    _run(
        title,
        [
            ("paths", lambda: _check_sv_paths(cls)),
            ("E(3)", lambda: _check_sv_e3(layer)),
            ("permutation", lambda: _check_sv_permutation(layer)),
        ],
    )
