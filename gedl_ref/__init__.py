"""Reference implementation of the gedl course: the ground truth for grading.

One module per topic: ``groups`` and ``grid`` (assignment 1), ``conv``
(assignment 2), ``steerable_irreps`` and ``steerable`` (assignment 3),
``so3`` and ``tensor_product`` (assignment 4), ``graph``, ``nbody``,
``egnn`` and ``steerable_mp`` (assignment 5). Their public names are also
available from the package. The conventions they fix are written down in
``docs/conventions.md``.
"""

from gedl_ref.conv import GCNN, GroupConvolution, GroupPooling, LiftingConvolution
from gedl_ref.egnn import EGNN, EGNNLayer, JoinOutputs
from gedl_ref.graph import fully_connected_graph, knn_graph, radius_graph, scatter
from gedl_ref.grid import pixel_grid, sample_signal
from gedl_ref.groups import (
    SE2,
    SO2,
    CyclicGroup,
    DihedralGroup,
    GroupBase,
    RotoTranslationGroup,
)
from gedl_ref.nbody import (
    NBodyData,
    NBodyGraph,
    make_nbody_dataset,
    nbody_graph,
    simulate_charged,
)
from gedl_ref.so3 import (
    Irrep,
    Irreps,
    MulIrrep,
    angles_to_matrix,
    clebsch_gordan,
    matrix_to_angles,
    random_rotation,
    so3_generators,
    spherical_harmonics,
    wigner_D,
    wigner_D_from_matrix,
)
from gedl_ref.steerable import (
    FourierReLU,
    NormReLU,
    SteerableConvolution,
    field_basis,
    harmonic_basis,
    pair_basis,
    ring_parameters,
    steerable_basis,
)
from gedl_ref.steerable_irreps import (
    fourier_matrix,
    fourier_transform,
    inverse_fourier_transform,
    irrep,
    irrep_dimension,
    regular_representation,
    type_representation,
)
from gedl_ref.steerable_mp import (
    Gate,
    ScalarVectorLayer,
    SteerableEnergyModel,
    SteerableMessagePassing,
)
from gedl_ref.tensor_product import (
    FullyConnectedTensorProduct,
    Instruction,
    Linear,
    TensorProduct,
)

__version__ = "0.1.0"

__all__ = [
    # groups and signals (assignment 1)
    "CyclicGroup",
    "DihedralGroup",
    "GroupBase",
    "RotoTranslationGroup",
    "SE2",
    "SO2",
    "pixel_grid",
    "sample_signal",
    # regular group convolutions (assignment 2)
    "GCNN",
    "GroupConvolution",
    "GroupPooling",
    "LiftingConvolution",
    # steerable convolutions (assignment 3)
    "FourierReLU",
    "NormReLU",
    "SteerableConvolution",
    "field_basis",
    "fourier_matrix",
    "fourier_transform",
    "harmonic_basis",
    "inverse_fourier_transform",
    "irrep",
    "irrep_dimension",
    "pair_basis",
    "regular_representation",
    "ring_parameters",
    "steerable_basis",
    "type_representation",
    # SO(3) and tensor products (assignment 4)
    "FullyConnectedTensorProduct",
    "Instruction",
    "Irrep",
    "Irreps",
    "Linear",
    "MulIrrep",
    "TensorProduct",
    "angles_to_matrix",
    "clebsch_gordan",
    "matrix_to_angles",
    "random_rotation",
    "so3_generators",
    "spherical_harmonics",
    "wigner_D",
    "wigner_D_from_matrix",
    # graphs, N-body data, equivariant GNNs (assignment 5)
    "EGNN",
    "EGNNLayer",
    "Gate",
    "JoinOutputs",
    "NBodyData",
    "NBodyGraph",
    "ScalarVectorLayer",
    "SteerableEnergyModel",
    "SteerableMessagePassing",
    "fully_connected_graph",
    "knn_graph",
    "make_nbody_dataset",
    "nbody_graph",
    "radius_graph",
    "scatter",
    "simulate_charged",
    "__version__",
]
