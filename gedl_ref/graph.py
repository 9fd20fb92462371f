"""Graphs on point clouds, and scatter aggregation over their edges.

A graph on ``N`` points is an ``edge_index`` ``[2, E]`` (int64) in the
*source-to-target* convention: column ``e = (j, i)`` is the edge from the
source ``j = edge_index[0, e]`` to the target ``i = edge_index[1, e]``; a
message ``m_ij`` computed on it is aggregated at the target ``i``. Every
builder here returns its edges sorted by target, then by source, so equal
graphs have equal ``edge_index`` tensors.

Several point clouds are batched PyG-style: their points are concatenated
and ``batch`` ``[N]`` (int64) names the cloud of every point; edges never
join two clouds.

No builder forms an ``N × N`` matrix:

* :func:`radius_graph` bins the points into cubic cells of side ``r`` (a cell
  list, found by sorting integer cell keys) and compares each point only with
  the points of its own and the ``3^d − 1`` adjacent cells: memory and time
  ``O(N · points per cell · 3^d)``.
* :func:`knn_graph` computes distances in blocks of rows, keeping the ``k``
  smallest per row: time ``O(N²)``, memory ``O(block · N)``.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor

__all__ = [
    "fully_connected_graph",
    "knn_graph",
    "radius_graph",
    "scatter",
]

#: Largest number of float entries of one block of pairwise distances.
_BLOCK_ENTRIES = 1 << 22


# ----------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------


def _check_positions(pos: object) -> Tensor:
    """Return ``pos`` if it is a float tensor ``[N, d]``."""
    if not isinstance(pos, Tensor):
        raise TypeError(f"pos must be a torch.Tensor [N, d], got {type(pos).__name__}")
    if not pos.is_floating_point():
        raise TypeError(f"pos must have a floating dtype, got {pos.dtype}")
    if pos.ndim != 2:
        raise ValueError(f"pos must have shape [N, d], got shape {tuple(pos.shape)}")
    return pos


def _check_batch(batch: object, num_nodes: int, device: torch.device) -> Tensor:
    """``batch`` as an int64 tensor ``[N]``; all zeros when it is None."""
    if batch is None:
        return torch.zeros(num_nodes, dtype=torch.long, device=device)
    if not isinstance(batch, Tensor) or batch.dtype != torch.long:
        raise TypeError("batch must be an int64 tensor [N] naming each point's graph")
    if batch.shape != (num_nodes,):
        raise ValueError(
            f"batch must have shape [{num_nodes}] (one entry per point), "
            f"got {tuple(batch.shape)}"
        )
    if num_nodes and bool((batch < 0).any()):
        raise ValueError("batch must hold non-negative graph indices")
    return batch


def _sorted_edges(source: Tensor, target: Tensor, num_nodes: int) -> Tensor:
    """``[2, E]`` edge index sorted by target, then source."""
    order = torch.argsort(target * num_nodes + source)
    return torch.stack([source[order], target[order]])  # [2, E]


# ----------------------------------------------------------------------------
# Graph builders
# ----------------------------------------------------------------------------


def radius_graph(
    pos: Tensor,
    r: float,
    batch: Tensor | None = None,
    loop: bool = False,
) -> Tensor:
    """Edges between all pairs of points closer than ``r``, in both directions.

    Edge ``(j, i)`` is present iff ``‖pos_i − pos_j‖² < r²`` (strictly; the
    squared distance is summed from the difference), ``batch_i ==
    batch_j``, and ``i ≠ j`` unless ``loop``. A cell list finds the
    candidates: points are binned into cells of side ``r`` and only points in
    adjacent cells (all ``3^d`` offsets in ``{−1, 0, 1}^d``) are compared, so
    no ``N × N`` matrix is formed. For ``d > 3`` the ``3^d`` offsets cost
    more than blocks of rows, and blocks of pairwise distances are used.

    Args:
        pos: point positions.
        r: the cut-off radius, ``> 0``.
        batch: graph index of every point, or None for one graph.
        loop: whether to include the self-loops ``(i, i)``.

    Returns:
        ``edge_index``, sorted by target, then source.

    Shapes:
        pos: ``[N, d]``, batch: ``[N]``, output: ``[2, E]`` (int64)

    Example:
        >>> pos = torch.tensor([[0.0, 0.0], [0.5, 0.0], [3.0, 0.0]])
        >>> radius_graph(pos, 1.0).tolist()
        [[1, 0], [0, 1]]
    """
    pos = _check_positions(pos)
    if not isinstance(r, (int, float)) or isinstance(r, bool) or not r > 0:
        raise ValueError(f"r must be a positive number, got {r!r}")
    n, d = pos.shape
    batch = _check_batch(batch, n, pos.device)
    if n == 0:
        return torch.empty(2, 0, dtype=torch.long, device=pos.device)

    if d > 3:
        source, target = _radius_pairs_blocked(pos, r, batch)
    else:
        source, target = _radius_pairs_cells(pos, r, batch)
    if not loop:
        keep = source != target
        source, target = source[keep], target[keep]
    return _sorted_edges(source, target, n)


def _cell_keys(pos: Tensor, r: float, batch: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Integer cell coordinates and a linear key per point.

    Cell coordinates start at 1 so that the neighbour offsets −1 and +1 stay
    inside ``[0, extent)`` on every axis; the key is the mixed-radix number
    ``(batch, c_1, ..., c_d)``.

    Returns:
        ``cells [N, d]``, ``keys [N]`` and ``radix [d]`` (the multiplier of
        each cell axis in the key).
    """
    low = pos.detach().amin(0)
    cells = torch.floor((pos.detach() - low) / r).long() + 1  # [N, d]
    extent = cells.amax(0) + 2  # [d]
    sizes = [*extent.tolist(), int(batch.max()) + 1]
    if math.prod(sizes) >= 2**62:
        raise ValueError(
            f"radius_graph: r = {r} is too small for the spread of the points "
            "(the cell grid has more than 2^62 cells); scale the positions"
        )
    radix = torch.ones(len(sizes) - 1, dtype=torch.long, device=pos.device)
    for axis in range(len(sizes) - 3, -1, -1):
        radix[axis] = radix[axis + 1] * sizes[axis + 1]
    batch_radix = int(radix[0]) * sizes[0]
    keys = batch * batch_radix + cells @ radix  # [N]
    return cells, keys, radix


def _radius_pairs_cells(pos: Tensor, r: float, batch: Tensor) -> tuple[Tensor, Tensor]:
    """Pairs within ``r`` from a cell list (self-pairs included).

    Points are sorted by cell key; ``start[c]``, ``count[c]`` locate cell
    ``c``'s points in that order. Each unordered pair is found once: from the
    offsets whose first non-zero entry is +1, and from a point's own cell
    with ``source ≤ target``; the reversed pairs are appended at the end.
    """
    n, d = pos.shape
    _, keys, radix = _cell_keys(pos, r, batch)
    order = torch.argsort(keys)  # [N]
    unique, count = torch.unique_consecutive(keys[order], return_counts=True)
    start = torch.cumsum(count, 0) - count  # [cells]

    sources, targets = [], []
    for offset in itertools.product((-1, 0, 1), repeat=d):
        nonzero = [o for o in offset if o != 0]
        if nonzero and nonzero[0] < 0:
            continue  # the mirrored offset finds these pairs
        shift = int((torch.tensor(offset, device=pos.device) * radix).sum())
        source, target = _pairs_with_cell(keys + shift, unique, start, count, order)
        if not nonzero:
            keep = source <= target
            source, target = source[keep], target[keep]
        close = ((pos[source] - pos[target]) ** 2).sum(-1) < r * r
        sources.append(source[close])
        targets.append(target[close])
    source, target = torch.cat(sources), torch.cat(targets)
    distinct = source != target
    return (
        torch.cat([source, target[distinct]]),
        torch.cat([target, source[distinct]]),
    )


def _pairs_with_cell(
    wanted: Tensor, unique: Tensor, start: Tensor, count: Tensor, order: Tensor
) -> tuple[Tensor, Tensor]:
    """Pair every point ``i`` with all points of the cell whose key is
    ``wanted[i]`` (no pairs when that cell is empty).

    Shapes:
        wanted: ``[N]``, unique, start, count: ``[cells]``, order: ``[N]``,
        outputs: ``[P]`` (source, target)
    """
    slot = torch.searchsorted(unique, wanted).clamp_(max=len(unique) - 1)
    target = torch.nonzero(unique[slot] == wanted).squeeze(1)  # [N']
    slot = slot[target]
    per_target = count[slot]  # [N']
    total = int(per_target.sum())
    # Position of each pair within its cell: 0, 1, ..., count − 1.
    first = torch.cumsum(per_target, 0) - per_target  # [N']
    within = torch.arange(total, device=wanted.device)
    within = within - torch.repeat_interleave(first, per_target, output_size=total)
    base = torch.repeat_interleave(start[slot], per_target, output_size=total)
    target = torch.repeat_interleave(target, per_target, output_size=total)
    return order[base + within], target


def _radius_pairs_blocked(
    pos: Tensor, r: float, batch: Tensor
) -> tuple[Tensor, Tensor]:
    """All pairs within ``r``, from blocks of pairwise distances."""
    n = len(pos)
    block = max(1, _BLOCK_ENTRIES // max(n, 1))
    sources, targets = [], []
    for first in range(0, n, block):
        rows = slice(first, min(first + block, n))
        dist2 = ((pos[rows, None, :] - pos[None, :, :]) ** 2).sum(-1)  # [b, N]
        close = (dist2 < r * r) & (batch[rows, None] == batch[None, :])
        target, source = torch.nonzero(close, as_tuple=True)
        sources.append(source)
        targets.append(target + first)
    return torch.cat(sources), torch.cat(targets)


def knn_graph(
    pos: Tensor,
    k: int,
    batch: Tensor | None = None,
    loop: bool = False,
) -> Tensor:
    """Edges from the ``k`` nearest neighbours ``j`` of every point ``i``.

    For every target ``i`` the sources are the ``k`` points of the same graph
    nearest to it (excluding ``i`` itself unless ``loop``; fewer when the
    graph is smaller). Ties are broken by ``torch.topk``. The graph is not
    symmetric in general. Distances are computed in blocks of rows, so
    memory stays ``O(block · N)``.

    Shapes:
        pos: ``[N, d]``, batch: ``[N]``, output: ``[2, E]`` (int64),
        ``E ≤ N k``.

    Example:
        >>> pos = torch.tensor([[0.0], [1.0], [3.0]])
        >>> knn_graph(pos, 1).tolist()
        [[1, 0, 1], [0, 1, 2]]
    """
    pos = _check_positions(pos)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    n = len(pos)
    batch = _check_batch(batch, n, pos.device)
    if n == 0:
        return torch.empty(2, 0, dtype=torch.long, device=pos.device)

    kk = min(k + (0 if loop else 1), n)
    block = max(1, _BLOCK_ENTRIES // n)
    sources, targets = [], []
    with torch.no_grad():
        for first in range(0, n, block):
            rows = torch.arange(first, min(first + block, n), device=pos.device)
            dist = torch.cdist(pos[rows], pos)  # [b, N]
            dist = dist.masked_fill(batch[rows, None] != batch[None, :], math.inf)
            if not loop:
                dist[torch.arange(len(rows)), rows] = math.inf
            value, source = dist.topk(kk, dim=1, largest=False)  # [b, kk]
            keep = torch.isfinite(value)
            keep[:, k:] = False
            sources.append(source[keep])
            targets.append(rows[:, None].expand_as(source)[keep])
    return _sorted_edges(torch.cat(sources), torch.cat(targets), n)


def fully_connected_graph(batch: Tensor, loop: bool = False) -> Tensor:
    """All ordered pairs ``(j, i)`` of points in the same graph.

    Args:
        batch: graph index of every point, sorted (points of one graph are
            contiguous), as :func:`torch.repeat_interleave` makes it.
        loop: whether to include the self-loops ``(i, i)``.

    Shapes:
        batch: ``[N]``, output: ``[2, E]`` with ``E = Σ_g n_g (n_g − 1)``
        (``n_g²`` with loops).

    Example:
        >>> fully_connected_graph(torch.tensor([0, 0, 1, 1])).tolist()
        [[1, 0, 3, 2], [0, 1, 2, 3]]
    """
    batch = _check_batch(batch, len(batch) if isinstance(batch, Tensor) else 0, None)
    if len(batch) > 1 and bool((batch[1:] < batch[:-1]).any()):
        raise ValueError("batch must be sorted: the points of a graph contiguous")
    n = len(batch)
    sizes = torch.bincount(batch)  # [graphs]
    first = torch.cumsum(sizes, 0) - sizes
    # Every target i is paired with all n_g points of its graph.
    per_node = sizes[batch]  # [N]
    target = torch.arange(n, device=batch.device).repeat_interleave(per_node)
    offset = torch.arange(len(target), device=batch.device)
    offset = offset - (torch.cumsum(per_node, 0) - per_node).repeat_interleave(per_node)
    source = first[batch].repeat_interleave(per_node) + offset
    if not loop:
        keep = source != target
        source, target = source[keep], target[keep]
    return _sorted_edges(source, target, n)


# ----------------------------------------------------------------------------
# Aggregation
# ----------------------------------------------------------------------------


def scatter(src: Tensor, index: Tensor, dim_size: int, reduce: str = "sum") -> Tensor:
    """Reduce rows of ``src`` that share an ``index`` into ``dim_size`` rows.

    ``out[i] = reduce_{e : index[e] = i} src[e]`` over axis 0, with
    ``reduce`` one of ``"sum"``, ``"mean"`` and ``"max"``. Rows that receive
    nothing are zero for every reduction. ``"sum"`` uses ``index_add_``,
    ``"max"`` uses ``scatter_reduce_`` (its gradient goes to the maximal
    entries).

    Shapes:
        src: ``[E, *F]``, index: ``[E]`` (int64), output: ``[dim_size, *F]``

    Example:
        >>> scatter(torch.tensor([1.0, 2.0, 4.0]), torch.tensor([0, 0, 2]), 3)
        tensor([3., 0., 4.])
    """
    if not isinstance(index, Tensor) or index.dtype != torch.long:
        raise TypeError("index must be an int64 tensor [E]")
    if index.ndim != 1 or len(index) != len(src):
        raise ValueError(
            f"index must have shape [{len(src)}] to match src's first axis, "
            f"got {tuple(index.shape)}"
        )
    out_shape = (dim_size, *src.shape[1:])
    if reduce == "sum":
        return src.new_zeros(out_shape).index_add_(0, index, src)
    if reduce == "mean":
        total = src.new_zeros(out_shape).index_add_(0, index, src)
        count = torch.bincount(index, minlength=dim_size).clamp_(min=1)
        return total / count.to(src.dtype).view(-1, *([1] * (src.ndim - 1)))
    if reduce == "max":
        wide = index.view(-1, *([1] * (src.ndim - 1))).expand_as(src)
        out = src.new_zeros(out_shape)
        return out.scatter_reduce_(0, wide, src, "amax", include_self=False)
    raise ValueError(f"reduce must be 'sum', 'mean' or 'max', got {reduce!r}")
