"""Plausible student bugs in assignment 1, and the hidden test that must
catch each. A mutant is the solution notebook with one edit in one cell."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    cell: str
    old: str
    new: str
    killed_by: str  # a case id of the hidden tests


LOOP = """out = []
        flat_g, flat_x = g.reshape(-1, g.shape[-1]), x.reshape(-1, 2)
        for i in range(flat_x.shape[0]):
            gi = flat_g[i % flat_g.shape[0]]
            out.append(gi[:2] + self.rotations.left_action_on_R2(gi[2:], flat_x[i]))
        return torch.stack(out).reshape(x.shape)"""

MUTANTS = [
    Mutant(
        "clockwise_rotation",
        "cyclic_group",
        "return torch.stack((cos * px - sin * py, sin * px + cos * py), dim=-1)",
        "return torch.stack((cos * px + sin * py, -sin * px + cos * py), dim=-1)",
        "test_groups::test_action_and_matrix_match_reference[C4]",
    ),
    Mutant(
        "cyclic_angles_not_snapped",
        "cyclic_group",
        "return self.normalize_group_parameterization(g + h)",
        "return torch.remainder(g + h, 2 * math.pi)",
        "test_groups::test_cyclic_products_are_elements[C5]",
    ),
    Mutant(
        "so2_angles_not_wrapped",
        "so2",
        "return self.normalize_group_parameterization(g + h)",
        "return g + h",
        "test_groups::test_angles_wrapped[f64-SO2]",
    ),
    Mutant(
        "semidirect_inverse_without_rotation",
        "roto_translation",
        "translation = -self.rotations.left_action_on_R2(a_inv, x)",
        "translation = -x",
        "test_groups::test_inverse_matches_reference[R2xC4]",
    ),
    Mutant(
        "direct_instead_of_semidirect_product",
        "roto_translation",
        "translation = x + self.rotations.left_action_on_R2(a, y)  # [*B, 2]",
        "translation = x + y",
        "test_groups::test_product_matches_reference[SE2]",
    ),
    Mutant(
        "semidirect_product_acts_on_the_wrong_factor",
        "roto_translation",
        "translation = x + self.rotations.left_action_on_R2(a, y)  # [*B, 2]",
        "translation = y + self.rotations.left_action_on_R2(b, x)",
        "test_groups::test_product_matches_reference[R2xC4]",
    ),
    Mutant(
        "dihedral_product_without_sign",
        "dihedral_group",
        "theta = a + (1 - 2 * s) * b",
        "theta = a + b",
        "test_groups::test_product_matches_reference[D4]",
    ),
    Mutant(
        "dihedral_inverse_always_negates",
        "dihedral_group",
        "torch.stack(((2 * s - 1) * a, s), dim=-1)",
        "torch.stack((-a, s), dim=-1)",
        "test_groups::test_inverse_matches_reference[D6]",
    ),
    Mutant(
        "dihedral_reflects_after_rotating",
        "dihedral_group",
        "return torch.stack((cos * px - sin * py, sin * px + cos * py), dim=-1)",
        "return torch.stack((cos * x[..., 0] - sin * x[..., 1], (sin * x[..., 0] + "
        "cos * x[..., 1]) * (1 - 2 * g[..., 1])), dim=-1)",
        "test_groups::test_action_and_matrix_match_reference[D4]",
    ),
    Mutant(
        "regular_representation_without_inverse",
        "group_base",
        "g_inv = self.inverse(g)[..., None, None, :]  # [*S, 1, 1, D]",
        "g_inv = g[..., None, None, :]",
        "test_representations::test_regular_representation_rot90_exact[9x9]",
    ),
    Mutant(
        "rotation_matrix_transposed",
        "cyclic_group",
        "rows = (torch.stack((cos, -sin), dim=-1), torch.stack((sin, cos), dim=-1))",
        "rows = (torch.stack((cos, sin), dim=-1), torch.stack((-sin, cos), dim=-1))",
        "test_representations::test_matrix_representation_is_homomorphism[C4]",
    ),
    Mutant(
        "homogeneous_matrix_translation_in_bottom_row",
        "roto_translation",
        "top = torch.cat((rotation, g[..., :2, None]), dim=-1)  # [..., 2, 3]",
        "top = torch.cat((rotation, torch.zeros_like(g[..., :2, None])), dim=-1)",
        "test_representations::test_matrix_representation_is_homomorphism[R2xC4]",
    ),
    Mutant(
        "cyclic_elements_start_at_one",
        "cyclic_group",
        "k = torch.arange(self.order, dtype=dtype or torch.get_default_dtype(),",
        "k = 1 + torch.arange(self.order, dtype=dtype or torch.get_default_dtype(),",
        "test_groups::test_identity_and_elements_exist",
    ),
    Mutant(
        "python_loop_over_elements",
        "roto_translation",
        "return g[..., :2] + self.rotations.left_action_on_R2(g[..., 2:], x)",
        LOOP,
        "test_performance::test_action_speed",
    ),
]
