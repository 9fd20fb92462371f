"""Public checks of assignment 2: lifting and group convolutions, group pooling.

Each check takes what the notebook defines (a function or a class, and the
group classes ``CyclicGroup`` and ``DihedralGroup``) and tests properties that
every correct implementation has:

- the kernels transformed by 90° rotations and reflections are exact pixel
  permutations, and the group axis of a group-convolution kernel is permuted
  exactly by ``h -> g⁻¹h``;
- shapes, parameters, the state dict, one ``F.conv2d`` call per forward;
- a few known values: the response to an impulse is centred (symmetric
  padding) and points where a correlation with ``L_g w`` puts it;
- exact equivariance under rot90 (odd and even kernels, non-square inputs),
  under the reflections of D_4 and the 90° rotations of C_8, measured with
  :func:`gedl_checks.equivariance.check_equivariance`;
- invariance after group pooling.

They never compare with a reference implementation: every expected value is
built from the definitions (index tables of C_N and D_N, ``torch.rot90``,
``torch.flip``). A failed check raises :class:`CheckFailed` whose message
names the property, the size of the error and a hint; a passed check prints
one line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from gedl_checks.equivariance import check_equivariance
from gedl_checks.runner import CheckFailed
from gedl_checks.runner import fail as _fail
from gedl_checks.runner import guard as _guard
from gedl_checks.runner import run as _run

__all__ = [
    "CheckFailed",
    "check_group_convolution",
    "check_group_kernel_permutation",
    "check_group_pooling",
    "check_lift_kernels",
    "check_lifting_convolution",
    "check_transform_group_kernels",
]

_SEED = 20240902
#: Largest difference (relative to the largest entry) of an "exact" result.
_EXACT = 1e-9
#: Tolerance of the equivariance checks, which run in float64.
_EQUIVARIANCE_TOL = 1e-9
#: Tolerance where a rotation by 45° interpolates (bilinear) the kernel.
_INTERPOLATED = 1e-6

_INVERSE_HINT = (
    "use g⁻¹, not g: the kernel at g is (L_g w)(x) = w(g⁻¹·x), and "
    "group.left_regular_representation(g, w) already applies g⁻¹ (pass g itself)"
)
_ROLL_HINT = (
    "the group axis must be rolled, not interpolated or left in place: the "
    "kernel at g is w(g⁻¹h, g⁻¹x), so its group axis h is permuted exactly by "
    "h -> g⁻¹h (group_kernel_permutation)"
)
_PADDING_HINT = (
    "pad kernel_size // 2 on every side (F.conv2d(..., padding=kernel_size // 2)), "
    "stride 1; padding='same' is not symmetric for even kernels"
)
_ORDER_HINT = (
    "the group axis must follow the order of group.elements() (for D_N: the N "
    "rotations, then the N reflections)"
)


# ----------------------------------------------------------------------------
# The finite groups, as index tables built from their definition
# ----------------------------------------------------------------------------


class _Table:
    """C_N or D_N as indices into ``group.elements()``.

    Element ``i = k + N s`` is ``r_k m^s``: the rotation by ``2πk/N`` after the
    reflection ``m`` (when ``s = 1``). Products follow ``(a, s)(b, t) =
    (a + (-1)^s b, s xor t)``.
    """

    def __init__(self, n: int, reflections: bool) -> None:
        self.n = n
        self.reflections = reflections
        self.order = 2 * n if reflections else n
        self.name = f"{'D' if reflections else 'C'}_{n}"

    def split(self, i: int) -> tuple[int, int]:
        return i % self.n, i // self.n

    def product(self, i: int, j: int) -> int:
        (a, s), (b, t) = self.split(i), self.split(j)
        return (a + (-b if s else b)) % self.n + self.n * (s ^ t)

    def inverse(self, i: int) -> int:
        a, s = self.split(i)
        return (a if s else -a) % self.n + self.n * s

    def quarter_turns(self, i: int) -> int | None:
        """Number of 90° turns of element ``i``, or None if it is not a multiple."""
        a, _ = self.split(i)
        return None if (4 * a) % self.n else 4 * a // self.n

    def exact(self) -> list[int]:
        """Elements that map the pixel grid onto itself."""
        return [i for i in range(self.order) if self.quarter_turns(i) is not None]

    def label(self, i: int) -> str:
        a, s = self.split(i)
        angle = f"{360 * a / self.n:g}°"
        if not s:
            return "e" if a == 0 else f"rotation by {angle}"
        return "reflection m" if a == 0 else f"r_{angle} m"

    def spatial(self, i: int, x: Tensor) -> Tensor:
        """``L_g`` on the last two axes (exact elements only)."""
        turns = self.quarter_turns(i)
        assert turns is not None, "spatial() needs a multiple of 90°"
        if self.split(i)[1]:
            x = torch.flip(x, dims=(-2,))
        return torch.rot90(x, turns, dims=(-2, -1))

    def left_permutation(self, i: int) -> list[int]:
        """``perm[j] = index(g⁻¹ g_j)``: the group axis of ``L_g`` of a map on G."""
        g_inv = self.inverse(i)
        return [self.product(g_inv, j) for j in range(self.order)]

    def right_permutation(self, i: int) -> list[int]:
        """``perm[j] = index(g_j g)``: what kernels built with g, not g⁻¹, give."""
        return [self.product(j, i) for j in range(self.order)]

    def act(self, i: int, y: Tensor, axis: int = 2) -> Tensor:
        """The regular representation of R² ⋊ G on feature maps ``[.., G, H, W]``."""
        perm = torch.tensor(self.left_permutation(i), device=y.device)
        return self.spatial(i, y.index_select(axis, perm))

    def table(self) -> Tensor:
        """``[G, G]`` with entry ``[g, h]`` = index of ``g⁻¹h``."""
        return torch.tensor(
            [
                [self.product(self.inverse(g), h) for h in range(self.order)]
                for g in range(self.order)
            ]
        )


def _construct(title: str, make: Callable[[], Any]) -> Any:
    return _guard(title, "construction", make)


# ----------------------------------------------------------------------------
# Expectations on outputs
# ----------------------------------------------------------------------------


def _generator(salt: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(_SEED + salt)


def _randn(*shape: int, salt: int = 0) -> Tensor:
    return torch.randn(*shape, generator=_generator(salt), dtype=torch.float64)


def _expect_tensor(
    what: str,
    out: Any,
    shape: Sequence[int] | None = None,
    dtype: torch.dtype | None = None,
    hint: str = "",
) -> Tensor:
    """Check type, shape and dtype of an output; return it."""
    if not isinstance(out, Tensor):
        _fail(f"{what} should return a torch.Tensor, got {type(out).__name__}")
    if shape is not None and tuple(out.shape) != tuple(shape):
        _fail(
            f"{what} should have shape {list(shape)}, got {list(out.shape)}"
            + (f"; {hint}" if hint else "")
        )
    if dtype is not None and out.dtype != dtype:
        _fail(
            f"{what} should have dtype {dtype} (that of the weights / input), "
            f"got {out.dtype}"
        )
    if out.is_floating_point() and not torch.isfinite(out).all():
        _fail(f"{what} contains NaN or inf")
    return out


def _gap(got: Tensor, expected: Tensor) -> float:
    """Largest |difference|, relative to the largest |entry| of ``expected``."""
    scale = max(float(expected.detach().abs().max()), 1e-30)
    return float((got.detach().double() - expected.double()).abs().max()) / scale


def _matches(got: Tensor, expected: Tensor, tol: float = _EXACT) -> bool:
    return got.shape == expected.shape and _gap(got, expected) <= tol


def _expect_exact(
    what: str,
    got: Tensor,
    expected: Tensor,
    wrong: Sequence[tuple[Tensor, str]] = (),
    hint: str = "",
    tol: float = _EXACT,
) -> None:
    """``got`` must equal ``expected`` up to ``tol``; recognise known mistakes."""
    if got.shape != expected.shape:
        _fail(f"{what} should have shape {list(expected.shape)}, got {list(got.shape)}")
    if _matches(got, expected, tol):
        return
    for candidate, explanation in wrong:
        if _matches(got, candidate, tol):
            _fail(f"{what} is wrong: {explanation}")
    _fail(
        f"{what} differs from the expected values by up to {_gap(got, expected):.3g} "
        f"(relative to the largest entry; tolerance {tol:.0e})"
        + (f". {hint}" if hint else "")
    )


def _expect_gradient(what: str, out: Tensor, parameters: Sequence[Tensor]) -> None:
    """``out`` must depend differentiably on every tensor in ``parameters``."""
    if not out.requires_grad:
        _fail(
            f"{what} does not require grad, so the weights cannot be trained: "
            "build it from the weight with differentiable torch operations (no "
            "torch.no_grad(), .detach(), .data or .numpy())"
        )
    grads = torch.autograd.grad(
        (out * _randn(*out.shape, salt=99).to(out.dtype)).sum(),
        parameters,
        allow_unused=True,
    )
    for grad in grads:
        if grad is None or not torch.isfinite(grad).all() or not grad.abs().sum() > 0:
            _fail(
                f"the gradient of {what} with respect to the weight is missing, "
                "zero or not finite: every kernel entry must reach the output"
            )


class _CountConv2d:
    """Count calls of ``F.conv2d`` (and ``torch.conv2d``) inside a ``with``."""

    def __enter__(self) -> _CountConv2d:
        import torch.nn.functional as functional

        self.calls = 0
        self._functional = functional
        self._saved = (functional.conv2d, torch.conv2d)
        original = self._saved[0]

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        functional.conv2d = counting
        torch.conv2d = counting
        return self

    def __exit__(self, *exc: object) -> None:
        self._functional.conv2d, torch.conv2d = self._saved


def _double(layer: Any) -> Any:
    """The layer in float64 (its parameters converted in place)."""
    return layer.double()


def _set_weight(layer: Any, weight: Tensor, bias: float | None = 0.0) -> None:
    with torch.no_grad():
        layer.weight.copy_(weight)
        if bias is not None and layer.bias is not None:
            layer.bias.fill_(bias)


# ----------------------------------------------------------------------------
# lift_kernels
# ----------------------------------------------------------------------------


def check_lift_kernels(
    lift_kernels: Callable[[Any, Tensor], Tensor],
    CyclicGroup: type,
    DihedralGroup: type,
) -> None:
    """Check ``lift_kernels(group, weight)`` -> ``[C_out, G, C_in, k, k]``.

    The kernel at element g must be ``L_g w``, which for 90° rotations and
    reflections is ``torch.rot90`` / ``torch.flip`` of the weight, exactly.

    Raises:
        CheckFailed: naming the property that failed and why.
    """
    title = "lift_kernels"
    c4 = _construct(title, lambda: CyclicGroup(4))
    d4 = _construct(title, lambda: DihedralGroup(4))
    c8 = _construct(title, lambda: CyclicGroup(8))
    _run(
        title,
        [
            ("shape", lambda: _check_lift_shape(lift_kernels, c4, d4)),
            ("C_4 (odd k)", lambda: _check_lift_exact(lift_kernels, c4, 4, 5)),
            ("C_4 (even k)", lambda: _check_lift_exact(lift_kernels, c4, 4, 4)),
            ("D_4", lambda: _check_lift_exact(lift_kernels, d4, 4, 3, True)),
            ("C_8", lambda: _check_lift_c8(lift_kernels, c8)),
            ("dtype", lambda: _check_lift_dtype(lift_kernels, c4)),
            ("gradient", lambda: _check_lift_gradient(lift_kernels, c4)),
        ],
    )


def _check_lift_shape(lift_kernels: Callable, c4: Any, d4: Any) -> None:
    w = _randn(3, 2, 5, 5)
    for group, g in ((c4, 4), (d4, 8)):
        _expect_tensor(
            f"lift_kernels(group with {g} elements, weight [3, 2, 5, 5])",
            lift_kernels(group, w),
            (3, g, 2, 5, 5),
            torch.float64,
            hint="the group axis comes second: [C_out, G, C_in, k, k]",
        )


def _lifted(table: _Table, w: Tensor) -> Tensor:
    """``L_g w`` for every element of the table: ``[C_out, G, C_in, k, k]``."""
    return torch.stack([table.spatial(i, w) for i in range(table.order)], dim=1)


def _check_lift_exact(
    lift_kernels: Callable, group: Any, n: int, k: int, reflections: bool = False
) -> None:
    table = _Table(n, reflections)
    w = _randn(3, 2, k, k, salt=k)
    what = f"lift_kernels({table.name}, weight [3, 2, {k}, {k}])"
    got = _expect_tensor(what, lift_kernels(group, w), (3, table.order, 2, k, k))
    expected = _lifted(table, w)
    inverted = torch.stack(
        [table.spatial(table.inverse(i), w) for i in range(table.order)], dim=1
    )
    same = w[:, None].expand_as(expected)
    for i in range(table.order):
        if _matches(got[:, i], expected[:, i]):
            continue
        wrong = [
            (
                inverted[:, i],
                f"it is L_(g⁻¹) w, rotated the wrong way; {_INVERSE_HINT}",
            ),
            (same[:, i], "it is the untransformed weight: transform w by every g"),
        ] + [
            (expected[:, j], f"it is the kernel of {table.label(j)}; {_ORDER_HINT}")
            for j in range(table.order)
        ]
        _expect_exact(
            f"the kernel at g = {table.label(i)} ({what}[:, {i}])",
            got[:, i],
            expected[:, i],
            wrong,
            hint=(
                "It must be (L_g w)(x) = w(g⁻¹·x), an exact pixel permutation of w "
                "(torch.rot90 / torch.flip of it) for 90° rotations and reflections"
            ),
        )


def _check_lift_c8(lift_kernels: Callable, c8: Any) -> None:
    w = _randn(2, 2, 5, 5, salt=8)
    got = _expect_tensor(
        "lift_kernels(C_8, weight [2, 2, 5, 5])", lift_kernels(c8, w), (2, 8, 2, 5, 5)
    )
    for i in range(8):
        _expect_exact(
            f"the kernel at g = {45 * ((i + 2) % 8)}° of C_8 vs rot90 of the kernel "
            f"at {45 * i}°",
            got[:, (i + 2) % 8],
            torch.rot90(got[:, i], 1, dims=(-2, -1)),
            hint="L_(r g) = L_r L_g: the kernel two steps (90°) further along "
            "the group axis is the same kernel rotated by exactly 90°",
            tol=_INTERPOLATED,
        )
    g45 = c8.elements(dtype=torch.float64)[1]
    _expect_exact(
        "the kernel at 45° of C_8",
        got[:, 1],
        c8.left_regular_representation(g45, w),
        hint="It must be group.left_regular_representation(g, w) for g = 45° "
        "(bilinear interpolation)",
        tol=_INTERPOLATED,
    )


def _check_lift_dtype(lift_kernels: Callable, c4: Any) -> None:
    w = _randn(2, 3, 3, 3).float()
    _expect_tensor(
        "lift_kernels(C_4, float32 weight)",
        lift_kernels(c4, w),
        (2, 4, 3, 3, 3),
        torch.float32,
    )


def _check_lift_gradient(lift_kernels: Callable, c4: Any) -> None:
    w = _randn(2, 3, 3, 3).requires_grad_()
    _expect_gradient("lift_kernels(C_4, w)", lift_kernels(c4, w), [w])


# ----------------------------------------------------------------------------
# Layers: parameters, shapes, conv2d calls, impulses, bias, equivariance
# ----------------------------------------------------------------------------


def _check_parameters(
    cls: type, group: Any, weight_shape: tuple[int, ...], name: str
) -> None:
    """weight and bias are parameters of the right shape; nothing else is saved."""
    for bias in (True, False):
        layer = cls(group, 2, 3, 5, bias=bias)
        weight = getattr(layer, "weight", None)
        if not isinstance(weight, torch.nn.Parameter):
            _fail(f"{name}(..., bias={bias}).weight should be an nn.Parameter")
        if tuple(weight.shape) != weight_shape:
            _fail(
                f"{name}(group, in_channels=2, out_channels=3, kernel_size=5).weight "
                f"should have shape {list(weight_shape)}, got {list(weight.shape)}"
            )
        layer_bias = getattr(layer, "bias", None)
        if bias and not (
            isinstance(layer_bias, torch.nn.Parameter) and layer_bias.shape == (3,)
        ):
            _fail(
                f"{name}(..., bias=True).bias should be an nn.Parameter of shape [3] "
                "(one bias per output channel, shared over the group axis)"
            )
        if not bias and getattr(layer, "bias", "missing") is not None:
            _fail(f"{name}(..., bias=False).bias should be None")
        keys = sorted(layer.state_dict())
        expected = ["bias", "weight"] if bias else ["weight"]
        if keys != expected:
            _fail(
                f"{name}(..., bias={bias}).state_dict() should hold exactly "
                f"{expected}, got {keys}: the grader loads weights with "
                "load_state_dict, so keep other tensors out of it (plain attributes, "
                "or register_buffer(..., persistent=False))"
            )


def _check_one_conv2d(
    make: Callable[[Any], Any], groups: Sequence[Any], shape_of: Callable, name: str
) -> None:
    """The forward calls F.conv2d exactly once, whatever the group order."""
    for group in groups:
        layer = _double(make(group))
        x = _randn(*shape_of(group.order))
        with _CountConv2d() as counter:
            layer(x)
        if counter.calls != 1:
            done = "no call" if counter.calls == 0 else f"{counter.calls} calls"
            _fail(
                f"{name}.forward made {done} to F.conv2d for a group with "
                f"{group.order} elements; expected exactly 1: stack the kernels of "
                "all group elements into one weight [C_out·G, C_in(·G), k, k] and "
                "call torch.nn.functional.conv2d once, without a Python loop over "
                "the group"
            )


def _check_output_shapes(
    make: Callable[[Any, int], Any],
    groups: Sequence[Any],
    shape_of: Callable[[int, int, int], tuple[int, ...]],
    name: str,
) -> None:
    """[B, C_out, G, H', W'] with H' = H for odd k and H + 1 for even k."""
    for group in groups:
        for k, (height, width) in (
            (5, (9, 12)),
            (3, (8, 5)),
            (4, (9, 12)),
            (2, (6, 7)),
        ):
            layer = _double(make(group, k))
            x = _randn(*shape_of(group.order, height, width))
            grow = 1 - k % 2
            _expect_tensor(
                f"{name}(kernel_size={k}) on an input {list(x.shape)}",
                layer(x),
                (2, 3, group.order, height + grow, width + grow),
                torch.float64,
                hint=(
                    "the output is [B, C_out, G, H', W'] with H' = H for odd "
                    f"kernels and H + 1 for even ones: {_PADDING_HINT}"
                ),
            )


def _impulse_response(
    layer: Any, x_shape: tuple[int, ...], k: int, center: tuple[int, int], name: str
) -> tuple[Tensor, Tensor]:
    """Output for an impulse at ``center``, and the k×k block it should light up.

    The layer must have one input and one output channel and an all-ones kernel
    (which every group element leaves unchanged).
    """
    x = torch.zeros(*x_shape, dtype=torch.float64)
    x[(0,) * (len(x_shape) - 2) + center] = 1.0
    out = _expect_tensor(f"{name}(kernel_size={k}) on {list(x_shape)}", layer(x))
    out = out.detach()  # [1, 1, G, H', W']
    height, width = x_shape[-2:]
    grow = 1 - k % 2
    expected = torch.zeros(out.shape[:-2] + (height + grow, width + grow))
    top, left = center[0] + k // 2 - k + 1, center[1] + k // 2 - k + 1
    expected[..., top : top + k, left : left + k] = 1.0
    return out, expected.double()


def _centre_of_mass(image: Tensor) -> tuple[float, float]:
    weight = image.abs().double()
    total = max(float(weight.sum()), 1e-30)
    rows = torch.arange(image.shape[-2], dtype=torch.float64)[:, None]
    cols = torch.arange(image.shape[-1], dtype=torch.float64)[None, :]
    return float((weight * rows).sum()) / total, float((weight * cols).sum()) / total


def _check_centred(
    make: Callable[[int], Any], shape: tuple[int, ...], name: str
) -> None:
    """An impulse at the centre of a 7×9 image gives a centred k×k block."""
    for k in (3, 4, 5):
        layer = _double(make(k))
        _set_weight(layer, torch.ones_like(layer.weight))
        out, expected = _impulse_response(layer, shape, k, (3, 4), name)
        if _matches(out, expected):
            continue
        if out.shape == expected.shape:
            got_at = _centre_of_mass(out.sum(dim=(0, 1, 2)))
            want_at = _centre_of_mass(expected.sum(dim=(0, 1, 2)))
            shift = (got_at[0] - want_at[0], got_at[1] - want_at[1])
            if max(abs(s) for s in shift) > 0.01:
                _fail(
                    f"the response of {name}(kernel_size={k}, all-ones kernel) to "
                    "an impulse at the centre of a 7×9 image is off-centre by "
                    f"(rows, columns) = ({shift[0]:+.2g}, {shift[1]:+.2g}) pixels: "
                    f"{_PADDING_HINT}"
                )
        _expect_exact(
            f"the response of {name}(kernel_size={k}, all-ones kernel) to an "
            "impulse at the centre of a 7×9 image",
            out,
            expected,
            hint="Expected a k×k block of ones around the impulse, the same for "
            f"every group element; {_PADDING_HINT}",
        )


def _check_bias(make: Callable[[], Any], x: Tensor, name: str) -> None:
    """bias[o] is added to every group element and pixel of output channel o."""
    layer = _double(make())
    with torch.no_grad():
        layer.bias.zero_()
        without = layer(x)
        layer.bias.copy_(torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64))
        with_bias = layer(x)
    expected = without + layer.bias.detach()[None, :, None, None, None]
    _expect_exact(
        f"{name} with bias [0.5, -1, 2]",
        with_bias,
        expected,
        hint="Each bias[o] must be added to every group element and pixel of output "
        "channel o (repeat it G times for the stacked conv2d, e.g. "
        "bias.repeat_interleave(G))",
    )


def _equivariance(
    fn: Callable[[Tensor], Tensor],
    table: _Table,
    elements: Sequence[int],
    x: Tensor,
    x_other: Tensor,
    act_in: Callable[[int, Tensor], Tensor],
    what: str,
) -> None:
    """fn(L_g x) = L_g fn(x), with the group axis of the output permuted."""
    report = check_equivariance(
        fn,
        list(elements),
        act_in,
        table.act,
        x,
        tolerance=_EQUIVARIANCE_TOL,
        x_other=x_other,
        labels=[table.label(i) for i in elements],
    )
    if report.ok:
        return
    message = report.message(what)
    if report.failures:
        message += " " + _diagnose(fn, table, elements, report.failures[0], x, act_in)
    _fail(message)


def _diagnose(
    fn: Callable[[Tensor], Tensor],
    table: _Table,
    elements: Sequence[int],
    failed: int,
    x: Tensor,
    act_in: Callable[[int, Tensor], Tensor],
) -> str:
    """A hint for the first failing element: which transformation the output got."""
    i = elements[failed]
    lhs = fn(act_in(i, x))
    y = fn(x)
    axis = torch.tensor(table.right_permutation(i))
    if _matches(lhs, table.spatial(i, y.index_select(2, axis))):
        return f"The group axis of f(g·x) is permuted the wrong way: {_INVERSE_HINT}."
    if _matches(lhs, table.spatial(i, y)):
        return f"f(g·x) is f(x) transformed in space only: {_ROLL_HINT}."
    return (
        f"Likely causes: asymmetric padding ({_PADDING_HINT}); {_ROLL_HINT}. Make "
        "the checks above pass first."
    )


# ----------------------------------------------------------------------------
# LiftingConvolution
# ----------------------------------------------------------------------------


def check_lifting_convolution(
    LiftingConvolution: type, CyclicGroup: type, DihedralGroup: type
) -> None:
    """Check the lifting convolution ``[B, C_in, H, W] -> [B, C_out, G, H', W']``.

    Raises:
        CheckFailed: naming the property that failed and why.
    """
    title = "LiftingConvolution"
    c4 = _construct(title, lambda: CyclicGroup(4))
    d4 = _construct(title, lambda: DihedralGroup(4))
    c8 = _construct(title, lambda: CyclicGroup(8))
    layer = LiftingConvolution
    _run(
        title,
        [
            ("parameters", lambda: _check_parameters(layer, c4, (3, 2, 5, 5), title)),
            ("transformed kernels", lambda: _check_lifting_kernels(layer, c4, d4)),
            (
                "output shapes",
                lambda: _check_output_shapes(
                    lambda g, k: layer(g, 2, 3, k),
                    (c4, d4),
                    lambda order, h, w: (2, 2, h, w),
                    title,
                ),
            ),
            (
                "one F.conv2d call",
                lambda: _check_one_conv2d(
                    lambda g: layer(g, 2, 3, 3),
                    (c4, d4),
                    lambda order: (2, 2, 8, 8),
                    title,
                ),
            ),
            (
                "centred output",
                lambda: _check_centred(
                    lambda k: layer(c4, 1, 1, k, bias=False),
                    (1, 1, 7, 9),
                    title,
                ),
            ),
            ("known values", lambda: _check_lifting_impulses(layer, c4, d4)),
            (
                "bias",
                lambda: _check_bias(
                    lambda: layer(c4, 2, 3, 3), _randn(2, 2, 6, 6), title
                ),
            ),
            (
                "rot90 (odd k)",
                lambda: _check_lifting_equivariance(layer, c4, 4, 5, (9, 12)),
            ),
            (
                "rot90 (even k)",
                lambda: _check_lifting_equivariance(layer, c4, 4, 4, (10, 7)),
            ),
            (
                "D_4",
                lambda: _check_lifting_equivariance(layer, d4, 4, 3, (8, 11), True),
            ),
            (
                "C_8 at 90°",
                lambda: _check_lifting_equivariance(layer, c8, 8, 5, (9, 9)),
            ),
            (
                "gradient",
                lambda: _check_layer_gradient(layer(c4, 2, 3, 3), (2, 2, 6, 6), title),
            ),
        ],
    )


def _check_lifting_kernels(cls: type, c4: Any, d4: Any) -> None:
    for group, table in ((c4, _Table(4, False)), (d4, _Table(4, True))):
        layer = _double(cls(group, 2, 3, 5))
        w = layer.weight.detach()
        got = _expect_tensor(
            f"LiftingConvolution({table.name}, 2, 3, 5).transformed_kernels()",
            layer.transformed_kernels(),
            (3, table.order, 2, 5, 5),
            torch.float64,
        )
        _expect_exact(
            f"LiftingConvolution({table.name}, 2, 3, 5).transformed_kernels()",
            got,
            _lifted(table, w),
            hint="It must be lift_kernels(self.group, self.weight): the weight "
            "transformed by every group element",
        )


def _check_lifting_impulses(cls: type, c4: Any, d4: Any) -> None:
    """A kernel with a single one at (x, y) = (1, 1) and an impulse at the centre.

    A correlation gives out(p) = (L_g w)(-p) for an impulse at 0, so the output
    at g has its one at -g·(1, 1).
    """
    for group, table in ((c4, _Table(4, False)), (d4, _Table(4, True))):
        layer = _double(cls(group, 1, 1, 3, bias=False))
        w = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
        w[0, 0, 0, 2] = 1.0  # row 0, column 2: the point (x, y) = (1, 1)
        _set_weight(layer, w, bias=None)
        x = torch.zeros(1, 1, 7, 7, dtype=torch.float64)
        x[0, 0, 3, 3] = 1.0
        out = _expect_tensor(
            f"LiftingConvolution({table.name}, 1, 1, 3) on a 7×7 impulse",
            layer(x),
            (1, 1, table.order, 7, 7),
        )
        for i in range(table.order):
            _expect_impulse_at(out[0, 0, i], table, i)


def _point_of(table: _Table, i: int, point: tuple[int, int]) -> tuple[int, int]:
    """g·p for an element that maps the grid onto itself."""
    x, y = point
    if table.split(i)[1]:
        y = -y
    for _ in range(table.quarter_turns(i) or 0):
        x, y = -y, x
    return x, y


def _pixel(point: tuple[int, int], size: int = 7) -> tuple[int, int]:
    """(row, column) of the point (x, y) on a centred size×size grid."""
    c = (size - 1) // 2
    return c - point[1], c + point[0]


def _expect_impulse_at(image: Tensor, table: _Table, i: int) -> None:
    gx, gy = _point_of(table, i, (1, 1))
    want = _pixel((-gx, -gy))
    peak = divmod(int(image.abs().argmax()), image.shape[-1])
    expected = torch.zeros_like(image)
    expected[want] = 1.0
    if _matches(image, expected):
        return
    ix, iy = _point_of(table, table.inverse(i), (1, 1))
    causes = {_pixel((-ix, -iy)): _INVERSE_HINT}
    causes.setdefault(
        _pixel((gx, gy)),
        "the kernel is flipped: F.conv2d computes a correlation, use it as it is "
        "and do not flip the kernel",
    )
    for j in range(table.order):
        jx, jy = _point_of(table, j, (1, 1))
        causes.setdefault(
            _pixel((-jx, -jy)),
            f"that is where the kernel of {table.label(j)} puts it; {_ORDER_HINT}",
        )
    cause = causes.get(peak, _PADDING_HINT) if peak != want else _PADDING_HINT
    _fail(
        f"with a kernel whose only non-zero entry is 1 at (row, column) = (0, 2), "
        f"the point (x, y) = (1, 1), and an impulse at the centre of a 7×7 image, "
        f"the output at g = {table.label(i)} should be 1 at (row, column) = {want} "
        f"and 0 elsewhere (out(p) = (L_g w)(-p), L_g w has its 1 at g·(1, 1) = "
        f"({gx}, {gy})); its largest entry is at {peak}: {cause}"
    )


def _check_lifting_equivariance(
    cls: type,
    group: Any,
    n: int,
    k: int,
    size: tuple[int, int],
    reflections: bool = False,
) -> None:
    table = _Table(n, reflections)
    layer = _double(cls(group, 2, 3, k))
    with torch.no_grad():
        layer.bias.copy_(_randn(3, salt=5))
    x, x_other = _randn(2, 2, *size, salt=1), _randn(2, 2, *size, salt=2)
    _equivariance(
        lambda t: layer(t).detach(),
        table,
        table.exact(),
        x,
        x_other,
        table.spatial,
        f"LiftingConvolution({table.name}, kernel_size={k}) on {size[0]}×{size[1]} "
        "inputs",
    )


def _check_layer_gradient(layer: Any, shape: tuple[int, ...], name: str) -> None:
    layer = _double(layer)
    out = layer(_randn(*shape))
    _expect_gradient(f"the output of {name}", out, [layer.weight])


# ----------------------------------------------------------------------------
# group_kernel_permutation
# ----------------------------------------------------------------------------


def check_group_kernel_permutation(
    group_kernel_permutation: Callable[[Any], Tensor],
    CyclicGroup: type,
    DihedralGroup: type,
) -> None:
    """Check the index table ``[G, G]`` whose entry ``[g, h]`` is ``g⁻¹h``.

    Raises:
        CheckFailed: naming the property that failed and why.
    """
    title = "group_kernel_permutation"
    cases = [
        (CyclicGroup, 4, False),
        (CyclicGroup, 5, False),
        (DihedralGroup, 4, True),
        (DihedralGroup, 3, True),
    ]
    checks = []
    for cls, n, reflections in cases:
        table = _Table(n, reflections)
        group = _construct(title, lambda cls=cls, n=n: cls(n))
        checks.append(
            (
                table.name,
                lambda g=group, t=table: _check_table(group_kernel_permutation, g, t),
            )
        )
    _run(title, checks)


def _check_table(group_kernel_permutation: Callable, group: Any, table: _Table) -> None:
    g = table.order
    what = f"group_kernel_permutation({table.name})"
    got = _expect_tensor(what, group_kernel_permutation(group), (g, g))
    if got.dtype != torch.long:
        _fail(
            f"{what} should have dtype torch.long (indices for indexing a tensor), "
            f"got {got.dtype}"
        )
    expected = table.table()
    if torch.equal(got.cpu(), expected):
        return
    pairs = [(a, b) for a in range(g) for b in range(g)]
    variants = {
        "g·h": [table.product(a, b) for a, b in pairs],
        "h·g⁻¹": [table.product(b, table.inverse(a)) for a, b in pairs],
        "h⁻¹·g": [table.product(table.inverse(b), a) for a, b in pairs],
        "g·h⁻¹": [table.product(a, table.inverse(b)) for a, b in pairs],
    }
    for name, values in variants.items():
        if torch.equal(got.cpu(), torch.tensor(values).reshape(g, g)):
            _fail(
                f"{what}[g, h] holds the index of {name}; it must be the index of "
                "g⁻¹h (the order of the factors matters in D_N), the position in "
                "group.elements() of group.product(group.inverse(g), h)"
            )
    bad = (got.cpu() != expected).nonzero()[0].tolist()
    _fail(
        f"{what}[{bad[0]}, {bad[1]}] is {int(got[bad[0], bad[1]])}, expected "
        f"{int(expected[bad[0], bad[1]])}: entry [g, h] is the position in "
        f"group.elements() of g⁻¹h, here g = {table.label(bad[0])}, "
        f"h = {table.label(bad[1])}; every row is a permutation of 0..G-1"
    )


# ----------------------------------------------------------------------------
# transform_group_kernels
# ----------------------------------------------------------------------------


def check_transform_group_kernels(
    transform_group_kernels: Callable[[Any, Tensor], Tensor],
    CyclicGroup: type,
    DihedralGroup: type,
) -> None:
    """Check ``transform_group_kernels(group, w)`` -> ``[C_out, G, C_in, G, k, k]``.

    The kernel at g is ``w(g⁻¹h, g⁻¹x)``: the group axis permuted exactly by
    ``h -> g⁻¹h``, the spatial axes by ``L_g``.

    Raises:
        CheckFailed: naming the property that failed and why.
    """
    title = "transform_group_kernels"
    c4 = _construct(title, lambda: CyclicGroup(4))
    d4 = _construct(title, lambda: DihedralGroup(4))
    c8 = _construct(title, lambda: CyclicGroup(8))
    fn = transform_group_kernels
    _run(
        title,
        [
            ("shape", lambda: _check_group_kernel_shape(fn, c4, d4)),
            (
                "C_4 (odd k)",
                lambda: _check_group_kernels(fn, c4, _Table(4, False), 5),
            ),
            (
                "C_4 (even k)",
                lambda: _check_group_kernels(fn, c4, _Table(4, False), 4),
            ),
            ("D_4", lambda: _check_group_kernels(fn, d4, _Table(4, True), 3)),
            ("C_8", lambda: _check_group_kernels_c8(fn, c8)),
            ("dtype", lambda: _check_group_kernel_dtype(fn, c4)),
            ("gradient", lambda: _check_group_kernel_gradient(fn, c4)),
        ],
    )


def _check_group_kernel_shape(fn: Callable, c4: Any, d4: Any) -> None:
    for group, g in ((c4, 4), (d4, 8)):
        _expect_tensor(
            f"transform_group_kernels(group with {g} elements, "
            f"weight [3, 2, {g}, 5, 5])",
            fn(group, _randn(3, 2, g, 5, 5)),
            (3, g, 2, g, 5, 5),
            torch.float64,
            hint="the output is [C_out, G, C_in, G, k, k]: output channel, output "
            "group element g, input channel, input group element h, space",
        )


def _group_kernels(
    table: _Table, w: Tensor, perm: Callable[[int], list[int]]
) -> Tensor:
    """``K[:, g, :, h] = L_g w[:, :, perm(g)[h]]`` for every g."""
    slices = []
    for i in range(table.order):
        index = torch.tensor(perm(i))
        slices.append(table.spatial(i, w.index_select(2, index)))
    return torch.stack(slices, dim=1)  # [C_out, G, C_in, G, k, k]


def _check_group_kernels(fn: Callable, group: Any, table: _Table, k: int) -> None:
    w = _randn(3, 2, table.order, k, k, salt=k)
    what = (
        f"transform_group_kernels({table.name}, weight [3, 2, {table.order}, {k}, {k}])"
    )
    got = _expect_tensor(what, fn(group, w), (3, table.order, 2, table.order, k, k))
    expected = _group_kernels(table, w, table.left_permutation)
    identity = list(range(table.order))
    for i in range(table.order):
        if _matches(got[:, i], expected[:, i]):
            continue
        g_inv = table.inverse(i)
        wrong = [
            (_group_kernels(table, w, lambda _: identity)[:, i], _ROLL_HINT),
            (
                _group_kernels(
                    table, w, lambda j: [table.product(j, h) for h in identity]
                )[:, i],
                "the group axis is permuted by h -> gh; it must be h -> g⁻¹h",
            ),
            (
                w.index_select(2, torch.tensor(table.left_permutation(i))),
                "the group axis is permuted but the kernels are not transformed in "
                "space: apply L_g to the spatial axes too",
            ),
            (
                table.spatial(
                    g_inv, w.index_select(2, torch.tensor(table.left_permutation(i)))
                ),
                f"the spatial axes are transformed by g⁻¹; {_INVERSE_HINT}",
            ),
        ]
        _expect_exact(
            f"the kernel at g = {table.label(i)} ({what}[:, {i}])",
            got[:, i],
            expected[:, i],
            wrong,
            hint="K[:, g, :, h] must be L_g applied to w[:, :, index(g⁻¹h)]: "
            f"w(g⁻¹h, g⁻¹x). {_ROLL_HINT}",
        )


def _check_group_kernels_c8(fn: Callable, c8: Any) -> None:
    table = _Table(8, False)
    w = _randn(2, 2, 8, 5, 5, salt=8)
    got = _expect_tensor(
        "transform_group_kernels(C_8, weight [2, 2, 8, 5, 5])",
        fn(c8, w),
        (2, 8, 2, 8, 5, 5),
    )
    for i in range(8):
        _expect_exact(
            f"the kernel at g = {45 * ((i + 2) % 8)}° of C_8 vs the kernel at "
            f"{45 * i}° rotated by 90°",
            got[:, (i + 2) % 8],
            torch.rot90(got[:, i].roll(2, dims=2), 1, dims=(-2, -1)),
            hint=f"K_(r g)(h, x) = K_g(r⁻¹h, r⁻¹x) for r = 90°: {_ROLL_HINT}",
            tol=_INTERPOLATED,
        )
    g45 = c8.elements(dtype=torch.float64)[1]
    moved = w.index_select(2, torch.tensor(table.left_permutation(1)))
    _expect_exact(
        "the kernel at 45° of C_8",
        got[:, 1],
        c8.left_regular_representation(g45, moved),
        hint="The spatial axes of w(g⁻¹h, ·) must be transformed with "
        f"group.left_regular_representation(g, ...) (bilinear); {_ROLL_HINT}",
        tol=_INTERPOLATED,
    )


def _check_group_kernel_dtype(fn: Callable, c4: Any) -> None:
    _expect_tensor(
        "transform_group_kernels(C_4, float32 weight)",
        fn(c4, _randn(2, 3, 4, 3, 3).float()),
        (2, 4, 3, 4, 3, 3),
        torch.float32,
    )


def _check_group_kernel_gradient(fn: Callable, c4: Any) -> None:
    w = _randn(2, 3, 4, 3, 3).requires_grad_()
    _expect_gradient("transform_group_kernels(C_4, w)", fn(c4, w), [w])


# ----------------------------------------------------------------------------
# GroupConvolution
# ----------------------------------------------------------------------------


def check_group_convolution(
    GroupConvolution: type, CyclicGroup: type, DihedralGroup: type
) -> None:
    """Check the group convolution ``[B, C_in, G, H, W] -> [B, C_out, G, H', W']``.

    Raises:
        CheckFailed: naming the property that failed and why.
    """
    title = "GroupConvolution"
    c4 = _construct(title, lambda: CyclicGroup(4))
    d4 = _construct(title, lambda: DihedralGroup(4))
    c8 = _construct(title, lambda: CyclicGroup(8))
    layer = GroupConvolution
    _run(
        title,
        [
            (
                "parameters",
                lambda: _check_parameters(layer, c4, (3, 2, 4, 5, 5), title),
            ),
            ("transformed kernels", lambda: _check_gconv_kernels(layer, c4, d4)),
            (
                "output shapes",
                lambda: _check_output_shapes(
                    lambda g, k: layer(g, 2, 3, k),
                    (c4, d4),
                    lambda order, h, w: (2, 2, order, h, w),
                    title,
                ),
            ),
            (
                "one F.conv2d call",
                lambda: _check_one_conv2d(
                    lambda g: layer(g, 2, 3, 3),
                    (c4, d4),
                    lambda order: (2, 2, order, 8, 8),
                    title,
                ),
            ),
            (
                "centred output",
                lambda: _check_centred(
                    lambda k: layer(c4, 1, 1, k, bias=False),
                    (1, 1, 4, 7, 9),
                    title,
                ),
            ),
            (
                "bias",
                lambda: _check_bias(
                    lambda: layer(c4, 2, 3, 3), _randn(2, 2, 4, 6, 6), title
                ),
            ),
            (
                "rot90 (odd k)",
                lambda: _check_gconv_equivariance(layer, c4, 4, 3, (9, 12)),
            ),
            (
                "rot90 (even k)",
                lambda: _check_gconv_equivariance(layer, c4, 4, 4, (10, 7)),
            ),
            ("D_4", lambda: _check_gconv_equivariance(layer, d4, 4, 3, (8, 11), True)),
            ("C_8 at 90°", lambda: _check_gconv_equivariance(layer, c8, 8, 3, (9, 9))),
            (
                "gradient",
                lambda: _check_layer_gradient(
                    layer(c4, 2, 3, 3), (2, 2, 4, 6, 6), title
                ),
            ),
        ],
    )


def _check_gconv_kernels(cls: type, c4: Any, d4: Any) -> None:
    for group, table in ((c4, _Table(4, False)), (d4, _Table(4, True))):
        layer = _double(cls(group, 2, 3, 3))
        w = layer.weight.detach()
        what = f"GroupConvolution({table.name}, 2, 3, 3).transformed_kernels()"
        got = _expect_tensor(
            what,
            layer.transformed_kernels(),
            (3, table.order, 2, table.order, 3, 3),
            torch.float64,
        )
        _expect_exact(
            what,
            got,
            _group_kernels(table, w, table.left_permutation),
            hint="It must be transform_group_kernels(self.group, self.weight)",
        )


def _check_gconv_equivariance(
    cls: type,
    group: Any,
    n: int,
    k: int,
    size: tuple[int, int],
    reflections: bool = False,
) -> None:
    table = _Table(n, reflections)
    layer = _double(cls(group, 2, 3, k))
    with torch.no_grad():
        layer.bias.copy_(_randn(3, salt=5))
    shape = (2, 2, table.order, *size)
    x, x_other = _randn(*shape, salt=1), _randn(*shape, salt=2)
    _equivariance(
        lambda t: layer(t).detach(),
        table,
        table.exact(),
        x,
        x_other,
        table.act,
        f"GroupConvolution({table.name}, kernel_size={k}) on {size[0]}×{size[1]} "
        "inputs",
    )


# ----------------------------------------------------------------------------
# GroupPooling, and a whole invariant network
# ----------------------------------------------------------------------------


def check_group_pooling(
    GroupPooling: type,
    LiftingConvolution: type,
    GroupConvolution: type,
    CyclicGroup: type,
    DihedralGroup: type,
) -> None:
    """Check group pooling, and the invariance of lifting → group conv → pooling.

    Raises:
        CheckFailed: naming the property that failed and why.
    """
    title = "GroupPooling"
    c4 = _construct(title, lambda: CyclicGroup(4))
    d4 = _construct(title, lambda: DihedralGroup(4))
    pool = GroupPooling
    _run(
        title,
        [
            ("shapes", lambda: _check_pool_shapes(pool)),
            ("known values", lambda: _check_pool_values(pool)),
            ("unknown mode", lambda: _check_pool_mode(pool)),
            ("invariance over the group axis", lambda: _check_pool_invariance(pool)),
            (
                "invariant network (C_4)",
                lambda: _check_network(
                    pool, LiftingConvolution, GroupConvolution, c4, _Table(4, False)
                ),
            ),
            (
                "invariant network (D_4)",
                lambda: _check_network(
                    pool, LiftingConvolution, GroupConvolution, d4, _Table(4, True)
                ),
            ),
        ],
    )


def _check_pool_shapes(cls: type) -> None:
    for mode in ("max", "mean"):
        _expect_tensor(
            f'GroupPooling("{mode}") on [2, 3, 4, 5, 6]',
            cls(mode)(_randn(2, 3, 4, 5, 6)),
            (2, 3, 5, 6),
            torch.float64,
            hint="pool over the group axis, axis 2 of [B, C, G, H, W]",
        )
    _expect_tensor(
        "GroupPooling() (default mode)", cls()(_randn(1, 2, 8, 3, 3)), (1, 2, 3, 3)
    )


def _check_pool_values(cls: type) -> None:
    """Values base + g on a shuffled group axis: max base + G - 1, mean + (G-1)/2."""
    base = _randn(2, 3, 1, 4, 5)
    steps = torch.tensor([2.0, 0.0, 3.0, 1.0], dtype=torch.float64)  # shuffled 0..3
    x = base + steps[:, None, None]  # [2, 3, 4, 4, 5]
    for mode, offset in (("max", 3.0), ("mean", 1.5)):
        _expect_exact(
            f'GroupPooling("{mode}") of x[b, c, g] = f[b, c] + step[g], steps '
            "(2, 0, 3, 1)",
            _expect_tensor(f'GroupPooling("{mode}")', cls(mode)(x), (2, 3, 4, 5)),
            base[:, :, 0] + offset,
            hint=f"Take the {mode} over the group axis (axis 2)",
        )
    _expect_exact(
        "GroupPooling() (the default mode is max)", cls()(x), base[:, :, 0] + 3.0
    )


def _check_pool_mode(cls: type) -> None:
    try:
        cls("sum")
    except ValueError:
        return
    _fail('GroupPooling("sum") should raise ValueError: the modes are "max", "mean"')


def _check_pool_invariance(cls: type) -> None:
    """pool(L_g y) = L_g pool(y): the group axis permutation disappears."""
    table = _Table(4, True)
    y, y_other = _randn(2, 3, 8, 6, 6, salt=1), _randn(2, 3, 8, 6, 6, salt=2)
    for mode in ("max", "mean"):
        pool = cls(mode)
        report = check_equivariance(
            pool,
            table.exact(),
            table.act,
            table.spatial,
            y,
            tolerance=_EQUIVARIANCE_TOL,
            x_other=y_other,
            labels=[table.label(i) for i in table.exact()],
        )
        if not report.ok:
            _fail(report.message(f'GroupPooling("{mode}")'))


def _check_network(
    pool: type, lifting: type, gconv: type, group: Any, table: _Table
) -> None:
    """mean over space of pool(gconv(relu(lifting(x)))) is invariant."""
    first = _double(lifting(group, 1, 4, 5))
    second = _double(gconv(group, 4, 3, 4))
    with torch.no_grad():
        first.bias.copy_(_randn(4, salt=3))
        second.bias.copy_(_randn(3, salt=4))
    pooling = pool("max")

    def network(x: Tensor) -> Tensor:
        h = second(torch.relu(first(x)))  # [B, 3, G, H', W']
        return pooling(h).mean(dim=(-2, -1)).detach()  # [B, 3]

    x, x_other = _randn(2, 1, 11, 11, salt=1), _randn(2, 1, 11, 11, salt=2)
    report = check_equivariance(
        network,
        table.exact(),
        table.spatial,
        lambda g, z: z,
        x,
        tolerance=_EQUIVARIANCE_TOL,
        x_other=x_other,
        labels=[table.label(i) for i in table.exact()],
    )
    if not report.ok:
        _fail(
            report.message(
                f"lifting → ReLU → group conv (kernel 4) → GroupPooling('max') → mean "
                f"over space, for {table.name},"
            )
            .replace(" is not equivariant", " is not invariant", 1)
            .replace(" is equivariant", " is invariant", 1)
            + " (invariant means f(g·x) = f(x).) Make the checks of the layers pass "
            "first."
        )
