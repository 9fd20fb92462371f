"""EGNN: the sparse reference against a dense one, and the N-body benchmark.

Part 1, cost by graph size. Random point clouds of ``N`` points in a cube
whose side keeps the density fixed, with the radius graph of about ``k``
neighbours per point. For every ``N`` this times, forward and forward +
backward (gradients of ``h`` and of all weights), medians over repeats:

* the reference :class:`gedl_ref.egnn.EGNNLayer` (gathers on the ``E``
  edges, ``scatter`` to the nodes: ``O(E)``), and
* :func:`dense_egnn_layer`, the same layer with the same weights computed
  on all ``N²`` ordered pairs and masked by the adjacency matrix, the way
  fully connected EGNN implementations work (``O(N²)``). It runs only up to
  ``--dense-max`` nodes; beyond that it needs gigabytes.

Part 2, N-body. The reference :class:`gedl_ref.egnn.EGNN` with velocities
(4 layers, 64 hidden, sum of messages, mean of coordinate updates, residual
features; node feature ``‖v_i‖``, edge features ``[q_i q_j, ‖x_i − x_j‖²]``)
trained with Adam (lr 5e-4, batch 100, MSE on the positions 1000 steps
ahead) on systems from :mod:`gedl_ref.nbody`, and its validation and test
MSE printed beside the EGNN paper's 0.0071 (test MSE after 10 000 epochs on
3000 training systems, model picked by validation). What differs from the
paper's protocol is printed with the figures; by default it is the number
of epochs, which 2 CPU cores cannot afford.

    python -m benchmarks.egnn [--sizes 125 250 500 1000 10000] [--epochs 60]
                              [--skip-sizes] [--skip-nbody]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Callable

import torch
from torch import Tensor

from gedl_ref.egnn import EGNN, EGNNLayer
from gedl_ref.graph import radius_graph
from gedl_ref.nbody import NBodyData, NBodyGraph, make_nbody_dataset, nbody_graph

log = logging.getLogger(__name__)

#: Test MSE of EGNN on the charged N-body task, Satorras et al. 2021, Table 2.
PUBLISHED_MSE = 0.0071


def dense_egnn_layer(
    layer: EGNNLayer,
    h: Tensor,
    x: Tensor,
    adjacency: Tensor,
    edge_attr: Tensor | None = None,
    v: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """``layer``'s update computed on all ``N²`` pairs, masked by adjacency.

    ``adjacency[i, j]`` is True for the edge from ``j`` to ``i``. Uses the
    layer's own MLPs, so it agrees with ``layer(h, x, edge_index, ...)`` on
    the same graph up to float rounding.

    Shapes:
        h: ``[N, C]``, x: ``[N, d]``, adjacency: ``[N, N]`` (bool),
        edge_attr: ``[N, N, edge_dim]``, v: ``[N, d]``
    """
    n = len(h)
    mask = adjacency.to(h.dtype)[..., None]  # [N, N, 1]
    diff = x[:, None, :] - x[None, :, :]  # [N, N, d] x_i − x_j
    dist2 = (diff * diff).sum(-1, keepdim=True)  # [N, N, 1]
    parts = [h[:, None, :].expand(n, n, -1), h[None, :, :].expand(n, n, -1), dist2]
    if layer.edge_dim:
        parts.append(edge_attr)
    m = layer.edge_mlp(torch.cat(parts, dim=-1))  # [N, N, hidden]
    if layer.attention:
        m = m * torch.sigmoid(layer.att_mlp(m))
    m = m * mask
    degree = mask.sum(1).clamp(min=1)  # [N, 1]

    weight = layer.coord_mlp(m)  # [N, N, 1]
    if layer.tanh:
        weight = layer.coords_range * torch.tanh(weight)
    if layer.normalize:
        diff = diff / (dist2.sqrt() + layer.norm_constant)
    update = (diff * weight * mask).sum(1)  # [N, d]
    if layer.coord_aggregation == "mean":
        update = update / degree
    x_new = x + update
    if layer.velocity:
        x_new = x_new + layer.vel_mlp(h) * v

    m_i = m.sum(1)  # [N, hidden]
    if layer.message_aggregation == "mean":
        m_i = m_i / degree
    h_new = layer.node_mlp(torch.cat([h, m_i], dim=-1))
    return (h + h_new if layer.residual else h_new), x_new


# ----------------------------------------------------------------------------
# Part 1: cost by graph size
# ----------------------------------------------------------------------------


def _median_ms(function: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _point_cloud(
    n: int, neighbours: float, gen: torch.Generator
) -> tuple[Tensor, Tensor]:
    """``n`` uniform points and the radius graph with ~``neighbours`` each."""
    radius = 1.0
    density = neighbours / (4 / 3 * torch.pi * radius**3)
    side = (n / density) ** (1 / 3)
    pos = torch.rand(n, 3, generator=gen) * side
    return pos, radius_graph(pos, radius)


def _step(
    forward: Callable[[], tuple[Tensor, Tensor]], leaves: list[Tensor]
) -> Callable[[], None]:
    def run() -> None:
        h, x = forward()
        (h.sum() + x.sum()).backward()
        for t in leaves:
            t.grad = None

    return run


def time_sizes(
    sizes: list[int], hidden: int, neighbours: float, repeats: int, dense_max: int
) -> list[dict]:
    """One row per size: edges and medians (ms) of sparse and dense."""
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    layer = EGNNLayer(hidden, hidden)
    rows = []
    for n in sizes:
        pos, edges = _point_cloud(n, neighbours, gen)
        h = torch.randn(n, hidden, generator=gen, requires_grad=True)
        leaves = [h, *layer.parameters()]
        row = {"N": n, "E": edges.shape[1]}

        def sparse(pos=pos, edges=edges, h=h):
            return layer(h, pos, edges)

        with torch.no_grad():
            row["sparse fwd"] = _median_ms(sparse, repeats)
        row["sparse f+b"] = _median_ms(_step(sparse, leaves), repeats)
        if n <= dense_max:
            adjacency = torch.zeros(n, n, dtype=torch.bool)
            adjacency[edges[1], edges[0]] = True

            def dense(pos=pos, adjacency=adjacency, h=h):
                return dense_egnn_layer(layer, h, pos, adjacency)

            with torch.no_grad():
                row["dense fwd"] = _median_ms(dense, repeats)
            row["dense f+b"] = _median_ms(_step(dense, leaves), repeats)
        rows.append(row)
    return rows


def print_sizes(rows: list[dict], hidden: int, neighbours: float) -> None:
    print(
        f"EGNN layer, hidden {hidden}, radius graph with ~{neighbours:g} "
        f"neighbours per node, float32, CPU ({torch.get_num_threads()} threads); "
        "medians in ms"
    )
    head = (
        "N",
        "E",
        "sparse fwd",
        "dense fwd",
        "sparse f+b",
        "dense f+b",
        "dense/sparse f+b",
    )
    print(" | ".join(f"{c:>10}" for c in head))
    for row in rows:
        ratio = row.get("dense f+b", float("nan")) / row["sparse f+b"]
        cells = (
            [row["N"], row["E"]]
            + [row.get(c, float("nan")) for c in head[2:6]]
            + [ratio]
        )
        print(
            " | ".join(
                f"{c:>10.1f}" if isinstance(c, float) else f"{c:>10}" for c in cells
            )
        )


# ----------------------------------------------------------------------------
# Part 2: N-body
# ----------------------------------------------------------------------------


def nbody_model(seed: int = 0) -> EGNN:
    """The EGNN paper's N-body model: 4 velocity layers, 64 hidden."""
    torch.manual_seed(seed)
    return EGNN(1, 64, 1, edge_dim=2, num_layers=4, velocity=True)


def nbody_mse(model: EGNN, graph: NBodyGraph) -> float:
    """Mean squared error of the predicted positions over all coordinates."""
    with torch.no_grad():
        _, x = model(graph.h, graph.x, graph.edge_index, graph.edge_attr, graph.v)
    return float(((x - graph.target) ** 2).mean())


def train_nbody(
    train: NBodyData,
    val: NBodyData,
    epochs: int,
    batch_size: int = 100,
    lr: float = 5e-4,
    seed: int = 0,
) -> tuple[EGNN, list[float], list[float]]:
    """Adam on the MSE of positions; returns the model with the best
    validation MSE, and the training and validation curves (per epoch)."""
    model = nbody_model(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-12)
    gen = torch.Generator().manual_seed(seed)
    val_graph = nbody_graph(val)
    best, best_state, train_curve, val_curve = float("inf"), None, [], []
    for _ in range(epochs):
        order = torch.randperm(len(train), generator=gen)
        losses = []
        for first in range(0, len(train), batch_size):
            g = nbody_graph(train[order[first : first + batch_size]])
            _, x = model(g.h, g.x, g.edge_index, g.edge_attr, g.v)
            loss = ((x - g.target) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()))
        train_curve.append(statistics.fmean(losses))
        val_curve.append(nbody_mse(model, val_graph))
        if len(val_curve) % 10 == 0:
            log.info(
                "epoch %d: train %.4f, val %.4f",
                len(val_curve),
                train_curve[-1],
                val_curve[-1],
            )
        if val_curve[-1] < best:
            best = val_curve[-1]
            best_state = {k: t.clone() for k, t in model.state_dict().items()}
    model.load_state_dict(best_state)
    return model, train_curve, val_curve


def run_nbody(n_train: int, n_val: int, n_test: int, epochs: int) -> None:
    start = time.perf_counter()
    train = make_nbody_dataset(n_train, seed=1)
    val = make_nbody_dataset(n_val, seed=2)
    test = make_nbody_dataset(n_test, seed=3)
    simulated = time.perf_counter() - start
    model, train_curve, val_curve = train_nbody(train, val, epochs)
    trained = time.perf_counter() - start - simulated
    test_mse = nbody_mse(model, nbody_graph(test))
    print(
        "N-body (charged, 5 particles, 3D, no box; input step 3100, target "
        "1000 steps later)"
    )
    print(
        f"  simulated {n_train}/{n_val}/{n_test} systems in {simulated:.0f} s; "
        f"trained {epochs} epochs in {trained:.0f} s"
    )
    print(
        f"  best validation MSE {min(val_curve):.4f}, test MSE {test_mse:.4f} "
        f"(published EGNN: {PUBLISHED_MSE} test MSE)"
    )
    shown = sorted({0, len(val_curve) // 4, len(val_curve) // 2, len(val_curve) - 1})
    curve = ", ".join(f"{e + 1}: {val_curve[e]:.4f}" for e in shown)
    print(f"  validation MSE by epoch: {curve}")
    print("  protocol differences from the paper:")
    if epochs < 10_000:
        print(f"    - {epochs} epochs instead of 10000 (CPU budget)")
    if (n_train, n_val, n_test) != (3000, 2000, 2000):
        print(
            f"    - {n_train}/{n_val}/{n_test} train/val/test systems instead of "
            "3000/2000/2000"
        )
    print(
        "    - data from gedl_ref.nbody (same physics and constants, our own "
        "seeds), not the authors' files"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[125, 250, 500, 1000, 10000]
    )
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--neighbours", type=float, default=16.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dense-max", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--val", type=int, default=2000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--skip-sizes", action="store_true")
    parser.add_argument("--skip-nbody", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not args.skip_sizes:
        rows = time_sizes(
            args.sizes, args.hidden, args.neighbours, args.repeats, args.dense_max
        )
        print_sizes(rows, args.hidden, args.neighbours)
        print()
    if not args.skip_nbody:
        run_nbody(args.train, args.val, args.test, args.epochs)


if __name__ == "__main__":
    main()
