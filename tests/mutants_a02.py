"""Plausible student bugs in assignment 2, and the hidden test that must
catch each (a case id of autograder/hidden/02_lifting_conv)."""

from __future__ import annotations

from mutants_a01 import Mutant

ELEMENTS = "g = group.elements(dtype=weight.dtype, device=weight.device)  # [G, D]"
LIFT_CALL = """out = F.conv2d(
            x, kernels.reshape(c_out * g, c_in, k, k), bias, padding=self.padding
        )  # [B, C_out * G, H', W']
        return out.unflatten(1, (c_out, g))  # [B, C_out, G, H', W']"""
LIFT_LOOP = """outs = [
            F.conv2d(x, kernels[:, i], self.bias, padding=self.padding)
            for i in range(g)
        ]
        return torch.stack(outs, dim=2)  # [B, C_out, G, H', W']"""
GROUP_CALL = """out = F.conv2d(
            x.flatten(1, 2),  # [B, C_in * G, H, W]
            kernels.reshape(c_out * g, c_in * g, k, k),
            bias,
            padding=self.padding,
        )  # [B, C_out * G, H', W']
        return out.unflatten(1, (c_out, g))  # [B, C_out, G, H', W']"""
GROUP_LOOP = """outs = [
            F.conv2d(
                x.flatten(1, 2),
                kernels[:, i].reshape(c_out, c_in * g, k, k),
                self.bias,
                padding=self.padding,
            )
            for i in range(g)
        ]
        return torch.stack(outs, dim=2)  # [B, C_out, G, H', W']"""

MUTANTS = [
    Mutant(
        "rotation_direction_reversed",
        "lift_kernels",
        ELEMENTS,
        "g = group.inverse(group.elements(dtype=weight.dtype, device=weight.device))",
        "test_layers::test_lifting_matches_reference[C4-k3]",
    ),
    Mutant(
        "group_axis_not_rolled",
        "transform_group_kernels",
        "permuted = weight[:, :, perm]  # [C_out, C_in, G, G, k, k]: w[o, c, g⁻¹h]",
        "permuted = weight[:, :, None].expand(-1, -1, perm.shape[0], -1, -1, -1)",
        "test_equivariance::test_group_conv_rot90_exact[C4-k3-13x17]",
    ),
    Mutant(
        "group_axis_by_g_not_g_inverse",
        "group_kernel_permutation",
        "table = group.product(g_inv[:, None, :], elements[None, :, :])",
        "table = group.product(elements[:, None, :], elements[None, :, :])",
        "test_equivariance::test_group_conv_rot90_exact[C4-k3-13x17]",
    ),
    Mutant(
        "permutation_transposed",
        "group_kernel_permutation",
        "return distance.argmin(dim=-1)  # [G, G]",
        "return distance.argmin(dim=-1).T",
        "test_layers::test_group_conv_matches_reference[C4-k3]",
    ),
    Mutant(
        "group_kernels_not_rotated_in_space",
        "transform_group_kernels",
        "moved = group.left_regular_representation(g[:, None, None, :], permuted)",
        "moved = permuted",
        "test_equivariance::test_group_conv_rot90_exact[C4-k4-12x12]",
    ),
    Mutant(
        "height_and_width_swapped",
        "lifting_convolution",
        "x, kernels.reshape(c_out * g, c_in, k, k), bias, padding=self.padding",
        "x, kernels.reshape(c_out * g, c_in, k, k).transpose(-1, -2), bias, "
        "padding=self.padding",
        "test_layers::test_lifting_matches_reference[C4-k3]",
    ),
    Mutant(
        "asymmetric_same_padding",
        "lifting_convolution",
        "x, kernels.reshape(c_out * g, c_in, k, k), bias, padding=self.padding",
        "x, kernels.reshape(c_out * g, c_in, k, k), bias, padding='same'",
        "test_equivariance::test_lifting_rot90_exact[C4-k4-21x25]",
    ),
    Mutant(
        "bias_repeated_in_the_wrong_order",
        "lifting_convolution",
        "bias = None if self.bias is None else self.bias.repeat_interleave(g)",
        "bias = None if self.bias is None else self.bias.repeat(g)",
        "test_layers::test_lifting_matches_reference[C4-k3]",
    ),
    Mutant(
        "group_axis_flattened_before_channels",
        "group_convolution",
        "x.flatten(1, 2),  # [B, C_in * G, H, W]",
        "x.transpose(1, 2).flatten(1, 2),",
        "test_layers::test_group_conv_matches_reference[C4-k3]",
    ),
    Mutant(
        "mean_pooling_sums",
        "group_pooling",
        "return x.mean(dim=2)  # [B, C, H, W]",
        "return x.sum(dim=2)",
        "test_layers::test_group_pooling[mean]",
    ),
    Mutant(
        "pooling_over_channels",
        "group_pooling",
        "return x.amax(dim=2)  # [B, C, H, W]",
        "return x.amax(dim=1)",
        "test_layers::test_group_pooling[max]",
    ),
    Mutant(
        "lifting_one_conv_per_element",
        "lifting_convolution",
        LIFT_CALL,
        LIFT_LOOP,
        "test_performance::test_one_convolution_per_forward[lifting]",
    ),
    Mutant(
        "group_conv_one_conv_per_element",
        "group_convolution",
        GROUP_CALL,
        GROUP_LOOP,
        "test_performance::test_one_convolution_per_forward[group]",
    ),
    Mutant(
        "stride_two",
        "lifting_convolution",
        "x, kernels.reshape(c_out * g, c_in, k, k), bias, padding=self.padding",
        "x, kernels.reshape(c_out * g, c_in, k, k), bias, padding=self.padding, "
        "stride=2",
        "test_layers::test_output_shapes[k5-8x6]",
    ),
    Mutant(
        "group_conv_ignores_its_input",
        "group_convolution",
        "x.flatten(1, 2),  # [B, C_in * G, H, W]",
        "torch.zeros_like(x.flatten(1, 2)),",
        "test_equivariance::test_translations_exact[group]",
    ),
]
