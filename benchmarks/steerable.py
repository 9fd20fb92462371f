"""Speed of the reference steerable convolution against one plain ``F.conv2d``.

For steerable convolutions between regular fields of C4 and C8 and between
SO(2) irreps fields this times, in the same run,

* the reference layer (expansion of its coefficients over the cached basis,
  then its one ``F.conv2d``), and
* one plain ``F.conv2d`` with the same input and a kernel of the same shape
  ``[D_out, D_in, k, k]``: the floor that any steerable convolution pays,

forward only and forward + backward (gradients of the input and of the
parameters), and prints the medians and their ratio (target: ≤ 1.1). Default
sizes: B = 16, D_in = D_out = 64 channels, 64 × 64 images, k = 5, float32, on
the CPU (or the GPU when there is one). The last column times the kernel
expansion alone (forward + backward). When escnn is installed, its
``R2Conv`` on the same field types is timed against the reference too;
otherwise that comparison is reported as skipped.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from benchmarks.conv import _forward_backward, _paired_median_ms
from gedl_ref.steerable import SteerableConvolution


def _cases(channels: int, kernel_size: int) -> list[tuple[str, list, int | None]]:
    """(name, field type used for input and output, group order)."""
    so2 = [0, 1, 1, 2, 2, 3, 3] * max(1, channels // 13)  # 13 channels per block
    return [
        ("C4 regular", ["regular"] * (channels // 4), 4),
        ("C8 regular", ["regular"] * (channels // 8), 8),
        ("SO(2) irreps", so2, None),
    ]


def _time_case(field_type, order, kernel_size, batch, size, device, repeats):
    """Medians (ms), ``(reference, plain conv2d)``, for "fwd" and "fwd+bwd"."""
    gen = torch.Generator().manual_seed(0)
    layer = SteerableConvolution(field_type, field_type, kernel_size, order)
    layer = layer.to(device)
    channels = layer.in_channels
    x = torch.randn(batch, channels, size, size, generator=gen).to(device)
    x.requires_grad_()
    kernel = layer.kernel().detach().clone().requires_grad_()
    pad = kernel_size // 2

    def plain() -> torch.Tensor:
        return F.conv2d(x, kernel, padding=pad)

    def reference() -> torch.Tensor:
        return layer(x)

    times = {}
    with torch.no_grad():
        times["fwd"] = _paired_median_ms(reference, plain, device, repeats)
    ref_step = _forward_backward(reference, [x, layer.weight])
    plain_step = _forward_backward(plain, [x, kernel])
    times["fwd+bwd"] = _paired_median_ms(ref_step, plain_step, device, repeats)
    expand = _forward_backward(layer.kernel, [layer.weight])
    times["kernel f+b"] = _paired_median_ms(expand, expand, device, 50)
    times["basis size"] = (layer.weight.numel(), channels)
    return times


def _escnn_rows(cases, kernel_size, batch, size, device, repeats):
    """escnn's R2Conv against the reference layer, or None without escnn."""
    try:
        from escnn import gspaces
        from escnn import nn as enn
    except ImportError:
        return None
    gen = torch.Generator().manual_seed(0)
    rows = []
    for name, field_type, order in cases:
        if order is None:
            space = gspaces.rot2dOnR2(N=-1, maximum_frequency=3)
            reprs = [space.irrep(k) for k in field_type]
        else:
            space = gspaces.rot2dOnR2(N=order)
            reprs = [space.regular_repr for _ in field_type]
        ftype = enn.FieldType(space, reprs)
        conv = enn.R2Conv(ftype, ftype, kernel_size, padding=kernel_size // 2)
        conv = conv.to(device).train()
        layer = SteerableConvolution(field_type, field_type, kernel_size, order)
        layer = layer.to(device)
        x = torch.randn(batch, layer.in_channels, size, size, generator=gen)
        x = x.to(device)
        x_escnn = enn.GeometricTensor(x, ftype)

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--kernel-size", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--device", default=None)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (1 gives steadier ratios on a loaded machine)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    cases = _cases(args.channels, args.kernel_size)

    print(
        f"steerable convs vs one plain conv2d: B={args.batch}, "
        f"D_in=D_out≈{args.channels}, {args.size}x{args.size}, "
        f"k={args.kernel_size}, float32, {device}, "
        f"{torch.get_num_threads()} threads, median of {args.repeats} (ms)"
    )
    header = ("layer", "P", "ref fwd", "conv2d fwd", "ratio", "ref f+b", "conv2d f+b")
    print(
        f"{header[0]:<14}{header[1]:>6}"
        + "".join(f"{h:>12}" for h in header[2:])
        + "   ratio  kernel f+b"
    )
    for name, field_type, order in cases:
        t = _time_case(
            field_type,
            order,
            args.kernel_size,
            args.batch,
            args.size,
            device,
            args.repeats,
        )
        (ref, plain), (ref_b, plain_b) = t["fwd"], t["fwd+bwd"]
        print(
            f"{name:<14}{t['basis size'][0]:>6}{ref:>12.2f}{plain:>12.2f}"
            f"{ref / plain:>12.2f}{ref_b:>12.2f}{plain_b:>12.2f}"
            f"{ref_b / plain_b:>8.2f}{t['kernel f+b'][0]:>12.2f}"
        )
    rows = _escnn_rows(
        cases, args.kernel_size, args.batch, args.size, device, args.repeats
    )
    if rows is None:
        print("escnn not installed: the comparison with escnn's R2Conv was skipped")
        return
    header = ("layer", "escnn fwd", "ref fwd", "ratio", "escnn f+b", "ref f+b")
    print(f"{header[0]:<14}" + "".join(f"{h:>12}" for h in header[1:]) + "   ratio")
    for name, t in rows:
        (other, ref), (other_b, ref_b) = t["fwd"], t["fwd+bwd"]
        print(
            f"{name:<14}{other:>12.2f}{ref:>12.2f}{other / ref:>12.2f}"
            f"{other_b:>12.2f}{ref_b:>12.2f}{other_b / ref_b:>8.2f}"
        )


if __name__ == "__main__":
    main()
