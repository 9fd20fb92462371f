"""Public checks of assignment 1: groups, products and representations.

Each check takes the classes defined in the notebook, builds a few groups and
tests properties that every correct implementation has: the group axioms on
random batches, angle wrapping and snapping, shapes, broadcasting and dtypes,
that the matrix representation is a homomorphism, that the action on the
plane agrees with the matrix, that the left-regular representation is an
exact pixel permutation for 90° rotations, reflections and integer
translations, and a few hard-coded values such as ``90° · 270° = 0`` in C_4.
They never compare with a reference implementation.

A failed check raises :class:`CheckFailed` (an ``AssertionError``) whose
message names the property, the element(s) and the size of the error, with a
hint. A passed check prints one line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from gedl_checks.runner import CheckFailed
from gedl_checks.runner import fail as _fail
from gedl_checks.runner import guard as _guard
from gedl_checks.runner import run as _run

__all__ = [
    "CheckFailed",
    "check_cyclic_group",
    "check_dihedral_group",
    "check_left_regular_representation",
    "check_roto_translation",
    "check_so2",
]

TWO_PI = 2 * math.pi
_SEED = 20240901
#: Tolerances of the approximate comparisons, per dtype.
_TOL = {torch.float64: 1e-9, torch.float32: 1e-4}
_SNAP_HINT = (
    "snap the angle to the grid: k = round(θ·N/2π) mod N, then return "
    "k * (2π/N) computed in the dtype of the input, exactly as elements() "
    "computes it"
)
_WRAP_HINT = "angles must be wrapped mod 2π into [0, 2π) (torch.remainder)"


# ----------------------------------------------------------------------------
# What the groups look like: parameters, sampling, distances
# ----------------------------------------------------------------------------


@dataclass
class _Kind:
    """How the elements of one group are laid out, for sampling and messages.

    Attributes:
        title: name in messages, e.g. ``"C_4"``.
        dimension: ``D``.
        angle: index of the angle parameter.
        reflection: index of the flag ``s``, or None.
        translation: whether the first two parameters are a translation.
        grid: ``N`` when angles are multiples of ``2π/N``, None for SO(2).
        matrix_size: 2, or 3 for homogeneous matrices of R² ⋊ H.
    """

    title: str
    dimension: int
    angle: int
    reflection: int | None = None
    translation: bool = False
    grid: int | None = None
    matrix_size: int = 2

    def describe(self, g: Tensor) -> str:
        """One element in words, e.g. ``(x=(1.000, 2.000), θ=1.571)``."""
        values = [float(v) for v in g.detach().reshape(-1)]
        if len(values) != self.dimension:
            return str([round(v, 4) for v in values])
        parts = [f"θ={_num(values[self.angle])}"]
        if self.reflection is not None:
            parts.append(f"s={_num(values[self.reflection])}")
        if self.translation:
            parts.insert(0, f"x=({_num(values[0])}, {_num(values[1])})")
        return parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")"

    def sample(self, n: int, dtype: torch.dtype, gen: torch.Generator) -> Tensor:
        """``n`` random elements ``[n, D]``, angles on the grid / in [0, 2π)."""
        columns = []
        if self.translation:
            columns += list(torch.randn(2, n, generator=gen, dtype=torch.float64) * 3)
        if self.grid is not None:
            k = torch.randint(self.grid, (n,), generator=gen).to(dtype)
            columns.append(_grid_angles(k, self.grid))
        else:
            theta = torch.rand(n, generator=gen, dtype=torch.float64) * TWO_PI
            theta = theta.to(dtype)
            columns.append(torch.where(theta < TWO_PI, theta, 0))
        if self.reflection is not None:
            columns.append(torch.randint(2, (n,), generator=gen).to(dtype))
        return torch.stack([c.to(dtype) for c in columns], dim=-1)  # [n, D]

    def distance(self, a: Tensor, b: Tensor) -> Tensor:
        """Largest parameter difference per element, angles compared mod 2π."""
        diff = (a.double() - b.double()).abs()  # [..., D]
        turn = torch.remainder(diff[..., self.angle], TWO_PI)
        diff[..., self.angle] = torch.minimum(turn, TWO_PI - turn)
        return diff.amax(dim=-1)  # [...]


def _grid_angles(k: Tensor, order: int) -> Tensor:
    """The angles ``k * (2π/N)`` in the dtype of ``k``, as the conventions say."""
    return k * (TWO_PI / order)


def _num(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 1e4 else f"{value:.3g}"


def _generator() -> torch.Generator:
    return torch.Generator().manual_seed(_SEED)


# ----------------------------------------------------------------------------
# Expectations on outputs
# ----------------------------------------------------------------------------


def _expect_tensor(
    what: str,
    out: Any,
    shape: Sequence[int] | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """Check type, shape and dtype of an output; return it."""
    if not isinstance(out, Tensor):
        _fail(f"{what} should return a torch.Tensor, got {type(out).__name__}")
    if shape is not None and tuple(out.shape) != tuple(shape):
        _fail(
            f"{what} should have shape {list(shape)}, got {list(out.shape)} "
            "(the last axis holds the parameters; every leading axis is a batch "
            "axis and broadcasts)"
        )
    if dtype is not None and out.dtype != dtype:
        _fail(
            f"{what} should have dtype {dtype} (that of its input / the "
            f"requested dtype), got {out.dtype}"
        )
    if out.is_floating_point() and torch.isnan(out).any():
        _fail(f"{what} contains NaN")
    return out


def _expect_close(
    got: Tensor,
    expected: Tensor,
    kind: _Kind,
    call: Callable[[int], str],
    hint: str = "",
    tol: float | None = None,
) -> None:
    """Elementwise comparison of group elements; report the worst one.

    ``call(i)`` describes the call that produced ``got[i]``.
    """
    tol = _TOL.get(got.dtype, 1e-4) if tol is None else tol
    got_flat = got.reshape(-1, got.shape[-1])
    expected_flat = expected.expand_as(got).reshape(-1, got.shape[-1])
    distance = kind.distance(got_flat, expected_flat)  # [n]
    i = int(torch.argmax(torch.nan_to_num(distance, nan=math.inf)))
    if not distance[i] <= tol:
        _fail(
            f"{call(i)} gave {kind.describe(got_flat[i])}, expected "
            f"{kind.describe(expected_flat[i])} (off by {float(distance[i]):.3g}, "
            f"tolerance {tol:.0e}). {hint}".rstrip()
        )


def _expect_wrapped(out: Tensor, kind: _Kind, call: Callable[[int], str]) -> None:
    """Every angle of ``out`` lies in [0, 2π) (compared in its own dtype)."""
    angles = out.reshape(-1, out.shape[-1])[:, kind.angle]
    bad = ~((angles >= 0) & (angles < TWO_PI))
    if bad.any():
        i = int(bad.nonzero()[0])
        _fail(
            f"angles must be wrapped mod 2π: {call(i)} gave "
            f"{float(angles[i]):.3f}, expected a value in [0, 2π) "
            "(use torch.remainder; mind that it can round a tiny negative angle "
            "up to exactly 2π)"
        )


def _expect_matrices_close(
    got: Tensor, expected: Tensor, call: Callable[[int], str], hint: str = ""
) -> None:
    """Compare batches of matrices ``[n, k, k]``; report the worst one."""
    tol = _TOL.get(got.dtype, 1e-4)
    diff = (got.double() - expected.double()).abs().flatten(1).amax(dim=1)  # [n]
    i = int(torch.argmax(torch.nan_to_num(diff, nan=math.inf)))
    if not diff[i] <= tol:
        _fail(
            f"{call(i)}: the matrices differ by {float(diff[i]):.3g} "
            f"(largest entry, tolerance {tol:.0e}); got {_matrix(got[i])}, "
            f"expected {_matrix(expected[i])}. {hint}".rstrip()
        )


def _matrix(m: Tensor) -> str:
    rows = ["[" + ", ".join(_num(float(v)) for v in row) + "]" for row in m]
    return "[" + ", ".join(rows) + "]"


def _points(p: Tensor) -> str:
    return "(" + ", ".join(_num(float(v)) for v in p) + ")"


# ----------------------------------------------------------------------------
# Checks that every group gets
# ----------------------------------------------------------------------------


def _common_checks(group: Any, kind: _Kind, order: int | None) -> list:
    """Attributes, identity, axioms, wrapping, shapes, dtypes, matrix, action."""
    return [
        ("attributes", lambda: _check_attributes(group, kind, order)),
        ("identity", lambda: _check_identity(group, kind)),
        ("identity law", lambda: _check_identity_law(group, kind)),
        ("inverse", lambda: _check_inverse_law(group, kind)),
        ("associativity", lambda: _check_associativity(group, kind)),
        ("wrapping", lambda: _check_wrapping(group, kind)),
        ("broadcasting", lambda: _check_broadcasting(group, kind)),
        ("dtypes", lambda: _check_dtypes(group, kind)),
        ("matrix homomorphism", lambda: _check_matrix(group, kind)),
        ("action matches matrix", lambda: _check_action(group, kind)),
    ]


def _check_attributes(group: Any, kind: _Kind, order: int | None) -> None:
    dimension = getattr(group, "dimension", "missing")
    if dimension != kind.dimension:
        _fail(
            f"the attribute `dimension` (parameters per element) should be "
            f"{kind.dimension}, got {dimension!r}"
        )
    actual = getattr(group, "order", "missing")
    if actual != order:
        meaning = "None (the group is infinite)" if order is None else str(order)
        _fail(
            f"the attribute `order` (number of elements) should be {meaning}, "
            f"got {actual!r}"
        )


def _check_identity(group: Any, kind: _Kind) -> None:
    e = _expect_tensor(
        "identity()", group.identity(), (kind.dimension,), torch.get_default_dtype()
    )
    if (e != 0).any():
        _fail(f"identity() should be all zeros, got {e.tolist()}")
    _expect_tensor(
        "identity(dtype=torch.float64)",
        group.identity(dtype=torch.float64),
        (kind.dimension,),
        torch.float64,
    )


def _check_identity_law(group: Any, kind: _Kind) -> None:
    g = kind.sample(32, torch.float64, _generator())
    e = group.identity(dtype=torch.float64)
    for what, out in (
        ("product(e, g)", group.product(e, g)),
        ("product(g, e)", group.product(g, e)),
    ):
        out = _expect_tensor(what, out, g.shape, torch.float64)
        _expect_close(
            out, g, kind, lambda i, what=what: f"{what} for g = {kind.describe(g[i])}"
        )


def _check_inverse_law(group: Any, kind: _Kind) -> None:
    g = kind.sample(32, torch.float64, _generator())
    g_inv = _expect_tensor("inverse(g)", group.inverse(g), g.shape, torch.float64)
    e = torch.zeros(kind.dimension, dtype=torch.float64)
    for what, out in (
        ("product(g, inverse(g))", group.product(g, g_inv)),
        ("product(inverse(g), g)", group.product(g_inv, g)),
    ):
        out = _expect_tensor(what, out, g.shape, torch.float64)
        _expect_close(
            out,
            e,
            kind,
            lambda i, what=what: f"{what} for g = {kind.describe(g[i])}",
            hint="g·g⁻¹ must be the identity e (all parameters zero).",
        )
    identity_inverse = _expect_tensor(
        "inverse(e)", group.inverse(e), e.shape, torch.float64
    )
    if identity_inverse[kind.angle] != 0:
        _fail(
            f"inverse(e) should be e, with angle 0 (not 2π), got angle "
            f"{float(identity_inverse[kind.angle]):.3f}"
        )


def _check_associativity(group: Any, kind: _Kind) -> None:
    gen = _generator()
    a, b, c = (kind.sample(64, torch.float64, gen) for _ in range(3))
    left = _expect_tensor(
        "product(product(a, b), c)", group.product(group.product(a, b), c), a.shape
    )
    right = _expect_tensor(
        "product(a, product(b, c))", group.product(a, group.product(b, c)), a.shape
    )
    _expect_close(
        left,
        right,
        kind,
        lambda i: (
            f"(ab)c vs a(bc) for a = {kind.describe(a[i])}, "
            f"b = {kind.describe(b[i])}, c = {kind.describe(c[i])}: (ab)c"
        ),
        hint="The product must be associative: (ab)c = a(bc).",
    )


def _check_wrapping(group: Any, kind: _Kind) -> None:
    for dtype in (torch.float32, torch.float64):
        gen = _generator()
        a, b = kind.sample(256, dtype, gen), kind.sample(256, dtype, gen)
        ab = _expect_tensor("product(a, b)", group.product(a, b), a.shape)
        _expect_wrapped(
            ab,
            kind,
            lambda i, a=a, b=b, dtype=dtype: (
                f"product({kind.describe(a[i])}, {kind.describe(b[i])}) in {dtype}"
            ),
        )
        a_inv = _expect_tensor("inverse(a)", group.inverse(a), a.shape)
        _expect_wrapped(
            a_inv,
            kind,
            lambda i, a=a, dtype=dtype: f"inverse({kind.describe(a[i])}) in {dtype}",
        )

        # Raw parameters: angles shifted by whole turns, and tiny negatives.
        raw = a.clone()
        turns = torch.randint(-3, 4, (256,), generator=gen).to(dtype)
        raw[:, kind.angle] = a[:, kind.angle] + turns * TWO_PI
        raw[:8, kind.angle] = -1e-9
        out = _expect_tensor(
            "normalize_group_parameterization(g)",
            group.normalize_group_parameterization(raw),
            raw.shape,
        )
        _expect_wrapped(
            out,
            kind,
            lambda i, raw=raw, dtype=dtype: (
                f"normalize_group_parameterization({kind.describe(raw[i])}) in {dtype}"
            ),
        )


def _check_broadcasting(group: Any, kind: _Kind) -> None:
    gen = _generator()
    d = kind.dimension
    g = kind.sample(6, torch.float64, gen).reshape(2, 3, d)
    h = kind.sample(1, torch.float64, gen)[0]  # [D]
    _expect_tensor(
        "product(g, h) with g [2, 3, D] and h [D]", group.product(g, h), (2, 3, d)
    )
    _expect_tensor(
        "product(h, g) with h [D] and g [2, 3, D]", group.product(h, g), (2, 3, d)
    )
    _expect_tensor("inverse(g) with g [2, 3, D]", group.inverse(g), (2, 3, d))
    _expect_tensor(
        "normalize_group_parameterization(g) with g [2, 3, D]",
        group.normalize_group_parameterization(g),
        (2, 3, d),
    )
    k = kind.matrix_size
    _expect_tensor(
        "matrix_representation(g) with g [2, 3, D]",
        group.matrix_representation(g),
        (2, 3, k, k),
    )

    # An outer product by broadcasting must agree with the pairs one by one.
    a = kind.sample(5, torch.float64, gen)[:, None]  # [5, 1, D]
    b = kind.sample(4, torch.float64, gen)[None]  # [1, 4, D]
    table = _expect_tensor(
        "product(a, b) with a [5, 1, D] and b [1, 4, D]", group.product(a, b), (5, 4, d)
    )
    pairs = group.product(
        a.expand(5, 4, d).reshape(20, d), b.expand(5, 4, d).reshape(20, d)
    )
    _expect_close(
        table.reshape(20, d),
        pairs,
        kind,
        lambda i: f"product(a[{i // 4}], b[{i % 4}]) by broadcasting",
        hint="Broadcasting must pair a[i] with b[j] like a loop would.",
    )

    p = torch.randn(1, 7, 2, generator=gen, dtype=torch.float64)
    _expect_tensor(
        "left_action_on_R2(g, x) with g [5, 1, D] and x [1, 7, 2]",
        group.left_action_on_R2(a, p),
        (5, 7, 2),
    )
    _expect_tensor(
        "left_action_on_R2(g, x) with g [D] and x [7, 2]",
        group.left_action_on_R2(h, p[0]),
        (7, 2),
    )


def _check_dtypes(group: Any, kind: _Kind) -> None:
    gen = _generator()
    for dtype in (torch.float32, torch.float64):
        g = kind.sample(3, dtype, gen)
        p = torch.randn(3, 2, generator=gen, dtype=torch.float64).to(dtype)
        k = kind.matrix_size
        name = str(dtype).replace("torch.", "")
        _expect_tensor(
            f"product(g, h) for {name} inputs", group.product(g, g), g.shape, dtype
        )
        _expect_tensor(
            f"inverse(g) for {name} inputs", group.inverse(g), g.shape, dtype
        )
        _expect_tensor(
            f"normalize_group_parameterization(g) for {name} inputs",
            group.normalize_group_parameterization(g),
            g.shape,
            dtype,
        )
        _expect_tensor(
            f"matrix_representation(g) for {name} inputs",
            group.matrix_representation(g),
            (3, k, k),
            dtype,
        )
        _expect_tensor(
            f"left_action_on_R2(g, x) for {name} inputs",
            group.left_action_on_R2(g, p),
            (3, 2),
            dtype,
        )


def _check_matrix(group: Any, kind: _Kind) -> None:
    gen = _generator()
    k = kind.matrix_size
    e = group.identity(dtype=torch.float64)
    m_e = _expect_tensor(
        "matrix_representation(e)",
        group.matrix_representation(e),
        (k, k),
        torch.float64,
    )
    _expect_matrices_close(
        m_e[None],
        torch.eye(k, dtype=torch.float64)[None],
        lambda i: "matrix_representation(e)",
        "The identity must be represented by the identity matrix.",
    )

    a, b = kind.sample(64, torch.float64, gen), kind.sample(64, torch.float64, gen)
    m_ab = _expect_tensor(
        "matrix_representation(product(a, b))",
        group.matrix_representation(group.product(a, b)),
        (64, k, k),
    )
    m_a = group.matrix_representation(a)
    m_b = group.matrix_representation(b)
    _expect_matrices_close(
        m_ab,
        m_a @ m_b,
        lambda i: (
            f"M(ab) vs M(a) M(b) for a = {kind.describe(a[i])}, "
            f"b = {kind.describe(b[i])}"
        ),
        "A representation is a homomorphism: M(ab) = M(a) M(b). Check the order "
        "of the factors and the signs of R(θ) = [[cos θ, -sin θ], [sin θ, cos θ]].",
    )


def _check_action(group: Any, kind: _Kind) -> None:
    gen = _generator()
    a, b = kind.sample(64, torch.float64, gen), kind.sample(64, torch.float64, gen)
    p = torch.randn(64, 2, generator=gen, dtype=torch.float64)
    got = _expect_tensor(
        "left_action_on_R2(g, x)", group.left_action_on_R2(a, p), (64, 2), torch.float64
    )
    m = group.matrix_representation(a)
    if kind.matrix_size == 3:
        expected = (m[:, :2, :2] @ p[..., None])[..., 0] + m[:, :2, 2]
    else:
        expected = (m @ p[..., None])[..., 0]
    _compare_points(
        got,
        expected,
        lambda i: (
            f"left_action_on_R2(g, x) for "
            f"g = {kind.describe(a[i])}, x = {_points(p[i])}"
        ),
        "The action on R² must agree with the matrix representation: "
        "g·x = M(g) x (in homogeneous coordinates for R² ⋊ H).",
    )

    ab_p = group.left_action_on_R2(group.product(a, b), p)
    a_b_p = group.left_action_on_R2(a, group.left_action_on_R2(b, p))
    _compare_points(
        ab_p,
        a_b_p,
        lambda i: (
            f"(ab)·x vs a·(b·x) for a = "
            f"{kind.describe(a[i])}, b = {kind.describe(b[i])}, "
            f"x = {_points(p[i])}: (ab)·x"
        ),
        "A left action satisfies (ab)·x = a·(b·x).",
    )


def _compare_points(
    got: Tensor, expected: Tensor, call: Callable[[int], str], hint: str
) -> None:
    tol = _TOL.get(got.dtype, 1e-4)
    diff = (got.double() - expected.double()).abs().amax(dim=-1)  # [n]
    i = int(torch.argmax(torch.nan_to_num(diff, nan=math.inf)))
    if not diff[i] <= tol:
        _fail(
            f"{call(i)} gave {_points(got[i])}, expected {_points(expected[i])} "
            f"(off by {float(diff[i]):.3g}, tolerance {tol:.0e}). {hint}"
        )


# ----------------------------------------------------------------------------
# C_N and D_N: elements, exact closure, snapping, known values
# ----------------------------------------------------------------------------


def _expected_elements(n: int, reflections: bool, dtype: torch.dtype) -> Tensor:
    """``elements()`` as the conventions list them: k = 0..N-1, then s = 1."""
    theta = _grid_angles(torch.arange(n, dtype=dtype), n)[:, None]  # [N, 1]
    if not reflections:
        return theta
    s = torch.arange(2, dtype=dtype).repeat_interleave(n)[:, None]  # [2N, 1]
    return torch.cat((theta.repeat(2, 1), s), dim=-1)  # [2N, 2]


def _index_of_product(i: Tensor, j: Tensor, n: int, reflections: bool) -> Tensor:
    """Index in ``elements()`` of the product of elements ``i`` and ``j``.

    For D_N the element ``k + N s`` is ``r^k m^s`` and
    ``(r^a m^s)(r^b m^t) = r^(a + (-1)^s b) m^(s xor t)``.
    """
    if not reflections:
        return (i + j) % n
    a, s = i % n, i // n
    b, t = j % n, j // n
    return (a + (1 - 2 * s) * b) % n + n * (s ^ t)


def _check_elements(group: Any, kind: _Kind, n: int, reflections: bool) -> None:
    size = 2 * n if reflections else n
    for dtype, call in (
        (torch.get_default_dtype(), "elements()"),
        (torch.float64, "elements(dtype=torch.float64)"),
    ):
        kwargs = {} if call == "elements()" else {"dtype": torch.float64}
        got = _expect_tensor(
            call, group.elements(**kwargs), (size, kind.dimension), dtype
        )
        expected = _expected_elements(n, reflections, dtype)
        order = "k = 0..N-1" + (", first s = 0, then s = 1" if reflections else "")
        _expect_close(
            got,
            expected,
            kind,
            lambda i, call=call: f"{call}[{i}]",
            hint=f"List the elements in the order {order}.",
            tol=1e-6,
        )
        if not torch.equal(got, expected):
            diff = float((got - expected).abs().max())
            _fail(
                f"{call} is off in the last bits (by {diff:.1e}): compute the "
                f"angles as torch.arange(N, dtype=dtype) * (2 * math.pi / N), "
                "the one expression that product and inverse also use after "
                "snapping, so that results are bit-for-bit elements"
            )


def _wrap_or_snap_hint(angle: float) -> str:
    """The hint for a wrong angle of C_N / D_N: wrap it first, or snap it."""
    if 0 <= angle < TWO_PI:
        return _SNAP_HINT
    return f"{_WRAP_HINT}; then {_SNAP_HINT}"


def _check_closure(group: Any, kind: _Kind, n: int, reflections: bool) -> None:
    """Every product of two elements is bit-for-bit the right element."""
    for dtype in (torch.float32, torch.float64):
        elements = _expected_elements(n, reflections, dtype)
        size = len(elements)
        table = _expect_tensor(
            "product(g, h) for all pairs (g [G, 1, D], h [1, G, D])",
            group.product(elements[:, None], elements[None]),
            (size, size, kind.dimension),
            dtype,
        ).reshape(size * size, kind.dimension)
        i, j = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
        expected = elements[_index_of_product(i, j, n, reflections).reshape(-1)]
        bad = (table != expected).any(dim=-1)
        if bad.any():
            q = int(bad.nonzero()[0])
            g, h = elements[q // size], elements[q % size]
            hint = _wrap_or_snap_hint(float(table[q, kind.angle]))
            _fail(
                f"product({kind.describe(g)}, {kind.describe(h)}) in {dtype} gave "
                f"{kind.describe(table[q])}, expected {kind.describe(expected[q])} "
                f"exactly (bit for bit): {hint}"
            )


def _check_snapping(group: Any, kind: _Kind, n: int, reflections: bool) -> None:
    """normalize_group_parameterization wraps and snaps raw angles."""
    gen = _generator()
    for dtype in (torch.float32, torch.float64):
        elements = _expected_elements(n, reflections, dtype)
        index = torch.randint(len(elements), (64,), generator=gen)
        expected = elements[index]
        raw = expected.clone()
        turns = torch.randint(-2, 3, (64,), generator=gen).to(dtype)
        noise = (torch.rand(64, generator=gen, dtype=dtype) - 0.5) * 0.2 / n
        raw[:, kind.angle] += turns * TWO_PI + noise
        got = _expect_tensor(
            "normalize_group_parameterization(g)",
            group.normalize_group_parameterization(raw),
            raw.shape,
            dtype,
        )
        bad = (got != expected).any(dim=-1)
        if bad.any():
            q = int(bad.nonzero()[0])
            _fail(
                f"normalize_group_parameterization({kind.describe(raw[q])}) in "
                f"{dtype} gave {kind.describe(got[q])}, expected "
                f"{kind.describe(expected[q])} exactly: {_WRAP_HINT} and "
                f"{_SNAP_HINT}"
            )


def _check_known_rotations(group: Any, kind: _Kind, n: int, reflections: bool) -> None:
    """Hard-coded values: r·r⁻¹ = e, e.g. 90°·270° = 0 in C_4, and CCW action."""
    elements = _expected_elements(n, reflections, torch.float32)
    r, r_last = elements[1 % len(elements)], elements[n - 1]
    got = _expect_tensor("product", group.product(r, r_last), r.shape)
    if (got != 0).any():
        deg = 360 / n
        _fail(
            f"product({kind.describe(r)}, {kind.describe(r_last)}) — the rotations "
            f"by {deg:.4g}° and {360 - deg:.4g}° — should be exactly the identity "
            f"{kind.describe(torch.zeros_like(r))}, got {kind.describe(got)}: "
            + _wrap_or_snap_hint(float(got[kind.angle]))
        )
    got = _expect_tensor("inverse", group.inverse(r), r.shape)
    if not torch.equal(got, r_last):
        _fail(
            f"inverse({kind.describe(r)}) should be exactly "
            f"{kind.describe(r_last)}, got {kind.describe(got)}"
        )

    # The rotation by 2π/N turns (1, 0) counter-clockwise.
    x = torch.tensor([1.0, 0.0], dtype=torch.float64)
    step = TWO_PI / n
    expected = torch.tensor([math.cos(step), math.sin(step)], dtype=torch.float64)
    r = _expected_elements(n, reflections, torch.float64)[1 % n]
    got = _expect_tensor("left_action_on_R2", group.left_action_on_R2(r, x), (2,))
    if not (got - expected).abs().max() <= 1e-9:
        _fail(
            f"left_action_on_R2({kind.describe(r)}, (1, 0)) should be "
            f"{_points(expected)} (counter-clockwise rotation), got {_points(got)}"
        )


def _finite_checks(group: Any, kind: _Kind, n: int, reflections: bool) -> list:
    order = 2 * n if reflections else n
    checks = _common_checks(group, kind, order)
    checks[2:2] = [
        ("elements", lambda: _check_elements(group, kind, n, reflections)),
        ("known values", lambda: _check_known_rotations(group, kind, n, reflections)),
        ("closure and snapping", lambda: _check_closure(group, kind, n, reflections)),
        ("normalization", lambda: _check_snapping(group, kind, n, reflections)),
    ]
    return checks


def check_cyclic_group(CyclicGroup: type, orders: Sequence[int] = (4, 7)) -> None:
    """Check the notebook's ``CyclicGroup`` for each order in ``orders``.

    Raises:
        CheckFailed: naming the property that failed, the element and a hint.
    """
    for n in orders:
        title = f"C_{n}"
        group = _guard(title, "construction", lambda n=n: CyclicGroup(n))
        kind = _Kind(title, dimension=1, angle=0, grid=n)
        _run(title, _finite_checks(group, kind, n, reflections=False))


def check_dihedral_group(DihedralGroup: type, orders: Sequence[int] = (4, 5)) -> None:
    """Check the notebook's ``DihedralGroup`` for each ``N`` in ``orders``.

    Raises:
        CheckFailed: naming the property that failed, the element and a hint.
    """
    for n in orders:
        title = f"D_{n}"
        group = _guard(title, "construction", lambda n=n: DihedralGroup(n))
        kind = _Kind(title, dimension=2, angle=0, reflection=1, grid=n)
        checks = _finite_checks(group, kind, n, reflections=True)
        checks.insert(
            4, ("reflections", lambda g=group, k=kind, n=n: _check_reflections(g, k, n))
        )
        _run(title, checks)


def _check_reflections(group: Any, kind: _Kind, n: int) -> None:
    """Hard-coded values of D_N: m² = e, r m r = m, m r = r⁻¹ m, M(m)."""
    elements = _expected_elements(n, True, torch.float64)
    r, m = elements[1 % n], elements[n]
    r_inv_m = elements[n + (n - 1)]
    got = group.product(m, m)
    if (got != 0).any():
        _fail(
            f"m·m should be the identity (0, 0) for m = {kind.describe(m)}, got "
            f"{kind.describe(got)}: s xor t = 0 when both are reflections"
        )
    got = group.product(m, r)
    if not torch.equal(got, r_inv_m):
        _fail(
            f"product(m, r) for m = {kind.describe(m)}, r = {kind.describe(r)} "
            f"should be r⁻¹m = {kind.describe(r_inv_m)}, got {kind.describe(got)}: "
            "(a, s)(b, t) = (a + (-1)^s b, s xor t), since m r_b = r_(-b) m"
        )
    got = group.product(group.product(r, m), r)
    if not torch.equal(got, m):
        _fail(
            f"r·m·r should be m = {kind.describe(m)} for r = {kind.describe(r)}, "
            f"got {kind.describe(got)}"
        )
    for q in range(n, 2 * n):
        got = group.inverse(elements[q])
        if not torch.equal(got, elements[q]):
            _fail(
                f"every reflection is its own inverse: inverse"
                f"({kind.describe(elements[q])}) gave {kind.describe(got)}; "
                "(a, s)⁻¹ = (-(-1)^s a, s)"
            )
    matrix = group.matrix_representation(m)
    expected = torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=torch.float64)
    _expect_matrices_close(
        matrix[None],
        expected[None],
        lambda i: f"matrix_representation(m) for m = {kind.describe(m)}",
        "m is the reflection (x, y) -> (x, -y), and the matrix of "
        "r_θ m^s is R(θ) diag(1, (-1)^s).",
    )


def check_so2(SO2: type) -> None:
    """Check the notebook's ``SO2``.

    Raises:
        CheckFailed: naming the property that failed, the element and a hint.
    """
    title = "SO(2)"
    group = _guard(title, "construction", SO2)
    kind = _Kind(title, dimension=1, angle=0)
    checks = _common_checks(group, kind, None)
    checks.insert(2, ("known values", lambda: _check_so2_values(group)))
    _run(title, checks)


def _check_so2_values(group: Any) -> None:
    """Hard-coded values: 3π/2 + π = π/2, inverse, CCW action, R(π/2)."""
    dtype = torch.float64
    a = torch.tensor([1.5 * math.pi], dtype=dtype)
    b = torch.tensor([math.pi], dtype=dtype)
    got = _expect_tensor("product(3π/2, π)", group.product(a, b), (1,), dtype)
    if not 0 <= float(got) < TWO_PI:
        _fail(
            f"angles must be wrapped mod 2π: product(3π/2, π) gave "
            f"{float(got):.3f}, expected a value in [0, 2π)"
        )
    if abs(float(got) - math.pi / 2) > 1e-9:
        _fail(f"product(3π/2, π) should be π/2 = 1.571, got {float(got):.3f}")
    got = _expect_tensor("inverse(π/2)", group.inverse(b / 2), (1,), dtype)
    if abs(float(got) - 1.5 * math.pi) > 1e-9:
        _fail(f"inverse(π/2) should be 3π/2 = 4.712 (wrapped), got {float(got):.3f}")
    got = group.left_action_on_R2(b / 2, torch.tensor([1.0, 0.0], dtype=dtype))
    if not (got - torch.tensor([0.0, 1.0], dtype=dtype)).abs().max() <= 1e-9:
        _fail(
            f"left_action_on_R2(π/2, (1, 0)) should be (0, 1): rotations turn "
            f"counter-clockwise; got {_points(got)}"
        )
    _expect_matrices_close(
        group.matrix_representation(b / 2)[None],
        torch.tensor([[[0.0, -1.0], [1.0, 0.0]]], dtype=dtype),
        lambda i: "matrix_representation(π/2)",
        "R(θ) = [[cos θ, -sin θ], [sin θ, cos θ]].",
    )


# ----------------------------------------------------------------------------
# R² ⋊ H
# ----------------------------------------------------------------------------


def check_roto_translation(
    RotoTranslationGroup: type,
    CyclicGroup: type,
    SO2: type,
    DihedralGroup: type | None = None,
) -> None:
    """Check the notebook's ``RotoTranslationGroup`` over C_4, SO(2) (and D_4).

    Raises:
        CheckFailed: naming the property that failed, the element and a hint.
    """
    cases = [
        ("R² ⋊ C_4", lambda: RotoTranslationGroup(CyclicGroup(4)), 4, False),
        ("R² ⋊ SO(2)", lambda: RotoTranslationGroup(SO2()), None, False),
    ]
    if DihedralGroup is not None:
        cases.append(
            ("R² ⋊ D_4", lambda: RotoTranslationGroup(DihedralGroup(4)), 4, True)
        )
    for title, make, grid, reflections in cases:
        group = _guard(title, "construction", make)
        kind = _Kind(
            title,
            dimension=4 if reflections else 3,
            angle=2,
            reflection=3 if reflections else None,
            translation=True,
            grid=grid,
            matrix_size=3,
        )
        checks = _common_checks(group, kind, None)
        checks.insert(
            2, ("known values", lambda g=group, k=kind: _check_semidirect_values(g, k))
        )
        _run(title, checks)


def _check_semidirect_values(group: Any, kind: _Kind) -> None:
    """Hard-coded values of the semidirect product with a 90° rotation."""
    dtype = torch.float64
    extra = [0.0] if kind.reflection is not None else []
    quarter = math.pi / 2
    g = torch.tensor([1.0, 2.0, quarter, *extra], dtype=dtype)
    h = torch.tensor([3.0, 4.0, math.pi, *extra], dtype=dtype)

    # (x, g)(y, h) = (x + g·y, gh): (1, 2) + R90 (3, 4) = (-3, 5), 90° + 180°.
    got = _expect_tensor("product(g, h)", group.product(g, h), g.shape, dtype)
    expected = torch.tensor([-3.0, 5.0, 1.5 * math.pi, *extra], dtype=dtype)
    mistakes = {
        (4.0, 6.0): "the translation part of (x, g)(y, h) is x + g·y: rotate y by "
        "g before adding it.",
        (1.0, 5.0): "the translation part is x + g·y, not g·x + y.",
        (5.0, -1.0): "the translation part is x + g·y: rotate y by g, not by g⁻¹.",
    }
    hint = "(x, g)(y, h) = (x + g·y, gh)."
    for translation, text in mistakes.items():
        if torch.allclose(got[:2], torch.tensor(translation, dtype=dtype)):
            hint = "It looks like " + text
    _expect_close(
        got[None],
        expected[None],
        kind,
        lambda i: f"product({kind.describe(g)}, {kind.describe(h)})",
        hint,
    )

    # (x, g)⁻¹ = (-g⁻¹·x, g⁻¹): -R(-90°)(1, 2) = (-2, 1), angle 270°.
    got = _expect_tensor("inverse(g)", group.inverse(g), g.shape, dtype)
    expected = torch.tensor([-2.0, 1.0, 1.5 * math.pi, *extra], dtype=dtype)
    if torch.allclose(got[:2], -g[:2]):
        hint = "(x, g)⁻¹ is (−g⁻¹·x, g⁻¹), not (−x, g⁻¹)."
    elif torch.allclose(got[:2], torch.tensor([2.0, -1.0], dtype=dtype)):
        hint = "(x, g)⁻¹ is (−g⁻¹·x, g⁻¹): rotate by g⁻¹, not by g."
    else:
        hint = "Solve (x, g)(y, h) = (0, e) for (y, h): (x, g)⁻¹ = (−g⁻¹·x, g⁻¹)."
    _expect_close(
        got[None], expected[None], kind, lambda i: f"inverse({kind.describe(g)})", hint
    )

    # (x, g)·p = x + g·p: (1, 2) + R90 (1, 0) = (1, 3).
    p = torch.tensor([1.0, 0.0], dtype=dtype)
    got = _expect_tensor(
        "left_action_on_R2(g, p)", group.left_action_on_R2(g, p), (2,), dtype
    )
    _compare_points(
        got[None],
        torch.tensor([[1.0, 3.0]], dtype=dtype),
        lambda i: f"left_action_on_R2({kind.describe(g)}, (1, 0))",
        "(x, g)·p = x + g·p: rotate p first, then translate.",
    )

    expected = torch.tensor(
        [[0.0, -1.0, 1.0], [1.0, 0.0, 2.0], [0.0, 0.0, 1.0]], dtype=dtype
    )
    _expect_matrices_close(
        _expect_tensor(
            "matrix_representation(g)", group.matrix_representation(g), (3, 3), dtype
        )[None],
        expected[None],
        lambda i: f"matrix_representation({kind.describe(g)})",
        "The matrix of (x, g) is [[M_g, x], [0, 0, 1]] (homogeneous coordinates).",
    )


# ----------------------------------------------------------------------------
# The left-regular representation on planar signals
# ----------------------------------------------------------------------------


def _translate(f: Tensor, tx: int, ty: int) -> Tensor:
    """``(L_t f)(p) = f(p - t)`` for an integer translation, zeros coming in.

    With x pointing right and y up, pixel ``(i, j)`` of the result is pixel
    ``(i + ty, j - tx)`` of ``f``.
    """
    height, width = f.shape[-2:]
    out = torch.zeros_like(f)
    i0, i1 = max(0, -ty), min(height, height - ty)
    j0, j1 = max(0, tx), min(width, width + tx)
    if i0 < i1 and j0 < j1:
        out[..., i0:i1, j0:j1] = f[..., i0 + ty : i1 + ty, j0 - tx : j1 - tx]
    return out


def _rot90(f: Tensor, k: int) -> Tensor:
    return torch.rot90(f, k, dims=(-2, -1))


def _flip(f: Tensor) -> Tensor:
    return torch.flip(f, dims=(-2,))


def _expect_image(
    what: str,
    got: Any,
    expected: Tensor,
    wrong: Sequence[tuple[Tensor, str]] = (),
) -> None:
    """``got`` must equal ``expected`` exactly; recognise known mistakes."""
    got = _expect_tensor(what, got, expected.shape, expected.dtype)
    if torch.equal(got, expected):
        return
    for candidate, hint in wrong:
        if torch.allclose(got, candidate, atol=1e-5):
            _fail(f"{what} is not the expected image: {hint}")
    diff = (got - expected).abs()
    worst = float(diff.max())
    width = diff.shape[-1]
    where = divmod(int(diff.argmax()) % (diff.shape[-2] * width), width)
    if worst <= 1e-3:
        _fail(
            f"{what} is close to the expected image (max |difference| "
            f"{worst:.1e}) but not an exact copy of pixels: read the values "
            "with sample_signal at the points g⁻¹·p of pixel_grid; it snaps "
            "points within 1e-4 pixel of a pixel centre, so 90° rotations, "
            "reflections and integer translations are exact"
        )
    _fail(
        f"{what} differs from the expected image by up to {worst:.3g} (at "
        f"pixel (row, column) = {where}). (L_g f)(p) = f(g⁻¹·p) on the "
        "grid of pixel_grid: x = j - (W-1)/2 to the right, y = (H-1)/2 - i up. "
        "It relies on inverse and left_action_on_R2: make the group checks above "
        "pass first"
    )


def _images(height: int, width: int, batch: int = 2) -> Tensor:
    gen = torch.Generator().manual_seed(_SEED + 7 * height + width)
    return torch.rand(batch, height, width, generator=gen)  # [B, H, W]


def check_left_regular_representation(
    CyclicGroup: type,
    SO2: type,
    DihedralGroup: type,
    RotoTranslationGroup: type,
) -> None:
    """Check ``left_regular_representation`` on planar signals.

    Exact cases (rotations by multiples of 90° on square images, reflections,
    integer translations) must be exact pixel copies; a smooth signal rotated
    by an arbitrary angle must match the rotated formula up to interpolation.

    Raises:
        CheckFailed: naming the property that failed, the element and a hint.
    """
    title = "left-regular representation"
    c4 = _guard(title, "construction", lambda: CyclicGroup(4))
    d4 = _guard(title, "construction", lambda: DihedralGroup(4))
    so2 = _guard(title, "construction", SO2)
    se = _guard(title, "construction", lambda: RotoTranslationGroup(CyclicGroup(4)))
    _run(
        title,
        [
            ("identity", lambda: _check_regular_identity(c4)),
            ("rotation by 90°", lambda: _check_regular_quarter(c4)),
            ("all of C_4", lambda: _check_regular_c4(c4)),
            ("reflections of D_4", lambda: _check_regular_d4(d4)),
            ("rectangular images", lambda: _check_regular_rectangle(c4, d4)),
            ("translations", lambda: _check_regular_translations(se)),
            ("homomorphism", lambda: _check_regular_homomorphism(d4)),
            ("batch shapes", lambda: _check_regular_shapes(c4)),
            ("dtypes", lambda: _check_regular_dtypes(c4)),
            ("SO(2) at 90°", lambda: _check_regular_so2_quarter(so2)),
            ("SO(2) at other angles", lambda: _check_regular_so2_smooth(so2)),
        ],
    )


def _c4(k: int, dtype: torch.dtype = torch.float32) -> Tensor:
    return _expected_elements(4, False, dtype)[k]


def _check_regular_identity(c4: Any) -> None:
    f = _images(7, 7)
    _expect_image("L_e f (e = identity)", c4.left_regular_representation(_c4(0), f), f)


def _check_regular_quarter(c4: Any) -> None:
    for size in (7, 8):
        f = _images(size, size)
        _expect_image(
            f"L_g f for g = 90° on a {size}×{size} image",
            c4.left_regular_representation(_c4(1), f),
            _rot90(f, 1),
            [
                (
                    _rot90(f, -1),
                    "it is rotated clockwise; (L_g f)(p) = f(g⁻¹·p) "
                    "turns the content counter-clockwise: use the inverse of g",
                ),
                (
                    f.transpose(-2, -1),
                    "it is transposed; mind that row i runs "
                    "down (y = (H-1)/2 - i) and column j to the right",
                ),
            ],
        )


def _check_regular_c4(c4: Any) -> None:
    f = _images(7, 7)
    g = _expected_elements(4, False, torch.float32)[:, None]  # [4, 1, 1]
    expected = torch.stack([_rot90(f, k) for k in range(4)])  # [4, B, H, W]
    _expect_image(
        "L_g f for all g in C_4 at once (g [4, 1, 1], f [2, 7, 7])",
        c4.left_regular_representation(g, f),
        expected,
    )


def _check_regular_d4(d4: Any) -> None:
    f = _images(8, 8)
    m = _expected_elements(4, True, torch.float32)[4]
    _expect_image(
        "L_m f for the reflection m = (0, 1)",
        d4.left_regular_representation(m, f),
        _flip(f),
        [
            (
                torch.flip(f, dims=(-1,)),
                "it is mirrored left-right; m is "
                "(x, y) -> (x, -y), which flips the image upside down",
            )
        ],
    )
    g = _expected_elements(4, True, torch.float32)[:, None]  # [8, 1, 2]
    expected = torch.stack(
        [_rot90(f, k) for k in range(4)] + [_rot90(_flip(f), k) for k in range(4)]
    )  # [8, B, H, W]
    _expect_image(
        "L_g f for all g in D_4 at once (g [8, 1, 2], f [2, 8, 8])",
        d4.left_regular_representation(g, f),
        expected,
    )


def _check_regular_rectangle(c4: Any, d4: Any) -> None:
    f = _images(6, 9)
    _expect_image(
        "L_g f for g = 180° on a 6×9 image",
        c4.left_regular_representation(_c4(2), f),
        _rot90(f, 2),
    )
    m = _expected_elements(4, True, torch.float32)[4]
    _expect_image(
        "L_m f for the reflection m on a 6×9 image",
        d4.left_regular_representation(m, f),
        _flip(f),
    )


def _check_regular_translations(se: Any) -> None:
    f = _images(7, 9)
    for tx, ty in ((1, 0), (0, 1), (2, -3)):
        g = torch.tensor([float(tx), float(ty), 0.0])
        _expect_image(
            f"L_g f for the translation g = (x=({tx}, {ty}), θ=0)",
            se.left_regular_representation(g, f),
            _translate(f, tx, ty),
            [
                (
                    _translate(f, -tx, -ty),
                    "it moved the wrong way; (L_g f)(p) = "
                    "f(g⁻¹·p) moves the content by +x (x to the right, y up): use the "
                    "inverse of g",
                )
            ],
        )
    g = torch.tensor([1.0, 0.0, math.pi / 2])
    f = _images(7, 7)
    _expect_image(
        "L_g f for g = (x=(1, 0), θ=π/2)",
        se.left_regular_representation(g, f),
        _translate(_rot90(f, 1), 1, 0),
    )


def _check_regular_homomorphism(d4: Any) -> None:
    """L_g L_h f = L_{gh} f for all pairs of D_4 (exact on a square grid)."""
    f = _images(7, 7, batch=1)[0]  # [H, W]
    elements = _expected_elements(4, True, torch.float32)  # [8, 2]
    l_h = d4.left_regular_representation(elements, f)  # [8, H, W]
    l_g_l_h = d4.left_regular_representation(elements[:, None], l_h)  # [8, 8, H, W]
    gh = d4.product(elements[:, None], elements[None])  # [8, 8, 2]
    l_gh = d4.left_regular_representation(gh, f)  # [8, 8, H, W]
    got = _expect_tensor("L_g (L_h f) for all pairs of D_4", l_g_l_h, (8, 8, 7, 7))
    expected = _expect_tensor("L_gh f for all pairs of D_4", l_gh, (8, 8, 7, 7))
    bad = (got != expected).flatten(2).any(dim=-1)  # [8, 8]
    if bad.any():
        i, j = (int(v) for v in bad.nonzero()[0])
        _fail(
            f"L_g (L_h f) differs from L_(gh) f for g = {elements[i].tolist()}, "
            f"h = {elements[j].tolist()} of D_4: the left-regular representation "
            "must be a homomorphism; it is one only with g⁻¹ in "
            "(L_g f)(p) = f(g⁻¹·p)"
        )


def _check_regular_shapes(c4: Any) -> None:
    f = _images(5, 5, batch=3)  # [3, H, W]
    g = _expected_elements(4, False, torch.float32)  # [4, 1]
    cases = [
        ("g [D], f [H, W]", g[1], f[0], (5, 5)),
        ("g [4, D], f [H, W]", g, f[0], (4, 5, 5)),
        ("g [D], f [2, 3, H, W]", g[1], f.expand(2, 3, 5, 5), (2, 3, 5, 5)),
        ("g [4, 1, D], f [3, H, W]", g[:, None], f, (4, 3, 5, 5)),
    ]
    for what, g_in, f_in, shape in cases:
        _expect_tensor(
            f"left_regular_representation with {what}",
            c4.left_regular_representation(g_in, f_in),
            shape,
        )
    _expect_image(
        "left_regular_representation with g [3, D], f [3, H, W] (g[i] acts on f[i])",
        c4.left_regular_representation(g[1:], f),
        torch.stack([_rot90(f[i], i + 1) for i in range(3)]),
    )


def _check_regular_dtypes(c4: Any) -> None:
    for dtype in (torch.float32, torch.float64):
        f = _images(6, 6).to(dtype)
        _expect_image(
            f"L_g f for g = 270° with {dtype} g and f",
            c4.left_regular_representation(_c4(3, dtype), f),
            _rot90(f, 3),
        )


def _check_regular_so2_quarter(so2: Any) -> None:
    f = _images(9, 9)
    g = torch.tensor([math.pi / 2])
    _expect_image(
        "L_g f for g = π/2 in SO(2)",
        so2.left_regular_representation(g, f),
        _rot90(f, 1),
    )


def _smooth_blob(points: Tensor) -> Tensor:
    """An elongated Gaussian (not rotation invariant) at points ``[..., 2]``."""
    x, y = points[..., 0], points[..., 1]
    return torch.exp(-0.5 * ((x - 2) ** 2 / 25 + (y + 1) ** 2 / 6.25))


def _check_regular_so2_smooth(so2: Any) -> None:
    size, theta = 33, 0.5
    axis = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    grid = torch.stack(torch.broadcast_tensors(axis[None, :], -axis[:, None]), -1)
    f = _smooth_blob(grid)  # [H, W]
    c, s = math.cos(theta), math.sin(theta)
    turned = torch.tensor([[c, s], [-s, c]], dtype=torch.float64)  # R(-θ)
    expected = _smooth_blob(grid @ turned.T)  # f(R(-θ) p)
    clockwise = _smooth_blob(grid @ turned)  # f(R(θ) p)
    got = _expect_tensor(
        f"L_g f for g = {theta} rad in SO(2)",
        so2.left_regular_representation(torch.tensor([theta], dtype=torch.float64), f),
        (size, size),
        torch.float64,
    )
    error = float((got - expected).norm() / expected.norm())
    if error > 0.05:
        wrong = float((got - clockwise).norm() / clockwise.norm())
        hint = (
            "it matches a clockwise rotation: use g⁻¹ in (L_g f)(p) = f(g⁻¹·p)"
            if wrong < 0.05
            else "(L_g f)(p) = f(g⁻¹·p), read with sample_signal (bilinear)"
        )
        _fail(
            f"L_g f for a smooth image and g = {theta} rad differs from the "
            f"rotated image by {error:.1%} (relative, tolerance 5% for "
            f"interpolation): {hint}"
        )
