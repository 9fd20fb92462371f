"""Reference implementation of the gedl course: the ground truth for grading.

The conventions it fixes are written down in ``docs/conventions.md``.
"""

from gedl_ref.conv import (
    GCNN,
    GroupConvolution,
    GroupPooling,
    LiftingConvolution,
)
from gedl_ref.grid import pixel_grid, sample_signal
from gedl_ref.groups import (
    SE2,
    SO2,
    CyclicGroup,
    DihedralGroup,
    GroupBase,
    RotoTranslationGroup,
)

__version__ = "0.1.0"

__all__ = [
    "CyclicGroup",
    "DihedralGroup",
    "GCNN",
    "GroupConvolution",
    "GroupPooling",
    "GroupBase",
    "LiftingConvolution",
    "RotoTranslationGroup",
    "SE2",
    "SO2",
    "__version__",
    "pixel_grid",
    "sample_signal",
]
