"""Gradescope: one autograder zip per assignment, and the run inside it.

Build (``make gradescope``)::

    python -m autograder gradescope [--assignment A ...] [--out dist/gradescope]
        [--visibility after_published]

writes ``dist/gradescope/<assignment>.zip``. Gradescope unpacks it into
``/autograder/source``, runs ``setup.sh`` once to build the image, and then,
for every submission, ``run_autograder``, which calls `run` here:

- the notebook is looked for in ``/autograder/submission`` (any folder
  depth; the expected name wins, else the only notebook there);
- the engine grades it exactly as ``python -m autograder grade`` does, in a
  sandboxed worker; ``/autograder/source`` (engine, hidden tests,
  reference), ``/autograder/submission`` and ``/autograder/results`` are
  added to the folders the worker cannot see, so student code can neither
  read the hidden tests or the reference nor write the results;
- ``/autograder/results/results.json`` gets the engine's Gradescope results
  with each test's ``visibility`` set as the zip was built.

Visibility: by default each hidden test shows ``after_published``: a
student sees immediately the total score and the notes on the notebook as a
whole (a cell that failed to load, the device), and sees the per-test
messages once the instructor publishes the grades. Immediate per-test
results would let a class tune code against the hidden tests by
resubmitting; the public checks in the notebook are the instant feedback.
``--visibility visible`` restores immediate per-test feedback.

The zip holds only what grading this assignment needs: the engine, this
assignment's hidden tests, ``gedl_ref``, ``gedl_checks`` (the hidden tests
share its equivariance helper), the released notebook (its locked setup
cells are the instructor's) and pinned requirements.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import shutil
import stat
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

__all__ = ["VISIBILITIES", "build", "find_notebook", "main", "run"]

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
FILES = Path(__file__).resolve().parent / "gradescope_files"
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
CONFIG = "gradescope.json"
STUDENT = "student"
#: Packages the engine and the hidden tests import at grading time.
REQUIREMENTS = ("torch", "numpy", "scipy", "nbformat", "tqdm", "pytest")
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
_EPOCH = (1980, 1, 1, 0, 0, 0)


# -- building the zip ------------------------------------------------------


def requirements() -> str:
    """``requirements.txt``: the versions installed here, pinned."""
    lines = [f"--extra-index-url {TORCH_INDEX}"]
    for name in REQUIREMENTS:
        version = importlib.metadata.version(name).split("+")[0]
        lines.append(f"{name}=={version}")
    return "\n".join(lines) + "\n"


def _sources(root: Path, folder: str) -> dict[str, Path]:
    """The ``.py`` files of a package folder, by their path in the zip."""
    return {
        path.relative_to(root).as_posix(): path
        for path in sorted((root / folder).rglob("*.py"))
        if "__pycache__" not in path.parts and "hidden" not in path.parts
    }


def _contents(assignment: str, root: Path) -> dict[str, Path]:
    """Every file of the zip, by its path in the zip, from ``root``."""
    hidden = root / "autograder" / "hidden" / assignment
    config = json.loads((hidden / "assignment.json").read_text())
    notebook = config.get("notebook", f"{assignment}.ipynb")
    files = {
        "setup.sh": FILES / "setup.sh",
        "run_autograder": FILES / "run_autograder",
        **_sources(root, "autograder"),
        **_sources(root, "gedl_ref"),
        **_sources(root, "gedl_checks"),
        f"assignments/{assignment}/{notebook}": (
            root / "assignments" / assignment / notebook
        ),
    }
    for path in sorted(hidden.iterdir()):
        if path.suffix in (".py", ".json"):
            files[f"autograder/hidden/{assignment}/{path.name}"] = path
    return files


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build(
    assignment: str,
    out: Path,
    *,
    visibility: str = "after_published",
    root: Path = REPO,
) -> Path:
    """Write ``out/<assignment>.zip``, Gradescope's autograder for it.

    The zip is deterministic: same sources, same bytes.
    """
    if visibility not in VISIBILITIES:
        raise ValueError(
            f"visibility must be one of {VISIBILITIES}, not {visibility!r}"
        )
    if not (root / "autograder" / "hidden" / assignment / "assignment.json").is_file():
        raise ValueError(f"no hidden tests for assignment {assignment!r}")
    files = _contents(assignment, root)
    config = {"assignment": assignment, "visibility": visibility}
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{assignment}.zip"
    tmp = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for name in sorted(files):
            executable = name in ("setup.sh", "run_autograder")
            _add(archive, name, files[name].read_bytes(), executable)
        _add(archive, "requirements.txt", requirements().encode(), False)
        _add(archive, CONFIG, json.dumps(config, indent=1).encode() + b"\n", False)
    tmp.replace(target)
    return target


# -- grading inside Gradescope ---------------------------------------------


def find_notebook(submission: Path, expected: str) -> tuple[Path | None, str]:
    """The submitted notebook, or None and a message a student can act on."""
    found = sorted(
        p
        for p in submission.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and p.is_file()
    )
    named = [p for p in found if p.name == expected]
    if len(named) == 1:
        return named[0], ""
    if len(found) == 1:
        return found[0], f"graded {found[0].name} (expected the name {expected})"
    if not found:
        return None, f"no notebook was submitted; upload {expected}"
    names = ", ".join(p.relative_to(submission).as_posix() for p in found)
    return None, f"several notebooks were submitted ({names}); upload only {expected}"


def _failed(message: str) -> dict[str, Any]:
    return {"score": 0.0, "output": message, "visibility": "visible", "tests": []}


def run(root: Path = Path("/autograder")) -> dict[str, Any]:
    """Grade ``root/submission`` and write ``root/results/results.json``."""
    from autograder import engine  # noqa: PLC0415 - torch loads here
    from autograder.report import atomic_write  # noqa: PLC0415

    config = json.loads((root / "source" / CONFIG).read_text())
    assignment = config["assignment"]
    spec = json.loads(
        (REPO / "autograder" / "hidden" / assignment / "assignment.json").read_text()
    )
    expected = spec.get("notebook", f"{assignment}.ipynb")
    notebook, note = find_notebook(root / "submission", expected)
    if notebook is None:
        results = _failed(note)
    else:
        results = _grade(root, assignment, notebook, expected, engine)
        if note:
            results["output"] = f"{note}\n{results['output']}"
        for test in results["tests"]:
            test["visibility"] = config["visibility"]
    atomic_write(root / "results" / "results.json", json.dumps(results, indent=1))
    return results


def _grade(root: Path, assignment: str, notebook: Path, expected: str, engine):
    with tempfile.TemporaryDirectory(prefix="gedl-gradescope-") as work:
        submissions = Path(work) / "submissions"
        folder = submissions / STUDENT / assignment
        folder.mkdir(parents=True)
        shutil.copyfile(notebook, folder / expected)
        out = Path(work) / "out"
        hidden = [root / "source", root / "submission", root / "results"]
        try:
            engine.grade_class(
                submissions,
                out,
                assignments=[assignment],
                progress=False,
                hidden=[h for h in hidden if h.is_dir()],
            )
            text = (out / STUDENT / assignment / "results.json").read_text()
        except Exception:
            log.exception("the grader failed")
            return _failed(
                "The autograder itself failed on this submission (not your "
                "code's fault); your instructor can see the log. Resubmit later."
            )
    return json.loads(text)


# -- command line ----------------------------------------------------------


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--assignment",
        action="append",
        dest="assignments",
        help="build only this assignment (repeatable; default: all)",
    )
    parser.add_argument("--out", type=Path, default=Path("dist/gradescope"))
    parser.add_argument(
        "--visibility",
        default="after_published",
        choices=VISIBILITIES,
        help="when students see each hidden test's result",
    )


def build_main(args: argparse.Namespace) -> int:
    known = sorted(
        p.parent.name for p in REPO.glob("autograder/hidden/*/assignment.json")
    )
    wanted = args.assignments or known
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        print(
            f"error: unknown assignment(s) {unknown}; known: {known}", file=sys.stderr
        )
        return 2
    for assignment in wanted:
        path = build(assignment, args.out, visibility=args.visibility)
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``build`` the zips, or ``run`` inside Gradescope's layout."""
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope")
    commands = parser.add_subparsers(dest="command", required=True)
    add_build_arguments(commands.add_parser("build", help="build the zips"))
    runner = commands.add_parser("run", help="grade /autograder/submission")
    runner.add_argument("--root", type=Path, default=Path("/autograder"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if args.command == "build":
        return build_main(args)
    results = run(args.root)
    print(f"score {results['score']}; {len(results['tests'])} test(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
