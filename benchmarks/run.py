"""`make bench`: every benchmark, one after the other."""

from __future__ import annotations

from benchmarks import conv, engine_overhead, groups


def main() -> None:
    groups.main()
    print()
    conv.main()
    print()
    engine_overhead.main()


if __name__ == "__main__":
    main()
