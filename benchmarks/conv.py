"""Speed of the reference group convolutions against one plain ``F.conv2d``.

For lifting and group convolutions on C4 and C8 this times, in the same run,

* the reference layer (kernel transformation + its one ``F.conv2d``), and
* one plain ``F.conv2d`` with the same input, a kernel of the expanded shape
  ``[C_out·G, C_in(·G), k, k]`` and a bias ``[C_out·G]``: the floor that any
  regular group convolution pays,

forward only and forward + backward (gradients of input, weight and bias), and
prints the medians and their ratio. Default sizes: B = 16, C_in = C_out = 16,
64 × 64 images, k = 5, float32, on the CPU (or the GPU when there is one).
The reference layer transforms its kernel on every call (no caching: in
training the weights change), so the ratio measures that overhead; the last
column times the kernel transformation alone (forward + backward), which is
the part of the overhead that does not depend on background load.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from gedl_ref.conv import GroupConvolution, LiftingConvolution
from gedl_ref.groups import CyclicGroup


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _paired_median_ms(
    first: Callable[[], object],
    second: Callable[[], object],
    device: str,
    repeats: int,
    warmup: int = 3,
) -> tuple[float, float]:
    """Median wall times (ms) of two calls, timed alternately.

    Alternating the two calls (in the order AB, BA, AB, ...) exposes both to
    the same background load and to the same neighbour, so their ratio is
    steadier than that of two separate series.
    """
    for _ in range(warmup):
        first()
        second()
    _sync(device)
    times: tuple[list[float], list[float]] = ([], [])
    pairs = list(zip((first, second), times, strict=True))
    for repeat in range(repeats):
        for function, series in pairs[:: 1 - 2 * (repeat % 2)]:
            start = time.perf_counter()
            function()
            _sync(device)
            series.append(time.perf_counter() - start)
    return tuple(1e3 * statistics.median(series) for series in times)


def _forward_backward(
    forward: Callable[[], torch.Tensor], leaves: list[torch.Tensor]
) -> Callable[[], None]:
    """A call that runs ``forward``, backpropagates a sum and clears grads."""

    def step() -> None:
        forward().sum().backward()
        for t in leaves:
            t.grad = None

    return step


def _cases(
    batch: int, channels: int, size: int, kernel_size: int
) -> list[tuple[str, torch.nn.Module, tuple[int, ...]]]:
    """(name, reference layer, input shape) for the timed configurations."""
    b, c, n, k = batch, channels, size, kernel_size
    cases = []
    for order in (4, 8):
        group = CyclicGroup(order)
        lifting = LiftingConvolution(group, c, c, k)
        cases.append((f"lifting C{order}", lifting, (b, c, n, n)))
    for order in (4, 8):
        group = CyclicGroup(order)
        gconv = GroupConvolution(group, c, c, k)
        cases.append((f"group conv C{order}", gconv, (b, c, order, n, n)))
    return cases


def _time_case(
    layer: torch.nn.Module, shape: tuple[int, ...], device: str, repeats: int
) -> dict[str, tuple[float, float]]:
    """Medians (ms), ``(reference, plain conv2d)``, for "fwd" and "fwd+bwd"."""
    gen = torch.Generator().manual_seed(0)
    layer = layer.to(device)
    x = torch.randn(shape, generator=gen).to(device).requires_grad_()
    x_flat = x.detach().flatten(1, -3).requires_grad_()  # [B, C_in(·G), H, W]
    kernel = layer.transformed_kernels().detach()
    kernel = kernel.reshape(-1, x_flat.shape[1], *kernel.shape[-2:])
    kernel.requires_grad_()  # [C_out·G, C_in(·G), k, k]
    bias = torch.zeros(kernel.shape[0], device=device, requires_grad=True)
    pad = layer.kernel_size // 2

    def plain() -> torch.Tensor:
        return F.conv2d(x_flat, kernel, bias, padding=pad)

    def reference() -> torch.Tensor:
        return layer(x)

    params = list(layer.parameters())
    times = {}
    with torch.no_grad():
        times["fwd"] = _paired_median_ms(reference, plain, device, repeats)
    ref_step = _forward_backward(reference, [x, *params])
    plain_step = _forward_backward(plain, [x_flat, kernel, bias])
    times["fwd+bwd"] = _paired_median_ms(ref_step, plain_step, device, repeats)

    transform = _forward_backward(layer.transformed_kernels, params)
    times["kernel f+b"] = _paired_median_ms(transform, transform, device, 50)
    return times


def _escnn_rows(
    batch: int, channels: int, size: int, kernel_size: int, repeats: int, device: str
) -> list[tuple[str, dict[str, tuple[float, float]]]] | None:
    """escnn's R2Conv against the reference layer, or None without escnn.

    R2Conv (training mode, so it expands its filter basis on every call) maps
    ``channels`` trivial (lifting) or regular (group conv) fields to
    ``channels`` regular fields of C_N, the same tensor sizes as the
    reference layers. Its kernels live in a band-limited steerable basis, so
    it has fewer free parameters than the reference layer.
    """
    try:
        from escnn import gspaces
        from escnn import nn as enn
    except ImportError:
        return None
    gen = torch.Generator().manual_seed(0)
    rows = []
    for name, layer, shape in _cases(batch, channels, size, kernel_size):
        order = layer.group_order
        space = gspaces.rot2dOnR2(N=order)
        regular = enn.FieldType(space, channels * [space.regular_repr])
        lifting = isinstance(layer, LiftingConvolution)
        in_type = enn.FieldType(space, channels * [space.trivial_repr])
        in_type = in_type if lifting else regular
        conv = enn.R2Conv(in_type, regular, kernel_size, padding=kernel_size // 2)
        conv, layer = conv.to(device).train(), layer.to(device)
        x = torch.randn(shape, generator=gen).to(device)
        x_escnn = enn.GeometricTensor(x.flatten(1, -3), in_type)

        def escnn_call(conv=conv, x_escnn=x_escnn) -> torch.Tensor:
            return conv(x_escnn).tensor

        def reference(layer=layer, x=x) -> torch.Tensor:
            return layer(x)

        times = {}
        with torch.no_grad():
            times["fwd"] = _paired_median_ms(escnn_call, reference, device, repeats)
        escnn_step = _forward_backward(escnn_call, list(conv.parameters()))
        ref_step = _forward_backward(reference, list(layer.parameters()))
        times["fwd+bwd"] = _paired_median_ms(escnn_step, ref_step, device, repeats)
        rows.append((name, times))
    return rows


def run(
    batch: int = 16,
    channels: int = 16,
    size: int = 64,
    kernel_size: int = 5,
    repeats: int = 10,
    device: str = "cpu",
) -> list[tuple[str, dict[str, tuple[float, float]]]]:
    """Time every case; return ``(name, medians in ms)`` rows."""
    torch.manual_seed(0)
    return [
        (name, _time_case(layer, shape, device, repeats))
        for name, layer, shape in _cases(batch, channels, size, kernel_size)
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--kernel-size", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")

    print(
        f"regular group convs vs one plain conv2d: B={args.batch}, "
        f"C_in=C_out={args.channels}, {args.size}x{args.size}, "
        f"k={args.kernel_size}, float32, {device}, "
        f"{torch.get_num_threads()} threads, median of {args.repeats} (ms)"
    )
    header = ("layer", "ref fwd", "conv2d fwd", "ratio", "ref f+b", "conv2d f+b")
    print(
        f"{header[0]:<14}"
        + "".join(f"{h:>12}" for h in header[1:])
        + "   ratio  kernel f+b"
    )
    rows = run(
        args.batch, args.channels, args.size, args.kernel_size, args.repeats, device
    )
    for name, t in rows:
        (ref, plain), (ref_b, plain_b) = t["fwd"], t["fwd+bwd"]
        print(
            f"{name:<14}{ref:>12.2f}{plain:>12.2f}{ref / plain:>12.2f}"
            f"{ref_b:>12.2f}{plain_b:>12.2f}{ref_b / plain_b:>8.2f}"
            f"{t['kernel f+b'][0]:>12.2f}"
        )
    escnn_rows = _escnn_rows(
        args.batch, args.channels, args.size, args.kernel_size, args.repeats, device
    )
    if escnn_rows is None:
        print("escnn not installed")
        return
    header = ("layer", "escnn fwd", "ref fwd", "ratio", "escnn f+b", "ref f+b")
    print(f"{header[0]:<14}" + "".join(f"{h:>12}" for h in header[1:]) + "   ratio")
    for name, t in escnn_rows:
        (other, ref), (other_b, ref_b) = t["fwd"], t["fwd+bwd"]
        print(
            f"{name:<14}{other:>12.2f}{ref:>12.2f}{other / ref:>12.2f}"
            f"{other_b:>12.2f}{ref_b:>12.2f}{other_b / ref_b:>8.2f}"
        )


if __name__ == "__main__":
    main()
