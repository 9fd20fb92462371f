"""Tests of gedl_ref.groups and gedl_ref.grid against docs/conventions.md.

Tolerances. Exact comparisons (``torch.equal``) are used wherever the
conventions promise bit-exact results: snapped C_N / D_N parameters and the
left-regular representation of elements that map pixel centres to pixel
centres. Elsewhere elements are compared through their matrices, whose
entries are at most ~30 in size (translations drawn in [-8, 8]² and composed
up to three times); a handful of float operations on such numbers err by a
few ulp of 30, i.e. ~1e-5 in float32 and ~1e-14 in float64, so we allow
``ATOL[float32] = 1e-4`` and ``ATOL[float64] = 1e-10``.
"""

from __future__ import annotations

import math
import zlib

import pytest
import torch

from gedl_ref.grid import pixel_grid, sample_signal
from gedl_ref.groups import (
    SE2,
    SO2,
    CyclicGroup,
    DihedralGroup,
    GroupBase,
    RotoTranslationGroup,
)

ATOL = {torch.float32: 1e-4, torch.float64: 1e-10}
BATCH = 64

GROUPS = [
    pytest.param(lambda: CyclicGroup(1), id="C1"),
    pytest.param(lambda: CyclicGroup(4), id="C4"),
    pytest.param(lambda: CyclicGroup(5), id="C5"),
    pytest.param(lambda: CyclicGroup(8), id="C8"),
    pytest.param(lambda: DihedralGroup(4), id="D4"),
    pytest.param(lambda: DihedralGroup(6), id="D6"),
    pytest.param(SO2, id="SO2"),
    pytest.param(SE2, id="SE2"),
    pytest.param(lambda: RotoTranslationGroup(CyclicGroup(4)), id="R2xC4"),
    pytest.param(lambda: RotoTranslationGroup(DihedralGroup(4)), id="R2xD4"),
]
FINITE_GROUPS = GROUPS[:6]
DTYPES = [
    pytest.param(torch.float32, id="float32"),
    pytest.param(torch.float64, id="float64"),
]


@pytest.fixture
def generator(request: pytest.FixtureRequest) -> torch.Generator:
    """A generator seeded from the test id: fixed per test, distinct across."""
    seed = zlib.crc32(request.node.nodeid.encode())
    return torch.Generator().manual_seed(seed)


@pytest.fixture(params=GROUPS)
def group(request: pytest.FixtureRequest) -> GroupBase:
    return request.param()


@pytest.fixture(params=DTYPES)
def dtype(request: pytest.FixtureRequest) -> torch.dtype:
    return request.param


def assert_same_element(group: GroupBase, a: torch.Tensor, b: torch.Tensor) -> None:
    """Assert that two batches of parameters are the same group elements.

    Finite groups have unique snapped parameters, so they must match exactly.
    Otherwise angles may differ by 2π near the wrap point, so compare the
    (faithful) matrix representations.
    """
    __tracebackhide__ = True
    if group.order is not None:
        torch.testing.assert_close(a, b, rtol=0, atol=0)
        return
    torch.testing.assert_close(
        group.matrix_representation(a),
        group.matrix_representation(b),
        rtol=0,
        atol=ATOL[a.dtype],
    )


def rotation_part(group: GroupBase, g: torch.Tensor) -> tuple[GroupBase, torch.Tensor]:
    """The rotation group H and the H-parameters of g (g itself if not R² ⋊ H)."""
    if isinstance(group, RotoTranslationGroup):
        return group.rotations, g[..., 2:]
    return group, g


# ----------------------------------------------------------------------------
# Attributes, identity, elements, sampling
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "dimension", "order", "name"),
    [
        (lambda: CyclicGroup(5), 1, 5, "C5"),
        (lambda: DihedralGroup(6), 2, 12, "D6"),
        (SO2, 1, None, "SO2"),
        (SE2, 3, None, "R2⋊SO2"),
        (lambda: RotoTranslationGroup(DihedralGroup(4)), 4, None, "R2⋊D4"),
    ],
    ids=["C5", "D6", "SO2", "SE2", "R2xD4"],
)
def test_attributes(make, dimension, order, name) -> None:
    group = make()
    assert (group.dimension, group.order, group.name) == (dimension, order, name)
    assert eval(repr(group)) == group  # the repr rebuilds the group


def test_identity_is_neutral(group, dtype, generator) -> None:
    e = group.identity(dtype=dtype)
    assert e.shape == (group.dimension,) and e.dtype == dtype
    g = group.sample(BATCH, generator, dtype=dtype)
    assert_same_element(group, group.product(e, g), g)
    assert_same_element(group, group.product(g, e), g)
    x = torch.randn(BATCH, 2, generator=generator, dtype=dtype)
    assert torch.equal(group.left_action_on_R2(e, x), x)


@pytest.mark.parametrize("make", FINITE_GROUPS)
def test_elements_are_distinct_and_normalized(make, dtype) -> None:
    group = make()
    elements = group.elements(dtype=dtype)
    assert elements.shape == (group.order, group.dimension)
    assert elements.dtype == dtype
    assert torch.unique(elements, dim=0).shape[0] == group.order
    assert torch.equal(group.normalize_group_parameterization(elements), elements)
    matrices = group.matrix_representation(elements).flatten(-2)  # [G, 4]
    distance = torch.cdist(matrices, matrices) + torch.eye(group.order)
    assert distance.min() > 0.1  # distinct as transformations, not only as numbers


def test_dihedral_elements_order() -> None:
    k = torch.arange(3, dtype=torch.float64)
    theta = k * (2 * math.pi / 3)
    s = torch.tensor([0.0, 0.0, 0.0, 1.0, 1.0, 1.0], dtype=torch.float64)
    expected = torch.stack((theta.repeat(2), s), -1)
    assert torch.equal(DihedralGroup(3).elements(dtype=torch.float64), expected)


@pytest.mark.parametrize("make", GROUPS[6:])
def test_infinite_group_has_no_elements(make) -> None:
    group = make()
    with pytest.raises(NotImplementedError, match="infinite.*use sample()"):
        group.elements()


def test_sample_shape_dtype_and_seed(group, dtype, generator) -> None:
    g = group.sample((3, 4), generator, dtype=dtype)
    assert g.shape == (3, 4, group.dimension) and g.dtype == dtype
    again = group.sample((3, 4), torch.Generator().manual_seed(7), dtype=dtype)
    assert torch.equal(
        again, group.sample((3, 4), torch.Generator().manual_seed(7), dtype=dtype)
    )
    h_group, h = rotation_part(group, g)
    assert torch.equal(h_group.normalize_group_parameterization(h), h)
    if isinstance(group, RotoTranslationGroup):
        assert g[..., :2].abs().max() <= 8.0


@pytest.mark.parametrize("translation_range", [None, 2.5], ids=["default", "2.5"])
def test_sample_translation_range(translation_range, generator) -> None:
    # 1000 uniform draws per coordinate: the extreme 5% of each end of the
    # interval are missed with probability 0.95**1000 < 1e-22.
    kwargs = {} if translation_range is None else {"translation_range": 2.5}
    r = 8.0 if translation_range is None else translation_range
    t = SE2().sample(1000, generator, **kwargs)[..., :2]  # [1000, 2]
    assert t.abs().max() <= r
    assert (t.amin(0) < -0.9 * r).all() and (t.amax(0) > 0.9 * r).all()


# ----------------------------------------------------------------------------
# Group axioms and broadcasting
# ----------------------------------------------------------------------------


def test_associativity(group, dtype, generator) -> None:
    g, h, k = group.sample((3, BATCH), generator, dtype=dtype)
    left = group.product(group.product(g, h), k)
    right = group.product(g, group.product(h, k))
    assert_same_element(group, left, right)


def test_inverse(group, dtype, generator) -> None:
    g = group.sample(BATCH, generator, dtype=dtype)
    g_inv = group.inverse(g)
    e = group.identity(dtype=dtype).expand_as(g)
    assert_same_element(group, group.product(g, g_inv), e)
    assert_same_element(group, group.product(g_inv, g), e)
    assert_same_element(group, group.inverse(g_inv), g)


def test_broadcasting(group, dtype, generator) -> None:
    g = group.sample((5, 1), generator, dtype=dtype)
    h = group.sample((1, 7), generator, dtype=dtype)
    gh = group.product(g, h)
    assert gh.shape == (5, 7, group.dimension) and gh.dtype == dtype
    expanded = group.product(g.expand(5, 7, -1), h.expand(5, 7, -1))
    assert torch.equal(gh, expanded)
    x = torch.randn(1, 7, 2, generator=generator, dtype=dtype)
    assert group.left_action_on_R2(g, x).shape == (5, 7, 2)
    assert group.matrix_representation(g).dtype == dtype


def test_action_is_compatible_with_product(group, dtype, generator) -> None:
    g, h = group.sample((2, BATCH), generator, dtype=dtype)
    x = torch.randn(BATCH, 2, generator=generator, dtype=dtype)
    torch.testing.assert_close(
        group.left_action_on_R2(group.product(g, h), x),
        group.left_action_on_R2(g, group.left_action_on_R2(h, x)),
        rtol=0,
        atol=ATOL[dtype],
    )


# ----------------------------------------------------------------------------
# Angle wrapping and snapping
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("make", GROUPS)
def test_angles_wrap_into_zero_two_pi(make, dtype) -> None:
    group = make()
    h_group, _ = rotation_part(group, group.identity())
    angles = torch.tensor(
        [-1e-9, -1e-30, -2 * math.pi, -7.5, 4 * math.pi, 1000.3, 2 * math.pi, 3.0],
        dtype=dtype,
    )
    g = group.identity(dtype=dtype).repeat(len(angles), 1)
    offset = group.dimension - h_group.dimension  # 2 for R² ⋊ H, else 0
    g[:, offset] = angles
    theta = group.normalize_group_parameterization(g)[:, offset]
    assert ((theta >= 0) & (theta < 2 * math.pi)).all(), theta
    if h_group.order is None:  # same rotation: cos and sin unchanged
        torch.testing.assert_close(theta.cos(), angles.cos(), rtol=0, atol=1e-4)
        torch.testing.assert_close(theta.sin(), angles.sin(), rtol=0, atol=1e-4)


def test_float32_tiny_negative_angle_is_zero() -> None:
    # torch.remainder(-1e-9, 2π) rounds to exactly 2π in float32.
    g = torch.tensor([[-1e-9]], dtype=torch.float32)
    assert SO2().normalize_group_parameterization(g).item() == 0.0
    assert SO2().inverse(torch.tensor([[1e-9]])).item() == 0.0


@pytest.mark.parametrize("order", [1, 4, 5, 8], ids=["C1", "C4", "C5", "C8"])
def test_cyclic_snapping_of_winding_angles(order, dtype) -> None:
    group = CyclicGroup(order)
    k = torch.arange(order, dtype=dtype)
    for turns in (-3, 5, 100):
        theta = (k + turns * order) * (2 * math.pi / order) + 1e-3
        snapped = group.normalize_group_parameterization(theta[:, None])
        assert torch.equal(snapped, group.elements(dtype=dtype))


@pytest.mark.parametrize("make", FINITE_GROUPS)
def test_finite_products_are_bit_exact_elements(make, dtype) -> None:
    group = make()
    elements = group.elements(dtype=dtype)  # [G, D]
    table = group.product(elements[:, None], elements[None, :])  # [G, G, D]
    table = torch.cat((table, group.inverse(elements)[None]))  # [G + 1, G, D]
    # each entry equals, bit for bit, exactly one row of elements()
    matches = (table[:, :, None, :] == elements).all(-1)  # [G + 1, G, G]
    assert (matches.sum(-1) == 1).all()


def test_cyclic_product_table(dtype) -> None:
    elements = CyclicGroup(8).elements(dtype=dtype)
    table = CyclicGroup(8).product(elements[:, None], elements[None, :])
    i = torch.arange(8)
    assert torch.equal(table, elements[(i[:, None] + i[None, :]) % 8])


def test_dihedral_flag_is_snapped() -> None:
    group = DihedralGroup(4)
    g = torch.tensor([[0.0, 0.9999999], [math.pi / 2, 3.0], [0.0, -1.0]])
    expected = torch.tensor([[0.0, 1.0], [math.pi / 2, 1.0], [0.0, 1.0]])
    assert torch.equal(group.normalize_group_parameterization(g), expected)


def test_roto_translation_rotation_part_is_snapped(generator) -> None:
    group = RotoTranslationGroup(CyclicGroup(4))
    g, h = group.sample((2, BATCH), generator)
    angles = group.product(g, h)[..., 2:]  # [B, 1]
    assert (angles == CyclicGroup(4).elements().T).any(-1).all()


# ----------------------------------------------------------------------------
# Matrix representation
# ----------------------------------------------------------------------------


def test_matrix_representation_is_homomorphism(group, dtype, generator) -> None:
    g, h = group.sample((2, BATCH), generator, dtype=dtype)
    m = group.matrix_representation
    torch.testing.assert_close(
        m(group.product(g, h)), m(g) @ m(h), rtol=0, atol=ATOL[dtype]
    )


def test_matrix_representation_agrees_with_action(group, dtype, generator) -> None:
    g = group.sample(BATCH, generator, dtype=dtype)
    x = torch.randn(BATCH, 2, generator=generator, dtype=dtype)
    m = group.matrix_representation(g)
    if isinstance(group, RotoTranslationGroup):
        assert m.shape == (BATCH, 3, 3)
        x_h = torch.cat((x, torch.ones_like(x[..., :1])), -1)  # homogeneous [B, 3]
        y = (m @ x_h[..., None])[..., 0]  # [B, 3]
        assert torch.equal(y[..., 2], torch.ones_like(y[..., 2]))
        y = y[..., :2]
    else:
        assert m.shape == (BATCH, 2, 2)
        y = (m @ x[..., None])[..., 0]  # [B, 2]
    expected = group.left_action_on_R2(g, x)
    torch.testing.assert_close(y, expected, rtol=0, atol=ATOL[dtype])


def test_dihedral_matrix_convention() -> None:
    m = DihedralGroup(4).matrix_representation(torch.tensor([math.pi / 2, 1.0]))
    expected = torch.tensor([[0.0, 1.0], [1.0, 0.0]])  # R(90°) @ diag(1, -1)
    torch.testing.assert_close(m, expected, rtol=0, atol=1e-7)


# ----------------------------------------------------------------------------
# Left-regular representation on planar signals
# ----------------------------------------------------------------------------


def shift(f: torch.Tensor, tx: int, ty: int) -> torch.Tensor:
    """(T f)(x, y) = f(x - tx, y - ty): right by tx columns, up by ty rows.

    out[i, j] = f[i + ty, j - tx] where that pixel exists, else zero.
    """
    out = torch.zeros_like(f)
    height, width = f.shape[-2:]
    i0, i1 = max(0, -ty), min(height, height - ty)
    j0, j1 = max(0, tx), min(width, width + tx)
    if i0 < i1 and j0 < j1:
        out[..., i0:i1, j0:j1] = f[..., i0 + ty : i1 + ty, j0 - tx : j1 - tx]
    return out


@pytest.mark.parametrize("size", [8, 9], ids=["8x8", "9x9"])
def test_c4_rotation_is_rot90(size, dtype, generator) -> None:
    group = CyclicGroup(4)
    f = torch.randn(2, 3, size, size, generator=generator, dtype=dtype)
    for k, g in enumerate(group.elements(dtype=dtype)):
        rotated = group.left_regular_representation(g, f)
        assert torch.equal(rotated, torch.rot90(f, k, (-2, -1))), k


def test_so2_right_angle_is_rot90(dtype, generator) -> None:
    f = torch.randn(3, 10, 10, generator=generator, dtype=dtype)
    g = torch.tensor([math.pi / 2], dtype=dtype)  # cos(g) is not exactly 0
    rotated = SO2().left_regular_representation(g, f)
    assert torch.equal(rotated, torch.rot90(f, 1, (-2, -1)))


@pytest.mark.parametrize("low", [torch.float16, torch.bfloat16], ids=str)
def test_low_precision_right_angle_is_exact(low, generator) -> None:
    # 2π/4 is off by ~5e-4 in float16; the grid snap must still make it exact.
    group = RotoTranslationGroup(DihedralGroup(4))
    f = torch.randn(2, 9, 9, generator=generator).to(low)
    g = torch.tensor([1.0, -2.0, math.pi / 2, 1.0], dtype=low)  # t r m
    expected = shift(torch.rot90(torch.flip(f, (-2,)), 1, (-2, -1)), 1, -2)
    out = group.left_regular_representation(g, f)
    assert out.dtype == low and torch.equal(out, expected)


def test_d4_reflection_is_flip(dtype, generator) -> None:
    group = DihedralGroup(4)
    f = torch.randn(2, 9, 9, generator=generator, dtype=dtype)
    for k in range(4):
        g = torch.tensor([k * math.pi / 2, 1.0], dtype=dtype)  # r_k m
        expected = torch.rot90(torch.flip(f, (-2,)), k, (-2, -1))
        assert torch.equal(group.left_regular_representation(g, f), expected), k


@pytest.mark.parametrize(
    ("tx", "ty"),
    [(3, 0), (0, -2), (-4, 5), (20, 0)],
    ids=["right3", "down2", "left4-up5", "out-of-image"],
)
def test_integer_translation_is_shift(tx, ty, dtype, generator) -> None:
    group = RotoTranslationGroup(CyclicGroup(4))
    f = torch.randn(2, 9, 11, generator=generator, dtype=dtype)
    g = torch.tensor([tx, ty, 0.0], dtype=dtype)
    assert torch.equal(group.left_regular_representation(g, f), shift(f, tx, ty))


def test_se2_rotation_then_translation(dtype, generator) -> None:
    f = torch.randn(9, 9, generator=generator, dtype=dtype)
    g = torch.tensor([2.0, -1.0, math.pi / 2], dtype=dtype)  # p -> t + r p
    expected = shift(torch.rot90(f, 1, (-2, -1)), 2, -1)
    assert torch.equal(SE2().left_regular_representation(g, f), expected)


@pytest.mark.parametrize(
    ("height", "width"), [(21, 25), (20, 24), (25, 21)], ids=["21x25", "20x24", "25x21"]
)
def test_rotation_on_non_square_grid(height, width, dtype, generator) -> None:
    # Embed the image centred in a square, rotate that exactly, crop back.
    f = torch.randn(2, height, width, generator=generator, dtype=dtype)
    side = max(height, width)
    pad_rows, pad_cols = (side - height) // 2, (side - width) // 2
    square = torch.nn.functional.pad(f, (pad_cols, pad_cols, pad_rows, pad_rows))
    expected = torch.rot90(square, 1, (-2, -1))
    expected = expected[..., pad_rows : pad_rows + height, pad_cols : pad_cols + width]
    g = torch.tensor([math.pi / 2], dtype=dtype)
    assert torch.equal(CyclicGroup(4).left_regular_representation(g, f), expected)


@pytest.mark.parametrize("make", [GROUPS[1], GROUPS[4]])  # C4, D4
def test_left_regular_is_exact_homomorphism(make, dtype, generator) -> None:
    group = make()
    f = torch.randn(8, 8, generator=generator, dtype=dtype)
    elements = group.elements(dtype=dtype)  # [G, D]
    gh = group.product(elements[:, None], elements[None, :])  # [G, G, D]
    l_h_f = group.left_regular_representation(elements, f)  # [G, H, W]
    l_g_l_h_f = group.left_regular_representation(elements[:, None], l_h_f)
    assert torch.equal(group.left_regular_representation(gh, f), l_g_l_h_f)


def smooth_disk_image(size: int, dtype: torch.dtype) -> torch.Tensor:
    """A smooth, off-centre blob times a soft disk mask of radius size / 3."""
    p = pixel_grid(size, size, dtype=dtype)  # [H, W, 2]
    x, y = p[..., 0], p[..., 1]
    blob = torch.exp(-((x - 2) ** 2 + (y + 1) ** 2) / 40) * (1 + 0.5 * torch.cos(x / 3))
    mask = torch.sigmoid(size / 3 - torch.sqrt(x**2 + y**2))  # soft edge, 1 pixel
    return blob * mask


def test_c8_is_approximately_a_representation(dtype) -> None:
    # Bilinear interpolation errs by at most h²/8 · max|f''| per sampling. The
    # image varies on a scale of ~4 pixels (|f''| ≲ 0.1 relative to max|f|),
    # so one resampling errs by ~1% and L_g L_h f vs L_{gh} f by ~2-3% (2.4%
    # measured). A 5% bound (relative to max|f|) leaves margin but still
    # catches a wrong angle (29%) or a wrong direction of rotation (46%).
    group = CyclicGroup(8)
    f = smooth_disk_image(33, dtype)
    r45 = group.elements(dtype=dtype)[1]
    twice = group.left_regular_representation(
        r45, group.left_regular_representation(r45, f)
    )
    once = group.left_regular_representation(group.product(r45, r45), f)
    assert (twice - once).abs().max() < 0.05 * f.abs().max()


def test_identity_acts_trivially(group, dtype, generator) -> None:
    f = torch.randn(2, 7, 12, generator=generator, dtype=dtype)
    e = group.identity(dtype=dtype)
    assert torch.equal(group.left_regular_representation(e, f), f)


def test_left_regular_broadcasting(generator) -> None:
    group = DihedralGroup(4)
    g = group.elements()[:, None]  # [8, 1, D]
    f = torch.randn(3, 6, 6, generator=generator)  # [3, H, W]
    out = group.left_regular_representation(g, f)
    assert out.shape == (8, 3, 6, 6)
    assert torch.equal(out[5, 2], group.left_regular_representation(g[5, 0], f[2]))


def test_left_regular_keeps_signal_dtype(generator) -> None:
    f = torch.randn(5, 5, generator=generator, dtype=torch.float64)
    g = CyclicGroup(4).elements(dtype=torch.float32)[1]
    out = CyclicGroup(4).left_regular_representation(g, f)
    assert out.dtype == torch.float64
    assert torch.equal(out, torch.rot90(f, 1, (-2, -1)))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_keeps_device_and_exactness(group, generator) -> None:
    g = group.sample(BATCH, generator, device="cuda")
    assert g.device.type == "cuda"
    for out in (group.product(g, g), group.inverse(g), group.matrix_representation(g)):
        assert out.device.type == "cuda"
    f = torch.randn(2, 9, 9, generator=generator).cuda()
    e = group.identity(device="cuda")
    assert torch.equal(group.left_regular_representation(e, f), f)


# ----------------------------------------------------------------------------
# pixel_grid and sample_signal
# ----------------------------------------------------------------------------


def test_pixel_grid_convention(dtype) -> None:
    grid = pixel_grid(3, 4, dtype=dtype)
    assert grid.shape == (3, 4, 2) and grid.dtype == dtype
    assert grid[0, 0].tolist() == [-1.5, 1.0]  # top-left: x left, y up
    assert grid[2, 3].tolist() == [1.5, -1.0]  # bottom-right


def test_sample_signal_snaps_to_pixel_centres(dtype, generator) -> None:
    f = torch.randn(2, 6, 7, generator=generator, dtype=dtype)
    grid = pixel_grid(6, 7, dtype=dtype)
    jitter = torch.empty_like(grid).uniform_(-9e-5, 9e-5, generator=generator)
    assert torch.equal(sample_signal(f, grid + jitter), f)


def test_sample_signal_bilinear_and_zero_outside(dtype) -> None:
    f = torch.arange(12, dtype=dtype).reshape(3, 4)
    points = torch.tensor(
        [
            [-1.0, 1.0],  # between pixels (0, 0) and (0, 1): 0.5
            [-1.5, 0.5],  # between rows 0 and 1 of column 0: (0 + 4) / 2
            [-0.25, 0.0],  # bilinear inside: 5.25
            [-2.0, 0.0],  # half a pixel left of (1, 0): half of 4
            [1.5, -1.5],  # half a pixel below (2, 3): half of 11
            [50.0, 0.0],  # far outside
            [float("nan"), 0.0],  # not a point
        ],
        dtype=dtype,
    )
    out = sample_signal(f, points[None])[0]  # [7]
    expected = torch.tensor([0.5, 2.0, 5.25, 2.0, 5.5, 0.0, 0.0], dtype=dtype)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)


def test_sample_signal_is_nan_safe(dtype) -> None:
    f = torch.ones(5, 5, dtype=dtype)
    f[2, 2] = float("nan")
    f[0, 4] = float("inf")
    out = sample_signal(f, pixel_grid(5, 5, dtype=dtype))
    assert torch.equal(out.isnan(), f.isnan()) and torch.equal(out.isinf(), f.isinf())
    between = torch.tensor([[[0.5, 0.0]]], dtype=dtype)  # next to the NaN
    assert sample_signal(f, between).isnan().all()


def test_sample_signal_broadcasts(generator) -> None:
    f = torch.randn(3, 1, 5, 5, generator=generator)  # [3, 1, Hf, Wf]
    points = torch.randn(4, 2, 6, 2, generator=generator) * 3  # [4, H, W, 2]
    out = sample_signal(f, points)
    assert out.shape == (3, 4, 2, 6)
    assert torch.equal(out[1, 2], sample_signal(f[1, 0], points[2]))


# ----------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: CyclicGroup(0), ValueError, "order must be an int >= 1, got 0"),
        (lambda: DihedralGroup(-2), ValueError, "order must be an int >= 1"),
        (lambda: CyclicGroup(2.5), TypeError, "order must be an int >= 1"),
        (lambda: DihedralGroup("4"), TypeError, "order must be an int >= 1"),
        (lambda: CyclicGroup(True), TypeError, "order must be an int >= 1"),
        (lambda: RotoTranslationGroup(SE2()), TypeError, "CyclicGroup, Dihedral"),
    ],
    ids=[
        "order-0",
        "order-negative",
        "order-float",
        "order-str",
        "order-bool",
        "R2xSE2",
    ],
)
def test_bad_constructor_arguments(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


def test_wrong_last_axis_is_rejected(group) -> None:
    bad = torch.zeros(4, group.dimension + 1)
    expected = rf"shape \[\.\.\., {group.dimension}\].*got shape \(4, "
    for call in (
        lambda: group.product(bad, bad),
        lambda: group.inverse(bad),
        lambda: group.normalize_group_parameterization(bad),
        lambda: group.matrix_representation(bad),
        lambda: group.left_regular_representation(bad, torch.zeros(3, 3)),
    ):
        with pytest.raises(ValueError, match=expected):
            call()
    with pytest.raises(ValueError, match=r"x must have shape \[\.\.\., 2\]"):
        group.left_action_on_R2(group.identity(), torch.zeros(4, 3))


def test_other_bad_input_is_rejected(group) -> None:
    e = group.identity()
    with pytest.raises(TypeError, match="floating dtype"):
        group.inverse(torch.zeros(group.dimension, dtype=torch.int64))
    with pytest.raises(TypeError, match="torch.Tensor"):
        group.inverse([0.0] * group.dimension)
    with pytest.raises(ValueError, match="do not broadcast"):
        group.product(e.expand(3, -1), e.expand(4, -1))
    with pytest.raises(TypeError, match="floating"):
        group.identity(dtype=torch.int32)
    with pytest.raises(ValueError, match="batch_shape"):
        group.sample((2, -1))


def test_sample_signal_rejects_bad_points() -> None:
    with pytest.raises(ValueError, match=r"points must have shape \[\.\.\., H, W, 2\]"):
        sample_signal(torch.zeros(4, 4), torch.zeros(4, 4, 3))
    with pytest.raises(ValueError, match="planar signal"):
        sample_signal(torch.zeros(4), torch.zeros(4, 4, 2))
    with pytest.raises(ValueError, match="do not broadcast"):
        sample_signal(torch.zeros(3, 4, 4), torch.zeros(2, 4, 4, 2))
