"""Plausible student bugs in assignment 4, and the hidden test that must
catch each (a case id of autograder/hidden/04_cg_tensor_product)."""

from __future__ import annotations

from mutants_a01 import Mutant

REAL_GENERATORS = "return (Q.conj().T @ complex_L @ Q).real  # [3, M, M]"
COMPLEX_L = "complex_L = torch.stack([-1j * J_y, 1j * J_z, 1j * J_x])  # [3, M, M]"
EULER = "return exp(alpha, L[1]) @ exp(beta, L[0]) @ exp(gamma, L[1])"
TO_REAL = 'C = torch.einsum("ia,jb,kc,ijk->abc", Q1, Q2, Q3.conj(), C).real'
COMPLEX_ENTRY = "C[l1 + m1, l2 + m2, l3 + m1 + m2] = racah(m1, m2)"
SH_STEP = "Y = outer.flatten(-2) @ step.flatten(0, 1)  # [..., M_k+1]"
SH_END = """        return Y / math.sqrt(4 * math.pi)
    return Y"""
RULE = "if abs(l1 - l2) <= l3 <= l1 + l2 and p3 == p1 * p2"
ALPHA = "alpha = math.sqrt((2 * l3 + 1) / fan_in[c])"
INDEX = "index = offset + (u * mul2 + v) * mul3 + w  # [n, 1]"
BUILD_T = "T = T.index_add(0, self.entries, values).view(dim1 * dim2, dim3)"
BUILD_T_PER_PATH = """paths = len(self.instructions)
        for entries, part in zip(self.entries.chunk(paths), values.chunk(paths)):
            T = T.index_add(0, entries, part)  # one path at a time
        T = T.view(dim1 * dim2, dim3)"""
CONTRACT = "return outer @ T  # [..., dim_out]"
CONTRACT_PER_SAMPLE = """flat = outer.reshape(-1, dim1 * dim2)
        rows = [flat[i] @ T for i in range(flat.shape[0])]  # one sample at a time
        return torch.stack(rows).reshape(*batch, dim3)"""

MUTANTS = [
    Mutant(
        "generators_in_the_complex_basis",
        "so3_generators",
        REAL_GENERATORS,
        "return complex_L.real  # [3, M, M], no change of basis",
        "test_so3::test_generators_match_reference[l1]",
    ),
    Mutant(
        "generators_clockwise",
        "so3_generators",
        COMPLEX_L,
        "complex_L = torch.stack([1j * J_y, -1j * J_z, -1j * J_x])",
        "test_so3::test_generators_match_reference[l1]",
    ),
    Mutant(
        "wigner_D_transposed",
        "wigner_D",
        EULER,
        EULER + ".transpose(-1, -2)",
        "test_so3::test_wigner_D_matches_reference[l1]",
    ),
    Mutant(
        "euler_axes_swapped",
        "wigner_D",
        EULER,
        "return exp(alpha, L[0]) @ exp(beta, L[1]) @ exp(gamma, L[0])",
        "test_so3::test_wigner_D_matches_reference[l1]",
    ),
    Mutant(
        "euler_angles_reversed",
        "wigner_D",
        EULER,
        "return exp(gamma, L[1]) @ exp(beta, L[0]) @ exp(alpha, L[1])",
        "test_so3::test_wigner_D_matches_reference[l2]",
    ),
    Mutant(
        "wigner_D_gamma_typo",
        "wigner_D",
        EULER,
        "return exp(alpha, L[1]) @ exp(beta, L[0]) @ exp(alpha, L[1])",
        "test_so3::test_wigner_D_homomorphism[l1]",
    ),
    Mutant(
        "clebsch_gordan_in_the_complex_basis",
        "clebsch_gordan",
        TO_REAL,
        "C = C.real",
        "test_so3::test_clebsch_gordan_invariance",
    ),
    Mutant(
        "clebsch_gordan_without_conjugate",
        "clebsch_gordan",
        TO_REAL,
        TO_REAL.replace("Q3.conj()", "Q3"),
        "test_so3::test_clebsch_gordan_invariance",
    ),
    Mutant(
        "clebsch_gordan_m_order_reversed",
        "clebsch_gordan",
        COMPLEX_ENTRY,
        "C[l1 - m1, l2 - m2, l3 - m1 - m2] = racah(m1, m2)",
        "test_so3::test_clebsch_gordan_matches_reference[l1=2]",
    ),
    Mutant(
        "clebsch_gordan_sign_flipped_for_odd_l",
        "clebsch_gordan",
        "return C / C.norm()",
        "return C / C.norm() * (-1) ** (l1 + l2 + l3)",
        "test_so3::test_clebsch_gordan_matches_reference[l1=1]",
    ),
    Mutant(
        "clebsch_gordan_not_normalised",
        "clebsch_gordan",
        "return C / C.norm()",
        "return C",
        "test_so3::test_clebsch_gordan_orthogonality[1x2]",
    ),
    Mutant(
        "harmonics_sign_flipped_for_odd_l",
        "spherical_harmonics",
        SH_END,
        SH_END + " * (-1) ** l",
        "test_so3::test_spherical_harmonics_match_reference[component]",
    ),
    Mutant(
        "harmonics_m_order_reversed",
        "spherical_harmonics",
        SH_STEP,
        "Y = (outer.flatten(-2) @ step.flatten(0, 1)).flip(-1)",
        "test_so3::test_spherical_harmonics_equivariance[l2-rotations]",
    ),
    Mutant(
        "harmonics_points_not_normalised",
        "spherical_harmonics",
        "if normalize:",
        "if normalize and False:",
        "test_so3::test_spherical_harmonics_match_reference[norm]",
    ),
    Mutant(
        "harmonics_norm_normalisation_wrong",
        "spherical_harmonics",
        "return Y / math.sqrt(2 * l + 1)",
        "return Y / (2 * l + 1)",
        "test_so3::test_spherical_harmonics_match_reference[norm]",
    ),
    Mutant(
        "parity_ignored",
        "tensor_product",
        RULE,
        "if abs(l1 - l2) <= l3 <= l1 + l2",
        "test_tensor_product::test_paths_follow_selection_rules[small]",
    ),
    Mutant(
        "selection_rule_off_by_one",
        "tensor_product",
        RULE,
        "if abs(l1 - l2) <= l3 < l1 + l2 and p3 == p1 * p2",
        "test_tensor_product::test_paths_follow_selection_rules[small]",
    ),
    Mutant(
        "path_normalisation_dropped",
        "tensor_product",
        ALPHA,
        "alpha = math.sqrt(2 * l3 + 1)",
        "test_tensor_product::test_output_variance_is_normalised",
    ),
    Mutant(
        "irrep_normalisation_dropped",
        "tensor_product",
        ALPHA,
        "alpha = math.sqrt(1 / fan_in[c])",
        "test_tensor_product::test_matches_reference[l4]",
    ),
    Mutant(
        "weights_laid_out_wuv",
        "tensor_product",
        INDEX,
        "index = offset + (w * mul2 + v) * mul1 + u  # [n, 1]",
        "test_tensor_product::test_matches_reference[l4]",
    ),
    Mutant(
        "output_blocks_laid_out_m_major",
        "tensor_product",
        "out = starts[2][c] + w * (2 * l3 + 1) + k",
        "out = starts[2][c] + k * mul3 + w  # [M, mul]",
        "test_tensor_product::test_equivariance[float64-rotations]",
    ),
    Mutant(
        "python_loop_over_paths",
        "tensor_product",
        BUILD_T,
        BUILD_T_PER_PATH,
        "test_performance::test_forward_is_vectorised",
    ),
    Mutant(
        "python_loop_over_samples",
        "tensor_product",
        CONTRACT,
        CONTRACT_PER_SAMPLE,
        "test_performance::test_forward_is_vectorised",
    ),
]
