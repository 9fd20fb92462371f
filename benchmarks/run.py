"""`make bench`: every benchmark, one after the other, with its default sizes.

Longer runs have their own entry points: ``python -m benchmarks.egnn`` (with
the N-body training, minutes), ``python -m benchmarks.throughput`` (a class
graded by this engine and by nbgrader), ``make bench-escnn`` (escnn).
"""

from __future__ import annotations

from benchmarks import conv, egnn, engine_overhead, groups, steerable, tensor_product


def main() -> None:
    for title, run in [
        ("groups (assignment 1)", groups.main),
        ("regular group convolutions (assignment 2)", lambda: conv.main([])),
        ("steerable convolutions (assignment 3)", lambda: steerable.main([])),
        (
            "tensor products against e3nn (assignment 4)",
            lambda: tensor_product.main([]),
        ),
        (
            "EGNN, sparse against dense (assignment 5)",
            lambda: egnn.main(["--skip-nbody"]),
        ),
        ("the grading engine's own cost", engine_overhead.main),
    ]:
        print(f"\n== {title} ==")
        run()


if __name__ == "__main__":
    main()
