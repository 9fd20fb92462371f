"""Assignment 2 through the command line: the solution earns full marks, the
released stub zero, and every mutant is caught by the test named for it
(see tests/mutant_suite.py)."""

from __future__ import annotations

from mutant_suite import suite
from mutants_a02 import MUTANTS

globals().update(suite("02_lifting_conv", MUTANTS, minimum=12))
