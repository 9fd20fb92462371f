"""Planar symmetry groups: C_N, D_N, SO(2) and roto-translations R² ⋊ H.

A group element is a tensor whose last axis ``D`` holds its parameters; every
leading axis is a batch axis and broadcasts. Any float dtype and any device
work, and every result keeps the dtype and device of its input.

====== =============================== ============ ==================
group  class                           D            parameters
====== =============================== ============ ==================
C_N    ``CyclicGroup(order=N)``        1            ``[theta]``
D_N    ``DihedralGroup(order=N)``      2            ``[theta, s]``
SO(2)  ``SO2()``                       1            ``[theta]``
R² ⋊ H ``RotoTranslationGroup(H)``     2 + H.D      ``[tx, ty, *h]``
====== =============================== ============ ==================

``r_theta`` is the counter-clockwise rotation by ``theta`` and ``m`` the
reflection ``(x, y) -> (x, -y)``; ``[theta, s]`` is ``r_theta m^s``. Angles
returned by any method are wrapped to ``[0, 2π)``; for C_N and D_N they are
snapped to the grid ``k * (2π / N)`` exactly as :meth:`elements` computes it.
See ``docs/conventions.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from gedl_ref.grid import pixel_grid, sample_signal

__all__ = [
    "GroupBase",
    "CyclicGroup",
    "DihedralGroup",
    "SO2",
    "RotoTranslationGroup",
    "SE2",
]

TWO_PI = 2 * math.pi


# ----------------------------------------------------------------------------
# Helpers shared by the groups
# ----------------------------------------------------------------------------


def _wrap_angle(theta: Tensor) -> Tensor:
    """Wrap angles to ``[0, 2π)``.

    ``torch.remainder`` can round a tiny negative angle up to exactly ``2π``
    (e.g. ``-1e-9`` in float32); that case is mapped back to ``0``.
    """
    theta = torch.remainder(theta, TWO_PI)
    return torch.where(theta < TWO_PI, theta, 0.0)


def _grid_angle(k: Tensor, order: int) -> Tensor:
    """Angle ``k * (2π / N)`` of the grid index ``k`` (a float tensor).

    This is the one expression used for C_N / D_N angles, so that snapped
    angles are bit-for-bit entries of ``elements()``.
    """
    return k * (TWO_PI / order)


def _snap_angle(theta: Tensor, order: int) -> Tensor:
    """Snap angles to the C_N grid: ``k = round(theta N / 2π) mod N``.

    ``abs`` turns the ``-0.`` that ``remainder`` returns for ``-0.`` into
    ``+0.``, so the result is bit-identical to ``elements()``.
    """
    k = torch.remainder(torch.round(theta * (order / TWO_PI)), order).abs()
    return _grid_angle(k, order)


def _snap_flag(s: Tensor) -> Tensor:
    """Snap a reflection flag to ``{0., 1.}``: ``round(s) mod 2``."""
    return torch.remainder(torch.round(s), 2).abs()


def _resolve_dtype(dtype: torch.dtype | None) -> torch.dtype:
    """Return ``dtype`` (default dtype when None); it must be floating."""
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    return dtype


def _batch_shape(batch_shape: int | Sequence[int]) -> tuple[int, ...]:
    """Normalise ``batch_shape`` to a tuple of non-negative ints."""
    shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(
                "batch_shape must be an int or a sequence of non-negative ints, "
                f"got {batch_shape!r}"
            )
    return shape


def _check_order(order: object) -> int:
    """Validate the order ``N`` of C_N / D_N: an int ``>= 1``."""
    if isinstance(order, bool) or not isinstance(order, int):
        raise TypeError(
            f"order must be an int >= 1, got {order!r} of type {type(order).__name__}"
        )
    if order < 1:
        raise ValueError(f"order must be an int >= 1, got {order}")
    return order


def _check_tensor(t: object, size: int, name: str, what: str) -> Tensor:
    """Check that ``t`` is a float tensor whose last axis has ``size`` entries."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise TypeError(
            f"{name} must have a floating dtype, got {t.dtype}; "
            "convert it with .to(torch.get_default_dtype())"
        )
    if t.ndim == 0 or t.shape[-1] != size:
        raise ValueError(
            f"{name} must have shape [..., {size}] ({what}), got shape {tuple(t.shape)}"
        )
    return t


def _broadcast_batch(a: Tensor, b: Tensor) -> torch.Size:
    """Broadcast the batch axes (all but the last) of two tensors.

    Raises:
        ValueError: if they do not broadcast.
    """
    try:
        return torch.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    except RuntimeError as error:
        raise ValueError(
            f"batch axes {tuple(a.shape[:-1])} and {tuple(b.shape[:-1])} "
            "do not broadcast; insert size-1 axes (e.g. g[:, None]) to align them"
        ) from error


def _draw(
    kind: str,
    shape: tuple[int, ...],
    generator: torch.Generator | None,
    dtype: torch.dtype,
    device: torch.device | str | None,
    high: int = 1,
) -> Tensor:
    """Draw ``rand`` (uniform [0, 1)) or ``randint`` (integers in [0, high)).

    Draws on the generator's device and moves the result to ``device``.
    """
    source = generator.device if generator is not None else device
    if kind == "rand":
        out = torch.rand(shape, generator=generator, dtype=dtype, device=source)
    else:
        out = torch.randint(
            high, shape, generator=generator, dtype=dtype, device=source
        )
    return out.to(device) if device is not None else out


# ----------------------------------------------------------------------------
# Base class
# ----------------------------------------------------------------------------


class GroupBase:
    """A group of planar transformations with batched tensor elements.

    Elements are tensors ``[..., D]`` with ``D = self.dimension``; leading
    axes broadcast. Subclasses implement the group law (``product``,
    ``inverse``, ``normalize_group_parameterization``), the action on the
    plane (``left_action_on_R2``, ``matrix_representation``) and ``sample``;
    the left-regular representation on planar signals follows from them:

        (L_g f)(p) = f(g⁻¹ · p).

    Attributes:
        dimension: number of parameters ``D`` of one element.
        order: number of elements ``|G|``, or None for an infinite group.
        name: short name, e.g. ``"C4"``, ``"D6"``, ``"SO2"``, ``"R2⋊C4"``.
    """

    dimension: int
    order: int | None
    name: str

    def __init__(self, dimension: int, order: int | None, name: str) -> None:
        self.dimension = dimension
        self.order = order
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))

    def _check(self, g: object, name: str = "g") -> Tensor:
        """Check that ``g`` is a batch of elements ``[..., D]`` of this group."""
        return _check_tensor(g, self.dimension, name, f"elements of {self.name}")

    def _missing(self, method: str) -> NotImplementedError:
        return NotImplementedError(
            f"{type(self).__name__}.{method}() is not supported; "
            "use a subclass of GroupBase that implements it"
        )

    def identity(
        self,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Return the identity element ``e`` (all parameters zero).

        Shapes:
            output: ``[D]``
        """
        return torch.zeros(self.dimension, dtype=_resolve_dtype(dtype), device=device)

    def elements(
        self,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Return all elements of a finite group, in the documented order.

        Shapes:
            output: ``[G, D]``

        Raises:
            NotImplementedError: for an infinite group.
        """
        raise NotImplementedError(
            f"{self.name} is infinite; elements() is not supported; use sample()"
        )

    def sample(
        self,
        batch_shape: int | Sequence[int],
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Draw elements from the uniform (Haar) distribution.

        Shapes:
            output: ``[*batch_shape, D]``
        """
        raise self._missing("sample")

    def product(self, g: Tensor, h: Tensor) -> Tensor:
        """Return the group product ``g h``.

        Shapes:
            g: ``[*S, D]``, h: ``[*T, D]``, output: ``[*broadcast(S, T), D]``
        """
        raise self._missing("product")

    def inverse(self, g: Tensor) -> Tensor:
        """Return the inverse ``g⁻¹``.

        Shapes:
            g: ``[..., D]``, output: ``[..., D]``
        """
        raise self._missing("inverse")

    def normalize_group_parameterization(self, g: Tensor) -> Tensor:
        """Return ``g`` in its canonical parameters (angles wrapped/snapped).

        Shapes:
            g: ``[..., D]``, output: ``[..., D]``
        """
        raise self._missing("normalize_group_parameterization")

    def left_action_on_R2(self, g: Tensor, x: Tensor) -> Tensor:
        """Return ``g · x`` for points ``x`` of the plane.

        Shapes:
            g: ``[*S, D]``, x: ``[*T, 2]``, output: ``[*broadcast(S, T), 2]``
        """
        raise self._missing("left_action_on_R2")

    def matrix_representation(self, g: Tensor) -> Tensor:
        """Return the matrix of ``g`` acting on (homogeneous) coordinates.

        Shapes:
            g: ``[..., D]``, output: ``[..., 2, 2]`` or ``[..., 3, 3]``
        """
        raise self._missing("matrix_representation")

    def left_regular_representation(self, g: Tensor, f: Tensor) -> Tensor:
        """Transform planar signals by the left-regular representation.

            (L_g f)(p) = f(g⁻¹ · p),

        sampled on the pixel grid of ``f`` (see :func:`gedl_ref.pixel_grid`)
        with :func:`gedl_ref.sample_signal`: bilinear, zero outside the image.
        It is an exact permutation of pixels (zeros where ``g⁻¹ · p`` leaves
        the image) when ``g`` maps pixel centres to pixel centres: multiples of
        90° on grids whose H and W have the same parity, reflections and
        integer translations.

        Args:
            g: group elements.
            f: planar signals.

        Returns:
            The transformed signals, in the dtype of ``f``.

        Shapes:
            g: ``[*S, D]``
            f: ``[*T, H, W]``
            output: ``[*broadcast(S, T), H, W]``

        Warning:
            For other elements (e.g. 45° rotations) the result is bilinear
            interpolation: it blurs, and ``L_g L_h f`` is only approximately
            ``L_{gh} f``.
        """
        g = self._check(g)
        if not isinstance(f, Tensor) or f.ndim < 2:
            raise ValueError(
                "f must be a tensor of planar signals [..., H, W], got "
                f"{tuple(f.shape) if isinstance(f, Tensor) else type(f).__name__}"
            )
        # Points in at least float32: snapping C_N / D_N angles there keeps
        # multiples of 90° exact even for float16 / bfloat16 elements.
        work_dtype = torch.promote_types(g.dtype, torch.float32)
        p = pixel_grid(*f.shape[-2:], dtype=work_dtype, device=g.device)  # [H, W, 2]
        g_inv = self.inverse(g.to(work_dtype))[..., None, None, :]  # [*S, 1, 1, D]
        points = self.left_action_on_R2(g_inv, p)  # [*S, H, W, 2]
        return sample_signal(f, points)  # [*broadcast(S, T), H, W]


# ----------------------------------------------------------------------------
# Rotation groups: C_N, D_N, SO(2)
# ----------------------------------------------------------------------------


class _RotationGroup(GroupBase):
    """Shared code of the groups of linear maps ``r_theta m^s`` of the plane.

    Subclasses provide ``_linear_part(g) -> (theta, s)`` where ``s`` is None
    for groups without reflections.
    """

    def _linear_part(self, g: Tensor) -> tuple[Tensor, Tensor | None]:
        raise self._missing("_linear_part")

    def _rotate(self, g: Tensor, px: Tensor, py: Tensor) -> tuple[Tensor, Tensor]:
        """Coordinates of ``g · (px, py)``, one tensor per axis (no stacking).

        Shapes:
            g: ``[*S, D]`` (already checked), px, py: ``[*T]``,
            output: two tensors ``[*broadcast(S, T)]``
        """
        theta, s = self._linear_part(g)
        if s is not None:
            py = py * (1 - 2 * s)  # m^s: (x, y) -> (x, (-1)^s y)
        c, sn = torch.cos(theta), torch.sin(theta)
        return c * px - sn * py, sn * px + c * py

    def left_action_on_R2(self, g: Tensor, x: Tensor) -> Tensor:
        """Return ``g · x = R(theta) diag(1, (-1)^s) x``.

        Shapes:
            g: ``[*S, D]``, x: ``[*T, 2]``, output: ``[*broadcast(S, T), 2]``
        """
        g = self._check(g)
        x = _check_tensor(x, 2, "x", "points (x, y) of the plane")
        _broadcast_batch(g, x)
        return torch.stack(self._rotate(g, x[..., 0], x[..., 1]), dim=-1)

    def matrix_representation(self, g: Tensor) -> Tensor:
        """Return ``R(theta) diag(1, (-1)^s)``, ``R = [[cos, -sin], [sin, cos]]``.

        Shapes:
            g: ``[..., D]``, output: ``[..., 2, 2]``
        """
        theta, s = self._linear_part(self._check(g))
        c, sn = torch.cos(theta), torch.sin(theta)
        sigma = 1 if s is None else 1 - 2 * s
        m = torch.stack((c, -sn * sigma, sn, c * sigma), dim=-1)  # [..., 4]
        return m.unflatten(-1, (2, 2))  # [..., 2, 2]


class CyclicGroup(_RotationGroup):
    """The cyclic group C_N of rotations by multiples of ``2π / N``.

    An element is ``[theta]`` with ``theta = 2πk / N``, ``k = 0..N-1``; the
    product adds angles, ``r_a r_b = r_{a+b}``, and ``r_a⁻¹ = r_{-a}``.
    Every returned angle is snapped to ``k * (2π / N)``, ``k = round(theta N /
    2π) mod N``, exactly as :meth:`elements` computes it.

    Args:
        order: the number of rotations ``N`` (an int ``>= 1``); it is both
            ``self.order`` and ``self.rotation_order``.

    Example:
        >>> c4 = CyclicGroup(4)
        >>> c4.product(c4.elements()[1], c4.elements()[3])
        tensor([0.])
    """

    def __init__(self, order: int) -> None:
        order = _check_order(order)
        super().__init__(dimension=1, order=order, name=f"C{order}")
        self.rotation_order = order

    def __repr__(self) -> str:
        return f"CyclicGroup(order={self.order})"

    def _linear_part(self, g: Tensor) -> tuple[Tensor, None]:
        return g[..., 0], None

    def elements(
        self,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Return ``[[0], [2π/N], ..., [(N-1) 2π/N]]``.

        Shapes:
            output: ``[N, 1]``
        """
        k = torch.arange(self.order, dtype=_resolve_dtype(dtype), device=device)
        return _grid_angle(k, self.order)[:, None]  # [N, 1]

    def sample(
        self,
        batch_shape: int | Sequence[int],
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Draw uniformly random rotations ``2πk / N``.

        Shapes:
            output: ``[*batch_shape, 1]``
        """
        shape = _batch_shape(batch_shape)
        dtype = _resolve_dtype(dtype)
        k = _draw("randint", shape, generator, dtype, device, high=self.order)
        return _grid_angle(k, self.order)[..., None]  # [*batch_shape, 1]

    def product(self, g: Tensor, h: Tensor) -> Tensor:
        """Return ``r_a r_b = r_{a + b}``, snapped to the grid.

        Shapes:
            g: ``[*S, 1]``, h: ``[*T, 1]``, output: ``[*broadcast(S, T), 1]``
        """
        g, h = self._check(g), self._check(h, "h")
        _broadcast_batch(g, h)
        return _snap_angle(g + h, self.order)

    def inverse(self, g: Tensor) -> Tensor:
        """Return ``r_a⁻¹ = r_{-a}``, snapped to the grid.

        Shapes:
            g: ``[..., 1]``, output: ``[..., 1]``
        """
        return _snap_angle(-self._check(g), self.order)

    def normalize_group_parameterization(self, g: Tensor) -> Tensor:
        """Snap angles to ``k * (2π / N)`` with ``k = round(theta N / 2π) mod N``.

        Shapes:
            g: ``[..., 1]``, output: ``[..., 1]``
        """
        return _snap_angle(self._check(g), self.order)


class DihedralGroup(_RotationGroup):
    """The dihedral group D_N of the ``N`` rotations and ``N`` reflections.

    An element ``[theta, s]`` is ``r_theta m^s`` with ``theta = 2πk / N`` and
    ``s`` in ``{0., 1.}``; ``m`` is the reflection ``(x, y) -> (x, -y)``. With
    ``m r_b = r_{-b} m``:

        (a, s)(b, t) = (a + (-1)^s b, s xor t),    (a, s)⁻¹ = (-(-1)^s a, s).

    Returned angles are snapped as for :class:`CyclicGroup` and ``s`` to
    ``round(s) mod 2``.

    Args:
        order: the number of rotations ``N`` (an int ``>= 1``). It is stored
            as ``self.rotation_order``; ``self.order`` is ``|D_N| = 2N``.
    """

    def __init__(self, order: int) -> None:
        order = _check_order(order)
        super().__init__(dimension=2, order=2 * order, name=f"D{order}")
        self.rotation_order = order

    def __repr__(self) -> str:
        return f"DihedralGroup(order={self.rotation_order})"

    def _linear_part(self, g: Tensor) -> tuple[Tensor, Tensor]:
        return g[..., 0], g[..., 1]

    def _pack(self, theta: Tensor, s: Tensor) -> Tensor:
        """Snap ``(theta, s)`` and stack them into elements ``[..., 2]``."""
        theta = _snap_angle(theta, self.rotation_order)
        return torch.stack(torch.broadcast_tensors(theta, _snap_flag(s)), dim=-1)

    def elements(
        self,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Return the rotations ``(2πk/N, 0)`` then the reflections ``(2πk/N, 1)``.

        Shapes:
            output: ``[2N, 2]``
        """
        n = self.rotation_order
        k = torch.arange(n, dtype=_resolve_dtype(dtype), device=device)
        theta = _grid_angle(k, n).repeat(2)  # [2N]
        s = torch.arange(2, dtype=k.dtype, device=device).repeat_interleave(n)
        return torch.stack((theta, s), dim=-1)  # [2N, 2]

    def sample(
        self,
        batch_shape: int | Sequence[int],
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Draw uniformly random elements ``(2πk / N, s)``.

        Shapes:
            output: ``[*batch_shape, 2]``
        """
        shape = _batch_shape(batch_shape)
        dtype = _resolve_dtype(dtype)
        n = self.rotation_order
        index = _draw("randint", shape, generator, dtype, device, high=2 * n)
        theta = _grid_angle(torch.remainder(index, n), n)  # k = index mod N
        s = torch.floor(index / n)  # in {0., 1.}
        return torch.stack((theta, s), dim=-1)  # [*batch_shape, 2]

    def product(self, g: Tensor, h: Tensor) -> Tensor:
        """Return ``(a, s)(b, t) = (a + (-1)^s b, s xor t)``.

        Shapes:
            g: ``[*S, 2]``, h: ``[*T, 2]``, output: ``[*broadcast(S, T), 2]``
        """
        g, h = self._check(g), self._check(h, "h")
        _broadcast_batch(g, h)
        a, s = self._linear_part(g)
        b, t = self._linear_part(h)
        return self._pack(a + (1 - 2 * s) * b, (s - t).abs())

    def inverse(self, g: Tensor) -> Tensor:
        """Return ``(a, s)⁻¹ = (-(-1)^s a, s)``.

        Shapes:
            g: ``[..., 2]``, output: ``[..., 2]``
        """
        a, s = self._linear_part(self._check(g))
        return self._pack((2 * s - 1) * a, s)

    def normalize_group_parameterization(self, g: Tensor) -> Tensor:
        """Snap ``theta`` to the grid ``2πk / N`` and ``s`` to ``{0., 1.}``.

        Shapes:
            g: ``[..., 2]``, output: ``[..., 2]``
        """
        return self._pack(*self._linear_part(self._check(g)))


class SO2(_RotationGroup):
    """The group SO(2) of all rotations of the plane.

    An element is ``[theta]``; ``r_a r_b = r_{a+b}`` and ``r_a⁻¹ = r_{-a}``,
    with every returned angle wrapped to ``[0, 2π)``.
    """

    def __init__(self) -> None:
        super().__init__(dimension=1, order=None, name="SO2")

    def _linear_part(self, g: Tensor) -> tuple[Tensor, None]:
        return g[..., 0], None

    def sample(
        self,
        batch_shape: int | Sequence[int],
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Draw Haar-random rotations: ``theta`` uniform in ``[0, 2π)``.

        Shapes:
            output: ``[*batch_shape, 1]``
        """
        shape = (*_batch_shape(batch_shape), 1)
        u = _draw("rand", shape, generator, _resolve_dtype(dtype), device)
        return _wrap_angle(u * TWO_PI)  # [*batch_shape, 1]

    def product(self, g: Tensor, h: Tensor) -> Tensor:
        """Return ``r_a r_b = r_{a + b}``, wrapped to ``[0, 2π)``.

        Shapes:
            g: ``[*S, 1]``, h: ``[*T, 1]``, output: ``[*broadcast(S, T), 1]``
        """
        g, h = self._check(g), self._check(h, "h")
        _broadcast_batch(g, h)
        return _wrap_angle(g + h)

    def inverse(self, g: Tensor) -> Tensor:
        """Return ``r_a⁻¹ = r_{-a}``, wrapped to ``[0, 2π)``.

        Shapes:
            g: ``[..., 1]``, output: ``[..., 1]``
        """
        return _wrap_angle(-self._check(g))

    def normalize_group_parameterization(self, g: Tensor) -> Tensor:
        """Wrap angles to ``[0, 2π)``.

        Shapes:
            g: ``[..., 1]``, output: ``[..., 1]``
        """
        return _wrap_angle(self._check(g))


# ----------------------------------------------------------------------------
# Roto-translations R² ⋊ H
# ----------------------------------------------------------------------------


class RotoTranslationGroup(GroupBase):
    """The semi-direct product R² ⋊ H of translations and a rotation group H.

    An element ``[tx, ty, *h]`` is the map ``p -> x + h · p`` with
    ``x = (tx, ty)``:

        (x, g)(y, h) = (x + g · y, g h),    (x, g)⁻¹ = (-g⁻¹ · x, g⁻¹).

    Its matrix is the homogeneous ``[[M_g, x], [0, 0, 1]]``.

    Args:
        rotations: the group H, a :class:`CyclicGroup`, :class:`DihedralGroup`
            or :class:`SO2`.
    """

    def __init__(self, rotations: GroupBase) -> None:
        if not isinstance(rotations, _RotationGroup):
            raise TypeError(
                "rotations must be a CyclicGroup, DihedralGroup or SO2 instance, "
                f"got {rotations!r}"
            )
        super().__init__(
            dimension=2 + rotations.dimension, order=None, name=f"R2⋊{rotations.name}"
        )
        self.rotations = rotations

    def __repr__(self) -> str:
        return f"RotoTranslationGroup({self.rotations!r})"

    def _split(self, g: Tensor, name: str = "g") -> tuple[Tensor, Tensor]:
        """Split elements into translations ``[..., 2]`` and ``h`` ``[..., D_H]``."""
        g = self._check(g, name)
        return g[..., :2], g[..., 2:]

    @staticmethod
    def _pack(tx: Tensor, ty: Tensor, h: Tensor) -> Tensor:
        """Stack translation columns and H-parameters into ``[..., D]``.

        One ``stack`` writes the whole result (no intermediate concatenation).
        """
        return torch.stack(torch.broadcast_tensors(tx, ty, *h.unbind(-1)), dim=-1)

    def sample(
        self,
        batch_shape: int | Sequence[int],
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
        translation_range: float = 8.0,
    ) -> Tensor:
        """Draw translations uniform in ``[-r, r]²`` and Haar-random ``h``.

        Args:
            batch_shape: leading shape of the result.
            generator: source of randomness.
            dtype: floating dtype; the default dtype when None.
            device: device of the result.
            translation_range: ``r``, half the side of the translation square.

        Shapes:
            output: ``[*batch_shape, D]``
        """
        shape = _batch_shape(batch_shape)
        dtype = _resolve_dtype(dtype)
        if not translation_range >= 0:
            raise ValueError(
                f"translation_range must be >= 0, got {translation_range!r}"
            )
        u = _draw("rand", (*shape, 2), generator, dtype, device)
        x = (2 * u - 1) * translation_range  # [*batch_shape, 2]
        h = self.rotations.sample(shape, generator, dtype, device)
        return self._pack(x[..., 0], x[..., 1], h)

    def product(self, g: Tensor, h: Tensor) -> Tensor:
        """Return ``(x, a)(y, b) = (x + a · y, a b)``.

        Shapes:
            g: ``[*S, D]``, h: ``[*T, D]``, output: ``[*broadcast(S, T), D]``
        """
        x, a = self._split(g)
        y, b = self._split(h, "h")
        _broadcast_batch(g, h)
        qx, qy = self.rotations._rotate(a, y[..., 0], y[..., 1])  # a · y
        ab = self.rotations.product(a, b)
        return self._pack(x[..., 0] + qx, x[..., 1] + qy, ab)

    def inverse(self, g: Tensor) -> Tensor:
        """Return ``(x, a)⁻¹ = (-a⁻¹ · x, a⁻¹)``.

        Shapes:
            g: ``[..., D]``, output: ``[..., D]``
        """
        x, a = self._split(g)
        a_inv = self.rotations.inverse(a)
        qx, qy = self.rotations._rotate(a_inv, x[..., 0], x[..., 1])  # a⁻¹ · x
        return self._pack(-qx, -qy, a_inv)

    def normalize_group_parameterization(self, g: Tensor) -> Tensor:
        """Normalise the H-part (wrap / snap); translations are kept.

        Shapes:
            g: ``[..., D]``, output: ``[..., D]``
        """
        x, a = self._split(g)
        a = self.rotations.normalize_group_parameterization(a)
        return self._pack(x[..., 0], x[..., 1], a)

    def left_action_on_R2(self, g: Tensor, x: Tensor) -> Tensor:
        """Return ``(t, a) · p = t + a · p``.

        Shapes:
            g: ``[*S, D]``, x: ``[*T, 2]``, output: ``[*broadcast(S, T), 2]``
        """
        t, a = self._split(g)
        x = _check_tensor(x, 2, "x", "points (x, y) of the plane")
        _broadcast_batch(g, x)
        qx, qy = self.rotations._rotate(a, x[..., 0], x[..., 1])  # a · p
        return torch.stack((t[..., 0] + qx, t[..., 1] + qy), dim=-1)

    def matrix_representation(self, g: Tensor) -> Tensor:
        """Return the homogeneous matrix ``[[M_a, t], [0, 0, 1]]``.

        Shapes:
            g: ``[..., D]``, output: ``[..., 3, 3]``
        """
        t, a = self._split(g)
        m = self.rotations.matrix_representation(a)  # [..., 2, 2]
        top = torch.cat((m, t[..., :, None]), dim=-1)  # [..., 2, 3]
        bottom = torch.zeros_like(top[..., :1, :])  # [..., 1, 3]
        bottom[..., 0, 2] = 1
        return torch.cat((top, bottom), dim=-2)  # [..., 3, 3]


def SE2() -> RotoTranslationGroup:
    """Return the special Euclidean group SE(2) = R² ⋊ SO(2).

    Elements are ``[tx, ty, theta]``.

    Example:
        >>> SE2()
        RotoTranslationGroup(SO2())
    """
    return RotoTranslationGroup(SO2())
