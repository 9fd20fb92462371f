"""Pixel grids and bilinear sampling of planar signals.

A planar signal is a tensor ``[..., H, W]``. Pixel ``(i, j)`` (row ``i``,
column ``j``) sits at the point

    x = j - (W - 1) / 2,    y = (H - 1) / 2 - i,

so ``x`` points right, ``y`` points up, the origin is the centre of the image
and one unit is one pixel (see ``docs/conventions.md``).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["pixel_grid", "sample_signal"]

#: A coordinate closer than this (in pixels) to a pixel centre is snapped to it.
SNAP_TOLERANCE = 1e-4


def _check_size(value: object, name: str) -> int:
    """Return ``value`` if it is a positive int, else raise a clear error."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return value


def pixel_grid(
    height: int,
    width: int,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Return the planar coordinates of the pixel centres of an image.

    Pixel ``(i, j)`` gets the point ``(x, y)`` with

        x = j - (width - 1) / 2,    y = (height - 1) / 2 - i.

    Args:
        height: number of rows ``H``, a positive int.
        width: number of columns ``W``, a positive int.
        dtype: floating dtype of the result; ``torch.get_default_dtype()``
            when None.
        device: device of the result.

    Returns:
        The points, ``grid[i, j] = (x, y)``.

    Shapes:
        output: ``[H, W, 2]``

    Example:
        >>> pixel_grid(2, 3)[0]
        tensor([[-1.0000,  0.5000],
                [ 0.0000,  0.5000],
                [ 1.0000,  0.5000]])
    """
    _check_size(height, "height")
    _check_size(width, "width")
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating dtype, got {dtype}")

    x = torch.arange(width, dtype=dtype, device=device) - (width - 1) / 2  # [W]
    y = (height - 1) / 2 - torch.arange(height, dtype=dtype, device=device)  # [H]
    return torch.stack(
        (x.expand(height, width), y[:, None].expand(height, width)), dim=-1
    )  # [H, W, 2]


def _check_sampling_input(f: Tensor, points: Tensor) -> None:
    """Raise a clear TypeError / ValueError for bad arguments of sample_signal."""
    for name, t in (("f", f), ("points", points)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if not t.is_floating_point():
            raise TypeError(
                f"{name} must have a floating dtype, got {t.dtype}; "
                "convert it with .to(torch.get_default_dtype())"
            )
    if f.ndim < 2:
        raise ValueError(
            f"f must be a planar signal [..., H, W], got shape {tuple(f.shape)}"
        )
    if points.ndim < 3 or points.shape[-1] != 2:
        raise ValueError(
            "points must have shape [..., H, W, 2] (x, y coordinates), "
            f"got shape {tuple(points.shape)}"
        )
    if f.device != points.device:
        raise ValueError(
            f"f is on {f.device} but points are on {points.device}; "
            "move both to the same device"
        )


def _broadcast_signal_batch(
    signal_batch: torch.Size, point_batch: torch.Size
) -> torch.Size:
    """Broadcast the batch axes of the signal and of the points."""
    try:
        return torch.broadcast_shapes(signal_batch, point_batch)
    except RuntimeError as error:
        raise ValueError(
            f"the batch axes of f {tuple(signal_batch)} and of points "
            f"{tuple(point_batch)} do not broadcast; insert size-1 axes to align them"
        ) from error


def _snapped_index(coordinate: Tensor) -> Tensor:
    """Snap a continuous pixel index to the nearest integer within tolerance.

    Non-finite entries become ``-2``, a position outside every image, so they
    sample zero.
    """
    coordinate = torch.nan_to_num(coordinate, nan=-2.0, posinf=-2.0, neginf=-2.0)
    nearest = torch.round(coordinate)
    return torch.where(
        (coordinate - nearest).abs() < SNAP_TOLERANCE, nearest, coordinate
    )


def _axis_neighbours(
    position: Tensor, size: int
) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    """Neighbouring pixel indices and linear weights along one image axis.

    For ``p0 = floor(position)`` and ``a = position - p0`` the neighbours are
    ``p0`` (weight ``1 - a``) and ``p0 + 1`` (weight ``a``). A neighbour
    outside ``0..size-1`` gets weight zero; indices are clamped into range.

    Shapes:
        position: ``[*S, H, W]``
        output: two indices (int64) and two weights, each ``[*S, H, W]``
    """
    p0 = torch.floor(position)
    a = position - p0
    w0 = torch.where((p0 >= 0) & (p0 <= size - 1), 1 - a, 0)
    w1 = torch.where((p0 >= -1) & (p0 <= size - 2), a, 0)
    i0 = p0.clamp(-1, size).long()
    return (i0.clamp(0, size - 1), (i0 + 1).clamp(0, size - 1)), (w0, w1)


def _corners(
    row: Tensor, col: Tensor, height: int, width: int, dtype: torch.dtype
) -> tuple[Tensor, Tensor]:
    """Flat indices and bilinear weights of the four pixels around each point.

    A corner outside the image or with weight zero gets weight zero and index
    ``height * width``, which the caller points at an explicit zero, so that
    it contributes an exact zero even when the image holds NaN or inf. The
    weights are in ``dtype`` (the signal's), cast before the zero test so that
    a weight that underflows in a low precision is masked too.

    Shapes:
        row, col: ``[*S, H, W]``
        output: two tensors ``[*S, 4, H * W]`` (index int64, weight ``dtype``)
    """
    (r0, r1), (wr0, wr1) = _axis_neighbours(row, height)
    (c0, c1), (wc0, wc1) = _axis_neighbours(col, width)
    r0, r1 = r0 * width, r1 * width
    index = torch.stack((r0 + c0, r0 + c1, r1 + c0, r1 + c1), dim=-3)
    weights = torch.stack((wr0 * wc0, wr0 * wc1, wr1 * wc0, wr1 * wc1), dim=-3)
    weights = weights.to(dtype)  # [*S, 4, H, W]
    index = torch.where(weights != 0, index, height * width)  # [*S, 4, H, W]
    return index.flatten(-2), weights.flatten(-2)  # [*S, 4, H * W]


def sample_signal(f: Tensor, points: Tensor) -> Tensor:
    """Read a planar signal at arbitrary points by bilinear interpolation.

    With the point ``(x, y)`` at the continuous pixel position
    ``(r, c) = ((Hf - 1) / 2 - y, x + (Wf - 1) / 2)`` and
    ``r0 = floor(r)``, ``c0 = floor(c)``, ``a = r - r0``, ``b = c - c0``:

        out = (1-a)(1-b) f[r0, c0] + (1-a) b f[r0, c0+1]
              + a (1-b) f[r0+1, c0] + a b f[r0+1, c0+1],

    where pixels outside the image count as zero. A coordinate within
    ``1e-4`` pixel of an integer position is snapped to it first, so a point
    within that distance of a pixel centre is an exact copy of that pixel.
    Corners of weight zero are never multiplied (they are read as an explicit
    zero), so NaN or inf pixels only reach the points that really use them.
    Non-finite points sample zero.

    Args:
        f: the signal, on a grid of ``Hf x Wf`` pixels.
        points: the ``(x, y)`` points to read, in the pixel-grid convention of
            :func:`pixel_grid` for the grid of ``f``.

    Returns:
        The sampled values, with the batch axes of ``f`` and ``points``
        broadcast. The dtype is that of ``f``.

    Shapes:
        f: ``[*T, Hf, Wf]``
        points: ``[*S, H, W, 2]``
        output: ``[*broadcast(T, S), H, W]``

    Warning:
        Away from pixel centres this is bilinear interpolation: it blurs, and
        composing two samplings is not the same as one sampling with the
        composed map.
    """
    _check_sampling_input(f, points)
    f_height, f_width = f.shape[-2:]
    height, width = points.shape[-3:-1]
    batch = _broadcast_signal_batch(f.shape[:-2], points.shape[:-3])

    # Continuous (row, column) position of every point in the grid of f.
    row = _snapped_index((f_height - 1) / 2 - points[..., 1])  # [*S, H, W]
    col = _snapped_index(points[..., 0] + (f_width - 1) / 2)  # [*S, H, W]
    index, weights = _corners(row, col, f_height, f_width, f.dtype)  # [*S, 4, H*W]

    # One trailing zero per image for the corners that must read zero.
    f_flat = f.reshape(*f.shape[:-2], f_height * f_width)  # [*T, Hf * Wf]
    f_flat = torch.nn.functional.pad(f_flat, (0, 1))  # [*T, Hf * Wf + 1]
    f_flat = f_flat.expand(*batch, f_flat.shape[-1])  # [*B, Hf * Wf + 1]

    # Accumulate the four corners: out = sum_k w_k f[index_k].
    out = None
    for k in range(4):
        index_k = index[..., k, :].expand(*batch, height * width)  # [*B, H * W]
        value = torch.gather(f_flat, -1, index_k)  # [*B, H * W]
        if out is None:
            out = value * weights[..., k, :]
        else:
            out = out.addcmul_(value, weights[..., k, :])
    return out.reshape(*batch, height, width)  # [*B, H, W]
