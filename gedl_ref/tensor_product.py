"""The Clebsch–Gordan tensor product between irreps, with learnable paths.

For inputs ``x ∈ irreps_in1`` and ``y ∈ irreps_in2`` (see :mod:`gedl_ref.so3`
for the layout), every instruction ``(a, b, c, mode, has_weight)`` couples
block ``a`` of ``x`` (``u = 1..mul_a`` copies of degree ``l1``) with block ``b``
of ``y`` (``v = 1..mul_b`` copies of ``l2``) into block ``c`` of the output
(degree ``l3``) through the real Clebsch–Gordan coefficients ``C``:

    "uvw":  out_c[w, k] += α Σ_{u,v,i,j} W[u, v, w] C[i, j, k] x_a[u, i] y_b[v, j]
    "uvu":  out_c[u, k] += α Σ_{v,i,j}   W[u, v]    C[i, j, k] x_a[u, i] y_b[v, j]

(``uvu`` needs ``mul_c = mul_a``: a depthwise product, one output channel per
input channel.) Every path is equivariant, ``TP(D x, D y) = D TP(x, y)`` for
every rotation and, because an instruction must satisfy
``p3 = p1 p2`` and ``|l1 - l2| <= l3 <= l1 + l2``, for every improper rotation.

The constant ``α`` of a path is e3nn's, so that the outputs are those of
``e3nn.o3.TensorProduct`` under the same weights:

    α² = path_weight · (2 l3 + 1        if irrep_normalization == "component"
                        (2l1+1)(2l2+1)  if irrep_normalization == "norm"
                        1               if irrep_normalization == "none")
         / (Σ_{paths q into c} n_q              if path_normalization == "element"
            n_p · #(paths into c)               if path_normalization == "path"
            1                                   if path_normalization == "none")

with ``n_p`` the fan-in of path ``p``: ``mul_a mul_b`` for ``uvw`` and
``mul_b`` for ``uvu``. With unit-variance inputs and weights, every output
component then has unit variance ("component") or every output irrep unit
norm ("norm").

Weights are one flat vector, the paths with ``has_weight`` in instruction
order, each path's ``[mul_a, mul_b, mul_c]`` (``uvw``) or ``[mul_a, mul_b]``
(``uvu``) flattened row-major: e3nn's layout. They are either a trainable
parameter (``internal_weights=True``, the default with shared weights) or
passed to ``forward``: ``[weight_numel]`` when shared, ``[..., weight_numel]``
per sample (``shared_weights=False``, e.g. from a radial network).

How it is fast: the paths are grouped by their input pair ``(a, b)``; each
group makes ONE GEMM of ``y`` (``[z·v, j]``) with the stacked, pre-scaled
coefficients of all its paths, ``Yc[z, K, v, i] = Σ_j C[i, j, K] y[z, v, j]``
(the coefficients' contraction comes first: it is the cheapest order, far
cheaper than forming the outer product ``x ⊗ y``), and ONE batched product
with ``x``, ``P[z, K, v, u] = Σ_i Yc x`` (a broadcast multiply when ``x`` is
a scalar block). The weights then act on the whole ``P`` of the group: for
``uvw`` ONE GEMM ``[z·K, v·u] @ [v·u, Σ w]`` (no gather of ``P``), for ``uvu``
an elementwise product and a sum over ``v``. Blocks, weights and paths are
cut out with ``split`` (its backward is one ``cat``; slicing would fill a
zero tensor per slice). The sample axis is always inside a GEMM or a batched
GEMM: there is no Python loop over samples, and the loop over groups runs a
fixed, small number of kernels. This "group engine" serves ``uvu`` paths,
per-sample weights, and second derivatives.

A layer whose paths are all ``uvw`` with shared weights (and whose spread
matrices, below, hold at most ``BLOCK_ENGINE_NUMBERS`` numbers) takes the
"block engine" instead, with and without gradients. It runs ONE per-sample
product per output block, whatever the number of paths into it:

    out[z, w, k] = Σ_rows T[z, rows, w] A[z, rows, k]     (one bmm per block)

where ``rows`` runs over ``(path, i, v)`` for the block's paths, stacked:

    T[z, (p, i, v), w] = Σ_u x[z, u, i] W_p[u, v, w]       (the weights' side)
    A[z, (p, i, v), k] = Σ_j C_p[i, j, k] y[z, v, j]       (the coefficients')

For each path the weights meet the input whose irrep is the smaller (``x``
above; ``y`` with the roles exchanged), so that the stack has as few rows
as possible. Each path writes its rows of both stacks in place with one
GEMM each, reading its input block as it lies in ``x`` or ``y``: the
weights spread over the components, ``W_p[u, v, w] δ(i, i')`` (built per
call, a factor ``M_s`` more multiply-adds), and the coefficients over the
copies, ``C_p[i, j, k] δ(v, v')`` (built once). Nothing is transposed or
concatenated, and the output comes out in its own layout ``[z, w·k]``.
Why it is fast on the CPU: a batched product of small matrices costs about
100-200 ns per sample whatever its size, so one per output block (three
here) replaces one per path (eleven); and the batch runs in chunks of
``BLOCK_ENGINE_CHUNK_BYTES`` of stacks per thread, refilled in the same
buffers chunk after chunk, which stay in cache (measured on one thread:
chunks of 8 MB beat 2 MB by 1.2x and 64 MB by 2x; fresh buffers per chunk
cost another 1.1-1.2x). Its backward is written by hand (:class:`_BlockEngine`): two
more batched products per block, ``dT = A Gᵀ`` and ``dA = T G``, and GEMMs
per path, recomputing the stacks chunk by chunk, so memory stays within a
chunk's budget whatever the batch. (Under autograd, PyTorch's batched
product backward received a transposed gradient and fell back to a Python
loop over the samples; that made an earlier engine 2-2.5x slower.)

Measured against e3nn 0.6.0 on the quiet two-core machine (``python -m
benchmarks.tensor_product --repeats 11``: float32, medians of interleaved
calls; one thread with ``OMP_NUM_THREADS=1 ... --clock cpu``, three runs;
two threads, wall time, five runs; the range over the runs):

    fully connected 8x0e+8x1o+8x2e, batch 10 000 (block engine), ms
                           one thread                two threads
        forward            20.0-21.0 vs 47.0-50.1    11.6-12.2 vs 25.2-27.0
                           2.35-2.39x                2.16-2.27x
        forward+backward   73.0-74.7 vs 239-244      45.9-49.3 vs 178-187
                           3.26-3.27x                3.78-4.02x
    uvu 128x0e+128x1o+128x2e ⊗ 0e+1o+2e+3o, batch 2 000 (group engine)
        forward            3.63-3.87x                3.43-3.66x
        forward+backward   3.00x                     3.30-3.35x

The engines this one replaced (a path engine without gradients, the group
engine with them) measured 1.73x forward and 1.71x forward + backward on one
thread of the same quiet machine, 1.34x forward on two.

What was measured and rejected on the way: one dense kernel
``K[(u,i), (v,j), (w,k)] = Σ_p α W_p C_p`` applied to the outer product
``x ⊗ y`` (373k multiply-adds per sample against about 35k); one product
per path, each in the order of three that costs it least (1.65-1.81x
forward); the same with stacks concatenated by ``torch.cat`` rather than
written in place (the concatenations took 14 ms of 33 under the profiler);
chunks processed by a thread pool (OpenMP's waiting threads then slow
everything else in the process); ``torch.compile`` (77 s to compile).

Public API:

    TensorProduct(irreps_in1, irreps_in2, irreps_out, instructions, ...)
    FullyConnectedTensorProduct(irreps_in1, irreps_in2, irreps_out, ...)
    Linear(irreps_in, irreps_out)  equivariant channel mixing, [..., dim_in]
                                   -> [..., dim_out]
    tp(x, y, weight=None)          [..., dim1], [..., dim2] -> [..., dim_out]
    tp.weight_numel, tp.instructions, tp.weight_views(weight)

Shapes use ``...`` for batch axes (broadcast between ``x``, ``y`` and
per-sample weights) and ``z`` for the flattened batch inside.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn

from gedl_ref.so3 import Irreps, clebsch_gordan

__all__ = ["FullyConnectedTensorProduct", "Instruction", "Linear", "TensorProduct"]

MODES = ("uvw", "uvu")
BLOCK_ENGINE_NUMBERS = 1 << 20  # most numbers its spread matrices may hold
BLOCK_ENGINE_CHUNK_BYTES = {"cpu": 8 << 20, "other": 1 << 30}  # cpu: per thread
IRREP_NORMALIZATIONS = ("component", "norm", "none")
PATH_NORMALIZATIONS = ("element", "path", "none")


class Instruction(NamedTuple):
    """One path ``(i_in1, i_in2, i_out)`` with its connection mode.

    ``path_weight`` is the user's extra factor; ``alpha`` (filled in by the
    layer) is the path's normalisation constant, ``path_shape`` the shape of
    its weights.
    """

    i_in1: int
    i_in2: int
    i_out: int
    connection_mode: str
    has_weight: bool
    path_weight: float = 1.0
    alpha: float = 1.0
    path_shape: tuple[int, ...] = ()


class _Group(NamedTuple):
    """The paths that share one input pair ``(a, b)``."""

    a: int
    b: int
    paths: list[int]  # instruction indices
    offsets: list[int]  # start of each path along the stacked K axis
    K: int


class _BlockPath(NamedTuple):
    """One ``uvw`` path as the block engine runs it (see ``_build_blocks``).

    ``side`` is the input the weights meet (0: ``x``, 1: ``y``); ``cols_s``
    and ``cols_o`` are the columns of that input's block and of the other
    input's block; ``rows`` the path's rows ``(i, v)`` in its output block's
    stack, starting at ``offset``; ``weights`` its slice of the flat weights.
    """

    p: int
    side: int
    cols_s: slice
    cols_o: slice
    offset: int
    rows: int
    m_s: int  # copies on the weights' side (u)
    m_o: int  # copies on the coefficients' side (v)
    M_s: int  # components on the weights' side (i)
    weights: slice | None


class _Block(NamedTuple):
    """The paths into one output block: ONE per-sample product (block engine)."""

    cols: slice  # the block's columns in the output
    m3: int
    M3: int
    rows: int  # Σ over its paths of M_s · m_o
    paths: list[_BlockPath]


class TensorProduct(nn.Module):
    """Weighted Clebsch–Gordan tensor product (see the module docstring).

    Args:
        irreps_in1, irreps_in2, irreps_out: irreps of ``x``, ``y`` and output.
        instructions: tuples ``(i_in1, i_in2, i_out, mode, has_weight)`` or
            with a sixth entry ``path_weight``; ``mode`` is ``"uvw"`` or
            ``"uvu"``.
        irrep_normalization: ``"component"`` (default), ``"norm"`` or
            ``"none"``.
        path_normalization: ``"element"`` (default), ``"path"`` or ``"none"``.
        internal_weights: hold the weights as a parameter (default: equal to
            ``shared_weights``).
        shared_weights: one weight vector for all samples (default True).

    Shapes:
        x: ``[..., irreps_in1.dim]``, y: ``[..., irreps_in2.dim]``,
        weight: ``[weight_numel]`` or ``[..., weight_numel]``,
        output: ``[..., irreps_out.dim]``

    >>> tp = FullyConnectedTensorProduct("2x0e + 1x1o", "1x1o", "1x1o + 1x0e")
    >>> tp(torch.randn(5, 5), torch.randn(5, 3)).shape
    torch.Size([5, 4])
    """

    def __init__(
        self,
        irreps_in1: Irreps | str,
        irreps_in2: Irreps | str,
        irreps_out: Irreps | str,
        instructions: Iterable[Sequence],
        *,
        irrep_normalization: str = "component",
        path_normalization: str = "element",
        internal_weights: bool | None = None,
        shared_weights: bool | None = None,
    ) -> None:
        super().__init__()
        self.irreps_in1 = Irreps(irreps_in1)
        self.irreps_in2 = Irreps(irreps_in2)
        self.irreps_out = Irreps(irreps_out)
        if irrep_normalization not in IRREP_NORMALIZATIONS:
            raise ValueError(
                f"irrep_normalization must be one of {IRREP_NORMALIZATIONS}, "
                f"got {irrep_normalization!r}"
            )
        if path_normalization not in PATH_NORMALIZATIONS:
            raise ValueError(
                f"path_normalization must be one of {PATH_NORMALIZATIONS}, "
                f"got {path_normalization!r}"
            )
        self.irrep_normalization = irrep_normalization
        self.path_normalization = path_normalization

        checked = [self._check_instruction(ins) for ins in instructions]
        self.instructions = self._normalise(checked)
        self.weight_numel = sum(
            math.prod(ins.path_shape) for ins in self.instructions if ins.has_weight
        )

        self.shared_weights = True if shared_weights is None else bool(shared_weights)
        if internal_weights is None:
            internal_weights = self.shared_weights and self.weight_numel > 0
        if internal_weights and not self.shared_weights:
            raise ValueError("internal weights are shared: use shared_weights=True")
        self.internal_weights = bool(internal_weights)
        if self.internal_weights:
            self.weight = nn.Parameter(torch.randn(self.weight_numel))
        else:
            self.register_parameter("weight", None)

        self._build_groups()
        self._build_blocks()

    # ------------------------------------------------------------------
    # Construction
    # ------------------------------------------------------------------

    def _check_instruction(self, ins: Sequence) -> Instruction:
        if len(ins) not in (5, 6):
            raise ValueError(
                "an instruction is (i_in1, i_in2, i_out, mode, has_weight"
                f"[, path_weight]), got {ins!r}"
            )
        a, b, c, mode, has_weight = ins[:5]
        path_weight = float(ins[5]) if len(ins) == 6 else 1.0
        for index, irreps, name in (
            (a, self.irreps_in1, "i_in1"),
            (b, self.irreps_in2, "i_in2"),
            (c, self.irreps_out, "i_out"),
        ):
            if not isinstance(index, int) or not 0 <= index < len(irreps):
                raise ValueError(f"{name}={index!r} is not a block of {irreps}")
        if mode not in MODES:
            raise NotImplementedError(
                f"connection mode {mode!r} is not supported; use one of {MODES}"
            )
        (m1, ir1), (m2, ir2), (m3, ir3) = (
            self.irreps_in1[a],
            self.irreps_in2[b],
            self.irreps_out[c],
        )
        if ir3 not in ir1 * ir2:
            raise ValueError(
                f"path {ir1} x {ir2} -> {ir3} breaks a selection rule: the output "
                f"must be one of {[str(ir) for ir in ir1 * ir2]}"
            )
        if mode == "uvu" and m3 != m1:
            raise ValueError(
                f"a 'uvu' path needs as many output as input-1 copies, got "
                f"{m1}x{ir1} -> {m3}x{ir3}"
            )
        shape = (m1, m2, m3) if mode == "uvw" else (m1, m2)
        return Instruction(a, b, c, mode, bool(has_weight), path_weight, 1.0, shape)

    def _normalise(self, instructions: list[Instruction]) -> list[Instruction]:
        """Fill in each path's ``alpha`` (the formula in the module docstring)."""

        def fan_in(ins: Instruction) -> int:
            m1, m2 = ins.path_shape[:2]
            return m1 * m2 if ins.connection_mode == "uvw" else m2

        out = []
        for ins in instructions:
            l1 = self.irreps_in1[ins.i_in1].ir.l
            l2 = self.irreps_in2[ins.i_in2].ir.l
            l3 = self.irreps_out[ins.i_out].ir.l
            alpha = {
                "component": 2 * l3 + 1,
                "norm": (2 * l1 + 1) * (2 * l2 + 1),
                "none": 1,
            }[self.irrep_normalization]
            siblings = [q for q in instructions if q.i_out == ins.i_out]
            x = {
                "element": sum(fan_in(q) for q in siblings),
                "path": fan_in(ins) * len(siblings),
                "none": 1,
            }[self.path_normalization]
            if x > 0:
                alpha /= x
            out.append(ins._replace(alpha=math.sqrt(alpha * ins.path_weight)))
        return out

    def _build_groups(self) -> None:
        """Stack the scaled coefficients of the paths that share ``(a, b)``."""
        pairs: dict[tuple[int, int], list[int]] = {}
        for p, ins in enumerate(self.instructions):
            pairs.setdefault((ins.i_in1, ins.i_in2), []).append(p)

        self._groups: list[_Group] = []
        self._cg64: list[Tensor] = []  # float64 masters, cast once per dtype
        self._cg_cache: dict[tuple[torch.dtype, torch.device], list[Tensor]] = {}
        for (a, b), paths in pairs.items():
            l1 = self.irreps_in1[a].ir.l
            l2 = self.irreps_in2[b].ir.l
            blocks, offsets, K = [], [], 0
            for p in paths:
                ins = self.instructions[p]
                l3 = self.irreps_out[ins.i_out].ir.l
                blocks.append(ins.alpha * clebsch_gordan(l1, l2, l3))
                offsets.append(K)
                K += 2 * l3 + 1
            C = torch.cat(blocks, dim=-1)  # [M1, M2, K]
            # [M2, K·M1]: y[z·v, j] @ this = Yc[z, v, K, i]
            C = C.permute(1, 2, 0).reshape(2 * l2 + 1, K * (2 * l1 + 1))
            self._groups.append(_Group(a, b, paths, offsets, K))
            self._cg64.append(C)

    def _build_blocks(self) -> None:
        """Plan the block engine: the paths of every output block, stacked.

        The block engine serves shared weights when every path is ``uvw`` and
        its spread matrices hold at most ``BLOCK_ENGINE_NUMBERS`` numbers. The
        weights of a path meet the input whose irrep is the smaller
        (``M_s = min(M1, M2)``, their spread costs a factor ``M_s``), the
        coefficients the other input.
        """
        self._block_plan: list[_Block] = []
        self._block_S64: list[Tensor] = []  # one per path, in plan order
        self._block_floats = 0
        self._use_blocks = self.shared_weights and all(
            ins.connection_mode == "uvw" for ins in self.instructions
        )
        if not self._use_blocks:
            return
        slices1, slices2 = self.irreps_in1.slices(), self.irreps_in2.slices()
        slices3 = self.irreps_out.slices()
        weight_slices: list[slice | None] = []
        start = 0
        for ins in self.instructions:
            size = math.prod(ins.path_shape) if ins.has_weight else 0
            weight_slices.append(slice(start, start + size) if size else None)
            start += size
        numbers = 0
        for c, (m3, ir3) in enumerate(self.irreps_out):
            paths, rows = [], 0
            for p, ins in enumerate(self.instructions):
                if ins.i_out != c:
                    continue
                (m1, ir1), (m2, ir2) = (
                    self.irreps_in1[ins.i_in1],
                    self.irreps_in2[ins.i_in2],
                )
                cols1, cols2 = slices1[ins.i_in1], slices2[ins.i_in2]
                C = ins.alpha * clebsch_gordan(ir1.l, ir2.l, ir3.l)  # [i, j, k]
                if ir1.dim <= ir2.dim:
                    side, m_s, m_o, M_s, M_o = 0, m1, m2, ir1.dim, ir2.dim
                    cols_s, cols_o = cols1, cols2
                else:
                    side, m_s, m_o, M_s, M_o = 1, m2, m1, ir2.dim, ir1.dim
                    cols_s, cols_o = cols2, cols1
                    C = C.transpose(0, 1)  # [j, i, k]: the weights' side first
                # S[(v', j), (i, v, k)] = C[i, j, k] δ(v, v')
                S = torch.einsum("ijk,ab->ajibk", C, torch.eye(m_o, dtype=C.dtype))
                self._block_S64.append(S.reshape(m_o * M_o, M_s * m_o * ir3.dim))
                numbers += S.numel() + m_s * M_s * M_s * m_o * m3
                paths.append(
                    _BlockPath(
                        p,
                        side,
                        cols_s,
                        cols_o,
                        rows,
                        M_s * m_o,
                        m_s,
                        m_o,
                        M_s,
                        weight_slices[p],
                    )
                )
                rows += M_s * m_o
            if paths:
                block = _Block(slices3[c], m3, ir3.dim, rows, paths)
                self._block_plan.append(block)
        self._block_floats = sum(b.rows * (b.m3 + b.M3) for b in self._block_plan)
        if numbers > BLOCK_ENGINE_NUMBERS:
            self._use_blocks = False
            self._block_plan, self._block_S64 = [], []

    # ------------------------------------------------------------------
    # Weights
    # ------------------------------------------------------------------

    def weight_views(self, weight: Tensor | None = None) -> list[Tensor | None]:
        """The weights of every instruction, shaped ``[..., *path_shape]``.

        None for an instruction without weights.
        """
        weight = self._get_weight(weight)
        # split, not slices: its backward is one cat, not a zero tensor per path
        sizes = [math.prod(i.path_shape) for i in self.instructions if i.has_weight]
        parts = iter(weight.split(sizes, dim=-1))
        views = []
        for ins in self.instructions:
            if not ins.has_weight:
                views.append(None)
                continue
            w = next(parts)
            views.append(w.reshape(*weight.shape[:-1], *ins.path_shape))
        return views

    def _get_weight(self, weight: Tensor | None) -> Tensor:
        if weight is None:
            if self.weight is None:
                if self.weight_numel == 0:
                    return torch.zeros(0, dtype=self._dtype(), device=self._device())
                raise ValueError(
                    "this tensor product has external weights: pass "
                    f"weight [..., {self.weight_numel}] to forward"
                )
            return self.weight
        return _checked_weight(weight, self.weight_numel, self.shared_weights)

    def _dtype(self) -> torch.dtype:
        return torch.get_default_dtype()

    def _device(self) -> torch.device:
        return torch.device("cpu")

    def _coefficients(self, like: Tensor) -> list[Tensor]:
        """The stacked coefficients in ``like``'s dtype and device (cached).

        They are kept in float64 and cast once per dtype, so that a layer
        built under float32 and used in float64 keeps float64 accuracy. The
        list holds the group engine's, then the block engine's.
        """
        key = (like.dtype, like.device)
        if key not in self._cg_cache:
            masters = self._cg64 + self._block_S64
            self._cg_cache[key] = [C.to(like) for C in masters]
        return self._cg_cache[key]

    # ------------------------------------------------------------------
    # Forward
    # ------------------------------------------------------------------

    def forward(self, x: Tensor, y: Tensor, weight: Tensor | None = None) -> Tensor:
        """``TP(x, y)`` (see the class docstring for shapes)."""
        for t, irreps, name in ((x, self.irreps_in1, "x"), (y, self.irreps_in2, "y")):
            if not isinstance(t, Tensor) or t.shape[-1:] != (irreps.dim,):
                got = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
                raise ValueError(
                    f"{name} must be [..., {irreps.dim}] ({irreps}), got {got}"
                )
        w = self._get_weight(weight)
        batch = torch.broadcast_shapes(x.shape[:-1], y.shape[:-1])
        if not self.shared_weights:
            batch = torch.broadcast_shapes(batch, w.shape[:-1])
            w = w.expand(*batch, self.weight_numel).reshape(-1, self.weight_numel)
        x = x.expand(*batch, x.shape[-1]).reshape(-1, x.shape[-1])  # [z, dim1]
        y = y.expand(*batch, y.shape[-1]).reshape(-1, y.shape[-1])  # [z, dim2]
        if self._use_blocks:
            out = _BlockEngine.apply(x, y, w, self)  # [z, dim_out]
        else:
            out = self._contract(x, y, w)  # [z, dim_out]
        return out.reshape(*batch, self.irreps_out.dim)

    def _contract(self, x: Tensor, y: Tensor, w: Tensor) -> Tensor:
        z = x.shape[0]
        xs = [
            part.reshape(z, block.mul, block.ir.dim).transpose(1, 2)  # [z, i, u]
            for block, part in zip(
                self.irreps_in1, _blocks(x, self.irreps_in1), strict=True
            )
        ]
        ys = [
            part.reshape(z, block.mul, block.ir.dim)  # [z, v, j]
            for block, part in zip(
                self.irreps_in2, _blocks(y, self.irreps_in2), strict=True
            )
        ]
        weights = self._path_weights(w, x)

        # every group: P[z, K, v, u], then the weights of each of its paths
        totals: list[Tensor | None] = [None for _ in self.irreps_out]
        coefficients = self._coefficients(x)[: len(self._groups)]
        for group, C in zip(self._groups, coefficients, strict=True):
            P = self._group_product(group, C, xs[group.a], ys[group.b])
            for c, term in self._group_terms(group, P, weights):
                totals[c] = term if totals[c] is None else totals[c] + term

        outs = []
        for block, total in zip(self.irreps_out, totals, strict=True):
            if total is None:
                outs.append(x.new_zeros(z, block.dim))
            else:
                outs.append(total.transpose(1, 2).reshape(z, block.dim))  # [z, w·k]
        return torch.cat(outs, dim=1) if len(outs) > 1 else outs[0]

    def _spread_weights(self, w: Tensor, like: Tensor) -> list[Tensor]:
        """Every path's weights spread over its components (block engine).

        ``Wsp[(u, i'), (i, v, w)] = W[u, v, w] δ(i, i')`` (``u`` and ``v``
        exchanged when the weights meet ``y``): ONE GEMM of the input's block,
        as it lies in the input, then writes the path's rows ``(i, v)`` of its
        output block's stack in place. Paths without weights get ones, in
        ``like``'s dtype and device (``w`` is empty when no path has any).
        """
        spread = []
        for block in self._block_plan:
            for path in block.paths:
                shape = self.instructions[path.p].path_shape
                if path.weights is None:
                    W = like.new_ones(shape)
                else:
                    W = w[path.weights].view(shape)
                if path.side == 1:
                    W = W.transpose(0, 1)
                eye = torch.eye(path.M_s, dtype=W.dtype, device=W.device)
                Wsp = torch.einsum("uvw,ab->uabvw", W, eye)
                spread.append(Wsp.reshape(path.m_s * path.M_s, -1))
        return spread

    def _stack_buffers(self, like: Tensor, size: int) -> list[tuple[Tensor, Tensor]]:
        """Room for the stacks of every output block, for chunks of ``size``.

        Allocated once per call and refilled chunk after chunk: the same
        memory stays in cache (fresh buffers per chunk measured 1.1-1.2x
        slower on one thread).
        """
        return [
            (like.new_empty(size, b.rows, b.m3), like.new_empty(size, b.rows, b.M3))
            for b in self._block_plan
        ]

    def _stacks(
        self,
        x: Tensor,
        y: Tensor,
        Wsp: list[Tensor],
        S: list[Tensor],
        buffers: list[tuple[Tensor, Tensor]],
    ) -> list[tuple[Tensor, Tensor]]:
        """``(T [n, rows, m3], A [n, rows, M3])`` of every output block.

        ``T`` stacks ``Σ_u x[z, u, i] W[u, v, w]`` and ``A`` stacks
        ``Σ_j C[i, j, k] y[z, v, j]`` of the block's paths along the rows
        ``(path, i, v)``; two GEMMs per path write their rows in place, into
        the first ``n`` samples of ``buffers``.
        """
        n = x.shape[0]
        inputs = (x, y)
        stacks, q = [], 0
        for block, (T, A) in zip(self._block_plan, buffers, strict=True):
            T, A = T[:n], A[:n]
            for path in block.paths:
                rows = slice(path.offset, path.offset + path.rows)
                side, other = inputs[path.side], inputs[1 - path.side]
                torch.mm(side[:, path.cols_s], Wsp[q], out=T[:, rows].flatten(1))
                torch.mm(other[:, path.cols_o], S[q], out=A[:, rows].flatten(1))
                q += 1
            stacks.append((T, A))
        return stacks

    def _chunk_size(self, like: Tensor) -> int:
        """Samples per chunk of the block engine (its stacks within budget).

        On the CPU the budget is per thread: one thread keeps its stacks in
        cache, several share the larger ops.
        """
        if like.device.type == "cpu":
            budget = BLOCK_ENGINE_CHUNK_BYTES["cpu"] * torch.get_num_threads()
        else:
            budget = BLOCK_ENGINE_CHUNK_BYTES["other"]
        per_sample = like.element_size() * max(1, self._block_floats)
        return max(1, budget // per_sample)

    def _group_product(self, group: _Group, C: Tensor, x: Tensor, y: Tensor) -> Tensor:
        """``P[z, K, v, u] = Σ_ij C[i, j, K] x[z, u, i] y[z, v, j]`` for a group.

        ``x``: ``[z, i, u]`` (a transposed view), ``y``: ``[z, v, j]``,
        ``C``: ``[j, K·i]``. One GEMM with the coefficients, one batched GEMM
        with ``x`` (or a broadcast product when ``i`` has size 1).
        """
        (m1, ir1), m2 = self.irreps_in1[group.a], self.irreps_in2[group.b].mul
        z = x.shape[0]
        Yc = y.reshape(z * m2, C.shape[0]) @ C  # [z·v, K·i]
        Yc = Yc.view(z, m2, group.K, ir1.dim)  # [z, v, K, i]
        if m2 > 1:
            Yc = Yc.transpose(1, 2)  # [z, K, v, i]
        Yc = Yc.reshape(z, group.K * m2, ir1.dim)  # [z, K·v, i]
        return _batched_product(Yc, x).view(z, group.K, m2, m1)  # [z, K, v, u]

    def _group_terms(
        self, group: _Group, P: Tensor, weights: list[Tensor]
    ) -> list[tuple[int, Tensor]]:
        """``(i_out, [z, k, w])`` for every path of a group, given its ``P``.

        The ``uvw`` paths of the group share ONE product of ``P`` (as
        ``[z·K, v·u]``, no copy) with their weights side by side
        (``[v·u, Σ w]``): the rows of the other paths are wasted, but a group
        has at most a few paths and this saves gathering ``P`` per path.
        Paths are cut out with ``split`` (whose backward is one ``cat``), not
        by slicing (whose backward fills a zero tensor per slice).
        """
        z, K = P.shape[:2]
        instructions = [self.instructions[p] for p in group.paths]
        dims = [self.irreps_out[ins.i_out].ir.dim for ins in instructions]
        terms = []
        uvw = [i for i, ins in enumerate(instructions) if ins.connection_mode == "uvw"]
        if uvw:
            W = torch.cat([weights[group.paths[i]] for i in uvw], dim=-1)
            flat = P.view(z, K, W.shape[-2])  # [z, K, v·u]; W: [(z,) v·u, Σ w]
            if W.ndim == 2:
                R = (flat.view(z * K, W.shape[0]) @ W).view(z, K, W.shape[1])
            else:
                R = torch.bmm(flat, W)  # [z, K, Σ w]
            rows = R.split(dims, dim=1) if len(dims) > 1 else (R,)
            widths = [instructions[i].path_shape[2] for i in uvw]
            for j, i in enumerate(uvw):
                block = rows[i].split(widths, dim=2)[j] if len(uvw) > 1 else rows[i]
                terms.append((instructions[i].i_out, block))
        pieces = P.split(dims, dim=1) if len(dims) > 1 else (P,)
        for i, ins in enumerate(instructions):
            if ins.connection_mode == "uvu":
                p = group.paths[i]
                terms.append((ins.i_out, self._uvu(pieces[i], weights[p])))
        return terms

    def _path_weights(self, w: Tensor, like: Tensor) -> list[Tensor]:
        """Each path's weights, ``[(z,) ...]`` in the layout its mode uses.

        ``uvw``: ``[(z,) v·u, w]``; ``uvu``: ``[(z,) 1, v, u]``. Paths without
        weights get ones.
        """
        out = []
        views = self.weight_views(w)
        for ins, view in zip(self.instructions, views, strict=True):
            if view is None:
                view = like.new_ones(ins.path_shape)
            if ins.connection_mode == "uvw":
                m1, m2, m3 = ins.path_shape
                view = view.transpose(-3, -2).reshape(*view.shape[:-3], m2 * m1, m3)
            else:
                view = view.transpose(-2, -1).unsqueeze(-3)  # [(z,) 1, v, u]
            out.append(view)
        return out

    @staticmethod
    def _uvu(P: Tensor, W: Tensor) -> Tensor:
        """``Σ_v W[(z,) u, v] P[z, k, v, u]``, ``[z, k, u]``."""
        if P.shape[2] == 1:
            return P.flatten(2) * W.flatten(-2)  # [z, k, u] * [(z,) 1, u]
        return (P * W).sum(2)


def _checked_weight(weight: object, numel: int, shared: bool) -> Tensor:
    """Weights passed to ``forward``: ``[numel]`` when shared, else ``[..., numel]``."""
    if not isinstance(weight, Tensor) or weight.shape[-1:] != (numel,):
        got = tuple(weight.shape) if isinstance(weight, Tensor) else weight
        raise ValueError(f"weight must be [..., {numel}], got {got}")
    if shared and weight.ndim != 1:
        raise ValueError(
            f"shared weights are one vector [{numel}], got shape "
            f"{tuple(weight.shape)}; use shared_weights=False for per-sample weights"
        )
    return weight


def _blocks(x: Tensor, irreps: Irreps) -> tuple[Tensor, ...]:
    """The blocks of ``x`` (``[z, dim]``) as views, by ``split``."""
    return x.split([block.dim for block in irreps], dim=-1)


def _batched_product(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` per sample, contiguous, ``[z, M, I] x [z, I, N] -> [z, M, N]``.

    With ``I = 1`` it is an outer product: one broadcast multiply beats a
    batched GEMM of rank-one matrices.
    """
    if a.shape[-1] == 1:
        return a * b  # [z, M, 1] * [z, 1, N]
    return torch.bmm(a, b)


class _BlockEngine(torch.autograd.Function):
    """The block engine of a :class:`TensorProduct`, with its own backward.

    ``x [z, dim1]``, ``y [z, dim2]``, ``w [weight_numel]`` -> ``[z, dim_out]``.
    Chunk by chunk of the batch, per output block (module docstring):

        out[z, w, k] = Σ_rows T[z, rows, w] A[z, rows, k]    (one bmm)

    and backward, from the stacks recomputed per chunk (memory stays within
    a chunk's budget whatever the batch):

        dT = A Gᵀ, dA = T G                                   (two bmm)
        dx_s += dT Wspᵀ, dWsp += x_sᵀ dT, dy_o += dA Sᵀ       (GEMMs per path)

    then ``dW[u, v, w] = Σ_i dWsp[(u, i), (i, v, w)]``. When a graph of the
    backward is asked for (``create_graph``), the gradients are those of the
    group engine under autograd, which is twice differentiable.
    """

    @staticmethod
    def forward(ctx, x: Tensor, y: Tensor, w: Tensor, tp: TensorProduct) -> Tensor:
        ctx.tp = tp
        ctx.save_for_backward(x, y, w)
        S = tp._coefficients(x)[len(tp._groups) :]
        Wsp = tp._spread_weights(w, x)
        out = x.new_empty(x.shape[0], tp.irreps_out.dim)
        written = {(block.cols.start, block.cols.stop) for block in tp._block_plan}
        for cols in tp.irreps_out.slices():
            if (cols.start, cols.stop) not in written:
                out[:, cols] = 0  # a block no path reaches
        size = max(1, min(tp._chunk_size(x), x.shape[0]))
        buffers = tp._stack_buffers(x, size)
        for start in range(0, x.shape[0], size):
            chunk = slice(start, start + size)
            n = x[chunk].shape[0]
            stacks = tp._stacks(x[chunk], y[chunk], Wsp, S, buffers)
            for block, (T, A) in zip(tp._block_plan, stacks, strict=True):
                target = out[chunk, block.cols].view(n, block.m3, block.M3)
                target.copy_(torch.bmm(T.transpose(1, 2), A))  # [n, w, k]
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, y, w = ctx.saved_tensors
        tp: TensorProduct = ctx.tp
        needs = ctx.needs_input_grad[:3]
        if torch.is_grad_enabled():  # create_graph: a differentiable backward
            inputs = [t for t, need in zip((x, y, w), needs, strict=True) if need]
            out = tp._contract(x, y, w)
            found = iter(torch.autograd.grad(out, inputs, grad, create_graph=True))
            return (*(next(found) if need else None for need in needs), None)

        grad = grad.contiguous()
        S = tp._coefficients(x)[len(tp._groups) :]
        Wsp = tp._spread_weights(w, x)
        gx = torch.zeros_like(x) if needs[0] else None
        gy = torch.zeros_like(y) if needs[1] else None
        gWsp = [torch.zeros_like(t) for t in Wsp] if needs[2] else None
        size = max(1, min(tp._chunk_size(x), x.shape[0]))
        buffers = tp._stack_buffers(x, size)
        for start in range(0, x.shape[0], size):
            chunk = slice(start, start + size)
            inputs = (x[chunk], y[chunk])
            grads = (
                None if gx is None else gx[chunk],
                None if gy is None else gy[chunk],
            )
            n = inputs[0].shape[0]
            stacks = tp._stacks(*inputs, Wsp, S, buffers)
            q = 0
            for block, (T, A) in zip(tp._block_plan, stacks, strict=True):
                G = grad[chunk, block.cols].contiguous().view(n, block.m3, block.M3)
                dT = torch.bmm(A, G.transpose(1, 2))  # [n, rows, w]
                dA = torch.bmm(T, G)  # [n, rows, k]
                for path in block.paths:
                    rows = slice(path.offset, path.offset + path.rows)
                    dT_p, dA_p = dT[:, rows].flatten(1), dA[:, rows].flatten(1)
                    g_side, g_other = grads[path.side], grads[1 - path.side]
                    if g_side is not None:
                        g_side[:, path.cols_s].addmm_(dT_p, Wsp[q].T)
                    if g_other is not None:
                        g_other[:, path.cols_o].addmm_(dA_p, S[q].T)
                    if gWsp is not None:
                        gWsp[q].addmm_(inputs[path.side][:, path.cols_s].T, dT_p)
                    q += 1

        gw = None
        if gWsp is not None:
            gw = torch.zeros_like(w)
            paths = [(block, path) for block in tp._block_plan for path in block.paths]
            for (block, path), g in zip(paths, gWsp, strict=True):
                if path.weights is None:
                    continue
                D = g.view(path.m_s, path.M_s, path.M_s, path.m_o, block.m3)
                dW = torch.einsum("uiivw->uvw", D)  # the diagonal in i
                if path.side == 1:
                    dW = dW.transpose(0, 1)
                gw[path.weights] = dW.reshape(-1)
        return gx, gy, gw, None


class FullyConnectedTensorProduct(TensorProduct):
    """Every allowed ``uvw`` path, with weights (e3nn's fully connected product).

    For each block ``a`` of ``irreps_in1``, ``b`` of ``irreps_in2`` and ``c``
    of ``irreps_out`` (in that loop order) with ``ir_c`` in ``ir_a × ir_b``,
    one path ``(a, b, c, "uvw", True)``. Keyword arguments as
    :class:`TensorProduct`.
    """

    def __init__(
        self,
        irreps_in1: Irreps | str,
        irreps_in2: Irreps | str,
        irreps_out: Irreps | str,
        **kwargs: object,
    ) -> None:
        irreps_in1, irreps_in2 = Irreps(irreps_in1), Irreps(irreps_in2)
        irreps_out = Irreps(irreps_out)
        instructions = [
            (a, b, c, "uvw", True)
            for a, (_, ir1) in enumerate(irreps_in1)
            for b, (_, ir2) in enumerate(irreps_in2)
            for c, (_, ir3) in enumerate(irreps_out)
            if ir3 in ir1 * ir2
        ]
        super().__init__(irreps_in1, irreps_in2, irreps_out, instructions, **kwargs)


class Linear(nn.Module):
    """Equivariant linear map between irreps: it mixes the copies of equal irreps.

        out_c[w, k] = Σ_{a : ir_a = ir_c} α_ac Σ_u W_ac[u, w] x_a[u, k]

    with ``α_ac = 1 / sqrt(Σ_{a' : ir_a' = ir_c} mul_a')`` (``"element"``) or
    ``1 / sqrt(mul_a · #{a' : ir_a' = ir_c})`` (``"path"``): unit-variance
    inputs and weights give unit-variance outputs. Blocks of the output whose
    irrep is absent from the input are zero. By Schur's lemma this is every
    equivariant linear map between the two (up to the weights).

    Values and weight layout (``[mul_a, mul_c]`` per pair, pairs ordered by
    ``a`` then ``c``) are those of ``e3nn.o3.Linear`` without biases; it
    equals ``FullyConnectedTensorProduct(irreps_in, "0e", irreps_out)``
    applied with ``y = 1``, at a fraction of the cost.

    Args:
        irreps_in, irreps_out: irreps of the input and output.
        path_normalization: ``"element"`` (default) or ``"path"``.
        shared_weights: one weight vector for all samples (default True);
            with False, ``forward`` takes weights ``[..., weight_numel]``.
        internal_weights: hold the weights as a parameter (default: equal to
            ``shared_weights``).

    Shapes:
        x: ``[..., irreps_in.dim]``, weight: ``[weight_numel]`` or
        ``[..., weight_numel]``, output: ``[..., irreps_out.dim]``

    >>> Linear("4x0e + 2x1o", "3x1o + 1x2e")(torch.randn(10, 10)).shape
    torch.Size([10, 14])
    """

    def __init__(
        self,
        irreps_in: Irreps | str,
        irreps_out: Irreps | str,
        *,
        path_normalization: str = "element",
        shared_weights: bool = True,
        internal_weights: bool | None = None,
    ) -> None:
        super().__init__()
        self.irreps_in, self.irreps_out = Irreps(irreps_in), Irreps(irreps_out)
        if path_normalization not in ("element", "path"):
            raise ValueError(
                "path_normalization must be 'element' or 'path', got "
                f"{path_normalization!r}"
            )
        self.paths = [
            (a, c)
            for a, (_, ir_in) in enumerate(self.irreps_in)
            for c, (_, ir_out) in enumerate(self.irreps_out)
            if ir_in == ir_out
        ]
        self.alphas = []
        for a, c in self.paths:
            siblings = [a2 for a2, c2 in self.paths if c2 == c]
            if path_normalization == "element":
                fan_in = sum(self.irreps_in[a2].mul for a2 in siblings)
            else:
                fan_in = self.irreps_in[a].mul * len(siblings)
            self.alphas.append(1 / math.sqrt(fan_in) if fan_in > 0 else 1.0)
        self.weight_numel = sum(
            self.irreps_in[a].mul * self.irreps_out[c].mul for a, c in self.paths
        )
        self.shared_weights = bool(shared_weights)
        if internal_weights is None:
            internal_weights = self.shared_weights
        if internal_weights and not self.shared_weights:
            raise ValueError("internal weights are shared: use shared_weights=True")
        if internal_weights:
            self.weight = nn.Parameter(torch.randn(self.weight_numel))
        else:
            self.register_parameter("weight", None)

    def forward(self, x: Tensor, weight: Tensor | None = None) -> Tensor:
        """The mixed features (see the class docstring for shapes)."""
        if not isinstance(x, Tensor) or x.shape[-1:] != (self.irreps_in.dim,):
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(
                f"x must be [..., {self.irreps_in.dim}] ({self.irreps_in}), got {got}"
            )
        w = self._get_weight(weight)
        batch = x.shape[:-1]
        if not self.shared_weights:
            batch = torch.broadcast_shapes(batch, w.shape[:-1])
            w = w.expand(*batch, self.weight_numel).reshape(-1, self.weight_numel)
        x = x.expand(*batch, x.shape[-1]).reshape(-1, x.shape[-1])  # [z, dim_in]
        z = x.shape[0]
        xs = _blocks(x, self.irreps_in)
        sizes = [self.irreps_in[a].mul * self.irreps_out[c].mul for a, c in self.paths]
        ws = w.split(sizes, dim=-1)
        totals: list[Tensor | None] = [None for _ in self.irreps_out]
        for (a, c), alpha, w_ac in zip(self.paths, self.alphas, ws, strict=True):
            (m1, ir), m3 = self.irreps_in[a], self.irreps_out[c].mul
            x_a = xs[a].reshape(z, m1, ir.dim)  # [z, u, k]
            W = alpha * w_ac.reshape(*w_ac.shape[:-1], m1, m3)  # [(z,) u, w]
            pattern = "zuk,uw->zwk" if W.ndim == 2 else "zuk,zuw->zwk"
            term = torch.einsum(pattern, x_a, W)  # [z, w, k]
            totals[c] = term if totals[c] is None else totals[c] + term
        outs = [
            x.new_zeros(z, block.dim) if t is None else t.reshape(z, block.dim)
            for block, t in zip(self.irreps_out, totals, strict=True)
        ]
        out = torch.cat(outs, dim=1) if len(outs) > 1 else outs[0]
        return out.reshape(*batch, self.irreps_out.dim)

    def _get_weight(self, weight: Tensor | None) -> Tensor:
        if weight is None:
            if self.weight is None:
                raise ValueError(
                    f"this layer has external weights: pass weight "
                    f"[..., {self.weight_numel}] to forward"
                )
            return self.weight
        return _checked_weight(weight, self.weight_numel, self.shared_weights)
