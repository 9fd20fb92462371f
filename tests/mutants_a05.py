"""Plausible student bugs in assignment 5, and the hidden test that must
catch each (a case id of autograder/hidden/05_equivariant_gnn)."""

from __future__ import annotations

from mutants_a01 import Mutant

LAYER = "egnn_layer"
MODEL = "egnn_model"
STEER = "steerable_layer"
STEER_AGREE = "test_steerable::test_scalar_vector_layer_matches_reference"
E3_PLAIN = "test_equivariance::test_layer_e3_equivariant[plain]"
AGREE_PLAIN = "test_layers::test_layer_matches_reference[plain]"

UPDATE = "x_new = x + scatter_mean(diff * self.coord_mlp(m), i, n)  # [N, 3]"
SPARSE_BODY = """n = h.shape[0]
        j, i = edge_index  # source, target
        diff = x[i] - x[j]  # [E, 3]"""
DENSE_BODY = """n = h.shape[0]
        j, i = edge_index  # source, target
        adj = torch.zeros(n, n, 1, dtype=h.dtype, device=h.device)
        adj[i, j] = 1.0
        a = torch.zeros(n, n, self.edge_dim, dtype=h.dtype, device=h.device)
        if self.edge_dim:
            a[i, j] = edge_attr
        diff = x[:, None, :] - x[None, :, :]  # [N, N, 3]
        dist2 = (diff * diff).sum(-1, keepdim=True)  # [N, N, 1]
        parts = [h[:, None].expand(n, n, -1), h[None].expand(n, n, -1), dist2, a]
        m = self.edge_mlp(torch.cat(parts, dim=-1)) * adj  # [N, N, hidden]
        if self.attention:
            m = m * torch.sigmoid(self.att_mlp(m))
        if self.normalize:
            diff = diff / (dist2.sqrt() + self.norm_constant)
        degree = adj.sum(1).clamp(min=1)  # [N, 1]
        x_new = x + (diff * self.coord_mlp(m) * adj).sum(1) / degree
        if self.velocity:
            x_new = x_new + self.vel_mlp(h) * v
        h_new = self.node_mlp(torch.cat([h, m.sum(1)], dim=-1))
        if self.residual:
            h_new = h + h_new
        return h_new, x_new
        diff = x[i] - x[j]  # [E, 3]"""

MUTANTS = [
    Mutant(
        "absolute_positions_in_update",
        LAYER,
        UPDATE,
        "x_new = x + scatter_mean(x[i] * self.coord_mlp(m), i, n)",
        E3_PLAIN,
    ),
    Mutant(
        "update_not_added_to_x",
        LAYER,
        UPDATE,
        "x_new = scatter_mean(diff * self.coord_mlp(m), i, n)",
        E3_PLAIN,
    ),
    Mutant(
        "difference_not_squared",
        LAYER,
        "dist2 = (diff * diff).sum(-1, keepdim=True)  # [E, 1]",
        "dist2 = diff.sum(-1, keepdim=True)  # [E, 1]",
        E3_PLAIN,
    ),
    Mutant(
        "distance_instead_of_squared",
        LAYER,
        "dist2 = (diff * diff).sum(-1, keepdim=True)  # [E, 1]",
        "dist2 = (diff * diff).sum(-1, keepdim=True).sqrt()  # [E, 1]",
        AGREE_PLAIN,
    ),
    Mutant(
        "direction_leaked_into_messages",
        LAYER,
        "parts = [h[i], h[j], dist2]",
        "parts = [h[i], h[j], dist2 + diff[:, :1]]",
        E3_PLAIN,
    ),
    Mutant(
        "sum_instead_of_mean_for_coordinates",
        LAYER,
        UPDATE,
        "x_new = x + scatter_sum(diff * self.coord_mlp(m), i, n)",
        AGREE_PLAIN,
    ),
    Mutant(
        "mean_instead_of_sum_for_messages",
        LAYER,
        "m_i = scatter_sum(m, i, n)  # [N, hidden]",
        "m_i = scatter_mean(m, i, n)  # [N, hidden]",
        AGREE_PLAIN,
    ),
    Mutant(
        "source_and_target_swapped",
        LAYER,
        "j, i = edge_index  # source, target",
        "i, j = edge_index  # source, target",
        AGREE_PLAIN,
    ),
    Mutant(
        "missing_residual",
        LAYER,
        "            h_new = h + h_new",
        "            h_new = h_new",
        AGREE_PLAIN,
    ),
    Mutant(
        "attention_without_sigmoid",
        LAYER,
        "m = m * torch.sigmoid(self.att_mlp(m))",
        "m = m * self.att_mlp(m)",
        "test_layers::test_layer_matches_reference[attention]",
    ),
    Mutant(
        "normalised_by_squared_distance",
        LAYER,
        "diff = diff / (dist2.sqrt() + self.norm_constant)",
        "diff = diff / (dist2 + self.norm_constant)",
        "test_layers::test_layer_matches_reference[normalize]",
    ),
    Mutant(
        "velocity_term_uses_positions",
        LAYER,
        "x_new = x_new + self.vel_mlp(h) * v",
        "x_new = x_new + self.vel_mlp(h) * x",
        "test_equivariance::test_layer_e3_equivariant[velocity]",
    ),
    Mutant(
        "positions_not_passed_between_layers",
        MODEL,
        "h, x = layer(h, x, edge_index, edge_attr, v)",
        "h, _ = layer(h, x, edge_index, edge_attr, v)",
        "test_layers::test_model_matches_reference[plain]",
    ),
    Mutant(
        "readout_skipped",
        MODEL,
        "return self.readout(h), x",
        "return h[:, : self.readout.out_features], x",
        "test_layers::test_model_matches_reference[plain]",
    ),
    Mutant(
        "dense_n_by_n_layer",
        LAYER,
        SPARSE_BODY,
        DENSE_BODY,
        "test_performance::test_layer_speed",
    ),
    Mutant(
        "spherical_harmonics_of_unnormalised_vector",
        STEER,
        "u = d / r.clamp_min(1e-12)  # [E, 3]",
        "u = d  # [E, 3]",
        STEER_AGREE,
    ),
    Mutant(
        "absolute_position_as_edge_direction",
        STEER,
        "d = x[i] - x[j]  # [E, 3]",
        "d = x[j]  # [E, 3]",
        "test_steerable::test_scalar_vector_layer_e3[rotations]",
    ),
    Mutant(
        "cross_product_path_into_vectors",
        STEER,
        "vector = vector + w[:, 3, :, None] * V_j",
        "vector = vector + w[:, 3, :, None] * torch.linalg.cross("
        "V_j, u[:, None, :].expand_as(V_j))",
        "test_steerable::test_scalar_vector_layer_e3[reflections]",
    ),
    Mutant(
        "direction_leaked_into_scalars",
        STEER,
        "scalar = w[:, 0] * s_j + w[:, 1] * (V_j * u[:, None, :]).sum(-1)  # [E, C]",
        "scalar = w[:, 0] * s_j + w[:, 1] * (V_j * u[:, None, :]).sum(-1) + u[:, :1]",
        "test_steerable::test_scalar_vector_layer_e3[rotations]",
    ),
    Mutant(
        "vector_gate_missing",
        STEER,
        "return s + F.silu(t), V + torch.sigmoid(g)[..., None] * mixed",
        "return s + F.silu(t), V + mixed",
        STEER_AGREE,
    ),
]
