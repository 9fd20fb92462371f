"""Speed of the reference groups on 10⁶ elements (median of repeated calls)."""

from __future__ import annotations

import statistics
import time

import torch

from gedl_ref import groups


def _median_ms(function, repeats: int = 21) -> float:
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def run(n: int = 1_000_000, device: str = "cpu") -> list[tuple[str, str, float]]:
    gen = torch.Generator(device="cpu").manual_seed(0)
    rows = []
    cases = {
        "C8": groups.CyclicGroup(8),
        "SO2": groups.SO2(),
        "D4": groups.DihedralGroup(4),
        "SE2": groups.SE2(),
        "R2xC4": groups.RotoTranslationGroup(groups.CyclicGroup(4)),
    }
    for name, group in cases.items():
        g = group.sample((n,), generator=gen).to(device)
        h = group.sample((n,), generator=gen).to(device)
        x = torch.randn(n, 2, generator=gen).to(device)
        calls = {
            "product": (group.product, g, h),
            "inverse": (group.inverse, g),
            "action": (group.left_action_on_R2, g, x),
        }
        for op, (function, *args) in calls.items():
            rows.append((name, op, _median_ms(lambda f=function, a=args: f(*a))))
    return rows


def main() -> None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(
        f"reference groups, 10^6 elements, float32, {device}, "
        f"{torch.get_num_threads()} threads (median ms)"
    )
    print(f"{'group':<8} {'op':<8} {'ms':>8}")
    for name, op, ms in run(device=device):
        print(f"{name:<8} {op:<8} {ms:>8.2f}")


if __name__ == "__main__":
    main()
