"""Command line: ``python -m autograder grade|release|gradescope``.

    python -m autograder grade SUBMISSIONS --out DIR [--assignment A ...]
        [--workers N] [--device auto|cpu|cuda] [--force]
    python -m autograder release [--check]
    python -m autograder gradescope [--assignment A ...] [--out DIR]
        [--visibility after_published]

``grade`` exits 0 when grading completed (whatever the scores), 2 for bad
arguments, 1 when the grader itself failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from autograder import gradescope

__all__ = ["main"]

log = logging.getLogger("autograder")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade a class of submissions")
    grade.add_argument(
        "submissions",
        type=Path,
        help="folder laid out as <student>/<assignment>/<notebook>.ipynb",
    )
    grade.add_argument("--out", type=Path, default=Path("grades"))
    grade.add_argument(
        "--assignment",
        action="append",
        dest="assignments",
        help="grade only this assignment (repeatable)",
    )
    grade.add_argument(
        "--workers",
        type=int,
        default=None,
        help="submissions graded at once (default: number of cores)",
    )
    grade.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    grade.add_argument("--force", action="store_true", help="regrade what is done")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    release = commands.add_parser("release", help="make assignments/ from solutions/")
    release.add_argument(
        "--check",
        action="store_true",
        help="only report whether assignments/ is in sync",
    )
    zips = commands.add_parser(
        "gradescope", help="build one Gradescope autograder zip per assignment"
    )
    gradescope.add_build_arguments(zips)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if args.command == "release":
        from autograder import release  # noqa: PLC0415

        return release.main(["--check"] if args.check else [])
    if args.command == "gradescope":
        return gradescope.build_main(args)
    return _grade(args)


def _grade(args: argparse.Namespace) -> int:
    from autograder import engine, summary  # noqa: PLC0415 - torch loads here

    if args.workers is not None and args.workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        return 2
    try:
        run = engine.grade_class(
            args.submissions,
            args.out,
            assignments=args.assignments,
            workers=args.workers,
            device=args.device,
            force=args.force,
            progress=not args.quiet,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception:
        log.exception("the grader failed")
        return 1
    print(summary.render(run, args.out))
    return 0
