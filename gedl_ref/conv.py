"""Regular group convolutions on planar images: lifting, group conv, pooling.

For a finite rotation group H (``CyclicGroup(N)`` or ``DihedralGroup(N)``)
with ``G = |H|`` elements, listed in the order of ``H.elements()``, a feature
map on the group is a tensor ``[B, C, G, H, W]``: one planar image per channel
and group element. All layers are correlations (like ``F.conv2d``) with the
left-regular representation ``(L_g w)(x) = w(g⁻¹ x)`` acting on the centred
kernel grid (see ``docs/conventions.md``):

    lifting:    out[b, o, g, p] = Σ_{i, q} (L_g w_{o,i})(q − p) f_i(q) + bias_o
    group conv: out[b, o, g, p] = Σ_{i, h, q} w_{o,i}(g⁻¹h, g⁻¹(q − p)) f_i(h, q)
                                  + bias_o

Each layer transforms its kernel by all G elements at once on every call
(one gather with a fixed index built at construction, preceded by one small
matrix product for interpolated rotations; the transformed kernel is never
cached, so training sees the current weights) and then runs ONE ``F.conv2d``
on the stacked kernels ``[C_out·G, C_in(·G), k, k]``.

Exact equivariance (up to float rounding) with ``r`` the rotation by 90°
(C_N and D_N with 4 | N) and ``m`` the reflection of D_N: for ``u`` in
{r, m}, transforming the input by ``u`` transforms every layer's output as

    out'[:, :, g] = L_u out[:, :, u⁻¹ g],

with ``L_r = torch.rot90(·, 1, dims=(-2, -1))`` and
``L_m = torch.flip(·, dims=(-2,))``; the group axis is permuted exactly. In
index terms, with ``g = r^k m^s`` at index ``k + N s`` (``r^k`` the rotation
by ``2πk / N``): ``r⁻¹ g`` sits at ``(k − N/4) mod N + N s`` (for C_N:
``torch.roll(out, N // 4, dims=2)``) and ``m⁻¹ g = r^(−k) m^(1−s)`` at
``(−k) mod N + N (1 − s)``.

Padding is symmetric, ``kernel_size // 2`` pixels on every side, stride 1.
For odd ``k`` the output has the input's size; for even ``k`` it has one more
row and column: the output pixels sit on the centred grid of the half-pixel
positions between input pixels. In both cases the output grid is centred on
the input's centre, which is what keeps rot90 and reflection equivariance
exact. ``padding="same"``-style asymmetric padding, or stride 2 on even
sizes, moves the output grid off-centre and breaks exact equivariance.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gedl_ref.groups import CyclicGroup, DihedralGroup

__all__ = ["LiftingConvolution", "GroupConvolution", "GroupPooling", "GCNN"]

#: The finite groups these layers accept.
FiniteGroup = CyclicGroup | DihedralGroup


# ----------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------


def _check_group(group: object) -> FiniteGroup:
    """Return ``group`` if it is a finite gedl_ref rotation group."""
    if not isinstance(group, (CyclicGroup, DihedralGroup)):
        raise TypeError(
            "group must be a gedl_ref CyclicGroup(N) or DihedralGroup(N), got "
            f"{group!r}; infinite groups such as SO2() need a steerable layer"
        )
    return group


def _check_positive_int(value: object, name: str) -> int:
    """Return ``value`` if it is an int ``>= 1``, else raise a clear error."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"{name} must be a positive int, got {value!r} "
            f"of type {type(value).__name__}"
        )
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return value


def _check_bool(value: object, name: str) -> bool:
    """Return ``value`` if it is a bool, else raise a TypeError."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def _check_input(x: object, shape: tuple[int | None, ...], what: str) -> Tensor:
    """Check that ``x`` is a float tensor of the given rank and known sizes.

    Args:
        x: the input to check.
        shape: expected sizes per axis; None for any size.
        what: the expected layout, e.g. ``"[B, C_in, H, W]"``, for the message.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor {what}, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(
            f"x must have a floating dtype, got {x.dtype}; convert it with .float()"
        )
    if x.ndim != len(shape):
        raise ValueError(
            f"x must have {len(shape)} axes {what}, got shape {tuple(x.shape)}"
        )
    for axis, (got, want) in enumerate(zip(x.shape, shape, strict=True)):
        if want is not None and got != want:
            raise ValueError(
                f"x must have shape {what} with size {want} on axis {axis}, "
                f"got shape {tuple(x.shape)}"
            )
    return x


# ----------------------------------------------------------------------------
# The fixed operators that transform kernels
# ----------------------------------------------------------------------------


def _element_index(group: FiniteGroup, g: Tensor) -> Tensor:
    """Position of elements ``g`` in ``group.elements()``.

    For C_N and D_N the element ``[theta, (s)]`` sits at ``k + N s`` with
    ``k = round(theta N / 2π) mod N``.

    Shapes:
        g: ``[..., D]``, output: ``[...]`` (int64)
    """
    n = group.rotation_order
    k = torch.remainder(torch.round(g[..., 0] * (n / (2 * math.pi))), n)
    s = torch.round(g[..., 1]) if g.shape[-1] == 2 else torch.zeros_like(k)
    return (k + n * s).long()


def _group_axis_permutation(group: FiniteGroup) -> Tensor:
    """Index table of ``g⁻¹ h`` from the group's product: ``perm[g, h]``.

    Row ``g`` is the exact permutation of the group axis that the group conv
    kernel undergoes at output element ``g``: ``w(h, ·)`` becomes
    ``w(g⁻¹ h, ·)``. For C_N it is the cyclic roll ``(h − g) mod N``.

    Shapes:
        output: ``[G, G]`` (int64)
    """
    e = group.elements(dtype=torch.float64)  # [G, D]
    table = group.product(group.inverse(e)[:, None, :], e[None, :, :])  # [G, G, D]
    return _element_index(group, table)  # [G, G]


def _spatial_operators(group: FiniteGroup, kernel_size: int) -> Tensor:
    """Matrices of ``L_g`` on the centred ``k × k`` kernel grid, for every g.

    ``op[g, p, q] = (L_g δ_q)(p)``, so ``(L_g w)(p) = Σ_q op[g, p, q] w(q)``
    with ``(L_g w)(x) = w(g⁻¹ x)`` sampled by the group's
    ``left_regular_representation``. For multiples of 90° and reflections
    ``op[g]`` is a permutation matrix (the square kernel grid, odd or even
    ``k``, maps onto itself); otherwise its rows hold bilinear weights.

    Shapes:
        output: ``[G, k·k, k·k]`` (float64)
    """
    k = kernel_size
    e = group.elements(dtype=torch.float64)  # [G, D]
    basis = torch.eye(k * k, dtype=torch.float64).reshape(k * k, k, k)  # [q, k, k]
    moved = group.left_regular_representation(e[:, None, :], basis)  # [G, q, k, k]
    return moved.flatten(-2).transpose(1, 2)  # [G, p, q]


def _kernel_operators(
    group: FiniteGroup, kernel_size: int, group_in: bool
) -> tuple[Tensor, Tensor | None]:
    """Fixed gather index (and matrix) that build all G kernels at once.

    Let the weight be flattened to ``w[o, i, :]`` over its group-input and
    spatial axes (length ``G_in·k²``; ``G_in = G`` for group conv, 1 for
    lifting), ``perm[g, h] = index(g⁻¹ h)`` (zero for lifting) and ``op`` the
    spatial operators of :func:`_spatial_operators`. Then

        K[o, g, i, h, p] = Σ_q op[g, p, q] w[o, i, perm[g, h], q].

    When every ``op[g]`` is a permutation ``p -> q[g, p]`` (all elements are
    multiples of 90° or reflections) this is one gather:

        K[o, g, i, h, p] = w[o, i, perm[g, h]·k² + q[g, p]],

    and the returned matrix is None. Otherwise the spatial part is one matrix
    product ``S[o, i, h', g, p] = Σ_q w[o, i, h', q] op[g, p, q]`` with the
    returned ``[k², G·k²]`` matrix, followed by the gather

        K[o, g, i, h, p] = S[o, i, perm[g, h], g, p].

    Returns:
        ``index`` with entries into the flattened ``w`` (exact case) or ``S``,
        and the matrix (or None).

    Shapes:
        index: ``[G, G_in, k·k]`` (int64)
        matrix: ``[k·k, G·k·k]`` (float64) or None
    """
    k2, order = kernel_size**2, group.order
    op = _spatial_operators(group, kernel_size)  # [G, k·k, k·k]
    if group_in:
        perm = _group_axis_permutation(group)  # [G, G]
    else:
        perm = torch.zeros(order, 1, dtype=torch.long)  # [G, 1]
    perm = perm[:, :, None]  # [G, G_in, 1]

    q = op.argmax(-1)  # [G, k·k]
    if torch.equal(op, F.one_hot(q, k2).to(op.dtype)):  # every op[g] permutes
        return perm * k2 + q[:, None, :], None  # [G, G_in, k·k]
    g = torch.arange(order)[:, None, None]  # [G, 1, 1]
    p = torch.arange(k2)  # [k·k]
    index = perm * (order * k2) + g * k2 + p  # [G, G_in, k·k]
    return index, op.permute(2, 0, 1).reshape(k2, order * k2)  # [k·k, G·k·k]


# ----------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------


class _GroupLayer(nn.Module):
    """Shared construction of the lifting and group convolutions."""

    def __init__(
        self,
        group: object,
        in_channels: object,
        out_channels: object,
        kernel_size: object,
        bias: object,
        group_in: bool,
    ) -> None:
        super().__init__()
        self.group = _check_group(group)
        self.in_channels = _check_positive_int(in_channels, "in_channels")
        self.out_channels = _check_positive_int(out_channels, "out_channels")
        self.kernel_size = _check_positive_int(kernel_size, "kernel_size")
        self.group_order = self.group.order
        self.padding = self.kernel_size // 2
        k, g_in = self.kernel_size, (self.group_order if group_in else 1)
        self._group_in = g_in

        shape = (self.out_channels, self.in_channels, *((g_in,) if group_in else ()))
        self.weight = nn.Parameter(torch.empty(*shape, k, k))
        self.fan_in = self.in_channels * g_in * k * k
        if _check_bool(bias, "bias"):
            self.bias = nn.Parameter(torch.empty(self.out_channels))
        else:
            self.register_parameter("bias", None)

        # Fixed operators that move the kernel (see _kernel_operators).
        # The matrix stays float64 (cast to the weight's dtype when used), so
        # that a float64 layer gets float64 interpolation weights.
        index, matrix = _kernel_operators(self.group, k, group_in)
        self.register_buffer("gather_index", index.flatten(), persistent=False)
        self.register_buffer("spatial_matrix", matrix, persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw ``weight ~ N(0, 1 / fan_in)`` and set ``bias = 0``.

        This is kaiming-normal scaling with gain 1, ``fan_in = C_in · k²``
        (lifting) or ``C_in · G · k²`` (group conv).
        """
        with torch.no_grad():
            self.weight.normal_(0.0, self.fan_in**-0.5)
            if self.bias is not None:
                self.bias.zero_()

    def _transform(self) -> Tensor:
        """All G transformed kernels, with a group-input axis ``G_in``.

        ``K[o, g, i, h, p] = Σ_q op[g, p, q] w[o, i, index(g⁻¹ h), q]``, by
        one gather (preceded, for rotations that are not multiples of 90°, by
        one small matrix product); see :func:`_kernel_operators`.

        Shapes:
            output: ``[C_out, G, C_in, G_in, k, k]`` (``G_in = 1`` for lifting)
        """
        c_out, c_in, k = self.out_channels, self.in_channels, self.kernel_size
        order, g_in = self.group_order, self._group_in
        w = self.weight.reshape(c_out, c_in, -1)  # [C_out, C_in, G_in·k·k]
        if self.spatial_matrix is not None:
            matrix = self.spatial_matrix.to(w.dtype)  # [k·k, G·k·k]
            w = (w.reshape(-1, k * k) @ matrix).view(c_out, c_in, -1)
            # w: [C_out, C_in, G_in·G·k·k]
        kernels = w.index_select(-1, self.gather_index)  # [C_out, C_in, G·G_in·k·k]
        kernels = kernels.view(c_out, c_in, order, g_in, k, k)
        return kernels.transpose(1, 2)  # [C_out, G, C_in, G_in, k, k]

    def _conv(self, x: Tensor, kernels: Tensor) -> Tensor:
        """The one ``F.conv2d`` call on the stacked kernels.

        Shapes:
            x: ``[B, C_in(·G), H, W]``, kernels: ``[C_out·G, C_in(·G), k, k]``,
            output: ``[B, C_out, G, H', W']``
        """
        bias = None
        if self.bias is not None:
            bias = self.bias.repeat_interleave(self.group_order)  # [C_out·G]
        out = F.conv2d(x, kernels, bias, padding=self.padding)  # [B, C_out·G, H', W']
        return out.unflatten(1, (self.out_channels, self.group_order))

    def extra_repr(self) -> str:
        return (
            f"group={self.group!r}, in_channels={self.in_channels}, "
            f"out_channels={self.out_channels}, kernel_size={self.kernel_size}, "
            f"bias={self.bias is not None}"
        )


class LiftingConvolution(_GroupLayer):
    """Lift planar images to feature maps on a finite rotation group.

    A correlation with one transformed copy of every kernel per element ``g``
    of ``group`` (in the order of ``group.elements()``):

        out[b, o, g, p] = Σ_{i, q} (L_g w_{o,i})(q − p) f_i(q) + bias_o,
        (L_g w)(x) = w(g⁻¹ x),

    with ``x``, ``p``, ``q`` in the pixel convention of ``docs/conventions.md``
    (x right, y up, origin at the centre) and zero padding of ``k // 2``
    pixels on every side. The bias is shared over the group axis.

    Equivariance, exact up to float rounding, for odd and even ``k`` and any
    ``H x W`` (``r`` the rotation by 90°, C_N with 4 | N; ``m`` the
    reflection of D_N; ``out = lifting(f)``):

        lifting(torch.rot90(f, 1, dims=(-2, -1)))
            == torch.rot90(torch.roll(out, N // 4, dims=2), 1, dims=(-2, -1)),
        lifting(torch.flip(f, dims=(-2,)))[:, :, j]
            == torch.flip(out[:, :, index(m⁻¹ g_j)], dims=(-2,)),

    i.e. ``out'[g] = L_u out[u⁻¹ g]``; the indices of ``u⁻¹ g`` for D_N are
    given in the module docstring. Integer translations of the input
    translate the output (away from the borders).

    Args:
        group: ``CyclicGroup(N)`` or ``DihedralGroup(N)``; ``G = group.order``.
        in_channels: ``C_in``, channels of the input images.
        out_channels: ``C_out``, channels per group element of the output.
        kernel_size: ``k``, the side of the square kernel (odd or even).
        bias: whether to add a learned bias ``[C_out]``.

    Attributes:
        weight: ``[C_out, C_in, k, k]``, drawn from ``N(0, 1 / (C_in k²))``.
        bias: ``[C_out]`` (zeros at init) or None.

    Shapes:
        x: ``[B, C_in, H, W]``
        output: ``[B, C_out, G, H', W']`` with ``H' = H + 1 - k % 2`` (same
        for ``W'``): ``H' = H`` for odd ``k``, ``H + 1`` for even ``k``.

    Warning:
        For rotations that are not multiples of 90° (e.g. 45° in C8, any
        rotation of C3 or C6) the kernel is rotated by bilinear interpolation
        on its own k × k grid: it is blurred and its corners leave the grid,
        so equivariance to those rotations is only approximate, and poor for
        unstructured kernels. Measured for C8 and a 45° rotation of a smooth
        disk-shaped input (float64, relative L2 error of the output inside
        the disk, 4 seeds): random 5 × 5 kernels 0.3–0.7, about as far off
        as a wrong group roll; the same kernels multiplied by a disk mask
        ``|x| <= k / 2`` 0.1–0.25; smooth kernels (Gaussian envelope, σ = 1
        pixel) 0.03–0.06. No mask is applied here: the kernel at ``g`` is
        exactly ``L_g w``. Rotations by 90° stay exact.

    Example:
        >>> layer = LiftingConvolution(CyclicGroup(4), 3, 8, kernel_size=5)
        >>> layer(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 8, 4, 32, 32])
    """

    def __init__(
        self,
        group: FiniteGroup,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
    ) -> None:
        super().__init__(
            group, in_channels, out_channels, kernel_size, bias, group_in=False
        )

    def transformed_kernels(self) -> Tensor:
        """Return ``L_g w_o`` for every output channel ``o`` and element ``g``.

        ``K[o, g, i] = L_g w[o, i]``, all G at once by one gather (and, for
        rotations that are not multiples of 90°, a weighted sum of the
        bilinear taps), recomputed on every call so that gradients flow.

        Shapes:
            output: ``[C_out, G, C_in, k, k]``
        """
        return self._transform().squeeze(3)  # [C_out, G, C_in, k, k]

    def forward(self, x: Tensor) -> Tensor:
        """Lift ``x``; see the class docstring for the formula.

        Shapes:
            x: ``[B, C_in, H, W]``, output: ``[B, C_out, G, H', W']``
        """
        _check_input(x, (None, self.in_channels, None, None), "[B, C_in, H, W]")
        k = self.kernel_size
        kernels = self.transformed_kernels().reshape(-1, self.in_channels, k, k)
        return self._conv(x, kernels)  # [B, C_out, G, H', W']


class GroupConvolution(_GroupLayer):
    """Regular group convolution between feature maps on a finite group.

    A correlation over the group axis and the plane, for every output element
    ``g`` of ``group`` (in the order of ``group.elements()``):

        out[b, o, g, p] = Σ_{i, h, q} w_{o,i}(g⁻¹ h, g⁻¹ (q − p)) f_i(h, q) + bias_o.

    The kernel's group axis is moved by the EXACT index permutation
    ``h -> g⁻¹ h`` read from the group's product table (for C_N the cyclic
    roll ``(h − g) mod N``), never by interpolation. Its spatial axes are
    moved by ``L_g`` as in :class:`LiftingConvolution`. Padding ``k // 2`` on
    every side, bias shared over the group axis.

    Equivariance, exact up to float rounding, for odd and even ``k`` and any
    ``H x W`` (``r`` the rotation by 90°, C_N with 4 | N; ``out =
    gconv(f)``): with ``f' = torch.rot90(torch.roll(f, N // 4, dims=2), 1,
    dims=(-2, -1))``,

        gconv(f')
            == torch.rot90(torch.roll(out, N // 4, dims=2), 1, dims=(-2, -1)),

    and for D_N with ``f'[:, :, j] = torch.flip(f[:, :, index(m⁻¹ g_j)],
    dims=(-2,))`` the output is ``out'[:, :, j] = torch.flip(out[:, :,
    index(m⁻¹ g_j)], dims=(-2,))``: in general ``out'[g] = L_u out[u⁻¹ g]``
    (indices in the module docstring). Integer translations translate the
    output.

    Args:
        group: ``CyclicGroup(N)`` or ``DihedralGroup(N)``; ``G = group.order``.
        in_channels: ``C_in``, channels per group element of the input.
        out_channels: ``C_out``, channels per group element of the output.
        kernel_size: ``k``, the side of the square kernel (odd or even).
        bias: whether to add a learned bias ``[C_out]``.

    Attributes:
        weight: ``[C_out, C_in, G, k, k]``, drawn from ``N(0, 1 / (C_in G k²))``.
        bias: ``[C_out]`` (zeros at init) or None.

    Shapes:
        x: ``[B, C_in, G, H, W]``
        output: ``[B, C_out, G, H', W']``, ``H' = H + 1 - k % 2`` (same for
        ``W'``).

    Warning:
        As for :class:`LiftingConvolution`, rotations that are not multiples
        of 90° (e.g. 45° in C8) move the kernel's spatial axes by bilinear
        interpolation, so equivariance to them is approximate: measured
        relative error 0.3–0.45 for random 5 × 5 kernels and 0.03–0.05 for
        smooth ones (C8, 45°, smooth disk-shaped input, float64). The group
        axis is always moved exactly.

    Example:
        >>> layer = GroupConvolution(CyclicGroup(4), 8, 8, kernel_size=3)
        >>> layer(torch.randn(2, 8, 4, 16, 16)).shape
        torch.Size([2, 8, 4, 16, 16])
    """

    def __init__(
        self,
        group: FiniteGroup,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
    ) -> None:
        super().__init__(
            group, in_channels, out_channels, kernel_size, bias, group_in=True
        )

    def transformed_kernels(self) -> Tensor:
        """Return ``K[o, g, i, h] = L_g (w_{o,i}(g⁻¹ h, ·))`` for all o, g, i, h.

        All G kernels at once: the group axis is gathered through the exact
        index table ``h -> index(g⁻¹ h)`` of the group's product, the spatial
        axes through the taps of ``L_g`` (one gather; a weighted sum of the
        bilinear taps for rotations that are not multiples of 90°).

        Shapes:
            output: ``[C_out, G, C_in, G, k, k]``
        """
        return self._transform()  # [C_out, G, C_in, G, k, k]

    def forward(self, x: Tensor) -> Tensor:
        """Convolve ``x`` over the group; see the class docstring.

        Shapes:
            x: ``[B, C_in, G, H, W]``, output: ``[B, C_out, G, H', W']``
        """
        shape = (None, self.in_channels, self.group_order, None, None)
        _check_input(x, shape, "[B, C_in, G, H, W]")
        k, c_in = self.kernel_size, self.in_channels * self.group_order
        kernels = self.transformed_kernels().reshape(-1, c_in, k, k)
        return self._conv(x.flatten(1, 2), kernels)  # [B, C_out, G, H', W']


class GroupPooling(nn.Module):
    """Pool a feature map over its group axis, giving an invariant image.

        out[b, c, p] = max_g f[b, c, g, p]    (mode="max")
        out[b, c, p] = mean_g f[b, c, g, p]   (mode="mean")

    Permuting the group axis (as any element of the group does) leaves the
    result unchanged, so ``pool(out'[g] = L_u out[u⁻¹ g]) = L_u pool(out)``.

    Args:
        mode: ``"max"`` or ``"mean"``.

    Shapes:
        x: ``[B, C, G, H, W]``
        output: ``[B, C, H, W]``
    """

    def __init__(self, mode: str = "max") -> None:
        super().__init__()
        if mode not in ("max", "mean"):
            raise ValueError(f'mode must be "max" or "mean", got {mode!r}')
        self.mode = mode

    def forward(self, x: Tensor) -> Tensor:
        """Pool over axis 2.

        Shapes:
            x: ``[B, C, G, H, W]``, output: ``[B, C, H, W]``
        """
        _check_input(x, (None,) * 5, "[B, C, G, H, W]")
        return x.amax(dim=2) if self.mode == "max" else x.mean(dim=2)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"


class GCNN(nn.Module):
    """A small group-invariant image classifier.

    lifting → (ReLU, group conv) × (layers − 1) → max over the group →
    mean over the plane → linear:

        z = mean_p max_g (gconv ∘ ReLU)^(layers−1) (lifting(x))[:, :, g, p],
        logits = A z + b.

    Every stage before the pooling is equivariant and the pooling is
    invariant, so the logits are invariant to the group acting on the input:
    exactly (up to float rounding) for rot90 and for the reflection
    ``torch.flip(x, dims=(-2,))`` of D_N, approximately for 45° in C8.

    Args:
        group: ``CyclicGroup(N)`` or ``DihedralGroup(N)``.
        in_channels: ``C_in`` of the input images.
        num_classes: number of logits.
        hidden: channels per group element of the hidden layers.
        kernel_size: ``k`` of every layer.
        layers: number of convolution layers (the lifting one included).

    Shapes:
        x: ``[B, C_in, H, W]``
        output: ``[B, num_classes]``
    """

    def __init__(
        self,
        group: FiniteGroup,
        in_channels: int,
        num_classes: int,
        hidden: int = 8,
        kernel_size: int = 5,
        layers: int = 2,
    ) -> None:
        super().__init__()
        _check_positive_int(num_classes, "num_classes")
        _check_positive_int(layers, "layers")
        self.lifting = LiftingConvolution(group, in_channels, hidden, kernel_size)
        self.convs = nn.ModuleList(
            GroupConvolution(group, hidden, hidden, kernel_size)
            for _ in range(layers - 1)
        )
        self.pool = GroupPooling("max")
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """Classify ``x``.

        Shapes:
            x: ``[B, C_in, H, W]``, output: ``[B, num_classes]``
        """
        h = self.lifting(x)  # [B, hidden, G, H', W']
        for conv in self.convs:
            h = conv(torch.relu(h))  # [B, hidden, G, H', W']
        z = self.pool(h).mean(dim=(-2, -1))  # [B, hidden]
        return self.head(z)  # [B, num_classes]
