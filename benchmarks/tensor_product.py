"""Speed of the reference Clebsch–Gordan tensor product against e3nn's.

Two configurations, each with the same irreps, instructions and weights in
both libraries; the outputs are compared before anything is timed:

* ``fc``: ``FullyConnectedTensorProduct(8x0e+8x1o+8x2e, same, same)``, shared
  internal weights, batch 10 000 (CPU and GPU);
* ``uvu``: the depthwise product ``128x0e+128x1o+128x2e ⊗ 0e+1o+2e+3o →
  128x0e+128x1o+128x2e`` with every allowed ``uvu`` path and per-sample
  weights (as an equivariant convolution gets them from a radial network),
  batch 2 000 on the CPU and 50 000 on a GPU.

Forward only (under ``no_grad``) and forward + backward (gradients of both
inputs and of the weights), float32, medians over ``--repeats`` calls timed
alternately (ABAB...), so that both libraries see the same background load.
The ratio column is e3nn / reference: above 1 the reference is faster. On a
CUDA device the script says whether NVIDIA's cuequivariance is installed;
timing it is not implemented yet. The machine's load moves every number;
only the ratios of one run are comparable. On a shared machine run it with
``OMP_NUM_THREADS=1 ... --clock cpu``: each call is then timed by the CPU
time it used (``time.process_time``), which other processes do not inflate
(on one thread; with several it sums them, so keep ``wall`` there).

Which engine of :mod:`gedl_ref.tensor_product` runs: the block engine for
``fc`` (shared ``uvw`` weights), forward and backward; the group engine for
``uvu`` (per-sample weights).

Measured on the quiet two-core machine (e3nn 0.6.0, torch 2.13); medians
in ms, the range over the runs. One thread, three runs, ``OMP_NUM_THREADS=1
... --repeats 11 --clock cpu``:

    config  batch  ref fwd    e3nn fwd   ratio      ref f+b    e3nn f+b  ratio
    fc      10000  20.0-21.0  47.0-50.1  2.35-2.39  73.0-74.7  239-244   3.26-3.27
    uvu      2000  20.2-21.8  78.2-79.2  3.63-3.87  67.7-69.5  203-208   3.00

two threads, five runs, ``... --repeats 11`` (wall time):

    fc      10000  11.6-12.2  25.2-27.0  2.16-2.27  45.9-49.3  178-187   3.78-4.02
    uvu      2000  11.1-12.2  39.9-43.2  3.43-3.66  40.3-42.3  135-140   3.30-3.35

The target of twice e3nn's speed is met in every row of every run.

    python -m benchmarks.tensor_product [--repeats 15] [--device cpu]
        [--clock wall|cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from gedl_ref.so3 import Irreps
from gedl_ref.tensor_product import FullyConnectedTensorProduct, TensorProduct

FC_IRREPS = "8x0e+8x1o+8x2e"
UVU_IN1 = "128x0e+128x1o+128x2e"
UVU_IN2 = "0e+1o+2e+3o"


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _paired_medians_ms(
    calls: list[Callable[[], object]],
    device: str,
    repeats: int,
    warmup: int = 2,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Median time (ms, by ``clock``) of each call, timed in alternation."""
    for _ in range(warmup):
        for call in calls:
            call()
    _sync(device)
    series: list[list[float]] = [[] for _ in calls]
    order = list(range(len(calls)))
    for _ in range(repeats):
        for index in order:
            start = clock()
            calls[index]()
            _sync(device)
            series[index].append(clock() - start)
        order.reverse()
    return [1e3 * statistics.median(s) for s in series]


def _uvu_instructions(in1: Irreps, in2: Irreps, out: Irreps) -> list[tuple]:
    return [
        (a, b, c, "uvu", True)
        for a, (_, ir1) in enumerate(in1)
        for b, (_, ir2) in enumerate(in2)
        for c, (_, ir3) in enumerate(out)
        if ir3 in ir1 * ir2
    ]


def _layers(name: str, device: str):
    """``(ours, e3nn's, uses per-sample weights)`` for a configuration."""
    from e3nn import o3

    if name == "fc":
        ours = FullyConnectedTensorProduct(FC_IRREPS, FC_IRREPS, FC_IRREPS)
        theirs = o3.FullyConnectedTensorProduct(FC_IRREPS, FC_IRREPS, FC_IRREPS)
        with torch.no_grad():
            theirs.weight.copy_(ours.weight)
        return ours.to(device), theirs.to(device), False
    in1, in2 = Irreps(UVU_IN1), Irreps(UVU_IN2)
    instructions = _uvu_instructions(in1, in2, in1)
    ours = TensorProduct(in1, in2, in1, instructions, shared_weights=False)
    theirs = o3.TensorProduct(
        UVU_IN1,
        UVU_IN2,
        UVU_IN1,
        instructions,
        shared_weights=False,
        internal_weights=False,
    )
    return ours.to(device), theirs.to(device), True


def _time_config(
    name: str,
    batch: int,
    device: str,
    repeats: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict:
    """Check agreement, then time both libraries; medians in ms."""
    gen = torch.Generator().manual_seed(0)
    ours, theirs, per_sample = _layers(name, device)
    x = torch.randn(batch, ours.irreps_in1.dim, generator=gen).to(device)
    y = torch.randn(batch, ours.irreps_in2.dim, generator=gen).to(device)
    w = torch.randn(batch, ours.weight_numel, generator=gen).to(device)
    args = (x, y, w) if per_sample else (x, y)
    with torch.no_grad():
        error = (ours(*args) - theirs(*args)).abs().max().item()
        scale = theirs(*args).abs().max().item()
    if not error <= 1e-4 * scale:
        raise RuntimeError(f"{name}: outputs differ by {error:.3g} (scale {scale:.3g})")

    leaves = [t.requires_grad_() for t in args]

    def step(layer: torch.nn.Module) -> Callable[[], None]:
        def call() -> None:
            layer(*leaves).sum().backward()
            for t in [*leaves, *layer.parameters()]:
                t.grad = None

        return call

    with torch.no_grad():
        fwd = _paired_medians_ms(
            [lambda: ours(*leaves), lambda: theirs(*leaves)],
            device,
            repeats,
            clock=clock,
        )
    fwd_bwd = _paired_medians_ms(
        [step(ours), step(theirs)], device, repeats, clock=clock
    )
    return {"fwd": fwd, "fwd+bwd": fwd_bwd, "error": error / scale}


def _cuequivariance_note() -> str:
    try:
        import cuequivariance_torch  # noqa: F401
    except ImportError:
        return "cuequivariance not installed: not timed"
    return "cuequivariance installed, but no timing for it is implemented here"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--device", default=None)
    parser.add_argument("--fc-batch", type=int, default=10_000)
    parser.add_argument("--uvu-batch", type=int, default=None)
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall time, or the process's CPU time (CPU device only)",
    )
    args = parser.parse_args(argv)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.clock == "cpu" and not device.startswith("cpu"):
        parser.error("--clock cpu times the CPU; use --clock wall on a GPU")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    try:
        import e3nn
    except ImportError:
        print("e3nn not installed: tensor-product benchmark skipped")
        return
    uvu_batch = args.uvu_batch or (50_000 if device.startswith("cuda") else 2_000)

    print(
        f"CG tensor product vs e3nn {e3nn.__version__}: float32, {device}, "
        f"{torch.get_num_threads()} threads, median {args.clock} time of "
        f"{args.repeats} (ms)"
    )
    header = ("config", "batch", "ref fwd", "e3nn fwd", "ratio", "ref f+b")
    print(
        f"{header[0]:<8}"
        + "".join(f"{h:>10}" for h in header[1:])
        + f"{'e3nn f+b':>10}{'ratio':>8}{'rel err':>10}"
    )
    for name, batch in (("fc", args.fc_batch), ("uvu", uvu_batch)):
        t = _time_config(name, batch, device, args.repeats, clock)
        (ours, theirs), (ours_b, theirs_b) = t["fwd"], t["fwd+bwd"]
        print(
            f"{name:<8}{batch:>10}{ours:>10.2f}{theirs:>10.2f}{theirs / ours:>10.2f}"
            f"{ours_b:>10.2f}{theirs_b:>10.2f}{theirs_b / ours_b:>8.2f}"
            f"{t['error']:>10.1e}"
        )
    if device.startswith("cuda"):
        print(_cuequivariance_note())


if __name__ == "__main__":
    main()
