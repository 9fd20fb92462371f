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
fixed, small number of kernels. This "group engine" serves every layer when
gradients are needed.

Without gradients (inference, ``torch.no_grad``), a layer whose paths are
all ``uvw`` with shared weights and small multiplicities takes the "path
engine" instead. Every path is contracted on its own, in the order of three
that costs it least per sample (:func:`_path_costs`, chosen at construction:
multiply-adds, with each per-sample product priced as measured: on the CPU
a batched product of small matrices costs 100-400 ns per sample whatever
its size):

    "in1":  T[z, i·v, w] = Σ_u x[z, u, i] W[u, v, w]          (one GEMM)
            out[z, k, w] += Σ_{i,v} Yc[z, k, i·v] T[z, i·v, w] (batched GEMM)
    "in2":  the same with the roles of x and y exchanged
    "out":  P[z, k·v, u] = Σ_i Yc[z, k·v, i] x[z, u, i], then ONE GEMM
            [z·k, v·u] @ W[v·u, w] (the group engine's order, per path)

with ``Yc = Σ_j C y`` made by ONE GEMM of the whole block of ``y`` with the
coefficients spread block-diagonally over the copies (``C[i, j, k] δ(v, v')``,
built once), which writes ``Yc`` directly in the layout the batched product
reads: no transpose of a large intermediate anywhere. The weights meet the
smallest of ``x``, ``y`` or the output degree, the inner dimension of the
per-sample product is ``i·v`` rather than ``i``, and the paths into one
output block accumulate inside the batched product (``baddbmm``). The paths
of one pair of input blocks may also share one unit (``_path_units``): their
weights side by side make one GEMM, their coefficients one GEMM and ONE
per-sample product (which also forms the unused cross terms between the
paths), chosen when that costs less than each path alone. The
spread coefficients cost ``m² M1 M2 M3`` multiply-adds per path and sample,
so the path engine is only chosen while they hold at most
``PATH_ENGINE_COEFFICIENTS`` numbers; the batch is cut into chunks whose
intermediates fit ``PATH_ENGINE_CHUNK_BYTES``.

Measured on one CPU thread (``OMP_NUM_THREADS=1 python -m
benchmarks.tensor_product --repeats 11 --clock cpu``: float32, medians of
interleaved calls, CPU time; five runs on a loaded two-core machine, the
range over the runs), against e3nn 0.6.0:

    fully connected 8x0e+8x1o+8x2e, batch 10 000
        forward (path engine)            28-32 ms vs 48-53 ms: 1.65-1.81x
        forward + backward (group eng.)  153-165 ms vs 236-250 ms: 1.51-1.58x
    uvu 128x0e+128x1o+128x2e ⊗ 0e+1o+2e+3o, batch 2 000 (group engine)
        forward                          20-22 ms vs 78-83 ms: 3.8-4.0x
        forward + backward               69-80 ms vs 207-228 ms: 2.8-3.1x

The fully connected product thus falls short of twice e3nn's speed: forward
by a factor of about 1.15 (median ratio 1.72), forward + backward by about
1.3 (median 1.53). The group engine alone gave 0.96-1.2x forward; the path
engine with each path alone 1.5-1.65x. What was measured and rejected:

* one dense kernel ``K[(u,i), (v,j), (w,k)] = Σ_p α W_p C_p`` (5184 x 72
  here) applied to the outer product ``x ⊗ y``: 373k multiply-adds per
  sample against about 35k; its one GEMM alone took 134 ms (per pair of
  input blocks still 186k multiply-adds);
* the path engine under autograd: its backward runs the per-sample products
  through PyTorch's per-matrix loop with a copy of every transposed matrix,
  2-2.5x slower than the group engine's (f+b 250-350 ms);
* gradients of ``x`` and ``y`` as two more path-engine products (the
  cyclically permuted coefficients) and of the weights from the group
  engine's ``P``: 35-45 ms each, no faster than autograd of the group
  engine in total;
* ``torch.compile`` (rejected before: 77 s to compile).

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
ORDERS = ("in1", "in2", "out")  # path engine: what the weights contract first
PATH_ENGINE_COEFFICIENTS = 1 << 18  # most numbers the spread coefficients hold
PATH_ENGINE_CHUNK_BYTES = 32 << 20  # the path engine's intermediates per chunk
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


class _Path(NamedTuple):
    """``uvw`` paths that the path engine contracts together (one or more).

    Several paths share a pair of input blocks: their weights side by side
    make one GEMM, their coefficients one GEMM and one per-sample product.
    """

    paths: tuple[int, ...]  # instruction indices, all on one pair (a, b)
    order: str  # one of ORDERS; "out" only for a single path


def _path_costs(m1: int, m2: int, m3: int, M1: int, M2: int, M3: int) -> dict:
    """Cost per sample of one ``uvw`` path in each order of ``ORDERS``.

    ``m`` are the multiplicities, ``M = 2l + 1``. Each order is one GEMM with
    the weights, one GEMM with the spread coefficients (``m² M1 M2 M3``:
    block-diagonal over the copies) and one product per sample, whose cost
    is :func:`_product_cost`. In multiply-adds of a large GEMM.
    """
    return {
        "in1": m1 * m2 * m3 * M1
        + m2 * m2 * M2 * M1 * M3
        + _product_cost(M3, M1 * m2, m3),
        "in2": m1 * m2 * m3 * M2
        + m1 * m1 * M1 * M2 * M3
        + _product_cost(M3, M2 * m1, m3),
        "out": m1 * m2 * m3 * M3
        + m2 * m2 * M2 * M1 * M3
        + _product_cost(M3 * m2, M1, m1),
    }


def _product_cost(rows: int, inner: int, cols: int) -> int:
    """Cost of ``[rows, inner] @ [inner, cols]`` for every sample of a batch.

    Measured on one CPU thread, in multiply-adds of a large GEMM (about 50
    GFLOP/s): a broadcast multiply (``inner = 1``) is bound by memory, about
    8 per number written; a product of fewer than 400 multiply-adds is below
    PyTorch's threshold for BLAS and runs a scalar loop (about 400 ns, 10 000);
    a larger one is one BLAS call per sample (at least about 100 ns, 2 500).
    """
    macs = rows * inner * cols
    if inner == 1:
        return 8 * macs
    if macs < 400:
        return 10_000
    return max(macs, 2_500)


def _path_floats(order: str, m1: int, m2: int, m3: int, M1: int, M2: int, M3: int):
    """Numbers per sample the path engine holds for one path (to size chunks)."""
    if order == "in1":
        return m2 * M1 * (m3 + M3) + M3 * m3
    if order == "in2":
        return m1 * M2 * (m3 + M3) + M3 * m3
    return M3 * m2 * (M1 + m1) + M3 * m3


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
        self._build_paths()

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

    def _build_paths(self) -> None:
        """Choose every path's order and spread its coefficients (path engine).

        The path engine serves shared weights when every path is ``uvw`` and
        the spread coefficients hold at most ``PATH_ENGINE_COEFFICIENTS``
        numbers; each path takes the cheapest order of :func:`_path_costs`.
        """
        self._paths: list[_Path] = []
        self._path_cg64: list[Tensor] = []
        self._path_floats = 0
        self._chunk_bytes = PATH_ENGINE_CHUNK_BYTES
        self._use_paths = self.shared_weights and all(
            ins.connection_mode == "uvw" for ins in self.instructions
        )
        if not self._use_paths:
            return
        pairs: dict[tuple[int, int], list[int]] = {}
        for p, ins in enumerate(self.instructions):
            pairs.setdefault((ins.i_in1, ins.i_in2), []).append(p)
        for paths in pairs.values():
            for unit in self._path_units(paths):
                spread = [
                    _spread_coefficients(
                        self.instructions[p].alpha * self._cg(p),
                        unit.order,
                        *self.instructions[p].path_shape[:2],
                    )
                    for p in unit.paths
                ]
                self._paths.append(unit)
                self._path_cg64.append(torch.cat(spread, dim=1))
                self._path_floats += sum(
                    _path_floats(unit.order, *self._dims(p)) for p in unit.paths
                )
        if sum(C.numel() for C in self._path_cg64) > PATH_ENGINE_COEFFICIENTS:
            self._use_paths = False
            self._paths, self._path_cg64 = [], []

    def _dims(self, p: int) -> tuple[int, ...]:
        """``(m1, m2, m3, M1, M2, M3)`` of instruction ``p``."""
        ins = self.instructions[p]
        return (
            *ins.path_shape,
            self.irreps_in1[ins.i_in1].ir.dim,
            self.irreps_in2[ins.i_in2].ir.dim,
            self.irreps_out[ins.i_out].ir.dim,
        )

    def _cg(self, p: int) -> Tensor:
        """The coefficients ``C[i, j, k]`` of instruction ``p`` (float64)."""
        ins = self.instructions[p]
        return clebsch_gordan(
            self.irreps_in1[ins.i_in1].ir.l,
            self.irreps_in2[ins.i_in2].ir.l,
            self.irreps_out[ins.i_out].ir.l,
        )

    def _path_units(self, paths: list[int]) -> list[_Path]:
        """The paths of one input pair: each alone, or all in one unit.

        Each alone takes its cheapest order; together they share ``"in1"`` or
        ``"in2"`` (one per-sample product that also forms the unused
        cross terms between the paths). The cheaper plan wins.
        """
        alone = []
        for p in paths:
            costs = _path_costs(*self._dims(p))
            alone.append((min(costs.values()), min(costs, key=costs.__getitem__)))
        best = sum(cost for cost, _ in alone)
        plan = [_Path((p,), order) for p, (_, order) in zip(paths, alone, strict=True)]
        if len(paths) > 1:
            m1, m2, _, M1, M2, _ = self._dims(paths[0])
            m3 = sum(self._dims(p)[2] for p in paths)
            M3 = sum(self._dims(p)[5] for p in paths)
            together = {
                "in1": m1 * m2 * m3 * M1
                + m2 * m2 * M2 * M1 * M3
                + _product_cost(M3, M1 * m2, m3),
                "in2": m1 * m2 * m3 * M2
                + m1 * m1 * M1 * M2 * M3
                + _product_cost(M3, M2 * m1, m3),
            }
            order = min(together, key=together.__getitem__)
            if together[order] < best:
                plan = [_Path(tuple(paths), order)]
        return plan

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
        if not isinstance(weight, Tensor) or weight.shape[-1:] != (self.weight_numel,):
            got = tuple(weight.shape) if isinstance(weight, Tensor) else weight
            raise ValueError(f"weight must be [..., {self.weight_numel}], got {got}")
        if self.shared_weights and weight.ndim != 1:
            raise ValueError(
                f"shared weights are one vector [{self.weight_numel}], got shape "
                f"{tuple(weight.shape)}; use shared_weights=False for per-sample "
                "weights"
            )
        return weight

    def _dtype(self) -> torch.dtype:
        return torch.get_default_dtype()

    def _device(self) -> torch.device:
        return torch.device("cpu")

    def _coefficients(self, like: Tensor) -> list[Tensor]:
        """The stacked coefficients in ``like``'s dtype and device (cached).

        They are kept in float64 and cast once per dtype, so that a layer
        built under float32 and used in float64 keeps float64 accuracy. The
        list holds the group engine's, then the path engine's.
        """
        key = (like.dtype, like.device)
        if key not in self._cg_cache:
            masters = self._cg64 + self._path_cg64
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
        needs_grad = torch.is_grad_enabled() and (
            x.requires_grad or y.requires_grad or w.requires_grad
        )
        if self._use_paths and not needs_grad:
            out = self._contract_paths_chunked(x, y, w)  # [z, dim_out]
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

    def _contract_paths_chunked(self, x: Tensor, y: Tensor, w: Tensor) -> Tensor:
        """The path engine over chunks of the batch (``[z, dim_out]``).

        A chunk holds as many samples as keep the intermediates within
        ``_chunk_bytes`` (they then stay in cache and in the allocator's pool).
        """
        per_sample = x.element_size() * max(1, self._path_floats)
        size = max(1, self._chunk_bytes // per_sample)
        if x.shape[0] <= size:
            return self._contract_paths(x, y, w)
        parts = zip(x.split(size), y.split(size), strict=True)
        return torch.cat([self._contract_paths(xc, yc, w) for xc, yc in parts])

    def _contract_paths(self, x: Tensor, y: Tensor, w: Tensor) -> Tensor:
        """The path engine: each path in its own order (module docstring).

        ``x``: ``[z, dim1]``, ``y``: ``[z, dim2]``, ``w``: ``[weight_numel]``;
        output ``[z, dim_out]``. Differentiable, but chosen only without
        gradients, where it is the faster engine.
        """
        z = x.shape[0]
        xs = [
            part.reshape(z, block.mul, block.ir.dim)  # [z, u, i]
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
        transposed: dict[tuple[int, int], Tensor] = {}  # x or y blocks [z, i, u]
        views = self.weight_views(w)
        coefficients = self._coefficients(x)[len(self._groups) :]

        totals: list[Tensor | None] = [None for _ in self.irreps_out]  # [z, k, w]
        for unit, C in zip(self._paths, coefficients, strict=True):
            Ws = [
                x.new_ones(self.instructions[p].path_shape)
                if views[p] is None
                else views[p]
                for p in unit.paths
            ]  # [u, v, w] each
            ins = self.instructions[unit.paths[0]]
            factors = (ins, C, torch.cat(Ws, dim=2), xs, ys, transposed)
            acc = totals[ins.i_out]
            if len(unit.paths) > 1:
                A, T = self._in_factors(unit.order, *factors)
                for c, term in self._unit_terms(unit, torch.bmm(A, T)):
                    totals[c] = term if totals[c] is None else totals[c] + term
            elif unit.order == "out":
                P, Wo = self._out_factors(*factors)
                m3, ir3 = self.irreps_out[ins.i_out]
                term = (P @ Wo).view(z, ir3.dim, m3)  # [z, k, w]
                totals[ins.i_out] = term if acc is None else acc + term
            else:
                A, T = self._in_factors(unit.order, *factors)
                if acc is None:
                    totals[ins.i_out] = _batched_product(A, T)  # [z, k, w]
                else:
                    totals[ins.i_out] = torch.baddbmm(acc, A, T)

        outs = []
        for block, total in zip(self.irreps_out, totals, strict=True):
            if total is None:
                outs.append(x.new_zeros(z, block.dim))
            else:
                outs.append(total.transpose(1, 2).reshape(z, block.dim))  # [z, w·k]
        return torch.cat(outs, dim=1) if len(outs) > 1 else outs[0]

    def _unit_terms(self, unit: _Path, R: Tensor) -> list[tuple[int, Tensor]]:
        """``(i_out, [z, k, w])`` of each path of a unit, cut out of its product.

        ``R[z, Σ k, Σ w]`` holds every path's rows against every path's
        weights; the diagonal blocks are the paths' terms (views).
        """
        terms, k0, w0 = [], 0, 0
        for p in unit.paths:
            m3, ir3 = self.irreps_out[self.instructions[p].i_out]
            terms.append(
                (self.instructions[p].i_out, R[:, k0 : k0 + ir3.dim, w0 : w0 + m3])
            )
            k0, w0 = k0 + ir3.dim, w0 + m3
        return terms

    def _in_factors(
        self,
        order: str,
        ins: Instruction,
        C: Tensor,
        W: Tensor,
        xs: list[Tensor],
        ys: list[Tensor],
        transposed: dict[tuple[int, int], Tensor],
    ) -> tuple[Tensor, Tensor]:
        """``(Yc [z, k, i·v], T [z, i·v, w])`` for ``"in1"`` (``T = Σ_u x W``).

        ``W`` is ``[u, v, w]``; for a unit of several paths, their weights
        side by side along ``w`` and ``C`` their spread coefficients side by
        side (``k`` then runs over all of them).

        For ``"in2"`` the roles of ``x`` and ``y`` (and of ``u``, ``v``) are
        exchanged: ``(Xc [z, k, j·u], T [z, j·u, w])`` with ``T = Σ_v y W``.
        ``out[z, k, w] = Σ Yc T`` is then one batched product.
        """
        m1, m2, m3 = W.shape
        z = xs[0].shape[0]
        if order == "in1":
            side, other, a, b, m_side, m_other = 0, ys, ins.i_in1, ins.i_in2, m1, m2
            Wm = W.reshape(m1, m2 * m3)  # [u, v·w]
        else:
            side, other, a, b, m_side, m_other = 1, xs, ins.i_in2, ins.i_in1, m2, m1
            Wm = W.transpose(0, 1).reshape(m2, m1 * m3)  # [v, u·w]
        blocks = xs if side == 0 else ys
        t = _transposed(blocks, a, side, transposed)  # [z, i, u]
        M = t.shape[1]
        T = (t.view(z * M, m_side) @ Wm).view(z, M * m_other, m3)  # [z, i·v, w]
        A = other[b].flatten(1) @ C  # [z, k·i·v]
        return A.view(z, C.shape[1] // (M * m_other), M * m_other), T

    def _out_factors(
        self,
        ins: Instruction,
        C: Tensor,
        W: Tensor,
        xs: list[Tensor],
        ys: list[Tensor],
        transposed: dict[tuple[int, int], Tensor],
    ) -> tuple[Tensor, Tensor]:
        """``(P [z·k, v·u], W [v·u, w])`` for ``"out"``: coefficients first."""
        m1, m2, m3 = ins.path_shape
        z = xs[0].shape[0]
        M3 = self.irreps_out[ins.i_out].ir.dim
        t = _transposed(xs, ins.i_in1, 0, transposed)  # [z, i, u]
        Yc = (ys[ins.i_in2].flatten(1) @ C).view(z, M3 * m2, t.shape[1])  # [z,k·v,i]
        P = _batched_product(Yc, t)  # [z, k·v, u]
        return P.view(z * M3, m2 * m1), W.transpose(0, 1).reshape(m2 * m1, m3)

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


def _blocks(x: Tensor, irreps: Irreps) -> tuple[Tensor, ...]:
    """The blocks of ``x`` (``[z, dim]``) as views, by ``split``."""
    return x.split([block.dim for block in irreps], dim=-1)


def _spread_coefficients(C: Tensor, order: str, m1: int, m2: int) -> Tensor:
    """A path's coefficients as one matrix acting on a whole input block.

    ``"in1"``: ``[v'·j, k·i·v]``, ``"in2"``: ``[u'·i, k·j·u]``, ``"out"``:
    ``[v'·j, k·v·i]``, with entries ``C[i, j, k] δ(v, v')``: block-diagonal in
    the copies, so that one GEMM of the block's rows ``[z, v'·j]`` gives the
    factor in the layout the batched product reads, without a transpose.
    """
    if order == "in2":
        C, m = C.permute(0, 2, 1), m1  # [i, k, j]
    else:
        C, m = C.permute(1, 2, 0), m2  # [j, k, i]
    eye = torch.eye(m, dtype=C.dtype)
    if order == "out":
        S = torch.einsum("abc,vw->vabwc", C, eye)  # [v', j, k, v, i]
    else:
        S = torch.einsum("abc,vw->vabcw", C, eye)  # [v', j, k, i, v]
    return S.reshape(m * C.shape[0], -1)


def _transposed(
    blocks: list[Tensor], a: int, side: int, cache: dict[tuple[int, int], Tensor]
) -> Tensor:
    """Block ``a`` (``[z, u, i]``) as ``[z, i, u]``, contiguous, once per call."""
    if (side, a) not in cache:
        cache[side, a] = blocks[a].transpose(1, 2).contiguous()
    return cache[side, a]


def _batched_product(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` per sample, contiguous, ``[z, M, I] x [z, I, N] -> [z, M, N]``.

    With ``I = 1`` it is an outer product: one broadcast multiply beats a
    batched GEMM of rank-one matrices.
    """
    if a.shape[-1] == 1:
        return a * b  # [z, M, 1] * [z, 1, N]
    return torch.bmm(a, b)


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
        if not isinstance(weight, Tensor) or weight.shape[-1:] != (self.weight_numel,):
            got = tuple(weight.shape) if isinstance(weight, Tensor) else weight
            raise ValueError(f"weight must be [..., {self.weight_numel}], got {got}")
        if self.shared_weights and weight.ndim != 1:
            raise ValueError(
                f"shared weights are one vector [{self.weight_numel}], got shape "
                f"{tuple(weight.shape)}; use shared_weights=False for per-sample "
                "weights"
            )
        return weight
