"""Scores into nbgrader's gradebook, so formgrader and ``nbgrader export``
see them. The database is rebuilt from the run's records each time (scores
are derived data), under a temporary name, then moved into place."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

__all__ = ["write"]


def write(path: Path, submissions: list, assignments: dict) -> None:
    # nbgrader runs the `alembic` command of its environment.
    scripts = os.path.dirname(sys.executable)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{tmp}") as gb:
        # nbgrader's own queries trip SQLAlchemy's autoflush warnings
        warnings.simplefilter("ignore", SAWarning)
        for name, spec in assignments.items():
            gb.update_or_create_assignment(name)
            notebook = Path(spec.notebook).stem
            gb.update_or_create_notebook(notebook, name)
            for case in spec.cases:
                gb.update_or_create_grade_cell(
                    case.id, notebook, name, max_score=case.points, cell_type="code"
                )
        for sub in submissions:
            gb.update_or_create_student(sub.student)
            notebook = Path(assignments[sub.assignment].notebook).stem
            gb.add_submission(sub.assignment, sub.student)
            for case in sub.cases:
                grade = gb.find_grade(case.id, notebook, sub.assignment, sub.student)
                grade.auto_score = case.points
            gb.db.commit()
    os.replace(tmp, path)
