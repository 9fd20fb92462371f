"""Assignment 4 through the command line: the solution earns full marks, the
released stub zero, and every mutant is caught by the test named for it."""

from mutant_suite import suite
from mutants_a04 import MUTANTS

globals().update(suite("04_cg_tensor_product", MUTANTS, minimum=15))
