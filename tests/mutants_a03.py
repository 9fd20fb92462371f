"""Plausible student bugs in assignment 3, and the hidden test that must
catch each (a case id of autograder/hidden/03_steerable_basis)."""

from __future__ import annotations

from mutants_a01 import Mutant

KERNEL = """basis = self.basis.to(self.weight.dtype)  # [P, D_out, D_in, k, k]
        kernel = self.weight @ basis.flatten(1)  # [D_out · D_in · k · k]
        return kernel.view(basis.shape[1:])  # [D_out, D_in, k, k]"""
KERNEL_LOOP = """basis = self.basis.to(self.weight.dtype)  # [P, D_out, D_in, k, k]
        kernel = torch.zeros_like(basis[0])
        for p in range(basis.shape[0]):  # one basis element at a time
            kernel = kernel + self.weight[p] * basis[p]
        return kernel"""
FORWARD = "return F.conv2d(x, self.kernel(), padding=self.kernel_size // 2)"
FORWARD_PER_FIELD = """kernel = self.kernel()
        outs = [
            F.conv2d(x, kernel[o : o + 1], padding=self.kernel_size // 2)
            for o in range(kernel.shape[0])
        ]
        return torch.cat(outs, dim=1)"""
DIFFERENCE = "families = [(frequencies(n - m), (eye, J))]"
FIELD_LOOPS = """    for i, field_out in enumerate(type_out):
        for j, field_in in enumerate(type_in):
            block = field_basis(field_in, field_out, k, group_order)"""
FIELD_LOOPS_SWAPPED = """    for j, field_in in enumerate(type_in):
        for i, field_out in enumerate(type_out):
            block = field_basis(field_in, field_out, k, group_order)"""

MUTANTS = [
    Mutant(
        "frequency_difference_sign_flipped",
        "harmonic_basis",
        DIFFERENCE,
        "families = [(frequencies(m - n), (eye, J))]",
        "test_basis::test_constraint_at_random_angles[SO2]",
    ),
    Mutant(
        "sum_frequencies_missing",
        "harmonic_basis",
        "families.append((frequencies(n + m), (M, J @ M)))",
        "pass  # the difference frequencies are all there is",
        "test_basis::test_basis_sizes_so2[k5]",
    ),
    Mutant(
        "sum_family_without_reflection",
        "harmonic_basis",
        "families.append((frequencies(n + m), (M, J @ M)))",
        "families.append((frequencies(n + m), (eye, J)))",
        "test_basis::test_constraint_at_random_angles[SO2]",
    ),
    Mutant(
        "aliasing_ignored",
        "harmonic_basis",
        "return [a for a in range(-L, L + 1) if (a - target) % group_order == 0]",
        "return [target] if abs(target) <= L else []",
        "test_basis::test_basis_sizes_cyclic[C3-k5]",
    ),
    Mutant(
        "no_masking_at_the_origin",
        "pair_basis",
        "angular = torch.where(at_origin, average, angular)",
        "angular = angular  # φ = atan2(0, 0) = 0 is as good as any",
        "test_basis::test_sampled_basis_rot90_exact[SO2-irreps]",
    ),
    Mutant(
        "band_limit_ignored",
        "pair_basis",
        "for radius, sigma, top in ring_parameters(kernel_size):",
        "for radius, sigma, _ in ring_parameters(kernel_size):\n        top = 2",
        "test_basis::test_basis_sizes_so2[k5]",
    ),
    Mutant(
        "gaussian_without_the_two",
        "pair_basis",
        "profile = torch.exp(-((r - radius) ** 2) / (2 * sigma**2))  # [...]",
        "profile = torch.exp(-((r - radius) ** 2) / sigma**2)",
        "test_basis::test_pair_basis_matches_reference[SO2]",
    ),
    Mutant(
        "angle_from_the_y_axis",
        "pair_basis",
        "phi = torch.atan2(points[..., 1], points[..., 0])  # [...]",
        "phi = torch.atan2(points[..., 0], points[..., 1])",
        "test_basis::test_constraint_at_random_angles[SO2]",
    ),
    Mutant(
        "transposed_irrep",
        "irrep",
        "top = torch.stack((cos, -sin), dim=-1)  # [..., 2]\n"
        "    bottom = torch.stack((sin, cos), dim=-1)  # [..., 2]",
        "top = torch.stack((cos, sin), dim=-1)  # [..., 2]\n"
        "    bottom = torch.stack((-sin, cos), dim=-1)  # [..., 2]",
        "test_irreps::test_irreps_match_reference[SO2]",
    ),
    Mutant(
        "sign_irrep_as_trivial",
        "irrep",
        "return torch.cos(k * theta)[..., None, None]  # [..., 1, 1]",
        "return torch.ones_like(theta)[..., None, None]",
        "test_irreps::test_irreps_match_reference[C8]",
    ),
    Mutant(
        "unnormalised_fourier_transform",
        "fourier_transform",
        "rows.append(torch.cos(k * theta) / math.sqrt(n))",
        "rows.append(torch.cos(k * theta))",
        "test_irreps::test_fourier_plancherel[C4]",
    ),
    Mutant(
        "fourier_sine_before_cosine",
        "fourier_transform",
        "rows.append(torch.cos(k * theta) * math.sqrt(2 / n))\n"
        "            rows.append(torch.sin(k * theta) * math.sqrt(2 / n))",
        "rows.append(torch.sin(k * theta) * math.sqrt(2 / n))\n"
        "            rows.append(torch.cos(k * theta) * math.sqrt(2 / n))",
        "test_irreps::test_fourier_block_diagonalises_regular[C8]",
    ),
    Mutant(
        "inverse_without_transpose",
        "inverse_fourier_transform",
        "return f_hat @ matrix  # [..., N]: f = Fᵀ f_hat",
        "return f_hat @ matrix.T",
        "test_irreps::test_fourier_round_trip[C5]",
    ),
    Mutant(
        "regular_fields_without_change_of_basis",
        "steerable_basis",
        "return inverse_fourier_transform(eye, group_order).T  # Q = Fᵀ",
        "return eye",
        "test_basis::test_sampled_basis_rot90_exact[C4-regular]",
    ),
    Mutant(
        "change_of_basis_transposed",
        "steerable_basis",
        "return inverse_fourier_transform(eye, group_order).T  # Q = Fᵀ",
        "return inverse_fourier_transform(eye, group_order)",
        "test_basis::test_sampled_basis_rot90_exact[C8-regular]",
    ),
    Mutant(
        "blocks_input_field_major",
        "steerable_basis",
        FIELD_LOOPS,
        FIELD_LOOPS_SWAPPED,
        "test_layer::test_layer_matches_reference[C8-mixed]",
    ),
    Mutant(
        "kernel_loops_over_basis_elements",
        "steerable_convolution",
        KERNEL,
        KERNEL_LOOP,
        "test_performance::test_expansion_does_not_loop_over_the_basis",
    ),
    Mutant(
        "one_convolution_per_output_channel",
        "steerable_convolution",
        FORWARD,
        FORWARD_PER_FIELD,
        "test_performance::test_one_convolution_per_forward",
    ),
    Mutant(
        "no_padding",
        "steerable_convolution",
        FORWARD,
        "return F.conv2d(x, self.kernel())",
        "test_layer::test_layer_matches_reference[SO2-irreps]",
    ),
]
