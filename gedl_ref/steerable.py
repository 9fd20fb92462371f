"""The steerable kernel basis of SO(2) and C_N, and steerable convolutions.

A steerable kernel between field types ``ρ_in`` and ``ρ_out`` (see
:mod:`gedl_ref.steerable_irreps`) is a matrix-valued function on the plane,
``k: R² → R^{D_out × D_in}``, that satisfies the kernel constraint

    k(g x) = ρ_out(g) k(x) ρ_in(g)⁻¹      for every g in the group.

Every such kernel is a linear combination of a fixed basis; convolving with
it maps ``ρ_in``-fields to ``ρ_out``-fields equivariantly, for every angle of
SO(2) (in the continuum), without a grid over the group.

**Irrep pairs.** Write a point as ``x = r (cos φ, sin φ)``, ``J = R(π/2)`` and
``M = diag(1, −1)``. For the input irrep of frequency ``m`` and the output
irrep of frequency ``n``, the angular solutions are

    cos(aφ) A + sin(aφ) B

for the frequencies ``a`` and matrices ``(A, B)`` below. The allowed
frequencies are those of the *difference* ``a ≡ n − m`` and of the *sum*
``a ≡ n + m``, modulo N for C_N (aliasing: rotations by multiples of 2π/N
cannot tell frequency ``a`` from ``a + N``), exactly for SO(2):

=========  ===========================  =====================================
d_out×d_in frequencies, in this order    elements per frequency, in this order
=========  ===========================  =====================================
1 × 1      a ≡ n − m, a ≥ 0              cos(aφ); sin(aφ) if a > 0
2 × 1      a ≡ n − m, ascending          R(aφ)[:, :1], (R(aφ)J)[:, :1]
1 × 2      a ≡ n − m, ascending          (R(aφ))[:1], (R(aφ)J)[:1]
2 × 2      a ≡ n − m, ascending          R(aφ), R(aφ)J
           then b ≡ n + m, ascending     R(bφ)M, R(bφ)JM
=========  ===========================  =====================================

(``R(aφ)S = cos(aφ) S + sin(aφ) JS``; for a 1-dimensional irrep ``m ≡ −m``,
so the sum frequencies are the difference ones and are not listed twice.)

**Rings.** The angular solutions are multiplied by Gaussian rings and
band-limited by radius, with the defaults of escnn's ``R2Conv`` for a
``k × k`` kernel (``k`` odd): rings at radii ``0, 1, ..., (k − 1) / 2``;
widths ``σ = 0.6``, the outermost ``0.4`` and the one at radius 0
``0.005``; profile ``exp(−(r − ρ)² / (2σ²))``; on the ring of radius ``ρ``
only frequencies ``|a| <= L(ρ)``,

    L(0) = 0,  L(k // 2) = min(2ρ, 2),  else  L(ρ) = min(2ρ, 2ρ − (ρ + 1) mod 2).

A solution of frequency ``a ≠ 0`` is set to zero at the origin, where φ is
undefined. The basis of a pair lists ring by ring (inner first) the angular
solutions in the order of the table.

**Fields and types.** A regular field of C_N is the direct sum of its irreps
after the change of basis ``Q = Fᵀ`` (:func:`~gedl_ref.steerable_irreps.
fourier_matrix`): its basis is ``Q_out K Q_inᵀ`` for each basis element ``K``
of the irreps type ``[0, 1, ..., N // 2]``, whose blocks are the irrep pairs
(output irrep major). A field type's basis is made of the blocks of every
(output field, input field) pair, output field major, each block its pair's
basis placed in those rows and columns.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gedl_ref.grid import pixel_grid
from gedl_ref.steerable_irreps import (
    Field,
    field_dimension,
    field_frequencies,
    fourier_matrix,
    irrep_dimension,
    type_dimension,
)

__all__ = [
    "FourierReLU",
    "NormReLU",
    "SteerableConvolution",
    "field_basis",
    "harmonic_basis",
    "pair_basis",
    "ring_parameters",
    "steerable_basis",
]

#: Points closer to the origin than this count as the origin.
_ORIGIN = 1e-9


def _check_kernel_size(kernel_size: object) -> int:
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int):
        raise TypeError(f"kernel_size must be an int, got {kernel_size!r}")
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise NotImplementedError(
            f"kernel_size={kernel_size} not supported; use an odd kernel_size "
            "(the default rings sit on the integer radii of an odd grid)"
        )
    return kernel_size


def ring_parameters(kernel_size: int) -> list[tuple[float, float, int]]:
    """The rings of a ``k × k`` kernel: ``(radius ρ, width σ, max frequency L)``.

    escnn's defaults (see the module docstring): radii ``0..(k − 1) / 2``.

    Example:
        >>> ring_parameters(5)
        [(0.0, 0.005, 0), (1.0, 0.6, 2), (2.0, 0.4, 2)]
    """
    k = _check_kernel_size(kernel_size)
    count = (k + 1) // 2
    rings = []
    for i in range(count):
        radius = float(i)
        sigma = 0.005 if i == 0 else (0.4 if i == count - 1 else 0.6)
        if i == 0:
            top = 0
        elif i == k // 2:
            top = min(2 * i, 2)
        else:
            top = min(2 * i, 2 * i - (i + 1) % 2)
        rings.append((radius, sigma, top))
    return rings


def _aliases(frequency: int, max_frequency: int, group_order: int | None) -> list[int]:
    """The integers ``a ≡ frequency`` (mod N; equal for SO(2)), ``|a| <= L``,
    in ascending order."""
    if group_order is None:
        return [frequency] if abs(frequency) <= max_frequency else []
    first = -max_frequency + (frequency + max_frequency) % group_order
    return list(range(first, max_frequency + 1, group_order))


@functools.cache
def _harmonics(
    m: int, n: int, max_frequency: int, group_order: int | None
) -> tuple[Tensor, Tensor, Tensor]:
    """Frequencies and matrices ``(a, A, B)`` of the angular solutions m → n.

    Element ``e`` is ``cos(a_e φ) A_e + sin(a_e φ) B_e``, in the order of the
    table in the module docstring.

    Shapes:
        output: ``[E]`` (int64), ``[E, d_out, d_in]``, ``[E, d_out, d_in]``
        (float64)
    """
    d_in, d_out = irrep_dimension(m, group_order), irrep_dimension(n, group_order)
    eye = torch.eye(2, dtype=torch.float64)
    j = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)
    mirror = torch.diag(torch.tensor([1.0, -1.0], dtype=torch.float64))
    difference = _aliases(n - m, max_frequency, group_order)
    terms: list[tuple[int, Tensor, Tensor]] = []
    if d_in == d_out == 1:
        one = torch.ones(1, 1, dtype=torch.float64)
        zero = torch.zeros(1, 1, dtype=torch.float64)
        for a in (a for a in difference if a >= 0):
            terms.append((a, one, zero))  # cos(aφ)
            if a > 0:
                terms.append((a, zero, one))  # sin(aφ)
    else:
        families = [(difference, (eye, j))]
        if d_in == d_out == 2:
            total = _aliases(n + m, max_frequency, group_order)
            families.append((total, (mirror, j @ mirror)))
        for frequencies, matrices in families:
            for a in frequencies:
                for s in matrices:
                    terms.append((a, s[:d_out, :d_in], (j @ s)[:d_out, :d_in]))
    if not terms:
        empty = torch.zeros(0, d_out, d_in, dtype=torch.float64)
        return torch.zeros(0, dtype=torch.long), empty, empty
    a = torch.tensor([t[0] for t in terms], dtype=torch.long)
    return a, torch.stack([t[1] for t in terms]), torch.stack([t[2] for t in terms])


def harmonic_basis(
    m: int,
    n: int,
    phi: Tensor,
    max_frequency: int,
    group_order: int | None = None,
) -> Tensor:
    """The angular solutions of the constraint for the irreps m → n.

    ``cos(aφ) A + sin(aφ) B`` for every frequency ``|a| <= max_frequency``
    and matrix pair of the table in the module docstring; they satisfy
    ``k(φ + θ) = ψ_n(θ) k(φ) ψ_m(θ)⁻¹`` for all θ (SO(2)) or θ ∈ 2πℤ/N.

    Shapes:
        phi: ``[...]``, output: ``[E, d_out, d_in, ...]``
    """
    a, A, B = _harmonics(m, n, max_frequency, group_order)
    a = a.to(device=phi.device, dtype=phi.dtype)
    angle = a.view(-1, *([1] * phi.ndim)) * phi  # [E, ...]
    A = A.to(device=phi.device, dtype=phi.dtype)
    B = B.to(device=phi.device, dtype=phi.dtype)
    out = torch.einsum("e...,eoi->eoi...", torch.cos(angle), A)
    return out + torch.einsum("e...,eoi->eoi...", torch.sin(angle), B)


def pair_basis(
    m: int,
    n: int,
    points: Tensor,
    kernel_size: int,
    group_order: int | None = None,
) -> Tensor:
    """The steerable basis for the irreps m → n, evaluated at ``points``.

    Ring by ring (:func:`ring_parameters`), the angular solutions of
    :func:`harmonic_basis` band-limited to that ring times its Gaussian
    profile ``exp(−(r − ρ)² / (2σ²))``; solutions of frequency ``a ≠ 0`` are
    zero at the origin.

    Shapes:
        points: ``[..., 2]`` as (x, y), output: ``[B, d_out, d_in, ...]``
    """
    r = torch.linalg.vector_norm(points, dim=-1)  # [...]
    phi = torch.atan2(points[..., 1], points[..., 0])  # [...]
    at_origin = r < _ORIGIN
    parts = []
    for radius, sigma, top in ring_parameters(kernel_size):
        frequencies = _harmonics(m, n, top, group_order)[0].to(points.device)
        angular = harmonic_basis(m, n, phi, top, group_order)  # [E, do, di, ...]
        profile = torch.exp(-((r - radius) ** 2) / (2 * sigma**2))  # [...]
        nonzero = (frequencies != 0).view(-1, 1, 1, *([1] * phi.ndim))
        angular = torch.where(nonzero & at_origin, 0.0, angular)
        parts.append(angular * profile)
    return torch.cat(parts)  # [B, d_out, d_in, ...]


def _irreps_basis(
    frequencies_in: Sequence[int],
    frequencies_out: Sequence[int],
    points: Tensor,
    kernel_size: int,
    group_order: int | None,
) -> Tensor:
    """Basis of the direct sums of irreps: irrep-pair blocks, output major.

    Shapes:
        points: ``[..., 2]``, output: ``[B, D_out, D_in, ...]``
    """
    dims_in = [irrep_dimension(m, group_order) for m in frequencies_in]
    dims_out = [irrep_dimension(n, group_order) for n in frequencies_out]
    blocks = []
    for i, n in enumerate(frequencies_out):
        for j, m in enumerate(frequencies_in):
            pair = pair_basis(m, n, points, kernel_size, group_order)
            rows = (sum(dims_out[:i]), sum(dims_out[i + 1 :]))
            cols = (sum(dims_in[:j]), sum(dims_in[j + 1 :]))
            moved = pair.movedim((1, 2), (-2, -1))  # [B, ..., d_out, d_in]
            # F.pad pads the last axis first: columns, then rows.
            blocks.append(F.pad(moved, (*cols, *rows)).movedim((-2, -1), (1, 2)))
    return torch.cat(blocks)  # [B, D_out, D_in, ...]


def _change_of_basis(field: Field, group_order: int | None, like: Tensor) -> Tensor:
    """``Q`` with ``ρ_field = Q (⊕ψ) Qᵀ``: ``Fᵀ`` for regular fields, else I."""
    if field == "regular":
        return fourier_matrix(group_order, like.dtype, like.device).T  # [N, N]
    d = field_dimension(field, group_order)
    return torch.eye(d, dtype=like.dtype, device=like.device)


def field_basis(
    field_in: Field,
    field_out: Field,
    kernel_size: int,
    group_order: int | None = None,
    points: Tensor | None = None,
) -> Tensor:
    """The steerable basis between two fields (irreps or regular).

    ``Q_out K Q_inᵀ`` for each element ``K`` of the basis between the fields'
    irreps (see the module docstring). By default sampled on the centred
    ``k × k`` pixel grid in float64.

    Shapes:
        points: ``[..., 2]`` (default ``pixel_grid(k, k)``),
        output: ``[B, d_out, d_in, ...]`` (``[B, d_out, d_in, k, k]``)
    """
    if points is None:
        points = pixel_grid(kernel_size, kernel_size, dtype=torch.float64)
    irreps = _irreps_basis(
        field_frequencies(field_in, group_order),
        field_frequencies(field_out, group_order),
        points,
        kernel_size,
        group_order,
    )  # [B, d_out, d_in, ...]
    q_in = _change_of_basis(field_in, group_order, points)
    q_out = _change_of_basis(field_out, group_order, points)
    return torch.einsum("po,boi...,qi->bpq...", q_out, irreps, q_in)


def steerable_basis(
    type_in: Sequence[Field],
    type_out: Sequence[Field],
    kernel_size: int,
    group_order: int | None = None,
) -> Tensor:
    """The steerable basis between two field types, on the ``k × k`` grid.

    Blocks of every (output field, input field) pair, output field major,
    each its :func:`field_basis` placed in the fields' rows and columns. The
    dense result is what :class:`SteerableConvolution` expands, in the same
    order as its ``weight``.

    Shapes:
        output: ``[P, D_out, D_in, k, k]`` (float64)
    """
    d_in = [field_dimension(f, group_order) for f in type_in]
    d_out = [field_dimension(f, group_order) for f in type_out]
    size_in, size_out = sum(d_in), sum(d_out)
    blocks = []
    for i, field_out in enumerate(type_out):
        for j, field_in in enumerate(type_in):
            block = field_basis(field_in, field_out, kernel_size, group_order)
            full = block.new_zeros(block.shape[0], size_out, size_in, *block.shape[3:])
            r, c = sum(d_out[:i]), sum(d_in[:j])
            full[:, r : r + d_out[i], c : c + d_in[j]] = block
            blocks.append(full)
    return torch.cat(blocks)  # [P, D_out, D_in, k, k]


# ----------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------


def _check_type(field_type: object, group_order: int | None, name: str) -> list:
    """Return ``field_type`` as a list, after checking every field."""
    if isinstance(field_type, (str, int)) or not isinstance(field_type, Sequence):
        raise TypeError(
            f"{name} must be a list of fields (irrep frequencies or 'regular'), "
            f"got {field_type!r}"
        )
    type_dimension(field_type, group_order)  # raises on an invalid field
    return list(field_type)


def _check_input(x: object, channels: int, name: str) -> Tensor:
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise TypeError(f"{name} expects a float tensor [B, {channels}, H, W]")
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(
            f"{name} expects a tensor [B, {channels}, H, W], got shape {tuple(x.shape)}"
        )
    return x


def _field_kinds(field_type: Sequence[Field]) -> list[Field]:
    """The distinct fields of a type, in order of first appearance."""
    return list(dict.fromkeys(field_type))


# ----------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------


class SteerableConvolution(nn.Module):
    """Steerable convolution between field types of SO(2) or C_N.

    The kernel is a learned linear combination of the steerable basis,
    ``K = Σ_p w_p basis_p`` with the basis of :func:`steerable_basis` on the
    ``k × k`` pixel grid (dense order: output field major, then input field,
    then the pair's basis), and the layer is one correlation:

        out[b, o](p) = Σ_i Σ_q x[b, i](p + q) K[o, i](q) (+ bias),

    zero padding ``k // 2``, stride 1. The kernel satisfies
    ``K(g x) = ρ_out(g) K(x) ρ_in(g)⁻¹`` exactly at every grid point for
    rotations by multiples of 90° (C_N with 4 | N, and SO(2)), so

        conv(ρ_in(r) · rot90(x)) == ρ_out(r) · rot90(conv(x))

    up to float rounding (``ρ(r)`` acting on the channel axis); for other
    angles equivariance holds up to the sampling of the rotated input.

    Implementation: the basis is computed once (float64) and cached per
    dtype and device; it is stored per distinct pair of fields, so that a
    type with repeated fields costs one small matrix product per pair of
    distinct fields, ``[n_out·n_in, B] @ [B, d_out·d_in·k²]``, followed by one
    ``F.conv2d``.

    Args:
        type_in: input field type, e.g. ``[0, 0, 1]`` or ``["regular"] * 4``.
        type_out: output field type.
        kernel_size: ``k``, odd.
        group_order: ``N`` for C_N, None for SO(2).
        bias: learn a bias for each trivial (frequency 0) and each regular
            output field (added to all N channels of a regular field).

    Attributes:
        weight: ``[P]``, the coefficients over the basis, drawn from
            ``N(0, D_out / Σ_p ||basis_p||²)`` (unit output variance for
            white unit input).

    Shapes:
        x: ``[B, D_in, H, W]``, output: ``[B, D_out, H, W]``

    Example:
        >>> conv = SteerableConvolution([0], ["regular"] * 2, 5, group_order=4)
        >>> conv(torch.randn(1, 1, 9, 9)).shape
        torch.Size([1, 8, 9, 9])
    """

    def __init__(
        self,
        type_in: Sequence[Field],
        type_out: Sequence[Field],
        kernel_size: int,
        group_order: int | None = None,
        bias: bool = False,
    ) -> None:
        super().__init__()
        self.group_order = group_order
        self.type_in = _check_type(type_in, group_order, "type_in")
        self.type_out = _check_type(type_out, group_order, "type_out")
        self.kernel_size = _check_kernel_size(kernel_size)
        self.in_channels = type_dimension(self.type_in, group_order)
        self.out_channels = type_dimension(self.type_out, group_order)
        self._build_blocks()
        self.weight = nn.Parameter(torch.empty(self._size))
        self._build_bias(bias)
        self.reset_parameters()

    def _build_blocks(self) -> None:
        """Basis per distinct field pair, and where its coefficients sit."""
        k, n = self.kernel_size, self.group_order
        self._kinds_in, self._kinds_out = (
            _field_kinds(self.type_in),
            _field_kinds(self.type_out),
        )
        bases = {
            (fo, fi): field_basis(fi, fo, k, n).flatten(1)  # [B, d_out·d_in·k·k]
            for fo in self._kinds_out
            for fi in self._kinds_in
        }
        offsets, start = {}, 0
        for i, fo in enumerate(self.type_out):
            for j, fi in enumerate(self.type_in):
                offsets[i, j] = start
                start += bases[fo, fi].shape[0]
        self._size = start
        self._bases64 = bases
        self._index = {}
        for fo in self._kinds_out:
            rows = [i for i, f in enumerate(self.type_out) if f == fo]
            for fi in self._kinds_in:
                cols = [j for j, f in enumerate(self.type_in) if f == fi]
                first = torch.tensor([[offsets[i, j] for j in cols] for i in rows])
                b = torch.arange(bases[fo, fi].shape[0])
                self._index[fo, fi] = first[:, :, None] + b  # [n_out, n_in, B]
        # Σ_p ||basis_p||² of the dense basis: each block once per field pair.
        self._norm2 = sum(
            float((bases[key] ** 2).sum()) * index.shape[0] * index.shape[1]
            for key, index in self._index.items()
        )
        self._perm_out = self._sorted_positions(self.type_out, self._kinds_out)
        self._perm_in = self._sorted_positions(self.type_in, self._kinds_in)
        self._cache: dict = {}

    def _sorted_positions(self, field_type, kinds) -> Tensor | None:
        """Channel permutation from kind-sorted order to the type's order."""
        d = [field_dimension(f, self.group_order) for f in field_type]
        starts = [sum(d[:i]) for i in range(len(d))]
        order = [
            c
            for kind in kinds
            for i, f in enumerate(field_type)
            if f == kind
            for c in range(starts[i], starts[i] + d[i])
        ]
        position = torch.empty(len(order), dtype=torch.long)
        position[torch.tensor(order)] = torch.arange(len(order))
        if torch.equal(position, torch.arange(len(order))):
            return None
        return position  # kernel = sorted_kernel[position]

    def _build_bias(self, bias: bool) -> None:
        owners = []  # for every output channel, its bias index or -1
        count = 0
        for field in self.type_out:
            d = field_dimension(field, self.group_order)
            if field in (0, "regular"):
                owners += [count] * d
                count += 1
            else:
                owners += [-1] * d
        self._bias_owner = torch.tensor(owners)
        if bias and count:
            self.bias = nn.Parameter(torch.empty(count))
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """``weight ~ N(0, D_out / Σ_p ||basis_p||²)``, ``bias = 0``."""
        with torch.no_grad():
            self.weight.normal_(0.0, math.sqrt(self.out_channels / self._norm2))
            if self.bias is not None:
                self.bias.zero_()

    def _cached(self, dtype: torch.dtype, device: torch.device) -> dict:
        """Basis blocks, weight indices and channel permutations in ``dtype``
        on ``device``, built on first use and kept (the basis never changes)."""
        key = (dtype, device)
        if key not in self._cache:
            cached: dict = {
                pair: (
                    basis.to(dtype=dtype, device=device),
                    self._index[pair].flatten().to(device),
                )
                for pair, basis in self._bases64.items()
            }
            for name in ("_perm_out", "_perm_in"):
                perm = getattr(self, name)
                cached[name] = None if perm is None else perm.to(device)
            self._cache[key] = cached
        return self._cache[key]

    def kernel(self) -> Tensor:
        """The expanded kernel ``K = Σ_p w_p basis_p``.

        Shapes:
            output: ``[D_out, D_in, k, k]``
        """
        k, n = self.kernel_size, self.group_order
        cached = self._cached(self.weight.dtype, self.weight.device)
        rows = []
        for fo in self._kinds_out:
            d_out = field_dimension(fo, n)
            row = []
            for fi in self._kinds_in:
                basis, index = cached[fo, fi]
                n_out, n_in, size = self._index[fo, fi].shape
                w = self.weight.index_select(0, index).view(n_out * n_in, size)
                blocks = (w @ basis).view(n_out, n_in, d_out, -1, k, k)
                blocks = blocks.transpose(1, 2)  # [n_out, d_out, n_in, d_in, k, k]
                row.append(blocks.reshape(n_out * d_out, -1, k, k))
            rows.append(torch.cat(row, dim=1))
        kernel = torch.cat(rows)  # [D_out, D_in, k, k], kinds sorted
        if cached["_perm_out"] is not None:
            kernel = kernel.index_select(0, cached["_perm_out"])
        if cached["_perm_in"] is not None:
            kernel = kernel.index_select(1, cached["_perm_in"])
        return kernel  # [D_out, D_in, k, k]

    def expanded_bias(self) -> Tensor | None:
        """The bias per output channel (zero on non-trivial irreps), or None.

        Shapes:
            output: ``[D_out]``
        """
        if self.bias is None:
            return None
        owner = self._bias_owner.to(self.bias.device)
        padded = torch.cat((self.bias, self.bias.new_zeros(1)))  # [n_bias + 1]
        return padded[torch.where(owner >= 0, owner, len(self.bias))]

    def forward(self, x: Tensor) -> Tensor:
        """Convolve ``x`` with the expanded kernel: one ``F.conv2d``.

        Shapes:
            x: ``[B, D_in, H, W]``, output: ``[B, D_out, H, W]``
        """
        _check_input(x, self.in_channels, "SteerableConvolution")
        return F.conv2d(
            x, self.kernel(), self.expanded_bias(), padding=self.kernel_size // 2
        )

    def extra_repr(self) -> str:
        return (
            f"type_in={self.type_in}, type_out={self.type_out}, "
            f"kernel_size={self.kernel_size}, group_order={self.group_order}, "
            f"basis={self._size}"
        )


class NormReLU(nn.Module):
    """Norm nonlinearity: scale every field by a function of its norm.

        f ↦ f · relu(|f| − b_f) / |f|

    per field ``f`` of the type (a learned ``b_f`` per field, 0.1 at init);
    ``|ρ(g) f| = |f|`` for orthogonal ``ρ``, so this commutes with every
    rotation of every field. Fields whose norm is below ``1e-12`` map to 0.

    Shapes:
        x: ``[B, D, H, W]``, output: ``[B, D, H, W]``
    """

    def __init__(
        self, field_type: Sequence[Field], group_order: int | None = None
    ) -> None:
        super().__init__()
        self.field_type = _check_type(field_type, group_order, "field_type")
        dims = [field_dimension(f, group_order) for f in self.field_type]
        owner = torch.repeat_interleave(torch.arange(len(dims)), torch.tensor(dims))
        self.register_buffer("owner", owner, persistent=False)  # [D]
        self.bias = nn.Parameter(torch.full((len(dims),), 0.1))
        self.channels = sum(dims)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.channels, "NormReLU")
        fields = len(self.field_type)
        norm2 = x.new_zeros(x.shape[0], fields, *x.shape[2:])
        norm2 = norm2.index_add(1, self.owner, x * x)  # [B, fields, H, W]
        norm = norm2.sqrt()
        scale = torch.relu(norm - self.bias[:, None, None]) / norm.clamp_min(1e-12)
        return x * scale.index_select(1, self.owner)  # [B, D, H, W]


class FourierReLU(nn.Module):
    """Pointwise ReLU on band-limited signals over the circle, via sampling.

    The input holds ``channels`` fields of type ``[0, 1, ..., L]`` (the
    coefficients of ``f(θ) = c_0 + Σ_k c_k cos kθ + s_k sin kθ``; for C_N
    with ``L = N / 2`` the last irrep is 1-dimensional). The layer samples
    ``f`` at ``S`` angles ``θ_s = 2πs / S`` (the inverse Fourier transform,
    matrix ``A``), applies ReLU, and projects back by least squares:

        f̂ ↦ A⁺ relu(A f̂).

    A rotation by ``2π/S`` shifts the samples, so the map is exactly
    equivariant for C_S (for C_N: ``S = N``; with ``L = N // 2`` it is the
    pointwise ReLU of the regular representation in Fourier space) and
    approximately for other angles of SO(2).

    Args:
        channels: number of fields.
        max_frequency: ``L``.
        samples: ``S >= 2L + 1``.
        group_order: ``N`` for C_N (then ``L <= N // 2``), None for SO(2).

    Shapes:
        x: ``[B, channels · d, H, W]``, ``d = Σ_k dim ψ_k``; output: the same.
    """

    def __init__(
        self,
        channels: int,
        max_frequency: int,
        samples: int,
        group_order: int | None = None,
    ) -> None:
        super().__init__()
        frequencies = list(range(max_frequency + 1))
        self.field_type = frequencies * channels
        self.channels = channels
        self.dimension = type_dimension(frequencies, group_order)
        if samples < self.dimension:
            raise ValueError(
                f"samples must be at least {self.dimension} to invert the "
                f"sampling of frequencies 0..{max_frequency}, got {samples}"
            )
        theta = torch.arange(samples, dtype=torch.float64) * (2 * math.pi / samples)
        columns = []
        for k in frequencies:
            columns.append(torch.cos(k * theta))
            if irrep_dimension(k, group_order) == 2:
                columns.append(torch.sin(k * theta))
        sampling = torch.stack(columns, dim=-1)  # [S, d]
        self.register_buffer("sampling", sampling, persistent=False)
        self.register_buffer(
            "projection", torch.linalg.pinv(sampling), persistent=False
        )

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.channels * self.dimension, "FourierReLU")
        f_hat = x.unflatten(1, (self.channels, self.dimension))  # [B, C, d, H, W]
        samples = torch.einsum("sd,bcdhw->bcshw", self.sampling.to(x.dtype), f_hat)
        back = torch.einsum(
            "ds,bcshw->bcdhw", self.projection.to(x.dtype), torch.relu(samples)
        )
        return back.flatten(1, 2)  # [B, C·d, H, W]
